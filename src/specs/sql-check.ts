/**
 * SQL checks through SQLite's own parser: an in-memory database holds every table osfleet's schema
 * knows as an empty table, and `prepare` reports syntax errors, unknown tables and unknown columns in
 * SQLite's words. Nothing is ever run. After a successful prepare, `EXPLAIN` lists the tables and
 * columns the statement really reads (through subqueries, CTEs and aliases), which the platform and
 * file_events checks use.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { TableSchema } from '../schema/types.js';
import { removedTable, removedTableText } from '../schema/removed.js';

export interface SchemaPort {
  getTable(name: string): TableSchema | undefined;
  allTables(): readonly TableSchema[];
}

export interface SqlIssue {
  /** Offset in the SQL text (the SQL's length for "incomplete input"). */
  offset: number;
  severity: 'error' | 'warning';
  code: string;
  message: string;
}

export interface SqlCheckResult {
  issues: SqlIssue[];
  /** Known tables the statement reads (lower-case), with the columns it reads from each. */
  reads: Map<string, Set<string>>;
  /** False when a problem stopped the check early (so `reads` may be incomplete). */
  complete: boolean;
}

export interface SqlChecker {
  check(sql: string): SqlCheckResult;
  close(): void;
}

/**
 * Functions osquery adds to SQLite (osquery/sql/sqlite_{string,math,hashing,encoding,network}.cpp);
 * SQLite's own (including its math functions) are built in already.
 */
export const OSQUERY_FUNCTIONS = [
  'split',
  'regex_split',
  'regex_match',
  'inet_aton',
  'concat',
  'concat_ws',
  'version_compare',
  'md5',
  'sha1',
  'sha256',
  'to_base64',
  'from_base64',
  'conditional_to_base64',
  'community_id_v1',
  'in_cidr_block',
  'carve',
  'cot',
  'power',
  'ceil',
  'floor',
  'log',
  'log10',
  'sqrt',
  'degrees',
  'radians',
];

const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** The first occurrence of `needle` as a whole token at or after `from` (case-insensitive for words). */
export function findToken(sql: string, needle: string, from = 0): number {
  if (needle === '') return -1;
  const lowerSql = sql.toLowerCase();
  const lowerNeedle = needle.toLowerCase();
  const word = /^[A-Za-z0-9_$]/.test(needle);
  for (let i = lowerSql.indexOf(lowerNeedle, from); i >= 0; i = lowerSql.indexOf(lowerNeedle, i + 1)) {
    if (!word) return i;
    const before = sql[i - 1];
    const after = sql[i + needle.length];
    const isPart = (c: string | undefined) => c !== undefined && /[A-Za-z0-9_$]/.test(c);
    if (!isPart(before) && !isPart(after)) return i;
  }
  return -1;
}

/**
 * The schema as an empty SQLite database: one table per osquery table, with its columns. Building it
 * takes 20–40 ms; `npm run build` saves it as an image (scripts/prebuild.js, `schemaDatabaseImage`)
 * that opens in about 4 ms.
 */
export function buildSchemaDatabase(Database: typeof BetterSqlite3, schema: Pick<SchemaPort, 'allTables'>): BetterSqlite3.Database {
  const db = new Database(':memory:');
  // Small pages: 299 empty tables take one page each (1.3 MB at the default 4 KiB).
  db.pragma('page_size = 512');
  db.exec('BEGIN');
  for (const t of schema.allTables()) {
    const seen = new Set<string>();
    const cols = t.columns.filter((c) => {
      const k = c.name.toLowerCase();
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
    const body = cols.length > 0 ? cols.map((c) => quoteIdent(c.name)).join(', ') : '"_"';
    db.exec(`CREATE TABLE ${quoteIdent(t.name.toLowerCase())} (${body})`);
  }
  db.exec('COMMIT');
  return db;
}

/** `image`: the schema database saved by the build (buildSchemaDatabase's), if there is one. */
export function createSqlChecker(Database: typeof BetterSqlite3, schema: SchemaPort, image?: Buffer): SqlChecker {
  const db = image ? new Database(image) : buildSchemaDatabase(Database, schema);
  const rootpages = new Map<number, string>();
  for (const row of db.prepare("SELECT name, rootpage FROM sqlite_schema WHERE type = 'table'").all() as Array<{ name: string; rootpage: number }>) {
    rootpages.set(row.rootpage, row.name);
  }
  const builtin = new Set(OSQUERY_FUNCTIONS);
  for (const f of OSQUERY_FUNCTIONS) {
    // Stubs: the checker only prepares statements, so the functions never run.
    db.function(f, { varargs: true, deterministic: true }, () => null);
  }
  /** Functions neither SQLite nor osquery has, met earlier: stubbed, but still warned about. */
  const unknownFunctions = new Set<string>();

  const columnNames = (table: string): string[] => {
    const t = schema.getTable(table);
    const seen = new Set<string>();
    return (t?.columns ?? []).map((c) => c.name).filter((n) => (seen.has(n.toLowerCase()) ? false : (seen.add(n.toLowerCase()), true)));
  };

  const locateSyntaxError = (text: string, token: string): number => {
    // SQLite fails on the token it is looking at, so cutting the text right after the right
    // occurrence reproduces the same error; earlier occurrences parse fine.
    for (let i = findToken(text, token); i >= 0; i = findToken(text, token, i + 1)) {
      try {
        db.prepare(text.slice(0, i + token.length));
      } catch (e) {
        if ((e as Error).message === `near "${token}": syntax error`) return i;
      }
    }
    return Math.max(0, findToken(text, token));
  };

  return {
    check(sql: string): SqlCheckResult {
      const issues: SqlIssue[] = [];
      const reads = new Map<string, Set<string>>();
      let text = sql;
      let complete = true;
      const unknownTables: string[] = [];
      for (const f of unknownFunctions) {
        const at = findToken(sql, f);
        if (at >= 0 && /^\s*\(/.test(sql.slice(at + f.length))) {
          issues.push({ offset: at, severity: 'warning', code: 'unknown-function', message: `no such function: ${f} (neither SQLite nor osquery has it)` });
        }
      }
      db.exec('SAVEPOINT lint');
      try {
        for (let attempt = 0; attempt < 50; attempt++) {
          let stmt: BetterSqlite3.Statement | undefined;
          try {
            stmt = db.prepare(text);
          } catch (e) {
            const msg = (e as Error).message;
            let m: RegExpExecArray | null;
            if ((m = /^near "(.*)": syntax error$/s.exec(msg))) {
              issues.push({ offset: locateSyntaxError(text, m[1]!), severity: 'error', code: 'sql-syntax', message: msg });
              complete = false;
              break;
            }
            if (msg === 'incomplete input') {
              issues.push({ offset: sql.trimEnd().length, severity: 'error', code: 'sql-syntax', message: 'incomplete input (the SQL ends too early)' });
              complete = false;
              break;
            }
            if ((m = /^no such table: (?:main\.)?(.+)$/.exec(msg))) {
              const name = m[1]!;
              const at = findToken(text, name);
              const removed = removedTable(name);
              issues.push(
                removed
                  ? { offset: Math.max(0, at), severity: 'error', code: 'removed-table', message: `${removedTableText(name, removed)}; the query fails on every later osquery` }
                  : {
                      offset: Math.max(0, at),
                      severity: 'warning',
                      code: 'unknown-table',
                      message: `unknown table "${name}": osquery has no such table (not in osfleet's osquery schema; an extension table?)`,
                    },
              );
              unknownTables.push(name.toLowerCase());
              db.exec(`CREATE TABLE ${quoteIdent(name)} ("_")`);
              continue;
            }
            if ((m = /^no such column: "(.*)" - should this be a string literal in single-quotes\?$/s.exec(msg))) {
              const content = m[1]!;
              const quoted = `"${content}"`;
              const at = text.indexOf(quoted);
              issues.push({
                offset: Math.max(0, at),
                severity: 'warning',
                code: 'double-quoted-string',
                message: `"${content}" is a string in double quotes: osquery accepts it, but SQL reads double quotes as a column name; use '${content.replace(/'/g, "''")}'`,
              });
              if (at < 0) {
                complete = false;
                break;
              }
              // Same length, so offsets of later problems still point into the original SQL.
              text = text.slice(0, at) + `'${content.replace(/'/g, "'")}'` + text.slice(at + quoted.length);
              if (content.includes("'")) {
                complete = false;
                break;
              }
              continue;
            }
            // A JOIN ... USING a column of a table osquery does not have: the table is the problem
            // (named above), not the JOIN.
            if (unknownTables.length > 0 && /^cannot join using column /.test(msg)) {
              complete = false;
              break;
            }
            if ((m = /^no such column: (.+)$/s.exec(msg))) {
              if (unknownTables.length > 0) {
                // The column may belong to the unknown table: nothing more can be said.
                complete = false;
                break;
              }
              const name = m[1]!;
              const bare = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1) : name;
              let at = findToken(text, name);
              if (at < 0) at = findToken(text, bare);
              issues.push({ offset: Math.max(0, at), severity: 'error', code: 'unknown-column', message: `no such column: ${name}` });
              complete = false;
              break;
            }
            if ((m = /^no such function: (.+)$/.exec(msg))) {
              const name = m[1]!;
              if (!builtin.has(name.toLowerCase())) {
                issues.push({
                  offset: Math.max(0, findToken(text, name)),
                  severity: 'warning',
                  code: 'unknown-function',
                  message: `no such function: ${name} (neither SQLite nor osquery has it)`,
                });
                unknownFunctions.add(name.toLowerCase());
              }
              db.function(name, { varargs: true }, () => null);
              continue;
            }
            if (/more than one statement/.test(msg)) {
              issues.push({ offset: 0, severity: 'warning', code: 'multiple-statements', message: 'more than one SQL statement: osfleet checks only a single statement' });
              complete = false;
              break;
            }
            if ((m = /^no such collation sequence: (.+)$/.exec(msg))) {
              issues.push({ offset: Math.max(0, findToken(text, m[1]!)), severity: 'warning', code: 'unknown-collation', message: msg });
              complete = false;
              break;
            }
            issues.push({ offset: guessOffset(text, msg), severity: 'error', code: 'sql-error', message: msg });
            complete = false;
            break;
          }
          if (!stmt.reader) {
            issues.push({ offset: 0, severity: 'error', code: 'not-a-select', message: 'osquery runs only SELECT statements' });
            complete = false;
            break;
          }
          collectReads(db, text, rootpages, columnNames, reads);
          break;
        }
      } finally {
        db.exec('ROLLBACK TO lint; RELEASE lint');
      }
      for (const t of unknownTables) reads.delete(t);
      // A removed table whose name still parses (alf_services is an alias of sharing_preferences now).
      for (const t of reads.keys()) {
        const removed = removedTable(t);
        if (removed) issues.push({ offset: Math.max(0, findToken(sql, t)), severity: 'warning', code: 'removed-table', message: removedTableText(t, removed) });
      }
      return { issues, reads, complete };
    },
    close() {
      db.close();
    },
  };
}

/** Words of SQLite's messages, never the name the message is about. */
const MESSAGE_WORDS = new Set(
  'cannot join using column not present in both tables table ambiguous name misuse of aggregate function wrong number arguments to no such the a an and or is are on at near too many terms select from where group by order having window'.split(' '),
);

/** For messages without a position: the first name in the message that the SQL contains. */
function guessOffset(sql: string, message: string): number {
  const quoted = /"([^"]+)"/.exec(message);
  const candidates = quoted ? [quoted[1]!] : [];
  for (const w of message.match(/[A-Za-z_][A-Za-z0-9_.]*/g) ?? []) if (!MESSAGE_WORDS.has(w.toLowerCase())) candidates.push(w);
  for (const c of candidates) {
    const at = findToken(sql, c);
    if (at >= 0) return at;
  }
  return 0;
}

interface ExplainRow {
  opcode: string;
  p1: number;
  p2: number;
}

function collectReads(
  db: BetterSqlite3.Database,
  sql: string,
  rootpages: Map<number, string>,
  columnNames: (table: string) => string[],
  reads: Map<string, Set<string>>,
): void {
  let rows: ExplainRow[];
  try {
    rows = db.prepare(`EXPLAIN ${sql}`).all() as ExplainRow[];
  } catch {
    return;
  }
  const cursors = new Map<number, string>();
  for (const r of rows) {
    if (r.opcode === 'OpenRead') {
      const name = rootpages.get(r.p2);
      if (name) {
        cursors.set(r.p1, name);
        if (!reads.has(name)) reads.set(name, new Set());
      }
    } else if (r.opcode === 'Column') {
      const table = cursors.get(r.p1);
      if (table) {
        const col = columnNames(table)[r.p2];
        if (col) reads.get(table)!.add(col);
      }
    }
  }
}
