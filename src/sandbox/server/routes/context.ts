/**
 * What every group of app routes shares: the core and store, the dialect, the router they register
 * on, and the small request helpers (admin check, spec lists, pagination, Kolide's "no rows" error).
 */
import type { Core, Viewer } from '../core.js';
import type { Router, Req } from '../router.js';
import { hostJSON } from '../shapes.js';
import type { HostRec, Store } from '../store.js';
import type { Dialect } from '../types.js';
import { errs, field, type HttpError } from '../wire.js';

export function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

export function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function intParam(s: string | null | undefined): number | undefined {
  if (s === null || s === undefined || s === '') return undefined;
  const n = Number(s);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

export interface AppDeps {
  core: Core;
  /** REST live-query wait (FleetDM's FLEET_LIVE_QUERY_REST_PERIOD). */
  restPeriodMs: number;
  /** What `/version` answers. */
  version: Record<string, string>;
}

/** The shared state and helpers, handed to each route group. */
export interface AppContext {
  readonly core: Core;
  readonly d: Dialect;
  readonly store: Store;
  readonly r: Router;
  readonly deps: AppDeps;
  now(): number;
  requireAdmin(q: Req): Viewer;
  host(h: HostRec): Record<string, unknown>;
  /** `specs` must be an array of objects, or Go's decoder refuses the body. */
  specList(q: Req, kind: string): Array<Record<string, unknown>>;
  isObserver(q: Req): boolean;
  /** Kolide wraps sql.ErrNoRows for lookups by id: a missing object is a 500 "… sql: no rows in result set". */
  noRows(what: string): HttpError;
}

export function appContext(deps: AppDeps, r: Router): AppContext {
  const { core } = deps;
  const d = core.d;
  const store = core.store;
  const now = (): number => core.now();
  const requireAdmin = (q: Req): Viewer => {
    const v = q.viewer!;
    if (!core.isAdmin(v.user)) throw errs.permission(d, 'forbidden');
    return v;
  };
  const host = (h: HostRec): Record<string, unknown> => hostJSON(d, h, now());
  const specList = (q: Req, kind: string): Array<Record<string, unknown>> => {
    const v = field(q.body, 'specs');
    if (v === undefined || v === null) return [];
    const bad = (what: string): never => {
      throw errs.badRequest(d, d === 'kolide' ? `json: cannot unmarshal ${what} into Go struct field .specs of type []*kolide.${kind}Spec` : 'json decoder error');
    };
    if (!Array.isArray(v)) bad(typeof v === 'string' ? 'string' : typeof v === 'number' ? 'number' : typeof v === 'boolean' ? 'bool' : 'object');
    return (v as unknown[]).map((x) => (x !== null && typeof x === 'object' && !Array.isArray(x) ? (x as Record<string, unknown>) : bad(Array.isArray(x) ? 'array' : typeof x)));
  };
  const isObserver = (q: Req): boolean => d === 'fleet' && q.viewer!.user.globalRole === 'observer';
  const noRows = (what: string) => errs.unknown(d, `${what}: sql: no rows in result set`);
  return { core, d, store, r, deps, now, requireAdmin, host, specList, isObserver, noRows };
}

/** page (0-based) and per_page: per_page 0 = everything; a page without per_page means 20. */
export function paginate<T>(items: readonly T[], q: Req): T[] {
  const page = intParam(q.query.get('page'));
  let per = intParam(q.query.get('per_page')) ?? 0;
  if (page !== undefined && per === 0) per = 20;
  if (per === 0) return items.slice();
  const start = (page ?? 0) * per;
  return items.slice(start, start + per);
}
