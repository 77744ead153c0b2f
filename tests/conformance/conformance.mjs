// Renders every case with badge-maker and with `ghit badge --batch`, compares
// the SVGs byte for byte, prints each mismatch with where it starts, and ends
// with "conformance: N passed, N failed". Usage: node conformance.mjs GHIT_BIN
//
// What ghit does on purpose otherwise (src/badge.c) is reflected here, not
// tested around: ghit's default colour is #4c1, so a case without a valid
// colour expects badge-maker with color '#4c1'; ghit drops control characters,
// so no case holds one (the fuzz target checks what ghit makes of them).
import { spawnSync } from 'node:child_process'
import { makeBadge } from 'badge-maker'
import { normalizeColor } from './node_modules/badge-maker/lib/color.js'

const ghit = process.argv[2]
const STYLES = ['flat', 'flat-square', 'plastic', 'for-the-badge', 'social']
const GHIT_DEFAULT_COLOR = '#4c1'
const LABEL_MAX = 128 // BADGE_LABEL_MAX
const MESSAGE_MAX = 256 // BADGE_MESSAGE_MAX

// --- the expected side ------------------------------------------------------

// shields.io's metric() (services/text-formatters.js), with B for billions as ghit.
function metric(n) {
  const prefix = ['k', 'M', 'B', 'T', 'P', 'E']
  for (let i = prefix.length - 1; i >= 0; i--) {
    const limit = Math.pow(1000, i + 1)
    if (n >= limit) {
      const scaled = n / limit
      if (scaled < 10) {
        const one = scaled.toFixed(1)
        if (one.charAt(one.length - 1) !== '0') return `${one}${prefix[i]}`
      }
      const rounded = Math.round(scaled)
      if (rounded < 1000) return `${rounded}${prefix[i]}`
      return `1${prefix[i + 1]}`
    }
  }
  return `${n}`
}

const SEPS = { comma: ',', dot: '.', space: ' ', thin: '\u2009', apostrophe: "'", underscore: '_', none: '' }

function formatCount(n, format = 'grouped', sep = 'comma') {
  if (format === 'short') return metric(Number(BigInt(n)))
  const plain = BigInt(n).toString()
  if (format === 'plain') return plain
  return BigInt(n).toLocaleString('en-US').replaceAll(',', SEPS[sep])
}

// ghit's byte budget: leading JS white space skipped, then whole code points
// while the UTF-8 fits, then trimmed (src/badge_text.c).
function cut(s, max) {
  let out = '', bytes = 0
  for (const ch of s.replace(/^\s+/, '')) {
    const n = Buffer.byteLength(ch)
    if (bytes + n > max) break
    out += ch
    bytes += n
  }
  return out
}

function expected(c) {
  let message = c.message
  if (message === undefined) {
    const fmt = v => formatCount(v, c.format, c.sep)
    message = c.view === 'today' ? fmt(c.today ?? 0)
      : c.view === 'today-total' ? `${fmt(c.today ?? 0)} / ${fmt(c.total ?? 0)}`
      : fmt(c.total ?? 0)
  }
  let color = c.error ? 'red' : c.color
  if (color === undefined || normalizeColor(color) === undefined) color = GHIT_DEFAULT_COLOR
  return makeBadge({
    label: cut(c.label ?? 'hits', LABEL_MAX),
    message: cut(message, MESSAGE_MAX),
    color,
    ...(c.labelColor !== undefined ? { labelColor: c.labelColor } : {}),
    style: c.style ?? 'flat',
  })
}

// --- the cases ------------------------------------------------------------------

const narrow = ['iiii', 'l1|.', 'fj!', 'ill.', "t'i"]
const wide = ['WWWMM', 'mmm@@%', 'MW%W', '\u2014\u2014']
const digits = ['0', '7', '0123456789', '1,234', '12 / 3,456', '99999999']
const punct = ['!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~', '<b>&amp;</b>', 'a&b', '"quoted"', "it's", '>_<', 'x > y < z']
const spaces = ['a b', 'a  b   c', ' lead', 'trail ', '  both  ', ' ', '\u00a0nbsp\u00a0', 'em\u2003space', 'in\u2009thin']
const nonAscii = ['café', 'naïve', 'ß', 'Straße', 'ﬁne', 'ŉ', 'ǆ', 'ΐ', '日本語', '한국어', 'Ελληνικά',
  'русский', 'עברית', 'العربية', 'emoji 🎉👍', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '🎉', 'ﬀ ligature', 'İstanbul', 'ÿ',
  'µ', '\u0301combining', 'e\u0301', '\ufffd', '\u200bzero', '中文 mixed 123']
const empty = ['']
const long = ['a'.repeat(LABEL_MAX), 'W'.repeat(60), 'label with many words in it to make it long',
  'é'.repeat(64), '日'.repeat(42) + 'ab', 'x'.repeat(200), 'ü'.repeat(100)]
const texts = [...narrow, ...wide, ...digits, ...punct, ...spaces, ...nonAscii, ...empty, ...long]

const messages = ['1,234', '0', '12 / 3,456', '1.2k', 'passing', '']

const colors = ['brightgreen', 'green', 'yellow', 'yellowgreen', 'orange', 'red', 'blue', 'grey',
  'lightgrey', 'gray', 'lightgray', 'critical', 'important', 'success', 'informational', 'inactive',
  '4c1', 'abc', 'ABC', 'ff69b4', 'FF69B4', '#4c1', '#ABC', '#ff69b4', '#ff69b480', '#fff8', '#fff',
  '#000', '000', 'eee', '#dfb317',
  'rgb(1,2,3)', 'rgb(255, 255, 255)', 'rgba(0,0,0,0.5)', 'rgba(200, 200, 200, .5)', 'rgb(10% 20% 30%)',
  'rgb(100%,100%,100%)', 'rgb(50%, 50%, 50%, 50%)', 'rgb(1 2 3 / 0.5)', 'rgb(300,300,300)',
  'rgb(99999999999999999999999,0,0)', 'rgb(255 255 255 / 1)',
  'hsl(120,100%,50%)', 'hsl(0, 0%, 100%)', 'hsla(240, 100%, 50%, 0.5)', 'hsl(90deg, 50%, 50%)',
  'hsl(1rad, 60%, 70%)', 'hsl(100grad, 40%, 80%)', 'hsl(1turn, 100%, 90%)', 'hsl(400, 100%, 75%)',
  'hsl(59, 100%, 80%)', 'hsl(180, 30%, 85%)',
  'aliceblue', 'white', 'black', 'yellow', 'rebeccapurple', 'lightgoldenrodyellow', 'navy', 'gold',
  'pink', 'silver', 'transparent',
  // invalid: ghit falls back to its default colour, as badge-maker does to its own
  'notacolor', 'Red', 'RED', '#12', '12', 'abcd', '#abcde', 'rgb(1,2)', 'rgb(1,2,3,4)', 'rgb(1%,2,3)',
  'hsl(1.5,2%,3%)', 'url(#x)', '"><script>', 'rgb(1,2,3);fill:red', '#ggg', 'hsl(10,20,30)']

const cases = []
for (const style of STYLES) {
  texts.forEach((t, i) => {
    cases.push({ style, label: t, message: messages[i % messages.length] })
    cases.push({ style, message: t })
  })
  for (const color of colors) cases.push({ style, label: 'build', message: 'passing', color })
  for (const labelColor of ['#eee', 'red', 'white', 'rgb(250,250,250)', 'navy', 'nope', '#abc'])
    for (const label of ['', 'ci'])
      cases.push({ style, label, message: '42', color: 'blue', labelColor })
  for (const message of ['', 'x'])
    cases.push({ style, label: '', message })
  cases.push({ style, label: '', message: '', labelColor: '#333' })
  cases.push({ style, error: true, message: 'repo must be OWNER/NAME' })
  cases.push({ style, error: true, label: 'views', color: 'blue', message: 'unknown repo' })
}
const counts = [0, 1, 9, 10, 999, 1000, 1049, 1050, 1149, 1150, 1250, 1949, 1950, 9949, 9950, 9999,
  10000, 12345, 99499, 99500, 999499, 999500, 999999, 1000000, 1234567, 3400000000, 999950000000,
  2n ** 53n + 1n, 10n ** 18n, 18446744073709551615n]
for (const format of ['grouped', 'plain', 'short'])
  for (const total of counts)
    cases.push({ format, total, style: STYLES[cases.length % STYLES.length] })
for (const sep of Object.keys(SEPS))
  for (const total of [999, 1234, 1234567, 18446744073709551615n])
    cases.push({ format: 'grouped', sep, total })
for (const view of ['total', 'today', 'today-total'])
  for (const format of ['grouped', 'short'])
    cases.push({ view, format, total: 3456789, today: 1234, style: 'for-the-badge' })

// Random strings from a fixed seed: every table range, astral and unmapped code points.
let seed = 12345
const rand = n => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n)
const ranges = [[0x20, 0x7e], [0xa0, 0x2ff], [0x370, 0x52f], [0x590, 0x6ff], [0x1e00, 0x1fff],
  [0x2000, 0x2bff], [0x3000, 0x9fff], [0xac00, 0xd7a3], [0xe000, 0xe0ff], [0xf900, 0xfffd],
  [0x10000, 0x1f9ff], [0x20000, 0x2fa1f], [0xe0000, 0xe01ef]]
const skip = c => c < 0x20 || (c >= 0x7f && c <= 0x9f) || (c >= 0xd800 && c <= 0xdfff) || c === 0xfffe || c === 0xffff
for (let i = 0; i < 150; i++) {
  const mk = () => {
    let s = ''
    const len = 1 + rand(14)
    for (let j = 0; j < len; j++) {
      const [lo, hi] = ranges[rand(ranges.length)]
      const c = lo + rand(hi - lo + 1)
      if (!skip(c)) s += String.fromCodePoint(c)
    }
    return s
  }
  cases.push({ style: STYLES[i % STYLES.length], label: mk(), message: mk() })
}

// --- run ghit -------------------------------------------------------------------

const esc = v => String(v).replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r')
const FIELDS = ['style', 'label', 'message', 'color', 'labelColor', 'format', 'sep', 'view', 'total', 'today']
const tsv = cases.map(c => {
  const f = FIELDS.filter(k => c[k] !== undefined).map(k => `${k}=${esc(c[k])}`)
  if (c.error) f.push('error=1')
  return f.join('\t')
}).join('\n') + '\n'
const run = spawnSync(ghit, ['badge', '--batch'], { input: tsv, maxBuffer: 1 << 28 })
if (run.status !== 0) {
  console.error(`conformance: ${ghit} badge --batch exited ${run.status}: ${run.stderr}`)
  process.exit(1)
}
const got = run.stdout.toString('utf8').split('\n')

let passed = 0, failed = 0
cases.forEach((c, i) => {
  const want = expected(c)
  if (got[i] === want) {
    passed++
    return
  }
  failed++
  if (failed > 20) return
  const a = got[i] ?? '', b = want
  let at = 0
  while (at < a.length && a[at] === b[at]) at++
  console.log(`MISMATCH case ${i}: ${JSON.stringify(c, (k, v) => typeof v === 'bigint' ? `${v}` : v)}`)
  console.log(`  at byte ${at}:`)
  console.log(`  - badge-maker: ...${b.slice(Math.max(0, at - 60), at + 100)}`)
  console.log(`  + ghit:        ...${a.slice(Math.max(0, at - 60), at + 100)}`)
})
if (failed > 20) console.log(`(${failed - 20} more mismatches not shown)`)
console.log(`conformance: ${passed} passed, ${failed} failed`)
process.exit(failed ? 1 : 0)
