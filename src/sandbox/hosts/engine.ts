/**
 * The SQL side of a simulated host: an in-memory SQLite database holding one host's (or one
 * template's) osquery tables, and a runner that answers like osquery's distributed query
 * code does — rows with every value a string, or status 1 and SQLite's own error text.
 */
import Database from 'better-sqlite3';
import type { HostData, SimRow, Value } from './builders.js';
import type { SimPlatform } from './schema.js';
import { columnsOn, tablesOn } from './schema.js';

export type AnswerRow = Record<string, string>;

export interface QueryAnswer {
  status: number;
  rows: AnswerRow[];
  message: string;
}

/** The identity-bearing rows of whichever host is being answered for right now. */
export interface IdentityRows {
  systemInfo: SimRow;
  osqueryInfo: SimRow;
  /** Seconds of uptime at `since` (UNIX seconds); uptime grows with the clock from there. */
  uptimeBase: number;
  since: number;
}

/** Tables whose rows differ between hosts sharing a template; never part of the shared data. */
export const IDENTITY_TABLES = ['system_info', 'osquery_info', 'uptime'] as const;

const READONLY_MESSAGE = 'attempt to write a readonly database';
/**
 * osquery's watchdog kills a worker that runs away; here a runaway result (say, an unbounded
 * recursive CTE) is cut off at this many rows so one query cannot take the sandbox down.
 */
export const MAX_ROWS = 100_000;
const STATEMENT_CACHE = 64;

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function stringifyValue(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return String(v);
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return String(v);
}

export class HostDb {
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private current: IdentityRows | undefined;
  private touched = false;

  constructor(data: HostData, now: () => number = () => Date.now()) {
    this.db = new Database(':memory:');
    const platform = data.platform;
    this.registerFunctions();
    for (const table of tablesOn(platform)) {
      if ((IDENTITY_TABLES as readonly string[]).includes(table.name)) continue;
      const cols = columnsOn(table, platform);
      this.db.exec(`CREATE TABLE ${quoteIdent(table.name)} (${cols.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ')})`);
      const rows = data.tables[table.name] ?? [];
      if (rows.length === 0) continue;
      const insert = this.db.prepare(
        `INSERT INTO ${quoteIdent(table.name)} VALUES (${cols.map(() => '?').join(', ')})`,
      );
      const insertAll = this.db.transaction((list: SimRow[]) => {
        for (const row of list) insert.run(cols.map((c) => toSql(row[c.name])));
      });
      insertAll(rows);
    }
    this.registerIdentityTables(platform, now);
    // Belt and braces next to the reader/readonly check in run(): nothing may change the data.
    this.db.pragma('query_only = ON');
  }

  private registerFunctions(): void {
    // A few of the SQL functions osquery adds to SQLite, so queries written for osquery run.
    this.db.function('split', { deterministic: true }, (s: unknown, tokens: unknown, index: unknown) => {
      if (typeof s !== 'string' || typeof tokens !== 'string') return null;
      const parts = s.split(new RegExp(`[${tokens.replace(/[\\\]^-]/g, '\\$&')}]`)).filter((p) => p !== '');
      return parts[Number(index)] ?? null;
    });
    this.db.function('regex_match', { deterministic: true }, (s: unknown, pattern: unknown, index: unknown) => {
      if (typeof s !== 'string' || typeof pattern !== 'string') return null;
      try {
        const m = new RegExp(pattern).exec(s);
        return m?.[Number(index)] ?? null;
      } catch {
        return null;
      }
    });
    this.db.function('to_base64', { deterministic: true }, (s: unknown) =>
      s === null ? null : Buffer.from(stringifyValue(s)).toString('base64'),
    );
    this.db.function('from_base64', { deterministic: true }, (s: unknown) =>
      typeof s === 'string' ? Buffer.from(s, 'base64').toString('utf8') : null,
    );
  }

  private registerIdentityTables(platform: SimPlatform, now: () => number): void {
    const self = this;
    for (const table of tablesOn(platform)) {
      const cols = columnsOn(table, platform).map((c) => c.name);
      const rowsOf = (id: IdentityRows): SimRow[] => {
        if (table.name === 'system_info') return [id.systemInfo];
        if (table.name === 'osquery_info') return [id.osqueryInfo];
        const total = Math.max(0, id.uptimeBase + Math.floor(now() / 1000) - id.since);
        return [{
          days: Math.floor(total / 86400), hours: Math.floor((total % 86400) / 3600), minutes: Math.floor((total % 3600) / 60),
          seconds: total % 60, total_seconds: total,
        }];
      };
      if (!(IDENTITY_TABLES as readonly string[]).includes(table.name)) continue;
      this.db.table(table.name, {
        columns: cols,
        *rows() {
          self.touched = true;
          const id = self.current;
          if (!id) return;
          for (const row of rowsOf(id)) yield cols.map((c) => toSql(row[c]));
        },
      });
    }
  }

  private prepare(sql: string): Database.Statement {
    let stmt = this.statements.get(sql);
    if (stmt) {
      this.statements.delete(sql);
      this.statements.set(sql, stmt);
      return stmt;
    }
    stmt = this.db.prepare(sql);
    this.statements.set(sql, stmt);
    if (this.statements.size > STATEMENT_CACHE) {
      const oldest = this.statements.keys().next().value as string;
      this.statements.delete(oldest);
    }
    return stmt;
  }

  /**
   * Runs one statement as the given host. `hostDependent` tells whether the answer read an
   * identity table (and so must not be shared with other hosts of the template).
   */
  run(sql: string, identity: IdentityRows): QueryAnswer & { hostDependent: boolean } {
    this.current = identity;
    this.touched = false;
    try {
      const stmt = this.prepare(sql);
      if (!stmt.reader || !stmt.readonly) {
        return { status: 1, rows: [], message: READONLY_MESSAGE, hostDependent: false };
      }
      stmt.raw(true);
      stmt.safeIntegers(true);
      const names = stmt.columns().map((c) => c.name);
      const rows: AnswerRow[] = [];
      for (const values of stmt.iterate() as IterableIterator<unknown[]>) {
        if (rows.length >= MAX_ROWS) {
          return { status: 1, rows: [], message: `query stopped by the simulated watchdog after ${MAX_ROWS} rows`, hostDependent: this.touched };
        }
        const row: AnswerRow = {};
        for (let i = 0; i < names.length; i++) row[names[i] as string] = stringifyValue(values[i]);
        rows.push(row);
      }
      return { status: 0, rows, message: '', hostDependent: this.touched };
    } catch (err) {
      return { status: 1, rows: [], message: errorMessage(err), hostDependent: this.touched };
    } finally {
      this.current = undefined;
    }
  }

  close(): void {
    this.statements.clear();
    if (this.db.open) this.db.close();
  }
}

function toSql(v: Value | undefined): Value {
  return v === undefined ? null : v;
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
