/**
 * What the server holds, as typed specs: one home for reading the server's specs (one GET per kind),
 * turning them into the specs the files use, and adjusting both sides for the server's generation
 * before they are planned. Used by `get`, `apply` and `delete`; commands never read specs themselves.
 */
import type { FleetClient, Generation as Dialect, ServerProfile } from '../api/client.js';
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
    if (raw['discard_data'] === true) q.discard_data = true;
    const team = str(raw['fleet']) || str(raw['team']);
    if (team) q.team = team;
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

// --- what fleetctl prints -----------------------------------------------------------------------

/** FleetDM's naming: before 4.82 `queries`/`teams`, from 4.82 `reports`/`fleets` (fleet-api.md §11). */
export type Naming = 'queries' | 'reports';

const OMIT = Symbol('omit when empty');
type Field = readonly [key: string, fallback: unknown];

/**
 * The server's spec with fleetctl's keys in fleetctl's order: each listed key once (the server's
 * value, or the default fleetctl prints; `OMIT` = left out when empty, as Go's `omitempty`), then
 * any other key the server sent (nothing the server said is dropped).
 */
function project(raw: Spec, fields: readonly Field[], drop: readonly string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, fallback] of fields) {
    const v = raw[key];
    const empty = v === undefined || v === null || v === '' || v === false || v === 0 || (Array.isArray(v) && v.length === 0);
    if (fallback === OMIT) {
      if (!empty) out[key] = v;
    } else out[key] = v === undefined ? fallback : v;
  }
  const known = new Set([...fields.map(([k]) => k), ...drop]);
  for (const [k, v] of Object.entries(raw)) if (!known.has(k)) out[k] = v;
  return out;
}

// fleetdm/fleet server/fleet/queries.go QuerySpec, labels.go LabelSpec, packs.go PackSpec,
// app.go EnrollSecret (JSON field order); kolide/fleet 3.2.0 server/kolide/{queries,labels,packs,app}.go.
const FLEET_QUERY: readonly Field[] = [
  ['name', ''], ['description', ''], ['query', ''], ['team', ''], ['interval', 0], ['observer_can_run', false], ['platform', ''],
  ['min_osquery_version', ''], ['automations_enabled', false], ['logging', ''], ['discard_data', false],
];
const KOLIDE_QUERY: readonly Field[] = [['name', ''], ['description', OMIT], ['query', '']];
const FLEET_LABEL: readonly Field[] = [
  ['id', 0], ['name', ''], ['description', ''], ['query', ''], ['platform', ''], ['label_type', OMIT], ['label_membership_type', 'dynamic'], ['hosts', null],
];
const KOLIDE_LABEL: readonly Field[] = [
  ['ID', 0], ['name', ''], ['description', ''], ['query', ''], ['platform', OMIT], ['label_type', OMIT], ['label_membership_type', 'dynamic'], ['hosts', OMIT],
];
const FLEET_PACK: readonly Field[] = [['id', OMIT], ['name', ''], ['description', OMIT], ['platform', OMIT], ['disabled', false], ['targets', null], ['queries', OMIT]];
const KOLIDE_PACK: readonly Field[] = [['id', OMIT], ['name', ''], ['description', OMIT], ['platform', OMIT], ['targets', null], ['queries', OMIT]];
const PACK_QUERY: readonly Field[] = [
  ['query', ''], ['name', ''], ['description', ''], ['interval', 0], ['snapshot', undefined], ['removed', undefined], ['shard', undefined],
  ['platform', undefined], ['version', undefined], ['denylist', undefined],
];

const clean = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** A query as fleetctl prints it; on a 4.82+ server `fleet` beside `team`, as the newest fleetctl. */
export function printedQuery(raw: Spec, dialect: Dialect, naming: Naming = 'queries'): Record<string, unknown> {
  if (dialect === 'kolide') return project(raw, KOLIDE_QUERY);
  const team = str(raw['fleet']) ?? str(raw['team']) ?? '';
  const out = project({ ...raw, team }, FLEET_QUERY, ['fleet', 'team_id', 'fleet_id']);
  if (naming === 'reports') {
    const { name, description, query, ...rest } = out;
    return { name, description, query, fleet: team, ...rest };
  }
  return out;
}

/** A label as fleetctl prints it: `label_type` only for built-in labels (Go's omitempty on 0). */
export function printedLabel(raw: Spec, dialect: Dialect): Record<string, unknown> {
  const builtin = isBuiltinLabelSpec(raw);
  const r: Spec = { ...raw, label_type: builtin ? 'builtin' : undefined };
  if (dialect === 'kolide') {
    const { id, ...rest } = r;
    return project(rest['ID'] === undefined && id !== undefined ? { ID: id, ...rest } : rest, KOLIDE_LABEL);
  }
  const { ID, ...rest } = r;
  return project(rest['id'] === undefined && ID !== undefined ? { id: ID, ...rest } : rest, FLEET_LABEL);
}

export function printedPack(raw: Spec, dialect: Dialect): Record<string, unknown> {
  const queries = Array.isArray(raw['queries']) ? (raw['queries'] as Spec[]).map((q) => clean(project(q ?? {}, PACK_QUERY))) : raw['queries'];
  const t = raw['targets'] as Spec | null | undefined;
  const targets = dialect === 'fleet' ? { labels: t?.['labels'] ?? null, teams: t?.['teams'] ?? null, ...(t ?? {}) } : { labels: t?.['labels'] ?? null, ...(t ?? {}) };
  return project({ ...raw, targets, queries }, dialect === 'fleet' ? FLEET_PACK : KOLIDE_PACK);
}

export function printedSecrets(secrets: ReadonlyArray<Record<string, unknown>>, dialect: Dialect): Record<string, unknown> {
  const fields: readonly Field[] = dialect === 'kolide' ? [['name', ''], ['secret', ''], ['active', true], ['created_at', OMIT]] : [['secret', ''], ['created_at', OMIT], ['team_id', OMIT]];
  return { secrets: secrets.map((s) => project(s, fields)) };
}

// --- reading the server's state ----------------------------------------------------------------

export interface ServerState {
  /** The server, as the api layer resolved it once. */
  server: ServerProfile;
  /** Its generation (what fleetctl prints differs per generation). */
  dialect: Dialect;
  set: SpecSet;
  /** Names of the server's built-in labels (plus the well-known ones). */
  builtinLabels: Set<string>;
  /** FleetDM: the whole agent_options object, so keys beyond config/overrides survive an apply. */
  rawOptions?: Spec | undefined;
  /** Which kinds were read (one GET each). */
  read: PlanKind[];
  /** The specs as the server sent them, for printing (fleetctl prints them, not osfleet's typed specs). */
  raw: { queries: Spec[]; labels: Spec[]; packs: Spec[]; secrets: Array<Record<string, unknown>> };
  /** FleetDM's naming (4.82+: reports/fleets); Kolide: queries. */
  naming: Naming;
}

/**
 * One GET per kind asked for, in parallel; nothing per object. FleetDM team queries live apart from
 * the global ones: `teams` (name → id) adds one GET per team the files name.
 */
export async function readState(client: FleetClient, kinds: ReadonlySet<PlanKind>, teams: ReadonlyMap<string, number> = new Map()): Promise<ServerState> {
  const [{ listSpecs, getOptions, getEnrollSecrets }, { BUILTIN_LABELS }] = await Promise.all([import('../api/specs.js'), import('./validate.js')]);
  const server = await client.server();
  const dialect = server.generation;
  const set: SpecSet = { queries: [], packs: [], labels: [] };
  const builtinLabels = new Set<string>(BUILTIN_LABELS);
  const raw: ServerState['raw'] = { queries: [], labels: [], packs: [], secrets: [] };
  const state: ServerState = { server, dialect, set, builtinLabels, read: [], raw, naming: server.naming };
  const jobs: Array<Promise<void>> = [];
  if (kinds.has('query')) {
    jobs.push(
      listSpecs(client, 'queries').then((specs) => {
        raw.queries = specs;
        set.queries.push(...specs.map((s) => fromServerQuery(s, dialect)));
      }),
    );
    for (const [team, id] of teams) {
      jobs.push(listSpecs(client, 'queries', id).then((specs) => void set.queries.push(...specs.map((s) => ({ ...fromServerQuery(s, dialect), team })))));
    }
  }
  if (kinds.has('label')) {
    jobs.push(
      listSpecs(client, 'labels').then((specs) => {
        for (const s of specs) {
          if (isBuiltinLabelSpec(s) && typeof s['name'] === 'string') builtinLabels.add(s['name']);
        }
        raw.labels = specs;
        set.labels = specs.map(fromServerLabel);
      }),
    );
  }
  if (kinds.has('pack')) {
    jobs.push(
      listSpecs(client, 'packs').then((specs) => {
        raw.packs = specs;
        set.packs = specs.map(fromServerPack);
      }),
    );
  }
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
    jobs.push(
      getEnrollSecrets(client).then((secrets) => {
        raw.secrets = secrets as unknown as Array<Record<string, unknown>>;
        set.enroll_secret = fromServerSecrets(secrets, dialect);
      }),
    );
  }
  if (kinds.has('config')) {
    jobs.push(import('../api/users.js').then(({ getAppConfig }) => getAppConfig(client)).then((c) => void (set.config = c)));
  }
  // allSettled, so a failure does not leave the other requests running after the command ends.
  const results = await Promise.allSettled(jobs);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
  state.read = (['query', 'label', 'pack', 'options', 'enroll_secret', 'config'] as const).filter((k) => kinds.has(k));
  return state;
}

/** The naming the client found for its server (the api layer decides it once per context). */
export async function namingOf(client: FleetClient): Promise<Naming> {
  return (await client.server()).naming;
}

export interface PrintedDoc {
  kind: string;
  spec: unknown;
}

const nameOf = (s: Spec) => (typeof s['name'] === 'string' ? s['name'] : '');
const byRawName = (a: Spec, b: Spec) => (nameOf(a) < nameOf(b) ? -1 : nameOf(a) > nameOf(b) ? 1 : 0);

/**
 * What `get --yaml/--json` prints for the kinds read: every field fleetctl prints for that kind and
 * generation, defaults included, built-in labels too (they re-apply as "left alone"); sorted by
 * name. `kind: report` on a 4.82+ server, `kind: query` elsewhere.
 */
export function printedDocs(state: ServerState, kinds: readonly PlanKind[]): PrintedDoc[] {
  const { dialect, naming, raw, set } = state;
  const docs: PrintedDoc[] = [];
  for (const k of kinds) {
    if (k === 'query') docs.push(...[...raw.queries].sort(byRawName).map((s) => ({ kind: naming === 'reports' ? 'report' : 'query', spec: printedQuery(s, dialect, naming) })));
    if (k === 'label') docs.push(...[...raw.labels].sort(byRawName).map((s) => ({ kind: 'label', spec: printedLabel(s, dialect) })));
    if (k === 'pack') docs.push(...[...raw.packs].sort(byRawName).map((s) => ({ kind: 'pack', spec: printedPack(s, dialect) })));
    if (k === 'options' && set.options) docs.push({ kind: 'options', spec: { config: set.options.config, ...(set.options.overrides ? { overrides: set.options.overrides } : {}) } });
    if (k === 'enroll_secret' && state.read.includes('enroll_secret')) docs.push({ kind: 'enroll_secret', spec: printedSecrets(raw.secrets, dialect) });
  }
  return docs;
}

// --- planning inputs ----------------------------------------------------------------------------

const PLURAL: Record<PlanKind, [string, string]> = {
  config: ['app configuration', 'app configurations'],
  query: ['query', 'queries'],
  label: ['label', 'labels'],
  pack: ['pack', 'packs'],
  options: ['options', 'options'],
  enroll_secret: ['enroll secret set', 'enroll secret sets'],
};
export const count = (n: number, kind: PlanKind) => `${n} ${PLURAL[kind][n === 1 ? 0 : 1]}`;

/** Kinds the files hold, and the kinds to read: packs need the server's queries and labels. */
export function kindsToRead(docs: readonly SpecDoc[], opts: { prune?: boolean } = {}): Set<PlanKind> {
  const kinds = new Set<PlanKind>(docs.map((d) => d.kind));
  if (kinds.has('pack')) {
    kinds.add('query');
    kinds.add('label');
  }
  // Pruning queries or labels: the server's packs say which of them are still in use.
  if (opts.prune && (kinds.has('query') || kinds.has('label'))) kinds.add('pack');
  return kinds;
}

// --- selections -------------------------------------------------------------------------------

export const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** The saved queries packs schedule, each once, sorted by name. */
export function usedQueries(packs: readonly PackSpec[], queries: readonly QuerySpec[]): QuerySpec[] {
  const names = new Set(packs.flatMap((p) => p.queries.map((q) => q.query.toLowerCase())));
  return queries.filter((q) => names.has(q.name.toLowerCase())).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

