/** osquery result logs: the three shapes line by line, gzip, a rotated pair, filters, dates by each query's table. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createContext } from '../src/context.js';
import { testIO } from '../src/io.js';
import { run, type ExportOptions } from '../src/commands/export.js';

import { gunzipIfCompressed, logPlan, parseLogLine, parseTimeBound, readLogResults } from '../src/results/osquery-log.js';
import { repoRoot, upstreamDir } from './helpers/cli.js';

const FIX = path.join(repoRoot, 'test/fixtures/result-logs');
const DOCS = path.join(upstreamDir, 'osquery/examples');
const PACKS = path.join(repoRoot, 'packs/data-leak');
const USERS = path.join(FIX, 'users.ndjson');

/** The documentation's samples are pretty-printed: a log has them on one line each. */
const docLine = (name: string) => JSON.stringify(JSON.parse(readFileSync(path.join(DOCS, name), 'utf8')));

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'osfleet-log-test-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function exportLog(opts: Partial<ExportOptions>, stdin?: string) {
  const io = testIO(stdin === undefined ? {} : { stdin });
  const ctx = createContext({ io, env: {}, globals: { debug: false, color: false }, signal: new AbortController().signal, now: () => new Date('2026-12-02T00:00:00Z') });
  const code = await run({ files: [], tz: 'UTC', format: 'csv', ...opts } as ExportOptions, ctx);
  return { code, out: io.stdoutText(), err: io.stderrText(), lines: io.stdoutText().split('\r\n').filter((l) => l !== '') };
}

describe('gunzipIfCompressed', () => {
  it('destroyed before it was read (another input failed first), it releases its input', async () => {
    const input = new Readable({ read() {} });
    const out = gunzipIfCompressed(input, 'a.log.gz');
    out.destroy();
    await new Promise((r) => out.once('close', r));
    expect(input.destroyed).toBe(true);
  });
});

describe('parseLogLine: the documented shapes', () => {
  it('reads the event, snapshot and batch samples of osquery.md §1.6 (hostname or hostIdentifier, string or number times)', () => {
    expect(parseLogLine(docLine('result_log_event_added.json'))).toEqual({
      name: 'processes', host: 'hostname.local', unixTime: 1412123850,
      rows: [['added', { name: 'osqueryd', path: '/opt/osquery/bin/osqueryd', pid: '97830' }]],
    });
    expect(parseLogLine(docLine('result_log_event_removed.json')).rows).toEqual([['removed', { name: 'osqueryd', path: '/opt/osquery/bin/osqueryd', pid: '97650' }]]);
    const snap = parseLogLine(docLine('result_log_snapshot.json'));
    expect(snap.rows.map(([a, r]) => [a, r.pid])).toEqual([['snapshot', '1'], ['snapshot', '51'], ['snapshot', '52'], ['snapshot', '54']]);
    const batch = parseLogLine(docLine('result_log_batch.json'));
    expect(batch.rows).toEqual([
      ['added', { name: 'osqueryd', path: '/opt/osquery/bin/osqueryd', pid: '97830' }],
      ['removed', { name: 'osqueryd', path: '/opt/osquery/bin/osqueryd', pid: '97650' }],
    ]);
  });

  it('names what is wrong with a line', () => {
    expect(() => parseLogLine('{"host":"a","rows":[]}')).toThrow(/no "name"/);
    expect(() => parseLogLine('{"name":"q","hostIdentifier":"h","unixTime":1}')).toThrow(/neither "columns", "snapshot" nor "diffResults"/);
    expect(() => parseLogLine('{"name":"q","hostIdentifier":"h","unixTime":1,"action":"changed","columns":{}}')).toThrow(/"action" is "changed"/);
    expect(() => parseLogLine('{"name":"q","hostIdentifier":"h","columns":{},"action":"added"}')).toThrow(/unixTime/);
    // --logger_numerics: numbers become text, nothing is lost.
    expect(parseLogLine('{"name":"q","hostIdentifier":"h","unixTime":5,"numerics":true,"action":"added","columns":{"pid":42,"x":null}}').rows).toEqual([['added', { pid: '42', x: '' }]]);
  });

  it('reads a mixed file line by line and filters on the event time and the query', async () => {
    const text = [docLine('result_log_event_added.json'), docLine('result_log_snapshot.json'), docLine('result_log_batch.json'), 'garbage'].join('\n');
    const bad: number[] = [];
    const all = [];
    for await (const r of readLogResults(Readable.from([Buffer.from(text)]), { source: 't', onBadLine: (b) => bad.push(b.line) })) all.push(r);
    expect(all.map((r) => r.rows.map((x) => `${x['log_query']}/${x['log_action']}/${x['log_time']}`))).toEqual([
      ['processes/added/1412123850'],
      ['process_snapshot/snapshot/1462228052', 'process_snapshot/snapshot/1462228052', 'process_snapshot/snapshot/1462228052', 'process_snapshot/snapshot/1462228052'],
      ['processes/added/1412123850', 'processes/removed/1412123850'],
    ]);
    expect(bad).toEqual([4]);
    const some = [];
    for await (const r of readLogResults(Readable.from([Buffer.from(text)]), { source: 't', since: 1462228052, accept: (n) => n !== 'processes' })) some.push(r);
    expect(some.map((r) => r.rows.length)).toEqual([4]);
  });

  it('undoes gzip by its magic bytes and names a cut archive', async () => {
    const text = `${docLine('result_log_event_added.json')}\n`;
    const read = async (buf: Buffer) => {
      let out = '';
      for await (const c of gunzipIfCompressed(Readable.from([buf.subarray(0, 1), buf.subarray(1)]), 'x.gz')) out += c.toString();
      return out;
    };
    expect(await read(gzipSync(text))).toBe(text);
    expect(await read(Buffer.from(text))).toBe(text);
    const gz = gzipSync(text);
    await expect(read(gz.subarray(0, gz.length - 12))).rejects.toThrow(/x\.gz: the gzip data is cut or corrupt/);
  });
});

describe('logPlan: each query decided by its own SQL', () => {
  it('keeps a meaning the queries agree on and leaves a disputed column alone, naming it', () => {
    const p = logPlan([
      { name: 'a', sql: 'SELECT time, uid FROM file_events' },
      { name: 'b', sql: 'SELECT time, pid FROM logged_in_users' },
      { name: 'c', sql: "SELECT 'x' AS time FROM os_version" },
    ]);
    expect(p.plan.select).toEqual(['log_query', 'log_action', 'log_time', 'time', 'uid', 'pid']);
    expect(p.plan.times.has('log_time')).toBe(true);
    expect(p.plan.times.has('time')).toBe(false);
    expect(p.plan.uids.get('uid')).toBe('username');
    expect(p.conflicts.map((c) => c.column)).toEqual(['time']);
    expect(logPlan([{ name: 'a', sql: 'SELECT time FROM file_events' }, { name: 'b', sql: 'SELECT time FROM logged_in_users' }]).plan.times.has('time')).toBe(true);
  });
});

describe('parseTimeBound', () => {
  const now = new Date('2026-12-02T00:00:00Z');
  it.each([
    ['1796133910', 1796133910],
    ['2026-12-01', 1796083200],
    ['2026-12-01T14:05:10Z', 1796133910],
    ['2026-12-01T15:05:10+01:00', 1796133910],
    ['24h', 1796083200],
    ['1d', 1796083200],
  ])('%s', (text, want) => {
    expect(parseTimeBound(text, '--since', 'UTC', now)).toBe(want);
  });
  it('reads a wall time in the output zone, and refuses what is not a time', () => {
    expect(parseTimeBound('2026-12-01T09:05:10', '--since', 'America/New_York', now)).toBe(1796133910);
    expect(() => parseTimeBound('yesterday', '--since', 'UTC', now)).toThrow(/--since: cannot read "yesterday"/);
    expect(() => parseTimeBound('2026-02-30', '--until', 'UTC', now)).toThrow(/not a real date/);
  });
});

describe('osfleet export of result logs', () => {
  it('writes host, query, action, event time, then the row: dates by the scheduled query, usernames per host', async () => {
    const r = await exportLog({ files: [path.join(FIX, 'event.log')], packs: PACKS, users: USERS, query: 'data-leak-file-copies' });
    expect(r.lines).toEqual([
      'host,log_query,log_action,log_time,time,action,category,target_path,size,sha256,uid,uid_username,owner',
      'jim-macbook-1014,pack/data-leak/data-leak-file-copies,added,2026-12-01T14:05:10+00:00,2026-12-01T14:05:02+00:00,CREATED,volumes,/Volumes/KINGSTON/Q4-confidential.pdf,482113,5f1c0b6a52f4a8a5d3f0e0c9ad1e6e61c1b4a7a8d2c3e4f5061728394a5b6c7d,501,ryan,ryan',
    ]);
    expect(r.code).toBe(0);
  });

  it('recognises a log by its first line, mixes the three shapes, and records the queries in the manifest', async () => {
    const out = path.join(dir, 'log.csv');
    const r = await exportLog({ files: [path.join(FIX, 'mixed.log')], packs: PACKS, users: USERS, output: out });
    expect(r.code).toBe(0);
    const csv = readFileSync(out, 'utf8').split('\r\n');
    expect(csv[0]!.startsWith('host,log_query,log_action,log_time,')).toBe(true);
    expect(csv.filter((l) => l !== '').slice(1).map((l) => l.split(',').slice(0, 3).join(','))).toEqual([
      'jim-macbook-1014,pack/data-leak/data-leak-file-copies,added',
      'jim-macbook-1014,pack/data-leak/data-leak-removable-mounts,removed',
      'jim-macbook-1014,pack/data-leak/data-leak-logged-in-users,snapshot',
      'jim-macbook-1014,pack/data-leak/data-leak-logged-in-users,snapshot',
      'centos-fileserver,pack/data-leak/data-leak-usb-devices,added',
      'centos-fileserver,pack/data-leak/data-leak-usb-devices,removed',
    ]);
    const m = JSON.parse(readFileSync(`${out}.manifest.json`, 'utf8'));
    expect(m.log).toEqual({
      queries: {
        'pack/data-leak/data-leak-file-copies': 1,
        'pack/data-leak/data-leak-logged-in-users': 2,
        'pack/data-leak/data-leak-removable-mounts': 1,
        'pack/data-leak/data-leak-usb-devices': 2,
      },
      since: null, until: null, specs_from: PACKS,
    });
    expect(m.rows).toBe(6);
  });

  it('reads a rotated pair, the older one gzip-compressed, and --since/--until on the event time', async () => {
    const files = [path.join(FIX, 'osquery_result-2026-12-01T14-10-00.000.gz'), path.join(FIX, 'osquery_result')];
    const all = await exportLog({ files, packs: PACKS, format: 'ndjson' });
    const times = all.out.trim().split('\n').flatMap((l) => JSON.parse(l).rows.map((row: Record<string, string>) => `${row['log_action']}@${row['log_time']}`));
    expect(times).toEqual(['added@1796133000', 'removed@1796133000', 'added@1796133910', 'removed@1796134800', 'snapshot@1796137200', 'snapshot@1796137200']);
    const some = await exportLog({ files, packs: PACKS, since: '2026-12-01T14:00:00Z', until: '2026-12-01T15:00:00Z', format: 'ndjson' });
    expect(some.out.trim().split('\n').map((l) => JSON.parse(l).rows[0].log_time)).toEqual(['1796133910', '1796134800']);
  });

  it('refuses a log mixed with query results, and a cut gzip names the file and leaves no output', async () => {
    const ndjson = path.join(dir, 'r.ndjson');
    writeFileSync(ndjson, '{"host":"a","rows":[]}\n');
    await expect(exportLog({ files: [path.join(FIX, 'event.log'), ndjson] })).rejects.toThrow(/event\.log is an osquery result log, .*r\.ndjson not: export them separately/);
    const gz = readFileSync(path.join(FIX, 'osquery_result-2026-12-01T14-10-00.000.gz'));
    const cut = path.join(dir, 'cut.gz');
    writeFileSync(cut, gz.subarray(0, gz.length - 20));
    const out = path.join(dir, 'o.csv');
    await expect(exportLog({ files: [cut], packs: PACKS, output: out })).rejects.toThrow(/cut\.gz: the gzip data is cut or corrupt/);
    expect(() => readFileSync(out)).toThrow();
  });

  it('recognises a log on stdin by its first line and puts that line back', async () => {
    const r = await exportLog({ files: [], format: 'ndjson' }, readFileSync(path.join(FIX, 'batch.log'), 'utf8'));
    expect(r.out.trim().split('\n').map((l) => JSON.parse(l).rows.map((x: Record<string, string>) => x['log_action']))).toEqual([['added', 'removed']]);
    const plain = await exportLog({ files: ['-'], format: 'ndjson' }, '{"host":"a","rows":[{"x":"1"}]}\n');
    expect(plain.out).toBe('{"host":"a","rows":[{"x":"1"}]}\n');
  });

  it('reads osquery pack files (.conf) for the SQL', async () => {
    const log = path.join(dir, 'ir.log');
    writeFileSync(log, `${JSON.stringify({ name: 'pack/incident-response/last', hostIdentifier: 'h', unixTime: 1796133910, action: 'added', columns: { username: 'ryan', time: '1796133000', type: '7' } })}\n`);
    const r = await exportLog({ files: [log], packs: path.join(upstreamDir, 'osquery-packs/incident-response.conf'), raw: false });
    // SELECT * of many tables: the row's columns are known from the rows only, the log's stay first.
    expect(r.lines).toEqual(['host,log_query,log_action,log_time,time,type,username', 'h,pack/incident-response/last,added,2026-12-01T14:05:10+00:00,2026-12-01T13:50:00+00:00,7,ryan']);
  });
});
