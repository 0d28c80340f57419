/**
 * The client's one door to SQLite (better-sqlite3), for the commands that need it: lint and apply's
 * SQL check (the SQL analyser), preview and demo (the sandbox). The binding is loaded on first use,
 * so every other command works where it cannot load, and a failure is one line with what to do
 * instead of "Could not locate the bindings file" or a crash at exit.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { CliError } from './errors.js';

export type SqliteConstructor = typeof BetterSqlite3;

/** better-sqlite3 13 is built on Node-API for Node.js 22 and later; on Node.js 20 it crashes the process. */
export const MIN_NODE_MAJOR = 22;

/** SQLite cannot be loaded here: an unsupported Node.js or platform, or a broken install. */
export class SqliteUnavailableError extends CliError {}

let loaded: SqliteConstructor | undefined;

/**
 * Loads better-sqlite3 and opens one in-memory database to prove the native binding works.
 * `needer` names what needs it, e.g. "lint"; `instead` is the way around it, when there is one.
 */
export async function loadSqlite(needer: string, instead?: string, nodeVersion = process.versions.node): Promise<SqliteConstructor> {
  const major = Number(nodeVersion.split('.')[0]);
  if (!(major >= MIN_NODE_MAJOR)) {
    throw new SqliteUnavailableError(`${needer} needs SQLite, which needs Node.js ${MIN_NODE_MAJOR} or later; this is Node.js ${nodeVersion}`, {
      hint: `install Node.js 22 or 24, then run osfleet with it${instead ? `; or ${instead}` : ''}`,
    });
  }
  if (loaded) return loaded;
  try {
    const mod = await import('better-sqlite3');
    new mod.default(':memory:').close();
    loaded = mod.default;
    return loaded;
  } catch (err) {
    // The first line names the cause; better-sqlite3 follows it with the paths it tried.
    const why = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.replace(/\s*Tried:$/, '');
    throw new SqliteUnavailableError(`${needer} needs SQLite, but its binding (better-sqlite3) could not be loaded: ${why}`, {
      hint: `reinstall osfleet on Linux, macOS or Windows (x64 or arm64) with Node.js 22 or 24${instead ? `, or ${instead}` : ''}; commands that need no SQLite (get, query, export, config) work as they are`,
      cause: err,
    });
  }
}
