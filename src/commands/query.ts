/**
 * `osfleet query`: resolve the targets and check them (preflight), dispatch the live query, follow it
 * until every expected host answered (or the timeout, or Ctrl-C), stream each answer through the
 * result pipeline, and report every host's status. Exit 0 when all answered without error, 3 when
 * some did not, 1 when the campaign could not run, 130 when interrupted (output still valid).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import type { Ctx } from '../context.js';
import { CliError, DeadlineError, ExitCode, InputError, UsageError, isBrokenPipe } from '../errors.js';
import { parseDuration } from '../duration.js';
import { batchWrites } from '../io.js';
import { parseLabelExpr } from '../labelexpr.js';
import { LiveQuery, type AnswerRecord, type LiveQueryOptions, type LiveQueryProgress, type QueryRef, type TargetHost } from '../api/campaigns.js';
import { hostsToName, resolveTargets, type ResolvedTargets } from '../api/targets.js';
import { printable } from '../api/errors.js';
import { limit, overLimit, summariseNames } from '../limits.js';
import { terminalSafe } from '../terminal.js';
import { findQueryByName } from '../api/queries.js';
import { platformsOf, tablesMissingOnEach, type Platform } from '../schema/index.js';
import {
  ResultPipeline,
  atomicFile,
  openOutput,
  hostsForManifest,
  resolveResultOptions,
  safeAddress,
  writeManifest,
  type AtomicFile,
  type HostStatus,
  type Manifest,
  type ResultFlags,
  answerStatus,
  planColumns,
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
  /** A manifest of an earlier run: ask again the hosts that did not answer, append to its output. */
  resume?: string;
}

/** How long the host list may be read after Ctrl-C to name the hosts that did not answer. */
const NAMING_AFTER_INTERRUPT_MS = 10_000;

const splitList = (s: string | undefined) =>
  (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');

export async function run(opts: QueryOptions, ctx: Ctx): Promise<number> {
  if (opts.resume !== undefined) return runResume({ ...opts, resume: opts.resume }, ctx);
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
  // Explicit --hosts are looked up one by one (cheap, and it names unknown ones); labels and --all go
  // to the server as given, so the campaign starts at once and the server counts their hosts.
  const targetRequest = { hosts: hostList, labels: labelList, labelExpr: opts.labelExpr, all: Boolean(opts.all) };
  const resolved = await resolveTargets(client, { ...targetRequest, serverSide: true });
  reportUnknown(resolved, Boolean(opts.ignoreUnknown), say);
  const known = resolved.complete ? resolved.targets : undefined;
  const waitNote = opts.waitAll ? ' (waiting for offline hosts until the timeout)' : '';
  const targeting = (count: number, online: number) =>
    say(`Targeting ${count} host${count === 1 ? '' : 's'}: ${online} online, ${count - online} offline${waitNote}`);
  if (known) {
    if (known.length === 0) throw new CliError('no hosts targeted: the hosts and labels given match no host');
    targeting(known.length, known.filter((t) => t.online).length);
  }
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
  const batch = batchWrites(sink);

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
  // Every targeted host, for REST live queries (host by host) when the selection went unexpanded.
  let fullList: Promise<TargetHost[]> | undefined;
  const listTargets = () => (fullList ??= resolveTargets(client, targetRequest).then((r) => r.targets));
  let noTargets = false;
  const onCampaign = (totals: { count: number; online: number } | undefined) => {
    if (known) return;
    if (totals) targeting(totals.count, totals.online);
    if (totals?.count === 0) noTargets = true;
  };
  const campaign = (query: QueryRef, tag: string, extra: Partial<LiveQueryOptions> = {}) =>
    new LiveQuery(client, {
      query,
      selection: resolved.selection,
      targets: known,
      listTargets,
      waitAll: Boolean(opts.waitAll),
      timeoutMs: timeoutMs || undefined,
      transport: opts.transport ?? 'auto',
      signal: ctx.signal,
      debug: ctx.globals.debug ? (l) => ctx.debug(`${tag}${l}`) : undefined,
      ...extra,
    });
  const live = campaign(ref, '', { onProgress, onCampaign, onNotice: (m) => (spinner?.live ? (spinner.text = m) : say(m)) });
  const usersRun = pipeline.wantsUsers ? feedUsers(campaign({ sql: USERS_SQL }, '[users] '), pipeline, serial) : Promise.resolve();

  // Answers from hosts the campaign did not target are not its results: dropped and counted.
  // (Known only after a preflight: labels and --all went to the server, whose campaign chose the hosts.)
  const targetIds = new Set((known ?? []).map((t) => t.id));
  const targetNames = new Set((known ?? []).map((t) => t.hostname));
  const outside = new Map<string, number>();
  let failure: unknown;
  try {
    for await (const answer of live) {
      const targeted = !known || (answer.hostId !== undefined ? targetIds.has(answer.hostId) : targetNames.has(answer.host));
      if (!targeted) {
        outside.set(answer.host, (outside.get(answer.host) ?? 0) + answer.rows.length);
        continue;
      }
      batch();
      // Alone (no users campaign beside it), the writes need no queue: one promise less per answer.
      await (pipeline.wantsUsers ? serial(() => pipeline.write(answer)) : pipeline.write(answer));
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
  let problem = failure ?? live.problem;
  const nothing = live.answered.size === 0;
  if (noTargets && nothing && !problem) problem = new CliError('no hosts targeted: the hosts and labels given match no host');
  // Hosts that answered are named by their answers; the host lists are read only to name the others,
  // and not at all when every targeted host answered.
  let targets: readonly TargetHost[] = known ?? [];
  if (!known && !(problem && nothing && !interrupted)) {
    // After Ctrl-C the command's signal is spent: the names are read under a bound of their own
    // (a second Ctrl-C still ends the program at once).
    const lister = interrupted ? client.withSignal(AbortSignal.timeout(NAMING_AFTER_INTERRUPT_MS)) : client;
    try {
      targets = await silentTargets(lister, resolved, live, ctx.globals.debug ? (l) => ctx.debug(l) : undefined);
      if (lister !== client) await lister.close();
    } catch (err) {
      if (isBrokenPipe(err)) throw err;
      const why = err instanceof Error ? err.message : String(err);
      problem ??= new CliError(`the hosts that did not answer could not be named (reading the host list failed: ${why})`);
    }
  }
  // Every host's status goes where it is written (-o's manifest, JSON and YAML documents); otherwise
  // only the hosts to report (errors, silent) are listed and the others counted: at 100,000 hosts
  // that is the difference between sorting 100,000 statuses at exit and sorting a handful.
  const everyStatus = Boolean(file) || results.format === 'json' || results.format === 'yaml';
  const { problems, settled } = everyStatus ? { problems: undefined, settled: undefined } : problemStatuses(targets, live.answered, { answeredToo: !known });
  const statuses = problems ?? hostStatuses(targets, live.answered, { answeredToo: !known });

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
      columns: summary.columns,
    });
  } else if (results.manifest) {
    throw new UsageError('--manifest needs -o FILE: the manifest records the SHA-256 of the output file');
  }

  for (const w of summary.warnings) say(`Warning: ${w}`);
  // Said even under --quiet: rows were left out of the output.
  if (outsideLine) ctx.io.err(`Warning: ${outsideLine}\n`);
  reportStatuses(statuses, live, say, settled);
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

/**
 * The targeted hosts that did not answer (explicit --hosts, plus the members of the labels that
 * went to the server unexpanded), read after the answers from the host lists, page by page; none
 * read when the answers already cover the server's count.
 */
async function silentTargets(client: Awaited<ReturnType<Ctx['api']>>, resolved: ResolvedTargets, live: LiveQuery, debug: ((l: string) => void) | undefined): Promise<TargetHost[]> {
  const out = resolved.targets.filter((t) => !live.answered.has(`id:${t.id}`) && !live.answered.has(`name:${t.hostname}`));
  if (live.totals && live.answered.size >= live.totals.count && out.length === 0) return out;
  const have = new Set(out.map((t) => t.id));
  const skip = (id: number, name: string) => have.has(id) || live.answered.has(`id:${id}`) || live.answered.has(`name:${name}`);
  const started = Date.now();
  const totals = live.totals;
  // Every online host answered: the silent ones are the offline ones, which the server filters
  // out of the list for us (a few pages instead of every host). Checked against the server's count;
  // short of it (status changed meanwhile, a server that ignores the filter), the full list follows.
  if (totals && live.answered.size >= totals.online) {
    for await (const t of hostsToName(client, resolved.listed, skip, { status: 'offline' })) {
      have.add(t.id);
      out.push(t);
    }
    debug?.(`named ${out.length} offline host(s) (${Date.now() - started} ms)`);
    if (live.answered.size + out.length >= totals.count) return out;
  }
  for await (const t of hostsToName(client, resolved.listed, skip)) {
    have.add(t.id);
    out.push(t);
  }
  debug?.(`named ${out.length} host(s) that did not answer (${Date.now() - started} ms)`);
  return out;
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

/** Built-in labels whose members all run one platform (both generations' names). */
const PLATFORM_LABELS: Record<string, Platform> = {
  macos: 'darwin',
  'mac os x': 'darwin',
  'ms windows': 'windows',
  'ubuntu linux': 'linux',
  'centos linux': 'linux',
  'red hat linux': 'linux',
  'all linux': 'linux',
};

/**
 * How many targeted hosts run each platform, when that is known without listing hosts: explicit
 * hosts from their records, built-in platform labels from their counts, `All Hosts` from the
 * platform labels' counts. Undefined when a label of other hosts (or a mix) is targeted.
 */
function platformCounts(resolved: ResolvedTargets): { byPlatform: Map<Platform, number>; total: number } | undefined {
  const byPlatform = new Map<Platform, number>();
  const add = (p: Platform, n: number) => byPlatform.set(p, (byPlatform.get(p) ?? 0) + n);
  const countOf = (l: ResolvedTargets['labels'][number]) => Number(l.host_count ?? l.count ?? 0);
  if (resolved.complete) {
    for (const t of resolved.targets) {
      const h = resolved.hosts.get(t.id);
      const p = platformsOf(typeof h?.platform === 'string' ? h.platform : undefined, 'osquery')[0];
      if (p) add(p, 1);
    }
    return { byPlatform, total: resolved.targets.length };
  }
  if (resolved.targets.length > 0) return undefined;
  if (resolved.listed.all) {
    const all = resolved.labels.find((l) => l.name.toLowerCase() === 'all hosts');
    const named = new Map(resolved.labels.map((l) => [l.name.toLowerCase(), countOf(l)]));
    const mac = named.get('macos') ?? named.get('mac os x') ?? 0;
    const win = named.get('ms windows') ?? 0;
    const linux = named.get('all linux') ?? (named.get('ubuntu linux') ?? 0) + (named.get('centos linux') ?? 0);
    if (!all) return undefined;
    add('darwin', mac);
    add('windows', win);
    add('linux', linux);
    return { byPlatform, total: countOf(all) };
  }
  let total = 0;
  for (const l of resolved.listed.labels) {
    const p = PLATFORM_LABELS[l.name.toLowerCase()];
    if (!p) return undefined;
    add(p, countOf(l));
    total += countOf(l);
  }
  return { byPlatform, total };
}

/** "cups_jobs does not exist on linux, windows: 2 of 4 targeted hosts will answer with an error". */
export function platformWarnings(sql: string, resolved: ResolvedTargets): string[] {
  const counts = platformCounts(resolved);
  if (!counts) return [];
  const { byPlatform, total } = counts;
  const platforms = [...byPlatform.keys()].filter((p) => (byPlatform.get(p) ?? 0) > 0).sort();
  const out: string[] = [];
  for (const { table, missing } of tablesMissingOnEach(sql, platforms)) {
    const affected = missing.reduce((n, p) => n + (byPlatform.get(p) ?? 0), 0);
    if (affected === 0) continue;
    out.push(`${table} does not exist on ${missing.join(', ')}: ${affected} of ${total} targeted hosts will answer with an error`);
  }
  return out;
}

/**
 * Every target's status, then (with `answeredToo`, when there was no preflight and `targets` holds
 * only the silent hosts) the hosts named by their answers. Answers from hosts outside the targets
 * are not the campaign's results.
 */
function* targetStatuses(targets: readonly TargetHost[], answered: ReadonlyMap<string, AnswerRecord>, answeredToo: boolean): Generator<HostStatus> {
  const used = new Set<string>();
  for (const t of targets) {
    const key = answered.has(`id:${t.id}`) ? `id:${t.id}` : answered.has(`name:${t.hostname}`) ? `name:${t.hostname}` : undefined;
    const a = key ? answered.get(key) : undefined;
    if (a && key) {
      used.add(key);
      yield answerStatus(a);
    } else {
      yield { host: t.hostname, hostId: t.id, status: t.online ? 'no-response' : 'offline', rows: 0 };
    }
  }
  if (answeredToo) for (const [key, a] of answered) if (!used.has(key)) yield answerStatus(a);
}

const byHost = (a: HostStatus, b: HostStatus) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0);

/** Every target's status, sorted by host. */
export function hostStatuses(targets: readonly TargetHost[], answered: ReadonlyMap<string, AnswerRecord>, opts: { answeredToo?: boolean } = {}): HostStatus[] {
  return [...targetStatuses(targets, answered, opts.answeredToo ?? false)].sort(byHost);
}

/** Hosts that answered without error, counted rather than listed. */
export interface Settled {
  answered: number;
  empty: number;
  rows: number;
}

/**
 * hostStatuses' statuses of the hosts that errored or did not answer, sorted; the others counted.
 */
export function problemStatuses(targets: readonly TargetHost[], answered: ReadonlyMap<string, AnswerRecord>, opts: { answeredToo?: boolean } = {}): { problems: HostStatus[]; settled: Settled } {
  const problems: HostStatus[] = [];
  const settled: Settled = { answered: 0, empty: 0, rows: 0 };
  for (const s of targetStatuses(targets, answered, opts.answeredToo ?? false)) {
    if (s.status === 'answered' || s.status === 'empty') {
      settled[s.status]++;
      settled.rows += s.rows;
    } else problems.push(s);
  }
  problems.sort(byHost);
  return { problems, settled };
}

export function reportStatuses(statuses: readonly HostStatus[], live: LiveQuery, say: (l: string) => void, settled?: Settled): void {
  // One pass, and the column width from the lines printed only: 100,000 statuses cost a loop.
  const counts: Record<HostStatus['status'], number> = { answered: settled?.answered ?? 0, empty: settled?.empty ?? 0, error: 0, 'no-response': 0, offline: 0 };
  let rows = settled?.rows ?? 0;
  let width = 0;
  for (const s of statuses) {
    counts[s.status] = (counts[s.status] ?? 0) + 1;
    rows += s.rows;
    if (s.status !== 'answered' && s.status !== 'empty' && s.host.length > width) width = s.host.length;
  }
  const count = (s: HostStatus['status']) => counts[s] ?? 0;
  const total = statuses.length + (settled ? settled.answered + settled.empty : 0);
  const ended = live.endReason === 'timeout' ? ' (stopped by the timeout)' : '';
  say(
    `${total} host${total === 1 ? '' : 's'}: ${count('answered')} answered (${rows} row${rows === 1 ? '' : 's'}), ${count('empty')} empty, ${count('error')} error, ${count('no-response')} no response, ${count('offline')} offline${ended}`,
  );
  for (const s of statuses) {
    if (s.status === 'answered' || s.status === 'empty') continue;
    // Host names and errors come from the hosts: escaped, so they cannot drive the terminal.
    say(`  ${printable(s.host).padEnd(width)}  ${s.status}${s.error ? `: ${printable(s.error)}` : ''}`);
  }
}

export async function feedUsers(users: LiveQuery, pipeline: ResultPipeline, serial: <T>(fn: () => Promise<T>) => Promise<T>): Promise<void> {
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
export function serialQueue(): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>) => {
    const next = tail.then(fn, fn);
    tail = next.catch(() => undefined);
    return next;
  };
}

// --- --resume ------------------------------------------------------------------------------------

/**
 * `--resume MANIFEST`: asks again only the hosts of an earlier run that did not
 * answer (offline, no response, error), with the same SQL and the same output settings, appends
 * their answers to the same output file (checked against the manifest's SHA-256 first, rewritten
 * atomically) and updates the manifest: both campaigns, each host's latest status, the new hash.
 *
 * NDJSON appends line by line. CSV appends rows under the existing header, so it needs columns the
 * SQL fixes (a `SELECT *` CSV's header depends on the rows, which a second campaign may change).
 */
/** Host states worth asking again. */
const RETRY = new Set(['offline', 'no-response', 'error']);

interface Campaign {
  started_at: string;
  ended_at: string;
  ended_by: string;
  targets: Manifest['targets'];
  hosts: string[];
  rows: number;
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The first line of a file (a CSV header), without its line end and BOM. */
async function firstLine(path: string): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const text = buf.toString('utf8', 0, bytesRead).replace(/^\ufeff/, '');
    const end = text.indexOf('\n');
    return (end === -1 ? text : text.slice(0, end)).replace(/\r$/, '');
  } finally {
    await fh.close();
  }
}

/** Passes CSV on to `out` without its header line, which must be `expected`. */
class WithoutHeader extends Writable {
  private head = '';
  private passed = false;
  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly expected: string,
    private readonly path: string,
  ) {
    super();
  }
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    let text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    if (!this.passed) {
      this.head += text;
      const end = this.head.indexOf('\n');
      if (end === -1) return cb();
      const header = this.head.slice(0, end).replace(/\r$/, '').replace(/^\ufeff/, '');
      if (header !== this.expected) return cb(new InputError(`${this.path}: the new answers have other columns (${header}) than the file (${this.expected}); nothing was appended`, { hint: 'resume with the same --keep-epoch/--no-usernames flags as the first run' }));
      this.passed = true;
      text = this.head.slice(end + 1);
      this.head = '';
    }
    if (text === '' || this.out.write(text)) cb();
    else this.out.once('drain', () => cb());
  }
}

export async function runResume(opts: QueryOptions & { resume: string }, ctx: Ctx): Promise<number> {
  const given = (['hosts', 'labels', 'labelExpr', 'all', 'query', 'queryName', 'output', 'format', 'manifest', 'tz', 'raw', 'enrich', 'bom'] as const).filter((k) => opts[k] !== undefined && opts[k] !== false);
  if (given.length > 0) throw new UsageError(`--resume takes the query, hosts and output settings from the manifest: drop ${given.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')}`);
  const path = opts.resume;
  let m: Manifest & { campaigns?: Campaign[] };
  try {
    m = JSON.parse(await readFile(path, 'utf8')) as typeof m;
  } catch (err) {
    throw new InputError(`cannot read manifest ${path}: ${(err as Error).message}`);
  }
  if (m?.command !== 'query' || typeof m.sql !== 'string' || !Array.isArray(m.hosts)) throw new InputError(`${path}: not the manifest of an osfleet query`);
  const out = m.output?.path;
  if (!out) throw new InputError(`${path}: the run wrote no file: there is nothing to append to`);
  const format = m.output.format;
  if (format !== 'ndjson' && format !== 'csv') throw new UsageError(`${out} is ${format}: --resume appends to ndjson and csv outputs only`);
  if (format === 'csv' && !planColumns(m.sql).select) {
    throw new UsageError(`${out}: the CSV's columns came from the rows (the SQL does not name them), so answers cannot be appended under its header`, 'run the query with -o FILE.ndjson to be able to resume, or name the columns in the SELECT');
  }
  const actual = await sha256Of(out).catch((err: Error) => {
    throw new InputError(`cannot read ${out}: ${err.message}`);
  });
  if (actual !== m.output.sha256) throw new InputError(`${out} changed since ${path} was written (SHA-256 differs): refusing to append to evidence that does not match its manifest`);

  const retry = m.hosts.filter((h) => RETRY.has(h.status));
  const say = (line: string) => {
    if (!opts.quiet) ctx.io.err(`${line}\n`);
  };
  if (retry.length === 0) {
    say(`Nothing to resume: every host of ${path} answered.`);
    return ExitCode.ok;
  }

  const results = resolveResultOptions(
    {
      format,
      output: out,
      tz: m.time_zone,
      ...(m.time_format === 'raw' ? { times: false } : { timeFormat: m.time_format }),
      ...(m.enriched ? { enrich: true } : { raw: true }),
      keepEpoch: opts.keepEpoch,
      usernames: opts.usernames,
      timeColumns: opts.timeColumns,
      csvRaw: opts.csvRaw,
    },
    ctx.env,
    { format },
  );
  const timeoutMs = parseDuration(opts.timeout ?? '5m');
  const client = await ctx.api();
  await client.server();
  const names = retry.map((h) => h.host);
  const resolved = await resolveTargets(client, { hosts: names, labels: [], all: false });
  if (resolved.unknownHosts.length > 0) say(`Warning: no longer on the server, kept as they were: ${resolved.unknownHosts.join(', ')}`);
  const targets = resolved.targets;
  if (targets.length === 0) throw new CliError('none of the hosts to ask again is known to the server any more');
  const online = targets.filter((t) => t.online).length;
  say(`Resuming ${path}: asking ${targets.length} host${targets.length === 1 ? '' : 's'} again (${online} online, ${targets.length - online} offline)`);

  const file = await atomicFile(out);
  let summary;
  let live: LiveQuery;
  const startedAt = ctx.now();
  let sink: Writable | undefined;
  try {
    // The earlier answers first, byte for byte (the new hash covers the whole file).
    for await (const chunk of createReadStream(out)) {
      if (!file.stream.write(chunk)) await new Promise<void>((resolve) => file.stream.once('drain', () => resolve()));
    }
    sink = format === 'csv' ? new WithoutHeader(file.stream, await firstLine(out), out) : file.stream;
    const csvOptions = { ...results, csv: { ...results.csv, bom: false } };
    const pipeline = new ResultPipeline({ options: csvOptions, sql: m.sql, sink: sink!, usersCampaign: true });
    const serial = serialQueue();
    const campaign = (sql: string, tag: string) =>
      new LiveQuery(client, {
        query: { sql },
        selection: resolved.selection,
        targets,
        waitAll: Boolean(opts.waitAll),
        timeoutMs: timeoutMs || undefined,
        transport: opts.transport ?? 'auto',
        signal: ctx.signal,
        debug: ctx.globals.debug ? (l) => ctx.debug(`${tag}${l}`) : undefined,
      });
    live = campaign(m.sql, '');
    const usersRun = pipeline.wantsUsers ? feedUsers(campaign(USERS_SQL, '[users] '), pipeline, serial) : Promise.resolve();
    let failure: unknown;
    try {
      for await (const answer of live) await serial(() => pipeline.write(answer));
    } catch (err) {
      failure = err;
    }
    await usersRun;
    if (failure && live.answered.size === 0) throw failure;
    const fresh = hostStatuses(targets, live.answered);
    summary = await serial(() => pipeline.finish(fresh));
    if (sink !== file.stream) await new Promise<void>((resolve, reject) => sink!.end((err?: Error | null) => (err ? reject(err) : resolve())));
    await file.commit();
    summary = { ...summary, fresh };
  } catch (err) {
    sink?.destroy();
    await file.abort();
    throw err;
  }
  const endedAt = ctx.now();
  const fresh = summary.fresh;

  // Each host's latest status: a host that answered now replaces its earlier miss.
  const latest = new Map<string, HostStatus>();
  for (const h of m.hosts) latest.set(h.host, { host: h.host, ...(h.host_id !== undefined ? { hostId: h.host_id } : {}), status: h.status as HostStatus['status'], rows: h.rows, ...(h.error ? { error: h.error } : {}) });
  for (const s of fresh) latest.set(s.host, s);
  const merged = [...latest.values()];
  const campaigns: Campaign[] = m.campaigns ?? [{ started_at: m.started_at, ended_at: m.ended_at, ended_by: m.ended_by, targets: m.targets, hosts: m.hosts.map((h) => h.host), rows: m.rows }];
  campaigns.push({ started_at: startedAt.toISOString(), ended_at: endedAt.toISOString(), ended_by: live!.endReason, targets: { hosts: names }, hosts: targets.map((t) => t.hostname), rows: summary.rows });
  await writeManifest(path, {
    ...m,
    osfleet_version: clientVersion(),
    ended_at: endedAt.toISOString(),
    ended_by: live!.endReason,
    hosts: hostsForManifest(merged),
    rows: m.rows + summary.rows,
    output: { ...m.output, sha256: file.sha256(), bytes: file.bytes },
    warnings: [...(m.warnings ?? []), ...summary.warnings],
    campaigns,
  } as Manifest);

  for (const w of summary.warnings) say(`Warning: ${w}`);
  reportStatuses(fresh, live!, say);
  say(`Appended ${summary.rows} row${summary.rows === 1 ? '' : 's'} to ${out}; ${path} now records ${campaigns.length} campaigns.`);
  if (live!.endReason === 'interrupted') return ExitCode.interrupted;
  return queryExitCode(merged, { offlineFails: Boolean(opts.offlineFails) || Boolean(opts.waitAll) });
}
