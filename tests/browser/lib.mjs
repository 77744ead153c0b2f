// Shared by the browser tests: a tiny test runner, a ghit server on a free port, GET.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';

export function assert(cond, message) {
  if (!cond) throw new Error(message);
}

// A runner: test(name, fn) runs fn and records the outcome; summary(name) prints
// "NAME: N passed, N failed" and returns the exit status. fail(text) records a failure
// found outside a test (start-up, stop). end({ browser, ghit, dir }) closes the browser,
// stops ghit (an exit status other than 0 is a failure) and removes dir.
export function runner() {
  const r = { passed: 0, failed: 0 };
  r.test = async (name, fn) => {
    try {
      await fn();
      r.passed++;
    } catch (e) {
      r.failed++;
      console.error(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
    }
  };
  r.fail = (text) => {
    r.failed++;
    console.error(text);
  };
  r.end = async ({ browser, ghit, dir }) => {
    if (browser) await browser.close();
    if (ghit) {
      const code = await ghit.stop();
      if (code !== 0) r.fail(`FAIL ghit exited ${code} after SIGTERM:\n${ghit.stderr()}`);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  r.summary = (name) => {
    console.log(`${name}: ${r.passed} passed, ${r.failed} failed`);
    return r.failed ? 1 : 0;
  };
  return r;
}

// Starts `ghit serve` (bin) on a free port with a database in dir and the options in
// args; resolves to { proc, base, stderr(), stop() }; stop() resolves to the exit status.
export function startGhit(bin, dir, args = []) {
  const proc = spawn(bin, ['serve', '--listen', '127.0.0.1:0', '--db', join(dir, 'ghit.db'),
    '--flush-interval', '100', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const stop = () => new Promise((resolve) => {
    proc.removeAllListeners('exit');
    proc.on('exit', (c) => resolve(c));
    proc.kill('SIGTERM');
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ghit did not start: ${err}`)), 10000);
    proc.stderr.on('data', (d) => {
      err += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, base: m[1], stderr: () => err, stop });
      }
    });
    proc.on('exit', (code) => reject(new Error(`ghit exited ${code}: ${err}`)));
  });
}

// GET url; resolves to { status, body, headers }.
export function get(url) {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body, headers: res.headers }));
    }).on('error', reject);
  });
}

// The Chromium launch options both test files use.
export const launchOptions = (executablePath) => ({
  executablePath,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
