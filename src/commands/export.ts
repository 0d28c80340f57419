/**
 * `osfleet export`: NDJSON query results (osfleet's or fleetctl's `query` output) from files or
 * stdin, written as table, CSV, JSON, NDJSON or YAML with the same enrichment as `query`: dates
 * found by the schema of the tables named by --sql, --table or --from-manifest (else by a cautious
 * name rule), usernames per host from --users or from one users campaign on the input's hosts
 * (--usernames-from-server). Broken lines are named and skipped (exit 3) unless --strict; a line
 * of more than 256 MiB (not query results: a binary file, /dev/zero) ends the run (exit 1).
 *
 * `run` maps the flags to one job (what the input is, what describes its rows, where usernames come
 * from); `exportFiles` opens, reads, finishes and reports. The inputs, result logs, usernames and
 * host statuses are the command's own modules under `./export/`.
 */
import { rm } from 'node:fs/promises';
import { addAbortSignal } from 'node:stream';
import { CliError, ExitCode, InputError, InterruptedError, UsageError } from '../errors.js';
import type { Ctx } from '../context.js';
import {
  StreamedHosts,
  MANIFEST_VERSION,
  readHostResults,
  readManifest,
  ResultPipeline,
  resolveResultOptions,
  writeManifest,
  type BadLine,
  type Manifest,
  type PipelineSummary,
  type ResultFlags,
  type ResultOptions,
  type UserDirectory,
} from '../results/index.js';
import { manifestPathOf, openDestination, type Destination } from '../results/destination.js';
import { OutsideTargets } from '../results/outside.js';
import { clientVersion } from '../version.js';
import { closestTables, getTable } from '../schema/index.js';
import { closeInputs, hashed, hostsOf, keepStdin, openInput, sourceName, type Input, type Reader } from './export/inputs.js';
import { isLogInput, prepareLogExport, type LogExport } from './export/log.js';
import { errorLines, HostTally } from './export/statuses.js';
import { extraUsersLine, readUsersFile, usersFromServer, usersMismatch } from './export/users.js';

export interface ExportOptions extends ResultFlags {
  files: string[];
  sql?: string | undefined;
  table?: string | undefined;
  fromManifest?: string | undefined;
  users?: string | undefined;
  usernamesFromServer?: boolean | undefined;
  strict?: boolean | undefined;
  /** osquery result logs (see export/log.ts); recognised by their first line when not given. */
  log?: boolean | undefined;
  packs?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
  query?: string | undefined;
}

/** Broken lines named one by one up to this many; the rest are counted. */
const BAD_LINES_SHOWN = 10;

const NOT_RESULTS_HINT = 'export reads NDJSON: one {"host": ..., "rows": [...]} object per line (the output of `osfleet query` or `fleetctl query`)';

export async function run(opts: ExportOptions, ctx: Ctx): Promise<number> {
  const options = resolveResultOptions(opts, ctx.env, { format: ctx.io.stdoutIsTTY ? 'table' : 'csv' });
  const files = opts.files ?? [];
  if (files.filter((f) => f === '-').length > 1) throw new UsageError('stdin (-) can be read only once');
  if (opts.users && opts.usernamesFromServer) throw new UsageError('--users and --usernames-from-server cannot be used together');
  if (options.output && options.output !== '-' && files.includes(options.output)) throw new UsageError(`-o ${options.output} is also an input`);

  // A result log: named by a flag, or recognised by the first line of every file.
  const log = (await isLogInput(opts, files, ctx)) ? await prepareLogExport(opts, ctx, options.timeZone, options.timeColumns) : undefined;
  const reader: Reader = log ? log.read : (input, o) => readHostResults(input, o);
  const { sql, tables, targets } = await describedBy(opts, log);

  const warn = (line: string) => ctx.io.err(`${ctx.io.errColor.yellow('Warning:')} ${line}\n`);
  const badLines: BadLine[] = [];
  const onBadLine = (b: BadLine) => badLines.push(b);
  const inputFiles: NonNullable<Manifest['input_files']> = [];
  let given: UserDirectory | undefined;
  if (opts.users) {
    if (!options.usernames) warn(`--users ${opts.users} ignored: usernames are off (${options.enrich ? '--no-usernames' : opts.raw ? '--raw' : `not enriching ${options.format}; add --enrich`})`);
    else {
      const users = await readUsersFile(opts.users, ctx, { strict: opts.strict, onBadLine });
      given = users.directory;
      inputFiles.push(users.file);
    }
  }

  const paths = files.length > 0 ? files : ['-'];
  if (opts.usernamesFromServer && !options.usernames) warn('--usernames-from-server ignored: usernames are off');
  // The users campaign needs the hosts before the rows are joined: read the input once for its
  // hosts (stdin is kept in a private temporary file to be read again).
  const copy = opts.usernamesFromServer && options.usernames && paths.includes('-') ? await keepStdin(paths, ctx) : undefined;
  const display = (p: string) => (copy && p.startsWith(copy.dir) ? 'stdin' : sourceName(p));
  try {
    return await exportFiles({ opts, ctx, options, paths: copy?.paths ?? paths, files, sql, tables, targets, given, warn, badLines, onBadLine, display, inputFiles, reader, log });
  } finally {
    if (copy) await rm(copy.dir, { recursive: true, force: true });
  }
}

/** What says what the rows are: --sql or the log's SQL, --table (checked), --from-manifest's SQL, tables and targets. */
async function describedBy(opts: ExportOptions, log: LogExport | undefined): Promise<{ sql: string | undefined; tables: string[]; targets: Set<string> | undefined }> {
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
  return { sql, tables, targets };
}

/** What one export works from, decided by run(). */
interface ExportJob {
  opts: ExportOptions;
  ctx: Ctx;
  options: ResultOptions;
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
  /** An input's name in messages (`stdin` for its private copy). */
  display: (path: string) => string;
  /** Inputs already read (the users file), with their digests; the data inputs are added. */
  inputFiles: NonNullable<Manifest['input_files']>;
  /** Reads one input: query results or a result log. */
  reader: Reader;
  /** Set when the input is an osquery result log. */
  log: LogExport | undefined;
}

/** The inputs, the output and the pipeline between them, opened before any row is read. */
interface Opened {
  inputs: Input[];
  dest: Destination;
  pipeline: ResultPipeline;
  directory: UserDirectory | undefined;
  startedAt: Date;
  statuses: HostTally;
  /** Rows of hosts the campaign did not target (--from-manifest), dropped. */
  outside: OutsideTargets;
}

/** What the reading gave. */
interface Done {
  interrupted: boolean;
  summary: PipelineSummary;
  endedAt: Date;
}

async function exportFiles(job: ExportJob): Promise<number> {
  const opened = await openAll(job);
  try {
    const done = await readAll(job, opened);
    const manifestWarnings = warnAll(job, opened, done);
    await writeExportManifest(job, opened, done, manifestWarnings);
    return await report(job, opened, done);
  } finally {
    await opened.statuses.close();
  }
}

async function openAll(job: ExportJob): Promise<Opened> {
  const { opts, ctx, options, paths, log, reader } = job;
  let directory = job.given;
  if (opts.usernamesFromServer && options.usernames) directory = await usersFromServer(ctx, await hostsOf(paths, ctx, log ? log.readUncounted : reader), job.warn);
  const inputs: Input[] = [];
  try {
    for (const f of paths) inputs.push(await openInput(f, ctx));
  } catch (err) {
    await closeInputs(inputs, ctx); // the ones opened before the one that failed
    throw err;
  }
  let dest: Destination;
  try {
    dest = await openDestination(options.output, { stdout: ctx.io.stdout, cwd: ctx.cwd });
  } catch (err) {
    await closeInputs(inputs, ctx);
    throw err;
  }
  const startedAt = ctx.now();
  try {
    const pipeline = new ResultPipeline({
      options,
      sql: job.sql,
      tables: job.tables,
      sink: dest.sink,
      tty: !dest.toFile && ctx.io.stdoutIsTTY,
      width: ctx.io.columns,
      users: directory,
      missingUsersReason: opts.users ? `not in ${opts.users}` : undefined,
      // --sql/--table/--from-manifest describe rows made elsewhere: the rows' own keys decide the columns.
      sqlRan: false,
      boundMemory: true,
      ...(log ? { plan: log.plan, order: log.order } : {}),
    });
    return { inputs, dest, pipeline, directory, startedAt, statuses: new HostTally(opts.users ? directory : undefined), outside: new OutsideTargets() };
  } catch (err) {
    // A pipeline refused before any row (--time-columns not among --sql's columns): the inputs
    // opened for it are closed here, or the garbage collector would close them, with a warning.
    await closeInputs(inputs, ctx);
    await dest.file?.abort();
    throw err;
  }
}

/** Reads every input into the pipeline, then finishes the output (thrown away on any failure). */
async function readAll(job: ExportJob, opened: Opened): Promise<Done> {
  const { ctx, opts, files } = job;
  const { inputs, pipeline, statuses, outside, directory } = opened;
  try {
    for (const input of inputs) {
      if (ctx.signal.aborted) break;
      if (!(await readOne(job, opened, input))) break;
    }
    const interrupted = ctx.signal.aborted;
    if (!interrupted && !statuses.any && outside.size === 0) {
      throw new InputError(`no query results in ${(files.length > 0 ? files : ['-']).map(sourceName).join(', ')}`, { hint: NOT_RESULTS_HINT });
    }
    if (directory && opts.users && directory.hosts().length > 0 && statuses.any && !statuses.matchesUsers()) throw usersMismatch(directory, opts.users, await statuses.sample(5));
    const summary = await pipeline.finish(statuses.sorted());
    if (opened.dest.file) await opened.dest.file.commit();
    return { interrupted, summary, endedAt: ctx.now() };
  } catch (err) {
    await closeInputs(inputs, ctx);
    await pipeline.abort();
    await opened.dest.file?.abort();
    throw err;
  }
}

/** One input's results into the pipeline; false when an interrupt stopped it. */
async function readOne(job: ExportJob, opened: Opened, input: Input): Promise<boolean> {
  const { ctx, opts, targets, badLines, onBadLine, reader } = job;
  addAbortSignal(ctx.signal, input.stream);
  const source = job.display(input.path);
  let good = 0;
  const badBefore = badLines.length;
  try {
    for await (const r of reader(hashed(input), { source, strict: opts.strict, onBadLine, signal: ctx.signal })) {
      good++;
      if (targets && !targets.has(r.host)) {
        opened.outside.add(r.host, r.rows.length);
        continue;
      }
      await opened.pipeline.write(r);
      await opened.statuses.add(r);
    }
  } catch (err) {
    if (ctx.signal.aborted) return false;
    if (err instanceof CliError) throw err;
    // A read that fails (a cut or corrupt compressed file, an I/O error): nothing of it is trusted.
    throw new InputError(`${source}: cannot be read as query results: ${(err as Error).message}`, { cause: err });
  }
  if (ctx.signal.aborted) return false;
  // Lines, but not one of them query results: this is not result NDJSON.
  const bad = badLines.length - badBefore;
  if (good === 0 && bad > 0) {
    const first = badLines[badBefore]!;
    throw new InputError(`${first.source}:${first.line}: not query results (${first.message})${bad > 1 ? `, nor any of its other ${bad - 1} line${bad === 2 ? '' : 's'}` : ''}`, { hint: NOT_RESULTS_HINT });
  }
  job.inputFiles.push({ path: source, sha256: input.hash.digest('hex'), bytes: input.bytes });
  return true;
}

/** Prints every warning of the run; returns those the manifest records. */
function warnAll(job: ExportJob, opened: Opened, done: Done): string[] {
  const { opts, warn, badLines, log } = job;
  for (const b of badLines.slice(0, BAD_LINES_SHOWN)) warn(`${b.source}:${b.line}: skipped: ${b.message}`);
  if (badLines.length > BAD_LINES_SHOWN) warn(`${badLines.length - BAD_LINES_SHOWN} more broken lines skipped`);
  if (opened.directory && opts.users) {
    const extra = extraUsersLine(opened.directory, opts.users, (h) => opened.statuses.hasUsersHost(h));
    if (extra) warn(extra);
  }
  const logWarnings = log ? log.warnings() : [];
  for (const w of [...logWarnings, ...done.summary.warnings]) warn(w);
  const outsideLine = opened.outside.line(`outside the campaign's targets${opts.fromManifest ? ` (${opts.fromManifest})` : ''}`);
  if (outsideLine) warn(outsideLine);
  return [...badLines.map((b) => `${b.source}:${b.line}: skipped: ${b.message}`), ...logWarnings, ...done.summary.warnings, ...(outsideLine ? [outsideLine] : [])];
}

/** As for query: a file output gets its manifest beside it unless told where. */
async function writeExportManifest(job: ExportJob, opened: Opened, done: Done, warnings: string[]): Promise<void> {
  const { opts, options, files, sql, targets, log } = job;
  const { dest, outside } = opened;
  const { summary } = done;
  const manifestPath = manifestPathOf(dest, options);
  if (!manifestPath) return;
  const file = dest.file;
  await writeManifest(manifestPath, {
    manifest_version: MANIFEST_VERSION,
    osfleet_version: clientVersion(),
    command: 'export',
    server: null,
    sql: sql ?? null,
    tables: opened.pipeline.plan.tables,
    targets: targets ? { hosts: [...targets].sort() } : null,
    started_at: opened.startedAt.toISOString(),
    ended_at: done.endedAt.toISOString(),
    ended_by: done.interrupted ? 'interrupted' : 'complete',
    time_zone: options.timeZone,
    time_format: options.times ? options.timeFormat : 'raw',
    enriched: options.enrich,
    hosts: new StreamedHosts(opened.statuses.sorted()),
    rows: summary.rows,
    output: { path: file ? file.path : null, format: options.format, sha256: file ? file.sha256() : null, bytes: file ? file.bytes : null },
    warnings,
    inputs: (files.length > 0 ? files : ['-']).map(sourceName),
    input_files: job.inputFiles,
    ...(outside.size > 0 ? { outside_targets: outside.entries() } : {}),
    ...(log ? { log: log.manifest() } : {}),
    ...(opts.usernamesFromServer ? { usernames_from: 'server' } : opts.users ? { usernames_from: opts.users } : {}),
    columns: summary.columns,
  });
}

/** "Wrote N rows …", the hosts that answered with an error, and the exit code. */
async function report(job: ExportJob, opened: Opened, done: Done): Promise<number> {
  const { ctx, options, badLines } = job;
  const { statuses, dest } = opened;
  const rows = done.summary.rows;
  // One pass over the statuses: how many hosts, and those that answered with an error.
  const { hosts: count, failed } = await statuses.counts();
  const hosts = `${count} host${count === 1 ? '' : 's'}`;
  if (!dest.toFile && rows === 0 && options.format === 'table') ctx.io.err(`No rows from ${hosts}.\n`);
  if (dest.toFile) ctx.io.err(`Wrote ${rows} row${rows === 1 ? '' : 's'} from ${hosts} to ${options.output}\n`);
  // Hosts that answered with an error, as `query` reports them (their error is in the manifest too).
  for (const line of errorLines(failed)) ctx.io.err(`${line}\n`);
  if (done.interrupted) throw new InterruptedError('interrupted: the output holds every result read before the interrupt');
  return badLines.length > 0 || failed.length > 0 ? ExitCode.partial : ExitCode.ok;
}
