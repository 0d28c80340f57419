/**
 * The plan of an apply: per kind, what the files create, update (with the fields that change) and,
 * with prune, delete on the server; unchanged objects are only counted. Pure and deterministic.
 *
 * Specs are compared after normalisation: absent fields take the server's defaults, and order that
 * carries no meaning (pack queries, target labels, manual label hosts, JSON keys) is sorted away, so
 * the YAML that `get --yaml` prints plans no change when applied back.
 */
import { FLEET_QUERY_FIELDS, type EnrollSecretSpec, type LabelSpec, type OptionsSpec, type PackQuery, type PackSpec, type QuerySpec, type SpecSet } from './types.js';

export type PlanKind = 'query' | 'label' | 'pack' | 'options' | 'enroll_secret' | 'config';
/** Dependency order: packs name queries and labels; options and secrets stand alone. */
export const PLAN_ORDER: readonly PlanKind[] = ['query', 'label', 'pack', 'options', 'enroll_secret', 'config'];

export interface KindPlan {
  kind: PlanKind;
  created: string[];
  updated: Array<{ name: string; fields: string[] }>;
  unchanged: number;
  deleted: string[];
}

export interface Plan {
  kinds: KindPlan[];
  summary: { created: number; updated: number; unchanged: number; deleted: number };
  changes: boolean;
  /** What apply sends: only created and updated objects, per kind. */
  send: SpecSet;
  /** What apply deletes (prune), by kind; packs must go before the queries and labels they use. */
  remove: { packs: string[]; queries: string[]; labels: string[] };
  /** What the server does not keep of the files (fields dropped, secrets left out), for the user. */
  notes: string[];
  /** Built-in labels the files list: never sent, never deleted. */
  builtinLeftAlone: string[];
  /** Per deleted query or label (`query\0name`), the packs deleted with it that use it (they go first). */
  usedBy: Map<string, string[]>;
  /** Deletions a pack that stays still depends on: apply refuses the whole prune. */
  blocked: Array<{ kind: 'query' | 'label'; name: string; pack: string }>;
}

/**
 * What the target server keeps (a `ServerProfile` from `src/api/server.ts` fits): Kolide keeps no
 * FleetDM-only fields (a query's interval, platform, logging...; a scheduled query's denylist), so
 * they cannot differ there; and it upserts enroll secrets by name, where FleetDM replaces the set.
 */
export interface ServerKeeps {
  product: string;
  traits: { queryFields: readonly string[]; packDenylist: boolean; enrollSecrets: 'by-name' | 'set' };
}

export interface PlanOptions {
  prune: boolean;
  /** Names of built-in labels (never deleted, never changed). */
  builtinLabels: Set<string>;
  /** The server the plan is for; without it, specs are compared as FleetDM keeps them, unadjusted. */
  server?: ServerKeeps;
}

/** FleetDM 4.35+'s scheduling fields of a query (named together in one note). */
const SCHEDULE_FIELDS: readonly string[] = ['interval', 'platform', 'logging', 'observer_can_run', 'min_osquery_version', 'automations_enabled'];

export interface ServerAdjustment {
  desired: SpecSet;
  current: SpecSet;
  notes: string[];
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/**
 * The one place where the plan follows what the server keeps, so it compares like with like: fields
 * the server drops are left out of the files' specs (with a note), Kolide's by-name secrets are
 * compared only where the files name them, and FleetDM gets no inactive secret (sending one would
 * make it valid) and no secret names.
 */
export function adjustForServer(desired: SpecSet, current: SpecSet, server: ServerKeeps): ServerAdjustment {
  const notes: string[] = [];
  const d: SpecSet = { ...desired };
  const c: SpecSet = { ...current };
  const { traits } = server;
  // Query fields some servers keep and others drop: each one the files use is named, with how many queries it was ignored in.
  const dropped = FLEET_QUERY_FIELDS.filter((f) => !traits.queryFields.includes(f));
  if (dropped.length > 0) {
    const used = new Map<string, number>();
    d.queries = desired.queries.map((q) => {
      const copy: Record<string, unknown> = { ...q };
      for (const f of dropped) {
        if (f in copy) {
          delete copy[f];
          used.set(f, (used.get(f) ?? 0) + 1);
        }
      }
      return copy as unknown as typeof q;
    });
    const schedule = dropped.filter((f) => SCHEDULE_FIELDS.includes(f));
    const scheduled = desired.queries.filter((q) => schedule.some((f) => f in q)).length;
    if (scheduled > 0) {
      const named = schedule.filter((f) => used.has(f));
      notes.push(`${server.product} keeps no ${schedule.join('/')} on queries: ignored in ${plural(scheduled, 'query', 'queries')} (${named.join(', ')})`);
    }
    for (const f of dropped) {
      if (SCHEDULE_FIELDS.includes(f) || !used.has(f)) continue;
      notes.push(`${server.product} has no query field "${f}" (FleetDM only): ignored in ${plural(used.get(f)!, 'query', 'queries')}`);
    }
  }
  if (!traits.packDenylist) {
    let deny = 0;
    d.packs = desired.packs.map((p) => ({
      ...p,
      queries: p.queries.map((q) => {
        if (q.denylist === undefined) return q;
        deny++;
        const { denylist: _drop, ...rest } = q;
        return rest;
      }),
    }));
    if (deny > 0) notes.push(`${server.product} has no denylist on scheduled queries: ignored in ${deny} entr${deny === 1 ? 'y' : 'ies'}`);
  }
  if (traits.enrollSecrets === 'by-name') {
    if (desired.enroll_secret && current.enroll_secret) {
      const names = new Set(desired.enroll_secret.secrets.map((s) => s.name));
      // The server keeps secrets the files do not name: compare only those they do.
      c.enroll_secret = { secrets: current.enroll_secret.secrets.filter((s) => names.has(s.name)) };
    }
  } else if (desired.enroll_secret) {
    const inactive = desired.enroll_secret.secrets.filter((s) => s.active === false).length;
    if (inactive > 0) notes.push(`${server.product} has no inactive enroll secrets: ${inactive} secret${inactive === 1 ? '' : 's'} with active: false left out`);
    d.enroll_secret = { secrets: desired.enroll_secret.secrets.filter((s) => s.active !== false).map((s) => ({ secret: s.secret })) };
  }
  return { desired: d, current: c, notes };
}

// --- normalisation -----------------------------------------------------------------------------

const s = (v: string | undefined) => v ?? '';

export function normaliseQuery(q: QuerySpec): Record<string, unknown> {
  return {
    name: q.name,
    description: s(q.description),
    query: q.query.trimEnd(),
    interval: q.interval ?? 0,
    platform: s(q.platform)
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p !== '')
      .sort()
      .join(','),
    logging: q.logging ?? 'snapshot',
    observer_can_run: q.observer_can_run ?? false,
    min_osquery_version: s(q.min_osquery_version),
    automations_enabled: q.automations_enabled ?? false,
    discard_data: q.discard_data ?? false,
    team: q.team ?? '',
  };
}

export function normaliseLabel(l: LabelSpec): Record<string, unknown> {
  const manual = l.label_membership_type === 'manual';
  return {
    name: l.name,
    description: s(l.description),
    // The server keeps no query for manual labels.
    query: manual ? '' : s(l.query).trimEnd(),
    platform: s(l.platform),
    label_membership_type: l.label_membership_type ?? 'dynamic',
    hosts: manual ? [...(l.hosts ?? [])].sort() : [],
  };
}

function normalisePackQuery(q: PackQuery): Record<string, unknown> {
  return {
    query: q.query,
    name: q.name,
    description: s(q.description),
    interval: q.interval,
    // osquery's defaults (osquery.md §2.2): an absent value behaves like these.
    snapshot: q.snapshot ?? false,
    removed: q.removed ?? true,
    shard: q.shard ?? 0,
    platform: s(q.platform),
    version: s(q.version),
    denylist: q.denylist ?? true,
  };
}

export function normalisePack(p: PackSpec): Record<string, unknown> {
  const queries: Record<string, unknown> = {};
  for (const q of [...p.queries].sort((a, b) => cmp(a.name, b.name))) queries[q.name] = normalisePackQuery(q);
  return {
    name: p.name,
    description: s(p.description),
    platform: s(p.platform),
    disabled: p.disabled ?? false,
    targets: { labels: [...(p.targets?.labels ?? [])].sort(cmp) },
    queries,
  };
}

export function normaliseOptions(o: OptionsSpec): Record<string, unknown> {
  return { config: o.config ?? {}, overrides: { platforms: o.overrides?.platforms ?? {} } };
}

/** What changes in enroll secrets, never naming a secret value. */
export function secretChanges(desired: EnrollSecretSpec, current: EnrollSecretSpec, mode: 'by-name' | 'set'): string[] {
  if (mode === 'by-name') {
    // Upserted by name; secrets missing from the files stay on the server (fleet-api.md §3.2).
    const byName = new Map(current.secrets.map((x) => [x.name ?? '', x]));
    const out: string[] = [];
    for (const d of desired.secrets) {
      const c = byName.get(d.name ?? '');
      if (!c) out.push(`secrets.${d.name ?? '(unnamed)'} (added)`);
      else if (c.secret !== d.secret || (c.active ?? true) !== (d.active ?? true)) out.push(`secrets.${d.name ?? '(unnamed)'}`);
    }
    return out;
  }
  // FleetDM replaces the whole set.
  const before = new Set(current.secrets.map((x) => x.secret));
  const after = new Set(desired.secrets.map((x) => x.secret));
  const added = [...after].filter((x) => !before.has(x)).length;
  const removed = [...before].filter((x) => !after.has(x)).length;
  return added + removed === 0 ? [] : [`secrets (${added} added, ${removed} removed)`];
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** JSON with sorted keys: equal values give equal strings. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort(cmp)
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** Dotted paths where two normalised values differ, down to `depth` levels (then the parent). */
export function changedPaths(a: unknown, b: unknown, depth = 3, prefix = ''): string[] {
  if (canonical(a) === canonical(b)) return [];
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (depth === 0 || !isObj(a) || !isObj(b)) return [prefix === '' ? '(value)' : prefix];
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort(cmp);
  const out: string[] = [];
  for (const k of keys) {
    const p = prefix === '' ? k : `${prefix}.${k}`;
    if (!(k in b)) out.push(`${p} (removed)`);
    else if (!(k in a)) out.push(`${p} (added)`);
    else out.push(...changedPaths(a[k], b[k], depth - 1, p));
  }
  return out;
}

/** `current` cut down to the keys `shape` has, recursively through objects (the rest is not managed). */
function pickShape(current: unknown, shape: unknown): unknown {
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isObj(current) || !isObj(shape)) return current;
  return Object.fromEntries(Object.keys(shape).filter((k) => k in current).map((k) => [k, pickShape(current[k], shape[k])]));
}

// --- the plan ----------------------------------------------------------------------------------

interface Named {
  name: string;
}

function planNamed<T extends Named>(
  kind: PlanKind,
  desired: readonly T[],
  current: readonly T[],
  normalise: (x: T) => Record<string, unknown>,
  opts: { prune: boolean; keep?: (x: T) => boolean; depth?: number; key?: (x: T) => string },
): { plan: KindPlan; send: T[] } {
  // Names match without regard to case; FleetDM's team queries are keyed by team and name.
  const keyOf = opts.key ?? ((x: T) => x.name.toLowerCase());
  const byName = new Map(current.map((c) => [keyOf(c), c]));
  const plan: KindPlan = { kind, created: [], updated: [], unchanged: 0, deleted: [] };
  const send: T[] = [];
  const wanted = new Set<string>();
  for (const d of desired) {
    wanted.add(keyOf(d));
    const c = byName.get(keyOf(d));
    if (!c) {
      plan.created.push(d.name);
      send.push(d);
      continue;
    }
    // Names match without regard to case on the server, so a change of case alone is no change.
    const fields = changedPaths({ ...normalise(c), name: undefined }, { ...normalise(d), name: undefined }, opts.depth ?? 1);
    if (fields.length === 0) plan.unchanged++;
    else {
      plan.updated.push({ name: d.name, fields });
      send.push(d);
    }
  }
  if (opts.prune && desired.length > 0) {
    plan.deleted = current
      .filter((c) => !wanted.has(keyOf(c)) && !(opts.keep?.(c) ?? false))
      .map((c) => c.name)
      .sort(cmp);
  }
  return { plan, send };
}

export function plan(wanted: SpecSet, held: SpecSet, opts: PlanOptions): Plan {
  const adjusted = opts.server ? adjustForServer(wanted, held, opts.server) : { desired: wanted, current: held, notes: [] };
  const { desired, current } = adjusted;
  const builtin = new Set([...opts.builtinLabels].map((n) => n.toLowerCase()));
  const queryKey = (x: QuerySpec) => `${(x.team ?? '').toLowerCase()}\0${x.name.toLowerCase()}`;
  // Deletion is by name, which means the global query: team queries are never pruned.
  const q = planNamed('query', desired.queries, current.queries, normaliseQuery, { prune: opts.prune, key: queryKey, keep: (x) => (x.team ?? '') !== '' });
  const l = planNamed('label', desired.labels, current.labels, normaliseLabel, {
    prune: opts.prune,
    keep: (x) => builtin.has(x.name.toLowerCase()),
  });
  const p = planNamed('pack', desired.packs, current.packs, normalisePack, { prune: opts.prune, depth: 3 });

  const kinds: KindPlan[] = [q.plan, l.plan, p.plan];
  const send: SpecSet = { queries: q.send, labels: l.send, packs: p.send };

  if (desired.options) {
    const kp: KindPlan = { kind: 'options', created: [], updated: [], unchanged: 0, deleted: [] };
    if (!current.options) kp.created.push('options');
    else {
      const fields = changedPaths(normaliseOptions(current.options), normaliseOptions(desired.options), 4);
      if (fields.length === 0) kp.unchanged++;
      else kp.updated.push({ name: 'options', fields });
    }
    if (kp.created.length + kp.updated.length > 0) send.options = desired.options;
    kinds.push(kp);
  }
  if (desired.enroll_secret) {
    const kp: KindPlan = { kind: 'enroll_secret', created: [], updated: [], unchanged: 0, deleted: [] };
    if (!current.enroll_secret || current.enroll_secret.secrets.length === 0) kp.created.push('enroll_secret');
    else {
      const fields = secretChanges(desired.enroll_secret, current.enroll_secret, opts.server?.traits.enrollSecrets ?? 'set');
      if (fields.length === 0) kp.unchanged++;
      else kp.updated.push({ name: 'enroll_secret', fields });
    }
    if (kp.created.length + kp.updated.length > 0) send.enroll_secret = desired.enroll_secret;
    kinds.push(kp);
  }

  if (desired.config) {
    // Only the keys the file gives are compared (and sent): the server merges a PATCH of the app config.
    const kp: KindPlan = { kind: 'config', created: [], updated: [], unchanged: 0, deleted: [] };
    const fields = changedPaths(pickShape(current.config ?? {}, desired.config), desired.config, 4);
    if (fields.length === 0) kp.unchanged++;
    else {
      kp.updated.push({ name: 'config', fields });
      send.config = desired.config;
    }
    kinds.push(kp);
  }

  // Dependencies of the deletions: the packs (as they will be after apply) that use a deleted query or label.
  const deletedPacks = new Set(p.plan.deleted.map((n) => n.toLowerCase()));
  const desiredPacks = new Map(desired.packs.map((x) => [x.name.toLowerCase(), x]));
  const after = [
    ...desired.packs,
    ...current.packs.filter((x) => !desiredPacks.has(x.name.toLowerCase()) && !deletedPacks.has(x.name.toLowerCase())),
  ];
  const before = current.packs.filter((x) => deletedPacks.has(x.name.toLowerCase()));
  const usedBy = new Map<string, string[]>();
  const blocked: Plan['blocked'] = [];
  const uses = (pack: PackSpec, kind: 'query' | 'label', name: string) =>
    kind === 'query'
      ? pack.queries.some((e) => e.query.toLowerCase() === name.toLowerCase())
      : (pack.targets?.labels ?? []).some((l) => l.toLowerCase() === name.toLowerCase());
  for (const [kind, names] of [['query', q.plan.deleted], ['label', l.plan.deleted]] as const) {
    for (const name of names) {
      const going = before.filter((x) => uses(x, kind, name)).map((x) => x.name);
      if (going.length > 0) usedBy.set(`${kind}\0${name}`, going);
      for (const x of after) if (uses(x, kind, name)) blocked.push({ kind, name, pack: x.name });
    }
  }

  const summary = { created: 0, updated: 0, unchanged: 0, deleted: 0 };
  for (const k of kinds) {
    summary.created += k.created.length;
    summary.updated += k.updated.length;
    summary.unchanged += k.unchanged;
    summary.deleted += k.deleted.length;
  }
  return {
    kinds: kinds.filter((k) => k.created.length + k.updated.length + k.unchanged + k.deleted.length > 0),
    summary,
    changes: summary.created + summary.updated + summary.deleted > 0,
    send,
    remove: { packs: p.plan.deleted, queries: q.plan.deleted, labels: l.plan.deleted },
    notes: adjusted.notes,
    builtinLeftAlone: [...(desired.builtinLabels ?? [])],
    usedBy,
    blocked,
  };
}

// --- rendering ---------------------------------------------------------------------------------

const LABEL: Record<PlanKind, string> = { query: 'query', label: 'label', pack: 'pack', options: 'options', enroll_secret: 'enroll_secret', config: 'config' };

/** Changes only, one line each (`+` create, `~` update with fields, `-` delete), then a summary line. */
export function renderPlan(p: Plan, format: 'text' | 'json'): string {
  if (format === 'json') {
    return (
      JSON.stringify(
        {
          changes: p.changes,
          summary: p.summary,
          kinds: Object.fromEntries(
            p.kinds.map((k) => [k.kind, { created: k.created, updated: k.updated, deleted: k.deleted, unchanged: k.unchanged }]),
          ),
          ...(p.builtinLeftAlone.length > 0 ? { builtin_labels_left_alone: p.builtinLeftAlone } : {}),
        },
        null,
        2,
      ) + '\n'
    );
  }
  const lines: string[] = [];
  const title = (k: KindPlan, name: string) => (k.kind === 'options' || k.kind === 'enroll_secret' || k.kind === 'config' ? LABEL[k.kind] : `${LABEL[k.kind]} ${JSON.stringify(name)}`);
  for (const k of p.kinds) {
    for (const n of k.created) lines.push(`+ ${title(k, n)}`);
    for (const u of k.updated) lines.push(`~ ${title(k, u.name)}: ${u.fields.join(', ')}`);
  }
  // Deletions in the order apply runs them: packs before the queries and labels they use.
  for (const kind of ['pack', 'query', 'label'] as const) {
    const k = p.kinds.find((x) => x.kind === kind);
    for (const n of k?.deleted ?? []) {
      const by = p.usedBy.get(`${kind}\0${n}`);
      lines.push(`- ${title(k!, n)}${by ? ` (used by pack${by.length === 1 ? '' : 's'} ${by.map((b) => JSON.stringify(b)).join(', ')}, deleted first)` : ''}`);
    }
  }
  if (p.builtinLeftAlone.length > 0) {
    lines.push(`= built-in label${p.builtinLeftAlone.length === 1 ? '' : 's'} left alone (the server keeps ${p.builtinLeftAlone.length === 1 ? 'it' : 'them'}): ${p.builtinLeftAlone.map((n) => JSON.stringify(n)).join(', ')}`);
  }
  const { created, updated, deleted, unchanged } = p.summary;
  lines.push(
    p.changes
      ? `Plan: ${created} to create, ${updated} to update, ${deleted} to delete, ${unchanged} unchanged.`
      : `No changes: ${unchanged} unchanged.`,
  );
  return lines.join('\n') + '\n';
}
