/**
 * Issue 19.2/19.3: what a long run holds is bounded. The per-host status table keeps a fixed number
 * of statuses in memory (the rest in sorted runs on disk) and still reads back every status in host
 * order, merged per host as export always did; the manifest's and the JSON/YAML documents' host
 * lists are written status by status with the same text as before; the young generation stops
 * growing once bounded.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import v8 from 'node:v8';
import { stringify as yamlStringify } from 'yaml';
import { createResultWriter, hostsForManifest, StatusTable, StreamedHosts, usernameWarningLines, writeManifest, type HostStatus, type Manifest } from '../src/results/index.js';
import { identityLayout } from '../src/results/enrich.js';
import { boundHeap, boundYoungGeneration, youngGenerationBounded } from '../src/results/memory.js';

const dirs: string[] = [];
const scratch = () => {
  const d = mkdtempSync(join(tmpdir(), 'osfleet-memory-test-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fixed pseudo-random sequence (no Math.random: the test is the same every run). */
function* sequence(n: number, seed = 7): Generator<number> {
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    yield x;
  }
}

/** Statuses with repeated hosts, errors, host ids and empty answers, in no particular order. */
function statuses(n: number): HostStatus[] {
  const out: HostStatus[] = [];
  let i = 0;
  for (const x of sequence(n)) {
    const host = `h-${x % 37}`;
    const rows = x % 5 === 0 ? 0 : x % 11;
    const error = x % 13 === 0 ? `boom ${i}` : undefined;
    out.push({ host, ...(x % 3 === 0 ? { hostId: i } : {}), status: error ? 'error' : rows === 0 ? 'empty' : 'answered', rows, ...(error ? { error } : {}) });
    i++;
  }
  return out;
}

/** What export computed before the table: one Map entry per host, merged in input order, then sorted. */
function mergedReference(list: HostStatus[]): HostStatus[] {
  const m = new Map<string, HostStatus>();
  for (const s of list) {
    const prev = m.get(s.host);
    m.set(
      s.host,
      prev
        ? { ...prev, rows: prev.rows + s.rows, status: prev.status === 'error' || s.status === 'error' ? 'error' : prev.rows + s.rows > 0 ? 'answered' : 'empty', ...(s.error ? { error: s.error } : {}) }
        : s,
    );
  }
  return [...m.values()].sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
}

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('the per-host status table holds a bounded number of hosts', () => {
  it('merged per host (export): never more than its bound in memory, the same statuses as the whole map, in host order, read twice', async () => {
    const tmp = scratch();
    const input = statuses(500);
    const table = new StatusTable({ merge: true, memory: 8, tmpDir: tmp });
    let most = 0;
    for (const s of input) {
      await table.add(s);
      most = Math.max(most, table.held);
    }
    expect(most).toBeLessThanOrEqual(8);
    expect(table.spilled).toBeGreaterThan(10);
    const expected = mergedReference(input);
    expect(await all(table.sorted())).toEqual(expected);
    expect(await all(table.sorted())).toEqual(expected);
    expect(await table.sample(3)).toEqual({ first: expected.slice(0, 3).map((s) => s.host), count: 37 });
    await table.close();
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('unmerged (query): two hosts of one name both stay, in the order they came', async () => {
    const input = statuses(300).map((s, i) => ({ ...s, hostId: i }));
    const table = new StatusTable({ memory: 16, tmpDir: scratch() });
    let most = 0;
    for (const s of input) {
      await table.add(s);
      most = Math.max(most, table.held);
    }
    expect(most).toBeLessThanOrEqual(16);
    // Array.prototype.sort is stable: the reference keeps arrival order within a host.
    expect(await all(table.sorted())).toEqual([...input].sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0)));
    await table.close();
  });

  it('a small run never touches the disk', async () => {
    const tmp = scratch();
    const table = new StatusTable({ merge: true, tmpDir: tmp });
    const input = statuses(100);
    for (const s of input) await table.add(s);
    expect(table.spilled).toBe(0);
    expect(readdirSync(tmp)).toEqual([]);
    expect(await all(table.sorted())).toEqual(mergedReference(input));
    await table.close();
  });
});

const manifest = (hosts: Manifest['hosts']): Manifest => ({
  manifest_version: 1,
  osfleet_version: 'test',
  command: 'export',
  server: null,
  sql: 'SELECT 1',
  tables: ['users'],
  targets: null,
  started_at: '2026-12-07T00:00:00.000Z',
  ended_at: '2026-12-07T00:00:01.000Z',
  ended_by: 'complete',
  time_zone: 'UTC',
  time_format: 'iso',
  enriched: true,
  hosts,
  rows: 3,
  output: { path: '/x.csv', format: 'csv', sha256: 'ab', bytes: 3 },
  warnings: ['w "1"'],
  columns: [],
});

describe('host lists written status by status', () => {
  const odd: HostStatus[] = [
    { host: 'a "quoted"\nname', hostId: 3, status: 'error', rows: 0, error: 'no such table: x\n<b>' },
    { host: 'b', status: 'answered', rows: 2 },
    { host: 'ç-unicode-☃', hostId: 9, status: 'empty', rows: 0 },
  ];

  it('the manifest has the same text as with the whole list (none, one, several hosts)', async () => {
    const dir = scratch();
    for (const list of [[], odd.slice(1, 2), odd]) {
      const whole = join(dir, 'whole.json');
      const streamed = join(dir, 'streamed.json');
      await writeManifest(whole, manifest(hostsForManifest(list)));
      async function* gen() {
        yield* list;
      }
      await writeManifest(streamed, { ...manifest([]), hosts: new StreamedHosts(gen()) });
      expect(readFileSync(streamed, 'utf8')).toBe(readFileSync(whole, 'utf8'));
      expect(readFileSync(whole, 'utf8')).toBe(`${JSON.stringify(manifest(hostsForManifest(list)), null, 2)}\n`);
    }
    expect(existsSync(join(dir, 'streamed.json'))).toBe(true);
  });

  it('JSON and YAML documents end with the same hosts list from a stream as from a list', async () => {
    for (const format of ['json', 'yaml'] as const) {
      for (const list of [[], odd]) {
        const texts: string[] = [];
        for (const source of [list, (async function* () { yield* list; })()]) {
          let text = '';
          const sink = new Writable({ write(c, _e, cb) { text += String(c); cb(); } });
          const w = createResultWriter(format, sink, { layout: identityLayout(null) });
          await w.write({ host: 'b', rows: [{ x: '1' }] });
          await w.end(source);
          texts.push(text);
        }
        expect(texts[1]).toBe(texts[0]);
        if (format === 'yaml' && list.length > 0) {
          // The block sequence as the yaml library writes the whole list at once.
          const items = list.map((s) => ({ host: s.host, ...(s.hostId !== undefined ? { host_id: s.hostId } : {}), status: s.status, rows: s.rows, ...(s.error ? { error: s.error } : {}) }));
          expect(texts[0]).toContain(`hosts:\n${yamlStringify(items, { lineWidth: 0, version: '1.1' })}`);
        }
      }
    }
  });
});

describe('username warnings of many hosts', () => {
  it('name ten hosts and count the rest, one line per reason (100,000 hosts without names: two lines, not 100,000)', () => {
    const failedHosts = Array.from({ length: 100_000 }, (_, i) => ({ host: `h${String(i).padStart(6, '0')}`, error: i % 2 ? 'offline' : 'no answer to the users query' }));
    const unknownByHost = Object.fromEntries(failedHosts.slice(0, 12).map((f) => [f.host, 1]));
    const lines = usernameWarningLines({ unknownUids: 12, unknownByHost, failedHosts });
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe('12 uid values matched no user on their host, left empty (h000000: 1, h000001: 1, h000002: 1, h000003: 1, h000004: 1, h000005: 1, h000006: 1, h000007: 1, h000008: 1, h000009: 1 and 2 more hosts)');
    expect(lines[1]).toBe('no usernames for 50000 hosts: no answer to the users query (h000000, h000002, h000004, h000006, h000008, h000010, h000012, h000014, h000016, h000018 and 49990 more hosts)');
    expect(lines[2]).toMatch(/^no usernames for 50000 hosts: offline \(h000001, .* and 49990 more hosts\)$/);
    // Ten or fewer: one line per host, as before.
    expect(usernameWarningLines({ unknownUids: 0, unknownByHost: {}, failedHosts: failedHosts.slice(0, 2) })).toEqual(['no usernames for h000000: no answer to the users query', 'no usernames for h000001: offline']);
  });
});

describe('the old generation', () => {
  it("counts, when asked, what V8's objects hold outside its heap (Node keeps a string of over ~1 MB there)", () => {
    const slack = 8 << 20;
    expect(boundHeap({ slack })).toBe(false); // the budget starts from what is held now
    // Twelve pages' worth of answers, alive: outside every space of V8's heap.
    const pages = Array.from({ length: 12 }, (_, i) => Buffer.alloc(1 << 20, 97 + i).toString('latin1'));
    expect(boundHeap({ slack })).toBe(false);
    expect(boundHeap({ slack, external: true })).toBe(true);
    expect(pages).toHaveLength(12);
  });
});

describe('the young generation', () => {
  it('stops growing once bounded', () => {
    const young = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_size;
    // Bounded at whatever it is now (a test worker's heap has grown already).
    expect(boundYoungGeneration(1)).toBe(true);
    expect(youngGenerationBounded()).toBe(true);
    const pinned = young();
    // Garbage with survivors: what makes V8 double the young generation, unbounded.
    let keep: Array<{ a: string; b: number[] }> = [];
    for (let i = 0; i < 2_000_000; i++) {
      keep.push({ a: `x${i}`, b: [i] });
      if (keep.length > 20_000) keep = [];
    }
    expect(keep.length).toBeGreaterThan(0);
    expect(young()).toBeLessThanOrEqual(pinned);
  });
});
