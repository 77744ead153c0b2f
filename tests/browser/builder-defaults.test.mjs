// Browser test of the badge builder on a server started with badge defaults of its own
// (--style, --label, --color, --label-color, --view, --format, --sep, --theme), in
// Debian's headless Chromium.
//
// The builder once assumed ghit's built-in defaults: on such a server its form said
// flat / "hits" while the preview was the server's badge, and a flat or "hits" badge could
// not be built at all, since a value equal to the built-in default was left out of the
// URL. What is checked: the form starts from the server's defaults; the preview, the
// Markdown snippet and its alt text agree with the form (the badge fetched back is the one
// `ghit badge` renders from the form's values); choosing the built-in values names them in
// the URL, which then renders them on this server; an empty label is the server's; each
// <select> offers exactly the choices of badge.c's table, and each gives its badge.
// Ends with "browser (builder defaults): N passed, N failed".
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { assert, get, launchOptions, runner, startGhit } from './lib.mjs';

const ghitBin = process.argv[2];
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const { test, fail, end, summary } = runner();

// The server's badge defaults, each unlike the built-in one, by the builder's names.
const SERVER = {
  style: 'for-the-badge', label: 'views', color: 'orange', labelColor: '8b4513',
  view: 'today-total', format: 'plain', sep: 'dot', theme: 'auto',
};
const OPTION = {
  style: 'style', label: 'label', color: 'color', labelColor: 'label-color',
  view: 'view', format: 'format', sep: 'sep', theme: 'theme',
};
const NAMES = Object.keys(OPTION);
const REPO = 'defaults/one';
const HITS = 3;

// The SVG `ghit badge` renders for these builder values (empty: the built-in default),
// with hits (HITS unless given) in total and today; without the line end it prints after the SVG.
function expectedBadge(values, hits = HITS) {
  const args = ['badge', '--total', String(hits), '--today', String(hits)];
  for (const name of NAMES) if (values[name] !== '') args.push(`--${OPTION[name]}`, values[name]);
  return execFileSync(ghitBin, args, { encoding: 'utf8' }).replace(/\n$/, '');
}

// What the builder shows: the form's values, the Markdown's alt and URL, the preview's
// and the dark variant's URLs.
async function builder(page, base) {
  const form = {};
  for (const name of NAMES) form[name] = await page.inputValue(`#b-${name}`);
  const md = await page.inputValue('#out-md');
  const m = /^!\[([^\]]*)\]\((.*)\)$/.exec(md);
  assert(m, `not a Markdown image: ${md}`);
  const url = new URL(m[2]);
  const preview = new URL(await page.getAttribute('#b-preview', 'src'), base);
  const picture = await page.inputValue('#out-picture');
  const dark = new URL(/srcset="([^"]*)"/.exec(picture)[1].replace(/&amp;/g, '&'));
  return { form, alt: m[1], url, preview, dark };
}

const dir = mkdtempSync(join(tmpdir(), 'ghit-builder-'));
let ghit;
let browser;
try {
  const args = NAMES.flatMap((name) => [`--${OPTION[name]}`, SERVER[name]]);
  ghit = await startGhit(ghitBin, dir, args);
  const { base } = ghit;
  for (let i = 0; i < HITS; i++) await get(`${base}/badge.svg?repo=${REPO}`);
  browser = await chromium.launch(launchOptions(chromiumPath));
  const context = await browser.newContext();

  // The preview (/count.svg, which counts nothing) fetched back, after checking that it
  // asks for what the Markdown snippet's URL asks for.
  const previewed = async (b) => {
    assert(b.url.pathname === '/badge.svg' && b.preview.pathname === '/count.svg',
      `${b.url} / ${b.preview}`);
    assert(b.url.search === b.preview.search, `snippet ${b.url.search}, preview ${b.preview.search}`);
    const r = await get(b.preview.href);
    assert(r.status === 200, `${r.status} for ${b.preview}`);
    return r.body;
  };

  await test('the builder starts from the server\'s defaults; preview and snippet agree',
    async () => {
      const page = await context.newPage();
      await page.goto(`${base}/`);
      await page.fill('#b-repo', REPO);
      const b = await builder(page, base);
      assert(JSON.stringify(b.form) === JSON.stringify(SERVER),
        `the form shows ${JSON.stringify(b.form)}, the server's defaults are ${JSON.stringify(SERVER)}`);
      assert(b.alt === 'views', `alt text ${b.alt}`);
      assert([...b.url.searchParams.keys()].join() === 'repo', `${b.url}`);
      const svg = await previewed(b);
      assert(svg === expectedBadge(b.form), `the preview is not the form's badge:\n${svg}`);
      assert(/>VIEWS</.test(svg) && />3 \/ 3</.test(svg), svg);
      // The dark variant is light themed with the server's label colour kept.
      assert(b.dark.searchParams.get('theme') === 'light' && !b.dark.searchParams.has('labelColor'),
        `${b.dark}`);
      await page.close();
    });

  await test('choosing the built-in values (flat, "hits", ...) names them in the URL', async () => {
    const page = await context.newPage();
    await page.goto(`${base}/`);
    await page.fill('#b-repo', REPO);
    const builtIn = { style: 'flat', label: 'hits', view: 'total', format: 'grouped', sep: 'comma', theme: 'light' };
    for (const [name, v] of Object.entries(builtIn)) {
      if (name === 'label') await page.fill('#b-label', v);
      else await page.selectOption(`#b-${name}`, v);
    }
    const b = await builder(page, base);
    for (const [name, v] of Object.entries(builtIn)) {
      assert(b.url.searchParams.get(name) === v, `${name}: ${b.url.searchParams.get(name)} in ${b.url}`);
    }
    assert(!b.url.searchParams.has('color') && !b.url.searchParams.has('labelColor'), `${b.url}`);
    assert(b.alt === 'hits', `alt text ${b.alt}`);
    const svg = await previewed(b);
    assert(svg === expectedBadge({ ...b.form, color: SERVER.color, labelColor: SERVER.labelColor }),
      `the URL does not give the form's badge:\n${svg}`);
    assert(/>hits</.test(svg) && !/VIEWS/.test(svg) && /rx="3"/.test(svg), svg);
    // The snippet's own URL (it counts a hit) gives the same flat "hits" badge.
    const counted = await get(b.url.href);
    assert(counted.status === 200 && />hits</.test(counted.body) && /rx="3"/.test(counted.body),
      counted.body);
    await page.close();
  });

  // The page once listed the choices by hand, beside badge.c's table that the badge URLs
  // obey. The table's lists, default first, are read here from the badge route's own refusal
  // of a bad value ("theme must be light or auto"); each <select> must offer exactly them,
  // and every option must give the badge `ghit badge` renders with it.
  await test('each select offers exactly the choices the badge URLs take, each one working',
    async () => {
      const page = await context.newPage();
      await page.goto(`${base}/`);
      const repo = 'defaults/never-hit'; // its badges show 0 whatever the other tests count
      await page.fill('#b-repo', repo);
      for (const name of ['style', 'view', 'format', 'sep', 'theme']) {
        // endpoint.json: the badge's message as it is, where a for-the-badge badge's is upper case
        const r = await get(`${base}/endpoint.json?repo=${repo}&${name}=no-such-choice`);
        const m = new RegExp(`^${name} must be (.*) or ([^ ,]+)$`).exec(JSON.parse(r.body).message);
        assert(m, `${r.status} ${r.body}`);
        const table = [...m[1].split(', '), m[2]];
        const options = await page.$$eval(`#b-${name} option`,
          (os) => os.map((o) => ({ value: o.value, text: o.textContent })));
        const values = options.map((o) => o.value);
        assert(JSON.stringify(values) === JSON.stringify(table),
          `#b-${name} offers ${JSON.stringify(values)}, the badge URLs take ${JSON.stringify(table)}`);
        for (const o of options) assert(o.text.startsWith(o.value), `${o.value}: "${o.text}"`);
        for (const value of table) {
          await page.selectOption(`#b-${name}`, value);
          const b = await builder(page, base);
          assert(b.form[name] === value, `${name}: the form shows ${b.form[name]}`);
          const named = b.url.searchParams.get(name);
          assert(named === (value === SERVER[name] ? null : value), `${name}=${value}: ${b.url}`);
          const svg = await previewed(b);
          assert(svg === expectedBadge(b.form, 0),
            `${name}=${value}: the preview is not the badge of ${JSON.stringify(b.form)}:\n${svg}`);
        }
        await page.selectOption(`#b-${name}`, SERVER[name]);
      }
      await page.close();
    });

  await test('an empty label is the server\'s, and the alt text follows the label shown',
    async () => {
      const page = await context.newPage();
      await page.goto(`${base}/`);
      await page.fill('#b-repo', REPO);
      await page.fill('#b-label', '');
      let b = await builder(page, base);
      assert(!b.url.searchParams.has('label') && b.alt === 'views', `${b.alt} ${b.url}`);
      assert(/>VIEWS</.test(await previewed(b)), 'the preview lost the server\'s label');
      await page.fill('#b-label', 'Zähler');
      b = await builder(page, base);
      assert(b.url.searchParams.get('label') === 'Zähler' && b.alt === 'Zähler', `${b.alt} ${b.url}`);
      await page.close();
    });
} catch (e) {
  fail(`browser (builder defaults): ${e && e.stack ? e.stack : e}`);
} finally {
  await end({ browser, ghit, dir });
}
process.exit(summary('browser (builder defaults)'));
