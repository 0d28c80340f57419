import Database from 'better-sqlite3';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as runConvert } from '../src/commands/convert.js';
import { createContext } from '../src/context.js';
import { testIO } from '../src/io.js';
import * as schema from '../src/schema/index.js';
import { convertPack } from '../src/specs/convert.js';
import { mapOsqueryPlatform } from '../src/specs/platforms.js';
import { findJsonError, preprocessPack } from '../src/specs/pack-json.js';
import { formatDiagnostic } from '../src/specs/diagnostics.js';
import { lintSources } from '../src/specs/lint.js';
import { parseDocuments } from '../src/specs/parse.js';
import { createSqlChecker } from '../src/specs/sql-check.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shared = path.resolve(repoRoot, 'test/fixtures/upstream');
const goldens = path.join(repoRoot, 'test/fixtures/convert');
const PACKS = ['incident-response', 'it-compliance', 'osquery-monitoring'];

let tmp: string;
beforeAll(async () => {
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'osfleet-convert-'));
});
afterAll(async () => {
  await fsp.rm(tmp, { recursive: true, force: true });
});

function ctxFor(io = testIO(), cwd = repoRoot) {
  return createContext({ io, env: {}, globals: { debug: false, color: false }, signal: new AbortController().signal, cwd });
}

describe('golden outputs of the official packs', () => {
  it.each(PACKS)('%s', async (name) => {
    const text = await fsp.readFile(path.join(shared, 'osquery-packs', `${name}.conf`), 'utf8');
    const r = convertPack(text, name, `osquery-packs/${name}.conf`);
    expect(r.errors).toEqual([]);
    expect(r.docs).toBe(await fsp.readFile(path.join(goldens, `${name}.yml`), 'utf8'));
    expect(r.warnings.map(formatDiagnostic).join('\n') + '\n').toBe(await fsp.readFile(path.join(goldens, `${name}.warnings.txt`), 'utf8'));
  });

  it.each(PACKS)('%s converts to documents that parse, validate and lint without errors', async (name) => {
    const yaml = await fsp.readFile(path.join(goldens, `${name}.yml`), 'utf8');
    const sql = createSqlChecker(Database, schema);
    try {
      const report = lintSources([{ source: `${name}.yml`, text: yaml }], { schema, sql });
      expect(report.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      const queries = report.docs.filter((d) => d.kind === 'query').map((d) => d.spec.name as string);
      const pack = report.docs.find((d) => d.kind === 'pack');
      expect(pack?.kind === 'pack' ? pack.spec.queries.map((q) => q.query) : []).toEqual(queries);
      expect([...queries].sort()).toEqual(queries);
    } finally {
      sql.close();
    }
  });

  it('counts the queries osquery.md lists, and keeps intervals, platforms and flags', async () => {
    const counts = await Promise.all(PACKS.map(async (n) => parseDocuments(await fsp.readFile(path.join(goldens, `${n}.yml`), 'utf8'), n).docs.filter((d) => d.kind === 'query').length));
    expect(counts).toEqual([35, 32, 3]);
    const mon = parseDocuments(await fsp.readFile(path.join(goldens, 'osquery-monitoring.yml'), 'utf8'), 'm').docs[0]!;
    expect(mon.spec).toMatchObject({
      name: 'osquery-monitoring',
      queries: [
        { query: 'events', interval: 86400, removed: false, denylist: false, version: '1.5.3' },
        { query: 'osquery_info', interval: 600, removed: false, denylist: false, version: '1.2.2' },
        { query: 'schedule', interval: 7200, removed: false, denylist: false, version: '2.11.0' },
      ],
    });
  });
});

describe('pre-processing (osquery.md §2.1)', () => {
  it.each([
    ['continuation', '{"q": "SELECT \\\n  1"}', '{"q": "SELECT   1"}'],
    ['continuation with CRLF', '{"q": "a\\\r\nb"}', '{"q": "ab"}'],
    ['comment lines, trimmed', '{\n  // c\n  # d\n"a": 1}', '{\n\n\n"a": 1}'],
    ['a // after JSON stays', '{"a": "http://x"} // not a comment', '{"a": "http://x"} // not a comment'],
    ['a backslash not before a newline stays', '{"a": "\\\\d"}', '{"a": "\\\\d"}'],
  ])('%s', (_name, input, want) => {
    const p = preprocessPack(input);
    expect(p.text).toBe(want);
    expect(p.origin.length).toBe(p.text.length + 1);
  });

  it('remembers where each character came from', () => {
    const input = '{\n// comment\n"a": \\\n 1}';
    const p = preprocessPack(input);
    expect(p.text).toBe('{\n\n"a":  1}');
    expect(input[p.origin[p.text.indexOf('1')]!]).toBe('1');
    expect(p.origin[p.text.indexOf('"a"')]).toBe(input.indexOf('"a"'));
  });
});

describe('JSON errors with the original position', () => {
  it.each([
    ['{"a": 1,}', 'trailing comma is not allowed in JSON', 7],
    ['{"a" 1}', "expected ':' after the key", 5],
    ['{"a": [1,\n2,,]}', 'expected a JSON value', 12],
    ['{"a": "x', 'unterminated string', 6],
    ['', 'unexpected end of input', 0],
    ['[1] x', 'unexpected text after the JSON value', 4],
    ["{'a': 1}", 'expected a double-quoted key', 1],
    ['{"a": "\\q"}', 'bad escape "\\q" in string', 7],
    ['{"a": "two\nlines"}', 'unterminated string (a string cannot span lines)', 10],
    ['{"a": [1, ]}', 'trailing comma is not allowed in JSON', 8],
    ['{"a": {"b": [true, false, null, -1.5e3, "\\u00e9"]}}', undefined, undefined],
  ])('%j', (text, message, offset) => {
    const e = findJsonError(text);
    if (message === undefined) {
      expect(e).toBeUndefined();
      expect(() => JSON.parse(text)).not.toThrow();
    } else {
      expect(e).toEqual({ message, offset });
      expect(() => JSON.parse(text)).toThrow();
    }
  });

  it('reports the line of the original file, comments and continuations included', () => {
    const text = ['{', '  // a comment', '  "queries": {', '    "a": {"query": "SELECT \\', '      1", "interval": 60,}', '  }', '}'].join('\n');
    const r = convertPack(text, 'p', 'p.conf');
    expect(r.docs).toBe('');
    expect(r.errors.map(formatDiagnostic)).toEqual(['p.conf:5:25: error: invalid JSON: trailing comma is not allowed in JSON']);
  });
});

describe('platforms', () => {
  it.each([
    ['darwin', 'darwin', [], []],
    ['posix', 'darwin,linux', [], []],
    ['windows,darwin', 'darwin,windows', [], []],
    ['any', '', [], []],
    ['all', '', [], []],
    ['ubuntu', 'linux', ['ubuntu'], []],
    ['centos,darwin', 'darwin,linux', ['centos'], []],
    ['gentoo', 'gentoo', [], ['gentoo']],
    ['windows,gentoo', 'windows', [], ['gentoo']],
  ])('%s', (raw, value, aliased, unknown) => {
    expect(mapOsqueryPlatform(raw)).toEqual({ value, aliased, unknown });
  });
});

describe('convertPack details', () => {
  const conf = (queries: Record<string, unknown>, extra: Record<string, unknown> = {}) => JSON.stringify({ ...extra, queries }, null, 2);

  it('turns string and number intervals into integers and drops what osquery would drop', () => {
    const r = convertPack(
      conf({
        b: { query: 'SELECT 2', interval: '60' },
        a: { query: 'SELECT 1', interval: 30, snapshot: 't', removed: 'false', shard: '10' },
        zero: { query: 'SELECT 3', interval: 0 },
        words: { query: 'SELECT 4', interval: 'hourly' },
        nosql: { interval: 60 },
        dflt: { query: 'SELECT 5' },
      }),
      'p',
      'p.conf',
    );
    expect(r.errors).toEqual([]);
    const docs = parseDocuments(r.docs, 'out.yml');
    expect(docs.diagnostics.map((d) => d.code)).toEqual(['no-targets']);
    expect(docs.docs[0]!.spec).toEqual({
      name: 'p',
      queries: [
        { query: 'a', name: 'a', interval: 30, snapshot: true, removed: false, shard: 10 },
        { query: 'b', name: 'b', interval: 60 },
        { query: 'dflt', name: 'dflt', interval: 3600 },
      ],
    });
    expect(docs.docs.slice(1).map((d) => (d.spec as { name: string }).name)).toEqual(['a', 'b', 'dflt']);
    expect(r.warnings.map((w) => `${w.line} ${w.code}`)).toEqual(['1 no-targets', '16 skipped-query', '20 skipped-query', '22 skipped-query', '25 default-interval']);
  });

  it('folds pack-level version and shard into queries and warns about discovery', () => {
    const r = convertPack(conf({ a: { query: 'SELECT 1', interval: 60 }, b: { query: 'SELECT 1', interval: 60, version: '5.0.0' } }, { version: '4.0.0', shard: 20, discovery: ['SELECT 1'], platform: 'posix' }), 'p');
    const pack = parseDocuments(r.docs, 'out.yml').docs[0]!;
    expect(pack.spec).toEqual({
      name: 'p',
      platform: 'darwin,linux',
      queries: [
        { query: 'a', name: 'a', interval: 60, shard: 20, version: '4.0.0' },
        { query: 'b', name: 'b', interval: 60, shard: 20, version: '5.0.0' },
      ],
    });
    expect(r.warnings.map((w) => w.code)).toEqual(['no-targets', 'dropped-key']);
  });

  it('converts the inline packs of an osquery config and skips the rest with a warning', async () => {
    const text = await fsp.readFile(path.join(shared, 'osquery/config-edge-cases/test_noninline_packs.conf'), 'utf8');
    const r = convertPack(text, 'test_noninline_packs', 'noninline.conf');
    expect(r.errors).toEqual([]);
    expect(r.warnings.map(formatDiagnostic)).toEqual([
      'noninline.conf:4:5: warning: pack "tester" refers to a resource ("lester"); convert that file on its own',
      'noninline.conf:6:5: warning: pack "foobar" has no targets: add targets.labels (for example "All Hosts") or it runs on no host',
    ]);
    expect(parseDocuments(r.docs, 'o').docs.map((d) => `${d.kind}:${(d.spec as { name: string }).name}`)).toEqual(['pack:foobar', 'query:kernel_modules']);
  });

  it('keeps unknown platforms so such queries still never run, and says so', async () => {
    const text = await fsp.readFile(path.join(shared, 'osquery/config-edge-cases/test_pack.conf'), 'utf8');
    const r = convertPack(text, 'test_pack', 'test_pack.conf');
    const pack = parseDocuments(r.docs, 'o').docs[0]!;
    expect(pack.kind === 'pack' && pack.spec.queries.map((q) => `${q.name}:${q.platform ?? '*'}:${q.interval}`)).toEqual([
      'evil_things:invalid:666',
      'launchd:whatever:414141',
      'simple:*:10',
    ]);
    expect(r.warnings.filter((w) => w.code === 'platform').map((w) => w.line)).toEqual([6, 14]);
  });

  it('refuses two packs that define one query name with different SQL', () => {
    const text = JSON.stringify({ packs: { a: { queries: { q: { query: 'SELECT 1', interval: 60 } } }, b: { queries: { q: { query: 'SELECT 2', interval: 60 } } } } });
    const r = convertPack(text, 'cfg', 'cfg.conf');
    expect(r.errors.map((e) => e.code)).toEqual(['conflicting-query']);
    expect(r.docs).toBe('');
  });

  it('is deterministic whatever the key order of the input', () => {
    const a = convertPack(conf({ x: { query: 'SELECT 1', interval: 60 }, y: { query: 'SELECT 2', interval: 60 } }), 'p');
    const b = convertPack(conf({ y: { query: 'SELECT 2', interval: 60 }, x: { query: 'SELECT 1', interval: 60 } }), 'p');
    expect(a.docs).toBe(b.docs);
  });
});

describe('convert command', () => {
  it('prints YAML on stdout and warnings on stderr', async () => {
    const io = testIO();
    const code = await runConvert({ file: 'test/fixtures/upstream/osquery-packs/osquery-monitoring.conf' }, ctxFor(io));
    expect(code).toBe(0);
    expect(io.stdoutText()).toBe(await fsp.readFile(path.join(goldens, 'osquery-monitoring.yml'), 'utf8'));
    expect(io.stderrText()).toBe(
      'test/fixtures/upstream/osquery-packs/osquery-monitoring.conf:1:1: warning: pack "osquery-monitoring" has no targets: add targets.labels (for example "All Hosts") or it runs on no host\n',
    );
  });

  it('writes -o atomically, 0644, leaving no temporary file', async () => {
    const io = testIO();
    const out = path.join(tmp, 'it-compliance.yml');
    const code = await runConvert({ file: path.join(shared, 'osquery-packs/it-compliance.conf'), output: out }, ctxFor(io));
    expect(code).toBe(0);
    expect(io.stdoutText()).toBe('');
    expect(await fsp.readFile(out, 'utf8')).toBe(await fsp.readFile(path.join(goldens, 'it-compliance.yml'), 'utf8'));
    expect((await fsp.stat(out)).mode & 0o777).toBe(0o644);
    expect((await fsp.readdir(tmp)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('exits 1 on a broken pack and leaves the output file alone', async () => {
    const bad = path.join(tmp, 'bad.conf');
    const out = path.join(tmp, 'keep.yml');
    await fsp.writeFile(bad, '{"queries": {"a": {"query": "SELECT 1",}}}\n');
    await fsp.writeFile(out, 'previous\n');
    const io = testIO();
    expect(await runConvert({ file: bad, output: out }, ctxFor(io))).toBe(1);
    expect(io.stderrText()).toBe(`${bad}:1:39: error: invalid JSON: trailing comma is not allowed in JSON\n`);
    expect(await fsp.readFile(out, 'utf8')).toBe('previous\n');
  });

  it('names binary input, a missing file and a missing -f', async () => {
    const bin = path.join(tmp, 'pack.bin');
    await fsp.writeFile(bin, Buffer.from([0x7b, 0x0a, 0xff, 0xfe]));
    const io = testIO();
    expect(await runConvert({ file: bin }, ctxFor(io))).toBe(1);
    expect(io.stderrText()).toBe(`${bin}:2:1: error: binary or non-UTF-8 input (byte 0xff): expected an osquery pack (JSON)\n`);
    await expect(runConvert({ file: path.join(tmp, 'nope.conf') }, ctxFor())).rejects.toThrow(/cannot read .*nope\.conf: no such file/);
    await expect(runConvert({}, ctxFor())).rejects.toMatchObject({ exitCode: 64 });
  });

  it('reads the pack from stdin with -f -', async () => {
    const io = testIO({ stdin: '{"queries": {"u": {"query": "SELECT * FROM users", "interval": "60"}}}' });
    expect(await runConvert({ file: '-' }, ctxFor(io))).toBe(0);
    expect(io.stdoutText()).toContain('name: stdin\n');
    expect(io.stderrText()).toBe('<stdin>:1:1: warning: pack "stdin" has no targets: add targets.labels (for example "All Hosts") or it runs on no host\n');
  });
});

describe('convert keeps everything (issues 15.5, 21.7, 22.8)', () => {
  it("keeps every pack query's value in its description and says so once", async () => {
    const text = await fsp.readFile(path.join(shared, 'osquery-packs/incident-response.conf'), 'utf8');
    const r = convertPack(text, 'incident-response');
    const raw = JSON.parse(preprocessPack(text).text) as { queries: Record<string, { value?: string }> };
    const values = Object.entries(raw.queries).filter(([, q]) => q.value);
    expect(values).toHaveLength(35);
    const docs = parseDocuments(r.docs, 'x').docs;
    for (const [name, q] of values) {
      const doc = docs.find((d) => d.kind === 'query' && d.spec.name === name)!;
      expect(doc.kind === 'query' ? doc.spec.description : '').toContain(`Value: ${q.value}`);
    }
    expect(r.warnings.filter((w) => w.code === 'value-in-description').map((w) => w.message)).toEqual([
      `osquery's "value" has no field in Fleet's query spec: the 35 value texts are kept, each at the end of its query's description, after "Value:"`,
    ]);
  });

  it('reports keys it cannot carry', () => {
    const r = convertPack('{"oncall": "ops", "queries": {"a": {"query": "SELECT 1", "interval": 60, "team_owner": "x"}}}', 'p');
    expect(r.warnings.map((w) => w.message)).toEqual([
      'pack "p" has no targets: add targets.labels (for example "All Hosts") or it runs on no host',
      'pack "p": "oncall" ("ops") has no Fleet equivalent; not carried',
      'query "a": "team_owner" ("x") has no Fleet equivalent; not carried',
    ]);
  });

  it('keeps both queries of a name given twice, renaming the second, and prints it', () => {
    const text = '{"queries": {\n  "a": {"query": "SELECT 1", "interval": 60},\n  "a": {"query": "SELECT 2", "interval": 70}\n}}\n';
    const r = convertPack(text, 'p', 'p.conf');
    expect(r.errors).toEqual([]);
    expect(r.warnings.filter((w) => w.code === 'duplicate-query').map(formatDiagnostic)).toEqual([
      'p.conf:3:3: warning: pack "p": query "a" is defined twice (at 2:3 and 3:3); both are kept, the second renamed "a_2"',
    ]);
    const docs = parseDocuments(r.docs, 'x').docs;
    const queries = docs.filter((d) => d.kind === 'query').map((d) => (d.kind === 'query' ? [d.spec.name, d.spec.query] : []));
    expect(queries).toEqual([
      ['a', 'SELECT 1'],
      ['a_2', 'SELECT 2'],
    ]);
    const pack = docs.find((d) => d.kind === 'pack');
    expect(pack?.kind === 'pack' ? pack.spec.queries.map((q) => [q.name, q.interval]) : []).toEqual([
      ['a', 60],
      ['a_2', 70],
    ]);
  });

  it('--schedule-as query: scheduled kind: query documents, no pack, nothing dropped silently', () => {
    const text = JSON.stringify({
      platform: 'darwin',
      version: '4.0.0',
      queries: {
        b: { query: 'SELECT 2', interval: 300, snapshot: true, shard: 10, value: 'why' },
        a: { query: 'SELECT 1', interval: 60, removed: false, denylist: false },
      },
    });
    const r = convertPack(text, 'p', 'p.conf', { scheduleAs: 'query' });
    expect(r.errors).toEqual([]);
    expect(r.docs).not.toContain('kind: pack');
    const docs = parseDocuments(r.docs, 'x').docs.map((d) => d.spec);
    expect(docs).toEqual([
      { name: 'a', query: 'SELECT 1', interval: 60, platform: 'darwin', logging: 'differential_ignore_removals', min_osquery_version: '4.0.0' },
      { name: 'b', description: 'Value: why', query: 'SELECT 2', interval: 300, platform: 'darwin', logging: 'snapshot', min_osquery_version: '4.0.0' },
    ]);
    expect(r.warnings.map((w) => w.message)).toEqual([
      'query "b": shard 10 has no field in a FleetDM query document; not carried (the query runs on every host)',
      `osquery's "value" has no field in Fleet's query spec: the value text is kept, each at the end of its query's description, after "Value:"`,
      'query "a": denylist false has no field in a FleetDM query document; not carried',
    ]);
  });

  it('chooses from the context: FleetDM 4.35+ gets query documents, older servers a pack, a flag decides', async () => {
    const pack = path.join(tmp, 'ctx.conf');
    await fsp.writeFile(pack, JSON.stringify({ queries: { a: { query: 'SELECT 1', interval: 60 } } }));
    const withServer = (dialect: 'fleet' | 'kolide', version: string) => {
      const io = testIO();
      const ctx = createContext({
        io,
        env: { FLEET_URL: 'https://fleet.example', HOME: tmp },
        globals: { debug: false, color: false, config: path.join(tmp, 'none.yml') },
        signal: new AbortController().signal,
        cwd: repoRoot,
        api: async () => ({ server: async () => ({ generation: dialect, version }) }) as never,
      });
      return { io, ctx };
    };
    const newer = withServer('fleet', '4.58.0');
    expect(await runConvert({ file: pack }, newer.ctx)).toBe(0);
    expect(newer.io.stdoutText()).not.toContain('kind: pack');
    expect(newer.io.stdoutText()).toContain('interval: 60');
    expect(newer.io.stderrText()).toContain('is FleetDM 4.58.0, which schedules queries itself: writing kind: query documents');
    const older = withServer('fleet', '4.30.1');
    expect(await runConvert({ file: pack }, older.ctx)).toBe(0);
    expect(older.io.stdoutText()).toContain('kind: pack');
    const kolide = withServer('kolide', '3.2.0');
    expect(await runConvert({ file: pack }, kolide.ctx)).toBe(0);
    expect(kolide.io.stdoutText()).toContain('kind: pack');
    const flag = withServer('fleet', '4.58.0');
    expect(await runConvert({ file: pack, scheduleAs: 'pack' }, flag.ctx)).toBe(0);
    expect(flag.io.stdoutText()).toContain('kind: pack');
    await expect(runConvert({ file: pack, scheduleAs: 'nope' }, ctxFor())).rejects.toThrow('--schedule-as nope');
  });
});
