// ghit's dashboard: lookup in place, top lists, badge builder (issue 9).
// Speaks only to this server (same origin), keeps nothing in cookies or storage.
'use strict';

const $ = (id) => document.getElementById(id);
const base = window.location.origin;
// Counts go up to 2^63-1, past what a JavaScript number holds exactly (2^53): they are read
// as text (readJson) and grouped as BigInts.
const fmt = (digits) => BigInt(digits).toLocaleString('en-US');

// A reply's JSON with the counts (total, today, hits) kept as strings of their digits.
async function readJson(r) {
  const text = await r.text();
  return JSON.parse(text.replace(/"(total|today|hits)":(\d+)/g, '"$1":"$2"'));
}

// A value escaped for a query string, '/' kept readable. Parentheses and the other marks
// encodeURIComponent leaves are escaped too: in Markdown an unbalanced ')' ends the URL.
const escapeQuery = (v) =>
  encodeURIComponent(v)
    .replace(/%2F/g, '/')
    .replace(/[()!'*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

// A query string from [name, value] pairs, in order.
function query(pairs) {
  return pairs.map(([k, v]) => `${k}=${escapeQuery(v)}`).join('&');
}

// --- lookup ---------------------------------------------------------------------
// OWNER/NAME, one slash: anything else would name another route of /api/v1/repos/
// (NAME/days) or, with dot segments, another path, so it is not sent.
const REPO = /^[^/\s]+\/[^/\s]+$/;

async function lookup(repo) {
  const err = $('lookup-error');
  const result = $('lookup-result');
  const fail = (message) => {
    err.textContent = message;
    err.hidden = false;
    result.hidden = true;
  };
  repo = repo.trim();
  if (!REPO.test(repo) || repo.split('/').some((part) => part === '.' || part === '..')) {
    fail('Give a repo as OWNER/NAME, for example torvalds/linux.');
    return;
  }
  let r;
  let j;
  try {
    r = await fetch(`/api/v1/repos/${escapeQuery(repo)}`);
  } catch (e) {
    fail(`The server did not answer: ${e.message}`);
    return;
  }
  try {
    j = await readJson(r);
  } catch (e) {
    fail(`error ${r.status}`);
    return;
  }
  if (!r.ok) {
    fail(j.error || `error ${r.status}`);
    return;
  }
  err.hidden = true;
  $('result-name').textContent = j.repo;
  $('result-total').textContent = fmt(j.total);
  $('result-today').textContent = fmt(j.today);
  $('result-first').textContent = j.first_seen;
  const q = query([['repo', j.repo]]);
  const chart = $('result-chart');
  chart.src = `/chart.svg?${q}&days=30&theme=auto`;
  chart.alt = `Daily hits of ${j.repo} over the last 30 days`;
  $('result-json').href = `/api/v1/repos/${j.repo}`;
  $('result-days').href = `/api/v1/repos/${j.repo}/days`;
  $('result-endpoint').href = `/endpoint.json?${q}`;
  result.hidden = false;
  history.replaceState(null, '', `/?${q}`);
  $('b-repo').value = j.repo;
  build();
}

$('lookup').addEventListener('submit', (e) => {
  e.preventDefault();
  lookup($('lookup-repo').value);
});

// --- top lists ------------------------------------------------------------------
async function showTop(id, url) {
  const list = $(id);
  try {
    // A 503 means another list is being read, or to wait a moment: asked again, a few times.
    let r;
    for (let attempt = 1; ; attempt++) {
      r = await fetch(url);
      if (r.status !== 503 || attempt === 4) break;
      await new Promise((done) => setTimeout(done, 400 * attempt));
    }
    const j = await readJson(r);
    list.replaceChildren();
    if (!r.ok || j.repos.length === 0) {
      const li = document.createElement('li');
      li.textContent = r.ok ? 'no hits yet' : j.error;
      list.append(li);
      return;
    }
    for (const row of j.repos) {
      const li = document.createElement('li');
      const a = document.createElement('a');
      a.href = `/?${query([['repo', row.repo]])}`;
      a.textContent = row.repo;
      a.addEventListener('click', (e) => {
        e.preventDefault();
        $('lookup-repo').value = row.repo;
        lookup(row.repo);
      });
      li.append(a, ` ${fmt(row.hits)}`);
      list.append(li);
    }
  } catch (e) {
    list.textContent = `cannot load: ${e.message}`;
  }
}

// --- badge builder --------------------------------------------------------------
const LOOK = ['style', 'label', 'color', 'labelColor', 'view', 'format', 'sep', 'theme'];
const DARK_LABEL = '30363d'; // GitHub's dark palette, as theme=auto uses

// A few words in brackets after some choices' names in the <select>s. Only words: the
// choices themselves are the server's (below), and one without words here shows its name.
const HINTS = {
  view: { 'today-total': '12 / 1,234' },
  format: { grouped: '1,234', plain: '1234', short: '1.2k' },
  sep: { thin: 'a narrow space' },
  theme: { auto: "follows the viewer's dark mode" },
};

// Each <select>'s options: the values a badge URL takes, which the server writes into its
// data-choices from its own table when it serves the page, so the two cannot differ.
for (const select of $('builder').querySelectorAll('select[data-choices]')) {
  const hints = HINTS[select.name] || {};
  for (const value of select.dataset.choices.split(' ').filter((v) => v !== '')) {
    select.append(new Option(hints[value] ? `${value} (${hints[value]})` : value, value));
  }
}

// The server's badge defaults (its --style, --label, ...), which the server writes into the
// form's data- attributes; '' for a colour means the style's own. A badge URL that leaves a
// parameter out gets the server's default, which need not be ghit's built-in one.
// The form starts from them; an empty text field stands for the default, as its placeholder says.
const DEFAULTS = {};
for (const name of LOOK) {
  const control = $('builder').elements[name];
  const v = $('builder').dataset[name] || '';
  DEFAULTS[name] = v;
  if (v === '') continue;
  control.value = v;
  if (control.tagName === 'INPUT') control.placeholder = v;
}

// The builder's parameters as [name, value] pairs: repo first, then what differs from the
// server's defaults (so flat on a server whose default is another style is style=flat).
function params() {
  const f = $('builder').elements;
  const pairs = [['repo', f.repo.value.trim()]];
  for (const name of LOOK) {
    const v = f[name].value.trim();
    if (v !== '' && v !== DEFAULTS[name]) pairs.push([name, v]);
  }
  return pairs;
}

// The value a badge of the builder's URL gets for name: the form's, or else the server's default.
const shown = (name) => $('builder').elements[name].value.trim() || DEFAULTS[name];

// Text escaped for Markdown: every ASCII punctuation mark (CommonMark allows it for each),
// so a bracket does not end an alt text and * _ ` & < do not make emphasis, code or HTML.
const escapeMarkdown = (s) => s.replace(/[!-/:-@[-`{-~]/g, '\\$&');

const escapeHtml = (s) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

function build() {
  const pairs = params();
  const url = `${base}/badge.svg?${query(pairs)}`;
  // The label the badge shows; a badge without one (label= on the server) still needs an alt.
  const alt = shown('label').trim() || 'hits';
  // A dark variant for GitHub's dark theme: a dark label unless one was chosen (or is the
  // server's default); no theme=auto, since GitHub's setting picks the variant.
  const dark = pairs.filter(([k]) => k !== 'theme');
  if (DEFAULTS.theme !== 'light') dark.push(['theme', 'light']);
  if (shown('labelColor') === '') dark.push(['labelColor', DARK_LABEL]);
  const darkUrl = `${base}/badge.svg?${query(dark)}`;
  $('b-preview').src = `/count.svg?${query(pairs)}`;
  $('out-md').value = `![${escapeMarkdown(alt)}](${url})`;
  $('out-html').value = `<img alt="${escapeHtml(alt)}" src="${escapeHtml(url)}">`;
  $('out-picture').value = [
    '<picture>',
    `  <source media="(prefers-color-scheme: dark)" srcset="${escapeHtml(darkUrl)}">`,
    `  <img alt="${escapeHtml(alt)}" src="${escapeHtml(url)}">`,
    '</picture>',
  ].join('\n');
}

$('builder').addEventListener('input', build);
$('builder').addEventListener('submit', (e) => e.preventDefault());

for (const button of document.querySelectorAll('[data-copy]')) {
  button.addEventListener('click', async () => {
    const area = $(button.dataset.copy);
    const status = $('copy-status');
    try {
      await navigator.clipboard.writeText(area.value);
      status.textContent = 'Copied.';
    } catch {
      // Clipboard access needs HTTPS or localhost: select the text for a manual copy.
      area.focus();
      area.select();
      status.textContent = 'Selected: press Ctrl+C (or Cmd+C) to copy.';
    }
  });
}

// A page asked for with ?repo= builds that repo's badge from the start.
if ($('lookup-repo').value) $('b-repo').value = $('lookup-repo').value;
build();
// One after the other: the server reads one top list at a time and answers a second 503.
(async () => {
  await showTop('top-today', '/api/v1/top?limit=10');
  await showTop('top-week', '/api/v1/top?days=7&limit=10');
})();
