/**
 * Resolving what a live query targets before dispatch: hosts by hostname, uuid, serial or id; labels
 * by name (case-insensitive, as Fleet matches them); `--all`; and label expressions evaluated here.
 * Unknown names come back as data, so the command can stop or go on (--ignore-unknown).
 */
import type { FleetClient } from './client.js';
import { getHost, getHostByIdentifier, labelMembers, listHosts, listLabels, type Host, type Label } from './hosts.js';
import type { Selection, TargetHost } from './campaigns.js';
import { evaluateLabelExpr, labelNames, parseLabelExpr } from '../labelexpr.js';

export interface TargetRequest {
  hosts: string[];
  labels: string[];
  labelExpr?: string | undefined;
  all: boolean;
}

export interface ResolvedTargets {
  targets: TargetHost[];
  /** Full host records by id (platform, status), for preflight checks. */
  hosts: Map<number, Host>;
  /** What the first campaign asks for. */
  selection: Selection;
  unknownHosts: string[];
  unknownLabels: string[];
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

  if (req.all) {
    for (const h of await allHosts(client)) hosts.set(h.id, h);
    const allLabel = byName.get('all hosts');
    if (allLabel) selection.labels.push(allLabel.name);
    else selection.hosts.push(...[...hosts.values()].map((h) => h.hostname));
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
    for (const h of await labelMembers(client, label.id)) hosts.set(h.id, h);
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
  return { targets, hosts, selection, unknownHosts, unknownLabels };
}

function hasNot(expr: string): boolean {
  return /(^|[\s(])not([\s(]|$)/i.test(expr);
}
