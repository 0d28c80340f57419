/**
 * `osfleet query`: resolve the targets and check them (preflight), dispatch the live query, follow it
 * until every expected host answered (or the timeout, or Ctrl-C), stream each answer through the
 * result pipeline, and report every host's status. Exit 0 when all answered without error, 3 when
 * some did not, 1 when the campaign could not run, 130 when interrupted (output still valid).
 *
 * `run` is the steps in order, each with its typed input and output: the flags become a job, the
 * job finds its SQL and its targets, opens the output, reads the campaign, settles each host's
 * status, finishes the output, writes the manifest and reports. The campaigns, the statuses, the
 * targets' checks and `--resume` are the command's own modules under `./query/`.
 */
import type { Ctx } from '../context.js';
import { CliError, DeadlineError, ExitCode, InputError, UsageError, isBrokenPipe } from '../errors.js';
import { parseDuration } from '../duration.js';
import { parseLabelExpr } from '../labelexpr.js';
import { limit, overLimit } from '../limits.js';
import { terminalSafe } from '../terminal.js';
import type { LiveQuery, QueryRef, TargetHost } from '../api/campaigns.js';
import type { ResolvedTargets } from '../api/targets.js';
import { findQueryByName } from '../api/queries.js';
import { resolveResultOptions, safeAddress, StreamedHosts, writeManifest, type HostStatus, type PipelineSummary, type ResultFlags, type ResultOptions, type StatusTable } from '../results/index.js';
import { manifestPathOf, type Destination } from '../results/destination.js';
import { clientVersion } from '../version.js';
import { openResults, readCampaign, type Output, type Read } from './query/campaign.js';
import { runResume, type ResumeJob } from './query/resume.js';
import { problemStatuses, queryExitCode, reportStatuses, statusTable, type Settled } from './query/statuses.js';
import { preflight, silentTargets, type Preflight } from './query/targets.js';

export interface QueryOptions extends ResultFlags {
  hosts?: string;
  labels?: string;
  labelExpr?: string;
  all?: boolean;
  query?: string;
  queryName?: string;
  timeout?: string;
  exit?: boolean;
  waitAll?: boolean;
  ignoreUnknown?: boolean;
  /** Offline hosts count as missing (exit 3), for those who need every host. */
  offlineFails?: boolean;
  transport?: 'auto' | 'ws' | 'rest';
  quiet?: boolean;
  /** A manifest of an earlier run: ask again the hosts that did not answer, append to its output. */
  resume?: string;
}

/** How long the host list may be read after Ctrl-C to name the hosts that did not answer. */
const NAMING_AFTER_INTERRUPT_MS = 10_000;

type Client = Awaited<ReturnType<Ctx['api']>>;

const splitList = (s: string | undefined) =>
  (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');

export async function run(opts: QueryOptions, ctx: Ctx): Promise<number> {
  if (opts.resume !== undefined) return runResume(resumeJobOf(opts, opts.resume), ctx);
  const job = jobOf(opts, ctx);
  const client = await ctx.api();
  const { ref, sql } = await queryOf(client, job);
  const pre = await preflight(client, job, sql);
  const out = await openResults(ctx, job.results, sql);
  const read = await readCampaign(ctx, client, job, ref, pre, out);
  // The reader went away (`| head`): nothing more can be delivered, and a report would only be noise.
  if (isBrokenPipe(read.failure)) {
    await out.pipeline.abort();
    return ExitCode.ok;
  }
  const end = await settle(ctx, client, job, pre, read, out.dest);
  try {
    const summary = await finishOutput(out, end);
    const finished: FinishedRun = { job, sql, out, read, end, summary };
    await writeQueryManifest(ctx, client, finished);
    return report(ctx, finished);
  } finally {
    await end.table?.close();
  }
}

// --- the job: flags, before any connection ------------------------------------------------------

/** What one run works from, decided from the flags (a usage error, exit 64, before any connection). */
interface QueryJob {
  hosts: string[];
  labels: string[];
  labelExpr: string | undefined;
  all: boolean;
  /** The SQL as given, or the name of a saved query. */
  source: { sql: string } | { name: string };
  /** 0: no timeout. */
  timeoutMs: number;
  /**
   * When the command started (performance.now()): the wait for hosts ends `timeoutMs` after it, not
   * after the campaign's creation, so it always comes before the hard deadline, which counts from
   * the same start (a slow start once turned "some hosts did not answer", exit 3, into exit 5).
   */
  startedAt: number;
  results: ResultOptions;
  waitAll: boolean;
  offlineFails: boolean;
  ignoreUnknown: boolean;
  transport: 'auto' | 'ws' | 'rest';
  quiet: boolean;
  /** A line on stderr, unless --quiet (escaped for the terminal). */
  say: (line: string) => void;
}

function jobOf(opts: QueryOptions, ctx: Ctx): QueryJob {
  const hosts = splitList(opts.hosts);
  const maxHosts = limit('hostsPerFlag', ctx.env);
  if (hosts.length > maxHosts) throw overLimit('hostsPerFlag', '--hosts', maxHosts);
  const labels = splitList(opts.labels);
  if (hosts.length === 0 && labels.length === 0 && !opts.all && !opts.labelExpr) {
    throw new UsageError('no hosts or labels targeted', 'pass --hosts, --labels, --label-expr or --all');
  }
  if (opts.query !== undefined && opts.queryName !== undefined) throw new UsageError('--query and --query-name must not be given together');
  if (opts.query === undefined && opts.queryName === undefined) throw new UsageError('no query', 'pass --query SQL or --query-name NAME');
  if (opts.query !== undefined && opts.query.trim() === '') throw new UsageError('--query is empty');
  // A typo in the expression is a usage error before any connection, like every other flag.
  if (opts.labelExpr !== undefined) parseLabelExpr(opts.labelExpr);
  const timeoutText = opts.timeout ?? (ctx.env['OSFLEET_TIMEOUT'] || undefined);
  const timeoutMs = parseDuration(timeoutText ?? '5m', opts.timeout === undefined && timeoutText ? 'OSFLEET_TIMEOUT' : '--timeout');
  const defaultFormat = ctx.io.stdoutIsTTY && (!opts.output || opts.output === '-') ? 'table' : 'ndjson';
  const results = resolveResultOptions(opts, ctx.env, { format: defaultFormat });
  const quiet = Boolean(opts.quiet);
  return {
    hosts,
    labels,
    labelExpr: opts.labelExpr,
    all: Boolean(opts.all),
    source: opts.queryName !== undefined ? { name: opts.queryName } : { sql: opts.query! },
    timeoutMs,
    startedAt: performance.now(),
    results,
    waitAll: Boolean(opts.waitAll),
    offlineFails: Boolean(opts.offlineFails),
    ignoreUnknown: Boolean(opts.ignoreUnknown),
    transport: opts.transport ?? 'auto',
    quiet,
    say: (line: string) => {
      if (!quiet) ctx.io.err(`${terminalSafe(line)}\n`);
    },
  };
}

/** `--resume`: the query, hosts and output settings come from the manifest; flags that would contradict it are refused. */
function resumeJobOf(opts: QueryOptions, manifest: string): ResumeJob {
  const given = (['hosts', 'labels', 'labelExpr', 'all', 'query', 'queryName', 'output', 'format', 'manifest', 'tz', 'raw', 'enrich', 'bom'] as const).filter((k) => opts[k] !== undefined && opts[k] !== false);
  if (given.length > 0) throw new UsageError(`--resume takes the query, hosts and output settings from the manifest: drop ${given.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')}`);
  return {
    manifest,
    timeout: opts.timeout,
    waitAll: Boolean(opts.waitAll),
    offlineFails: Boolean(opts.offlineFails),
    transport: opts.transport ?? 'auto',
    quiet: Boolean(opts.quiet),
    keepEpoch: opts.keepEpoch,
    usernames: opts.usernames,
    timeColumns: opts.timeColumns,
    csvRaw: opts.csvRaw,
  };
}

// --- the query and its targets -------------------------------------------------------------------

/** The SQL to run: as given, or a saved query's (named by id where the server's campaigns can). */
async function queryOf(client: Client, job: QueryJob): Promise<{ ref: QueryRef; sql: string }> {
  if ('sql' in job.source) return { ref: { sql: job.source.sql }, sql: job.source.sql };
  const name = job.source.name;
  const saved = await findQueryByName(client, name);
  if (!saved) throw new InputError(`query "${name}" not found on the server`, { hint: 'list them with: osfleet get queries' });
  if (!saved.query || saved.query.trim() === '') throw new InputError(`saved query "${name}" has no SQL`);
  const sql = saved.query;
  // An id comes back only where a campaign can name the saved query by it (FleetDM).
  return { ref: saved.id !== undefined ? { queryId: saved.id, sql } : { sql }, sql };
}

// --- the end: statuses, output, manifest, report ---------------------------------------------------

/** How the run ended, and each host's status. */
interface Outcome {
  interrupted: boolean;
  /** Why the campaign could not complete, if it could not. */
  problem: unknown;
  /** No host answered. */
  nothing: boolean;
  /** The hosts to report (errors, silent); the others are counted in `settled`. */
  statuses: HostStatus[];
  settled: Settled | undefined;
  /** Every host's status, when it is written (-o's manifest, JSON and YAML documents). */
  table: StatusTable | undefined;
}

async function settle(ctx: Ctx, client: Client, job: QueryJob, pre: Preflight, read: Read, dest: Destination): Promise<Outcome> {
  const { live } = read;
  const interrupted = live.endReason === 'interrupted' || ctx.signal.aborted;
  let problem = read.failure ?? live.problem;
  const nothing = live.answered.size === 0;
  if (read.noTargets && nothing && !problem) problem = new CliError('no hosts targeted: the hosts and labels given match no host');
  // Hosts that answered are named by their answers; the host lists are read only to name the others,
  // and not at all when every targeted host answered.
  let targets: readonly TargetHost[] = pre.known ?? [];
  if (!pre.known && !(problem && nothing && !interrupted)) {
    const named = await nameSilent(ctx, client, pre.resolved, live, interrupted);
    if ('targets' in named) targets = named.targets;
    else problem ??= named.problem;
  }
  // Only the hosts to report (errors, silent) are listed and the others counted: at 100,000 hosts
  // that is the difference between sorting 100,000 statuses at exit and sorting a handful. Every
  // host's status goes where it is written (-o's manifest, JSON and YAML documents), streamed from a
  // bounded table (issue 19.2), never held as one list.
  const everyStatus = Boolean(dest.file) || job.results.format === 'json' || job.results.format === 'yaml';
  const { problems, settled } = problemStatuses(targets, live.answered, { answeredToo: !pre.known });
  const table = everyStatus ? await statusTable(targets, live.answered, { answeredToo: !pre.known }) : undefined;
  return { interrupted, problem, nothing, statuses: problems, settled, table };
}

/**
 * The targeted hosts that did not answer, from the server's host lists. After Ctrl-C the command's
 * signal is spent: the names are read under a bound of their own (a second Ctrl-C still ends the
 * program at once). A list that cannot be read is the run's problem, not the end of it.
 */
async function nameSilent(ctx: Ctx, client: Client, resolved: ResolvedTargets, live: LiveQuery, interrupted: boolean): Promise<{ targets: TargetHost[] } | { problem: CliError }> {
  const lister = interrupted ? client.withSignal(AbortSignal.timeout(NAMING_AFTER_INTERRUPT_MS)) : client;
  try {
    const targets = await silentTargets(lister, resolved, live, ctx.globals.debug ? (l) => ctx.debug(l) : undefined);
    if (lister !== client) await lister.close();
    return { targets };
  } catch (err) {
    if (isBrokenPipe(err)) throw err;
    const why = err instanceof Error ? err.message : String(err);
    return { problem: new CliError(`the hosts that did not answer could not be named (reading the host list failed: ${why})`) };
  }
}

/** Ends the output: thrown away when the campaign failed before any answer, else committed. */
async function finishOutput(out: Output, end: Outcome): Promise<PipelineSummary> {
  const { file } = out.dest;
  if (end.problem && end.nothing && !end.interrupted) {
    await out.pipeline.abort();
    await file?.abort();
    throw end.problem;
  }
  try {
    const summary = await out.serial(() => out.pipeline.finish(end.table ? end.table.sorted() : end.statuses));
    await file?.commit();
    return summary;
  } catch (err) {
    await file?.abort();
    throw err;
  }
}

/** Everything a finished run knows, for its manifest and its report. */
interface FinishedRun {
  job: QueryJob;
  sql: string;
  out: Output;
  read: Read;
  end: Outcome;
  summary: PipelineSummary;
}

/** The evidence manifest beside a file output (or where --manifest says). */
async function writeQueryManifest(ctx: Ctx, client: Client, run: FinishedRun): Promise<void> {
  const { job, sql, out, read, end, summary } = run;
  const { file } = out.dest;
  const manifestPath = manifestPathOf(out.dest, job.results);
  if (!file || !manifestPath) {
    if (job.results.manifest) throw new UsageError('--manifest needs -o FILE: the manifest records the SHA-256 of the output file');
    return;
  }
  const endedAt = ctx.now();
  const conn = await ctx.connection();
  await writeManifest(manifestPath, {
    manifest_version: 1,
    osfleet_version: clientVersion(),
    command: 'query',
    server: { version: client.serverVersion, dialect: (await client.server()).generation, address: safeAddress(conn.address) },
    sql,
    tables: out.pipeline.plan.tables,
    targets: {
      ...(job.hosts.length ? { hosts: job.hosts } : {}),
      ...(job.labels.length ? { labels: job.labels } : {}),
      ...(job.all ? { all: true } : {}),
      ...(job.labelExpr ? { label_expr: job.labelExpr } : {}),
    },
    started_at: read.startedAt.toISOString(),
    ended_at: endedAt.toISOString(),
    ended_by: end.interrupted ? 'interrupted' : read.live.endReason,
    time_zone: job.results.timeZone,
    time_format: job.results.timeFormat,
    enriched: job.results.enrich,
    hosts: new StreamedHosts(end.table ? end.table.sorted() : end.statuses),
    rows: summary.rows,
    output: { path: file.path, format: job.results.format, sha256: file.sha256(), bytes: file.bytes },
    warnings: [...summary.warnings, ...read.targets.lines()],
    ...read.targets.manifestFields(),
    columns: summary.columns,
  });
}

/** Warnings, each host's status, and the exit code. */
function report(ctx: Ctx, run: FinishedRun): number {
  const { job, read, end, summary } = run;
  for (const w of summary.warnings) job.say(`Warning: ${w}`);
  // Said even under --quiet: rows were left out of the output.
  for (const line of read.targets.lines()) ctx.io.err(`Warning: ${line}\n`);
  reportStatuses(end.statuses, read.live, job.say, end.settled);
  if (end.interrupted) {
    const reason: unknown = ctx.signal.reason;
    job.say(reason instanceof DeadlineError ? 'Stopped by the deadline: the output holds every answer received.' : 'Interrupted: the output holds every answer received.');
    return reason instanceof CliError ? reason.exitCode : ExitCode.interrupted;
  }
  if (end.problem) {
    const p = end.problem instanceof CliError ? end.problem : new CliError(end.problem instanceof Error ? end.problem.message : String(end.problem));
    ctx.io.err(`${ctx.io.errColor.red('Error:')} ${terminalSafe(p.message)}\n`);
    return ExitCode.partial;
  }
  // Answers that could not be checked against the targets: the run cannot vouch for its output.
  if (read.targets.unverified()) return ExitCode.partial;
  return queryExitCode(end.statuses, { offlineFails: job.offlineFails || job.waitAll });
}
