/**
 * `osfleet export` of osquery result logs (`--log`, or recognised by their first line when no flag says):
 * the scheduled queries' SQL from pack files (--packs) or the server's packs decides the columns'
 * meaning; --query, --since and --until choose the lines; what was read goes to the manifest's `log`.
 */
import type { Ctx } from '../../context.js';
import { UsageError } from '../../errors.js';
import type { ColumnPlan } from '../../results/index.js';
import { isResultLogFile, isResultLogStdin, logColumnsFirst, logPlan, parseTimeBound, readLogResults, type ScheduledSql } from '../../results/osquery-log.js';
// The specs layer (YAML, the API) is loaded only for a result log: see prepareLogExport.
import type { ScheduledEntry } from '../../specs/scheduled.js';
import type { Reader } from './inputs.js';

export interface LogFlags {
  log?: boolean | undefined;
  packs?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
  query?: string | undefined;
}

/** A result log's export: the plan from the scheduled queries' SQL, the filtered reader, what the manifest says. */
export interface LogExport {
  plan: ColumnPlan;
  order: (columns: readonly string[]) => string[];
  /** The SQL when the export holds one scheduled query. */
  sql: string | undefined;
  read: Reader;
  /** The same reading without counting rows for the manifest (the pass that only collects hosts). */
  readUncounted: Reader;
  /** Warnings known once the reading is over. */
  warnings(): string[];
  manifest(): Record<string, unknown>;
}

export function wantsLog(flags: LogFlags): boolean {
  return Boolean(flags.log || flags.packs || flags.since || flags.until || flags.query);
}

/** The flags that say what the input is. */
export interface InputFlags extends LogFlags {
  sql?: string | undefined;
  table?: string | undefined;
  fromManifest?: string | undefined;
}

/**
 * Whether the inputs are osquery result logs: named by a flag, or recognised by the first line of
 * every file (and of stdin when it is the only input). A mix is refused, and so are the flags of
 * query results on a log.
 */
export async function isLogInput(flags: InputFlags, files: readonly string[], ctx: Ctx): Promise<boolean> {
  const realFiles = files.filter((f) => f !== '-');
  const logFlags = wantsLog(flags);
  // Flags of query results say what the input is: nothing to probe.
  const resultsFlags = Boolean(flags.sql || flags.table || flags.fromManifest);
  const probes = resultsFlags ? realFiles.map(() => false) : await Promise.all(realFiles.map((f) => isResultLogFile(f)));
  const onlyStdin = files.length === 0 || (files.length === 1 && files[0] === '-');
  if (!logFlags && !resultsFlags && onlyStdin && (await isResultLogStdin(ctx.io.stdin, ctx.io.stdinIsTTY, ctx.signal))) {
    realFiles.push('-');
    probes.push(true);
  }
  if (!logFlags && probes.some((p) => p) && probes.some((p) => !p)) {
    throw new UsageError(`${realFiles.filter((_, i) => probes[i]).join(', ')} ${probes.filter((p) => p).length === 1 ? 'is an osquery result log' : 'are osquery result logs'}, ${realFiles.filter((_, i) => !probes[i]).join(', ')} not: export them separately`);
  }
  if (!logFlags && !(realFiles.length > 0 && probes.every((p) => p))) return false;
  if (resultsFlags) throw new UsageError('--sql, --table and --from-manifest are for query results; a result log finds its SQL from the packs (--packs or the server)');
  return true;
}

export async function prepareLogExport(flags: LogFlags, ctx: Ctx, zone: string, timeColumns: string[]): Promise<LogExport> {
  const { entriesOfFiles, entriesOfServer } = await import('../../specs/scheduled.js');
  const since = flags.since ? parseTimeBound(flags.since, '--since', zone, ctx.now()) : undefined;
  const until = flags.until ? parseTimeBound(flags.until, '--until', zone, ctx.now()) : undefined;
  if (since !== undefined && until !== undefined && since >= until) throw new UsageError(`--since ${flags.since} is not before --until ${flags.until}`);
  const wanted = (flags.query ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');

  const warnings: string[] = [];
  let specsFrom: string | null = null;
  let entries: ScheduledEntry[];
  if (flags.packs) {
    entries = await entriesOfFiles(flags.packs.split(',').map((s) => s.trim()).filter((s) => s !== ''), ctx.cwd, () => ctx.io.stdin);
    specsFrom = flags.packs;
  } else {
    const conn = await ctx.connection().catch(() => undefined);
    const fromServer = conn?.address ? await entriesOfServer(await ctx.api()) : undefined;
    if (fromServer) {
      entries = fromServer;
      specsFrom = 'server';
    } else {
      entries = [];
      warnings.push('no --packs and no server to read the packs from: only log_time is read as a date');
    }
  }
  const byName = new Map<string, ScheduledEntry>();
  for (const e of entries) if (!byName.has(e.name)) byName.set(e.name, e);
  const matches = (name: string, w: string): boolean => {
    if (name === w || name.endsWith(`/${w}`)) return true;
    return byName.get(name)?.aliases.includes(w) ?? false;
  };
  const accept = wanted.length > 0 ? (name: string) => wanted.some((w) => matches(name, w)) : undefined;
  // The queries whose SQL decides the columns: the chosen ones, else every one the specs schedule.
  const chosen = [...byName.values()].filter((e) => !accept || accept(e.name));
  // One SQL per distinct query text (the same saved query in two packs is one plan).
  const distinct = new Map<string, ScheduledSql>();
  for (const e of chosen) if (!distinct.has(e.sql)) distinct.set(e.sql, { name: e.name, sql: e.sql });
  const { plan, conflicts } = logPlan([...distinct.values()], timeColumns);
  const seen = new Map<string, number>();
  const columns = new Set<string>();

  return {
    plan,
    order: logColumnsFirst,
    sql: distinct.size === 1 ? [...distinct.values()][0]!.sql : undefined,
    read: (input, o) => readLogResults(input, { ...o, accept, since, until, seen, columns }),
    readUncounted: (input, o) => readLogResults(input, { ...o, accept, since, until }),
    warnings() {
      const out = [...warnings];
      // Conflicts matter only for columns that showed up.
      for (const c of conflicts) if (columns.has(c.column)) out.push(c.warning);
      const unknown = [...seen.keys()].filter((n) => !byName.has(n)).sort();
      if (unknown.length > 0 && specsFrom !== null) {
        out.push(`${unknown.join(', ')}: not in ${specsFrom === 'server' ? "the server's packs" : specsFrom}: no SQL known, so dates and uids in ${unknown.length === 1 ? 'its' : 'their'} rows are found only by the columns of the other queries`);
      }
      if (wanted.length > 0) {
        const missing = wanted.filter((w) => ![...seen.keys()].some((n) => matches(n, w)));
        if (missing.length > 0) out.push(`--query ${missing.join(', ')}: no line of the log in range`);
      }
      return out;
    },
    manifest: () => ({
      queries: Object.fromEntries([...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
      since: since !== undefined ? new Date(since * 1000).toISOString() : null,
      until: until !== undefined ? new Date(until * 1000).toISOString() : null,
      specs_from: specsFrom,
    }),
  };
}
