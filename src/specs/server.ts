/**
 * What the server holds, as typed specs: one home for reading the server's specs (one GET per kind),
 * turning them into the specs the files use, and adjusting both sides for the server's generation
 * before they are planned. Used by `get`, `apply` and `delete`; commands never read specs themselves.
 */
import type { FleetClient, Dialect } from '../api/client.js';
import type { Spec } from '../api/specs.js';
import type { EnrollSecretSpec, LabelSpec, OptionsSpec, PackQuery, PackSpec, QuerySpec, SpecDoc, SpecSet } from './types.js';
import type { PlanKind } from './plan.js';

// --- server specs → typed specs ---------------------------------------------------------------

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const bool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined);

export { FLEET_QUERY_FIELDS } from './types.js';

export function fromServerQuery(raw: Spec, dialect: Dialect): QuerySpec {
  const description = str(raw['description']);
  // Key order is the YAML's: name, description, query, then the rest.
  const q: QuerySpec = { name: str(raw['name']) ?? '', ...(description ? { description } : {}), query: str(raw['query']) ?? '' };
  if (dialect === 'fleet') {
    // Only what differs from FleetDM's defaults: the YAML stays what a person would write.
    const interval = num(raw['interval']);
    if (interval) q.interval = interval;
    const platform = str(raw['platform']);
    if (platform) q.platform = platform;
    const logging = str(raw['logging']);
    if (logging === 'differential' || logging === 'differential_ignore_removals') q.logging = logging;
    if (raw['observer_can_run'] === true) q.observer_can_run = true;
    const mov = str(raw['min_osquery_version']);
    if (mov) q.min_osquery_version = mov;
    if (raw['automations_enabled'] === true) q.automations_enabled = true;
  }
  return q;
}

export function fromServerPack(raw: Spec): PackSpec {
  const p: PackSpec = { name: str(raw['name']) ?? '', queries: [] };
  const description = str(raw['description']);
  if (description) p.description = description;
  const platform = str(raw['platform']);
  if (platform) p.platform = platform;
  p.disabled = raw['disabled'] === true;
  const targets = raw['targets'] as { labels?: unknown } | null | undefined;
  p.targets = { labels: Array.isArray(targets?.labels) ? targets.labels.filter((l): l is string => typeof l === 'string') : [] };
  const queries = Array.isArray(raw['queries']) ? (raw['queries'] as Spec[]) : [];
  for (const e of queries) {
    if (e === null || typeof e !== 'object') continue;
    const query = str(e['query']) ?? '';
    const pq: PackQuery = { query, name: str(e['name']) || query, interval: num(e['interval']) ?? 0 };
    const d = str(e['description']);
    if (d) pq.description = d;
    for (const k of ['snapshot', 'removed', 'denylist'] as const) {
      const v = bool(e[k]);
      if (v !== undefined) pq[k] = v;
    }
    const shard = num(e['shard']);
    if (shard !== undefined) pq.shard = shard;
    const pf = str(e['platform']);
    if (pf !== undefined) pq.platform = pf;
    const version = str(e['version']);
    if (version !== undefined) pq.version = version;
    p.queries.push(pq);
  }
  return p;
}

export function isBuiltinLabelSpec(raw: Spec): boolean {
  return raw['label_type'] === 'builtin' || raw['label_type'] === 1;
}

export function fromServerLabel(raw: Spec): LabelSpec {
  const l: LabelSpec = { name: str(raw['name']) ?? '' };
  const description = str(raw['description']);
  if (description) l.description = description;
  const manual = raw['label_membership_type'] === 'manual' || raw['label_membership_type'] === 1;
  const query = str(raw['query']) ?? '';
  if (!manual || query !== '') l.query = query;
  const platform = str(raw['platform']);
  if (platform) l.platform = platform;
  l.label_membership_type = manual ? 'manual' : 'dynamic';
  if (manual) l.hosts = Array.isArray(raw['hosts']) ? (raw['hosts'] as unknown[]).filter((h): h is string => typeof h === 'string') : [];
  return l;
}

export function fromServerOptions(raw: Spec): OptionsSpec {
  const o: OptionsSpec = { config: (raw['config'] as Record<string, unknown> | null | undefined) ?? {} };
  const overrides = raw['overrides'] as { platforms?: Record<string, Record<string, unknown>> | null } | null | undefined;
  if (overrides) o.overrides = { platforms: overrides.platforms ?? {} };
  return o;
}

export function fromServerSecrets(secrets: ReadonlyArray<{ secret: string; name?: string; active?: boolean }>, dialect: Dialect): EnrollSecretSpec {
  return {
    secrets: secrets.map((s) =>
      dialect === 'kolide' ? { name: s.name ?? '', secret: s.secret, active: s.active ?? true } : { secret: s.secret },
    ),
  };
}

// --- reading the server's state ----------------------------------------------------------------

export interface ServerState {
  dialect: Dialect;
  set: SpecSet;
  /** Names of the server's built-in labels (plus the well-known ones). */
  builtinLabels: Set<string>;
  /** FleetDM: the whole agent_options object, so keys beyond config/overrides survive an apply. */
  rawOptions?: Spec | undefined;
  /** Which kinds were read (one GET each). */
  read: PlanKind[];
}

/** One GET per kind asked for, in parallel; nothing per object. */
export async function readState(client: FleetClient, kinds: ReadonlySet<PlanKind>): Promise<ServerState> {
  const [{ listSpecs, getOptions, getEnrollSecrets }, { BUILTIN_LABELS }] = await Promise.all([import('../api/specs.js'), import('./validate.js')]);
  const { dialect } = await client.detect();
  const set: SpecSet = { queries: [], packs: [], labels: [] };
  const builtinLabels = new Set<string>(BUILTIN_LABELS);
  const state: ServerState = { dialect, set, builtinLabels, read: [] };
  const jobs: Array<Promise<void>> = [];
  if (kinds.has('query')) {
    jobs.push(listSpecs(client, 'queries').then((specs) => void (set.queries = specs.map((s) => fromServerQuery(s, dialect)))));
  }
  if (kinds.has('label')) {
    jobs.push(
      listSpecs(client, 'labels').then((specs) => {
        for (const s of specs) {
          if (isBuiltinLabelSpec(s) && typeof s['name'] === 'string') builtinLabels.add(s['name']);
        }
        set.labels = specs.map(fromServerLabel);
      }),
    );
  }
  if (kinds.has('pack')) jobs.push(listSpecs(client, 'packs').then((specs) => void (set.packs = specs.map(fromServerPack))));
  if (kinds.has('options')) {
    jobs.push(
      getOptions(client).then((raw) => {
        if (raw) {
          set.options = fromServerOptions(raw);
          state.rawOptions = raw;
        }
      }),
    );
  }
  if (kinds.has('enroll_secret')) {
    jobs.push(getEnrollSecrets(client).then((secrets) => void (set.enroll_secret = fromServerSecrets(secrets, dialect))));
  }
  // allSettled, so a failure does not leave the other requests running after the command ends.
  const results = await Promise.allSettled(jobs);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
  state.read = (['query', 'label', 'pack', 'options', 'enroll_secret'] as const).filter((k) => kinds.has(k));
  return state;
}

// --- planning inputs ----------------------------------------------------------------------------

const PLURAL: Record<PlanKind, [string, string]> = {
  query: ['query', 'queries'],
  label: ['label', 'labels'],
  pack: ['pack', 'packs'],
  options: ['options', 'options'],
  enroll_secret: ['enroll secret set', 'enroll secret sets'],
};
export const count = (n: number, kind: PlanKind) => `${n} ${PLURAL[kind][n === 1 ? 0 : 1]}`;

/** Kinds the files hold, and the kinds to read: packs need the server's queries and labels. */
export function kindsToRead(docs: readonly SpecDoc[]): Set<PlanKind> {
  const kinds = new Set<PlanKind>(docs.map((d) => d.kind));
  if (kinds.has('pack')) {
    kinds.add('query');
    kinds.add('label');
  }
  return kinds;
}

export interface DialectAdjustment {
  desired: SpecSet;
  current: SpecSet;
  notes: string[];
}

/**
 * What each generation keeps, so the plan compares like with like: Kolide drops FleetDM's query
 * fields and pack `denylist`, upserts enroll secrets by name (keeping the others); FleetDM replaces
 * the whole secret set and has no inactive secrets (sending one would make it valid).
 */
export function adjustForDialect(desired: SpecSet, current: SpecSet, dialect: Dialect, fleetQueryFields: readonly string[]): DialectAdjustment {
  const notes: string[] = [];
  const d: SpecSet = { ...desired };
  const c: SpecSet = { ...current };
  if (dialect === 'kolide') {
    let dropped = 0;
    d.queries = desired.queries.map((q) => {
      const copy: Record<string, unknown> = { ...q };
      let any = false;
      for (const f of fleetQueryFields) {
        if (f in copy) {
          delete copy[f];
          any = true;
        }
      }
      if (any) dropped++;
      return copy as unknown as typeof q;
    });
    if (dropped > 0) notes.push(`Kolide Fleet keeps no ${fleetQueryFields.join('/')} on queries: ignored in ${count(dropped, 'query')}`);
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
    if (deny > 0) notes.push(`Kolide Fleet has no denylist on scheduled queries: ignored in ${deny} entr${deny === 1 ? 'y' : 'ies'}`);
    if (desired.enroll_secret && current.enroll_secret) {
      const names = new Set(desired.enroll_secret.secrets.map((s) => s.name));
      // Kolide keeps secrets the files do not name: compare only those they do.
      c.enroll_secret = { secrets: current.enroll_secret.secrets.filter((s) => names.has(s.name)) };
    }
  } else if (desired.enroll_secret) {
    const inactive = desired.enroll_secret.secrets.filter((s) => s.active === false).length;
    if (inactive > 0) notes.push(`FleetDM has no inactive enroll secrets: ${inactive} secret${inactive === 1 ? '' : 's'} with active: false left out`);
    d.enroll_secret = { secrets: desired.enroll_secret.secrets.filter((s) => s.active !== false).map((s) => ({ secret: s.secret })) };
  }
  return { desired: d, current: c, notes };
}

// --- selections -------------------------------------------------------------------------------

export const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** The saved queries packs schedule, each once, sorted by name. */
export function usedQueries(packs: readonly PackSpec[], queries: readonly QuerySpec[]): QuerySpec[] {
  const names = new Set(packs.flatMap((p) => p.queries.map((q) => q.query.toLowerCase())));
  return queries.filter((q) => names.has(q.name.toLowerCase())).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

