/**
 * `osfleet query --resume MANIFEST`: asks again only the hosts of an earlier run that did not
 * answer (offline, no response, error), with the same SQL and the same output settings, appends
 * their answers to the same output file (checked against the manifest's SHA-256 first, rewritten
 * atomically) and updates the manifest: both campaigns, each host's latest status, the new hash.
 * What the manifest keeps is `src/results/resume.ts`; this is the run.
 */
import { readFile } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import type { Ctx } from '../../context.js';
import { CliError, ExitCode, InputError } from '../../errors.js';
import { parseDuration } from '../../duration.js';
import type { LiveQuery } from '../../api/campaigns.js';
import { resolveTargets, targetSetOf } from '../../api/targets.js';
import { ResultPipeline, TargetCheck, atomicFile, resolveResultOptions, writeManifest, type HostStatus, type PipelineSummary, type ResultFlags, type ResultOptions } from '../../results/index.js';
import { WithoutHeader, copyFileInto, firstLine, sha256Of } from '../../results/append.js';
import { campaignsAfter, hostsToRetry, latestStatuses, resumableOutput, resumeFlags, resumedManifest, type ResumableManifest } from '../../results/resume.js';
import { clientVersion } from '../../version.js';
import { campaignMaker, serialQueue, usersBeside, waitLeft, writeAnswers, type CampaignSettings } from './campaign.js';
import { hostStatuses, queryExitCode, reportStatuses } from './statuses.js';

type Client = Awaited<ReturnType<Ctx['api']>>;

/** What `--resume` works from: the manifest, and the flags the manifest does not fix. */
export interface ResumeJob extends Pick<ResultFlags, 'keepEpoch' | 'usernames' | 'timeColumns' | 'csvRaw'> {
  manifest: string;
  /** --timeout as given (parsed once the manifest is known good). */
  timeout: string | undefined;
  waitAll: boolean;
  offlineFails: boolean;
  transport: 'auto' | 'ws' | 'rest';
  quiet: boolean;
}

/** The manifest, checked: a query's, whose output is still the file it describes. */
async function readResumable(path: string): Promise<{ m: ResumableManifest; out: string; format: 'ndjson' | 'csv' }> {
  let m: ResumableManifest;
  try {
    m = JSON.parse(await readFile(path, 'utf8')) as ResumableManifest;
  } catch (err) {
    throw new InputError(`cannot read manifest ${path}: ${(err as Error).message}`);
  }
  const { out, format } = resumableOutput(m, path);
  const actual = await sha256Of(out).catch((err: Error) => {
    throw new InputError(`cannot read ${out}: ${err.message}`);
  });
  if (actual !== m.output.sha256) throw new InputError(`${out} changed since ${path} was written (SHA-256 differs): refusing to append to evidence that does not match its manifest`);
  return { m, out, format };
}

/** What the new campaign added to the file. */
interface Appended {
  live: LiveQuery;
  fresh: HostStatus[];
  summary: PipelineSummary;
  startedAt: Date;
  output: { sha256: string; bytes: number };
  /** Answers of hosts not asked again, dropped and counted. */
  check: TargetCheck;
}

/** Rewrites `out` atomically: its earlier bytes, then the answers of the hosts asked again. */
async function appendAnswers(ctx: Ctx, client: Client, m: ResumableManifest, dest: { out: string; format: 'ndjson' | 'csv'; results: ResultOptions }, campaign: CampaignSettings): Promise<Appended> {
  const { out, format, results } = dest;
  const targets = campaign.targets ?? [];
  const file = await atomicFile(out);
  const startedAt = ctx.now();
  let sink: Writable | undefined;
  try {
    // The earlier answers first, byte for byte (the new hash covers the whole file).
    await copyFileInto(out, file.stream);
    sink = format === 'csv' ? new WithoutHeader(file.stream, await firstLine(out), out) : file.stream;
    const csvOptions = { ...results, csv: { ...results.csv, bom: false } };
    const pipeline = new ResultPipeline({ options: csvOptions, sql: m.sql!, sink: sink!, usersCampaign: true });
    const serial = serialQueue();
    const make = campaignMaker(client, ctx, campaign);
    // Answers of hosts not asked again are not this campaign's: dropped before they count, and counted.
    const check = TargetCheck.of(targetSetOf(targets));
    const live = make({ sql: m.sql! }, '', { admit: (a, asked) => check.admit(a, { count: true, asked }) });
    const usersRun = usersBeside(make, pipeline, serial, { admit: (a, asked) => check.admit(a, { count: false, asked }) });
    const failure = await writeAnswers(live, pipeline, serial, undefined, sink);
    await usersRun;
    if (failure && live.answered.size === 0) throw failure;
    const fresh = hostStatuses(targets, live.answered);
    const summary = await serial(() => pipeline.finish(fresh));
    if (sink !== file.stream) await new Promise<void>((resolve, reject) => sink!.end((err?: Error | null) => (err ? reject(err) : resolve())));
    await file.commit();
    return { live, fresh, summary, startedAt, output: { sha256: file.sha256(), bytes: file.bytes }, check };
  } catch (err) {
    sink?.destroy();
    await file.abort();
    throw err;
  }
}

export async function runResume(job: ResumeJob, ctx: Ctx): Promise<number> {
  const commandStart = performance.now(); // --timeout counts from here, as the hard deadline does
  const path = job.manifest;
  const { m, out, format } = await readResumable(path);
  const retry = hostsToRetry(m);
  const say = (line: string) => {
    if (!job.quiet) ctx.io.err(`${line}\n`);
  };
  if (retry.length === 0) {
    say(`Nothing to resume: every host of ${path} answered.`);
    return ExitCode.ok;
  }
  const results = resolveResultOptions(resumeFlags(m, format, out, job), ctx.env, { format });
  const timeoutMs = parseDuration(job.timeout ?? '5m');
  const client = await ctx.api();
  await client.server();
  const names = retry.map((h) => h.host);
  const resolved = await resolveTargets(client, { hosts: names, labels: [], all: false });
  if (resolved.unknownHosts.length > 0) say(`Warning: no longer on the server, kept as they were: ${resolved.unknownHosts.join(', ')}`);
  const targets = resolved.targets;
  if (targets.length === 0) throw new CliError('none of the hosts to ask again is known to the server any more');
  const online = targets.filter((t) => t.online).length;
  say(`Resuming ${path}: asking ${targets.length} host${targets.length === 1 ? '' : 's'} again (${online} online, ${targets.length - online} offline)`);

  const settings: CampaignSettings = { selection: resolved.selection, targets, waitAll: job.waitAll, timeoutMs: waitLeft({ timeoutMs, startedAt: commandStart }), transport: job.transport };
  const { live, fresh, summary, startedAt, output, check } = await appendAnswers(ctx, client, m, { out, format, results }, settings);
  const endedAt = ctx.now().toISOString();
  const merged = latestStatuses(m.hosts, fresh);
  const campaigns = campaignsAfter(m, { started_at: startedAt.toISOString(), ended_at: endedAt, ended_by: live.endReason, targets: { hosts: names }, hosts: targets.map((t) => t.hostname), rows: summary.rows });
  const outside = [...(m.outside_targets ?? []), ...check.outside()];
  await writeManifest(path, {
    ...resumedManifest(m, { version: clientVersion(), endedAt, endedBy: live.endReason, statuses: merged, rows: summary.rows, output, warnings: [...summary.warnings, ...check.lines()], campaigns }),
    ...(outside.length > 0 ? { outside_targets: outside } : {}),
  });

  for (const w of summary.warnings) say(`Warning: ${w}`);
  for (const line of check.lines()) ctx.io.err(`Warning: ${line}\n`);
  reportStatuses(fresh, live, say);
  say(`Appended ${summary.rows} row${summary.rows === 1 ? '' : 's'} to ${out}; ${path} now records ${campaigns.length} campaigns.`);
  if (live.endReason === 'interrupted') return ExitCode.interrupted;
  return queryExitCode(merged, { offlineFails: job.offlineFails || job.waitAll });
}
