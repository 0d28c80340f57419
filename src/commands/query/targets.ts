/**
 * `osfleet query`'s targets around the campaign: the preflight, unknown names (an error, or a warning with
 * --ignore-unknown), the platform warnings known before dispatch, and, after the answers, the
 * targeted hosts that did not answer, read from the server's host lists.
 */
import type { Ctx } from '../../context.js';
import { CliError, InputError } from '../../errors.js';
import { summariseNames } from '../../limits.js';
import { printable } from '../../terminal.js';
import { answerKeyOf, type LiveQuery, type TargetHost } from '../../api/campaigns.js';
import { hostsToName, resolveTargets, type ResolvedTargets, type TargetRequest } from '../../api/targets.js';
import { platformsOf, tablesMissingOnEach, type Platform } from '../../schema/index.js';

type Client = Awaited<ReturnType<Ctx['api']>>;

/** The targets before dispatch. */
export interface Preflight {
  /** The targets as asked for. */
  request: TargetRequest;
  resolved: ResolvedTargets;
  /** Every target, when the preflight resolved them all; undefined when labels or --all went to the server. */
  known: TargetHost[] | undefined;
  /** Says "Targeting N hosts: …" (once the count is known). */
  targeting: (count: number, online: number) => void;
}

/** What the preflight takes from the run's flags. */
export interface PreflightJob extends TargetRequest {
  ignoreUnknown: boolean;
  waitAll: boolean;
  say: (line: string) => void;
}

/**
 * Resolves the targets (unknown names: an error, or skipped under --ignore-unknown), says how many
 * hosts are targeted when that is known, and warns of tables missing on their platforms.
 */
export async function preflight(client: Client, job: PreflightJob, sql: string): Promise<Preflight> {
  // Explicit --hosts are looked up one by one (cheap, and it names unknown ones); labels and --all go
  // to the server as given, so the campaign starts at once and the server counts their hosts.
  const request: TargetRequest = { hosts: job.hosts, labels: job.labels, labelExpr: job.labelExpr, all: job.all };
  const resolved = await resolveTargets(client, { ...request, serverSide: true });
  reportUnknown(resolved, job.ignoreUnknown, job.say);
  const known = resolved.complete ? resolved.targets : undefined;
  const waitNote = job.waitAll ? ' (waiting for offline hosts until the timeout)' : '';
  const targeting = (count: number, online: number) =>
    job.say(`Targeting ${count} host${count === 1 ? '' : 's'}: ${online} online, ${count - online} offline${waitNote}`);
  if (known) {
    if (known.length === 0) throw new CliError('no hosts targeted: the hosts and labels given match no host');
    targeting(known.length, known.filter((t) => t.online).length);
  }
  for (const line of platformWarnings(sql, resolved)) job.say(`Warning: ${line}`);
  return { request, resolved, known, targeting };
}

/** Names the hosts and labels the server does not know: an error, or with `ignore` a warning. */
export function reportUnknown(resolved: ResolvedTargets, ignore: boolean, say: (l: string) => void): void {
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

/**
 * The targeted hosts that did not answer (explicit --hosts, plus the members of the labels that
 * went to the server unexpanded), read after the answers from the host lists, page by page; none
 * read when the answers already cover the server's count.
 */
export async function silentTargets(client: Client, resolved: ResolvedTargets, live: LiveQuery, debug: ((l: string) => void) | undefined): Promise<TargetHost[]> {
  const out = resolved.targets.filter((t) => answerKeyOf(live.answered, t) === undefined);
  if (live.totals && live.answered.size >= live.totals.count && out.length === 0) return out;
  const have = new Set(out.map((t) => t.id));
  const skip = (id: number, name: string) => have.has(id) || answerKeyOf(live.answered, { id, hostname: name }) !== undefined;
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

interface PlatformCounts {
  byPlatform: Map<Platform, number>;
  total: number;
}

const countOf = (l: ResolvedTargets['labels'][number]) => Number(l.host_count ?? l.count ?? 0);

/** `--all`: the hosts of each platform from the built-in platform labels' counts; undefined without `All Hosts`. */
function allHostsCounts(labels: ResolvedTargets['labels']): PlatformCounts | undefined {
  const all = labels.find((l) => l.name.toLowerCase() === 'all hosts');
  const named = new Map(labels.map((l) => [l.name.toLowerCase(), countOf(l)]));
  const mac = named.get('macos') ?? named.get('mac os x') ?? 0;
  const win = named.get('ms windows') ?? 0;
  const linux = named.get('all linux') ?? (named.get('ubuntu linux') ?? 0) + (named.get('centos linux') ?? 0);
  if (!all) return undefined;
  return { byPlatform: new Map<Platform, number>([['darwin', mac], ['windows', win], ['linux', linux]]), total: countOf(all) };
}

/**
 * How many targeted hosts run each platform, when that is known without listing hosts: explicit
 * hosts from their records, built-in platform labels from their counts, `All Hosts` from the
 * platform labels' counts. Undefined when a label of other hosts (or a mix) is targeted.
 */
function platformCounts(resolved: ResolvedTargets): PlatformCounts | undefined {
  const byPlatform = new Map<Platform, number>();
  const add = (p: Platform, n: number) => byPlatform.set(p, (byPlatform.get(p) ?? 0) + n);
  if (resolved.complete) {
    for (const t of resolved.targets) {
      const h = resolved.hosts.get(t.id);
      const p = platformsOf(typeof h?.platform === 'string' ? h.platform : undefined, 'osquery')[0];
      if (p) add(p, 1);
    }
    return { byPlatform, total: resolved.targets.length };
  }
  if (resolved.targets.length > 0) return undefined;
  if (resolved.listed.all) return allHostsCounts(resolved.labels);
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
