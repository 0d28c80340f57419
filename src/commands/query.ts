/**
 * `osfleet query`: resolve the targets and check them (preflight), dispatch the live query, follow it
 * until every expected host answered (or the timeout, or Ctrl-C), stream each answer through the
 * result pipeline, and report every host's status. Exit 0 when all answered without error, 3 when
 * some did not, 1 when the campaign could not run, 130 when interrupted (output still valid).
 */
import type { Writable } from 'node:stream';
import type { Ctx } from '../context.js';
import { CliError, DeadlineError, ExitCode, InputError, UsageError, isBrokenPipe } from '../errors.js';
import { parseDuration } from '../duration.js';
import { parseLabelExpr } from '../labelexpr.js';
import { LiveQuery, type AnswerRecord, type LiveQueryOptions, type LiveQueryProgress, type QueryRef, type TargetHost } from '../api/campaigns.js';
import { resolveTargets, type ResolvedTargets } from '../api/targets.js';
import { printable } from '../api/errors.js';
import { limit, overLimit, summariseNames } from '../limits.js';
import { terminalSafe } from '../terminal.js';
import { findQueryByName } from '../api/queries.js';
import { platformsOf, tablesMissingOnEach, type Platform } from '../schema/index.js';
import {
  ResultPipeline,
  openOutput,
  hostsForManifest,
  resolveResultOptions,
  safeAddress,
  writeManifest,
  type AtomicFile,
  type HostStatus,
  type ResultFlags,
  answerStatus,
  USERS_SQL,
} from '../results/index.js';
import { clientVersion } from '../version.js';

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
}

const splitList = (s: string | undefined) =>
  (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');

export async function run(opts: QueryOptions, ctx: Ctx): Promise<number> {
  // --- flags ----------------------------------------------------------------------------------
  const hostList = splitList(opts.hosts);
  const maxHosts = limit('hostsPerFlag', ctx.env);
  if (hostList.length > maxHosts) throw overLimit('hostsPerFlag', '--hosts', maxHosts);
  const labelList = splitList(opts.labels);
  if (hostList.length === 0 && labelList.length === 0 && !opts.all && !opts.labelExpr) {
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
  const say = (line: string) => {
    if (!quiet) ctx.io.err(`${terminalSafe(line)}\n`);
  };

  const client = await ctx.api();

  // --- the query ----------------------------------------------------------------------------------
  let ref: QueryRef;
  let sql: string;
  if (opts.queryName !== undefined) {
    const saved = await findQueryByName(client, opts.queryName);
    if (!saved) throw new InputError(`query "${opts.queryName}" not found on the server`, { hint: 'list them with: osfleet get queries' });
    if (!saved.query || saved.query.trim() === '') throw new InputError(`saved query "${opts.queryName}" has no SQL`);
    sql = saved.query;
    // An id comes back only where a campaign can name the saved query by it (FleetDM).
    ref = saved.id !== undefined ? { queryId: saved.id, sql } : { sql };
  } else {
    sql = opts.query!;
    ref = { sql };
  }

  // --- preflight ----------------------------------------------------------------------------------
  const resolved = await resolveTargets(client, { hosts: hostList, labels: labelList, labelExpr: opts.labelExpr, all: Boolean(opts.all) });
  reportUnknown(resolved, Boolean(opts.ignoreUnknown), say);
  const targets = resolved.targets;
  if (targets.length === 0) throw new CliError('no hosts targeted: the hosts and labels given match no host');
  const online = targets.filter((t) => t.online).length;
  say(`Targeting ${targets.length} host${targets.length === 1 ? '' : 's'}: ${online} online, ${targets.length - online} offline${opts.waitAll ? ' (waiting for offline hosts until the timeout)' : ''}`);
  for (const line of platformWarnings(sql, resolved)) say(`Warning: ${line}`);

  // --- output ---------------------------------------------------------------------------------------
  let file: AtomicFile | undefined;
  let sink: Writable = ctx.io.stdout;
  if (results.output) {
    file = await openOutput(results.output, { stdout: ctx.io.stdout, cwd: ctx.cwd });
    sink = file.stream;
  }
  /** A named output (not `-o -`); a file (not a device or FIFO) gets a manifest beside it by default. */
  const toFile = file !== undefined && file.kind !== 'stdout';
  const manifestBeside = file !== undefined && file.kind === 'replace';
  const pipeline = new ResultPipeline({
    options: results,
    sql,
    sink,
    tty: !toFile && ctx.io.stdoutIsTTY,
    width: toFile ? undefined : ctx.io.columns,
    usersCampaign: true,
  });
  const serial = serialQueue();

  // --- progress ---------------------------------------------------------------------------------------
  const spinner = quiet ? undefined : await ctx.io.spinner('dispatching…', { machineOutput: !file && ctx.io.stdoutIsTTY && results.format !== 'table' });
  spinner?.start();
  const startedAt = ctx.now();
  const onProgress = (p: LiveQueryProgress) => {
    if (!spinner) return;
    const pct = p.targeted ? Math.round((100 * p.responded) / p.targeted) : 0;
    spinner.text = `${pct}% responded | ${p.responded}/${p.targeted} hosts (${p.online} online) | ${p.errors} error${p.errors === 1 ? '' : 's'} | ${(p.elapsedMs / 1000).toFixed(1)}s${p.transport === 'rest' ? ' (REST)' : ''}`;
  };

  // The main campaign and, when the result has uid columns, the companion users campaign on the
  // same targets, in parallel; the pipeline joins them per host.
  const campaign = (query: QueryRef, tag: string, extra: Partial<LiveQueryOptions> = {}) =>
    new LiveQuery(client, {
      query,
      selection: resolved.selection,
      targets,
      waitAll: Boolean(opts.waitAll),
      timeoutMs: timeoutMs || undefined,
      transport: opts.transport ?? 'auto',
      signal: ctx.signal,
      debug: ctx.globals.debug ? (l) => ctx.debug(`${tag}${l}`) : undefined,
      ...extra,
    });
  const live = campaign(ref, '', { onProgress, onNotice: (m) => (spinner?.live ? (spinner.text = m) : say(m)) });
  const usersRun = pipeline.wantsUsers ? feedUsers(campaign({ sql: USERS_SQL }, '[users] '), pipeline, serial) : Promise.resolve();

  // Answers from hosts the campaign did not target are not its results: dropped and counted.
  const targetIds = new Set(targets.map((t) => t.id));
  const targetNames = new Set(targets.map((t) => t.hostname));
  const outside = new Map<string, number>();
  let failure: unknown;
  try {
    for await (const answer of live) {
      const targeted = answer.hostId !== undefined ? targetIds.has(answer.hostId) : targetNames.has(answer.host);
      if (!targeted) {
        outside.set(answer.host, (outside.get(answer.host) ?? 0) + answer.rows.length);
        continue;
      }
      await serial(() => pipeline.write(answer));
    }
  } catch (err) {
    failure = err;
  }
  await usersRun;
  spinner?.stop();
  // The reader went away (`| head`): nothing more can be delivered, and a report would only be noise.
  if (isBrokenPipe(failure)) {
    await pipeline.abort();
    return ExitCode.ok;
  }

  const statuses = hostStatuses(targets, live.answered);
  const outsideRows = [...outside.values()].reduce((a, b) => a + b, 0);
  const outsideLine =
    outside.size > 0
      ? `${outsideRows} row${outsideRows === 1 ? '' : 's'} of ${outside.size} host${outside.size === 1 ? '' : 's'} the campaign did not target dropped (${[...outside]
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .slice(0, 5)
          .map(([h, n]) => `${printable(h)}: ${n}`)
          .join(', ')}${outside.size > 5 ? ` and ${outside.size - 5} more` : ''})`
      : undefined;
  const interrupted = live.endReason === 'interrupted' || ctx.signal.aborted;
  const problem = failure ?? live.problem;
  const nothing = live.answered.size === 0;

  // --- finish the output -------------------------------------------------------------------------------
  if (problem && nothing && !interrupted) {
    await pipeline.abort();
    await file?.abort();
    throw problem;
  }
  let summary;
  try {
    summary = await serial(() => pipeline.finish(statuses));
    await file?.commit();
  } catch (err) {
    await file?.abort();
    throw err;
  }
  const endedAt = ctx.now();
  const manifestPath = results.manifest ?? (manifestBeside ? `${results.output}.manifest.json` : undefined);
  if (file && manifestPath) {
    const conn = await ctx.connection();
    await writeManifest(manifestPath, {
      manifest_version: 1,
      osfleet_version: clientVersion(),
      command: 'query',
      server: { version: client.serverVersion, dialect: (await client.server()).generation, address: safeAddress(conn.address) },
      sql,
      tables: pipeline.plan.tables,
      targets: {
        ...(hostList.length ? { hosts: hostList } : {}),
        ...(labelList.length ? { labels: labelList } : {}),
        ...(opts.all ? { all: true } : {}),
        ...(opts.labelExpr ? { label_expr: opts.labelExpr } : {}),
      },
      started_at: startedAt.toISOString(),
      ended_at: endedAt.toISOString(),
      ended_by: interrupted ? 'interrupted' : live.endReason,
      time_zone: results.timeZone,
      time_format: results.timeFormat,
      enriched: results.enrich,
      hosts: hostsForManifest(statuses),
      rows: summary.rows,
      output: { path: file.path, format: results.format, sha256: file.sha256(), bytes: file.bytes },
      warnings: [...summary.warnings, ...(outsideLine ? [outsideLine] : [])],
      ...(outside.size > 0 ? { outside_targets: [...outside].sort(([a], [b]) => (a < b ? -1 : 1)).map(([host, rows]) => ({ host, rows })) } : {}),
    });
  } else if (results.manifest) {
    throw new UsageError('--manifest needs -o FILE: the manifest records the SHA-256 of the output file');
  }

  for (const w of summary.warnings) say(`Warning: ${w}`);
  // Said even under --quiet: rows were left out of the output.
  if (outsideLine) ctx.io.err(`Warning: ${outsideLine}\n`);
  reportStatuses(statuses, live, say);
  if (interrupted) {
    const reason: unknown = ctx.signal.reason;
    say(reason instanceof DeadlineError ? 'Stopped by the deadline: the output holds every answer received.' : 'Interrupted: the output holds every answer received.');
    return reason instanceof CliError ? reason.exitCode : ExitCode.interrupted;
  }
  if (problem) {
    const p = problem instanceof CliError ? problem : new CliError(problem instanceof Error ? problem.message : String(problem));
    ctx.io.err(`${ctx.io.errColor.red('Error:')} ${terminalSafe(p.message)}\n`);
    return ExitCode.partial;
  }
  return queryExitCode(statuses, { offlineFails: Boolean(opts.offlineFails) || Boolean(opts.waitAll) });
}

/**
 * 0 when every online target answered (offline hosts are reported, not failures); 3 when a target
 * answered with an error or did not answer. With --offline-fails (or --wait-all, which asked for
 * them), offline hosts count as missing too.
 */
export function queryExitCode(statuses: ReadonlyArray<Pick<HostStatus, 'status'>>, opts: { offlineFails: boolean }): number {
  const ok = (s: HostStatus['status']) => s === 'answered' || s === 'empty' || (s === 'offline' && !opts.offlineFails);
  return statuses.every((s) => ok(s.status)) ? ExitCode.ok : ExitCode.partial;
}

function reportUnknown(resolved: ResolvedTargets, ignore: boolean, say: (l: string) => void): void {
  const parts: string[] = [];
  // Names as typed or from the server: escaped, and a long list summarised (thousands of typos
  // must not flood the terminal).
  const names = (list: readonly string[]) => summariseNames(list.map((n) => printable(n, 80)));
  if (resolved.unknownHosts.length) parts.push(`unknown host${resolved.unknownHosts.length === 1 ? '' : 's'}: ${names(resolved.unknownHosts)}`);
  if (resolved.unknownLabels.length) parts.push(`unknown label${resolved.unknownLabels.length === 1 ? '' : 's'}: ${names(resolved.unknownLabels)}`);
  if (parts.length === 0) return;
  if (!ignore) {
    throw new InputError(parts.join('; '), { hint: 'check the names (osfleet get hosts, osfleet get labels), or pass --ignore-unknown to skip them' });
  }
  say(`Warning: skipping ${parts.join('; ')}`);
}

/** "cups_jobs does not exist on linux, windows: 2 of 4 targeted hosts will answer with an error". */
export function platformWarnings(sql: string, resolved: ResolvedTargets): string[] {
  const byPlatform = new Map<Platform, number>();
  for (const t of resolved.targets) {
    const h = resolved.hosts.get(t.id);
    const p = platformsOf(typeof h?.platform === 'string' ? h.platform : undefined, 'osquery')[0];
    if (p) byPlatform.set(p, (byPlatform.get(p) ?? 0) + 1);
  }
  const platforms = [...byPlatform.keys()];
  const out: string[] = [];
  for (const { table, missing } of tablesMissingOnEach(sql, platforms)) {
    const affected = missing.reduce((n, p) => n + (byPlatform.get(p) ?? 0), 0);
    if (affected === 0) continue;
    out.push(`${table} does not exist on ${missing.join(', ')}: ${affected} of ${resolved.targets.length} targeted hosts will answer with an error`);
  }
  return out;
}

/** Every target's status (answers from hosts outside the targets are not the campaign's results). */
export function hostStatuses(targets: readonly TargetHost[], answered: ReadonlyMap<string, AnswerRecord>): HostStatus[] {
  const out: HostStatus[] = [];
  const used = new Set<string>();
  for (const t of targets) {
    const key = answered.has(`id:${t.id}`) ? `id:${t.id}` : answered.has(`name:${t.hostname}`) ? `name:${t.hostname}` : undefined;
    const a = key ? answered.get(key) : undefined;
    if (a && key) {
      used.add(key);
      out.push(answerStatus(a));
    } else {
      out.push({ host: t.hostname, hostId: t.id, status: t.online ? 'no-response' : 'offline', rows: 0 });
    }
  }
  return out.sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
}

function reportStatuses(statuses: readonly HostStatus[], live: LiveQuery, say: (l: string) => void): void {
  const count = (s: HostStatus['status']) => statuses.filter((x) => x.status === s).length;
  const rows = statuses.reduce((n, s) => n + s.rows, 0);
  const ended = live.endReason === 'timeout' ? ' (stopped by the timeout)' : '';
  say(
    `${statuses.length} host${statuses.length === 1 ? '' : 's'}: ${count('answered')} answered (${rows} row${rows === 1 ? '' : 's'}), ${count('empty')} empty, ${count('error')} error, ${count('no-response')} no response, ${count('offline')} offline${ended}`,
  );
  const width = Math.max(0, ...statuses.map((s) => s.host.length));
  for (const s of statuses) {
    if (s.status === 'answered' || s.status === 'empty') continue;
    // Host names and errors come from the hosts: escaped, so they cannot drive the terminal.
    say(`  ${printable(s.host).padEnd(width)}  ${s.status}${s.error ? `: ${printable(s.error)}` : ''}`);
  }
}

async function feedUsers(users: LiveQuery, pipeline: ResultPipeline, serial: <T>(fn: () => Promise<T>) => Promise<T>): Promise<void> {
  try {
    for await (const a of users) {
      if (a.error) await serial(() => pipeline.usersFailed(a.host, a.error!));
      else await serial(() => pipeline.writeUsers(a));
    }
    await serial(() => pipeline.endUsers(users.problem?.message));
  } catch (err) {
    await serial(() => pipeline.endUsers(err instanceof Error ? err.message : String(err)));
  }
}

/** Runs async steps one after another: two campaigns feed one writer. */
function serialQueue(): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>) => {
    const next = tail.then(fn, fn);
    tail = next.catch(() => undefined);
    return next;
  };
}
