/**
 * The campaigns of one `osfleet query` run (and of `--resume`): the output opened first, the main
 * live query and, when the result has uid columns, the users campaign on the same targets beside it,
 * both feeding one result pipeline one step at a time; answers of hosts not targeted dropped before
 * they count (`TargetCheck`, src/results/untargeted.ts); and the progress line they draw.
 */
import type { Writable } from 'node:stream';
import type { Ctx } from '../../context.js';
import { batchWrites } from '../../io.js';
import { LiveQuery, type HostAnswer, type LiveQueryOptions, type LiveQueryProgress, type QueryRef, type TargetHost } from '../../api/campaigns.js';
import { readTargetSet, resolveTargets, targetSetOf } from '../../api/targets.js';
import { ResultPipeline, TargetCheck, USERS_SQL, type ResultOptions } from '../../results/index.js';
import { openDestination, type Destination } from '../../results/destination.js';
import { boundHeap } from '../../results/memory.js';
import type { Preflight } from './targets.js';

type Client = Awaited<ReturnType<Ctx['api']>>;

/** How often a campaign's run looks at the heap's size (boundHeap: a few µs each time). */
const HEAP_CHECK_MS = 200;

/** Runs async steps one after another: two campaigns feed one writer. */
export type Serial = <T>(fn: () => Promise<T>) => Promise<T>;

export function serialQueue(): Serial {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>) => {
    const next = tail.then(fn, fn);
    tail = next.catch(() => undefined);
    return next;
  };
}

/** What every campaign of a run shares: its targets, wait, deadline and transport. */
export type CampaignSettings = Omit<LiveQueryOptions, 'query' | 'signal' | 'debug'>;

/** Makes the run's campaigns: `tag` prefixes their debug lines (`[users] `), `extra` adds callbacks. */
export function campaignMaker(client: Client, ctx: Ctx, settings: CampaignSettings) {
  return (query: QueryRef, tag: string, extra: Partial<LiveQueryOptions> = {}): LiveQuery =>
    new LiveQuery(client, {
      query,
      ...settings,
      signal: ctx.signal,
      debug: ctx.globals.debug ? (l) => ctx.debug(`${tag}${l}`) : undefined,
      ...extra,
    });
}

/** Feeds the users campaign's answers to the pipeline's username join; its failure is a warning there. */
export async function feedUsers(users: LiveQuery, pipeline: ResultPipeline, serial: Serial): Promise<void> {
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

/** The users campaign beside the main one when the pipeline joins usernames; else nothing to wait for. */
export function usersBeside(make: ReturnType<typeof campaignMaker>, pipeline: ResultPipeline, serial: Serial, extra: Partial<LiveQueryOptions> = {}): Promise<void> {
  return pipeline.wantsUsers ? feedUsers(make({ sql: USERS_SQL }, '[users] ', extra), pipeline, serial) : Promise.resolve();
}

/**
 * The campaigns' answer check: an answer whose host the campaign did not target is dropped before it
 * counts, and counted (only the main campaign's: its rows would have been written). With `known`
 * targets the check is ready; otherwise the targets are read once a campaign exists (`supply`, from
 * either campaign's onCampaign): the REST list when it was read, else the labels' members.
 */
export function targetCheck(client: Client, pre: Pick<Preflight, 'known' | 'resolved'>, fullList: () => Promise<TargetHost[]> | undefined, debug?: (line: string) => void) {
  const check = pre.known ? TargetCheck.of(targetSetOf(pre.known)) : TargetCheck.later();
  const supply = (totals: { count: number } | undefined) => {
    if (pre.known || check.supplied) return;
    const listed = fullList();
    check.supply(listed ? listed.then(targetSetOf) : readTargetSet(client, pre.resolved, debug), () => totals?.count);
  };
  const admit = (count: boolean): Partial<LiveQueryOptions> => ({ admit: (a, asked) => check.admit(a, { count, asked }), onCampaign: supply });
  return { check, supply, main: admit(true), users: admit(false) };
}

/**
 * Writes each answer of `live` to the pipeline; `keep` (when given) says which are the campaign's
 * results, the others go to `drop`. (A query's answers of hosts not targeted never reach here: its
 * campaigns drop them before they count, see `targetCheck`.) Returns what ended the reading early.
 * The writes of one turn of the event loop go to `sink` (the pipeline's) as one (see batchWrites).
 */
export async function writeAnswers(live: LiveQuery, pipeline: ResultPipeline, serial: Serial, filter?: { keep: (a: HostAnswer) => boolean; drop: (a: HostAnswer) => void }, sink?: Writable): Promise<unknown> {
  const batch = sink ? batchWrites(sink) : undefined;
  try {
    for await (const answer of live) {
      if (filter && !filter.keep(answer)) {
        filter.drop(answer);
        continue;
      }
      batch?.();
      // Alone (no users campaign beside it), the writes need no queue: one promise less per answer.
      await (pipeline.wantsUsers ? serial(() => pipeline.write(answer)) : pipeline.write(answer));
    }
    return undefined;
  } catch (err) {
    return err;
  }
}

/** "50% responded | 2/4 hosts (3 online) | 1 error | 1.5s (REST)". */
export function progressText(p: LiveQueryProgress): string {
  const pct = p.targeted ? Math.round((100 * p.responded) / p.targeted) : 0;
  return `${pct}% responded | ${p.responded}/${p.targeted} hosts (${p.online} online) | ${p.errors} error${p.errors === 1 ? '' : 's'} | ${(p.elapsedMs / 1000).toFixed(1)}s${p.transport === 'rest' ? ' (REST)' : ''}`;
}

/** The output a run writes and the pipeline onto it. */
export interface Output {
  dest: Destination;
  pipeline: ResultPipeline;
  /** The one writer's queue: the main and the users campaign feed the pipeline in turn. */
  serial: Serial;
}

/** Opens the output first (a private temporary file beside a named file), and the pipeline onto it. */
export async function openResults(ctx: Ctx, results: ResultOptions, sql: string): Promise<Output> {
  const dest = await openDestination(results.output || undefined, { stdout: ctx.io.stdout, cwd: ctx.cwd });
  const pipeline = new ResultPipeline({
    options: results,
    sql,
    sink: dest.sink,
    tty: !dest.toFile && ctx.io.stdoutIsTTY,
    width: dest.toFile ? undefined : ctx.io.columns,
    usersCampaign: true,
    // A campaign over 100,000 hosts is a long run of small answers: V8's young generation would grow
    // to its maximum (peak RSS 2× a bare websocket reader's); held at a fixed size, 1.35× (measured
    // before the targets of --all were read for the untargeted-answer check; bench/README.md).
    boundMemory: true,
  });
  return { dest, pipeline, serial: serialQueue() };
}

/** How the reading of the campaign ended. */
export interface Read {
  live: LiveQuery;
  /** What ended the reading early (a failed campaign, a broken pipe), if anything. */
  failure: unknown;
  /** Answers of hosts the campaign did not target, dropped and counted (or kept, unverified). */
  targets: TargetCheck;
  /** The server counted no host in the selection. */
  noTargets: boolean;
  startedAt: Date;
}

/** What reading the campaign takes from the run's flags. */
export interface CampaignJob {
  quiet: boolean;
  say: (line: string) => void;
  results: Pick<ResultOptions, 'format'>;
  waitAll: boolean;
  /** 0: no timeout. */
  timeoutMs: number;
  /** The command's start (performance.now()), from which --timeout counts. */
  startedAt: number;
  transport: 'auto' | 'ws' | 'rest';
}

/** Runs the campaign (and the users campaign beside it) to its end, each answer into the pipeline. */
export async function readCampaign(ctx: Ctx, client: Client, job: CampaignJob, ref: QueryRef, pre: Preflight, out: Output): Promise<Read> {
  const spinner = job.quiet ? undefined : await ctx.io.spinner('dispatching…', { machineOutput: !out.dest.file && ctx.io.stdoutIsTTY && job.results.format !== 'table' });
  spinner?.start();
  const startedAt = ctx.now();
  // Every targeted host, for REST live queries (host by host) when the selection went unexpanded.
  let fullList: Promise<TargetHost[]> | undefined;
  const listTargets = () => (fullList ??= resolveTargets(client, pre.request).then((r) => r.targets));
  const counted = { none: false };
  const targets = targetCheck(client, pre, () => fullList, ctx.globals.debug ? (l) => ctx.debug(l) : undefined);
  const onCampaign = (totals: { count: number; online: number } | undefined) => {
    targets.supply(totals);
    if (pre.known) return;
    if (totals) pre.targeting(totals.count, totals.online);
    if (totals?.count === 0) counted.none = true;
  };
  const settings: CampaignSettings = { selection: pre.resolved.selection, targets: pre.known, listTargets, waitAll: job.waitAll, timeoutMs: waitLeft(job), transport: job.transport };
  const make = campaignMaker(client, ctx, settings);
  const live = make(ref, '', {
    onProgress: (p) => {
      if (spinner) spinner.text = progressText(p);
    },
    ...targets.main,
    onCampaign,
    onNotice: (m) => (spinner?.live ? (spinner.text = m) : job.say(m)),
  });
  const usersRun = usersBeside(make, out.pipeline, out.serial, targets.users);
  // The heap's bounds (see results/memory.ts) also while no answer is written yet: reading the
  // targets of a 100,000-host campaign parses ~200 MB of host lists first.
  const bounds = setInterval(() => boundHeap(), HEAP_CHECK_MS);
  bounds.unref();
  let failure: unknown;
  try {
    failure = await writeAnswers(live, out.pipeline, out.serial, undefined, out.dest.sink);
  } finally {
    clearInterval(bounds);
  }
  await usersRun;
  spinner?.stop();
  return { live, failure, targets: targets.check, noTargets: counted.none, startedAt };
}

/** What is left of --timeout for the wait on hosts, counted from the command's start (undefined: no timeout). */
export function waitLeft(job: { timeoutMs: number; startedAt: number }, now = performance.now()): number | undefined {
  if (!job.timeoutMs) return undefined;
  return Math.max(1, Math.ceil(job.timeoutMs - (now - job.startedAt)));
}
