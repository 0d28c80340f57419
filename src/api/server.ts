/**
 * What kind of server a context talks to, decided once: the generation (Kolide Fleet 3.x under
 * `/api/v1/kolide`, FleetDM 4.x under `/api/v1/fleet`) and, for FleetDM, the naming (4.82 and later
 * call queries "reports" and teams "fleets", fleet-api.md §11). Everything that differs between them
 * is a row of the tables below; the rest of `src/api/` reads the row, and commands only ever see the
 * traits (what the server keeps, which words it uses), never the generation itself.
 */

export type Generation = 'kolide' | 'fleet';
/** `queries`: the names before FleetDM 4.82 (and Kolide's); `reports`: 4.82 and later. */
export type Naming = 'queries' | 'reports';

/** Fields of a query spec FleetDM keeps beyond name/description/query (4.35+); Kolide drops them. */
export const FLEET_QUERY_FIELDS = ['interval', 'platform', 'logging', 'observer_can_run', 'min_osquery_version', 'automations_enabled', 'discard_data', 'team'] as const;

/** What a server keeps and how it answers: the differences commands and plans need. */
export interface ServerTraits {
  /** Query spec fields kept beyond name, description and query. */
  readonly queryFields: readonly string[];
  /** A scheduled query in a pack keeps `denylist`. */
  readonly packDenylist: boolean;
  /** `by-name`: named secrets with `active`, upserted by name (Kolide); `set`: the whole set replaced, secrets only (FleetDM). */
  readonly enrollSecrets: 'by-name' | 'set';
  /** `spec`: `/spec/osquery_options`; `agent-options`: the app config's `agent_options`, with keys beyond config/overrides. */
  readonly options: 'spec' | 'agent-options';
  /** The word of the status for hosts not seen for long: Kolide `mia`, FleetDM `missing`. */
  readonly missingStatus: 'mia' | 'missing';
  /** Host search on the server (`?query=`) or filtered here after listing. */
  readonly hostSearch: 'server' | 'client';
  /** A campaign names hosts by hostname only (Kolide) or by any identifier (FleetDM). */
  readonly campaignHosts: 'hostname' | 'identifier';
  /** Finding a saved query by name: its spec (SQL only, Kolide) or a search giving its id (FleetDM). */
  readonly savedQueryLookup: 'spec' | 'search';
  /** FleetDM's synchronous REST live queries (`POST /hosts/{id}/query`). */
  readonly restLiveQueries: boolean;
  /** FleetDM's CSV host report (`GET /hosts/report?format=csv&columns=id&label_id=…`): a label's members in one answer. */
  readonly hostReport: boolean;
  /** Kolide answers a missing object with 500 "… no rows in result set" (and "… not found"). */
  readonly notFoundAs500: boolean;
  /** Kolide refuses a delete of an object something still uses with 403 (a foreign-key error). */
  readonly inUseAs403: boolean;
  /** Teams (4.82+: fleets) exist: a query may belong to one. */
  readonly teams: boolean;
  /** What fleetctl prints for one host: the bare host (3.x: `yaml.Marshal(host)`) or the `kind: host` envelope. */
  readonly hostDocument: 'bare' | 'envelope';
}

const KOLIDE_TRAITS: ServerTraits = {
  queryFields: [],
  packDenylist: false,
  enrollSecrets: 'by-name',
  options: 'spec',
  missingStatus: 'mia',
  hostSearch: 'client',
  campaignHosts: 'hostname',
  savedQueryLookup: 'spec',
  restLiveQueries: false,
  hostReport: false,
  notFoundAs500: true,
  inUseAs403: true,
  teams: false,
  hostDocument: 'bare',
};

const FLEET_TRAITS: ServerTraits = {
  queryFields: FLEET_QUERY_FIELDS,
  packDenylist: true,
  enrollSecrets: 'set',
  options: 'agent-options',
  missingStatus: 'missing',
  hostSearch: 'server',
  campaignHosts: 'identifier',
  savedQueryLookup: 'search',
  restLiveQueries: true,
  hostReport: true,
  notFoundAs500: false,
  inUseAs403: false,
  teams: true,
  hostDocument: 'envelope',
};

/** Paths (under the app prefix) and keys that the 4.82 renaming changed; Kolide uses the old ones. */
export interface ServerWords {
  /** `queries` / `reports`: the path segment and the list key of a response. */
  readonly queries: string;
  /** `teams` / `fleets`. */
  readonly teams: string;
  readonly query_id: string;
  readonly query_ids: string;
  readonly query_name: string;
  readonly team_id: string;
  readonly team_ids: string;
  readonly team_name: string;
  readonly team: string;
  /** The wrapper of one saved query (`GET /queries/{id}`): `query` / `report`. */
  readonly query: string;
  readonly live_query_disabled: string;
}

const OLD_WORDS: ServerWords = {
  queries: 'queries',
  teams: 'teams',
  query_id: 'query_id',
  query_ids: 'query_ids',
  query_name: 'query_name',
  team_id: 'team_id',
  team_ids: 'team_ids',
  team_name: 'team_name',
  team: 'team',
  query: 'query',
  live_query_disabled: 'live_query_disabled',
};

const NEW_WORDS: ServerWords = {
  queries: 'reports',
  teams: 'fleets',
  query_id: 'report_id',
  query_ids: 'report_ids',
  query_name: 'report_name',
  team_id: 'fleet_id',
  team_ids: 'fleet_ids',
  team_name: 'fleet_name',
  team: 'fleet',
  query: 'report',
  live_query_disabled: 'live_reporting_disabled',
};

/** The server one context talks to, resolved once (and cached in the context). */
export interface ServerProfile {
  readonly generation: Generation;
  readonly naming: Naming;
  readonly version: string | undefined;
  /** `/api/v1/kolide` or `/api/v1/fleet`. */
  readonly prefix: string;
  /** For people: `Kolide Fleet` or `FleetDM`. */
  readonly product: string;
  readonly traits: ServerTraits;
  readonly words: ServerWords;
}

export const API_PREFIX: Record<Generation, string> = {
  kolide: '/api/v1/kolide',
  fleet: '/api/v1/fleet',
};

/** The first FleetDM release that speaks reports and fleets. */
export const REPORTS_SINCE = '4.82.0';

export function profileFor(generation: Generation, version: string | undefined, naming: Naming): ServerProfile {
  const n: Naming = generation === 'kolide' ? 'queries' : naming;
  return {
    generation,
    naming: n,
    version,
    prefix: API_PREFIX[generation],
    product: generation === 'kolide' ? 'Kolide Fleet' : 'FleetDM',
    traits: generation === 'kolide' ? KOLIDE_TRAITS : FLEET_TRAITS,
    words: n === 'reports' ? NEW_WORDS : OLD_WORDS,
  };
}

/** The generation a version string means: major < 4 is Kolide; undefined when it says nothing. */
export function generationOfVersion(version: string | undefined): Generation | undefined {
  const major = version ? Number(/^v?(\d+)\./.exec(version)?.[1]) : NaN;
  if (!Number.isFinite(major)) return undefined;
  return major < 4 ? 'kolide' : 'fleet';
}

/** The naming a FleetDM version means (≥ 4.82.0: reports); undefined when the version says nothing. */
export function namingOfVersion(version: string | undefined): Naming | undefined {
  const m = version ? /^v?(\d+)\.(\d+)\.(\d+)/.exec(version) : null;
  if (!m) return undefined;
  const [maj, min] = [Number(m[1]), Number(m[2])];
  if (maj < 4) return 'queries';
  return maj > 4 || min >= 82 ? 'reports' : 'queries';
}

/** Reads a renamed key: the new name first, the old one as fallback (servers send both, or only one). */
export function pick<T = unknown>(obj: Record<string, unknown> | null | undefined, key: keyof ServerWords): T | undefined {
  if (!obj) return undefined;
  return (obj[NEW_WORDS[key]] ?? obj[OLD_WORDS[key]]) as T | undefined;
}

/** A line for whoami/--debug: `FleetDM 4.95.0, API /api/v1/fleet, reports/fleets naming`. */
export function describeProfile(p: ServerProfile): string {
  const naming = p.generation === 'kolide' ? '' : p.naming === 'reports' ? ', reports/fleets naming (4.82+)' : ', queries/teams naming';
  return `${p.product} ${p.version ?? '(unknown version)'}, API ${p.prefix}${naming}`;
}
