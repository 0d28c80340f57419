/**
 * Issue 24.7: osfleet's schema follows the newest osquery release's table specs, and every time
 * column of those specs is converted as reviewed (test/fixtures/osquery-specs, derived from
 * osquery 5.23.1's specs/; origin and licence in the files' headers).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Enricher, planColumns } from '../src/results/index.js';
import { allTables, columnOf, getTable, OSQUERY_VERSION, timeKind } from '../src/schema/index.js';
import { repoRoot, runCli } from './helpers/cli.js';

const dir = join(repoRoot, 'test/fixtures/osquery-specs');
const data = (name: string) =>
  readFileSync(join(dir, name), 'utf8')
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'));

const specTables = new Map(data(`columns-${OSQUERY_VERSION}.txt`).map((l) => {
  const [t, ...cols] = l.split(' ');
  return [t!, cols];
}));
const timeRows = data(`time-columns-${OSQUERY_VERSION}.tsv`).map((l) => {
  const [table, column, type, kind, description] = l.split('\t') as [string, string, string, string, string];
  return { table, column, type, kind, description };
});

describe(`schema follows osquery ${OSQUERY_VERSION}`, () => {
  it('names the version it follows, and fixtures exist for it', () => {
    expect(OSQUERY_VERSION).toBe('5.23.1');
    expect(specTables.size).toBeGreaterThan(280);
  });

  it('knows every table and column of the specs, with the spec type', () => {
    const missing: string[] = [];
    for (const [t, cols] of specTables) {
      if (!getTable(t)) missing.push(t);
      else for (const c of cols) if (!columnOf(t, c)) missing.push(`${t}.${c}`);
    }
    expect(missing).toEqual([]);
    for (const r of timeRows) expect(columnOf(r.table, r.column)?.type, `${r.table}.${r.column}`).toBe(r.type);
  });

  it('converts exactly the reviewed time columns of the specs, each in its unit', () => {
    const wrong = timeRows.filter((r) => (timeKind(r.table, r.column) ?? '-') !== r.kind).map((r) => `${r.table}.${r.column}: ${timeKind(r.table, r.column) ?? '-'} != ${r.kind}`);
    expect(wrong).toEqual([]);
    // and no time column of a spec table that the review did not see
    const listed = new Set(timeRows.map((r) => `${r.table}.${r.column}`));
    const unseen = allTables()
      .filter((t) => specTables.has(t.name))
      .flatMap((t) => t.columns.filter((c) => c.time).map((c) => `${t.name}.${c.name}`))
      .filter((k) => !listed.has(k));
    expect(unseen).toEqual([]);
  });

  it('the results pipeline converts every one of them (and leaves the others as numbers) with --table', () => {
    const sample: Record<string, string> = {
      unix_seconds: '1598384396',
      unix_milliseconds: '1598384396000',
      unix_microseconds: '1598384396000000',
      unix_days: '18499',
      windows_filetime: '132428579960000000',
      webkit_microseconds: '13242857996000000',
      cocoa_seconds: '620077196',
    };
    for (const r of timeRows) {
      const raw = r.kind === '-' ? '1598384396' : sample[r.kind]!;
      const e = new Enricher(planColumns(undefined, { tables: [r.table] }), { times: { format: 'utc', zone: 'UTC', keepEpoch: false }, users: null });
      const out = e.enrich({ host: 'h', rows: [{ [r.column]: raw }] }).rows[0]![r.column];
      if (r.kind === '-') expect(out, `${r.table}.${r.column}`).toBe(raw);
      else expect(out, `${r.table}.${r.column}`).toBe(r.kind === 'unix_days' ? '2020-08-25' : '2020-08-25T19:39:56Z');
    }
  });

  it('wifi_networks.last_connected_automatic and last_connected_manual become dates through the CLI', async () => {
    const r = await runCli(['export', '-', '--table', 'wifi_networks', '--format', 'csv', '--tz', 'UTC'], {
      stdin: `${JSON.stringify({ host: 'mac', rows: [{ ssid: 'x', added_at: '1598384396', last_connected_automatic: '1598384397', last_connected_manual: '1598384398' }] })}\n`,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('2020-08-25T19:39:56+00:00');
    expect(r.stdout).toContain('2020-08-25T19:39:57+00:00');
    expect(r.stdout).toContain('2020-08-25T19:39:58+00:00');
    const v = await runCli(['schema', '--osquery-version']);
    expect(v.stdout).toMatch(/^osquery 5\.23\.1 table specs: \d+ tables, \d+ columns, \d+ of them points in time\n$/);
  });
});
