// Browser tests of issue 9's dashboard and chart, in Debian's headless Chromium.
//
// Starts its own ghit (binary from argv) on a free port with a temporary database and
// drives Chromium with playwright-core. What is checked: the lookup, by keyboard, with
// and without JavaScript; the top lists; the badge builder's Markdown, HTML and <picture>
// output for several parameter sets, each URL fetched back and giving the very badge the
// preview shows; that no request leaves the server and no cookie is set; that the page
// reads at 320 px without sideways scrolling; axe-core finding no serious or critical
// violation, light and dark; the chart drawn at the size its SVG declares. A repo imported
// with counts past 2^53 (what a JavaScript number holds exactly) shows them digit for digit,
// and a label with parentheses, brackets and a backslash still makes Markdown that parses.
// Ends with "browser (dashboard): N passed, N failed".
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { assert, get, launchOptions, runner, startGhit } from './lib.mjs';

const require = createRequire(import.meta.url);
const axePath = require.resolve('axe-core/axe.min.js');
const ghitBin = process.argv[2];
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const { test, fail, end, summary } = runner();

// Waits until the server has written every hit to the store (its /metrics say so): the
// top lists rank what is stored. Asking /api/v1/top here would fill ghit's 30 s cache.
async function waitFlushed(base) {
  for (let i = 0; i < 200; i++) {
    const m = (await get(`${base}/metrics`)).body;
    if (/^ghit_pending_hits 0$/m.test(m) && /^ghit_flush_hits_total [1-9]/m.test(m)) return;
    await new Promise((res) => { setTimeout(res, 50); });
  }
  throw new Error('the hits were never written');
}

// A new page that records every request it makes.
async function recordingPage(context) {
  const page = await context.newPage();
  page.requested = [];
  page.on('request', (r) => page.requested.push(r.url()));
  return page;
}

function assertAllLocal(page, base) {
  const away = page.requested.filter((u) => !u.startsWith(`${base}/`));
  assert(away.length === 0, `requests left the server: ${away.join(', ')}`);
}

// axe-core's serious and critical violations on the page, as text.
async function axeViolations(page) {
  await page.addScriptTag({ path: axePath });
  const results = await page.evaluate(() => window.axe.run(document));
  return results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join('; ')}`);
}

const dir = mkdtempSync(join(tmpdir(), 'ghit-dashboard-'));
let ghit;
let browser;
// Counts past 2^53, imported before the start: a total of 2^63-1, 2^53+1 hits today and
// 2^62 yesterday (UTC), whose sum over 7 days a double would round to ...129,000.
const DAY_MS = 86400000;
const utcDay = (ms) => new Date(ms).toISOString().slice(0, 10);
const HUGE = {
  repo: 'dash/huge', total: '9,223,372,036,854,775,807', today: '9,007,199,254,740,993',
  week: '4,620,693,217,682,128,897',
};
try {
  execFileSync(ghitBin, ['import', '--db', join(dir, 'ghit.db')], {
    input: `{"repo":"${HUGE.repo}","total":9223372036854775807,"days":{`
      + `"${utcDay(Date.now() - DAY_MS)}":4611686018427387904,"${utcDay(Date.now())}":9007199254740993}}\n`,
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  ghit = await startGhit(ghitBin, dir);
  const { base } = ghit;
  for (const [repo, n] of [['dash/alpha', 5], ['dash/beta', 3], ['dash/gamma', 1]]) {
    for (let i = 0; i < n; i++) await get(`${base}/badge.svg?repo=${repo}`);
  }
  await waitFlushed(base);
  browser = await chromium.launch(launchOptions(chromiumPath));
  const context = await browser.newContext();

  await test('the top lists show the repos by hits, today and over 7 days', async () => {
    const page = await recordingPage(context);
    await page.goto(`${base}/`);
    for (const id of ['top-today', 'top-week']) {
      await page.waitForSelector(`#${id} li a`);
      const items = await page.$$eval(`#${id} li`, (lis) => lis.map((li) => li.textContent));
      const huge = `${HUGE.repo} ${id === 'top-today' ? HUGE.today : HUGE.week}`;
      assert(JSON.stringify(items) === JSON.stringify([huge, 'dash/alpha 5', 'dash/beta 3', 'dash/gamma 1']),
        `${id}: ${items}`);
    }
    assertAllLocal(page, base);
    await page.close();
  });

  await test('a top list answered 503 (another list being read) is asked again', async () => {
    const page = await recordingPage(context);
    let calls = 0;
    await page.route('**/api/v1/top?limit=10', (route) => {
      calls += 1;
      if (calls > 1) return route.continue();
      return route.fulfill({ status: 503, contentType: 'application/json',
        body: '{"error":"another top list is being read; try again in a second"}\n' });
    });
    await page.goto(`${base}/`);
    // The page comes with the lists drawn; the script then asks again, and is refused once.
    for (let i = 0; i < 50 && calls < 2; i++) await page.waitForTimeout(100);
    assert(calls === 2, `asked ${calls} times in 5 s`);
    await page.waitForFunction(() => {
      const list = document.querySelector('#top-today');
      const a = list.querySelector('li a');
      return a && a.textContent === 'dash/huge' && !list.textContent.includes('try again');
    }, null, { timeout: 10000 });
    await page.close();
  });

  await test('a lookup by keyboard shows total, today, first seen, the chart and JSON links',
    async () => {
      const page = await recordingPage(context);
      await page.goto(`${base}/`);
      await page.focus('#lookup-repo');
      await page.keyboard.type('Dash/Alpha');
      await page.keyboard.press('Enter');
      await page.waitForSelector('#lookup-result:not([hidden])');
      const text = async (id) => (await page.textContent(`#${id}`)).trim();
      assert(await text('result-name') === 'dash/alpha', await text('result-name'));
      assert(await text('result-total') === '5' && await text('result-today') === '5',
        `${await text('result-total')} / ${await text('result-today')}`);
      assert(/^\d{4}-\d\d-\d\d$/.test(await text('result-first')), await text('result-first'));
      await page.waitForFunction(() => document.getElementById('result-chart').complete
        && document.getElementById('result-chart').naturalWidth > 0);
      const days = await page.getAttribute('#result-days', 'href');
      assert(days === '/api/v1/repos/dash/alpha/days', days);
      const j = JSON.parse((await get(`${base}${days}`)).body);
      assert(j.days.length === 30 && j.days[29].hits === 5, JSON.stringify(j).slice(0, 200));
      assert(new URL(page.url()).search === '?repo=dash/alpha', page.url());
      // Past 2^53, every digit.
      await page.fill('#lookup-repo', HUGE.repo);
      await page.keyboard.press('Enter');
      await page.waitForFunction((t) => document.getElementById('result-total').textContent === t,
        HUGE.total, { timeout: 5000 });
      assert(await text('result-today') === HUGE.today, await text('result-today'));
      // Unknown repo: the reason, and no stale result.
      await page.fill('#lookup-repo', 'dash/nothing');
      await page.keyboard.press('Enter');
      await page.waitForSelector('#lookup-error:not([hidden])');
      assert((await text('lookup-error')).includes('unknown repo'), await text('lookup-error'));
      assert(await page.isHidden('#lookup-result'), 'the old result is still shown');
      // Not OWNER/NAME: a deeper path names another route, dot segments another
      // path; each gets the form's reason, and nothing half-filled.
      for (const bad of ['dash/alpha/days', '..', 'x/../../healthz', 'justone']) {
        await page.fill('#lookup-repo', 'dash/alpha');
        await page.keyboard.press('Enter');
        await page.waitForSelector('#lookup-result:not([hidden])');
        await page.fill('#lookup-repo', bad);
        await page.keyboard.press('Enter');
        await page.waitForSelector('#lookup-error:not([hidden])');
        assert((await text('lookup-error')).includes('OWNER/NAME'), `${bad}: ${await text('lookup-error')}`);
        assert(await page.isHidden('#lookup-result'), `${bad}: the old result is still shown`);
      }
      assertAllLocal(page, base);
      await page.close();
    });

  await test('the lookup works without JavaScript, through the plain form', async () => {
    const noJs = await browser.newContext({ javaScriptEnabled: false });
    const page = await recordingPage(noJs);
    await page.goto(`${base}/`);
    await page.fill('#lookup-repo', 'dash/beta');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    assert(new URL(page.url()).search === '?repo=dash%2Fbeta', page.url());
    assert((await page.textContent('#result-total')).trim() === '3', 'no total');
    assert(await page.isVisible('#result-chart'), 'no chart');
    // Grouped as the script groups them.
    await page.fill('#lookup-repo', HUGE.repo);
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    assert((await page.textContent('#result-total')).trim() === HUGE.total,
      await page.textContent('#result-total'));
    assertAllLocal(page, base);
    await noJs.close();
  });

  await test('builder output, pasted back into a request, gives the previewed badge', async () => {
    const page = await recordingPage(context);
    await page.goto(`${base}/`);
    const sets = [
      { repo: 'dash/alpha' },
      { repo: 'dash/beta', style: 'for-the-badge', label: 'views & "more"', color: 'orange', view: 'today-total' },
      { repo: 'dash/gamma', style: 'social', labelColor: '#123456', format: 'plain', theme: 'auto' },
      { repo: 'dash/alpha', style: 'flat-square', label: 'Zugriffe', color: 'e05d44', format: 'grouped', sep: 'dot' },
      { repo: 'dash/beta', style: 'plastic', view: 'today', format: 'short', sep: 'thin', label: 'ünïcode ✓' },
      // Markdown: an unbalanced ')' would end the URL, a '\\' or ']' the alt text.
      { repo: 'dash/gamma', label: ':) a(b \\ [x]!*~\' *e* _u_ `c` &copy; <b>' },
    ];
    for (const set of sets) {
      await page.fill('#b-repo', set.repo);
      for (const name of ['label', 'color', 'labelColor']) await page.fill(`#b-${name}`, set[name] || '');
      for (const [name, def] of [['style', 'flat'], ['view', 'total'], ['format', 'grouped'],
        ['sep', 'comma'], ['theme', 'light']]) {
        await page.selectOption(`#b-${name}`, set[name] || def);
      }
      const md = await page.inputValue('#out-md');
      const html = await page.inputValue('#out-html');
      const picture = await page.inputValue('#out-picture');
      const preview = await page.getAttribute('#b-preview', 'src');
      // CommonMark's image: alt text of escapes and other characters than brackets, then a
      // destination without spaces or parentheses (a balanced pair would do; none is simpler).
      const m = /^!\[((?:\\.|[^\\[\]])*)\]\(([^()\s]*)\)$/.exec(md);
      assert(m, `not a Markdown image: ${md}`);
      const url = m[2];
      const alt = m[1].replace(/\\(.)/g, '$1');
      // every mark escaped: none makes emphasis, code, an entity or HTML of the label
      const bare = (m[1].match(/\\.|[^\\]/g) || []).filter((t) => /^[!-/:-@[-`{-~]$/.test(t));
      assert(bare.length === 0, `unescaped ${bare.join('')} in ${m[1]}`);
      assert(alt === (set.label || 'hits'), `alt ${alt} for ${set.label}`);
      assert(url.startsWith(`${base}/badge.svg?repo=${set.repo}`), url);
      // The HTML and <picture> snippets, parsed as a browser would, name the same URL.
      const parsed = await page.evaluate(([h, p]) => {
        const doc = new DOMParser().parseFromString(`${h}${p}`, 'text/html');
        const imgs = [...doc.querySelectorAll('img')].map((i) => i.getAttribute('src'));
        const source = doc.querySelector('picture source');
        return { imgs, media: source.getAttribute('media'), dark: source.getAttribute('srcset') };
      }, [html, picture]);
      assert(parsed.imgs.length === 2 && parsed.imgs.every((s) => s === url), JSON.stringify(parsed));
      assert(parsed.media === '(prefers-color-scheme: dark)', parsed.media);
      const dark = new URL(parsed.dark);
      assert(dark.searchParams.get('labelColor') === (set.labelColor || '30363d'), parsed.dark);
      assert(!dark.searchParams.has('theme'), parsed.dark);
      // The snippet's URL counts a hit and answers a badge; the preview, asked right after
      // (it does not count), must be the very same badge: same look, same parameters.
      const counted = await get(url);
      const shown = await get(`${base}${preview}`);
      assert(counted.status === 200 && shown.status === 200, `${counted.status} ${shown.status}`);
      assert(counted.body === shown.body, `badges differ for ${JSON.stringify(set)}:\n${counted.body}\n${shown.body}`);
      for (const [k, v] of Object.entries(set)) {
        const got = new URL(url).searchParams.get(k);
        const defaults = { style: 'flat', view: 'total', format: 'grouped', sep: 'comma', theme: 'light' };
        assert(got === (v === defaults[k] ? null : v), `${k}: ${got} for ${v}`);
      }
    }
    assertAllLocal(page, base);
    await page.close();
  });

  await test('every control is reached by keyboard', async () => {
    const page = await recordingPage(context);
    await page.goto(`${base}/`);
    const seen = new Set();
    for (let i = 0; i < 60; i++) {
      await page.keyboard.press('Tab');
      seen.add(await page.evaluate(() => document.activeElement.id
        || document.activeElement.dataset.copy || document.activeElement.tagName));
    }
    for (const id of ['lookup-repo', 'b-repo', 'b-style', 'b-label', 'b-color', 'b-labelColor',
      'b-view', 'b-format', 'b-sep', 'b-theme', 'out-md', 'out-html', 'out-picture']) {
      assert(seen.has(id), `Tab never reaches #${id} (${[...seen].join(' ')})`);
    }
    await page.close();
  });

  await test('the page reads at 320 px wide without sideways scrolling', async () => {
    const narrow = await browser.newContext({ viewport: { width: 320, height: 640 } });
    const page = await recordingPage(narrow);
    await page.goto(`${base}/?repo=dash/alpha`);
    await page.waitForSelector('#top-week li a');
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert(width <= 320, `the page is ${width} px wide at 320`);
    const chart = await page.evaluate(() => document.getElementById('result-chart').getBoundingClientRect().right);
    assert(chart <= 320, `the chart ends at ${chart} px`);
    await narrow.close();
  });

  await test('no cookie, no storage, nothing from another host', async () => {
    const page = await recordingPage(context);
    await page.goto(`${base}/?repo=dash/alpha`);
    await page.waitForSelector('#top-week li a');
    assert((await context.cookies()).length === 0, 'a cookie was set');
    const stored = await page.evaluate(() => document.cookie + localStorage.length + sessionStorage.length);
    assert(stored === '00', `storage used: ${stored}`);
    const csp = (await get(`${base}/`)).headers['content-security-policy'];
    assert(/default-src 'none'/.test(csp), csp);
    assertAllLocal(page, base);
    assert(page.requested.length >= 5, `only ${page.requested.length} requests were seen`);
    await page.close();
  });

  // axe-core is injected as an inline script, which the page's policy rightly forbids:
  // these two contexts alone bypass it.
  const axeContext = await browser.newContext({ bypassCSP: true });
  for (const scheme of ['light', 'dark']) {
    await test(`axe-core finds no serious or critical violation (${scheme})`, async () => {
      const page = await recordingPage(axeContext);
      await page.emulateMedia({ colorScheme: scheme });
      await page.goto(`${base}/?repo=dash/alpha`);
      await page.waitForSelector('#top-week li a');
      await page.fill('#b-label', 'views');
      const found = await axeViolations(page);
      assert(found.length === 0, `axe: ${found.join('\n')}`);
      await page.close();
    });
  }

  await test('the chart is drawn at the size its SVG declares', async () => {
    const page = await recordingPage(context);
    await page.goto(`${base}/app.css`); // any page of the server's origin
    for (const days of [7, 30, 365]) {
      const url = `${base}/chart.svg?repo=dash/alpha&days=${days}&theme=auto`;
      const svg = (await get(url)).body;
      const w = Number(/<svg[^>]* width="(\d+)"/.exec(svg)[1]);
      const h = Number(/<svg[^>]* height="(\d+)"/.exec(svg)[1]);
      const size = await page.evaluate((src) => new Promise((resolve) => {
        const img = new Image();
        img.onload = () => resolve([img.naturalWidth, img.naturalHeight]);
        img.onerror = () => resolve([0, 0]);
        img.src = src;
      }), url);
      assert(size[0] === w && size[1] === h && w === 480, `${days} days: drawn ${size}, declared ${w}x${h}`);
    }
    await page.close();
  });
} catch (e) {
  fail(`browser (dashboard): ${e && e.stack ? e.stack : e}`);
} finally {
  await end({ browser, ghit, dir });
}
process.exit(summary('browser (dashboard)'));
