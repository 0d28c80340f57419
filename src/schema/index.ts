/**
 * osfleet's osquery schema: the one place lint, query preflight and the results pipeline learn which
 * tables exist where, and which columns are points in time (and in which unit) or user/group ids.
 * Pure and cheap to import: the table data is one JSON text per table, parsed at its first lookup.
 */
import { editDistance } from '../edit-distance.js';
import { TABLE_JSON, OSQUERY_VERSION } from './tables.generated.js';

/** The osquery release whose table specs osfleet's schema follows. */
export { OSQUERY_VERSION };
import { describeOutputWith, tablesInSql, tableNamesInSql, tokenize } from './sql.js';
import type { OutputColumn, OutputDescription } from './sql.js';
import type { ColumnSchema, IdKind, Platform, TableSchema, TimeKind } from './types.js';

export type { ColumnSchema, IdKind, Platform, TableSchema, TimeKind } from './types.js';
export { PLATFORMS } from './types.js';
export type { OutputColumn, OutputDescription, TableRef, SchemaLookup } from './sql.js';
export { tablesInSql, tableNamesInSql } from './sql.js';

/** The table, case-insensitively; undefined when osfleet does not know it. */
export function getTable(name: string): TableSchema | undefined {
  if (typeof name !== 'string') return undefined;
  const key = name.trim().toLowerCase();
  if (!Object.hasOwn(TABLE_JSON, key)) return undefined;
  let table = parsed.get(key);
  if (!table) {
    table = JSON.parse(TABLE_JSON[key]!) as TableSchema;
    parsed.set(key, table);
  }
  return table;
}

/** Each table parsed once, at its first lookup: one object per table (columnsOf keys on it). */
const parsed = new Map<string, TableSchema>();

let sorted: TableSchema[] | undefined;
/** Every known table, sorted by name. */
export function allTables(): TableSchema[] {
  sorted ??= Object.keys(TABLE_JSON)
    .sort()
    .map((k) => getTable(k)!);
  return sorted.slice();
}

/** Up to `limit` known table names closest to `name` (edit distance, or one containing the other). */
export function closestTables(name: string, limit = 3): string[] {
  const target = name.trim().toLowerCase();
  if (!target) return [];
  const scored: Array<[number, string]> = [];
  for (const t of allTables()) {
    const d = editDistance(target, t.name);
    const related = t.name.includes(target) || (target.length >= 4 && target.includes(t.name));
    const bound = Math.max(2, Math.floor(target.length / 3));
    if (d <= bound || related) scored.push([related ? Math.min(d, bound) : d, t.name]);
  }
  scored.sort((a, b) => a[0] - b[0] || a[1].localeCompare(b[1]));
  return scored.slice(0, limit).map(([, n]) => n);
}


/** Platforms the table exists on; undefined for an unknown table. */
export function tablePlatforms(name: string): Platform[] | undefined {
  return getTable(name)?.platforms.slice();
}

const columnMaps = new WeakMap<TableSchema, Map<string, ColumnSchema>>();
function columnsOf(t: TableSchema): Map<string, ColumnSchema> {
  let m = columnMaps.get(t);
  if (!m) {
    m = new Map(t.columns.map((c) => [c.name.toLowerCase(), c]));
    columnMaps.set(t, m);
  }
  return m;
}

/** The column of a known table, both names case-insensitive (as in SQLite). */
export function columnOf(table: string, column: string): ColumnSchema | undefined {
  const t = getTable(table);
  if (!t || typeof column !== 'string') return undefined;
  return columnsOf(t).get(column.toLowerCase());
}

/** Platforms a column exists on: its own list, else its table's. */
export function columnPlatforms(table: string, column: string): Platform[] | undefined {
  const t = getTable(table);
  const c = columnOf(table, column);
  if (!t || !c) return undefined;
  return (c.platforms ?? t.platforms).slice();
}

/**
 * How the column encodes a point in time, from the schema; undefined for durations, uptimes,
 * calendar parts, text dates, non-time columns and unknown tables or columns (for those, see
 * isLikelyTimeColumnName).
 */
export function timeKind(table: string, column: string): TimeKind | undefined {
  return columnOf(table, column)?.time;
}

/** 'uid' or 'gid' when the schema says the column is a user or group id. */
export function idKind(table: string, column: string): IdKind | undefined {
  return columnOf(table, column)?.id;
}

/** True when the schema says the column holds a user or group id (host-local, joined per host). */
export function isIdColumn(table: string, column: string): boolean {
  return idKind(table, column) !== undefined;
}

/** True when the schema says the column holds a user id (joins to users.uid). */
export function isUidColumn(table: string, column: string): boolean {
  return idKind(table, column) === 'uid';
}

/**
 * The name rule for tables osfleet does not know: `time`, `*_time`, `atime`/`mtime`/`ctime`/`btime`.
 * A name is only a hint: the caller must also check that the value is a plausible epoch.
 */
export function isLikelyTimeColumnName(name: string): boolean {
  if (typeof name !== 'string') return false;
  const n = name.toLowerCase();
  return n === 'time' || (n.endsWith('_time') && n.length > 5) || ['atime', 'mtime', 'ctime', 'btime'].includes(n);
}

const UID_NAMES = new Set(['uid', 'auid', 'euid', 'suid', 'fsuid', 'ouid', 'uid_signed', 'owner_uid', 'creator_uid']);
const GID_NAMES = new Set(['gid', 'egid', 'sgid', 'fsgid', 'gid_signed', 'owner_gid']);

/** osquery.md §4.3's names of user-id columns (the rule the schema's own id marks follow). */
export function isLikelyUidColumnName(name: string): boolean {
  return typeof name === 'string' && UID_NAMES.has(name.toLowerCase());
}

/** osquery.md §4.3's names of group-id columns. */
export function isLikelyGidColumnName(name: string): boolean {
  return typeof name === 'string' && GID_NAMES.has(name.toLowerCase());
}

// ---------------------------------------------------------------------------------------------
// Time conversion

/** Seconds from 1601-01-01 (Windows FILETIME and WebKit epoch) to 1970-01-01. */
const EPOCH_1601 = 11_644_473_600;
/** Seconds from 1970-01-01 to 2001-01-01 (Cocoa / CFAbsoluteTime epoch). */
const EPOCH_2001 = 978_307_200;
const NUMERIC = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/**
 * UNIX seconds (possibly fractional) for a raw osquery value of the given kind; undefined for an
 * empty or non-numeric value and for 0 and -1, which osquery tables use for "unknown".
 */
export function toUnixSeconds(kind: TimeKind, raw: string): number | undefined {
  if (typeof raw !== 'string' && typeof raw !== 'number') return undefined;
  const s = String(raw).trim();
  if (!NUMERIC.test(s)) return undefined;
  const n = Number(s);
  if (!Number.isFinite(n) || n === 0 || n === -1) return undefined;
  let secs: number;
  switch (kind) {
    case 'unix_seconds':
      secs = n;
      break;
    case 'unix_milliseconds':
      secs = n / 1e3;
      break;
    case 'unix_microseconds':
      secs = n / 1e6;
      break;
    case 'unix_days':
      secs = n * 86_400;
      break;
    case 'windows_filetime':
      secs = n / 1e7 - EPOCH_1601;
      break;
    case 'webkit_microseconds':
      secs = n / 1e6 - EPOCH_1601;
      break;
    case 'cocoa_seconds':
      secs = n + EPOCH_2001;
      break;
    default:
      return undefined;
  }
  return Number.isFinite(secs) ? secs : undefined;
}

// ---------------------------------------------------------------------------------------------
// Platforms

const ALL: Platform[] = ['darwin', 'linux', 'windows'];
/** Linux distribution names Fleet reports as a host's platform. */
const FLEET_LINUX = [
  'linux', 'ubuntu', 'centos', 'rhel', 'debian', 'fedora', 'amzn', 'arch', 'manjaro', 'opensuse', 'suse', 'sles',
  'gentoo', 'kali', 'pop', 'mint', 'rocky', 'alma', 'oracle', 'ol', 'nixos', 'raspbian',
];

/**
 * The platforms a Fleet or osquery platform string covers. 'osquery' mode is the agent's own
 * substring rule (osquery.md §2.2): `any`/`all` → every platform; `linux`/`ubuntu`/`centos` →
 * linux; `posix` → linux and darwin; `darwin`; `windows`; comma lists work because of the
 * substring rule; anything else matches nothing. 'fleet' mode (the default) also knows the Linux
 * distribution names Fleet gives hosts (`rhel`, `debian`, `amzn`, …), token by token.
 * An empty or missing string means "no restriction": every platform.
 */
export function platformsOf(platform: string | undefined | null, mode: 'fleet' | 'osquery' = 'fleet'): Platform[] {
  if (platform === undefined || platform === null) return ALL.slice();
  const s = String(platform).toLowerCase().trim();
  if (s === '') return ALL.slice();
  if (s.includes('any') || s.includes('all')) return ALL.slice();
  const set = new Set<Platform>();
  if (s.includes('posix')) {
    set.add('darwin');
    set.add('linux');
  }
  if (s.includes('linux') || s.includes('ubuntu') || s.includes('centos')) set.add('linux');
  if (s.includes('darwin')) set.add('darwin');
  if (s.includes('windows')) set.add('windows');
  if (s.includes('freebsd')) set.add('freebsd');
  if (mode === 'fleet') {
    for (const token of s.split(/[\s,]+/)) {
      // Fleet names some distributions with a variant suffix: opensuse-leap, opensuse-tumbleweed.
      if (FLEET_LINUX.some((d) => token === d || token.startsWith(`${d}-`))) set.add('linux');
      if (token === 'macos' || token === 'mac') set.add('darwin');
      if (token === 'chrome' || token === 'chromeos') set.add('chrome');
    }
  }
  return ['darwin', 'linux', 'windows', 'freebsd', 'chrome'].filter((p) => set.has(p as Platform)) as Platform[];
}

/** For each known table the SQL reads, the targeted platforms it does not exist on (tables missing nowhere are left out). */
export function tablesMissingOnEach(sql: string, platforms: readonly Platform[]): Array<{ table: string; missing: Platform[] }> {
  const out: Array<{ table: string; missing: Platform[] }> = [];
  for (const name of tableNamesInSql(sql)) {
    const t = getTable(name);
    if (!t) continue;
    const missing = platforms.filter((p) => !t.platforms.includes(p));
    if (missing.length > 0) out.push({ table: t.name, missing });
  }
  return out;
}

/**
 * Known tables in the SQL that do not exist on (some of) the platforms a platform string covers,
 * e.g. `tablesMissingOn('SELECT * FROM cups_jobs', 'linux')` → ['cups_jobs']. Tables osfleet does
 * not know are not reported here (lint reports those).
 */
export function tablesMissingOn(sql: string, platform: Platform | string): string[] {
  return tablesMissingOnEach(sql, platformsOf(platform)).map((m) => m.table);
}

/**
 * Columns the SQL names (anywhere: select list, WHERE, ORDER BY…) that exist only on some
 * platforms of their table, with the targeted platforms they are missing on — e.g.
 * `processes.elapsed_time` (Windows only) in a query sent to Linux hosts fails there with
 * "no such column". A name is attributed only when exactly one table of the query has it (or it is
 * qualified); names of unknown tables, aliases and functions are left alone.
 */
export function columnsMissingOnEach(
  sql: string,
  platforms: readonly Platform[],
): Array<{ table: string; column: string; missing: Platform[] }> {
  const refs = tablesInSql(sql);
  const byQualifier = new Map<string, TableSchema>();
  const tables: TableSchema[] = [];
  for (const r of refs) {
    const t = getTable(r.name);
    if (!t) continue;
    if (!tables.includes(t)) tables.push(t);
    byQualifier.set((r.alias ?? r.name).toLowerCase(), t);
    if (!r.alias) byQualifier.set(r.name, t);
  }
  const out: Array<{ table: string; column: string; missing: Platform[] }> = [];
  const seen = new Set<string>();
  const toks = tokenize(typeof sql === 'string' ? sql : '');
  toks.forEach((tok, k) => {
    if (tok.kind !== 'id' && tok.kind !== 'qid') return;
    const next = toks[k + 1];
    const prev = toks[k - 1];
    if (next && next.kind === 'op' && (next.v === '(' || next.v === '.')) return;
    // `pid AS upid` names an output, not processes.upid.
    if (prev && prev.kind === 'id' && prev.v === 'AS') return;
    let owner: TableSchema | undefined;
    let col: ColumnSchema | undefined;
    if (prev && prev.kind === 'op' && prev.v === '.') {
      const q = toks[k - 2];
      owner = q ? byQualifier.get(q.text.toLowerCase()) : undefined;
      col = owner ? columnsOf(owner).get(tok.text.toLowerCase()) : undefined;
    } else {
      const having = tables.filter((t) => columnsOf(t).has(tok.text.toLowerCase()));
      if (having.length !== 1) return;
      owner = having[0]!;
      col = columnsOf(owner).get(tok.text.toLowerCase());
    }
    if (!owner || !col || !col.platforms) return;
    const missing = platforms.filter((p) => owner.platforms.includes(p) && !col.platforms!.includes(p));
    const key = `${owner.name}.${col.name}`;
    if (missing.length > 0 && !seen.has(key)) {
      seen.add(key);
      out.push({ table: owner.name, column: col.name, missing });
    }
  });
  return out;
}

/**
 * Tables of the SQL with required columns (osquery's `required=True`, e.g. file and hash need a
 * path or directory) none of which the query constrains, so osquery returns nothing for them. A
 * column counts as constrained when its name appears in a WHERE, ON or USING part (qualified by the
 * table's alias or name, or bare). Lenient on purpose: one required column is enough.
 */
export function unconstrainedRequired(sql: string): Array<{ table: string; alias?: string; required: string[] }> {
  const toks = tokenize(typeof sql === 'string' ? sql : '');
  // Names seen in constraint positions: from WHERE/ON/USING up to the next clause word.
  const constrained = new Set<string>();
  const stops = new Set(['SELECT', 'FROM', 'GROUP', 'ORDER', 'LIMIT', 'UNION', 'INTERSECT', 'EXCEPT', 'JOIN', 'WINDOW', 'HAVING']);
  let inside = false;
  toks.forEach((t, k) => {
    if (t.kind === 'id' && (t.v === 'WHERE' || t.v === 'ON' || t.v === 'USING')) inside = true;
    else if (t.kind === 'id' && stops.has(t.v)) inside = false;
    else if (inside && (t.kind === 'id' || t.kind === 'qid')) {
      const prev = toks[k - 1];
      const q = prev && prev.kind === 'op' && prev.v === '.' ? toks[k - 2]?.text.toLowerCase() : undefined;
      constrained.add(`${q ?? ''}.${t.text.toLowerCase()}`);
    }
  });
  const out: Array<{ table: string; alias?: string; required: string[] }> = [];
  for (const ref of tablesInSql(sql)) {
    const t = getTable(ref.name);
    const required = t?.columns.filter((c) => c.required).map((c) => c.name) ?? [];
    if (!t || required.length === 0) continue;
    const quals = ['', (ref.alias ?? ref.name).toLowerCase()];
    const ok = required.some((c) => quals.some((q) => constrained.has(`${q}.${c.toLowerCase()}`)));
    if (!ok) out.push({ table: t.name, ...(ref.alias !== undefined ? { alias: ref.alias } : {}), required });
  }
  return out;
}

/** Tables in the SQL that osfleet's schema does not know (CTE names excluded). */
export function unknownTablesIn(sql: string): string[] {
  return tableNamesInSql(sql).filter((n) => !getTable(n));
}

/**
 * The output columns of the query (outermost SELECT) with their source table and column, resolved
 * against osfleet's schema. See sql.ts.
 */
export function describeOutput(sql: string): OutputDescription {
  return describeOutputWith(sql, getTable);
}

/**
 * The time kind of a column named `column` in a result whose source table is not known (the
 * `SELECT *` case): the kind the FROM tables having such a column agree on, else undefined.
 */
export function timeKindInTables(tables: ReadonlyArray<{ name: string }>, column: string): TimeKind | undefined {
  return agreed(tables, column, (c) => c.time);
}

/** Like timeKindInTables, for uid/gid columns. */
export function idKindInTables(tables: ReadonlyArray<{ name: string }>, column: string): IdKind | undefined {
  return agreed(tables, column, (c) => c.id);
}

/** What osfleet knows of one output column of a query, for date and username enrichment. */
export interface ColumnKinds {
  time?: TimeKind;
  id?: IdKind;
  /** The schema column it comes from, when known. */
  table?: string;
  column?: string;
  /**
   * True when the kinds come from the name rule (isLikelyTimeColumnName / isLikelyUidColumnName)
   * because no known table has the column: convert only values that look plausible.
   */
  guessed?: boolean;
}

/**
 * A lookup from the output column names of `sql` (or the keys of its rows) to their time and id
 * kinds, in the order of precedence the results pipeline needs:
 * 1. a bare column resolved to a known table (describeOutput) → that column's schema facts;
 * 2. otherwise the FROM tables that have a column of that name, when they agree (the `*` case);
 * 3. otherwise, when a FROM table is one osfleet does not know, the name rule, marked `guessed`.
 * Expressions (`count(*)`, `datetime(time, 'unixepoch') AS t`) get nothing unless rule 3 applies.
 */
export function columnKinds(sql: string): (name: string) => ColumnKinds {
  const out = describeOutput(sql);
  const byName = new Map<string, OutputColumn>();
  for (const c of out.columns ?? []) {
    if (!byName.has(c.name)) byName.set(c.name, c);
    if (!byName.has(c.name.toLowerCase())) byName.set(c.name.toLowerCase(), c);
  }
  const unknownTable = out.tables.some((t) => !getTable(t.name));
  const cache = new Map<string, ColumnKinds>();
  const compute = (name: string): ColumnKinds => {
    const oc = byName.get(name) ?? byName.get(name.toLowerCase());
    if (oc?.table && oc.column) {
      const c = columnOf(oc.table, oc.column);
      return { table: oc.table, column: oc.column, ...(c?.time ? { time: c.time } : {}), ...(c?.id ? { id: c.id } : {}) };
    }
    // Look a name up in the FROM tables only for `*` keys: an output column without a source is
    // an expression (count(*) AS uid is not a uid) or an ambiguous reference.
    const known = oc ? [] : out.tables.map((t) => columnOf(t.name, name)).filter((c): c is ColumnSchema => c !== undefined);
    if (known.length > 0) {
      const time = timeKindInTables(out.tables, name);
      const id = idKindInTables(out.tables, name);
      return { ...(time ? { time } : {}), ...(id ? { id } : {}) };
    }
    if (unknownTable || out.tables.length === 0) {
      if (isLikelyTimeColumnName(name)) return { time: 'unix_seconds', guessed: true };
      if (isLikelyUidColumnName(name)) return { id: 'uid', guessed: true };
      if (isLikelyGidColumnName(name)) return { id: 'gid', guessed: true };
    }
    return {};
  };
  return (name: string) => {
    let k = cache.get(name);
    if (!k) {
      k = compute(name);
      cache.set(name, k);
    }
    return k;
  };
}

/** What the schema says of one column of rows whose SQL is unknown, from the rows' own keys. */
export interface InferredTime {
  /** The time kind, when the schema's tables agree on one. */
  kind?: TimeKind;
  /** false when the tables disagree or none has the column: the meaning is unknown. */
  decided: boolean;
  because: string;
}

let byColumnName: Map<string, TableSchema[]> | undefined;
function tablesWithColumn(name: string): TableSchema[] {
  if (!byColumnName) {
    byColumnName = new Map();
    for (const t of allTables()) {
      for (const c of t.columns) {
        const k = c.name.toLowerCase();
        let list = byColumnName.get(k);
        if (!list) byColumnName.set(k, (list = []));
        list.push(t);
      }
    }
  }
  return byColumnName.get(name.toLowerCase()) ?? [];
}

const listed = (names: string[], max = 4) => (names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${names.length - max} more`);

/**
 * The time kind of each key of a row with no SQL and no table named (fleetctl's output), from
 * osquery's schema and nothing else:
 * 1. the tables that have every key of the row (one table, or aliases and look-alikes): a key is a
 *    time when all of them say so, in the same unit, and not one when none does;
 * 2. when no table has all the keys (a JOIN, expressions, an extension table), a key is a time when
 *    every table of the schema that has a column of that name has it as a time of the same kind.
 * Anything else is undecided: never a guess from the name alone.
 */
export function inferTimeKinds(keys: readonly string[]): Map<string, InferredTime> {
  const out = new Map<string, InferredTime>();
  const lower = keys.map((k) => k.toLowerCase());
  const first = lower.length > 0 ? tablesWithColumn(lower[0]!) : [];
  const candidates = first.filter((t) => lower.every((k) => columnsOf(t).has(k)));
  const names = (ts: TableSchema[]) => listed(ts.map((t) => t.name));
  keys.forEach((key, i) => {
    const k = lower[i]!;
    if (candidates.length > 0) {
      const kinds = candidates.map((t) => columnsOf(t).get(k)!.time);
      const one = kinds[0];
      if (kinds.every((x) => x === one)) {
        const why = candidates.length === 1 ? `the row's columns identify ${candidates[0]!.name}` : `the row's columns fit ${names(candidates)}, which agree`;
        out.set(key, one ? { kind: one, decided: true, because: `${why}: ${one}` } : { decided: true, because: `${why}: not a point in time` });
        return;
      }
      out.set(key, { decided: false, because: `the tables the row's columns fit (${names(candidates)}) disagree on ${key}` });
      return;
    }
    const having = tablesWithColumn(k);
    if (having.length === 0) {
      out.set(key, { decided: false, because: 'no osquery table has this column' });
      return;
    }
    const kinds = having.map((t) => columnsOf(t).get(k)!.time);
    const one = kinds[0];
    if (kinds.every((x) => x === one)) {
      out.set(key, one ? { kind: one, decided: true, because: `every osquery table with a column ${key} has it as ${one} (${names(having)})` } : { decided: true, because: `no osquery table has ${key} as a point in time` });
      return;
    }
    out.set(key, { decided: false, because: `osquery tables with a column ${key} disagree on its meaning (${names(having)})` });
  });
  return out;
}

/** A name that reads like a time (the schema has it as one somewhere, or the name rule matches): worth a word when left as a number. */
export function looksLikeTime(name: string): boolean {
  return isLikelyTimeColumnName(name) || tablesWithColumn(name).some((t) => columnsOf(t).get(name.toLowerCase())!.time !== undefined);
}

function agreed<T>(tables: ReadonlyArray<{ name: string }>, column: string, pick: (c: ColumnSchema) => T | undefined): T | undefined {
  const kinds = tables.map((t) => columnOf(t.name, column)).filter((c): c is ColumnSchema => c !== undefined).map(pick);
  const first = kinds[0];
  return first !== undefined && kinds.every((k) => k === first) ? first : undefined;
}
