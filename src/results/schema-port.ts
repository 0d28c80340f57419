/**
 * The schema facts the result pipeline needs, in one place. Until `src/schema/` lands this holds a
 * minimal stand-in with the same names and shapes; afterwards it only re-exports, so the rest of
 * `src/results/` never changes when the schema does.
 */
import type { IdKind, TableSchema, TimeKind } from '../schema/types.js';

export interface OutputColumn {
  name: string;
  table?: string | undefined;
  column?: string | undefined;
}
export interface OutputDescription {
  /** null = SELECT * (columns known only from the rows) */
  columns: OutputColumn[] | null;
  tables: Array<{ name: string; alias?: string | undefined }>;
}

const T = (name: string, cols: Array<[string, TimeKind | IdKind | undefined]>): TableSchema => ({
  name,
  platforms: ['darwin', 'linux', 'windows'],
  columns: cols.map(([c, k]) =>
    k === 'uid' || k === 'gid' ? { name: c, type: 'BIGINT', id: k } : k ? { name: c, type: 'BIGINT', time: k } : { name: c, type: 'TEXT' },
  ),
});

const TABLES = new Map<string, TableSchema>(
  [
    T('users', [['uid', 'uid'], ['gid', 'gid'], ['username', undefined], ['directory', undefined]]),
    T('file_events', [['target_path', undefined], ['action', undefined], ['uid', 'uid'], ['gid', 'gid'], ['atime', 'unix_seconds'], ['mtime', 'unix_seconds'], ['ctime', 'unix_seconds'], ['time', 'unix_seconds'], ['size', undefined]]),
    T('file', [['path', undefined], ['uid', 'uid'], ['gid', 'gid'], ['atime', 'unix_seconds'], ['mtime', 'unix_seconds'], ['ctime', 'unix_seconds'], ['btime', 'unix_seconds'], ['size', undefined]]),
    T('cups_jobs', [['title', undefined], ['user', undefined], ['size', undefined], ['completed_time', 'unix_seconds'], ['processing_time', 'unix_seconds'], ['creation_time', 'unix_seconds']]),
    T('processes', [['pid', undefined], ['name', undefined], ['uid', 'uid'], ['euid', 'uid'], ['start_time', 'unix_seconds'], ['user_time', undefined], ['system_time', undefined], ['elapsed_time', undefined]]),
    T('process_events', [['pid', undefined], ['auid', 'uid'], ['uid', 'uid'], ['time', 'unix_seconds'], ['uptime', undefined]]),
    T('shadow', [['username', undefined], ['last_change', 'unix_days'], ['expire', 'unix_days'], ['min', undefined]]),
    T('time', [['unix_time', 'unix_seconds'], ['win_timestamp', 'windows_filetime'], ['year', undefined], ['hour', undefined]]),
    T('chrome_extensions', [['uid', 'uid'], ['install_time', 'webkit_microseconds'], ['install_timestamp', 'unix_seconds']]),
    T('prometheus_metrics', [['timestamp_ms', 'unix_milliseconds']]),
    T('uptime', [['total_seconds', undefined], ['days', undefined]]),
    T('last', [['username', undefined], ['time', 'unix_seconds'], ['type', undefined]]),
  ].map((t) => [t.name, t]),
);

export function getTable(name: string): TableSchema | undefined {
  return TABLES.get(name.toLowerCase());
}

export function timeKind(table: string, column: string): TimeKind | undefined {
  return getTable(table)?.columns.find((c) => c.name === column)?.time;
}

export function isIdColumn(table: string, column: string): IdKind | undefined {
  return getTable(table)?.columns.find((c) => c.name === column)?.id;
}

export function isLikelyTimeColumnName(name: string): boolean {
  return /^(time|atime|mtime|ctime|btime)$|_time$/.test(name);
}

export function isLikelyUidColumnName(name: string): boolean {
  return /^(uid|auid|euid|suid|fsuid|ouid|owner_uid|creator_uid)$/.test(name);
}

export function toUnixSeconds(kind: TimeKind, raw: string): number | undefined {
  const v = Number(raw);
  if (raw === '' || !Number.isFinite(v)) return undefined;
  switch (kind) {
    case 'unix_seconds':
      return v;
    case 'unix_milliseconds':
      return v / 1e3;
    case 'unix_microseconds':
      return v / 1e6;
    case 'unix_days':
      return v * 86400;
    case 'windows_filetime':
      return v / 1e7 - 11644473600;
    case 'webkit_microseconds':
      return v / 1e6 - 11644473600;
    case 'cocoa_seconds':
      return v + 978307200;
  }
}

/** A small SELECT reader: enough for `SELECT a, t.b AS c FROM x t JOIN y USING (...)`. */
export function describeOutput(sql: string): OutputDescription {
  const m = /^\s*select\s+(?:distinct\s+)?([\s\S]*?)\s+from\s+([\s\S]*?)(?:\s+where\s|\s+group\s+by\s|\s+order\s+by\s|\s+limit\s|;|$)/i.exec(sql);
  if (!m) return { columns: null, tables: [] };
  const tables: OutputDescription['tables'] = [];
  const fromRe = /(?:^|,|\bjoin\b)\s*([A-Za-z_][\w]*)(?:\s+(?:as\s+)?(?!on\b|using\b|join\b|left\b|inner\b|cross\b|natural\b)([A-Za-z_]\w*))?/gi;
  for (const f of m[2]!.matchAll(fromRe)) tables.push({ name: f[1]!.toLowerCase(), ...(f[2] ? { alias: f[2] } : {}) });
  const items = m[1]!.split(',').map((s) => s.trim());
  if (items.some((i) => i === '*' || i.endsWith('.*'))) return { columns: null, tables };
  const columns = items.map((item) => {
    const as = /^(.*?)\s+(?:as\s+)?([A-Za-z_]\w*)$/i.exec(item);
    const expr = as ? as[1]!.trim() : item;
    const ref = /^(?:([A-Za-z_]\w*)\.)?([A-Za-z_]\w*)$/.exec(expr);
    const name = as ? as[2]! : (ref ? ref[2]! : expr);
    if (!ref) return { name };
    const qual = ref[1];
    const table = qual ? (tables.find((t) => t.alias === qual || t.name === qual)?.name ?? qual) : tables.length === 1 ? tables[0]!.name : undefined;
    return { name, table, column: ref[2]! };
  });
  return { columns, tables };
}
