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
import { createHash, type Hash } from 'node:crypto';
import { pipeline as streamPipeline } from 'node:stream/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliError, ExitCode, InputError, InterruptedError, UsageError } from '../errors.js';
import type { Ctx } from '../context.js';
import {
  openOutput,
  MANIFEST_VERSION,
  readHostResults,
  readManifest,
  ResultPipeline,
  resolveResultOptions,
  statusOf,
  StatusTable,
  StreamedHosts,
  UserDirectory,
  USERS_SQL,
  writeManifest,
  type AtomicFile,
  type BadLine,
  type Manifest,
  type HostStatus,
  type HostResult,
  type ResultFlags,
} from '../results/index.js';
import { INPUT_CHUNK_BYTES } from '../results/memory.js';
import { clientVersion } from '../version.js';
import { closestTables, getTable } from '../schema/index.js';
import { printable } from '../api/errors.js';

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

/** An input stream, hashed as it is read (the manifest records each input's SHA-256). */
interface Input {
  path: string;
  stream: Readable;
  hash: Hash;
  bytes: number;
}

async function openInput(path: string, ctx: Ctx): Promise<Readable> {
  if (path === '-') return ctx.io.stdin;
  // Opened up front so a missing file fails before any output exists.
  try {
    const fh = await open(path, 'r');
    // A folder opens on Linux and fails only on the first read, without its name.
    if ((await fh.stat()).isDirectory()) {
      await fh.close();
      throw Object.assign(new Error('is a folder'), { code: 'EISDIR', path });
    }
    // Rotated logs and archived results are often gzip-compressed: a regular file starting with
    // gzip's magic bytes is read through gunzip (pipes and devices are read as they are).
    const gz = await startsWithGzip(fh);
    // 64 KiB pieces: each is garbage once its lines are cut, and a small one dies young (issue 19.3).
    const raw = createReadStream('', { fd: fh, autoClose: true, highWaterMark: INPUT_CHUNK_BYTES });
    return gz ? gunzipIfCompressed(raw, path) : raw;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`);
  }
}

/** The bytes of an input, counted and hashed on their way to the reader. */
async function* hashed(input: Input): AsyncGenerator<Buffer> {
  for await (const chunk of input.stream) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    input.hash.update(b);
    input.bytes += b.length;
    yield b;
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
  // A misspelt --table would silently leave every date as a number: name the closest tables.
  for (const t of tables) {
    if (getTable(t)) continue;
    const close = closestTables(t);
    throw new UsageError(
      `--table ${t}: no such osquery table`,
      close.length > 0 ? `did you mean ${close.join(', ')}? (--time-columns names the date columns of a table osfleet does not know)` : 'osfleet schema lists the tables; --time-columns names the date columns of a table osfleet does not know',
    );
  }
  /** The campaign's targets, from --from-manifest: rows of any other host are not its results. */
  let targets: Set<string> | undefined;
  if (opts.fromManifest) {
    const m = await readManifest(opts.fromManifest);
    sql ??= m.sql ?? undefined;
    for (const t of m.tables) if (!tables.includes(t)) tables.push(t);
    const names = m.hosts.map((h) => h.host).filter((h): h is string => typeof h === 'string');
    if (names.length > 0) targets = new Set(names);
  }

  const warn = (line: string) => ctx.io.err(`${ctx.io.errColor.yellow('Warning:')} ${line}\n`);
  const badLines: BadLine[] = [];
  const onBadLine = (b: BadLine) => badLines.push(b);
  const inputFiles: Manifest['input_files'] = [];

  let directory: UserDirectory | undefined;
  if (opts.users) {
    if (!options.usernames) warn(`--users ${opts.users} ignored: usernames are off (${options.enrich ? '--no-usernames' : opts.raw ? '--raw' : `not enriching ${options.format}; add --enrich`})`);
    else {
      directory = new UserDirectory();
      const input: Input = { path: opts.users, stream: await openInput(opts.users, ctx), hash: createHash('sha256'), bytes: 0 };
      for await (const r of readHostResults(hashed(input), { source: opts.users, strict: opts.strict, onBadLine, signal: ctx.signal })) {
        if (r.rows.length > 0 && !r.rows.some((row) => 'uid' in row && 'username' in row)) {
          throw new InputError(`${opts.users}: the rows of ${r.host} have no uid and username columns`, {
            hint: 'the users file is the NDJSON output of `SELECT uid, username FROM users`',
          });
        }
        directory.add(r);
      }
      inputFiles.push({ path: sourceName(opts.users), role: 'users', sha256: input.hash.digest('hex'), bytes: input.bytes });
    }
  }

  let paths = files.length > 0 ? files : ['-'];
  let stdinCopy: string | undefined;
  if (opts.usernamesFromServer && !options.usernames) warn('--usernames-from-server ignored: usernames are off');
  if (opts.usernamesFromServer && options.usernames) {
    // The users campaign needs the hosts before the rows are joined: read the input once for its
    // hosts (stdin is kept in a private temporary file to be read again).
    if (paths.includes('-')) {
      stdinCopy = await mkdtemp(join(tmpdir(), 'osfleet-export-'));
      const copy = join(stdinCopy, 'stdin.ndjson');
      await streamPipeline(ctx.io.stdin, createWriteStream(copy, { mode: 0o600 }), { signal: ctx.signal });
      paths = paths.map((f) => (f === '-' ? copy : f));
    }
  }
  // Every host's status, merged per host, in memory up to a bound and on disk past it (issue 19.2).
  const statuses = new StatusTable({ merge: true });
  try {
    return await exportFiles({ opts, ctx, options, paths, files, sql, tables, targets, given: directory, warn, badLines, onBadLine, stdinCopyDir: stdinCopy, inputFiles, reader, log, statuses });
  } finally {
    await statuses.close();
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
  /** What is read (stdin replaced by its private copy under --usernames-from-server). */
  paths: string[];
  /** The inputs as given. */
  files: string[];
  sql: string | undefined;
  tables: string[];
  targets: Set<string> | undefined;
  given: UserDirectory | undefined;
  warn: (line: string) => void;
  badLines: BadLine[];
  onBadLine: (b: BadLine) => void;
  stdinCopyDir: string | undefined;
  /** Inputs already read (the users file), with their digests; the data inputs are added. */
  inputFiles: NonNullable<Manifest['input_files']>;
  /** Reads one input: query results or a result log. */
  reader: Reader;
  /** Set when the input is an osquery result log. */
  log: LogExport | undefined;
  /** Every host's status (run() removes what it spilled to disk). */
  statuses: StatusTable;
}

async function exportFiles(run: ExportJob): Promise<number> {
  const { opts, ctx, options, paths, files, sql, tables, targets, warn, badLines, onBadLine, stdinCopyDir, reader, log, statuses } = run;
  const display = (p: string) => (stdinCopyDir && p.startsWith(stdinCopyDir) ? 'stdin' : sourceName(p));
  let directory = run.given;
  if (opts.usernamesFromServer && options.usernames) directory = await usersFromServer(ctx, await hostsOf(paths, ctx, log ? log.readUncounted : reader), warn);
  const inputs: Input[] = [];
  for (const f of paths) inputs.push({ path: f, stream: await openInput(f, ctx), hash: createHash('sha256'), bytes: 0 });

  let file: AtomicFile | undefined;
  try {
    if (options.output !== undefined) file = await openOutput(options.output, { stdout: ctx.io.stdout, cwd: ctx.cwd });
  } catch (err) {
    for (const i of inputs) if (i.stream !== ctx.io.stdin) i.stream.destroy();
    throw err;
  }
  /** A named output (not stdout): gets a "Wrote" line; a file (not a device or FIFO) also a manifest by default. */
  const toFile = file !== undefined && file.kind !== 'stdout';
  const manifestBeside = file !== undefined && file.kind === 'replace';
  const startedAt = ctx.now();
  // --users: which of its hosts the input has (bounded by the users file, not by the input).
  const usersKnown = directory && opts.users ? new Set(directory.hosts()) : undefined;
  const usersSeen = new Set<string>();
  let usersMatched = false;
  /** Rows of hosts the campaign did not target (--from-manifest), dropped. */
  const outside = new Map<string, number>();
  let pipeline: ResultPipeline;
  try {
    pipeline = new ResultPipeline({
      options,
      sql,
      tables,
      sink: file ? file.stream : ctx.io.stdout,
      tty: !toFile && ctx.io.stdoutIsTTY,
      width: ctx.io.columns,
      users: directory,
      missingUsersReason: opts.users ? `not in ${opts.users}` : undefined,
      // --sql/--table/--from-manifest describe rows made elsewhere: the rows' own keys decide the columns.
      sqlRan: false,
      boundMemory: true,
      ...(log ? { plan: log.plan, order: log.order } : {}),
    });
  } catch (err) {
    await file?.abort();
    throw err;
  }

  let interrupted = false;
  let summary;
  try {
    for (const input of inputs) {
      if (ctx.signal.aborted) break;
      addAbortSignal(ctx.signal, input.stream);
      const source = display(input.path);
      let good = 0;
      const badBefore = badLines.length;
      try {
        for await (const r of reader(hashed(input), { source, strict: opts.strict, onBadLine, signal: ctx.signal })) {
          good++;
          if (targets && !targets.has(r.host)) {
            outside.set(r.host, (outside.get(r.host) ?? 0) + r.rows.length);
            continue;
          }
          await pipeline.write(r);
          // The same host in several inputs (concatenated runs): its rows add up, an error sticks.
          await statuses.add(statusOf(r));
          if (usersKnown) {
            if (usersKnown.has(r.host)) usersSeen.add(r.host);
            else if (!usersMatched && directory!.failure(r.host) !== undefined) usersMatched = true;
          }
        }
      } catch (err) {
        if (ctx.signal.aborted) break;
        if (err instanceof CliError) throw err;
        // A read that fails (a cut or corrupt compressed file, an I/O error): nothing of it is trusted.
        throw new InputError(`${source}: cannot be read as query results: ${(err as Error).message}`, { cause: err });
      }
      if (ctx.signal.aborted) break;
      // Lines, but not one of them query results: this is not result NDJSON.
      const bad = badLines.length - badBefore;
      if (good === 0 && bad > 0) {
        const first = badLines[badBefore]!;
        throw new InputError(`${first.source}:${first.line}: not query results (${first.message})${bad > 1 ? `, nor any of its other ${bad - 1} line${bad === 2 ? '' : 's'}` : ''}`, {
          hint: 'export reads NDJSON: one {"host": ..., "rows": [...]} object per line (the output of `osfleet query` or `fleetctl query`)',
        });
      }
      run.inputFiles.push({ path: source, sha256: input.hash.digest('hex'), bytes: input.bytes });
    }
    interrupted = ctx.signal.aborted;
    if (!interrupted && statuses.added === 0 && outside.size === 0) {
      throw new InputError(`no query results in ${(files.length > 0 ? files : ['-']).map(sourceName).join(', ')}`, {
        hint: 'export reads NDJSON: one {"host": ..., "rows": [...]} object per line (the output of `osfleet query` or `fleetctl query`)',
      });
    }
    if (directory && opts.users) {
      const known = directory.hosts();
      if (known.length > 0 && statuses.added > 0 && usersSeen.size === 0 && !usersMatched) {
        const input = await statuses.sample(5);
        throw new InputError(`${opts.users} answers for other hosts (${list(known)}) than the input (${list(input.first, 5, input.count)})`, {
          hint: 'run the users query on the same hosts as the results',
        });
      }
    }
    summary = await pipeline.finish(statuses.sorted());
    if (file) await file.commit();
  } catch (err) {
    for (const i of inputs) if (i.stream !== ctx.io.stdin) i.stream.destroy();
    await pipeline.abort();
    await file?.abort();
    throw err;
  }
  const endedAt = ctx.now();
  // One pass over the statuses: how many hosts, and those that answered with an error.
  let hostCount = 0;
  const failed: HostStatus[] = [];
  for await (const s of statuses.sorted()) {
    hostCount++;
    if (s.status === 'error') failed.push(s);
  }

  for (const b of badLines.slice(0, BAD_LINES_SHOWN)) warn(`${b.source}:${b.line}: skipped: ${b.message}`);
  if (badLines.length > BAD_LINES_SHOWN) warn(`${badLines.length - BAD_LINES_SHOWN} more broken lines skipped`);
  if (directory && opts.users) {
    const extra = directory.hosts().filter((h) => !usersSeen.has(h));
    if (extra.length > 0) warn(`${opts.users} has hosts that are not in the input: ${list(extra)}`);
  }
  const logWarnings = log ? log.warnings() : [];
  for (const w of [...logWarnings, ...summary.warnings]) warn(w);
  const outsideLine = outsideTargetsLine(outside, opts.fromManifest);
  if (outsideLine) warn(outsideLine);

  const manifestWarnings = [
    ...badLines.map((b) => `${b.source}:${b.line}: skipped: ${b.message}`),
    ...logWarnings,
    ...summary.warnings,
    ...(outsideLine ? [outsideLine] : []),
  ];
  // As for query: a file output gets its manifest beside it unless told where.
  const manifestPath = options.manifest ?? (manifestBeside ? `${options.output}.manifest.json` : undefined);
  if (manifestPath) {
    await writeManifest(manifestPath, {
      manifest_version: MANIFEST_VERSION,
      osfleet_version: clientVersion(),
      command: 'export',
      server: null,
      sql: sql ?? null,
      tables: pipeline.plan.tables,
      targets: targets ? { hosts: [...targets].sort() } : null,
      started_at: startedAt.toISOString(),
      ended_at: endedAt.toISOString(),
      ended_by: interrupted ? 'interrupted' : 'complete',
      time_zone: options.timeZone,
      time_format: options.times ? options.timeFormat : 'raw',
      enriched: options.enrich,
      hosts: new StreamedHosts(statuses.sorted()),
      rows: summary.rows,
      output: {
        path: file ? file.path : null,
        format: options.format,
        sha256: file ? file.sha256() : null,
        bytes: file ? file.bytes : null,
      },
      warnings: manifestWarnings,
      inputs: (files.length > 0 ? files : ['-']).map(sourceName),
      input_files: run.inputFiles,
      ...(outside.size > 0 ? { outside_targets: outsideForManifest(outside) } : {}),
      ...(log ? { log: log.manifest() } : {}),
      ...(opts.usernamesFromServer ? { usernames_from: 'server' } : opts.users ? { usernames_from: opts.users } : {}),
      columns: summary.columns,
    });
  }
  if (!toFile && summary.rows === 0 && options.format === 'table') ctx.io.err(`No rows from ${hostCount} host${hostCount === 1 ? '' : 's'}.\n`);
  if (toFile) ctx.io.err(`Wrote ${summary.rows} row${summary.rows === 1 ? '' : 's'} from ${hostCount} host${hostCount === 1 ? '' : 's'} to ${options.output}\n`);
  // Hosts that answered with an error, as `query` reports them (their error is in the manifest too).
  if (failed.length > 0) {
    ctx.io.err(`${failed.length} host${failed.length === 1 ? '' : 's'} answered with an error:\n`);
    const width = Math.max(0, ...failed.map((s) => printable(s.host).length));
    for (const s of failed) ctx.io.err(`  ${printable(s.host).padEnd(width)}  error: ${printable(s.error ?? '')}\n`);
  }
  if (interrupted) throw new InterruptedError('interrupted: the output holds every result read before the interrupt');
  return badLines.length > 0 || failed.length > 0 ? ExitCode.partial : ExitCode.ok;
}

/** "2 rows of 1 host outside the campaign's targets dropped (h1: 2)". */
function outsideTargetsLine(outside: Map<string, number>, manifest: string | undefined): string | undefined {
  if (outside.size === 0) return undefined;
  const rows = [...outside.values()].reduce((a, b) => a + b, 0);
  const per = outsideForManifest(outside)
    .slice(0, 5)
    .map((o) => `${printable(o.host)}: ${o.rows}`)
    .join(', ');
  return `${rows} row${rows === 1 ? '' : 's'} of ${outside.size} host${outside.size === 1 ? '' : 's'} outside the campaign's targets${manifest ? ` (${manifest})` : ''} dropped (${per}${outside.size > 5 ? ` and ${outside.size - 5} more` : ''})`;
}

function outsideForManifest(outside: Map<string, number>): Array<{ host: string; rows: number }> {
  return [...outside].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([host, rows]) => ({ host, rows }));
}

function list(hosts: string[], max = 5, count = hosts.length): string {
  const sorted = [...hosts].sort();
  return count <= max ? sorted.join(', ') : `${sorted.slice(0, max).join(', ')} and ${count - max} more`;
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
