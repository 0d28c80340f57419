/**
 * `osfleet export`: NDJSON query results (osfleet's or fleetctl's `query` output) from files or
 * stdin, written as table, CSV, JSON, NDJSON or YAML with the same enrichment as `query`: dates
 * found by the schema of the tables named by --sql, --table or --from-manifest (else by a cautious
 * name rule), usernames per host from --users or from one users campaign on the input's hosts
 * (--usernames-from-server). Broken lines are named and skipped (exit 3) unless --strict; a line
 * of more than 256 MiB (not query results: a binary file, /dev/zero) ends the run (exit 1).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { addAbortSignal, type Readable } from 'node:stream';
import { pipeline as streamPipeline } from 'node:stream/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliError, ExitCode, InputError, InterruptedError, UsageError } from '../errors.js';
import type { Ctx } from '../context.js';
import {
  atomicFile,
  hostsForManifest,
  MANIFEST_VERSION,
  readHostResults,
  readManifest,
  ResultPipeline,
  resolveResultOptions,
  statusOf,
  UserDirectory,
  USERS_SQL,
  writeManifest,
  type AtomicFile,
  type BadLine,
  type HostStatus,
  type HostResult,
  type ResultFlags,
} from '../results/index.js';
import { clientVersion } from '../version.js';

import {
  gunzipIfCompressed,
  isResultLogFile,
  isResultLogStdin,
  logColumnsFirst,
  logPlan,
  parseTimeBound,
  readLogResults,
  startsWithGzip,
  type ScheduledSql,
} from '../results/osquery-log.js';
// The specs layer (YAML, the API) is loaded only for a result log: see prepareLogExport.
import type { ScheduledEntry } from '../specs/scheduled.js';
import type { ColumnPlan } from '../results/index.js';

type Reader = (input: AsyncIterable<Buffer | string>, o: { source: string; strict?: boolean | undefined; onBadLine?: (b: BadLine) => void; signal?: AbortSignal }) => AsyncGenerator<HostResult>;

export interface ExportOptions extends ResultFlags {
  files: string[];
  sql?: string | undefined;
  table?: string | undefined;
  fromManifest?: string | undefined;
  users?: string | undefined;
  usernamesFromServer?: boolean | undefined;
  strict?: boolean | undefined;
  /** osquery result logs (see export-log.ts); recognised by their first line when not given. */
  log?: boolean | undefined;
  packs?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
  query?: string | undefined;
}

/** Broken lines named one by one up to this many; the rest are counted. */
const BAD_LINES_SHOWN = 10;

async function openInput(path: string, ctx: Ctx): Promise<Readable> {
  if (path === '-') return ctx.io.stdin;
  // Opened up front so a missing file fails before any output exists.
  try {
    const fh = await open(path, 'r');
    // Rotated logs and archived results are often gzip-compressed: a regular file starting with
    // gzip's magic bytes is read through gunzip (pipes and devices are read as they are).
    const gz = await startsWithGzip(fh);
    const raw = createReadStream('', { fd: fh, autoClose: true, highWaterMark: 1 << 20 });
    return gz ? gunzipIfCompressed(raw, path) : raw;
  } catch (err) {
    throw new InputError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
}

const sourceName = (path: string) => (path === '-' ? 'stdin' : path);

export async function run(opts: ExportOptions, ctx: Ctx): Promise<number> {
  const options = resolveResultOptions(opts, ctx.env, { format: ctx.io.stdoutIsTTY ? 'table' : 'csv' });
  const files = opts.files ?? [];
  if (files.filter((f) => f === '-').length > 1) throw new UsageError('stdin (-) can be read only once');
  if (opts.users && opts.usernamesFromServer) throw new UsageError('--users and --usernames-from-server cannot be used together');
  if (options.output && options.output !== '-' && files.includes(options.output)) throw new UsageError(`-o ${options.output} is also an input`);

  // A result log: named by a flag, or recognised by the first line of every file.
  const realFiles = files.filter((f) => f !== '-');
  let log: LogExport | undefined;
  const logFlags = wantsLog(opts);
  // Flags of query results say what the input is: nothing to probe.
  const resultsFlags = Boolean(opts.sql || opts.table || opts.fromManifest);
  const probes = resultsFlags ? realFiles.map(() => false) : await Promise.all(realFiles.map((f) => isResultLogFile(f)));
  if (!logFlags && !resultsFlags && files.length === 1 && files[0] === '-') {
    if (await isResultLogStdin(ctx.io.stdin, ctx.io.stdinIsTTY, ctx.signal)) {
      realFiles.push('-');
      probes.push(true);
    }
  } else if (!logFlags && !resultsFlags && files.length === 0 && (await isResultLogStdin(ctx.io.stdin, ctx.io.stdinIsTTY, ctx.signal))) {
    realFiles.push('-');
    probes.push(true);
  }
  if (!logFlags && probes.some((p) => p) && probes.some((p) => !p)) {
    throw new UsageError(`${realFiles.filter((_, i) => probes[i]).join(', ')} ${probes.filter((p) => p).length === 1 ? 'is an osquery result log' : 'are osquery result logs'}, ${realFiles.filter((_, i) => !probes[i]).join(', ')} not: export them separately`);
  }
  if (logFlags || (realFiles.length > 0 && probes.every((p) => p))) {
    if (opts.sql || opts.table || opts.fromManifest) throw new UsageError('--sql, --table and --from-manifest are for query results; a result log finds its SQL from the packs (--packs or the server)');
    log = await prepareLogExport(opts, ctx, options.timeZone, options.timeColumns);
  }
  const reader: Reader = log ? log.read : (input, o) => readHostResults(input, o);

  let sql = log?.sql ?? opts.sql;
  const tables = (opts.table ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  if (opts.fromManifest) {
    const m = await readManifest(opts.fromManifest);
    sql ??= m.sql ?? undefined;
    for (const t of m.tables) if (!tables.includes(t)) tables.push(t);
  }

  const warn = (line: string) => ctx.io.err(`${ctx.io.errColor.yellow('Warning:')} ${line}\n`);
  const badLines: BadLine[] = [];
  const onBadLine = (b: BadLine) => badLines.push(b);

  let directory: UserDirectory | undefined;
  if (opts.users) {
    if (!options.usernames) warn(`--users ${opts.users} ignored: usernames are off (${options.enrich ? '--no-usernames' : `not enriching ${options.format}; add --enrich`})`);
    else {
      directory = new UserDirectory();
      const input = await openInput(opts.users, ctx);
      for await (const r of readHostResults(input, { source: opts.users, strict: opts.strict, onBadLine, signal: ctx.signal })) {
        if (r.rows.length > 0 && !r.rows.some((row) => 'uid' in row && 'username' in row)) {
          throw new InputError(`${opts.users}: the rows of ${r.host} have no uid and username columns`, {
            hint: 'the users file is the NDJSON output of `SELECT uid, username FROM users`',
          });
        }
        directory.add(r);
      }
    }
  }

  let inputFiles = files.length > 0 ? files : ['-'];
  let stdinCopy: string | undefined;
  if (opts.usernamesFromServer && !options.usernames) warn('--usernames-from-server ignored: usernames are off');
  if (opts.usernamesFromServer && options.usernames) {
    // The users campaign needs the hosts before the rows are joined: read the input once for its
    // hosts (stdin is kept in a private temporary file to be read again).
    if (inputFiles.includes('-')) {
      stdinCopy = await mkdtemp(join(tmpdir(), 'osfleet-export-'));
      const copy = join(stdinCopy, 'stdin.ndjson');
      await streamPipeline(ctx.io.stdin, createWriteStream(copy, { mode: 0o600 }), { signal: ctx.signal });
      inputFiles = inputFiles.map((f) => (f === '-' ? copy : f));
    }
  }
  try {
    return await exportFiles({ opts, ctx, options, inputFiles, files, sql, tables, given: directory, warn, badLines, onBadLine, stdinCopyDir: stdinCopy, reader, log });
  } finally {
    if (stdinCopy) await rm(stdinCopy, { recursive: true, force: true });
  }
}

/** How long the users campaign of --usernames-from-server may take. */
const USERS_TIMEOUT_MS = 60_000;

/** Runs `SELECT uid, username FROM users` on the hosts in the input and fills a directory. */
async function usersFromServer(ctx: Ctx, hosts: string[], warn: (line: string) => void): Promise<UserDirectory> {
  if (hosts.length === 0) return new UserDirectory();
  const directory = new UserDirectory();
  const [{ LiveQuery }, { resolveTargets }] = await Promise.all([import('../api/campaigns.js'), import('../api/targets.js')]);
  const client = await ctx.api();
  await client.detect();
  const resolved = await resolveTargets(client, { hosts, labels: [], all: false });
  // Named once, in the pipeline's warnings, with this reason.
  for (const h of resolved.unknownHosts) directory.fail(h, 'the server does not know this host');
  if (resolved.targets.length === 0) return directory;
  const spinner = await ctx.io.spinner(`asking ${resolved.targets.length} host(s) for their users…`);
  spinner.start();
  const live = new LiveQuery(client, {
    query: { sql: USERS_SQL },
    selection: resolved.selection,
    targets: resolved.targets,
    waitAll: false,
    timeoutMs: USERS_TIMEOUT_MS,
    transport: 'auto',
    signal: ctx.signal,
    debug: ctx.globals.debug ? (l) => ctx.debug(`[users] ${l}`) : undefined,
  });
  try {
    for await (const a of live) directory.add(a);
  } finally {
    spinner.stop();
  }
  if (live.problem) warn(`the users query did not complete: ${live.problem.message}`);
  for (const t of resolved.targets) {
    if (!directory.has(t.hostname)) directory.fail(t.hostname, t.online ? 'no answer to the users query' : 'offline');
  }
  return directory;
}

/** The distinct hosts of NDJSON inputs (broken lines are reported by the real pass). */
async function hostsOf(paths: string[], ctx: Ctx, reader: Reader): Promise<string[]> {
  const hosts = new Set<string>();
  for (const p of paths) {
    for await (const r of reader(await openInput(p, ctx), { source: p, signal: ctx.signal })) hosts.add(r.host);
  }
  return [...hosts].sort();
}

/** What one export works from, decided by run(). */
interface ExportJob {
  opts: ExportOptions;
  ctx: Ctx;
  options: ReturnType<typeof resolveResultOptions>;
  /** What is read: the files given, with stdin as a private copy when it must be read twice. */
  inputFiles: string[];
  /** The files as the user named them (the manifest's `inputs`). */
  files: string[];
  sql: string | undefined;
  tables: string[];
  /** Usernames from --users, when given. */
  given: UserDirectory | undefined;
  warn: (line: string) => void;
  badLines: BadLine[];
  onBadLine: (b: BadLine) => void;
  /** The folder of stdin's private copy (named `stdin` in messages). */
  stdinCopyDir: string | undefined;
  /** Reads one input: query results or a result log. */
  reader: Reader;
  /** Set when the input is an osquery result log. */
  log: LogExport | undefined;
}

async function exportFiles(job: ExportJob): Promise<number> {
  const { opts, ctx, options, inputFiles, files, sql, tables, given, warn, badLines, onBadLine, stdinCopyDir, reader, log } = job;
  const display = (p: string) => (stdinCopyDir && p.startsWith(stdinCopyDir) ? 'stdin' : sourceName(p));
  let directory = given;
  if (opts.usernamesFromServer && options.usernames) directory = await usersFromServer(ctx, await hostsOf(inputFiles, ctx, log ? log.readUncounted : reader), warn);
  const inputs: Array<[string, Readable]> = [];
  for (const f of inputFiles) inputs.push([f, await openInput(f, ctx)]);

  const toFile = options.output !== undefined && options.output !== '-';
  let file: AtomicFile | undefined;
  try {
    if (toFile) file = await atomicFile(options.output!);
  } catch (err) {
    for (const [, stream] of inputs) if (stream !== ctx.io.stdin) stream.destroy();
    throw err;
  }
  const startedAt = ctx.now();
  const statuses = new Map<string, HostStatus>();
  let pipeline: ResultPipeline;
  try {
    pipeline = new ResultPipeline({
      options,
      sql,
      tables,
      sink: file ? file.stream : ctx.io.stdout,
      tty: !file && ctx.io.stdoutIsTTY,
      width: ctx.io.columns,
      users: directory,
      missingUsersReason: opts.users ? `not in ${opts.users}` : undefined,
      ...(log ? { plan: log.plan, order: log.order } : {}),
    });
  } catch (err) {
    await file?.abort();
    throw err;
  }

  let interrupted = false;
  let summary;
  try {
    for (const [path, stream] of inputs) {
      if (ctx.signal.aborted) break;
      addAbortSignal(ctx.signal, stream);
      try {
        for await (const r of reader(stream, { source: display(path), strict: opts.strict, onBadLine, signal: ctx.signal })) {
          await pipeline.write(r);
          const s = statusOf(r);
          const prev = statuses.get(r.host);
          // The same host in several inputs (concatenated runs): its rows add up, an error sticks.
          statuses.set(
            r.host,
            prev
              ? { ...prev, rows: prev.rows + s.rows, status: prev.status === 'error' || s.status === 'error' ? 'error' : prev.rows + s.rows > 0 ? 'answered' : 'empty', ...(s.error ? { error: s.error } : {}) }
              : s,
          );
        }
      } catch (err) {
        if (!ctx.signal.aborted) throw err;
      }
    }
    interrupted = ctx.signal.aborted;
    if (directory && opts.users) {
      const inputHosts = [...statuses.keys()];
      const known = directory.hosts();
      if (known.length > 0 && inputHosts.length > 0 && !inputHosts.some((h) => known.includes(h) || directory!.failure(h) !== undefined)) {
        throw new InputError(`${opts.users} answers for other hosts (${list(known)}) than the input (${list(inputHosts)})`, {
          hint: 'run the users query on the same hosts as the results',
        });
      }
    }
    summary = await pipeline.finish(sortedStatuses(statuses));
    if (file) await file.commit();
  } catch (err) {
    await pipeline.abort();
    await file?.abort();
    throw err;
  }
  const endedAt = ctx.now();

  for (const b of badLines.slice(0, BAD_LINES_SHOWN)) warn(`${b.source}:${b.line}: skipped: ${b.message}`);
  if (badLines.length > BAD_LINES_SHOWN) warn(`${badLines.length - BAD_LINES_SHOWN} more broken lines skipped`);
  if (directory && opts.users) {
    const extra = directory.hosts().filter((h) => !statuses.has(h));
    if (extra.length > 0) warn(`${opts.users} has hosts that are not in the input: ${list(extra)}`);
  }
  const logWarnings = log ? log.warnings() : [];
  for (const w of [...logWarnings, ...summary.warnings]) warn(w);

  const manifestWarnings = [
    ...badLines.map((b) => `${b.source}:${b.line}: skipped: ${b.message}`),
    ...logWarnings,
    ...summary.warnings,
  ];
  // As for query: a file output gets its manifest beside it unless told where.
  const manifestPath = options.manifest ?? (file ? `${options.output}.manifest.json` : undefined);
  if (manifestPath) {
    const outPath = file ? file.path : null;
    await writeManifest(manifestPath, {
      manifest_version: MANIFEST_VERSION,
      osfleet_version: clientVersion(),
      command: 'export',
      server: null,
      sql: sql ?? null,
      tables: pipeline.plan.tables,
      targets: null,
      started_at: startedAt.toISOString(),
      ended_at: endedAt.toISOString(),
      ended_by: interrupted ? 'interrupted' : 'complete',
      time_zone: options.timeZone,
      time_format: options.times ? options.timeFormat : 'raw',
      enriched: options.enrich,
      hosts: hostsForManifest(sortedStatuses(statuses)),
      rows: summary.rows,
      output: {
        path: outPath,
        format: options.format,
        sha256: file ? file.sha256() : null,
        bytes: file ? file.bytes : null,
      },
      warnings: manifestWarnings,
      inputs: (files.length > 0 ? files : ['-']).map(sourceName),
      ...(log ? { log: log.manifest() } : {}),
      ...(opts.usernamesFromServer ? { usernames_from: 'server' } : opts.users ? { usernames_from: opts.users } : {}),
    });
  }
  if (!file && summary.rows === 0 && options.format === 'table') ctx.io.err(`No rows from ${statuses.size} host${statuses.size === 1 ? '' : 's'}.\n`);
  if (file) ctx.io.err(`Wrote ${summary.rows} row${summary.rows === 1 ? '' : 's'} from ${statuses.size} host${statuses.size === 1 ? '' : 's'} to ${options.output}\n`);
  if (interrupted) throw new InterruptedError('interrupted: the output holds every result read before the interrupt');
  return badLines.length > 0 ? ExitCode.partial : ExitCode.ok;
}

function sortedStatuses(m: Map<string, HostStatus>): HostStatus[] {
  return [...m.values()].sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
}

function list(hosts: string[], max = 5): string {
  const sorted = [...hosts].sort();
  return sorted.length <= max ? sorted.join(', ') : `${sorted.slice(0, max).join(', ')} and ${sorted.length - max} more`;
}

// --- osquery result logs ------------------------------------------------------------------------

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

export async function prepareLogExport(flags: LogFlags, ctx: Ctx, zone: string, timeColumns: string[]): Promise<LogExport> {
  const { entriesOfFiles, entriesOfServer } = await import('../specs/scheduled.js');
  const since = flags.since ? parseTimeBound(flags.since, '--since', zone, ctx.now()) : undefined;
  const until = flags.until ? parseTimeBound(flags.until, '--until', zone, ctx.now()) : undefined;
  if (since !== undefined && until !== undefined && since >= until) throw new UsageError(`--since ${flags.since} is not before --until ${flags.until}`);
  const wanted = (flags.query ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');

  const warnings: string[] = [];
  let specsFrom: string | null = null;
  let entries: ScheduledEntry[];
  if (flags.packs) {
    entries = await entriesOfFiles(flags.packs.split(',').map((s) => s.trim()).filter((s) => s !== ''), ctx.cwd, ctx.io.stdin);
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
