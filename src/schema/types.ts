/** What osfleet knows of an osquery table. One source of truth for lint, query preflight and results. */

export type Platform = 'darwin' | 'linux' | 'windows' | 'freebsd' | 'chrome';
export const PLATFORMS: readonly Platform[] = ['darwin', 'linux', 'windows', 'freebsd', 'chrome'];

/** How a column encodes a point in time (never durations, uptimes or calendar parts). */
export type TimeKind =
  | 'unix_seconds' // seconds since 1970
  | 'unix_milliseconds'
  | 'unix_microseconds'
  | 'unix_days' // days since 1970
  | 'windows_filetime' // 100 ns ticks since 1601
  | 'webkit_microseconds' // microseconds since 1601 (Chrome)
  | 'cocoa_seconds'; // seconds since 2001 (macOS CFAbsoluteTime)

export type IdKind = 'uid' | 'gid';

export type ColumnType = 'TEXT' | 'INTEGER' | 'BIGINT' | 'UNSIGNED_BIGINT' | 'DOUBLE' | 'BLOB' | 'DATETIME';

export interface ColumnSchema {
  name: string;
  type: ColumnType;
  /** Platforms where the column exists; undefined = every platform of the table. */
  platforms?: Platform[];
  /** Set when the column is a point in time. */
  time?: TimeKind;
  /** Set when the column is a user or group id (host-local: joined to users/groups per host). */
  id?: IdKind;
  hidden?: boolean;
  /** Must be constrained in WHERE (osquery "required"). */
  required?: boolean;
  description?: string;
}

export interface TableSchema {
  name: string;
  platforms: Platform[];
  /** Evented tables only return what the agent buffered while events were enabled. */
  evented?: boolean;
  /** Returns only the querying user's data unless uid is constrained. */
  userData?: boolean;
  description?: string;
  columns: ColumnSchema[];
}
