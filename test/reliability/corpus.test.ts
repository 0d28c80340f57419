/**
 * The bad-input corpus (issue 7): for every input parser, inputs people and broken tools really
 * produce, each with the error it must end in and where that error must point. File-shaped inputs
 * live in test/fixtures/corpus/<parser>/ with their expectations in expected.json; short ones
 * (durations, zones, label expressions, flags) are tables here. The spec-file corpus of
 * test/fixtures/bad-specs (exact diagnostics) is run by test/specs.test.ts and not repeated.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { parseDocuments } from '../../src/specs/parse.js';
import { convertPack } from '../../src/specs/convert.js';
import { readHostResults } from '../../src/results/read.js';
import { parseConfigText } from '../../src/config/store.js';
import { parseDuration } from '../../src/duration.js';
import { resolveResultOptions } from '../../src/results/options.js';
import { parseLabelExpr } from '../../src/labelexpr.js';
import { main } from '../../src/cli.js';
import { testIO } from '../../src/io.js';
import { ConfigError, InputError, UsageError } from '../../src/errors.js';
import { collect, repoRoot, runCli, scratchHome, startCli } from '../helpers/cli.js';

const corpusDir = path.join(repoRoot, 'test/fixtures/corpus');
const expected = JSON.parse(readFileSync(path.join(corpusDir, 'expected.json'), 'utf8')) as Record<string, Record<string, string>>;
const tried: Record<string, number> = {};
const tally = (parser: string) => (tried[parser] = (tried[parser] ?? 0) + 1);

afterAll(() => {
  const total = Object.values(tried).reduce((a, b) => a + b, 0);
  console.log(`[bad-input corpus] ${total} bad inputs tried (${Object.entries(tried).map(([k, v]) => `${k} ${v}`).join(', ')}), plus the ${readdirSync(path.join(repoRoot, 'test/fixtures/bad-specs')).length} of test/fixtures/bad-specs in specs.test.ts`);
});

/** A test name that stays readable for a 100,000-character input. */
const short = (s: string) => JSON.stringify(s.length > 60 ? `${s.slice(0, 30)}…(${s.length} chars)` : s);

const files = (dir: string) => {
  const names = readdirSync(path.join(corpusDir, dir)).sort();
  // Every file has an expectation and every expectation a file: the corpus cannot rot silently.
  expect(names).toEqual(Object.keys(expected[dir] ?? {}).sort());
  return names.map((name) => ({ name, text: readFileSync(path.join(corpusDir, dir, name), 'utf8'), want: new RegExp(expected[dir]![name]!) }));
};

describe('config files', () => {
  it.each(readdirSync(path.join(corpusDir, 'config')).sort())('%s → a ConfigError naming the file and where', async (name) => {
    tally('config');
    const { text, want } = files('config').find((f) => f.name === name)!;
    const file = '/home/u/.config/osfleet/config.yml';
    const err = await parseConfigText(text, file).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (want.test('')) {
      // Allowed to parse (e.g. a NUL inside a quoted value is just a character); must not crash.
      if (err !== undefined) expect(err).toBeInstanceOf(ConfigError);
      return;
    }
    expect(err, 'should fail').toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    expect(message.startsWith(file)).toBe(true);
    expect(message.slice(file.length)).toMatch(want);
  });
});

describe('osquery packs', () => {
  it.each(readdirSync(path.join(corpusDir, 'packs')).sort())('%s → positioned errors and no output', (name) => {
    tally('packs');
    const { text, want } = files('packs').find((f) => f.name === name)!;
    const r = convertPack(text, 'p', 'p.conf');
    expect(r.docs).toBe('');
    expect(r.errors.length).toBeGreaterThan(0);
    const e = r.errors[0]!;
    expect(`${e.source}:${e.line}:${e.col}: ${e.message}`).toMatch(want);
  });
});

describe('NDJSON results (export input)', () => {
  it.each(readdirSync(path.join(corpusDir, 'ndjson')).sort())('%s → strict: an InputError naming the line; lenient: no line lost', async (name) => {
    tally('ndjson');
    const { want } = files('ndjson').find((f) => f.name === name)!;
    const bytes = readFileSync(path.join(corpusDir, 'ndjson', name));
    const strict = (async () => {
      for await (const _ of readHostResults(Readable.from([bytes]), { source: 'in.ndjson', strict: true })) void _;
    })();
    const err = await strict.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(want);
    // Without --strict, every non-empty line is either yielded or reported.
    const bad: number[] = [];
    let good = 0;
    for await (const _ of readHostResults(Readable.from([bytes]), { source: 'in.ndjson', onBadLine: (b) => bad.push(b.line) })) good++;
    const nonEmpty = bytes.toString('utf8').split('\n').filter((l) => l.trim() !== '').length;
    expect(good + bad.length).toBe(nonEmpty);
  });
});

describe('spec YAML beyond test/fixtures/bad-specs (resource limits, odd encodings)', () => {
  it.each(readdirSync(path.join(corpusDir, 'specs')).sort())('%s → an error diagnostic with a position, quickly', (name) => {
    tally('specs');
    const { text, want } = files('specs').find((f) => f.name === name)!;
    const started = performance.now();
    const r = parseDocuments(text, 'in.yml');
    // Generous: the alias bomb takes seconds here (reported to the specs owner), a hang would not end.
    expect(performance.now() - started).toBeLessThan(20_000);
    const errors = r.diagnostics.filter((d) => d.severity === 'error');
    // An empty expectation: the input may be accepted (it is odd, not wrong); it must not crash.
    if (want.source === '(?:)') return;
    expect(errors.length, JSON.stringify(r.diagnostics)).toBeGreaterThan(0);
    expect(errors.some((d) => want.test(d.code) || want.test(d.message))).toBe(true);
    for (const d of errors) {
      expect(d.line).toBeGreaterThanOrEqual(1);
      expect(d.line).toBeLessThanOrEqual(text.split('\n').length + 1);
      expect(d.col).toBeGreaterThanOrEqual(1);
    }
  });
});

describe('durations', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /^--timeout: empty duration$/],
    ['   ', /^--timeout: empty duration$/],
    ['90', /^--timeout: "90" has no unit$/],
    ['1.5', /^--timeout: "1.5" has no unit$/],
    ['5 m', /^--timeout: cannot read "5 m" at "5 m"$/],
    ['5M', /^--timeout: cannot read "5M" at "5M"$/],
    ['1d', /^--timeout: cannot read "1d" at "1d"$/],
    ['-5s', /^--timeout: cannot read "-5s" at "-5s"$/],
    ['+5s', /^--timeout: cannot read "\+5s" at "\+5s"$/],
    ['1e3s', /^--timeout: cannot read "1e3s" at "1e3s"$/],
    ['5s5', /^--timeout: cannot read "5s5" at "5"$/],
    ['1h30', /^--timeout: cannot read "1h30" at "30"$/],
    ['s', /^--timeout: cannot read "s" at "s"$/],
    ['1.s', /^--timeout: cannot read "1.s" at "1.s"$/],
    ['..5s', /^--timeout: cannot read "..5s" at "..5s"$/],
    ['5m\u0000', /^--timeout: cannot read "5m\u0000" at "\u0000"$/],
    ['Infinityh', /^--timeout: cannot read "Infinityh" at "Infinityh"$/],
    ['NaNs', /^--timeout: cannot read "NaNs" at "NaNs"$/],
    ['169h', /^--timeout: "169h" is too long \(at most a week\)$/],
    ['9'.repeat(400) + 's', /^--timeout: "9+s" is too long/],
    ['٥s', /^--timeout: cannot read "٥s" at "٥s"$/],
    ['５s', /^--timeout: cannot read "５s" at "５s"$/],
  ];
  it.each(cases.map(([t, w]) => [short(t), t, w] as const))('%s', (_label, text, want) => {
    tally('durations');
    expect(() => parseDuration(text, '--timeout')).toThrow(UsageError);
    expect(() => parseDuration(text, '--timeout')).toThrow(want);
  });
});

describe('time zones and result flags', () => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ tz: 'Mars/Olympus' }, /^unknown time zone "Mars\/Olympus"$/],
    [{ tz: '' }, /^unknown time zone ""$/],
    [{ tz: ' ' }, /^unknown time zone " "$/],
    [{ tz: 'Europe/Paris\u0000' }, /^unknown time zone "Europe\/Paris\u0000"$/],
    [{ tz: '../../etc/passwd' }, /^unknown time zone "..\/..\/etc\/passwd"$/],
    [{ tz: 'UTC+25' }, /^unknown time zone "UTC\+25"$/],
    [{ tz: 'x'.repeat(10_000) }, /^unknown time zone "x+"$/],
    [{ format: 'xml' }, /^unknown format "xml"$/],
    [{ format: 'CSV' }, /^unknown format "CSV"$/],
    [{ timeFormat: 'rfc2822' }, /^unknown time format "rfc2822"$/],
    [{ raw: 'x', enrich: 'x' }, /^--raw and --enrich cannot be used together$/],
  ];
  it.each(cases.map(([f, w]) => [short(JSON.stringify(f)), f, w] as const))('%s', (_label, flags, want) => {
    tally('result flags');
    expect(() => resolveResultOptions(flags as never, { TZ: 'UTC' }, { format: 'table' })).toThrow(UsageError);
    expect(() => resolveResultOptions(flags as never, { TZ: 'UTC' }, { format: 'table' })).toThrow(want);
  });
});

describe('label expressions', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /empty expression at column 1$/],
    ['   ', /empty expression at column 1$/],
    ['macOS AND', /expected a label name at column 10$/],
    ['AND macOS', /unexpected "AND" at column 1$/],
    ['macOS OR OR servers', /unexpected "OR" at column 10$/],
    ['(macOS', /expected "\)" at column 7$/],
    ['macOS)', /unexpected "\)" at column 6$/],
    ['()', /unexpected "\)" at column 2$/],
    ['"macOS', /unclosed quote at column 1$/],
    ['"  " OR macOS', /empty label name at column 1$/],
    ['"a" "b"', /unexpected "b" at column 5$/],
    ['NOT', /expected a label name at column 4$/],
    [`${'('.repeat(65)}a${')'.repeat(65)}`, /nested more than 64 levels deep at column 65$/],
    [`${'NOT '.repeat(100)}a`, /nested more than 64 levels deep at column 257$/],
    [`${'NOT '.repeat(100_000)}a`, /too long \(more than 1000 names and operators\) at column 4001$/],
    [`${'('.repeat(100_000)}a`, /too long \(more than 1000 names and operators\) at column 1001$/],
    [Array.from({ length: 600 }, (_, i) => `l${i}`).join(' OR '), /too long \(more than 1000 names and operators\) at column \d+$/],
  ];
  it.each(cases.map(([e, w]) => [short(e), e, w] as const))('%s', (_label, expr, want) => {
    tally('label expressions');
    expect(() => parseLabelExpr(expr)).toThrow(UsageError);
    expect(() => parseLabelExpr(expr)).toThrow(want);
  });
  it('a long run of bare words is one name, read in linear time', () => {
    const started = performance.now();
    const e = parseLabelExpr(`${'word '.repeat(100_000)}end`);
    expect(e).toEqual({ op: 'label', name: `${'word '.repeat(100_000)}end` });
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('flags (through commander)', () => {
  const scratch = scratchHome();
  afterAll(() => scratch.cleanup());
  const cases: Array<[string[], number, RegExp]> = [
    [['query', '--bogus'], 64, /unknown option '--bogus'/],
    [['query', '--all', '--query', 'SELECT 1', '--format', 'xml'], 64, /argument 'xml' is invalid.*Allowed choices are table, ndjson, json, yaml, csv/],
    [['query', '--all', '--query', 'SELECT 1', '--time-format', 'rfc'], 64, /argument 'rfc' is invalid/],
    [['query', '--all', '--query', 'SELECT 1', '--transport', 'carrier-pigeon'], 64, /argument 'carrier-pigeon' is invalid/],
    [['query', '--all', '--query', 'SELECT 1', '--timeout', '5'], 64, /--timeout: "5" has no unit/],
    [['query', '--all', '--query', 'SELECT 1', '--timeout'], 64, /option '--timeout <duration>' argument missing/],
    [['query', '--all', '--query', 'SELECT 1', '--tz', 'Mars/Base'], 64, /unknown time zone "Mars\/Base"/],
    [['query', '--all', '--query', 'SELECT 1', '--label-expr', 'a AND'], 64, /--label-expr: expected a label name at column 6/],
    [['query', '--all'], 64, /no query/],
    [['query', '--query', 'SELECT 1'], 64, /no hosts or labels targeted/],
    [['query', '--all', '--query', '  '], 64, /--query is empty/],
    [['query', '--all', '--query', 'a', '--query-name', 'b'], 64, /must not be given together/],
    [['query', '--all', '--query', 'SELECT 1', '--raw', '--enrich'], 64, /--raw and --enrich/],
    [['get'], 64, /missing required argument 'kind'/],
    [['apply', '--format', 'yaml'], 64, /argument 'yaml' is invalid/],
    [['nosuchcommand'], 64, /unknown command 'nosuchcommand'/],
    [['login', '--password', 'x', '--password-stdin'], 64, /must not be given together/],
    [['preview', '--dialect', 'osquery'], 64, /argument 'osquery' is invalid/],
    [['export', '--tz', 'Nowhere', '/nonexistent'], 64, /unknown time zone "Nowhere"/],
    [['config', 'set', '--address'], 64, /option '--address <url>' argument missing/],
    [['--context'], 64, /option '--context <name>' argument missing/],
  ];
  it.each(cases)('%j → %i', async (argv, code, want) => {
    tally('flags');
    const io = testIO();
    const got = await main(argv, { io, env: { ...scratch.env, TZ: 'UTC' }, signal: new AbortController().signal });
    expect(io.stderrText()).toMatch(want);
    expect(got).toBe(code);
    expect(io.stderrText()).not.toMatch(/unexpected failure|\n\s+at /);
  });
});

describe('inputs that never end', () => {
  // An explicit -f path used to be read whole whatever it was: a FIFO blocked forever and
  // `apply -f /dev/zero` grew to 24 GB. Only regular files (and - for stdin) are read now.
  it('lint -f FIFO ends at once with an error naming the path', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'osfleet-fifo-'));
    try {
      const fifo = path.join(dir, 'specs.yml');
      execFileSync('mkfifo', [fifo]);
      tally('never-ending inputs');
      const r = await runCli(['lint', '-f', fifo], { timeoutMs: 3000 });
      expect(r.code).toBe(1);
      // lint's diagnostics are its output (stdout), compiler-style.
      expect(r.stdout).toContain(`${fifo}:1:1: error: not a regular file`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // Was a bug (src/results/read.ts): `lines()` kept an unterminated line in memory without bound,
  // so a stream without newlines (`export /dev/zero`, a binary file) grew until the process died.
  // A line that does not start like a JSON object now keeps only its first bytes, and any line
  // stops at 256 MiB (tested with a small limit in results-format.test.ts).
  it('export /dev/zero (no newline, ever): an InputError naming the line, in bounded memory', async () => {
    tally('never-ending inputs');
    // Before the fix this read until the process died; now a junk line keeps 40 bytes and stops at the
    // line ceiling (64 MiB by default, OSFLEET_MAX_LINE_BYTES; README "Limits").
    const r = await runCli(['export', '/dev/zero', '--table', 'file'], { nodeArgs: ['--max-old-space-size=64'], env: {}, timeoutMs: 60_000 });
    expect(r.stderr).toContain('/dev/zero:1: more than 64 MiB without a newline: not query results');
    expect(r.code).toBe(1);
  });

  // Issue 21.6: an input with no line of query results at all is an error (exit 1), not a partial
  // export (it was exit 3, "skipped and named", before).
  it.each([
    ['named, exit 1: nothing in it is query results', [], 1],
    ['under --strict, the error', ['--strict'], 1],
  ])('export of 40 MB without a newline (under the 64 MiB line ceiling), under a 64 MB heap: %s, not a crash', async (_name, extra, code) => {
    tally('never-ending inputs');
    const child = startCli(['export', '--table', 'file', ...extra], { nodeArgs: ['--max-old-space-size=64'], env: {} });
    const done = collect(child, { timeoutMs: 60_000, writesStdin: true });
    const chunk = 'x'.repeat(1 << 20);
    for (let i = 0; i < 40 && child.stdin!.writable; i++) {
      if (!child.stdin!.write(chunk)) await new Promise((r) => child.stdin!.once('drain', r));
    }
    child.stdin!.end();
    const r = await done;
    expect(r.stderr).toMatch(extra.length === 0 ? /stdin:1: not query results \(not JSON/ : /stdin:1: not JSON/);
    expect(r.stderr).not.toMatch(/heap|allocation failed/i);
    expect(r.code).toBe(code);
  });
});
