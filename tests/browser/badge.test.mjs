// Browser tests: ghit's badges in Debian's headless Chromium, as a viewer sees them.
//
// Starts its own ghit (GHIT binary from argv) on a free port with a temporary database,
// and a small page server, then drives Chromium with playwright-core. What is checked:
// that every view of a page fetches and counts the badge again and shows the new count
// (the no-cache headers work in a real browser, not only on paper); that a badge is drawn
// at the size its SVG declares; that theme=auto follows the viewer's light or dark
// preference; that an error badge is drawn like any badge. Ends with
// "browser: N passed, N failed".
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { assert, get, launchOptions, runner, startGhit } from './lib.mjs';

const ghitBin = process.argv[2];
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const { test, fail, end, summary } = runner();


async function apiTotal(base, repo) {
  const r = await get(`${base}/api/v1/repos/${repo}`);
  return r.status === 200 ? JSON.parse(r.body).total : 0;
}

// A page server on a free port: /p?img=URL&img=URL answers a page showing those images.
function startPages() {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const imgs = url.searchParams.getAll('img')
      .map((src, i) => `<img id="i${i}" src="${src.replace(/"/g, '&quot;')}"><br>`).join('');
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(`<!doctype html><html><body style="margin:8px;background:#fff">${imgs}</body></html>`);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// Waits until every image of the page has loaded (or failed), then returns their sizes.
async function imageSizes(page) {
  await page.waitForFunction(() => [...document.images].every((i) => i.complete), null,
    { timeout: 10000 });
  return page.$$eval('img', (imgs) => imgs.map((i) => [i.naturalWidth, i.naturalHeight]));
}

async function shot(page, id) {
  return (await page.$(`#${id}`)).screenshot();
}

const dir = mkdtempSync(join(tmpdir(), 'ghit-browser-'));
let ghit;
let pages;
let browser;
try {
  ghit = await startGhit(ghitBin, dir);
  pages = await startPages();
  const pageBase = `http://127.0.0.1:${pages.address().port}`;
  const pageFor = (...imgs) => `${pageBase}/p?${imgs.map((s) => `img=${encodeURIComponent(s)}`).join('&')}`;
  browser = await chromium.launch(launchOptions(chromiumPath));

  await test('every view of a page fetches, counts and shows the badge anew', async () => {
    const page = await browser.newPage();
    const url = pageFor(`${ghit.base}/badge.svg?repo=browser/views`);
    const seen = [];
    for (let view = 1; view <= 3; view++) {
      if (view === 1) await page.goto(url);
      else await page.reload();
      const [[w, h]] = await imageSizes(page);
      assert(w > 0 && h === 20, `view ${view}: the badge is not drawn (${w}x${h})`);
      // The hit is counted before the reply; the API shows it at once.
      const total = await apiTotal(ghit.base, 'browser/views');
      assert(total === view, `after ${view} views the total is ${total}`);
      seen.push(await shot(page, 'i0'));
    }
    assert(!seen[0].equals(seen[1]) && !seen[1].equals(seen[2]),
      'the badge looked the same after a new view: the browser showed a cached copy');
    await page.close();
  });

  await test('a badge is drawn at the size its SVG declares, in every style', async () => {
    const page = await browser.newPage();
    const styles = ['flat', 'flat-square', 'plastic', 'for-the-badge', 'social'];
    const urls = styles.map((s) => `${ghit.base}/count.svg?repo=browser/views&style=${s}`);
    await page.goto(pageFor(...urls));
    const sizes = await imageSizes(page);
    for (let i = 0; i < styles.length; i++) {
      const svg = (await get(urls[i])).body;
      const w = Number(/<svg[^>]* width="([\d.]+)"/.exec(svg)[1]);
      const h = Number(/<svg[^>]* height="([\d.]+)"/.exec(svg)[1]);
      assert(Math.abs(sizes[i][0] - w) < 1 && sizes[i][1] === h,
        `${styles[i]}: drawn ${sizes[i]}, declared ${w}x${h}`);
    }
    await page.close();
  });

  await test('theme=auto follows the viewer\'s light or dark preference', async () => {
    const page = await browser.newPage();
    const url = pageFor(`${ghit.base}/count.svg?repo=browser/views&theme=auto`,
      `${ghit.base}/count.svg?repo=browser/views`);
    await page.emulateMedia({ colorScheme: 'light' });
    await page.goto(url);
    await imageSizes(page);
    const autoLight = await shot(page, 'i0');
    const plainLight = await shot(page, 'i1');
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.reload();
    await imageSizes(page);
    const autoDark = await shot(page, 'i0');
    const plainDark = await shot(page, 'i1');
    assert(autoLight.equals(plainLight), 'in light mode theme=auto looks unlike the default badge');
    assert(!autoDark.equals(autoLight), 'theme=auto did not change in dark mode');
    assert(plainDark.equals(plainLight), 'the default badge changed in dark mode');
    await page.close();
  });

  await test('an error badge is drawn like any badge, and counts nothing', async () => {
    const page = await browser.newPage();
    await page.goto(pageFor(`${ghit.base}/badge.svg?repo=not..valid`));
    const [[w, h]] = await imageSizes(page);
    assert(w > 100 && h === 20, `the error badge is not drawn (${w}x${h})`);
    await page.close();
  });
} catch (e) {
  fail(`browser: ${e && e.stack ? e.stack : e}`);
} finally {
  if (pages) pages.close();
  await end({ browser, ghit, dir });
}
process.exit(summary('browser'));
