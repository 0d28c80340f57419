/**
 * Resolving what a live query targets before dispatch: hosts by hostname, uuid, serial or id; labels
 * by name (case-insensitive, as Fleet matches them); `--all`; and label expressions evaluated here.
 * Unknown names come back as data, so the command can stop or go on (--ignore-unknown).
 */
import type { FleetClient } from './client.js';
import { SHAPES } from './shapes.js';
import { getHost, getHostByIdentifier, labelMemberIds, labelMembers, listHosts, listLabels, type Host, type Label } from './hosts.js';
import type { Selection, TargetHost } from './campaigns.js';
import { evaluateLabelExpr, labelNames, parseLabelExpr } from '../labelexpr.js';

export interface TargetRequest {
  hosts: string[];
  labels: string[];
  labelExpr?: string | undefined;
  all: boolean;
  /**
   * Leave labels and --all to the server: name them in the selection and list no host before the
   * campaign (the server's totals count them; `hostsToName` names the silent ones afterwards).
   * Label expressions are still evaluated here, from the members of each label.
   */
  serverSide?: boolean;
}

export interface ResolvedTargets {
  targets: TargetHost[];
  /** Full host records by id (platform, status), for preflight checks. */
  hosts: Map<number, Host>;
  /** What the first campaign asks for. */
  selection: Selection;
  unknownHosts: string[];
  unknownLabels: string[];
  /**
   * False when labels (or --all) went to the server unexpanded: `targets` then holds only the
   * explicit --hosts, and `listed` says which host lists name the rest.
   */
  complete: boolean;
  /** What to page through to name every targeted host: all hosts, and/or these labels' members. */
  listed: { all: boolean; labels: Label[] };
  /** The server's labels (read when labels or --all were asked for), with their host counts. */
  labels: Label[];
}

export function toTarget(h: Host): TargetHost {
  return {
    id: h.id,
    hostname: h.hostname,
    displayName: typeof h.display_name === 'string' && h.display_name !== '' ? h.display_name : undefined,
    uuid: h.uuid || undefined,
    online: h.status === 'online',
  };
}

async function allHosts(client: FleetClient): Promise<Host[]> {
  const out: Host[] = [];
  for await (const page of listHosts(client)) out.push(...page);
  return out;
}

export async function resolveTargets(client: FleetClient, req: TargetRequest): Promise<ResolvedTargets> {
  const hosts = new Map<number, Host>();
  const unknownHosts: string[] = [];
  const unknownLabels: string[] = [];
  const selection: Selection = { hosts: [], labels: [] };
  const byHostname = (await client.server()).traits.campaignHosts === 'hostname';

  const needLabels = req.labels.length > 0 || req.labelExpr !== undefined || req.all;
  const labels = needLabels ? await listLabels(client) : [];
  const byName = new Map<string, Label>();
  for (const l of labels) byName.set(l.name.toLowerCase(), l);

  const listed: ResolvedTargets['listed'] = { all: false, labels: [] };
  let complete = true;
  if (req.all) {
    const allLabel = byName.get('all hosts');
    if (allLabel && req.serverSide) {
      selection.labels.push(allLabel.name);
      listed.all = true;
      complete = false;
    } else {
      for (const h of await allHosts(client)) hosts.set(h.id, h);
      if (allLabel) selection.labels.push(allLabel.name);
      else selection.hosts.push(...[...hosts.values()].map((h) => h.hostname));
    }
  }

  for (const ident of req.hosts) {
    const h = /^\d+$/.test(ident) ? ((await getHost(client, Number(ident))) ?? (await getHostByIdentifier(client, ident))) : await getHostByIdentifier(client, ident);
    if (!h) {
      unknownHosts.push(ident);
      continue;
    }
    hosts.set(h.id, h);
    // Kolide's run_by_names matches hostnames only; FleetDM's identifiers take what the user typed.
    selection.hosts.push(byHostname ? h.hostname : /^\d+$/.test(ident) ? h.uuid || h.hostname : ident);
  }

  for (const name of req.labels) {
    const label = byName.get(name.toLowerCase());
    if (!label) {
      unknownLabels.push(name);
      continue;
    }
    selection.labels.push(label.name);
    if (req.serverSide) {
      listed.labels.push(label);
      complete = false;
    } else for (const h of await labelMembers(client, label.id)) hosts.set(h.id, h);
  }

  if (req.labelExpr !== undefined) {
    const tree = parseLabelExpr(req.labelExpr);
    const memberSets = new Map<string, Set<number>>();
    const known = new Map<number, Host>();
    for (const name of labelNames(tree)) {
      const label = byName.get(name.toLowerCase());
      if (!label) {
        unknownLabels.push(name);
        memberSets.set(name, new Set());
        continue;
      }
      const members = await labelMembers(client, label.id);
      for (const h of members) known.set(h.id, h);
      memberSets.set(name, new Set(members.map((h) => h.id)));
    }
    const universe = new Map<number, Host>();
    if (hasNot(req.labelExpr)) for (const h of await allHosts(client)) universe.set(h.id, h);
    for (const [id, h] of known) universe.set(id, h);
    const ids = evaluateLabelExpr(tree, (n) => memberSets.get(n) ?? new Set(), new Set(universe.keys()));
    for (const id of ids) {
      const h = universe.get(id);
      if (!h) continue;
      hosts.set(id, h);
      selection.hosts.push(byHostname ? h.hostname : h.uuid || h.hostname);
    }
  }

  const targets = [...hosts.values()].map(toTarget).sort((a, b) => a.hostname.localeCompare(b.hostname));
  // Every host is named by --all: the labels' lists add nothing.
  if (listed.all) listed.labels = [];
  return { targets, hosts, selection, unknownHosts, unknownLabels, complete, listed, labels };
}

/** Hosts fetched at once while naming the silent ones: memory holds this many pages, no more. */
const PARALLEL_PAGES = 4;
const PAGE_SIZE = 500;

/**
 * The targeted hosts that `skip` does not exclude (those that answered), read from the host lists
 * the selection named: pages fetched a few at a time in parallel, each reduced to the fields a
 * status needs and dropped, so memory holds a few pages and the hosts yielded, never every host.
 * A host in several lists is yielded once.
 */
export async function* hostsToName(
  client: FleetClient,
  listed: ResolvedTargets['listed'],
  skip: (id: number, hostname: string) => boolean,
  opts: { parallel?: number; perPage?: number; status?: 'offline' } = {},
): AsyncGenerator<TargetHost> {
  const parallel = Math.max(1, opts.parallel ?? PARALLEL_PAGES);
  const perPage = opts.perPage ?? PAGE_SIZE;
  const seen = new Set<number>();
  const lists: Array<string> = listed.all ? ['/hosts'] : listed.labels.map((l) => `/labels/${l.id}/hosts`);
  for (const path of lists) {
    for (let first = 0; ; first += parallel) {
      const pages = Array.from({ length: parallel }, (_, i) => hostPage(client, path, first + i, perPage, skip, opts.status));
      // The first failure is thrown below; the others must not surface as unhandled rejections.
      for (const p of pages) p.catch(() => undefined);
      let short = false;
      for (const p of pages) {
        // Awaited in order; a short page ends this list (later pages of the batch are empty).
        const { kept, count } = await p;
        for (const t of kept) {
          if (seen.has(t.id)) continue;
          seen.add(t.id);
          yield t;
        }
        if (count < perPage) short = true;
      }
      if (short) break;
    }
  }
}

async function hostPage(
  client: FleetClient,
  path: string,
  page: number,
  perPage: number,
  skip: (id: number, hostname: string) => boolean,
  status: string | undefined,
): Promise<{ kept: TargetHost[]; count: number }> {
  const body = await client.request<{ hosts?: Host[] | null }>('GET', path, {
    query: { page, per_page: perPage, order_key: 'id', order_direction: 'asc', ...(status ? { status } : {}) },
    shape: SHAPES.hostList,
  });
  const hosts = body.hosts ?? [];
  const kept: TargetHost[] = [];
  for (const h of hosts) if (!skip(h.id, h.hostname)) kept.push(toTarget(h));
  return { kept, count: hosts.length };
}

function hasNot(expr: string): boolean {
  return /(^|[\s(])not([\s(]|$)/i.test(expr);
}

/**
 * Who a campaign on this selection targets, read once the campaign exists: the explicit hosts, and
 * the members of its labels (for --all, of `All Hosts`, the label the campaign names): their ids in
 * one CSV report where the server has it (FleetDM), else page by page. The members are known by id
 * alone (`idsOnly`): a hostname that is not in `names` (the explicit hosts') says nothing.
 */
export async function readTargetSet(client: FleetClient, resolved: ResolvedTargets, debug?: (line: string) => void): Promise<{ ids: Set<number>; names: Set<string>; idsOnly: boolean }> {
  const ids = new Set<number>();
  const names = new Set<string>();
  for (const t of resolved.targets) {
    ids.add(t.id);
    names.add(t.hostname);
  }
  const labels = resolved.listed.all ? resolved.labels.filter((l) => l.name.toLowerCase() === 'all hosts') : resolved.listed.labels;
  for (const label of labels) {
    const started = Date.now();
    let members = await labelMemberIds(client, label.id, debug);
    const from = members ? 'the host report' : 'its host list';
    if (!members) {
      // Ids only: every answer of a campaign names its host's id on both generations, and 100,000
      // hostnames held for the whole run cost ~8 MB. Two pages at a time: the pages in flight are
      // most of the read's memory, and the server serves them one after another anyway.
      members = new Set<number>();
      for await (const t of hostsToName(client, { all: false, labels: [label] }, () => false, { parallel: 2 })) members.add(t.id);
    }
    for (const id of members) ids.add(id);
    debug?.(`targets: label ${label.id} has ${members.size} member(s), read from ${from} (${Date.now() - started} ms)`);
  }
  return { ids, names, idsOnly: labels.length > 0 };
}

/** The ids and hostnames of known targets. */
export function targetSetOf(targets: readonly TargetHost[]): { ids: Set<number>; names: Set<string> } {
  return { ids: new Set(targets.map((t) => t.id)), names: new Set(targets.map((t) => t.hostname)) };
}
