/**
 * Property tests for every input parser (issue 7): random and mutated inputs never escape as an
 * unhandled exception, never hang, and every failure names where the input is wrong (file:line:col,
 * the flag, the column, or the key path). Run counts are printed at the end.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { parseDocuments } from '../../src/specs/parse.js';
import { convertPack } from '../../src/specs/convert.js';
import { parseResultLine, readHostResults } from '../../src/results/read.js';
import { parseConfigText } from '../../src/config/store.js';
import { parseDuration } from '../../src/duration.js';
import { canonicalTimeZone } from '../../src/results/time.js';
import { resolveResultOptions } from '../../src/results/options.js';
import { parseLabelExpr } from '../../src/labelexpr.js';
import { describeErrorBody, parseRetryAfter } from '../../src/api/errors.js';
import { main } from '../../src/cli.js';
import { testIO } from '../../src/io.js';
import { ConfigError, InputError, UsageError } from '../../src/errors.js';
import { repoRoot, scratchHome, upstreamDir } from '../helpers/cli.js';
import { badInput, mutated, randomText } from './fuzz.js';

/** A slow parse on this shared 2-core machine is seconds at worst; a hang is not. */
const SLOW_MS = 3000;
const runs: Record<string, number> = {};
let slowest = { name: '', ms: 0 };

/** Runs a property with a seed per parser (reproducible), a run count and a wall-clock budget. */
function check<T>(name: string, arb: fc.Arbitrary<T>, body: (input: T) => void, numRuns = 400): void {
  fc.assert(
    fc.property(arb, (input) => {
      runs[name] = (runs[name] ?? 0) + 1;
      const started = performance.now();
      body(input);
      const ms = performance.now() - started;
      if (ms > slowest.ms) slowest = { name, ms };
      expect(ms, `${name} took ${Math.round(ms)} ms on ${JSON.stringify(input).slice(0, 200)}`).toBeLessThan(SLOW_MS);
    }),
    { numRuns, seed: hashSeed(name), interruptAfterTimeLimit: 20_000, markInterruptAsFailure: false },
  );
}

function checkAsync<T>(name: string, arb: fc.Arbitrary<T>, body: (input: T) => Promise<void>, numRuns = 300): Promise<void> {
  return fc.assert(
    fc.asyncProperty(arb, async (input) => {
      runs[name] = (runs[name] ?? 0) + 1;
      const started = performance.now();
      await body(input);
      const ms = performance.now() - started;
      if (ms > slowest.ms) slowest = { name, ms };
      expect(ms, `${name} took ${Math.round(ms)} ms`).toBeLessThan(SLOW_MS);
    }),
    { numRuns, seed: hashSeed(name), interruptAfterTimeLimit: 20_000, markInterruptAsFailure: false },
  );
}

function hashSeed(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

afterAll(() => {
  const total = Object.values(runs).reduce((a, b) => a + b, 0);
  const per = Object.entries(runs)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  console.log(`[property tests] ${total} runs over ${Object.keys(runs).length} parsers (${per}); slowest single input ${Math.round(slowest.ms)} ms (${slowest.name})`);
});

const read = (p: string) => readFileSync(p, 'utf8');
const specSeeds = readdirSync(path.join(repoRoot, 'packs/data-leak'))
  .filter((f) => f.endsWith('.yml'))
  .map((f) => read(path.join(repoRoot, 'packs/data-leak', f)));
const packSeeds = [
  ...readdirSync(path.join(upstreamDir, 'osquery-packs')).map((f) => read(path.join(upstreamDir, 'osquery-packs', f))),
  ...readdirSync(path.join(upstreamDir, 'osquery/config-edge-cases'))
    .filter((f) => f.endsWith('.conf'))
    .map((f) => read(path.join(upstreamDir, 'osquery/config-edge-cases', f))),
];
const ndjsonSeeds = ['file_events.ndjson', 'users.ndjson'].map((f) => read(path.join(repoRoot, 'test/fixtures/results', f)));
const configSeeds = [
  'current-context: prod\ncontexts:\n  prod:\n    address: https://fleet.example.com:8080\n    email: admin@example.com\n    token: abc.def.ghi\n    tls-skip-verify: false\n    rootca: /etc/ssl/ca.pem\n    url-prefix: /fleet\n  default:\n    address: http://127.0.0.1:8412\n    dialect: kolide\n    server-version: 3.2.0\n',
  '# fleetctl writes this shape too\ncontexts:\n  default:\n    address: https://localhost:8080\n    email: a@b.c\n    token: t\n    tls-skip-verify: true\n',
];

/** "file:LINE:COL" with LINE within the text (or one past it) and COL ≥ 1. */
function expectPosition(text: string, line: number, col: number): void {
  expect(line).toBeGreaterThanOrEqual(1);
  expect(col).toBeGreaterThanOrEqual(1);
  expect(line).toBeLessThanOrEqual(text.split('\n').length + 1);
}

describe('spec YAML (parseDocuments)', () => {
  it('every diagnostic names the file, a line inside it and a column', () =>
    check('spec-yaml', badInput(specSeeds, 400), (text) => {
      const r = parseDocuments(text, 'in.yml');
      for (const d of r.diagnostics) {
        expect(d.source).toBe('in.yml');
        expectPosition(text, d.line, d.col);
        expect(d.message).not.toBe('');
      }
      // What it could not make sense of is reported, never silently dropped.
      if (r.docs.length === 0 && text.trim() !== '' && !/^(\s|#.*|---|\.\.\.)*$/.test(text.replace(/\uFEFF/g, ''))) {
        expect(r.diagnostics.length, text.slice(0, 200)).toBeGreaterThan(0);
      }
    }, 600));
});

describe('osquery packs (convertPack)', () => {
  it('converts or fails with positioned errors and no output', () =>
    check('osquery-pack', badInput(packSeeds, 400), (text) => {
      const r = convertPack(text, 'p', 'p.conf');
      for (const d of [...r.errors, ...r.warnings]) {
        expect(d.source).toBe('p.conf');
        expectPosition(text, d.line, d.col);
      }
      if (r.errors.length > 0) expect(r.docs).toBe('');
      else expect(parseDocuments(r.docs, 'converted').diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    }, 500));
});

describe('NDJSON results (parseResultLine, readHostResults)', () => {
  it('one line: a HostResult or an Error saying what is wrong', () =>
    check('ndjson-line', badInput(ndjsonSeeds.flatMap((s) => s.split('\n')), 300), (line) => {
      try {
        const r = parseResultLine(line);
        expect(typeof r.host).toBe('string');
        for (const row of r.rows) for (const v of Object.values(row)) expect(typeof v).toBe('string');
      } catch (err) {
        expect(err).toBeInstanceOf(Error);
        expect((err as Error).message).toMatch(/^(not JSON|not a JSON object|no "host" string|"rows" is not a list|row \d+ is not an object|"error" is not a string)/);
      }
    }, 600));

  it('a stream loses no line: good lines are yielded, bad ones reported with their number', () =>
    checkAsync('ndjson-stream', fc.tuple(badInput(ndjsonSeeds, 600), fc.integer({ min: 1, max: 64 })), async ([text, chunk]) => {
      const bad: number[] = [];
      const got: string[] = [];
      // Arbitrary chunking: lines and UTF-8 sequences split anywhere.
      const bytes = Buffer.from(text, 'utf8');
      const chunks: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += chunk) chunks.push(bytes.subarray(i, i + chunk));
      for await (const r of readHostResults(Readable.from(chunks), { source: 'in.ndjson', onBadLine: (b) => bad.push(b.line) })) got.push(r.host);
      const decoded = bytes.toString('utf8').replace(/^\uFEFF/, '');
      const nonEmpty = decoded.split('\n').filter((l) => l.replace(/\r$/, '').trim() !== '').length;
      expect(got.length + bad.length).toBe(nonEmpty);
      for (const n of bad) expect(n).toBeGreaterThanOrEqual(1);
      // --strict stops at the first bad line and names it.
      const strict = (async () => {
        for await (const _ of readHostResults(Readable.from(chunks), { source: 'in.ndjson', strict: true })) void _;
      })();
      if (bad.length > 0) await expect(strict).rejects.toThrow(new RegExp(`^in\\.ndjson:${bad[0]}: `));
      else await strict;
    }, 300));
});

describe('the config file (parseConfigText)', () => {
  it('parses or fails with a ConfigError naming the file and where', () =>
    checkAsync('config-file', badInput(configSeeds, 300), async (text) => {
      try {
        const shape = await parseConfigText(text, '/home/u/.config/osfleet/config.yml');
        for (const c of Object.values(shape.contexts ?? {})) {
          for (const k of ['address', 'token', 'email', 'rootca', 'url-prefix'] as const) if (c[k] !== undefined) expect(typeof c[k]).toBe('string');
        }
      } catch (err) {
        expect(err, String(err)).toBeInstanceOf(ConfigError);
        expect((err as Error).message).toMatch(/^\/home\/u\/\.config\/osfleet\/config\.yml(:\d+:\d+)?: /);
        if (!/:\d+:\d+: /.test((err as Error).message)) expect((err as Error).message).toMatch(/context/);
      }
    }, 500));
});

describe("servers' error bodies (describeErrorBody, parseRetryAfter)", () => {
  const bodies = [
    JSON.stringify({ message: 'Validation Failed', errors: [{ name: 'name', reason: 'cannot be empty' }], uuid: 'u' }),
    JSON.stringify({ message: 'Unknown Error', errors: [{ name: 'base', reason: "cannot schedule unknown query 'x'" }] }),
    '<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>',
    'invalid character \'}\' looking for beginning of object key string\n',
  ];
  it('any body, any content type: one printable line of bounded length, never a throw', () =>
    check(
      'error-body',
      fc.tuple(fc.integer({ min: 400, max: 599 }), fc.constantFrom(undefined, 'application/json', 'text/html', 'text/plain; charset=utf-8', ''), badInput(bodies, 2000)),
      ([status, type, text]) => {
        const { message, reasons } = describeErrorBody(status, type, text);
        for (const m of [message, ...reasons]) {
          // eslint-disable-next-line no-control-regex
          expect(m).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
          expect(m.length).toBeLessThanOrEqual(301);
        }
        expect(message).not.toBe('');
      },
      600,
    ));

  it('Retry-After: a non-negative number of milliseconds, or undefined', () =>
    check('retry-after', fc.oneof(randomText(40), fc.nat().map(String), fc.date({ noInvalidDate: true }).map((d) => d.toUTCString())), (v) => {
      const ms = parseRetryAfter(v, Date.UTC(2026, 0, 1));
      if (ms !== undefined) {
        expect(Number.isFinite(ms)).toBe(true);
        expect(ms).toBeGreaterThanOrEqual(0);
      }
    }, 400));
});

describe('durations (parseDuration)', () => {
  it('random text: a duration in range, or a UsageError naming the flag and the text', () =>
    check('duration', fc.oneof(randomText(30), fc.stringMatching(/^[0-9.]{0,6}(ns|us|µs|ms|s|m|h|d|x)?([0-9.]{0,4}(s|m|h))?$/)), (text) => {
      try {
        const ms = parseDuration(text, '--timeout');
        expect(Number.isInteger(ms)).toBe(true);
        expect(ms).toBeGreaterThanOrEqual(0);
        expect(ms).toBeLessThanOrEqual(7 * 24 * 3600 * 1000);
      } catch (err) {
        expect(err).toBeInstanceOf(UsageError);
        expect((err as Error).message).toMatch(/^--timeout: /);
        if (text.trim() !== '') expect((err as Error).message).toContain(text.trim() === text ? text : text.trim().slice(0, 1));
      }
    }, 1000));

  it('round trip: h/m/s/ms parts add up', () =>
    check('duration-roundtrip', fc.record({ h: fc.nat(100), m: fc.nat(59), s: fc.nat(59), ms: fc.nat(999) }), ({ h, m, s, ms }) => {
      expect(parseDuration(`${h}h${m}m${s}s${ms}ms`)).toBe(((h * 60 + m) * 60 + s) * 1000 + ms);
    }, 300));
});

describe('time zones (canonicalTimeZone, --tz)', () => {
  it('never throws; an unknown zone is a UsageError naming it', () =>
    check('time-zone', fc.oneof(randomText(40), fc.constantFrom('UTC', 'Europe/Paris', 'america/los_angeles', 'Etc/GMT+5', 'EST5EDT', ':UTC')), (tz) => {
      const canonical = canonicalTimeZone(tz);
      try {
        const r = resolveResultOptions({ tz }, {}, { format: 'table' });
        expect(r.timeZone).toBe(canonical);
      } catch (err) {
        expect(canonical).toBeUndefined();
        expect(err).toBeInstanceOf(UsageError);
        expect((err as Error).message).toBe(`unknown time zone "${tz}"`);
      }
    }, 500));

  it('result flags: bad formats and time formats are named', () =>
    check('result-flags', fc.record({ format: fc.option(randomText(12), { nil: undefined }), timeFormat: fc.option(randomText(12), { nil: undefined }), output: fc.option(randomText(20), { nil: undefined }) }), (flags) => {
      try {
        resolveResultOptions(flags, { TZ: 'UTC' }, { format: 'table' });
      } catch (err) {
        expect(err).toBeInstanceOf(UsageError);
        expect((err as Error).message).toMatch(/^unknown (format|time format) "/);
      }
    }, 500));
});

describe('label expressions (parseLabelExpr)', () => {
  const seeds = ['macOS AND NOT servers', '("Mac OS X" OR "MS Windows") AND NOT "CentOS Linux"', 'All Hosts AND NOT (a OR b OR (c AND d))'];
  it('a tree, or a UsageError pointing at a column inside the expression', () =>
    check('label-expr', badInput(seeds, 200), (expr) => {
      try {
        parseLabelExpr(expr);
      } catch (err) {
        expect(err, String(err)).toBeInstanceOf(UsageError);
        const col = Number(/ at column (\d+)$/.exec((err as Error).message)?.[1]);
        expect(col).toBeGreaterThanOrEqual(1);
        expect(col).toBeLessThanOrEqual(expr.length + 1);
      }
    }, 1000));

  it('deep nesting and long chains are refused, not a stack overflow', () =>
    check('label-expr-deep', fc.record({ n: fc.integer({ min: 1, max: 60_000 }), kind: fc.constantFrom('(', 'NOT ', 'a AND ', 'a OR ', 'a ') }), ({ n, kind }) => {
      const expr = kind === '(' ? `${'('.repeat(n)}a${')'.repeat(n)}` : `${kind.repeat(n)}a`;
      try {
        parseLabelExpr(expr);
      } catch (err) {
        expect(err, String(err)).toBeInstanceOf(UsageError);
        expect((err as Error).message).toMatch(/ at column \d+$/);
      }
    }, 40));
});

describe('flags (the CLI through commander, in process)', () => {
  const scratch = scratchHome();
  afterAll(() => scratch.cleanup());
  const env = { ...scratch.env, TZ: 'UTC' };
  const runMain = async (argv: string[]) => {
    const io = testIO();
    const code = await main(argv, { io, env, signal: new AbortController().signal });
    return { code, err: io.stderrText(), out: io.stdoutText() };
  };
  // Commands that stop before any network (no address is configured): the flags are all they see.
  const base = fc.constantFrom(
    ['query', '--all', '--query', 'SELECT 1'],
    ['export', '/nonexistent.ndjson'],
    ['lint', '/nonexistent.yml'],
    ['convert', '-f', '/nonexistent.conf'],
    ['config', 'get'],
    ['get', 'hosts'],
  );
  const flagName = fc.stringMatching(/^--[a-z][a-z-]{0,15}$/);

  it('an unknown flag is exit 64 naming the flag', () =>
    checkAsync('flags-unknown', fc.tuple(base, flagName), async ([argv, flag]) => {
      fc.pre(!['--help', '--version', '--debug', '--no-color', '--context', '--config'].includes(flag));
      const r = await runMain([...argv, `${flag}-zz`]);
      expect(r.code, r.err).toBe(64);
      expect(r.err).toContain(`unknown option '${flag}-zz'`);
    }, 150));

  it('random values for choice and duration flags: exit 64 naming the flag, or a later, clear failure', () =>
    checkAsync(
      'flags-values',
      fc.tuple(fc.constantFrom('--format', '--time-format', '--timeout', '--tz', '--transport', '--label-expr'), randomText(20)),
      async ([flag, value]) => {
        fc.pre(!value.startsWith('-'));
        const r = await runMain(['query', '--all', '--query', 'SELECT 1', flag, value]);
        expect([0, 1, 64]).toContain(r.code);
        expect(r.err).not.toMatch(/unexpected failure|at .*\.ts:\d+/);
        if (r.code === 64) expect(r.err).toMatch(new RegExp(`${flag}|unknown (time zone|format|time format)|argument '`));
        // Valid values get past the flags to the missing address.
        if (r.code === 1) expect(r.err).toContain('no server address');
      },
      300,
    ));
});

describe('seeds are valid (so mutations start from real inputs)', () => {
  it('spec, pack, ndjson and config seeds parse cleanly', async () => {
    for (const s of specSeeds) expect(parseDocuments(s, 's').diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    for (const s of packSeeds) expect(convertPack(s, 'p').errors).toEqual([]);
    for (const s of ndjsonSeeds) for (const l of s.split('\n').filter((x) => x.startsWith('{'))) expect(() => parseResultLine(l)).not.toThrow();
    for (const s of configSeeds) await expect(parseConfigText(s, 'c')).resolves.toBeDefined();
    expect(mutated(['abc'])).toBeDefined();
    void InputError;
  });
});
