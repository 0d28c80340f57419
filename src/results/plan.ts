/**
 * Which output columns are points in time (and of what kind) and which are uids, decided from the
 * SQL and the schema; a conservative name rule covers tables the schema does not know.
 */
import type { TimeKind } from '../schema/types.js';
import {
  describeOutput,
  getTable,
  isUidColumn,
  isLikelyUidColumnName,
  looksLikeTime,
  timeKind,
} from '../schema/index.js';

export interface TimeColumn {
  kind: TimeKind;
  /** Found by name only: converted only when the value is a plausible date. */
  guessed: boolean;
  /** Why the column is a time of this kind, for the manifest (`schema: cups_jobs.creation_time`, `--time-columns`). */
  because?: string | undefined;
}

export interface ColumnPlan {
  /** The output columns in SELECT order, or null when only the rows will tell (SELECT *, unknown SQL). */
  select: string[] | null;
  /** Tables named in FROM/JOIN (or given with --table). */
  tables: string[];
  times: Map<string, TimeColumn>;
  /** uid column -> the username column added beside it */
  uids: Map<string, string>;
  /** Columns the schema knows are neither: the name rule must not touch them. */
  plain: Set<string>;
  /** Whether uid columns not decided above go through the name rule when they show up in rows. */
  guess: boolean;
  /**
   * No SQL and no table: the time columns are inferred from each row's own column set against
   * osquery's schema (schema/inferTimeKinds), never from a name alone.
   */
  infer: boolean;
  /** Columns that read like times whose meaning the schema does not give, with why (left as numbers). */
  undecided: Map<string, string>;
}

export interface PlanOptions {
  /** Tables the rows came from when there is no SQL (export --table). */
  tables?: string[] | undefined;
  /** --time-columns: also convert these (as UNIX seconds unless the schema says otherwise). */
  timeColumns?: string[] | undefined;
}

/** The column beside a uid column that holds the name: `username` for `uid`, else `<col>_username`. */
export function usernameColumnFor(column: string, taken: ReadonlySet<string>): string {
  if (column === 'uid' && !taken.has('username')) return 'username';
  return `${column}_username`;
}

/** The users table's own uid is the key, not a reference: its names are already in the row. */
const SELF_NAMED = new Set(['users']);

export function planColumns(sql: string | undefined, opts: PlanOptions = {}): ColumnPlan {
  const described = sql ? describeOutput(sql) : { columns: null, tables: [] as Array<{ name: string }> };
  const tables = [...new Set([...described.tables.map((t) => t.name.toLowerCase()), ...(opts.tables ?? []).map((t) => t.toLowerCase())])];
  const times = new Map<string, TimeColumn>();
  const undecided = new Map<string, string>();
  const uidCols: string[] = [];
  const plain = new Set<string>();
  const known = tables.map((t) => getTable(t)).filter((t) => t !== undefined);

  // The name rule is for tables the schema does not know: with only known tables in FROM, an
  // output column without a source is an expression (count(*) AS uid is no uid).
  const someUnknown = tables.length === 0 || known.length < tables.length;
  const decide = (name: string, table: string | undefined, column: string | undefined, byName = someUnknown) => {
    const schema = table ? getTable(table) : undefined;
    if (schema && column !== undefined) {
      const kind = timeKind(schema.name, column);
      if (kind) times.set(name, { kind, guessed: false, because: `schema: ${schema.name}.${column}` });
      else if (isUidColumn(schema.name, column)) {
        if (!SELF_NAMED.has(schema.name)) uidCols.push(name);
      } else plain.add(name);
      return;
    }
    // Dates only where the schema gives the meaning: a time-like name from elsewhere is named, not converted.
    if (looksLikeTime(name)) {
      undecided.set(name, tables.length > 0 ? `not a column osquery's schema gives for ${tables.join(', ')} (an expression, or a table it does not know)` : 'its source is unknown');
      return;
    }
    if (!byName) return;
    if (isLikelyUidColumnName(name)) uidCols.push(name);
  };

  let select: string[] | null = null;
  let guess = true;
  if (described.columns) {
    select = described.columns.map((c) => c.name);
    for (const c of described.columns) {
      // A bare column with several tables in FROM: the first table that has it.
      const table = c.table ?? (c.column ? known.find((t) => t.columns.some((k) => k.name === c.column))?.name : undefined);
      decide(c.name, table, c.column);
    }
    guess = false;
  } else {
    // SELECT * (or no SQL): every column of the known tables; the name rule for the rest.
    const seen = new Set<string>();
    for (const t of known) {
      for (const col of t.columns) {
        if (seen.has(col.name)) {
          // The same name from a second table (JOIN ... USING): keep a time/uid meaning if either has one.
          if (plain.has(col.name) && (col.time || col.id === 'uid')) plain.delete(col.name);
          else continue;
        }
        seen.add(col.name);
        decide(col.name, t.name, col.name);
      }
    }
    // A uid column shared with users (JOIN users USING (uid)) already has its name in the row.
    if (known.some((t) => SELF_NAMED.has(t.name))) {
      for (let i = uidCols.length - 1; i >= 0; i--) {
        const n = uidCols[i]!;
        if (known.some((t) => SELF_NAMED.has(t.name) && t.columns.some((c) => c.name === n))) uidCols.splice(i, 1);
      }
    }
    guess = true;
  }

  for (const extra of opts.timeColumns ?? []) {
    const existing = times.get(extra);
    undecided.delete(extra);
    times.set(extra, { kind: existing?.kind ?? 'unix_seconds', guessed: false, because: existing?.because ? `--time-columns; ${existing.because}` : '--time-columns (as UNIX seconds)' });
    plain.delete(extra);
  }

  const taken = new Set<string>([...(select ?? []), ...known.flatMap((t) => t.columns.map((c) => c.name))]);
  const uids = new Map<string, string>();
  for (const c of uidCols) uids.set(c, usernameColumnFor(c, taken));
  return { select, tables, times, uids, plain, guess, infer: !sql && tables.length === 0, undecided };
}
