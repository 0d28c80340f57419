/** The app API routes (under /api/v1/kolide or /api/{v1,latest,2022-04}/fleet), per dialect. */
import type { Core, Viewer } from './core.js';
import type { Campaign, CampaignResult } from './campaigns.js';
import { Router } from './router.js';
import type { Req } from './router.js';
import { hostJSON, hostStatus, isNew, labelJSON, labelSpecJSON, queryJSON, querySpecJSON, userJSON } from './shapes.js';
import type { HostRec, LabelRec, SecretRec } from './store.js';
import { errs, field, str } from './wire.js';

const FLEET_PASSWORD_RULE = 'Password must include at least 12 characters, at least 1 number (e.g. 0 - 9), and at least 1 symbol (e.g. &*#)';

export function fleetPasswordOk(pw: string): boolean {
  return pw.length >= 12 && /[0-9]/.test(pw) && /[^A-Za-z0-9]/.test(pw);
}

function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
function list(v: unknown): unknown[] {
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

export function appRouter(deps: AppDeps): Router {
  const { core } = deps;
  const d = core.d;
  const store = core.store;
  const r = new Router();
  const now = (): number => core.now();
  const requireAdmin = (q: Req): Viewer => {
    const v = q.viewer!;
    if (!core.isAdmin(v.user)) throw errs.permission(d, 'forbidden');
    return v;
  };
  const host = (h: HostRec): Record<string, unknown> => hostJSON(d, h, now());
  /** `specs` must be an array of objects, or Go's decoder refuses the body. */
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

  // --- session -------------------------------------------------------------------------------------
  r.add('POST', '/login', (q) => {
    core.loginThrottle(q.addr);
    const password = str(field(q.body, 'password'));
    let found: ReturnType<typeof store.userByEmail>;
    if (d === 'kolide') {
      const username = str(field(q.body, 'username')).toLowerCase();
      found = username.includes('@') ? store.userByEmail(username) : store.userByUsername(username);
    } else {
      found = store.userByEmail(str(field(q.body, 'email')));
    }
    if (!found || !core.checkPassword(password, found.password)) {
      core.loginFailed(q.addr);
      throw errs.authFailed(d, 'username or email and password do not match');
    }
    const token = core.newSessionToken(found.user.id);
    return d === 'kolide' ? { user: userJSON(d, found.user), token } : { user: userJSON(d, found.user), available_teams: [], token };
  }, { auth: false, body: true });

  r.add('POST', '/logout', (q) => {
    store.deleteSession(q.viewer!.sessionKey);
    return {};
  });

  r.add('GET', '/me', (q) => (d === 'kolide' ? { user: userJSON(d, q.viewer!.user) } : { user: userJSON(d, q.viewer!.user), available_teams: [] }));

  if (d === 'fleet') r.add('GET', '/version', () => ({ ...deps.version }));

  r.add('GET', '/config', () => core.appConfig());
  r.add('PATCH', '/config', (q) => {
    requireAdmin(q);
    if (q.query.get('dry_run') !== 'true') core.patchAppConfig(q.body);
    return core.appConfig();
  }, { body: true });

  // --- users (to have a second user for permission and websocket tests) ----------------------------
  r.add('GET', '/users', (q) => ({ users: paginate(store.users(), q).map((u) => userJSON(d, u)) }));
  r.add('POST', '/users/admin', (q) => {
    requireAdmin(q);
    const email = str(field(q.body, 'email'));
    const password = str(field(q.body, 'password'));
    const name = str(field(q.body, 'name'));
    const bad: Array<{ name: string; reason: string }> = [];
    if (email === '') bad.push({ name: 'email', reason: 'Email cannot be empty' });
    if (password === '') bad.push({ name: 'password', reason: 'Password cannot be empty' });
    else if (d === 'fleet' && !fleetPasswordOk(password)) bad.push({ name: 'password', reason: FLEET_PASSWORD_RULE });
    if (d === 'kolide' && str(field(q.body, 'username')) === '') bad.push({ name: 'username', reason: 'cannot be empty' });
    if (bad.length) throw errs.validation(bad);
    if (store.userByEmail(email)) throw errs.exists(`User ${email} already exists`);
    const role = field(q.body, 'global_role');
    const apiOnly = field(q.body, 'api_only') === true;
    const user = store.createUser({
      username: str(field(q.body, 'username')) || email, name: name || email, email, password: core.hashPassword(password),
      admin: d === 'kolide' ? field(q.body, 'admin') === true : role === 'admin',
      globalRole: d === 'fleet' ? (typeof role === 'string' ? role : null) : null, apiOnly,
    }, now());
    const out: Record<string, unknown> = { user: userJSON(d, user) };
    if (d === 'fleet' && apiOnly) out.token = core.newSessionToken(user.id);
    return out;
  }, { body: true });

  // --- queries -------------------------------------------------------------------------------------
  r.add('POST', '/spec/queries', (q) => {
    requireAdmin(q);
    const parsed = specList(q, 'Query').map((s) => {
      const name = str(field(s, 'name'));
      const sql = str(field(s, 'query'));
      if (name === '') throw errs.service(d, 'query name must not be empty', 'name');
      if (sql.trim() === '') throw errs.service(d, 'query body must not be empty', 'query');
      const { name: _n, description, query: _q, ...extra } = s;
      return { name, description: str(description), query: sql, extra: d === 'fleet' ? extra : {} };
    });
    store.transaction(() => {
      for (const p of parsed) store.upsertQuery({ ...p, authorId: q.viewer!.user.id }, now());
    });
    return {};
  }, { body: true });
  r.add('GET', '/spec/queries', () => ({ specs: store.savedQueries().map((x) => querySpecJSON(d, x)) }));
  r.add('GET', '/spec/queries/:name', (q) => {
    const found = store.savedQueryByName(q.params.name!);
    if (!found) throw errs.notFound(`Query ${q.params.name} was not found in the datastore`);
    return { specs: querySpecJSON(d, found) };
  });
  r.add('GET', '/queries', (q) => {
    const filter = (q.query.get('query') ?? '').toLowerCase();
    const all = store.savedQueries().filter((x) => filter === '' || x.name.toLowerCase().includes(filter));
    return { queries: paginate(all, q).map((x) => queryJSON(d, x, x.authorId === null ? undefined : store.userById(x.authorId))) };
  });
  r.add('GET', '/queries/:id', (q) => {
    const found = store.queryById(Number(q.params.id));
    if (!found || !found.saved) throw errs.notFound(`Query ${q.params.id} was not found in the datastore`);
    return { query: queryJSON(d, found, found.authorId === null ? undefined : store.userById(found.authorId)) };
  });
  if (d === 'fleet') {
    // The latest results of a scheduled query per host (FleetDM 4.35+ query reports).
    r.add('GET', '/queries/:id/report', (q) => {
      const id = Number(q.params.id);
      const found = store.queryById(id);
      if (!found || !found.saved) throw errs.notFound(`Query ${q.params.id} was not found in the datastore`);
      const rep = core.results.report(id);
      return {
        query_id: id,
        report_clipped: rep.clipped,
        results: rep.rows.map((x) => ({ host_id: x.hostId, host_name: x.hostName, last_fetched: new Date(x.lastFetched).toISOString(), columns: x.columns })),
      };
    });
  }
  const deleteQuery = (q: Req, found: ReturnType<typeof store.savedQueryByName>, what: string): unknown => {
    requireAdmin(q);
    if (!found) throw errs.notFound(d === 'kolide' ? `queries ${what} was not found in the datastore` : `Query ${what} was not found in the datastore`);
    const usedBy = (p: { spec: Record<string, unknown> }) =>
      (list(p.spec.queries) as Array<Record<string, unknown>>).some((x) => str(x.query).toLowerCase() === found.name.toLowerCase());
    // Kolide: scheduled_queries.query_name REFERENCES queries(name) without ON DELETE (migration
    // 20171219164727), so MySQL refuses the delete while a pack schedules the query.
    if (d === 'kolide' && store.packs().some(usedBy)) throw errs.foreignKey('queries', found.name);
    store.transaction(() => {
      store.deleteQuery(found.id);
      // FleetDM drops the query's schedule entries with it.
      for (const p of store.packs()) {
        const qs = list(p.spec.queries) as Array<Record<string, unknown>>;
        const kept = qs.filter((x) => str(x.query).toLowerCase() !== found.name.toLowerCase());
        if (kept.length !== qs.length) store.upsertPack(p.name, { ...p.spec, queries: kept }, now());
      }
    });
    return {};
  };
  r.add('DELETE', '/queries/:name', (q) => deleteQuery(q, store.savedQueryByName(q.params.name!), q.params.name!));
  r.add('DELETE', '/queries/id/:id', (q) => {
    const found = store.queryById(Number(q.params.id));
    return deleteQuery(q, found?.saved ? found : undefined, q.params.id!);
  });

  // --- packs ---------------------------------------------------------------------------------------
  r.add('POST', '/spec/packs', (q) => {
    requireAdmin(q);
    const normalized = specList(q, 'Pack').map((s) => {
      const name = str(field(s, 'name'));
      if (name === '') throw errs.service(d, 'pack name must not be empty', 'name');
      const queries = list(field(s, 'queries')).map((x) => {
        const e = obj(x);
        const qn = str(field(e, 'query'));
        if (!store.savedQueryByName(qn)) throw errs.service(d, `applying pack '${name}': cannot schedule unknown query '${qn}'`);
        const out: Record<string, unknown> = { query: qn, name: str(field(e, 'name')) || qn };
        const desc = field(e, 'description');
        if (desc !== undefined) out.description = str(desc);
        out.interval = Number(field(e, 'interval') ?? 0) || 0;
        for (const k of ['snapshot', 'removed', 'shard', 'platform', 'version', ...(d === 'fleet' ? ['denylist'] : [])]) {
          const v = field(e, k);
          if (v !== undefined && v !== null) out[k] = v;
        }
        return out;
      });
      const targets = obj(field(s, 'targets'));
      const spec: Record<string, unknown> = { name };
      const desc = str(field(s, 'description'));
      if (desc !== '') spec.description = desc;
      const platform = str(field(s, 'platform'));
      if (platform !== '') spec.platform = platform;
      spec.disabled = field(s, 'disabled') === true;
      spec.targets = { labels: list(targets.labels).map(str) };
      spec.queries = queries;
      return spec;
    });
    store.transaction(() => {
      for (const s of normalized) store.upsertPack(s.name as string, s, now());
    });
    return {};
  }, { body: true });
  const packSpec = (p: { id: number; spec: Record<string, unknown> }): Record<string, unknown> => ({ id: p.id, ...p.spec });
  r.add('GET', '/spec/packs', () => ({ specs: store.packs().map(packSpec) }));
  r.add('GET', '/spec/packs/:name', (q) => {
    const p = store.packByName(q.params.name!);
    // Kolide answers a missing pack spec with 500, not 404 (fleet-api.md §9b).
    if (!p) throw d === 'kolide' ? errs.unknown(d, `get pack: Pack ${q.params.name} was not found in the datastore`) : errs.notFound(`Pack ${q.params.name} was not found in the datastore`);
    return { specs: packSpec(p) };
  });
  r.add('GET', '/packs', () => ({
    packs: store.packs().map((p) => ({ id: p.id, name: p.name, description: p.spec.description ?? '', platform: p.spec.platform ?? '', disabled: p.spec.disabled === true, query_count: list(p.spec.queries).length })),
  }));
  const deletePack = (q: Req, p: ReturnType<typeof store.packByName>, what: string): unknown => {
    requireAdmin(q);
    if (!p) throw errs.notFound(d === 'kolide' ? `packs ${what} was not found in the datastore` : `Pack ${what} was not found in the datastore`);
    store.deletePack(p.id);
    return {};
  };
  r.add('DELETE', '/packs/:name', (q) => deletePack(q, store.packByName(q.params.name!), q.params.name!));
  r.add('DELETE', '/packs/id/:id', (q) => deletePack(q, store.packs().find((p) => p.id === Number(q.params.id)), q.params.id!));

  // --- labels --------------------------------------------------------------------------------------
  r.add('POST', '/spec/labels', (q) => {
    requireAdmin(q);
    const specs = specList(q, 'Label');
    const byHost = d === 'kolide' ? core.identifierIndex('hostname') : core.identifierIndex('identifier');
    const plans = specs.map((s) => {
      const name = str(field(s, 'name'));
      if (name === '') throw errs.service(d, 'label name must not be empty', 'name');
      const existing = store.labelByName(name);
      if (existing?.builtin) throw errs.service(d, `cannot modify built-in label '${existing.name}'`);
      const mtRaw = field(s, 'label_membership_type');
      const mt = mtRaw === undefined || mtRaw === null || mtRaw === '' ? 'dynamic' : str(mtRaw);
      if (mt !== 'dynamic' && mt !== 'manual') throw errs.badRequest(d, `invalid label membership type: ${mt}`);
      const hosts = field(s, 'hosts');
      if (mt === 'dynamic' && Array.isArray(hosts) && hosts.length > 0) throw errs.service(d, `label ${name} is declared as dynamic but contains \`hosts\` key`);
      if (mt === 'manual' && !Array.isArray(hosts) && d === 'kolide') throw errs.service(d, `label ${name} is declared as manual but contains no \`hosts key\``);
      const sql = str(field(s, 'query'));
      if (mt === 'dynamic' && sql.trim() === '') throw errs.service(d, `label ${name}: query must not be empty`, 'query');
      const hostIds = list(hosts).flatMap((x) => (byHost.get(str(x).toLowerCase()) ?? []).map((h) => h.id));
      return { name, description: str(field(s, 'description')), query: sql, platform: str(field(s, 'platform')), mt, hostIds, existing };
    });
    store.transaction(() => {
      for (const p of plans) {
        const changed = !p.existing || p.existing.query !== p.query || p.existing.platform !== p.platform || p.existing.membershipType !== p.mt;
        const l = p.existing && !changed
          ? store.upsertLabel({ ...p.existing, description: p.description }, p.existing.updatedAt)
          : store.upsertLabel({ name: p.name, description: p.description, query: p.query, platform: p.platform, builtin: false, membershipType: p.mt as 'dynamic' | 'manual' }, Math.max(now(), (p.existing?.updatedAt ?? 0) + 1));
        if (p.mt === 'manual') store.replaceMembers(l.id, p.hostIds);
        else if (p.existing?.membershipType === 'manual') store.replaceMembers(l.id, []);
      }
    });
    return {};
  }, { body: true });
  r.add('GET', '/spec/labels', () => ({ specs: store.labels().map((l) => labelSpecJSON(d, l, core.labelHostNames(l))) }));
  r.add('GET', '/spec/labels/:name', (q) => {
    const l = store.labelByName(q.params.name!);
    if (!l) throw errs.notFound(`Label ${q.params.name} was not found in the datastore`);
    return { specs: labelSpecJSON(d, l, core.labelHostNames(l)) };
  });
  r.add('GET', '/labels', (q) => ({ labels: paginate(store.labels(), q).map((l) => labelJSON(d, l, store.labelMembers(l.id).size)) }));
  // Kolide wraps sql.ErrNoRows for lookups by id: a missing object is a 500 "… sql: no rows in result set".
  const noRows = (what: string) => errs.unknown(d, `${what}: sql: no rows in result set`);
  const labelOr404 = (id: string): LabelRec => {
    const l = store.labelById(Number(id));
    if (!l) throw d === 'kolide' ? noRows('selecting label') : errs.notFound(`Label ${id} was not found in the datastore`);
    return l;
  };
  r.add('GET', '/labels/:id', (q) => {
    const l = labelOr404(q.params.id!);
    return { label: labelJSON(d, l, store.labelMembers(l.id).size) };
  });
  r.add('GET', '/labels/:id/hosts', (q) => {
    const l = labelOr404(q.params.id!);
    const members = store.labelMembers(l.id);
    return { hosts: listHosts(q, [...members].map((id) => store.hostById(id)).filter((h): h is HostRec => h !== undefined)).map(host) };
  });
  const deleteLabel = (q: Req, l: LabelRec | undefined, what: string): unknown => {
    requireAdmin(q);
    if (!l) throw errs.notFound(d === 'kolide' ? `labels ${what} was not found in the datastore` : `Label ${what} was not found in the datastore`);
    if (l.builtin) throw errs.service(d, `cannot delete built-in label '${l.name}'`);
    store.deleteLabel(l.id);
    return {};
  };
  r.add('DELETE', '/labels/:name', (q) => deleteLabel(q, store.labelByName(q.params.name!), q.params.name!));
  r.add('DELETE', '/labels/id/:id', (q) => deleteLabel(q, store.labelById(Number(q.params.id)), q.params.id!));

  // --- osquery options (Kolide) and enroll secrets -------------------------------------------------
  if (d === 'kolide') {
    r.add('GET', '/spec/osquery_options', () => ({ spec: core.agentOptions() }));
    r.add('POST', '/spec/osquery_options', (q) => {
      requireAdmin(q);
      const spec = field(q.body, 'spec');
      if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw errs.badRequest(d, 'missing spec');
      const s = spec as Record<string, unknown>;
      core.setAgentOptions({ config: s.config ?? {}, overrides: s.overrides ?? {} });
      return {};
    }, { body: true });
  }
  const secretJSON = (s: SecretRec): Record<string, unknown> =>
    d === 'kolide' ? { name: s.name, secret: s.secret, active: s.active, created_at: new Date(s.createdAt).toISOString() } : { secret: s.secret, created_at: new Date(s.createdAt).toISOString(), team_id: null };
  r.add('GET', '/spec/enroll_secret', () => {
    const secrets = store.secrets().filter((s) => d === 'kolide' || s.active).map(secretJSON);
    return d === 'kolide' ? { specs: { secrets } } : { spec: { secrets } };
  });
  r.add('POST', '/spec/enroll_secret', (q) => {
    requireAdmin(q);
    const spec = obj(field(q.body, 'spec'));
    const secrets = list(field(spec, 'secrets')).map(obj);
    const t = now();
    if (d === 'kolide') {
      const parsed = secrets.map((s) => {
        const name = str(field(s, 'name'));
        const secret = str(field(s, 'secret'));
        if (name === '' || secret === '') throw errs.service(d, 'enroll secret name and secret must not be empty');
        return { name, secret, active: field(s, 'active') !== false, createdAt: t };
      });
      store.transaction(() => parsed.forEach((s) => store.upsertSecretByName(s)));
    } else {
      const parsed = secrets.map((s, i) => {
        const secret = str(field(s, 'secret'));
        if (secret === '') throw errs.validation([{ name: 'secret', reason: 'enroll secret must not be empty' }]);
        const old = store.secrets().find((x) => x.secret === secret);
        return { name: old?.name ?? `secret-${i}`, secret, active: true, createdAt: old?.createdAt ?? t };
      });
      if (q.query.get('dry_run') !== 'true') store.replaceSecrets(parsed);
    }
    return {};
  }, { body: true });

  // --- hosts ---------------------------------------------------------------------------------------
  const listHosts = (q: Req, hosts: HostRec[]): HostRec[] => {
    const t = now();
    const status = q.query.get('status') ?? '';
    const search = (q.query.get('query') ?? '').toLowerCase();
    let out = hosts.filter((h) => {
      if (status !== '') {
        const s = hostStatus(d, h, t);
        if (status === 'new' && !isNew(h, t)) return false;
        if (status === 'online' && s !== 'online') return false;
        if (status === 'offline' && s !== 'offline') return false;
        if ((status === 'mia' || status === 'missing') && s !== 'mia') return false;
      }
      if (search !== '') {
        const hay = [h.hostname, h.uuid, h.hardwareSerial, h.computerName, h.primaryIp].map((x) => x.toLowerCase());
        if (!hay.some((x) => x.includes(search))) return false;
      }
      return true;
    });
    const key = q.query.get('order_key');
    if (key) {
      const dir = q.query.get('order_direction') === 'desc' ? -1 : 1;
      // One sort key per host, computed once (not per comparison); numbers compare as numbers, as
      // the real server's SQL ORDER BY does ("9" before "10").
      const keyed = out.map((h) => ({ h, v: key === 'id' ? h.id : (hostJSON(d, h, t) as Record<string, unknown>)[key] }));
      keyed.sort((a, b) => {
        if (a.v === b.v) return a.h.id - b.h.id;
        const cmp = typeof a.v === 'number' && typeof b.v === 'number' ? a.v - b.v : String(a.v ?? '') < String(b.v ?? '') ? -1 : 1;
        return cmp * dir;
      });
      out = keyed.map((k) => k.h);
    } else out = out.slice().sort((a, b) => a.id - b.id);
    return paginate(out, q);
  };
  r.add('GET', '/hosts', (q) => ({ hosts: listHosts(q, [...store.allHosts()]).map(host) }));
  if (d === 'fleet') {
    r.add('GET', '/hosts/count', (q) => {
      const q2 = { ...q, query: new URLSearchParams(q.query) };
      q2.query.delete('page');
      q2.query.delete('per_page');
      return { count: listHosts(q2, [...store.allHosts()]).length };
    });
  }
  r.add('GET', '/host_summary', () => {
    const t = now();
    let online = 0, offline = 0, mia = 0, fresh = 0;
    const platforms = new Map<string, number>();
    for (const h of store.allHosts()) {
      const s = hostStatus(d, h, t);
      if (s === 'online') online++;
      else if (s === 'mia') mia++;
      else offline++;
      if (isNew(h, t)) fresh++;
      platforms.set(h.platform, (platforms.get(h.platform) ?? 0) + 1);
    }
    if (d === 'kolide') return { online_count: online, offline_count: offline, mia_count: mia, new_count: fresh };
    return {
      totals_hosts_count: store.hostCount(), online_count: online, offline_count: offline + mia, mia_count: mia, missing_30_days_count: mia,
      new_count: fresh, all_linux_count: [...platforms].filter(([p]) => !['darwin', 'windows', 'chrome', 'ios', 'ipados'].includes(p)).reduce((a, [, n]) => a + n, 0),
      platforms: [...platforms].map(([platform, hosts_count]) => ({ platform, hosts_count })),
      builtin_labels: store.labels().filter((l) => l.builtin).map((l) => ({ id: l.id, name: l.name, description: l.description, label_type: 'builtin' })),
    };
  });
  const hostDetail = (h: HostRec): Record<string, unknown> => {
    const labels = store.labelsOfHost(h.id).map((l) => labelJSON(d, l, store.labelMembers(l.id).size));
    if (d === 'kolide') return { ...host(h), labels };
    return { ...host(h), labels, packs: [], policies: [], users: [], batteries: null, end_users: [] };
  };
  r.add('GET', '/hosts/identifier/:identifier', (q) => {
    const h = core.hostsByIdentifier(q.params.identifier!);
    if (!h) throw d === 'kolide' ? noRows('get host by identifier') : errs.notFound(`Host ${q.params.identifier} was not found in the datastore`);
    return { host: hostDetail(h) };
  });
  const hostOr404 = (id: string): HostRec => {
    const h = store.hostById(Number(id));
    if (!h) throw d === 'kolide' ? noRows('getting host by id') : errs.notFound(`Host ${id} was not found in the datastore`);
    return h;
  };
  r.add('GET', '/hosts/:id', (q) => ({ host: d === 'kolide' ? host(hostOr404(q.params.id!)) : hostDetail(hostOr404(q.params.id!)) }));
  r.add('DELETE', '/hosts/:id', (q) => {
    requireAdmin(q);
    const h = hostOr404(q.params.id!);
    store.deleteHost(h.id);
    core.forgetHost(h.id);
    return {};
  });

  // --- targets (the UI's target picker; a client may use it to preflight) ---------------------------
  const selectedIds = (q: Req): { hostIds: number[]; labelIds: number[] } => {
    const sel = obj(field(q.body, 'selected'));
    return {
      hostIds: list(field(sel, 'hosts')).map(Number).filter(Number.isFinite),
      labelIds: list(field(sel, 'labels')).map(Number).filter(Number.isFinite),
    };
  };
  r.add('POST', '/targets', (q) => {
    const search = str(field(q.body, 'query')).toLowerCase();
    const { hostIds, labelIds } = selectedIds(q);
    const m = core.metrics(core.resolveTargets(hostIds, labelIds));
    const hosts = [...store.allHosts()].filter((h) => search === '' || h.hostname.toLowerCase().includes(search)).slice(0, 100);
    const labels = store.labels().filter((l) => search === '' || l.name.toLowerCase().includes(search));
    const targets: Record<string, unknown> = {
      hosts: hosts.map((h) => ({ ...host(h), display_text: h.hostname })),
      labels: labels.map((l) => labelJSON(d, l, store.labelMembers(l.id).size)),
    };
    if (d === 'fleet') targets.teams = [];
    return {
      targets, targets_count: m.TotalHosts, targets_online: m.OnlineHosts, targets_offline: m.OfflineHosts,
      targets_missing_in_action: m.MissingInActionHosts,
    };
  }, { body: true });
  if (d === 'fleet') {
    r.add('POST', '/targets/count', (q) => {
      const { hostIds, labelIds } = selectedIds(q);
      const m = core.metrics(core.resolveTargets(hostIds, labelIds));
      return { targets_count: m.TotalHosts, targets_online: m.OnlineHosts, targets_offline: m.OfflineHosts + m.MissingInActionHosts };
    }, { body: true });
  }

  // --- live queries --------------------------------------------------------------------------------
  const campaignSql = (q: Req): { sql: string; savedId: number | undefined } => {
    const sqlRaw = field(q.body, 'query');
    const idRaw = field(q.body, 'query_id');
    if (d === 'fleet' && idRaw !== undefined && idRaw !== null) {
      if (typeof sqlRaw === 'string' && sqlRaw !== '') throw errs.badRequest(d, 'cannot specify both query and query_id');
      const saved = store.queryById(Number(idRaw));
      if (!saved) throw errs.notFound(`Query ${String(idRaw)} was not found in the datastore`);
      if (isObserver(q) && saved.extra.observer_can_run !== true) throw errs.permission(d, 'forbidden');
      return { sql: saved.query, savedId: saved.id };
    }
    // FleetDM observers may only run saved queries marked observer_can_run.
    if (isObserver(q)) throw errs.permission(d, 'forbidden');
    const sql = str(sqlRaw);
    if (sql.trim() === '') throw errs.service(d, 'query cannot be empty', 'query');
    return { sql, savedId: undefined };
  };
  const liveQueryAllowed = (): void => {
    if (core.liveQueryDisabled()) throw d === 'kolide' ? errs.unknown(d, 'disabled by administrator') : errs.permission(d, 'disabled by administrator');
  };
  const reply = (c: Campaign): unknown => ({ campaign: core.campaignJSON(c) });

  r.add('POST', '/queries/run', (q) => {
    liveQueryAllowed();
    const { sql, savedId } = campaignSql(q);
    const sel = obj(field(q.body, 'selected'));
    const hostIds = list(field(sel, 'hosts')).map(Number).filter(Number.isFinite);
    const labelIds = list(field(sel, 'labels')).map(Number).filter(Number.isFinite);
    if (d === 'fleet' && hostIds.length === 0 && labelIds.length === 0) throw errs.badRequest(d, 'no hosts targeted');
    return reply(core.createCampaign(q.viewer!, sql, core.resolveTargets(hostIds, labelIds), savedId));
  }, { body: true });

  const byNames = (kind: 'hostname' | 'identifier') => (q: Req): unknown => {
    liveQueryAllowed();
    const { sql, savedId } = campaignSql(q);
    const sel = obj(field(q.body, 'selected'));
    const hostNames = list(field(sel, 'hosts')).map(str);
    const labelNames = list(field(sel, 'labels')).map(str);
    const labelIds: number[] = [];
    const unknown: string[] = [];
    for (const n of labelNames) {
      const l = store.labelByName(n);
      if (l) labelIds.push(l.id);
      else unknown.push(n);
    }
    if (d === 'fleet' && unknown.length > 0) throw errs.badRequest(d, `Invalid label name(s): ${unknown.join(', ')}.`);
    const idx = core.identifierIndex(kind);
    const hostIds = hostNames.flatMap((n) => (idx.get(n.toLowerCase()) ?? []).map((h) => h.id));
    if (d === 'fleet' && hostIds.length === 0 && labelIds.length === 0) throw errs.badRequest(d, 'no hosts targeted');
    return reply(core.createCampaign(q.viewer!, sql, core.resolveTargets(hostIds, labelIds), savedId));
  };
  r.add('POST', '/queries/run_by_names', byNames(d === 'kolide' ? 'hostname' : 'identifier'), { body: true });
  if (d === 'fleet') {
    r.add('POST', '/queries/run_by_identifiers', byNames('identifier'), { body: true });

    /** Runs a campaign without a websocket and waits for the online targets (or the REST period). */
    const runSync = async (viewer: Viewer, sql: string, targets: Set<number>, savedId: number | undefined): Promise<Map<number, CampaignResult>> => {
      const c = core.createCampaign(viewer, sql, targets, savedId);
      const got = new Map<number, CampaignResult>();
      const onlineTargets = [...targets].filter((id) => {
        const h = store.hostById(id);
        return h !== undefined && hostStatus(d, h, now()) === 'online';
      });
      await new Promise<void>((resolve) => {
        let unsub: () => void = () => {};
        const timer = setTimeout(() => done(), deps.restPeriodMs);
        timer.unref();
        const done = (): void => {
          clearTimeout(timer);
          unsub();
          resolve();
        };
        unsub = core.campaigns.subscribe(c, (res) => {
          got.set(res.hostId, res);
          if (onlineTargets.every((id) => got.has(id))) done();
        });
        if (onlineTargets.length === 0) done();
      });
      return got;
    };
    const hostQuery = async (q: Req, h: HostRec | undefined, what: string): Promise<unknown> => {
      liveQueryAllowed();
      if (!h) throw errs.notFound(`Host ${what} was not found in the datastore`);
      const sql = str(field(q.body, 'query'));
      if (sql.trim() === '') throw errs.validation([{ name: 'query', reason: 'query cannot be empty' }]);
      if (hostStatus(d, h, now()) !== 'online') return { host_id: h.id, query: sql, status: 'offline', error: 'host is offline', rows: [] };
      const got = await runSync(q.viewer!, sql, new Set([h.id]), undefined);
      const res = got.get(h.id);
      // The strayAnswers fault: the reply names a host that was not asked (stray.ts).
      const stray = [...got.values()].find((x) => x.hostId !== h.id);
      if (stray) return { host_id: stray.hostId, query: sql, status: 'online', rows: stray.rows };
      if (!res) return { host_id: h.id, query: sql, status: 'online', error: 'timeout waiting for results', rows: [] };
      const out: Record<string, unknown> = { host_id: h.id, query: sql, status: 'online', rows: res.rows };
      if (res.error !== null) out.error = res.error;
      return out;
    };
    r.add('POST', '/hosts/identifier/:identifier/query', (q) => hostQuery(q, core.hostsByIdentifier(q.params.identifier!), q.params.identifier!), { body: true });
    r.add('POST', '/hosts/:id/query', (q) => hostQuery(q, store.hostById(Number(q.params.id)), q.params.id!), { body: true });
    const resultsList = (got: Map<number, CampaignResult>): unknown[] =>
      [...got.values()].map((x) => ({ host_id: x.hostId, rows: x.rows, error: x.error }));
    r.add('POST', '/queries/:id/run', async (q) => {
      liveQueryAllowed();
      const saved = store.queryById(Number(q.params.id));
      if (!saved || !saved.saved) throw errs.notFound(`Query ${q.params.id} was not found in the datastore`);
      const hostIds = list(field(q.body, 'host_ids')).map(Number).filter(Number.isFinite);
      if (hostIds.length === 0) throw errs.badRequest(d, 'no hosts targeted');
      const targets = core.resolveTargets(hostIds, []);
      const got = await runSync(q.viewer!, saved.query, targets, saved.id);
      return { query_id: saved.id, targeted_host_count: targets.size, responded_host_count: got.size, results: resultsList(got) };
    }, { body: true });
    r.add('GET', '/queries/run', async (q) => {
      liveQueryAllowed();
      const qids = list(field(q.body, 'query_ids')).map(Number).filter(Number.isFinite);
      const hids = list(field(q.body, 'host_ids')).map(Number).filter(Number.isFinite);
      if (qids.length === 0 || hids.length === 0) throw errs.badRequest(d, 'query_ids and host_ids are required');
      const targets = core.resolveTargets(hids, []);
      const runs = await Promise.all(qids.map(async (id) => {
        const saved = store.queryById(id);
        if (!saved) return { query_id: id, error: `Query ${id} was not found in the datastore`, results: [] };
        return { query_id: id, results: resultsList(await runSync(q.viewer!, saved.query, targets, saved.id)) };
      }));
      const responded = new Set(runs.flatMap((x) => (x.results as Array<{ host_id: number }>).map((y) => y.host_id)));
      return { summary: { targeted_host_count: targets.size, responded_host_count: responded.size }, live_query_results: runs };
    }, { body: true, allowEmpty: true });
  }

  return r;
}

/** page (0-based) and per_page: per_page 0 = everything; a page without per_page means 20. */
function paginate<T>(items: T[], q: Req): T[] {
  const page = intParam(q.query.get('page'));
  let per = intParam(q.query.get('per_page')) ?? 0;
  if (page !== undefined && per === 0) per = 20;
  if (per === 0) return items;
  const start = (page ?? 0) * per;
  return items.slice(start, start + per);
}

