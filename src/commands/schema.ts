/**
 * `osfleet schema [TABLE] [--json] [--platform P]`: what osfleet knows of osquery's tables, offline.
 * Without a table: one line per table (platforms, column count, evented). With a table: its columns
 * with type, platforms, date kind, uid/gid, hidden/required and description. A terminal gets a
 * cli-table3 table; a pipe gets aligned plain text with no width-dependence; --json gets the data.
 * --platform (darwin, linux, windows, a Fleet name such as ubuntu, or a list) keeps the tables and
 * columns that exist on every platform it names.
 */
import type { Ctx } from '../context.js';
import { InputError, UsageError } from '../errors.js';
import { allTables, closestTables, getTable, OSQUERY_VERSION, platformsOf } from '../schema/index.js';
import type { ColumnSchema, Platform, TableSchema, TimeKind } from '../schema/index.js';

export interface SchemaOptions {
  table?: string | undefined;
  json?: boolean | undefined;
  platform?: string | undefined;
  /** --osquery-version: the osquery release the schema follows, and its counts */
  osqueryVersion?: boolean | undefined;
}

const TIME_LABEL: Record<TimeKind, string> = {
  unix_seconds: 'unix s',
  unix_milliseconds: 'unix ms',
  unix_microseconds: 'unix µs',
  unix_days: 'unix days',
  windows_filetime: 'FILETIME',
  webkit_microseconds: 'WebKit µs',
  cocoa_seconds: 'Cocoa s',
};

export async function run(opts: SchemaOptions, ctx: Ctx): Promise<number> {
  if (opts.osqueryVersion) {
    const tables = allTables();
    const cols = tables.flatMap((t) => t.columns);
    const info = { osquery: OSQUERY_VERSION, tables: tables.length, columns: cols.length, time_columns: cols.filter((c) => c.time).length };
    ctx.io.out(opts.json ? `${JSON.stringify(info)}\n` : `osquery ${info.osquery} table specs: ${info.tables} tables, ${info.columns} columns, ${info.time_columns} of them points in time\n`);
    return 0;
  }
  const platforms = wantedPlatforms(opts.platform);
  if (opts.table === undefined || opts.table === '') {
    const tables = allTables().filter((t) => platforms.every((p) => t.platforms.includes(p)));
    if (opts.json) {
      ctx.io.out(JSON.stringify(tables.map((t) => restrictColumns(t, platforms)), null, 2) + '\n');
      return 0;
    }
    const rows = tables.map((t) => [t.name, t.platforms.join(','), String(t.columns.length), t.evented ? 'evented' : '']);
    await render(ctx, ['TABLE', 'PLATFORMS', 'COLUMNS', 'EVENTED'], rows);
    return 0;
  }

  const table = getTable(opts.table);
  if (!table) {
    const close = suggestions(opts.table);
    throw new InputError(`unknown osquery table "${opts.table}"`, {
      hint: close.length > 0 ? `did you mean ${close.map((n) => `"${n}"`).join(', ')}?` : 'run `osfleet schema` to list the tables osfleet knows',
    });
  }
  const missing = platforms.filter((p) => !table.platforms.includes(p));
  if (missing.length > 0) {
    throw new InputError(`table "${table.name}" does not exist on ${missing.join(', ')} (only on ${table.platforms.join(', ')})`);
  }
  const shown = restrictColumns(table, platforms);
  if (opts.json) {
    ctx.io.out(JSON.stringify(shown, null, 2) + '\n');
    return 0;
  }
  const facts = [
    `${table.name}: ${table.description ?? ''}`.trimEnd(),
    `platforms: ${table.platforms.join(', ')}` +
      (table.evented ? '; evented (rows only while events are enabled)' : '') +
      (table.userData ? '; user data (JOIN users USING (uid) to cover every user)' : ''),
  ];
  ctx.io.out(facts.join('\n') + '\n\n');
  const rows = shown.columns.map((c) => [
    c.name,
    c.type,
    (c.platforms ?? table.platforms).join(','),
    c.time ? TIME_LABEL[c.time] : '',
    c.id ?? '',
    [c.hidden ? 'hidden' : '', c.required ? 'required' : ''].filter(Boolean).join(','),
    c.description ?? '',
  ]);
  await render(ctx, ['COLUMN', 'TYPE', 'PLATFORMS', 'DATE', 'ID', 'FLAGS', 'DESCRIPTION'], rows);
  return 0;
}

function wantedPlatforms(platform: string | undefined): Platform[] {
  if (platform === undefined) return [];
  const list = platformsOf(platform);
  if (platform.trim() === '' || list.length === 0) {
    throw new UsageError(`--platform: unknown platform "${platform}"`, 'use darwin, linux, windows (or a Fleet name such as ubuntu, rhel)');
  }
  return list;
}

function restrictColumns(t: TableSchema, platforms: Platform[]): TableSchema {
  if (platforms.length === 0) return t;
  const keep = (c: ColumnSchema) => platforms.every((p) => (c.platforms ?? t.platforms).includes(p));
  return { ...t, columns: t.columns.filter(keep) };
}

/** A table on a terminal; aligned columns (no width-dependence, no trailing spaces) when piped. */
async function render(ctx: Ctx, head: string[], rows: string[][]): Promise<void> {
  if (ctx.io.stdoutIsTTY) {
    ctx.io.out((await ttyTable(ctx, head, rows)) + '\n');
    return;
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  ctx.io.out([line(head), ...rows.map(line)].join('\n') + '\n');
}

// Loaded only for a terminal, so piped and --json output never pay for it.
async function ttyTable(ctx: Ctx, head: string[], rows: string[][]): Promise<string> {
  const { default: Table } = await import('cli-table3');
  const width = ctx.io.columns ?? 100;
  const last = head.length - 1;
  // Every column but the last gets what it needs; the last (descriptions) wraps in what is left.
  const natural = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)) + 2);
  const fixed = natural.slice(0, last).reduce((a, b) => a + b, 0) + head.length + 1;
  const colWidths = natural.map((w, i) => (i === last ? Math.max(20, Math.min(w, width - fixed)) : w));
  const table = new Table({
    head: head.map((h) => ctx.io.color.bold(h)),
    colWidths,
    wordWrap: true,
    style: { head: [], border: [] },
    // No rule between rows: hundreds of rows should stay readable.
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const r of rows) table.push(r);
  return table.toString();
}

/** Known table names within a small edit distance, or sharing a prefix/substring, best first. */
export function suggestions(name: string, limit = 3): string[] {
  return closestTables(name, limit);
}
