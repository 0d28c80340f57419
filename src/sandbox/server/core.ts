/**
 * The sandbox's service layer: users and tokens, app config, agent config, label evaluation,
 * campaign targets and metrics. HTTP and websocket transports sit on top (http.ts, ws.ts).
 */
import { createHmac, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { Campaigns } from './campaigns.js';
import type { Campaign, CampaignResult, Row } from './campaigns.js';
import { FaultEngine } from './faults.js';
import { displayName, hostStatus, isNew } from './shapes.js';
import { Store } from './store.js';
import type { HostRec, LabelRec, UserRec } from './store.js';
import type { Dialect, ServerOptions } from './types.js';
import { errs, HttpError } from './wire.js';
import { ResultLog } from './results.js';
import { injectStrays, phantomHost } from './stray.js';

export const VERSIONS: Record<Dialect, Record<string, string>> = {
  kolide: { version: '3.2.0', branch: 'master', revision: '98a79588474bcbde8e838d72fb18793a02b45401', go_version: 'go1.14.9', build_date: '2020-10-01T00:00:00Z', build_user: 'osfleet-sandbox' },
  fleet: { version: '4.95.0', branch: 'main', revision: 'osfleet-sandbox', go_version: 'go1.23.4', build_date: '2024-11-01T00:00:00Z', build_user: 'osfleet-sandbox' },
};

interface BuiltinLabel { name: string; query: string; platform: string; description: string }

export const BUILTIN_LABELS: Record<Dialect, BuiltinLabel[]> = {
  // kolide/fleet server/datastore/internal/appstate/labels.go (queries read os_version: osquery_info has no platform column).
  kolide: [
    { name: 'All Hosts', query: 'select 1;', platform: '', description: '' },
    { name: 'Mac OS X', query: "select 1 from os_version where platform = 'darwin';", platform: 'darwin', description: '' },
    { name: 'Ubuntu Linux', query: "select 1 from os_version where platform = 'ubuntu';", platform: 'ubuntu', description: '' },
    { name: 'CentOS Linux', query: "select 1 from os_version where platform = 'centos';", platform: 'centos', description: '' },
    { name: 'MS Windows', query: "select 1 from os_version where platform = 'windows';", platform: 'windows', description: '' },
  ],
  fleet: [
    { name: 'All Hosts', query: 'SELECT 1;', platform: '', description: 'All hosts which have enrolled in Fleet' },
    { name: 'macOS', query: "SELECT 1 FROM os_version WHERE platform = 'darwin';", platform: 'darwin', description: 'All macOS hosts' },
    { name: 'Ubuntu Linux', query: "SELECT 1 FROM os_version WHERE platform = 'ubuntu';", platform: 'ubuntu', description: 'All Ubuntu hosts' },
    { name: 'CentOS Linux', query: "SELECT 1 FROM os_version WHERE platform = 'centos' OR name LIKE '%centos%'", platform: '', description: 'All CentOS hosts' },
    { name: 'MS Windows', query: "SELECT 1 FROM os_version WHERE platform = 'windows';", platform: 'windows', description: 'All Windows hosts' },
    { name: 'Red Hat Linux', query: "SELECT 1 FROM os_version WHERE name LIKE '%red hat%'", platform: '', description: 'All Red Hat Enterprise Linux hosts' },
    { name: 'All Linux', query: "SELECT 1 FROM osquery_info WHERE build_platform = 'linux';", platform: '', description: 'All Linux distributions' },
  ],
};

/** Detail queries Fleet hands a host on its first check-in and then hourly (the tables every osquery has). */
const DETAIL_QUERIES: Record<string, string> = {
  os_version: 'SELECT * FROM os_version LIMIT 1',
  osquery_info: 'SELECT * FROM osquery_info LIMIT 1',
  system_info: 'SELECT * FROM system_info LIMIT 1',
  uptime: 'SELECT * FROM uptime LIMIT 1',
};

export interface Viewer {
  user: UserRec;
  sessionKey: string;
}

export class Core {
  readonly store: Store;
  readonly campaigns: Campaigns;
  readonly faults: FaultEngine;
  readonly d: Dialect;
  readonly now: () => number;
  private readonly jwtKey: Buffer;
  /** failed login attempts per client address (FleetDM's login rate limit). */
  private readonly loginFailures = new Map<string, number[]>();
  private readonly labelIntervalMs: number;
  private readonly detailIntervalMs: number;
  /** host id -> (query name -> when it was handed out and, for labels, which version of the label). */
  private readonly pending = new Map<number, Map<string, Handout>>();
  /**
   * host id -> (label id -> the hand-out its last answer replied to). Per label and per label version,
   * so a label applied or changed while a host holds older label queries is still sent to it (one
   * label_updated_at per host would hide it). In memory: after a restart hosts evaluate labels again.
   */
  private readonly labelEval = new Map<number, Map<number, Handout>>();
  /** label id -> its version: bumped whenever the label's updated_at moves (query, platform or type changed). */
  private readonly labelVersions = new Map<number, { updatedAt: number; version: number }>();
  private versionCounter = 0;
  logLines = 0;
  /** Result lines from hosts: the result log, query reports, events. */
  readonly results: ResultLog;

  constructor(readonly opts: ServerOptions) {
    this.d = opts.dialect;
    this.now = opts.now ?? Date.now;
    this.store = new Store(opts.dbPath);
    this.faults = new FaultEngine(opts.faults);
    this.campaigns = new Campaigns(this.d, opts.campaignIdleMs ?? (this.d === 'kolide' ? 5_000 : 60_000), this.now);
    this.labelIntervalMs = opts.labelUpdateIntervalMs ?? 3_600_000;
    this.detailIntervalMs = opts.detailUpdateIntervalMs ?? 3_600_000;
    const dialectInStore = this.store.meta('dialect');
    if (dialectInStore !== undefined && dialectInStore !== this.d) {
      throw new Error(`the data folder holds a ${dialectInStore} sandbox; start it with --dialect ${dialectInStore}`);
    }
    this.store.setMeta('dialect', this.d);
    let key = this.store.meta('jwt_key');
    if (key === undefined) {
      key = randomBytes(32).toString('hex');
      this.store.setMeta('jwt_key', key);
    }
    this.jwtKey = Buffer.from(key, 'hex');
    this.results = new ResultLog(this.store, opts.resultLogPath);
    this.initState();
  }

  /** First start: built-in labels, the default enroll secret and default agent options. */
  private initState(): void {
    const now = this.now();
    if (this.store.meta('initialized') === undefined) {
      this.store.transaction(() => {
        for (const l of BUILTIN_LABELS[this.d]) {
          this.store.upsertLabel({ ...l, builtin: true, membershipType: 'dynamic' }, now);
        }
        this.store.upsertSecretByName({ name: 'default', secret: this.opts.enrollSecret, active: true, createdAt: now });
        this.store.setMeta('initialized', '1');
      });
    } else if (!this.store.secrets().some((s) => s.secret === this.opts.enrollSecret)) {
      // The simulated fleet enrolls with the seed's secret; keep it valid across restarts with another seed.
      this.store.upsertSecretByName({ name: `sandbox-${now}`, secret: this.opts.enrollSecret, active: true, createdAt: now });
    }
  }

  get isSetup(): boolean {
    return this.store.meta('setup') === '1';
  }

  // --- passwords, sessions, tokens ---------------------------------------------------------------
  hashPassword(pw: string): string {
    const salt = randomBytes(16);
    return `${salt.toString('hex')}:${scryptSync(pw, salt, 32, { N: 1024 }).toString('hex')}`;
  }
  checkPassword(pw: string, stored: string): boolean {
    const [salt, hash] = stored.split(':');
    if (!salt || !hash) return false;
    const got = scryptSync(pw, Buffer.from(salt, 'hex'), 32, { N: 1024 });
    return timingSafeEqual(got, Buffer.from(hash, 'hex'));
  }

  /** Kolide: a JWT (HS256) carrying the session key; FleetDM: the opaque session key itself. */
  newSessionToken(userId: number): string {
    const key = randomBytes(32).toString('base64');
    this.store.createSession(key, userId, this.now());
    if (this.d === 'fleet') return key;
    const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
    const unsigned = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ session_key: key })}`;
    return `${unsigned}.${createHmac('sha256', this.jwtKey).update(unsigned).digest('base64url')}`;
  }

  /** The session key inside a token, or the reason it is refused (jwt-go's wording for Kolide). */
  sessionKeyOf(token: string): string {
    if (this.d === 'fleet') return token;
    const parts = token.split('.');
    if (parts.length !== 3) throw new AuthRefusal('token contains an invalid number of segments');
    const sig = createHmac('sha256', this.jwtKey).update(`${parts[0]}.${parts[1]}`).digest('base64url');
    if (sig !== parts[2]) throw new AuthRefusal('signature is invalid');
    try {
      const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as { session_key?: unknown };
      if (typeof claims.session_key !== 'string') throw new Error();
      return claims.session_key;
    } catch {
      throw new AuthRefusal('no session_key in JWT claims');
    }
  }

  /** Resolves a bearer token to its user, or throws the dialect's 401. */
  authenticate(token: string | undefined): Viewer {
    if (token === undefined || token === '') throw errs.authRequired(this.d);
    let key: string;
    try {
      key = this.sessionKeyOf(token);
    } catch (e) {
      throw errs.badToken(this.d, (e as Error).message);
    }
    const user = this.store.sessionUser(key);
    if (!user) throw errs.badToken(this.d, 'Session was not found in the datastore');
    return { user, sessionKey: key };
  }

  /** Same check for the websocket `auth` message: undefined when refused. */
  viewerForToken(token: unknown): Viewer | undefined {
    if (typeof token !== 'string') return undefined;
    try {
      return this.authenticate(token);
    } catch {
      return undefined;
    }
  }

  isAdmin(u: UserRec): boolean {
    return this.d === 'kolide' ? u.admin : u.globalRole === 'admin';
  }

  /** FleetDM rate-limits logins per address (about 10 a minute); only failures count here, so tests can log in freely. */
  loginThrottle(addr: string): void {
    if (this.d !== 'fleet') return;
    const now = this.now();
    const recent = (this.loginFailures.get(addr) ?? []).filter((t) => t > now - 60_000);
    this.loginFailures.set(addr, recent);
    if (recent.length >= 10) {
      const retry = Math.max(1, Math.ceil((recent[0]! + 60_000 - now) / 1000));
      throw new HttpError(429, 'Too many requests', [{ name: 'base', reason: `limit exceeded, retry after: ${retry}s` }], { 'Retry-After': String(retry) });
    }
  }
  loginFailed(addr: string): void {
    const list = this.loginFailures.get(addr) ?? [];
    list.push(this.now());
    this.loginFailures.set(addr, list);
  }

  // --- app config --------------------------------------------------------------------------------
  defaultAgentOptions(): Record<string, unknown> {
    const osq = this.d === 'kolide' ? '/api/v1/osquery' : '/api/osquery';
    return {
      config: {
        options: {
          logger_plugin: 'tls', pack_delimiter: '/', logger_tls_period: 10, distributed_plugin: 'tls', disable_distributed: false,
          logger_tls_endpoint: `${osq}/log`, distributed_interval: this.opts.agentIntervalSec, config_refresh: this.opts.agentIntervalSec,
          distributed_tls_max_attempts: 3,
        },
        decorators: { load: ['SELECT uuid AS host_uuid FROM system_info;', 'SELECT hostname AS hostname FROM system_info;'] },
      },
      overrides: {},
    };
  }

  /** Kolide's osquery options (OptionsSpec), or FleetDM's config.agent_options. */
  agentOptions(): Record<string, unknown> {
    return this.store.metaJSON<Record<string, unknown>>('agent_options', this.defaultAgentOptions());
  }
  setAgentOptions(v: Record<string, unknown>): void {
    this.store.setMetaJSON('agent_options', v);
  }

  appConfig(): Record<string, unknown> {
    const stored = this.store.metaJSON<Record<string, unknown>>('app_config', {});
    const org = this.store.metaJSON<Record<string, unknown>>('org_info', { org_name: '', org_logo_url: '' });
    const serverUrl = this.store.meta('server_url') ?? '';
    if (this.d === 'kolide') {
      return deepMerge(
        {
          org_info: { org_name: '', org_logo_url: '', ...org },
          server_settings: { kolide_server_url: serverUrl, live_query_disabled: false },
          smtp_settings: {
            enable_smtp: false, configured: false, sender_address: '', server: '', port: 587, authentication_type: 'authtype_username_password',
            user_name: '', password: '', enable_ssl_tls: true, authentication_method: 'authmethod_plain', domain: '', verify_ssl_certs: true, enable_start_tls: true,
          },
          host_expiry_settings: { host_expiry_enabled: false, host_expiry_window: 0 },
          host_settings: { additional_queries: null },
          sso_settings: { entity_id: '', issuer_uri: '', idp_image_url: '', metadata: '', metadata_url: '', idp_name: '', enable_sso: false },
        },
        stored,
      );
    }
    return {
      ...deepMerge(
        {
          org_info: { org_name: '', org_logo_url: '', org_logo_url_light_background: '', contact_url: 'https://fleetdm.com/company/contact', ...org },
          server_settings: { server_url: serverUrl, live_query_disabled: false, query_reports_disabled: false, enable_analytics: false, deferred_save_host: false, scripts_disabled: false, ai_features_disabled: false },
          smtp_settings: { enable_smtp: false, configured: false, sender_address: '', server: '', port: 587, authentication_type: 'authtype_username_password', user_name: '', password: '', enable_ssl_tls: true, authentication_method: 'authmethod_plain', domain: '', verify_ssl_certs: true, enable_start_tls: true },
          host_expiry_settings: { host_expiry_enabled: false, host_expiry_window: 0 },
          features: { enable_host_users: true, enable_software_inventory: false, additional_queries: null, detail_query_overrides: null },
          sso_settings: { entity_id: '', issuer_uri: '', idp_image_url: '', metadata: '', metadata_url: '', idp_name: '', enable_jit_provisioning: false, enable_sso: false, enable_sso_idp_login: false },
          fleet_desktop: { transparency_url: 'https://fleetdm.com/transparency' },
          webhook_settings: { interval: '24h0m0s' },
          integrations: { jira: null, zendesk: null },
          license: { tier: 'free', expiration: '0001-01-01T00:00:00Z' },
          logging: { debug: false, json: false },
          update_interval: { osquery_detail: 3600000000000, osquery_policy: 3600000000000 },
        },
        stored,
      ),
      agent_options: this.agentOptions(),
    };
  }

  /** PATCH /config: objects merge key by key, anything else replaces (agent_options wholesale). */
  patchAppConfig(patch: Record<string, unknown>): void {
    const stored = this.store.metaJSON<Record<string, unknown>>('app_config', {});
    const { agent_options, org_info, server_settings, ...rest } = patch;
    if (this.d === 'fleet' && agent_options !== undefined && agent_options !== null) {
      if (typeof agent_options !== 'object' || Array.isArray(agent_options)) throw errs.badRequest(this.d, 'agent_options must be an object');
      this.setAgentOptions(agent_options as Record<string, unknown>);
    }
    if (org_info && typeof org_info === 'object') {
      this.store.setMetaJSON('org_info', { ...this.store.metaJSON<Record<string, unknown>>('org_info', {}), ...(org_info as object) });
    }
    let merged = deepMerge(stored, rest);
    if (server_settings && typeof server_settings === 'object') {
      const ss = { ...(server_settings as Record<string, unknown>) };
      const urlKey = this.d === 'kolide' ? 'kolide_server_url' : 'server_url';
      if (typeof ss[urlKey] === 'string') {
        this.store.setMeta('server_url', ss[urlKey] as string);
        delete ss[urlKey];
      }
      merged = deepMerge(merged, { server_settings: ss });
    }
    this.store.setMetaJSON('app_config', merged);
  }

  liveQueryDisabled(): boolean {
    const ss = (this.appConfig().server_settings ?? {}) as Record<string, unknown>;
    return ss.live_query_disabled === true;
  }

  // --- hosts and agent ---------------------------------------------------------------------------
  /** The osquery config a host gets: options (with its platform's override), decorators and its packs. */
  agentConfig(h: HostRec): Record<string, unknown> {
    const ao = this.agentOptions();
    const overrides = ((ao.overrides ?? {}) as Record<string, unknown>).platforms as Record<string, unknown> | undefined;
    const base = (overrides?.[h.platform] ?? ao.config ?? {}) as Record<string, unknown>;
    const config: Record<string, unknown> = JSON.parse(JSON.stringify(base)) as Record<string, unknown>;
    const packs: Record<string, unknown> = {};
    const memberOf = new Set(this.store.labelsOfHost(h.id).map((l) => l.name.toLowerCase()));
    for (const p of this.store.packs()) {
      const spec = p.spec;
      if (spec.disabled === true) continue;
      const targets = ((spec.targets ?? {}) as { labels?: unknown }).labels;
      const labels = Array.isArray(targets) ? targets.map((x) => String(x).toLowerCase()) : [];
      if (!labels.some((l) => memberOf.has(l))) continue;
      const queries: Record<string, unknown> = {};
      for (const q of (Array.isArray(spec.queries) ? spec.queries : []) as Array<Record<string, unknown>>) {
        const saved = this.store.savedQueryByName(String(q.query ?? ''));
        if (!saved) continue;
        const entry: Record<string, unknown> = { query: saved.query, interval: Number(q.interval ?? 0) };
        for (const k of ['platform', 'version', 'snapshot', 'removed', 'shard', 'denylist'] as const) if (q[k] !== undefined && q[k] !== null) entry[k] = q[k];
        queries[String(q.name ?? q.query)] = entry;
      }
      const pack: Record<string, unknown> = { queries };
      if (typeof spec.platform === 'string' && spec.platform !== '') pack.platform = spec.platform;
      packs[p.name] = pack;
    }
    if (Object.keys(packs).length > 0) config.packs = { ...((config.packs ?? {}) as object), ...packs };
    const opts = (config.options ?? {}) as Record<string, unknown>;
    const di = Number(opts.distributed_interval);
    const cr = Number(opts.config_refresh ?? opts.config_tls_refresh);
    if (Number.isFinite(di) && di > 0) h.distributedInterval = di;
    if (Number.isFinite(cr) && cr > 0) h.configTlsRefresh = cr;
    const lp = Number(opts.logger_tls_period);
    if (Number.isFinite(lp) && lp > 0) h.loggerTlsPeriod = lp;
    return config;
  }

  /** Distributed read: detail queries when stale, label queries when stale or changed, campaign queries. */
  queriesFor(h: HostRec): Record<string, string> {
    const out: Record<string, string> = {};
    const now = this.now();
    let pend = this.pending.get(h.id);
    const handOut = (name: string, sql: string, version: number): void => {
      const prev = pend?.get(name);
      if (prev !== undefined && prev.version === version && now - prev.at < 30_000) return;
      if (!pend) this.pending.set(h.id, (pend = new Map()));
      pend.set(name, { at: now, version });
      out[name] = sql;
    };
    if (h.detailUpdatedAt < now - this.detailIntervalMs) {
      for (const [name, sql] of this.detailQueries) handOut(name, sql, 0);
    }
    const evaluated = this.labelEval.get(h.id);
    for (const l of this.store.labels()) {
      if (l.membershipType !== 'dynamic') continue;
      if (l.platform !== '' && l.platform !== h.platform) continue;
      const version = this.labelVersion(l);
      const ev = evaluated?.get(l.id);
      if (ev !== undefined && ev.version === version && ev.at > now - this.labelIntervalMs) continue;
      handOut(this.labelPrefix + l.id, l.query, version);
    }
    this.campaigns.queriesFor(h.id, out);
    return out;
  }

  /** The detail queries under their names in this dialect, and the two name prefixes, made once. */
  private get detailQueries(): Array<[string, string]> {
    return (this.detailQueryList ??= Object.entries(DETAIL_QUERIES).map(([name, sql]) => [this.detailPrefix + name, sql]));
  }
  private detailQueryList: Array<[string, string]> | undefined;
  private get labelPrefix(): string {
    return (this.prefixes ??= { label: `${this.d}_label_query_`, detail: `${this.d}_detail_query_` }).label;
  }
  private get detailPrefix(): string {
    return (this.prefixes ??= { label: `${this.d}_label_query_`, detail: `${this.d}_detail_query_` }).detail;
  }
  private prefixes: { label: string; detail: string } | undefined;

  private labelVersion(l: LabelRec): number {
    const v = this.labelVersions.get(l.id);
    if (v && v.updatedAt === l.updatedAt) return v.version;
    const version = ++this.versionCounter;
    this.labelVersions.set(l.id, { updatedAt: l.updatedAt, version });
    return version;
  }

  /** Distributed write: label membership, details and campaign results. */
  ingest(h: HostRec, queries: Record<string, unknown>, statuses: Record<string, unknown>, messages: Record<string, unknown>, stats: Record<string, unknown>): void {
    const now = this.now();
    const pend = this.pending.get(h.id);
    let labelsSeen = false;
    let detailsSeen = false;
    const labelPrefix = this.labelPrefix;
    const detailPrefix = this.detailPrefix;
    this.store.transaction(() => {
      for (const name in queries) {
        const raw = queries[name];
        const handout = pend?.get(name) ?? { at: now, version: -1 };
        pend?.delete(name);
        const status = Number(statuses[name] ?? 0);
        const failed = Number.isFinite(status) && status !== 0;
        const list = Array.isArray(raw) ? (raw as unknown[]) : [];
        const rows = (list.every((r) => r !== null && typeof r === 'object') ? list : list.filter((r) => r !== null && typeof r === 'object')) as Row[];
        if (name.startsWith(this.campaigns.prefix)) {
          const id = Number(name.slice(this.campaigns.prefix.length));
          const msg = typeof messages[name] === 'string' ? (messages[name] as string) : '';
          const st = stats[name];
          const result: CampaignResult = {
            hostId: h.id,
            rows: failed ? [] : this.padRows(rows.map(stringifyRow)),
            error: failed ? (this.d === 'kolide' ? 'failed' : msg || 'failed') : null,
            stats: st && typeof st === 'object' && Object.keys(st).length > 0 ? (st as Record<string, number>) : null,
          };
          injectStrays(this.campaigns, this.faults, id, result, (n) => this.hostsByIdentifier(n), (x) => this.store.hostById(x));
          this.campaigns.ingest(id, result);
        } else if (name.startsWith(labelPrefix)) {
          const id = Number(name.slice(labelPrefix.length));
          if (this.store.labelById(id)) {
            this.store.setMembership(id, h.id, !failed && rows.length > 0);
            let ev = this.labelEval.get(h.id);
            if (!ev) this.labelEval.set(h.id, (ev = new Map()));
            ev.set(id, handout);
          }
          labelsSeen = true;
        } else if (name.startsWith(detailPrefix)) {
          if (!failed && rows[0]) this.ingestDetail(h, name.slice(detailPrefix.length), stringifyRow(rows[0]));
          detailsSeen = true;
        }
      }
    });
    if (labelsSeen) h.labelUpdatedAt = now;
    if (detailsSeen) h.detailUpdatedAt = now;
    if (labelsSeen || detailsSeen) {
      h.updatedAt = now;
      this.store.markDirty(h);
    }
  }

  private padRows(rows: Row[]): Row[] {
    const pad = this.faults.resultRowsPad;
    if (pad === 0) return rows;
    const template = rows[0] ?? { pad: '' };
    const out = rows.slice();
    for (let i = 0; i < pad; i++) out.push(rows[0] ? template : { pad: String(i) });
    return out;
  }

  private ingestDetail(h: HostRec, name: string, r: Row): void {
    if (name === 'os_version') applyOsVersion(h, r);
    else if (name === 'osquery_info') h.osqueryVersion = r.version ?? h.osqueryVersion;
    else if (name === 'system_info') applySystemInfo(h, r);
    else if (name === 'uptime') {
      const secs = Number(r.total_seconds);
      if (Number.isFinite(secs)) h.uptimeNs = secs * 1e9;
    }
  }

  /** A host from osquery's enroll request, or the same host again (re-enroll keeps its id and labels). */
  enroll(hostIdentifier: string, secretName: string, details: Record<string, Record<string, unknown>>): HostRec {
    const now = this.now();
    const existing = this.store.hostByOsqueryId(hostIdentifier);
    const h: HostRec = existing ?? {
      id: 0, nodeKey: '', osqueryHostId: hostIdentifier, uuid: '', hostname: '', computerName: '', platform: '', platformLike: '',
      osVersion: '', build: '', codeName: '', osqueryVersion: '', cpuType: '', cpuSubtype: '', cpuBrand: '', cpuPhysicalCores: 0,
      cpuLogicalCores: 0, hardwareVendor: '', hardwareModel: '', hardwareVersion: '', hardwareSerial: '', memory: 0, uptimeNs: 0,
      primaryIp: '', primaryMac: '', distributedInterval: 0, configTlsRefresh: 0, loggerTlsPeriod: 0, enrollSecretName: secretName,
      createdAt: now, updatedAt: now, detailUpdatedAt: 0, labelUpdatedAt: 0, lastEnrolledAt: now, seenTime: now,
    };
    h.nodeKey = nodeKey();
    h.enrollSecretName = secretName;
    h.lastEnrolledAt = now;
    h.seenTime = now;
    h.updatedAt = now;
    const s = (t: string): Row => stringifyRow((details[t] ?? {}) as Record<string, unknown>);
    applyOsVersion(h, s('os_version'));
    applySystemInfo(h, s('system_info'));
    const oi = s('osquery_info');
    if (oi.version) h.osqueryVersion = oi.version;
    if (!h.uuid) h.uuid = oi.uuid ?? hostIdentifier;
    if (!h.hostname) h.hostname = hostIdentifier;
    if (!h.primaryIp) h.primaryIp = fakeIp(h.uuid);
    if (!h.primaryMac) h.primaryMac = fakeMac(h.uuid);
    return this.store.saveHost(h);
  }

  // --- targets and metrics -----------------------------------------------------------------------
  /** Host ids for the selected hosts and labels (members as of now). */
  resolveTargets(hostIds: Iterable<number>, labelIds: Iterable<number>): Set<number> {
    const out = new Set<number>();
    for (const id of hostIds) if (this.store.hostById(id)) out.add(id);
    for (const lid of labelIds) for (const id of this.store.labelMembers(lid)) if (this.store.hostById(id)) out.add(id);
    return out;
  }

  metrics(targets: Iterable<number>): { TotalHosts: number; OnlineHosts: number; OfflineHosts: number; MissingInActionHosts: number; NewHosts: number } {
    const now = this.now();
    const m = { TotalHosts: 0, OnlineHosts: 0, OfflineHosts: 0, MissingInActionHosts: 0, NewHosts: 0 };
    for (const id of targets) {
      const h = this.store.hostById(id);
      if (!h) continue;
      m.TotalHosts++;
      const s = hostStatus(this.d, h, now);
      if (s === 'online') m.OnlineHosts++;
      else if (s === 'mia') m.MissingInActionHosts++;
      else m.OfflineHosts++;
      if (isNew(h, now)) m.NewHosts++;
    }
    return m;
  }

  createCampaign(viewer: Viewer, sql: string, targets: Set<number>, savedQueryId?: number): Campaign {
    const now = this.now();
    let queryId = savedQueryId;
    if (queryId === undefined) {
      const name = this.d === 'kolide' ? `distributed_${viewer.user.username}_${Math.floor(now / 1000)}` : `distributed_${viewer.user.email}_${now}`;
      queryId = this.store.createHiddenQuery(name, sql, viewer.user.id, now).id;
    }
    const id = this.store.createCampaignId(queryId, viewer.user.id, now);
    // FleetDM hands the query to hosts at once; Kolide only once a reader selects the campaign.
    return this.campaigns.create({ id, queryId, sql, userId: viewer.user.id, targets, start: this.d === 'fleet' });
  }

  campaignJSON(c: Campaign): Record<string, unknown> {
    const t = new Date(Math.floor(c.createdAt / 1000) * 1000).toISOString().replace('.000Z', 'Z');
    return {
      created_at: t, updated_at: t, Metrics: this.metrics(c.targets), id: c.id, query_id: c.queryId, status: 0, user_id: c.userId,
    };
  }

  /** The `result` message data for one host answer, in the dialect's shape. */
  resultJSON(c: Campaign, r: CampaignResult, hostShape: (h: HostRec) => Record<string, unknown>): Record<string, unknown> | undefined {
    const h = this.store.hostById(r.hostId) ?? (r.phantom ? phantomHost(r.hostId, r.phantom.hostname) : undefined);
    if (!h) return undefined;
    const dn = displayName(h);
    const rows = r.rows.map((row) => (this.d === 'fleet' ? { ...row, host_hostname: h.hostname, host_display_name: dn } : { ...row, host_hostname: h.hostname }));
    if (this.d === 'kolide') {
      return { distributed_query_execution_id: c.id, host: hostShape(h), rows, error: r.error };
    }
    const o: Record<string, unknown> = { distributed_query_execution_id: c.id, host: { id: h.id, hostname: h.hostname, display_name: dn }, rows, stats: r.stats };
    if (r.error !== null) o.error = r.error;
    return o;
  }

  hostsByIdentifier(identifier: string): HostRec | undefined {
    const x = identifier.toLowerCase();
    for (const h of this.store.allHosts()) {
      if (h.hostname.toLowerCase() === x || h.osqueryHostId.toLowerCase() === x || h.uuid.toLowerCase() === x || h.nodeKey === identifier) return h;
      if (this.d === 'fleet' && h.hardwareSerial !== '' && h.hardwareSerial.toLowerCase() === x) return h;
    }
    return undefined;
  }

  /** A host was deleted: forget what it was handed. */
  forgetHost(hostId: number): void {
    this.pending.delete(hostId);
    this.labelEval.delete(hostId);
    this.campaigns.forgetHost(hostId);
  }

  /** Name -> hosts index for resolving many names at once (case-insensitive, like MySQL's collation). */
  identifierIndex(kind: 'hostname' | 'identifier'): Map<string, HostRec[]> {
    const m = new Map<string, HostRec[]>();
    const add = (k: string, h: HostRec): void => {
      if (k === '') return;
      const key = k.toLowerCase();
      const list = m.get(key);
      if (!list) m.set(key, [h]);
      else if (!list.includes(h)) list.push(h);
    };
    for (const h of this.store.allHosts()) {
      add(h.hostname, h);
      if (kind === 'identifier') {
        add(h.uuid, h);
        add(h.hardwareSerial, h);
        add(h.osqueryHostId, h);
        add(h.nodeKey, h);
      }
    }
    return m;
  }

  labelHostNames(l: LabelRec): string[] {
    return [...this.store.labelMembers(l.id)].map((id) => this.store.hostById(id)?.hostname ?? '').filter((n) => n !== '').sort();
  }

  close(): void {
    this.results.close();
    this.campaigns.closeAll();
    this.store.close();
  }
}

export class AuthRefusal extends Error {}

interface Handout {
  at: number;
  /** The label's version when handed out (0 for detail queries; -1 when the answer matched no hand-out). */
  version: number;
}

/** Node keys are drawn from one random buffer refilled every 1,024 keys (a call each costs ~10 µs). */
const KEY_BYTES = 24;
let keyPool = Buffer.alloc(0);
let keyAt = 0;
function nodeKey(): string {
  if (keyAt + KEY_BYTES > keyPool.length) {
    keyPool = randomBytes(KEY_BYTES * 1024);
    keyAt = 0;
  }
  const key = keyPool.toString('base64', keyAt, keyAt + KEY_BYTES);
  keyAt += KEY_BYTES;
  return key;
}

export function stringifyRow(r: Record<string, unknown>): Row {
  // Rows are read, never changed, after this: one whose values are all strings already is kept as is.
  let strings = true;
  for (const k in r) {
    if (typeof r[k] !== 'string') {
      strings = false;
      break;
    }
  }
  if (strings && Object.getPrototypeOf(r) === Object.prototype) return r as Row;
  const o: Row = {};
  for (const [k, v] of Object.entries(r)) o[k] = v === null || v === undefined ? '' : typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return o;
}

function applyOsVersion(h: HostRec, r: Row): void {
  if (r.platform) h.platform = r.platform;
  if (r.platform_like !== undefined) h.platformLike = r.platform_like;
  if (r.build !== undefined) h.build = r.build;
  if (r.codename !== undefined) h.codeName = r.codename;
  if (r.name) {
    const ver = r.version || [r.major, r.minor, r.patch].filter((x) => x !== undefined && x !== '').join('.');
    h.osVersion = ver ? `${r.name} ${ver}` : r.name;
  }
}

function applySystemInfo(h: HostRec, r: Row): void {
  if (r.hostname) h.hostname = r.hostname;
  if (r.uuid) h.uuid = r.uuid;
  if (r.computer_name) h.computerName = r.computer_name;
  if (r.cpu_type) h.cpuType = r.cpu_type;
  if (r.cpu_subtype !== undefined) h.cpuSubtype = r.cpu_subtype;
  if (r.cpu_brand) h.cpuBrand = r.cpu_brand;
  if (r.cpu_physical_cores) h.cpuPhysicalCores = Number(r.cpu_physical_cores) || 0;
  if (r.cpu_logical_cores) h.cpuLogicalCores = Number(r.cpu_logical_cores) || 0;
  if (r.physical_memory) h.memory = Number(r.physical_memory) || 0;
  if (r.hardware_vendor !== undefined) h.hardwareVendor = r.hardware_vendor;
  if (r.hardware_model !== undefined) h.hardwareModel = r.hardware_model;
  if (r.hardware_version !== undefined) h.hardwareVersion = r.hardware_version;
  if (r.hardware_serial) h.hardwareSerial = r.hardware_serial;
}

function fakeIp(seed: string): string {
  let x = 0;
  for (const c of seed) x = (x * 31 + c.charCodeAt(0)) >>> 0;
  return `10.${(x >>> 16) & 0xff}.${(x >>> 8) & 0xff}.${(x & 0xfe) + 1}`;
}
function fakeMac(seed: string): string {
  let x = 7;
  const out: string[] = ['02'];
  for (let i = 0; i < 5; i++) {
    for (const c of seed) x = (x * 33 + c.charCodeAt(0) + i) >>> 0;
    out.push((x & 0xff).toString(16).padStart(2, '0'));
  }
  return out.join(':');
}

export function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    if (v && typeof v === 'object' && !Array.isArray(v) && cur && typeof cur === 'object' && !Array.isArray(cur)) {
      out[k] = deepMerge(cur as Record<string, unknown>, v as Record<string, unknown>);
    } else out[k] = v;
  }
  return out;
}
