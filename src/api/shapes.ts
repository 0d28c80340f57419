/**
 * What each server answer must look like, declared in one place (issue 21.1): the client checks an
 * answer against its endpoint's shape before any command sees it, so a wrong shape (an empty body, a
 * list where an object belongs, `hosts` as a string, null entries, a numeric token) is a clear error
 * naming the endpoint and the field, never a silent exit 0 or a crash deep in a command.
 *
 * Only the fields osfleet reads are checked; servers send many more. Both generations (Kolide 3.x
 * and FleetDM 4.x) answer these endpoints with the same keys, so one shape serves both; where they
 * differ the shape is a function of the dialect. Go encodes an empty slice as `null`: lists accept it.
 */
import type { Generation as Dialect } from './server.js';

/** Returns what is wrong with `v` (found at `at`), or undefined when it fits. */
export type Shape = (v: unknown, at: string) => string | undefined;

function describe(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return `a string (${JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}…` : v)})`;
  if (typeof v === 'number' || typeof v === 'boolean') return `a ${typeof v} (${String(v)})`;
  return `${typeof v === 'object' ? 'an object' : typeof v}`;
}

const where = (at: string) => (at === '' ? 'the answer' : `\`${at}\``);
const field = (at: string, key: string) => (at === '' ? key : `${at}.${key}`);

export const str: Shape = (v, at) => (typeof v === 'string' ? undefined : `${where(at)} is ${describe(v)}, expected a string`);
export const num: Shape = (v, at) => (typeof v === 'number' && Number.isFinite(v) ? undefined : `${where(at)} is ${describe(v)}, expected a number`);
/** May be absent. */
export const opt = (s: Shape): Shape => (v, at) => (v === undefined ? undefined : s(v, at));
/** May be absent or null. */
export const maybe = (s: Shape): Shape => (v, at) => (v === undefined || v === null ? undefined : s(v, at));
/** Must be there, but null stands for an empty list (Go's nil slice). */
export const listOrNull = (s: Shape): Shape => (v, at) => {
  if (v === null) return undefined;
  if (!Array.isArray(v)) return `${where(at)} is ${describe(v)}, expected a list`;
  for (let i = 0; i < v.length; i++) {
    const p = s(v[i], `${at}[${i}]`);
    if (p) return p;
  }
  return undefined;
};
export const obj = (fields: Record<string, Shape> = {}): Shape => (v, at) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return `${where(at)} is ${describe(v)}, expected an object`;
  for (const [k, s] of Object.entries(fields)) {
    const p = s((v as Record<string, unknown>)[k], field(at, k));
    if (p) return p;
  }
  return undefined;
};

/** One object, or a list of them (`GET /spec/<kind>/<name>`: the singular-under-plural quirk), or null. */
const oneOrList = (s: Shape): Shape => (v, at) => (v === null ? undefined : Array.isArray(v) ? listOrNull(s)(v, at) : s(v, at));

const host = obj({ id: num, hostname: str });
const namedSpec = obj({ name: str });
const label = obj({ id: num, name: str });
const user = obj({ email: opt(str) });

/** One shape per endpoint (by what it answers), for both generations. */
export const SHAPES = {
  /** GET /hosts, GET /labels/:id/hosts */
  hostList: obj({ hosts: listOrNull(host) }),
  /** GET /hosts/:id, GET /hosts/identifier/:identifier */
  host: obj({ host }),
  /** GET /labels */
  labelList: obj({ labels: listOrNull(label) }),
  /** POST /login: the token may be missing (multi-factor authentication), never of another type. */
  login: obj({ token: opt(str), user: maybe(user) }),
  /** POST /api/v1/setup */
  setup: obj({ token: opt(str), admin: maybe(user) }),
  /** GET /me */
  me: obj({ user }),
  /** GET /queries */
  queryList: obj({ queries: listOrNull(obj({ name: str })) }),
  /** GET /spec/queries (4.82+: /spec/reports), /spec/packs, /spec/labels: a wrong list would plan everything as new. */
  specList: obj({ specs: listOrNull(namedSpec) }),
  /** GET /spec/<kind>/<name> */
  specOne: obj({ specs: oneOrList(namedSpec) }),
  /** GET /teams (4.82+: /fleets), under the server's own word for the list. */
  teamList: (key: string): Shape => obj({ [key]: listOrNull(obj({ id: num, name: str })) }),
  /** GET /users */
  userList: obj({ users: listOrNull(obj({ email: str })) }),
  /** GET /config: free-form, but FleetDM's agent options are an object where present. */
  appConfig: obj({ agent_options: maybe(obj()) }),
  /** GET /spec/osquery_options (Kolide) */
  optionsSpec: obj({ spec: maybe(obj()) }),
  /** GET /spec/enroll_secret: FleetDM `{spec: {secrets}}`, Kolide `{specs: {secrets}}`. */
  enrollSecrets: obj({
    spec: maybe(obj({ secrets: listOrNull(obj({ secret: str })) })),
    specs: maybe(obj({ secrets: listOrNull(obj({ secret: str })) })),
  }),
  /** GET /queries/{id}/report (4.82+: /reports/{id}/report) */
  queryReport: obj({ results: maybe(listOrNull(obj({ host_id: num, host_name: str, columns: maybe(obj()) }))) }),
  /** POST /hosts/{id}/query (FleetDM's REST live query) */
  restLiveQuery: obj({ host_id: num, rows: maybe(listOrNull(obj())) }),
  /** POST /queries/run_by_names, /run_by_identifiers (4.82+: /reports/…): the campaign to follow. */
  campaign: obj({ campaign: obj({ id: num }) }),
} satisfies Record<string, Shape | ((d: Dialect) => Shape)>;

/** What is wrong with an answer, or undefined. */
export function checkShape(shape: Shape | ((d: Dialect) => Shape), body: unknown, dialect: Dialect | undefined): string | undefined {
  const s = shape.length === 1 && dialect ? (shape as (d: Dialect) => Shape)(dialect) : (shape as Shape);
  return s(body, '');
}
