/**
 * The result layer's pieces that query and export share (pure, no server): rows of hosts a campaign
 * did not target, where the results go and where the manifest goes, what `--resume` keeps in a
 * manifest, and appending CSV under an existing header.
 */
import { describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { OutsideTargets } from '../src/results/outside.js';
import { destinationOf, manifestPathOf } from '../src/results/destination.js';
import { campaignsAfter, hostsToRetry, latestStatuses, resumableOutput, resumedManifest, resumeFlags, type ResumableManifest } from '../src/results/resume.js';
import { WithoutHeader, firstLine } from '../src/results/append.js';
import type { AtomicFile, OutputKind } from '../src/results/atomic.js';

describe('OutsideTargets', () => {
  it('says nothing when no row was dropped', () => {
    const o = new OutsideTargets();
    expect(o.line('the campaign did not target')).toBeUndefined();
    expect(o.size).toBe(0);
    expect(o.entries()).toEqual([]);
  });

  it('adds up each host, sorts by host, names five (escaped) and counts the rest', () => {
    const o = new OutsideTargets();
    for (const h of ['g', 'f', 'e', 'd', 'c', 'b\u001b[2J']) o.add(h, 2);
    o.add('c', 1);
    o.add('a', 0);
    expect(o.size).toBe(7);
    expect(o.entries()).toEqual([
      { host: 'a', rows: 0 },
      { host: 'b\u001b[2J', rows: 2 },
      { host: 'c', rows: 3 },
      { host: 'd', rows: 2 },
      { host: 'e', rows: 2 },
      { host: 'f', rows: 2 },
      { host: 'g', rows: 2 },
    ]);
    expect(o.line('the campaign did not target')).toBe('13 rows of 7 hosts the campaign did not target dropped (a: 0, b\\u001b[2J: 2, c: 3, d: 2, e: 2 and 2 more)');
  });

  it('speaks of one row of one host in the singular', () => {
    const o = new OutsideTargets();
    o.add('h1', 1);
    expect(o.line("outside the campaign's targets (m.json)")).toBe("1 row of 1 host outside the campaign's targets (m.json) dropped (h1: 1)");
  });
});

describe('destination', () => {
  const stdout = new PassThrough();
  const fileOf = (kind: OutputKind): AtomicFile => ({ path: kind === 'stdout' ? null : '/x/out.csv', name: 'out.csv', kind, stream: new PassThrough(), commit: async () => {}, abort: async () => {}, sha256: () => '', bytes: 0 });

  it('without -o: standard output, watched by whoever watches the terminal, no manifest unless told', () => {
    const d = destinationOf(undefined, stdout);
    expect(d).toMatchObject({ file: undefined, sink: stdout, toFile: false, manifestBeside: false });
    expect(manifestPathOf(d, { output: undefined })).toBeUndefined();
    expect(manifestPathOf(d, { manifest: 'm.json' })).toBe('m.json');
  });

  it('-o FILE (replaced): its stream, no terminal, the manifest beside it unless told where', () => {
    const f = fileOf('replace');
    const d = destinationOf(f, stdout);
    expect(d.sink).toBe(f.stream);
    expect(d).toMatchObject({ toFile: true, manifestBeside: true });
    expect(manifestPathOf(d, { output: 'out.csv' })).toBe('out.csv.manifest.json');
    expect(manifestPathOf(d, { output: 'out.csv', manifest: 'elsewhere.json' })).toBe('elsewhere.json');
  });

  it('-o /dev/… (in place) is not a terminal but gets no manifest beside it; -o - is standard output', () => {
    const inPlace = destinationOf(fileOf('in-place'), stdout);
    expect(inPlace).toMatchObject({ toFile: true, manifestBeside: false });
    expect(manifestPathOf(inPlace, { output: '/dev/null' })).toBeUndefined();
    expect(destinationOf(fileOf('stdout'), stdout)).toMatchObject({ toFile: false, manifestBeside: false });
  });
});

describe('the state --resume keeps in a manifest', () => {
  const manifest = (over: Partial<ResumableManifest> = {}): ResumableManifest => ({
    manifest_version: 1,
    osfleet_version: '1.0.0',
    command: 'query',
    server: null,
    sql: 'SELECT uid, name FROM users',
    tables: ['users'],
    targets: { labels: ['All Hosts'] },
    started_at: '2026-01-01T00:00:00.000Z',
    ended_at: '2026-01-01T00:01:00.000Z',
    ended_by: 'timeout',
    time_zone: 'UTC',
    time_format: 'iso',
    enriched: true,
    hosts: [
      { host: 'a', host_id: 1, status: 'answered', rows: 2 },
      { host: 'b', host_id: 2, status: 'offline', rows: 0 },
      { host: 'c', status: 'error', rows: 0, error: 'no such table' },
      { host: 'd', host_id: 4, status: 'no-response', rows: 0 },
      { host: 'e', host_id: 5, status: 'empty', rows: 0 },
    ],
    rows: 2,
    output: { path: '/o/out.csv', format: 'csv', sha256: 'aa', bytes: 10 },
    warnings: ['earlier'],
    ...over,
  });

  it('takes a query manifest whose output is NDJSON, or CSV with columns the SQL names', () => {
    expect(resumableOutput(manifest(), 'm.json')).toEqual({ out: '/o/out.csv', format: 'csv' });
    expect(() => resumableOutput(manifest({ command: 'export' }), 'm.json')).toThrow('m.json: not the manifest of an osfleet query');
    expect(() => resumableOutput(manifest({ output: { path: null, format: 'ndjson', sha256: null, bytes: null } }), 'm.json')).toThrow('the run wrote no file');
    expect(() => resumableOutput(manifest({ output: { path: '/o/out.json', format: 'json', sha256: 'aa', bytes: 1 } }), 'm.json')).toThrow('--resume appends to ndjson and csv outputs only');
    expect(() => resumableOutput(manifest({ sql: 'SELECT * FROM users' }), 'm.json')).toThrow("the CSV's columns came from the rows");
  });

  it('asks again the hosts that were offline, silent or in error', () => {
    expect(hostsToRetry(manifest()).map((h) => h.host)).toEqual(['b', 'c', 'd']);
  });

  it("uses the first run's result settings, with the flags a resume may still give", () => {
    expect(resumeFlags(manifest(), 'csv', '/o/out.csv', { keepEpoch: true })).toEqual({ format: 'csv', output: '/o/out.csv', tz: 'UTC', timeFormat: 'iso', enrich: true, keepEpoch: true, usernames: undefined, timeColumns: undefined, csvRaw: undefined });
    expect(resumeFlags(manifest({ time_format: 'raw', enriched: false }), 'ndjson', 'x', {})).toMatchObject({ times: false, raw: true });
  });

  it("keeps each host's latest status: an answer now replaces the earlier miss", () => {
    const merged = latestStatuses(manifest().hosts, [{ host: 'b', hostId: 2, status: 'answered', rows: 3 }]);
    expect(merged.find((s) => s.host === 'b')).toEqual({ host: 'b', hostId: 2, status: 'answered', rows: 3 });
    expect(merged.find((s) => s.host === 'c')).toEqual({ host: 'c', status: 'error', rows: 0, error: 'no such table' });
    expect(merged).toHaveLength(5);
  });

  it('lists the first run as a campaign before the first resume, then adds each resume', () => {
    const next = { started_at: 's', ended_at: 'e', ended_by: 'complete', targets: { hosts: ['b'] }, hosts: ['b'], rows: 3 };
    const first = campaignsAfter(manifest(), next);
    expect(first).toEqual([{ started_at: '2026-01-01T00:00:00.000Z', ended_at: '2026-01-01T00:01:00.000Z', ended_by: 'timeout', targets: { labels: ['All Hosts'] }, hosts: ['a', 'b', 'c', 'd', 'e'], rows: 2 }, next]);
    expect(campaignsAfter(manifest({ campaigns: first }), next)).toHaveLength(3);
  });

  it('writes the rows added, the new hash, both warnings and every host, sorted', () => {
    const m = manifest();
    const after = resumedManifest(m, { version: '2.0.0', endedAt: 'E', endedBy: 'complete', statuses: [{ host: 'z', status: 'answered', rows: 1 }, { host: 'b', hostId: 2, status: 'answered', rows: 3 }], rows: 3, output: { sha256: 'bb', bytes: 20 }, warnings: ['now'], campaigns: [] });
    expect(after).toMatchObject({ osfleet_version: '2.0.0', ended_at: 'E', ended_by: 'complete', rows: 5, output: { path: '/o/out.csv', format: 'csv', sha256: 'bb', bytes: 20 }, warnings: ['earlier', 'now'], campaigns: [], started_at: m.started_at });
    expect(after.hosts).toEqual([{ host: 'b', host_id: 2, status: 'answered', rows: 3 }, { host: 'z', status: 'answered', rows: 1 }]);
  });
});

describe('appending CSV under an existing header', () => {
  const collect = () => {
    let text = '';
    const out = new Writable({
      write(chunk: Buffer, _enc, cb) {
        text += chunk.toString();
        cb();
      },
    });
    return { out, text: () => text };
  };
  const write = (w: Writable, chunks: string[]) =>
    new Promise<void>((resolve, reject) => {
      w.on('error', reject);
      for (const c of chunks) w.write(c);
      w.end((err?: Error | null) => (err ? reject(err) : resolve()));
    });

  it('passes the rows on without the header, however the chunks fall', async () => {
    const sink = collect();
    await write(new WithoutHeader(sink.out, 'a,b', 'out.csv'), ['\ufeffa,', 'b\r\n1,2\r\n', '3,4\r\n']);
    expect(sink.text()).toBe('1,2\r\n3,4\r\n');
  });

  it('refuses answers with other columns, naming the file and both headers', async () => {
    const sink = collect();
    await expect(write(new WithoutHeader(sink.out, 'a,b', 'out.csv'), ['a,c\n1,2\n'])).rejects.toThrow('out.csv: the new answers have other columns (a,c) than the file (a,b); nothing was appended');
    expect(sink.text()).toBe('');
  });

  it("reads a file's first line without its BOM and line end", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'osfleet-append-'));
    try {
      await writeFile(join(dir, 'a.csv'), '\ufeffhost,uid\r\nh,1\r\n');
      await writeFile(join(dir, 'b.csv'), 'only');
      expect(await firstLine(join(dir, 'a.csv'))).toBe('host,uid');
      expect(await firstLine(join(dir, 'b.csv'))).toBe('only');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
