/**
 * The state `query --resume` keeps in a query's manifest: which hosts are worth asking again, the
 * result settings the first run used, and after the new campaign each host's latest status and the
 * list of campaigns the output now holds. Pure: the command reads and writes the files.
 *
 * NDJSON appends line by line. CSV appends rows under the existing header, so it needs columns the
 * SQL fixes (a `SELECT *` CSV's header depends on the rows, which a second campaign may change).
 */
import { InputError, UsageError } from '../errors.js';
import { hostsForManifest, type Manifest } from './manifest.js';
import type { ResultFlags } from './options.js';
import { planColumns } from './plan.js';
import type { HostStatus } from './types.js';

/** One campaign whose answers the output holds. */
export interface ManifestCampaign {
  started_at: string;
  ended_at: string;
  ended_by: string;
  targets: Manifest['targets'];
  hosts: string[];
  rows: number;
}

/** A query's manifest, with the campaigns of earlier resumes. */
export type ResumableManifest = Manifest & { campaigns?: ManifestCampaign[] };

/** Host states worth asking again. */
const RETRY = new Set(['offline', 'no-response', 'error']);

/**
 * Checks that `m` (read from `path`) is a query's manifest whose output can take more answers;
 * returns that output's path and format.
 */
export function resumableOutput(m: ResumableManifest, path: string): { out: string; format: 'ndjson' | 'csv' } {
  if (m?.command !== 'query' || typeof m.sql !== 'string' || !Array.isArray(m.hosts)) throw new InputError(`${path}: not the manifest of an osfleet query`);
  const out = m.output?.path;
  if (!out) throw new InputError(`${path}: the run wrote no file: there is nothing to append to`);
  const format = m.output.format;
  if (format !== 'ndjson' && format !== 'csv') throw new UsageError(`${out} is ${format}: --resume appends to ndjson and csv outputs only`);
  if (format === 'csv' && !planColumns(m.sql).select) {
    throw new UsageError(`${out}: the CSV's columns came from the rows (the SQL does not name them), so answers cannot be appended under its header`, 'run the query with -o FILE.ndjson to be able to resume, or name the columns in the SELECT');
  }
  return { out, format };
}

/** The hosts of the manifest that did not answer (offline, no response, error). */
export function hostsToRetry(m: Manifest): Manifest['hosts'] {
  return m.hosts.filter((h) => RETRY.has(h.status));
}

/** The result flags of the first run, from its manifest, with the flags a resume may still give. */
export function resumeFlags(m: Manifest, format: 'ndjson' | 'csv', out: string, given: Pick<ResultFlags, 'keepEpoch' | 'usernames' | 'timeColumns' | 'csvRaw'>): ResultFlags {
  return {
    format,
    output: out,
    tz: m.time_zone,
    ...(m.time_format === 'raw' ? { times: false } : { timeFormat: m.time_format }),
    ...(m.enriched ? { enrich: true } : { raw: true }),
    keepEpoch: given.keepEpoch,
    usernames: given.usernames,
    timeColumns: given.timeColumns,
    csvRaw: given.csvRaw,
  };
}

/** Each host's latest status: a host that answered now replaces its earlier miss. */
export function latestStatuses(earlier: Manifest['hosts'], fresh: readonly HostStatus[]): HostStatus[] {
  const latest = new Map<string, HostStatus>();
  for (const h of earlier) latest.set(h.host, { host: h.host, ...(h.host_id !== undefined ? { hostId: h.host_id } : {}), status: h.status as HostStatus['status'], rows: h.rows, ...(h.error ? { error: h.error } : {}) });
  for (const s of fresh) latest.set(s.host, s);
  return [...latest.values()];
}

/** The campaigns the output holds after `next`: the first run's (when none were listed yet), then each resume's. */
export function campaignsAfter(m: ResumableManifest, next: ManifestCampaign): ManifestCampaign[] {
  const campaigns: ManifestCampaign[] = m.campaigns ?? [{ started_at: m.started_at, ended_at: m.ended_at, ended_by: m.ended_by, targets: m.targets, hosts: m.hosts.map((h) => h.host), rows: m.rows }];
  return [...campaigns, next];
}

/** What a resume changes in the manifest. */
export interface ResumeOutcome {
  version: string;
  endedAt: string;
  endedBy: string;
  statuses: readonly HostStatus[];
  rows: number;
  output: { sha256: string; bytes: number };
  warnings: readonly string[];
  campaigns: ManifestCampaign[];
}

/** The manifest after a resume: both campaigns, each host's latest status, the rows added, the new hash. */
export function resumedManifest(m: ResumableManifest, r: ResumeOutcome): ResumableManifest {
  return {
    ...m,
    osfleet_version: r.version,
    ended_at: r.endedAt,
    ended_by: r.endedBy,
    hosts: hostsForManifest(r.statuses),
    rows: m.rows + r.rows,
    output: { ...m.output, sha256: r.output.sha256, bytes: r.output.bytes },
    warnings: [...(m.warnings ?? []), ...r.warnings],
    campaigns: r.campaigns,
  };
}
