import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import { parse as parseYaml } from 'yaml';
import {
  atomicFile,
  createResultWriter,
  lines,
  LineTooLongError,
  ndjsonLine,
  parseResultLine,
  readHostResults,
  resolveResultOptions,
  ResultPipeline,
  UserDirectory,
  Enricher,
  type HostResult,
  type HostStatus,
  type ResultFormat,
} from '../src/results/index.js';
import { identityLayout as identityLayoutForTest } from '../src/results/enrich.js';
import { csvRecords, csvText, neutraliseCell } from '../src/results/format/csv.js';
import { fitWidths, renderTable } from '../src/results/format/table.js';

class Sink extends Writable {
  chunks: string[] = [];
  override _write(chunk: Buffer, _enc: string, cb: () => void) {
    this.chunks.push(chunk.toString('utf8'));
    cb();
  }
  text() {
    return this.chunks.join('');
  }
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'osfleet-results-test-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const results: HostResult[] = [
  { host: 'b-host', rows: [{ uid: '501', path: '/b', host_hostname: 'b-host' }] },
  { host: 'a-host', rows: [{ uid: '0', path: '=cmd()', host_hostname: 'a-host' }, { uid: '501', path: 'x,y', extra: 'e', host_hostname: 'a-host' }] },
  { host: 'c-host', rows: [], error: 'no such table: foo' },
];
const statuses: HostStatus[] = [
  { host: 'a-host', status: 'answered', rows: 2 },
  { host: 'b-host', status: 'answered', rows: 1 },
  { host: 'c-host', status: 'error', rows: 0, error: 'no such table: foo' },
];

async function writeAll(format: ResultFormat, input: HostResult[], opts: Partial<Parameters<typeof createResultWriter>[2]> = {}) {
  const sink = new Sink();
  const w = createResultWriter(format, sink, { layout: identityLayoutForTest(null), tmpDir: dir, ...opts });
  for (const r of input) await w.write(r);
  await w.end(statuses);
  return sink.text();
}

describe('ndjson', () => {
  it("writes fleetctl's lines: sorted keys, error only when set, Go's HTML escapes", () => {
    expect(ndjsonLine({ host: 'h', rows: [{ b: '2', a: '<&>' }] })).toBe('{"host":"h","rows":[{"a":"\\u003c\\u0026\\u003e","b":"2"}]}');
    expect(ndjsonLine({ host: 'h', rows: [], error: 'boom' })).toBe('{"host":"h","rows":[],"error":"boom"}');
    // Go sorts keys as strings; JS objects would put "10" before "2" numerically.
    expect(ndjsonLine({ host: 'h', rows: [{ '2': 'x', '10': 'y', a: 'z' }] })).toBe('{"host":"h","rows":[{"10":"y","2":"x","a":"z"}]}');
  });

  it("sorts the keys of many rows sharing one key set as one row's, and leaves nested values and mixed key sets whole", () => {
    // Fleet's rows: the query's columns, then host_hostname and host_display_name (out of Go's order).
    const rows = [
      { x: '1', label: 'a<b', host_hostname: 'h', host_display_name: 'H' },
      { x: '2', label: 'c', host_hostname: 'h', host_display_name: 'H' },
    ];
    expect(ndjsonLine({ host: 'h', rows })).toBe(
      '{"host":"h","rows":[{"host_display_name":"H","host_hostname":"h","label":"a\\u003cb","x":"1"},{"host_display_name":"H","host_hostname":"h","label":"c","x":"2"}]}',
    );
    // A nested value (not osquery's, but a server may send one) keeps every key of its own.
    const nested = [{ b: '1', a: { z: 1, y: 2 } as unknown as string }];
    expect(ndjsonLine({ host: 'h', rows: nested })).toBe('{"host":"h","rows":[{"a":{"z":1,"y":2},"b":"1"}]}');
    // Rows with different key sets: each row sorted on its own, none dropped.
    const mixed: Array<Record<string, string>> = [{ b: '1', a: '2' }, { d: '3', c: '4', b: '5' }];
    expect(ndjsonLine({ host: 'h', rows: mixed })).toBe('{"host":"h","rows":[{"a":"2","b":"1"},{"b":"5","c":"4","d":"3"}]}');
  });

  it('round-trips through the reader', async () => {
    const text = await writeAll('ndjson', results);
    const back: HostResult[] = [];
    for await (const r of readHostResults(Readable.from([text]), { source: 't' })) back.push(r);
    expect(back.map((r) => r.host)).toEqual(['b-host', 'a-host', 'c-host']);
    expect(back[1]!.rows[1]).toEqual({ uid: '501', path: 'x,y', extra: 'e', host_hostname: 'a-host' });
    expect(back[2]!.error).toBe('no such table: foo');
  });
});

describe('json and yaml', () => {
  it('json is one document with results and host statuses', async () => {
    const doc = JSON.parse(await writeAll('json', results));
    expect(doc.results).toHaveLength(3);
    expect(doc.results[2]).toEqual({ host: 'c-host', rows: [], error: 'no such table: foo' });
    expect(doc.hosts[2]).toEqual({ host: 'c-host', status: 'error', rows: 0, error: 'no such table: foo' });
    expect(JSON.parse(await writeAll('json', []))).toEqual({ results: [], hosts: statuses.map((s) => JSON.parse(JSON.stringify(s))) });
  });

  it('yaml has the same shape', async () => {
    const doc = parseYaml(await writeAll('yaml', results));
    expect(doc.results[1].rows[0]).toEqual({ uid: '0', path: '=cmd()', host_hostname: 'a-host' });
    expect(doc.hosts).toHaveLength(3);
    expect(parseYaml(await writeAll('yaml', []))).toMatchObject({ results: [] });
    // Quoted so YAML 1.1 readers keep them as strings.
    const text = await writeAll('yaml', [{ host: 'h', rows: [{ t: '2020-08-25T19:39:56+00:00', b: 'yes', n: '20' }] }]);
    expect(text).toContain('t: "2020-08-25T19:39:56+00:00"');
    expect(text).toContain('b: "yes"');
    expect(parseYaml(text, { version: '1.1' }).results[0].rows[0]).toEqual({ t: '2020-08-25T19:39:56+00:00', b: 'yes', n: '20' });
  });
});

describe('csv', () => {
  it('writes host first, the sorted union of columns (without Fleet host columns), neutralised and quoted', async () => {
    const text = await writeAll('csv', results, { csv: { neutralise: true, bom: false } });
    expect(text).toBe(['host,extra,path,uid', 'b-host,,/b,501', "a-host,,'=cmd(),0", 'a-host,e,"x,y",501', ''].join('\r\n'));
  });

  it("labels a result column called host as host.1 (the answering host comes first)", async () => {
    const text = await writeAll('csv', [{ host: 'mac', rows: [{ host: '10.0.0.7', user: 'jim' }] }]);
    expect(text).toBe('host,host.1,user\r\nmac,10.0.0.7,jim\r\n');
    expect(await writeAll('table', [{ host: 'mac', rows: [{ host: '10.0.0.7' }] }], { layout: identityLayoutForTest(['host']) })).toBe('host  host.1\nmac   10.0.0.7\n');
  });

  it('keeps SELECT order when known, adds a BOM, and can stay raw', async () => {
    const text = await writeAll('csv', results, { layout: identityLayoutForTest(['uid', 'path']), csv: { neutralise: false, bom: true } });
    expect(text.startsWith('\ufeffhost,uid,path\r\n')).toBe(true);
    expect(text).toContain('a-host,0,=cmd()\r\n');
  });

  it('gives the same text through memory and through spool segments (columns appearing late)', async () => {
    const many: HostResult[] = [];
    for (let h = 0; h < 30; h++) {
      const rows = Array.from({ length: 7 }, (_, i) => ({ a: `${h}-${i}`, q: 'say "hi"\nthere', ...(h > 20 ? { late: `L${i}` } : {}), ...(h > 25 ? { b: '-x' } : {}) }));
      many.push({ host: `host-${h}`, rows });
    }
    const inMemory = await writeAll('csv', many, { csv: { neutralise: true, bom: false } });
    const spooled = await writeAll('csv', many, { csv: { neutralise: true, bom: false }, memoryRows: 5 });
    expect(spooled).toBe(inMemory);
    expect(inMemory.split('\r\n')[0]).toBe('host,a,b,late,q');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('writes exactly what csv-stringify writes (plain records take a fast path)', () => {
    // Issue 15.6: `;` and tab are quoted too (csv-stringify's quoted_match below says so).
    const cell = fc.oneof(fc.string(), fc.constantFrom('', ',', '"', '\r', '\n', 'a\r\nb', ' x ', '-1', ';', 'a\tb'));
    fc.assert(
      fc.property(fc.array(fc.array(cell, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 8 }), (records) => {
        expect(csvText(records)).toBe(stringify(records, { record_delimiter: '\r\n', quoted_match: /[\r\n;\t]/, eof: true }));
      }),
      { numRuns: 500, seed: 7 },
    );
  });

  it('writer output is csv-stringify output, for any cells (neutralised and not)', async () => {
    const cell = fc.oneof(fc.string(), fc.constantFrom('', ',', '"', '\r', '\n', '=1+1', '-1', '@x', 'a\r\nb', 'x;y', '\tz'));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(cell, cell, cell), { minLength: 1, maxLength: 5 }), fc.boolean(), async (cells, neutralise) => {
        const rows = cells.map(([a, b, c]) => ({ a, b, c }));
        const text = await writeAll('csv', [{ host: 'h,1', rows }], { layout: identityLayoutForTest(['a', 'b', 'c']), csv: { neutralise, bom: false } });
        const n = neutralise ? neutraliseCell : (v: string) => v;
        const expected = stringify([['host', 'a', 'b', 'c'], ...cells.map(([a, b, c]) => ['h,1', a, b, c].map(n))], { record_delimiter: '\r\n', quoted_match: /[\r\n;\t]/, eof: true });
        expect(text).toBe(expected);
      }),
      { numRuns: 300, seed: 5 },
    );
  });

  it('reads back what it writes', async () => {
    const cell = fc.oneof(fc.string(), fc.constantFrom('', ',', '"', '\r', '\n', '""', 'a\r\nb'));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(cell, { minLength: 2, maxLength: 5 }), { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 9 }), async (records, cut) => {
        const text = csvText(records);
        const chunks: string[] = [];
        for (let i = 0; i < text.length; i += cut) chunks.push(text.slice(i, i + cut));
        const back: string[][] = [];
        for await (const r of csvRecords(Readable.from(chunks))) back.push(r);
        expect(back).toEqual(records);
      }),
      { numRuns: 300, seed: 11 },
    );
  });
});

describe('table', () => {
  it('is plain aligned text when piped, hosts sorted', async () => {
    const text = await writeAll('table', results, { tty: false });
    expect(text).toBe(['host    extra  path    uid', 'a-host         =cmd()  0', 'a-host  e      x,y     501', 'b-host         /b      501', ''].join('\n'));
  });

  it('fits a terminal: boxes cut to the width', async () => {
    const wide: HostResult[] = [{ host: 'h', rows: [{ path: 'x'.repeat(200), uid: '1' }] }];
    const text = await writeAll('table', wide, { tty: true, width: 60 });
    for (const line of text.trimEnd().split('\n')) expect(line.length).toBeLessThanOrEqual(60);
    expect(text).toContain('…');
  });

  it('shrinks the widest columns first', () => {
    expect(fitWidths([10, 50, 5], 40)).toEqual([10, 15, 5]);
    // Dates (25 characters) keep their width while a long path can give.
    expect(fitWidths([16, 49, 25, 3], 80)).toEqual([16, 23, 25, 3]);
    expect(fitWidths([10, 10], 100)).toEqual([10, 10]);
    expect(renderTable(['a'], [], { tty: false })).toBe('a\n');
  });
});

describe('reader', () => {
  it('parses fleetctl lines and says what is wrong with bad ones', () => {
    expect(parseResultLine('{"host":"h","rows":null}')).toEqual({ host: 'h', rows: [] });
    expect(parseResultLine('{"host":"h","rows":[{"n":5,"z":null}]}').rows[0]).toEqual({ n: '5', z: '' });
    expect(() => parseResultLine('{"rows":[]}')).toThrow('no "host" string');
    expect(() => parseResultLine('{"host":"h","rows":{}}')).toThrow('"rows" is not a list');
    expect(() => parseResultLine('{"host":"h","rows":[1]}')).toThrow('row 1 is not an object');
    expect(() => parseResultLine('[')).toThrow(/not JSON/);
  });

  it('numbers lines across chunks, CRLF and a missing final newline', async () => {
    const got: Array<[string, number]> = [];
    for await (const l of lines(Readable.from([Buffer.from('\ufeffa\r\nb'), Buffer.from('c\n\nd')]))) got.push(l);
    expect(got).toEqual([['a', 1], ['bc', 2], ['', 3], ['d', 4]]);
  });

  it('splits any text into the same lines however it is chunked', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom('a', 'é', '\n', '\r\n', '{"x":1}', '€'), { maxLength: 40 }), fc.integer({ min: 1, max: 7 }), async (pieces, cut) => {
        const bytes = Buffer.from(pieces.join(''));
        const chunks: Buffer[] = [];
        for (let i = 0; i < bytes.length; i += cut) chunks.push(bytes.subarray(i, i + cut));
        const got: string[] = [];
        for await (const [l] of lines(Readable.from(chunks))) got.push(l);
        const want = pieces.join('').split('\n').map((l) => l.replace(/\r$/, ''));
        if (want[want.length - 1] === '') want.pop();
        expect(got).toEqual(want);
      }),
      { numRuns: 300, seed: 3 },
    );
  });

  it('keeps only the first bytes of a line that is not a JSON object, however it is chunked', async () => {
    const junk = 'x'.repeat(5000);
    const text = `\ufeff  {"host":"a","rows":[]}\r\n${junk}\n\u0000\u0000binary\n\n  \t\n€uro ${junk}\n{"host":"b","rows":[]}`;
    const read = async (chunks: Buffer[]) => {
      const got: Array<[string, number]> = [];
      for await (const l of lines(Readable.from(chunks), { objectsOnly: true })) got.push(l);
      return got;
    };
    const whole = await read([Buffer.from(text)]);
    expect(whole).toEqual([
      ['  {"host":"a","rows":[]}', 1],
      ['x'.repeat(40), 2],
      ['\u0000\u0000binary', 3],
      ['', 4],
      ['  \t', 5],
      [`€uro ${'x'.repeat(33)}`, 6], // 40 bytes: € is three
      ['{"host":"b","rows":[]}', 7],
    ]);
    const bytes = Buffer.from(text);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 97 }), async (cut) => {
        const chunks: Buffer[] = [];
        for (let i = 0; i < bytes.length; i += cut) chunks.push(bytes.subarray(i, i + cut));
        expect(await read(chunks)).toEqual(whole);
      }),
      { numRuns: 60, seed: 5 },
    );
  });

  it('ends at a line longer than the limit, object or not, naming it', async () => {
    const over = async (text: string, chunk: number) => {
      const bytes = Buffer.from(text);
      const chunks: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += chunk) chunks.push(bytes.subarray(i, i + chunk));
      const got: string[] = [];
      try {
        for await (const [l] of lines(Readable.from(chunks), { objectsOnly: true, maxLineBytes: 1000 })) got.push(l);
      } catch (err) {
        return { got, err };
      }
      return { got, err: undefined };
    };
    for (const chunk of [7, 300, 5000]) {
      const big = await over(`{"host":"a","rows":[]}\n{"host":"${'b'.repeat(1200)}"}\n`, chunk);
      expect(big.got).toEqual(['{"host":"a","rows":[]}']);
      expect(big.err).toBeInstanceOf(LineTooLongError);
      expect((big.err as LineTooLongError).line).toBe(2);
      // A never-ending junk line (/dev/zero) ends too, though only its first bytes are kept.
      const zero = await over('\u0000'.repeat(3000), chunk);
      expect((zero.err as LineTooLongError).line).toBe(1);
    }
    // Exactly at the limit is fine.
    expect((await over(`{${'x'.repeat(998)}}\n`, 64)).err).toBeUndefined();
    const input = Readable.from([Buffer.from(`{"host":"a","rows":[]}\n{${'x'.repeat(2000)}\n`)]);
    await expect(async () => {
      for await (const _ of readHostResults(input, { source: 'big.ndjson', maxLineBytes: 1000 }));
    }).rejects.toThrow('big.ndjson:2: more than 1000 bytes without a newline: not query results');
  });

  it('skips broken lines, reporting their numbers, or stops under strict', async () => {
    const text = '{"host":"a","rows":[]}\nnope\n{"host":"b","rows":[]}\n';
    const bad: number[] = [];
    const hosts: string[] = [];
    for await (const r of readHostResults(Readable.from([text]), { source: 'f', onBadLine: (b) => bad.push(b.line) })) hosts.push(r.host);
    expect(hosts).toEqual(['a', 'b']);
    expect(bad).toEqual([2]);
    await expect(async () => {
      for await (const _ of readHostResults(Readable.from([text]), { source: 'f', strict: true }));
    }).rejects.toThrow('f:2: not JSON');
  });
});

describe('atomicFile', () => {
  it('appears only on commit, with mode 0600, and leaves nothing on abort', async () => {
    const target = join(dir, 'out.csv');
    const f = await atomicFile(target);
    f.stream.write('hello\n');
    expect(() => statSync(target)).toThrow();
    await f.commit();
    expect(readFileSync(target, 'utf8')).toBe('hello\n');
    expect(statSync(target).mode & 0o777).toBe(0o600);
    expect(f.sha256()).toBe('5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03');
    const g = await atomicFile(join(dir, 'other.csv'));
    g.stream.write('half');
    await g.abort();
    expect(readdirSync(dir)).toEqual(['out.csv']);
  });

  it('hashes the bytes on their way to disk: the digest and size match the file', async () => {
    const target = join(dir, 'big.csv');
    const f = await atomicFile(target);
    // Writes queued faster than the disk takes them go out in writev batches; both paths hash.
    for (let i = 0; i < 3000; i++) f.stream.write(i % 7 === 0 ? Buffer.alloc(1 + (i % 4093), i % 251) : `line ${i} ${'é'.repeat(i % 50)}\r\n`);
    await new Promise<void>((ok) => f.stream.once('drain', () => ok()));
    f.stream.write('tail');
    await f.commit();
    expect(f.sha256()).toBe(createHash('sha256').update(readFileSync(target)).digest('hex'));
    expect(f.bytes).toBe(statSync(target).size);
  });

  it('refuses a folder it cannot write, naming the path', async () => {
    await expect(atomicFile(join(dir, 'missing', 'x.csv'))).rejects.toThrow(/cannot write .*x\.csv: no such folder/);
    if (process.getuid?.() !== 0) {
      const ro = join(dir, 'ro');
      rmSync(ro, { force: true, recursive: true });
      mkdirSync(ro, { mode: 0o500 });
      await expect(atomicFile(join(ro, 'x.csv'))).rejects.toThrow(/permission denied/);
      chmodSync(ro, 0o700);
    }
  });
});

describe('ResultPipeline', () => {
  const opts = (format: ResultFormat, extra = {}) => resolveResultOptions({ format, tz: 'America/Los_Angeles', ...extra }, {}, { format });

  it('joins the companion users campaign per host, holding only waiting hosts', async () => {
    const sink = new Sink();
    const p = new ResultPipeline({ options: opts('csv'), sql: 'SELECT target_path, uid, time FROM file_events', sink, usersCampaign: true });
    expect(p.wantsUsers).toBe(true);
    await p.write({ host: 'mac1', rows: [{ target_path: '/x', uid: '501', time: '1598384396' }] });
    await p.write({ host: 'mac2', rows: [{ target_path: '/y', uid: '501', time: '0' }] });
    // Both hosts wait for their names: nothing is written yet.
    expect(sink.text()).toBe('');
    await p.writeUsers({ host: 'mac2', rows: [{ uid: '501', username: 'bob' }] });
    expect(sink.text()).toContain('mac2,/y,501,bob,0\r\n');
    await p.writeUsers({ host: 'mac1', rows: [{ uid: '501', username: 'alice' }] });
    await p.write({ host: 'win', rows: [{ target_path: '/z', uid: '7', time: '1598384396' }] });
    await p.endUsers();
    const summary = await p.finish([]);
    expect(sink.text().split('\r\n')).toEqual([
      'host,target_path,uid,username,time',
      'mac2,/y,501,bob,0',
      'mac1,/x,501,alice,2020-08-25T12:39:56-07:00',
      'win,/z,7,,2020-08-25T12:39:56-07:00',
      '',
    ]);
    expect(summary.rows).toBe(3);
    expect(summary.warnings).toEqual([
      'values kept as sent in 1 date column, not instants: time (1 × 0 (osquery: not set, never; shadow: change at next login))',
      'no usernames for win: no answer to the users query',
    ]);
  });

  it('keeps machine formats raw unless --enrich', async () => {
    const run = async (extra: object) => {
      const sink = new Sink();
      const p = new ResultPipeline({ options: opts('ndjson', extra), sql: 'SELECT time FROM last', sink });
      await p.write({ host: 'h', rows: [{ time: '1598384396' }] });
      await p.finish([]);
      return sink.text();
    };
    expect(await run({})).toBe('{"host":"h","rows":[{"time":"1598384396"}]}\n');
    expect(await run({ enrich: true, keepEpoch: true })).toBe('{"host":"h","rows":[{"time":"2020-08-25T12:39:56-07:00","time_epoch":"1598384396"}]}\n');
  });

  it('writes a large answer in slices with the same bytes as in one piece', async () => {
    const rows = Array.from({ length: 700 }, (_, i) => ({ uid: String(i % 3), time: String(1598384396 + i), path: `<${i}>` }));
    const d = new UserDirectory();
    d.add({ host: 'h', rows: [{ uid: '0', username: 'root' }, { uid: '1', username: 'daemon' }] });
    for (const format of ['ndjson', 'json', 'csv'] as const) {
      const sink = new Sink();
      const p = new ResultPipeline({ options: opts(format, { enrich: true }), tables: ['file'], sink, users: d });
      // The pipeline enriches the rows it owns in place: the reference starts from a copy.
      const fresh = rows.map((r) => ({ ...r }));
      await p.write({ host: 'h', rows: rows.map((r) => ({ ...r })) });
      await p.write({ host: 'e', rows: [], error: 'boom' });
      expect((await p.finish([])).rows).toBe(700);
      // The reference: the same answer enriched in one piece by a fresh pipeline fed row by row.
      const ref = new Sink();
      const q = new ResultPipeline({ options: opts(format, { enrich: true }), tables: ['file'], sink: ref, users: d });
      const whole = new Enricher(q.plan, { times: opts(format, { enrich: true }).times, users: d }).enrich({ host: 'h', rows: fresh });
      if (format === 'csv') for (let i = 0; i < 700; i += 100) await q.write({ host: 'h', rows: rows.slice(i, i + 100).map((r) => ({ ...r })) });
      await q.finish([]);
      if (format === 'ndjson') expect(sink.text()).toBe(`${ndjsonLine(whole)}\n{"host":"e","rows":[],"error":"boom"}\n`);
      if (format === 'json') expect(JSON.parse(sink.text()).results[0]).toEqual(JSON.parse(ndjsonLine(whole)));
      if (format === 'csv') expect(sink.text()).toBe(ref.text());
    }
  });

  it('rejects --time-columns that are not in the result', async () => {
    expect(() => new ResultPipeline({ options: opts('csv', { timeColumns: 'nope' }), sql: 'SELECT time FROM last', sink: new Sink() })).toThrow(/nope not in the result/);
    const p = new ResultPipeline({ options: opts('csv', { timeColumns: 'when' }), sink: new Sink() });
    await p.write({ host: 'h', rows: [{ other: '1' }] });
    await expect(p.finish([])).rejects.toThrow(/when not in the result/);
  });

  it('uses a users directory given up front without holding rows', async () => {
    const d = new UserDirectory();
    d.add({ host: 'h', rows: [{ uid: '0', username: 'root' }] });
    const sink = new Sink();
    const p = new ResultPipeline({ options: opts('csv'), tables: ['file'], sink, users: d });
    await p.write({ host: 'h', rows: [{ uid: '0', path: '/etc' }] });
    await p.finish([]);
    expect(sink.text()).toBe('host,path,uid,username\r\nh,/etc,0,root\r\n');
  });
});

it('validates result options', () => {
  expect(() => resolveResultOptions({ tz: 'Nowhere/Land' }, {}, { format: 'csv' })).toThrow('unknown time zone "Nowhere/Land"');
  expect(() => resolveResultOptions({ timeFormat: 'rfc' }, {}, { format: 'csv' })).toThrow('unknown time format');
  expect(() => resolveResultOptions({ format: 'xml' }, {}, { format: 'csv' })).toThrow('unknown format');
  expect(resolveResultOptions({ output: 'x.yaml' }, {}, { format: 'csv' }).format).toBe('yaml');
  expect(resolveResultOptions({}, { TZ: 'Europe/Paris' }, { format: 'csv' }).timeZone).toBe('Europe/Paris');
  expect(resolveResultOptions({ raw: true }, {}, { format: 'csv' })).toMatchObject({ enrich: false, times: null, usernames: false });
  expect(resolveResultOptions({ format: 'json' }, {}, { format: 'csv' })).toMatchObject({ enrich: false });
  expect(resolveResultOptions({ format: 'table', times: false }, {}, { format: 'csv' })).toMatchObject({ enrich: true, times: null, usernames: true });
});

it('looks the time zone up at once when dates are shown or --tz is given, else only when asked (a run that shows no date pays nothing for it)', () => {
  const bad = { TZ: 'Mars/Olympus' };
  // Dates shown (csv enriches): a bad $TZ is refused before anything runs.
  expect(() => resolveResultOptions({}, bad, { format: 'csv' })).toThrow(/^TZ=Mars\/Olympus: unknown time zone/);
  // NDJSON, no dates: nothing looked up until the zone is read (a manifest names it).
  const raw = resolveResultOptions({ format: 'ndjson' }, bad, { format: 'csv' });
  expect(raw.times).toBeNull();
  expect(() => raw.timeZone).toThrow(/^TZ=Mars\/Olympus: unknown time zone/);
  const later = resolveResultOptions({ format: 'ndjson' }, { TZ: 'Europe/Paris' }, { format: 'csv' });
  expect(later.timeZone).toBe('Europe/Paris');
  expect(() => resolveResultOptions({ format: 'ndjson', tz: 'Nowhere/Land' }, {}, { format: 'csv' })).toThrow('unknown time zone "Nowhere/Land"');
});

describe('csv quoting of ; and tab (issue 15.6)', () => {
  it('quotes fields holding ; or a tab, neutralises formulas still', async () => {
    const text = await writeAll('csv', [{ host: 'h', rows: [{ a: 'x;y', b: 'tab\there', c: '=SUM(A1;A2)', d: '\tlead', e: 'plain' }] }]);
    expect(text).toBe('host,a,b,c,d,e\r\nh,"x;y","tab\there","\'=SUM(A1;A2)","\'\tlead",plain\r\n');
    const raw = await writeAll('csv', [{ host: 'h', rows: [{ a: 'x;y' }] }], { csv: { neutralise: false, bom: false } });
    expect(raw).toBe('host,a\r\nh,"x;y"\r\n');
  });

  it('reads back what it quotes', async () => {
    const rows = [{ a: 'x;y', b: 'p\tq' }];
    const text = await writeAll('csv', [{ host: 'h', rows }], { csv: { neutralise: false, bom: false } });
    const back: string[][] = [];
    for await (const rec of csvRecords(Readable.from([text]))) back.push(rec);
    expect(back).toEqual([['host', 'a', 'b'], ['h', 'x;y', 'p\tq']]);
  });
});
