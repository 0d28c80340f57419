/**
 * `osfleet query --resume MANIFEST`: asks again only the hosts of an earlier run that did not
 * answer (offline, no response, error), with the same SQL and the same output settings, appends
 * their answers to the same output file (checked against the manifest's SHA-256 first, rewritten
 * atomically) and updates the manifest: both campaigns, each host's latest status, the new hash.
 *
 * NDJSON appends line by line. CSV appends rows under the existing header, so it needs columns the
 * SQL fixes (a `SELECT *` CSV's header depends on the rows, which a second campaign may change).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import type { Ctx } from '../context.js';
import { CliError, ExitCode, InputError, UsageError } from '../errors.js';
import { parseDuration } from '../duration.js';
import { LiveQuery } from '../api/campaigns.js';
import { resolveTargets } from '../api/targets.js';
import {
  ResultPipeline,
  atomicFile,
  hostsForManifest,
  planColumns,
  resolveResultOptions,
  writeManifest,
  type HostStatus,
  type Manifest,
} from '../results/index.js';
import { clientVersion } from '../cli.js';
import { feedUsers, hostStatuses, reportStatuses, serialQueue, type QueryOptions } from './query.js';

const USERS_SQL = 'SELECT uid, username FROM users';
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
  await client.detect();
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
    const pipeline = new ResultPipeline({ options: csvOptions, sql: m.sql, sink, usersCampaign: true });
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
  return merged.every((s) => s.status === 'answered' || s.status === 'empty') ? ExitCode.ok : ExitCode.partial;
}
