/**
 * Issue 15.1: dates only where the meaning is known. Without SQL (fleetctl's output), the time
 * columns come from the row's own column set matched against osquery's schema, never from a name.
 * Precision and recall are measured over every osquery table that has a time column, on rows
 * carrying the columns `SELECT *` returns (all, and each platform's), and on the same rows with a
 * quarter of their columns dropped.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Enricher, planColumns } from '../src/results/index.js';
import { allTables, type TableSchema, type TimeKind } from '../src/schema/index.js';
import { runCli } from './helpers/cli.js';

const SAMPLE: Record<TimeKind, [string, string]> = {
  unix_seconds: ['1598384396', '2020-08-25T19:39:56Z'],
  unix_milliseconds: ['1598384396000', '2020-08-25T19:39:56Z'],
  unix_microseconds: ['1598384396000000', '2020-08-25T19:39:56Z'],
  unix_days: ['18499', '2020-08-25'],
  windows_filetime: ['132428579960000000', '2020-08-25T19:39:56Z'],
  webkit_microseconds: ['13242857996000000', '2020-08-25T19:39:56Z'],
  cocoa_seconds: ['620077196', '2020-08-25T19:39:56Z'],
};

interface Score {
  tp: number;
  fp: number;
  fn: number;
  wrongKind: number;
  misses: string[];
  false: string[];
}

/** Feeds one row per (table, column set) through the pipeline's enricher without SQL and scores the dates. */
function score(sets: Array<{ table: TableSchema; columns: string[] }>): Score {
  const s: Score = { tp: 0, fp: 0, fn: 0, wrongKind: 0, misses: [], false: [] };
  for (const { table, columns } of sets) {
    const row: Record<string, string> = {};
    for (const c of columns) {
      const kind = table.columns.find((k) => k.name === c)!.time;
      row[c] = kind ? SAMPLE[kind][0] : '1598384396';
    }
    const e = new Enricher(planColumns(undefined, {}), { times: { format: 'utc', zone: 'UTC', keepEpoch: false }, users: null });
    const out = e.enrich({ host: 'h', rows: [{ ...row }] }).rows[0]!;
    for (const c of columns) {
      const kind = table.columns.find((k) => k.name === c)!.time;
      const converted = out[c] !== row[c];
      if (kind && converted) {
        if (out[c] === SAMPLE[kind][1]) s.tp++;
        else {
          s.wrongKind++;
          s.fp++;
          s.false.push(`${table.name}.${c} (wrong unit)`);
        }
      } else if (kind) {
        s.fn++;
        s.misses.push(`${table.name}.${c}`);
      } else if (converted) {
        s.fp++;
        s.false.push(`${table.name}.${c}`);
      }
    }
  }
  return s;
}

const precision = (s: Score) => s.tp / (s.tp + s.fp);
const recall = (s: Score) => s.tp / (s.tp + s.fn);
const withTime = allTables().filter((t) => t.columns.some((c) => c.time));
const visible = (t: TableSchema, platform?: string) =>
  t.columns.filter((c) => !c.hidden && (!platform || !c.platforms || c.platforms.includes(platform as never))).map((c) => c.name);

describe('date detection on rows without SQL (issue 15.1)', () => {
  it(`rows carrying every column SELECT * returns, over the ${withTime.length} tables with a time column: no date invented`, () => {
    const all = score(withTime.map((table) => ({ table, columns: visible(table) })));
    const perPlatform = score(
      withTime.flatMap((table) => table.platforms.filter((p) => p !== 'freebsd' && p !== 'chrome').map((p) => ({ table, columns: visible(table, p) }))),
    );
    // The figures quoted in the closing note: printed by `OSFLEET_DETECTION=1 npx vitest run test/dates-detection.test.ts`.
    if (process.env['OSFLEET_DETECTION']) {
      for (const [name, s] of [['all columns', all], ['per platform', perPlatform]] as const) {
        process.stderr.write(`${name}: precision ${precision(s).toFixed(3)} recall ${recall(s).toFixed(3)} (tp ${s.tp}, fp ${s.fp}, fn ${s.fn}) misses: ${s.misses.join(', ')}\n`);
      }
    }
    expect(all.false).toEqual([]);
    expect(perPlatform.false).toEqual([]);
    expect(precision(all)).toBe(1);
    expect(recall(all)).toBeGreaterThanOrEqual(0.95);
    expect(recall(perPlatform)).toBeGreaterThanOrEqual(0.95);
  });

  it('rows with a quarter of their columns dropped (a SELECT of some columns): still no date invented', () => {
    // Deterministic drop: every fourth column, starting at a per-table offset.
    const sets = withTime.map((table, i) => ({ table, columns: visible(table).filter((_, j) => (j + i) % 4 !== 0) }));
    const s = score(sets);
    if (process.env['OSFLEET_DETECTION']) process.stderr.write(`three quarters of the columns: precision ${precision(s).toFixed(3)} recall ${recall(s).toFixed(3)} (tp ${s.tp}, fp ${s.fp}, fn ${s.fn})\n`);
    expect(s.false).toEqual([]);
    expect(recall(s)).toBeGreaterThanOrEqual(0.9);
  });

  it('durations beside dates stay numbers: the processes and osquery_schedule rows of the issue', () => {
    const e = new Enricher(planColumns(undefined, {}), { times: { format: 'utc', zone: 'UTC', keepEpoch: false }, users: null });
    const procs = allTables().find((t) => t.name === 'processes')!;
    const row = Object.fromEntries(visible(procs).map((c) => [c, '650000000']));
    const out = e.enrich({ host: 'h', rows: [row] }).rows[0]!;
    for (const c of ['user_time', 'system_time', 'elapsed_time', 'percent_processor_time']) if (c in out) expect(out[c], c).toBe('650000000');
    expect(out['start_time']).toBe('1990-08-07T03:33:20Z');
  });
});

describe('through the real CLI, without SQL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'osfleet-detect-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fleetctl rows of shadow and curl: day counts become YYYY-MM-DD, durations stay, undecided columns are named once, the manifest says why', async () => {
    const input = join(dir, 'fleetctl.ndjson');
    writeFileSync(
      input,
      [
        { host: 'web1', rows: [{ username: 'alice', last_change: '18499', expire: '-1', min: '0', max: '99999', warning: '7', inactive: '-1', flag: '', password_status: 'active', hash_alg: 'SHA512' }] },
        { host: 'web1', rows: [{ url: 'https://x', method: 'GET', user_agent: 'osquery', response_code: '200', round_trip_time: '650000000', result: '', bytes: '10' }] },
        { host: 'web1', rows: [{ my_event_time: '1598384396', path: '/x' }] },
      ]
        .map((l) => JSON.stringify(l))
        .join('\n') + '\n',
    );
    const out = join(dir, 'out.csv');
    const r = await runCli(['export', input, '--format', 'csv', '--tz', 'America/Los_Angeles', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    const csv = readFileSync(out, 'utf8');
    expect(csv).toContain(',2020-08-25,');
    expect(csv).not.toContain('2020-08-24');
    expect(csv).toContain(',650000000,');
    expect(csv).toContain('1598384396');
    const lines = r.stderr.split('\n').filter((l) => l.includes('left as numbers'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('my_event_time');
    expect(lines[0]).toContain('--time-columns my_event_time');
    const m = JSON.parse(readFileSync(`${out}.manifest.json`, 'utf8')) as { columns: Array<{ column: string; conversion: string; because: string }> };
    const byName = Object.fromEntries(m.columns.map((c) => [c.column, c]));
    expect(byName['last_change']).toMatchObject({ conversion: 'unix_days -> date YYYY-MM-DD' });
    expect(byName['last_change']!.because).toContain('shadow');
    expect(byName['my_event_time']).toMatchObject({ conversion: 'none: left as sent' });
    expect(byName['round_trip_time']).toMatchObject({ conversion: 'none: left as sent' });
    // --time-columns converts it, and the same rules hold
    const r2 = await runCli(['export', input, '--format', 'csv', '--tz', 'UTC', '--time-columns', 'my_event_time']);
    expect(r2.stdout).toContain('2020-08-25T19:39:56+00:00');
    expect(r2.stderr).not.toContain('left as numbers');
  });
});
