/**
 * FleetDM 4.82's renaming, as the sandbox serves it (fleet-api.md §11): queries are "reports" and
 * teams are "fleets". A server of 4.82 or later serves the new paths and keeps the old ones as
 * aliases; requests may use either key of a pair but not both (400 "Specify only one of …");
 * responses carry both keys. Each use of an old path or key is recorded (the real server logs it
 * under its `deprecated-field-names` topic), so tests can count them. Older servers know only the
 * old names: a new path is a 404 and a new key is ignored, as a 4.60 server does.
 */

export type SandboxNaming = 'queries' | 'reports';

/** old → new key pairs accepted in request bodies and query strings, and duplicated in responses. */
export const KEY_PAIRS: ReadonlyArray<readonly [string, string]> = [
  ['team_id', 'fleet_id'],
  ['team_name', 'fleet_name'],
  ['team', 'fleet'],
  ['team_ids', 'fleet_ids'],
  ['teams', 'fleets'],
  ['query_id', 'report_id'],
  ['query_ids', 'report_ids'],
  ['query_name', 'report_name'],
  ['live_query_results', 'live_report_results'],
  ['live_query_disabled', 'live_reporting_disabled'],
  ['query_reports_disabled', 'discard_reports_data'],
  ['query_report_cap', 'report_cap'],
  ['available_teams', 'available_fleets'],
];
const NEW_OF = new Map(KEY_PAIRS);
const OLD_OF = new Map(KEY_PAIRS.map(([o, n]) => [n, o]));

/** Renamed path words (a route's literal segments): new → old. */
const PATH_OLD_OF = new Map([
  ['reports', 'queries'],
  ['fleets', 'teams'],
]);
const OLD_PATH_WORDS = new Set(PATH_OLD_OF.values());

/** The naming a FleetDM version speaks: 4.82.0 and later, reports. */
export function namingOf(version: string): SandboxNaming {
  const m = /^v?(\d+)\.(\d+)/.exec(version);
  if (!m) return 'reports';
  const [maj, min] = [Number(m[1]), Number(m[2])];
  return maj > 4 || (maj === 4 && min >= 82) ? 'reports' : 'queries';
}

export interface DeprecatedUse {
  method: string;
  /** The app path as requested (under the API prefix). */
  path: string;
  kind: 'path' | 'key';
  /** The old word or key used. */
  name: string;
}

/** Which segments of an app path are route words (not names or ids): the first, and the one after `spec` or `hosts/:id`. */
function wordIndexes(segs: string[]): number[] {
  const out = [0];
  if (segs[0] === 'spec') out.push(1);
  if (segs[0] === 'hosts' && segs.length >= 3) out.push(2);
  return out;
}

/**
 * The path a new-naming server routes (old words, which the routes use), noting old words the
 * request used. Untouched on an old-naming server (its router has no new paths: 404).
 */
export function routePath(sub: string, naming: SandboxNaming, used: (name: string) => void): string {
  if (naming !== 'reports') return sub;
  const segs = sub.split('/');
  const lead = segs[0] === '' ? 1 : 0;
  const words = segs.slice(lead);
  for (const i of wordIndexes(words)) {
    const w = words[i];
    if (w === undefined) continue;
    const old = PATH_OLD_OF.get(w);
    if (old !== undefined) words[i] = old;
    else if (OLD_PATH_WORDS.has(w)) used(w);
  }
  return (lead ? '/' : '') + words.join('/');
}

export class BothNamesError extends Error {
  constructor(
    readonly oldKey: string,
    readonly newKey: string,
  ) {
    super(`Specify only one of "${oldKey}" or "${newKey}"`);
  }
}

/**
 * Request keys on a new-naming server: both names of a pair in one object is refused; a new key is
 * renamed to the old one the handlers read; an old key is noted. Recurses into objects and arrays.
 */
export function requestKeys(value: unknown, used: (name: string) => void): unknown {
  if (Array.isArray(value)) return value.map((v) => requestKeys(v, used));
  if (value === null || typeof value !== 'object') return value;
  const o = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    const old = OLD_OF.get(k);
    if (old !== undefined) {
      if (Object.prototype.hasOwnProperty.call(o, old)) throw new BothNamesError(old, k);
      out[old] = requestKeys(v, used);
      continue;
    }
    if (NEW_OF.has(k)) used(k);
    out[k] = requestKeys(v, used);
  }
  return out;
}

/** The same for a query string (its keys are flat). */
export function requestQuery(params: URLSearchParams, used: (name: string) => void): URLSearchParams {
  const out = new URLSearchParams();
  for (const [k, v] of params) {
    const old = OLD_OF.get(k);
    if (old !== undefined) {
      if (params.has(old)) throw new BothNamesError(old, k);
      out.append(old, v);
      continue;
    }
    if (NEW_OF.has(k)) used(k);
    out.append(k, v);
  }
  return out;
}

/**
 * A response on a new-naming server: every renamed key also under its new name, with the same value;
 * at the top level, a `queries` list is also `reports` and a `query` object (one saved query) also
 * `report`.
 */
export function responseKeys(value: unknown, top = true): unknown {
  if (Array.isArray(value)) return value.map((v) => responseKeys(v, false));
  if (value === null || typeof value !== 'object') return value;
  const o = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    const next = responseKeys(v, false);
    out[k] = next;
    const fresh = NEW_OF.get(k);
    if (fresh !== undefined && !(fresh in o)) out[fresh] = next;
    if (top && k === 'queries' && Array.isArray(v) && !('reports' in o)) out['reports'] = next;
    if (top && k === 'query' && v !== null && typeof v === 'object' && !Array.isArray(v) && !('report' in o)) out['report'] = next;
  }
  return out;
}

/** New keys in a request to an old-naming server (which ignores them, fleet-api.md §11), each noted. */
export function newKeysIn(value: unknown, used: (name: string) => void): void {
  if (Array.isArray(value)) {
    for (const v of value) newKeysIn(v, used);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (OLD_OF.has(k)) used(k);
    newKeysIn(v, used);
  }
}
