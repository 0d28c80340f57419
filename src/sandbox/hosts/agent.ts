/**
 * The osquery side of the TLS remote API for every simulated host, driven by one scheduler:
 * a min-heap of hosts keyed by when they next need to talk, one timer for the whole fleet,
 * a bounded number of requests in flight and one keep-alive agent shared by all hosts.
 * Per-host state is a handful of fields, so ten thousand hosts cost little more than four.
 */
import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import type { AnswerRow, QueryAnswer } from './engine.js';
import type { FleetModel, SimHost } from './model.js';
import { hashString } from './prng.js';
import { PLATFORM_MASK } from './schema.js';
import type { ScheduledQuery } from './schedule.js';
import { logItems, scheduledQueries } from './schedule.js';

export interface AgentOptions {
  serverUrl: string;
  osqueryPrefix: string;
  enrollSecret: string;
  checkInMs: number;
  slowDelayMs: number;
  ca?: string | Buffer | undefined;
  maxSockets?: number;
  maxInFlight?: number;
  requestTimeoutMs?: number;
  /** Check-in interval while the server asked to accelerate (osquery: 5 s). */
  accelerateMs?: number;
  /** The hosts this fleet drives (default: every host of the model); flags are by host index. */
  hosts?: readonly SimHost[];
  now?: () => number;
  /** Scheduled queries run this many times faster than their interval (demos, tests); default 1. */
  timeFactor?: number;
}

export interface AgentHostFlags {
  offline: boolean;
  slow: boolean;
}

const enum Phase {
  Enroll,
  Config,
  Read,
  Write,
  Parked,
}

interface HostState {
  host: SimHost;
  flags: AgentHostFlags;
  nodeKey: string | null;
  phase: Phase;
  due: number;
  failures: number;
  readsSinceConfig: number;
  firstRoundDone: boolean;
  /** A distributed/write body waiting for its (late) send. */
  pending: Record<string, unknown> | null;
  accelUntil: number;
  /** Last config received; identical configs are shared between hosts. */
  config: Record<string, unknown> | null;
  /** Scheduled queries of that config; null until a config has a schedule for this host. */
  sched: SchedState | null;
  /** Called at the end of the host's next check-in (setOffline). */
  waiters: Array<() => void>;
}

interface SchedState {
  config: Json;
  queries: ScheduledQuery[];
  due: number[];
  prev: (AnswerRow[] | undefined)[];
  counter: number[];
}

type Json = Record<string, unknown>;
type Reply = { ok: true; body: Json } | { ok: false; invalid: boolean };

/** Config is refetched every this many distributed reads, like osquery's config_refresh. */
const CONFIG_EVERY = 10;
/** Hosts due within this many ms of each other are started in one timer tick. */
const TICK_MS = 5;

export class AgentFleet {
  private readonly states: HostState[];
  private readonly heap: HostState[] = [];
  private readonly agent: http.Agent;
  private readonly requests = new Set<http.ClientRequest>();
  private readonly steps = new Set<Promise<void>>();
  private readonly configs = new Map<string, Json>();
  private readonly base: URL;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private inFlight = 0;
  private stopped = false;
  private roundsDone = 0;
  private resolveReady!: () => void;
  private rejectReady!: (e: Error) => void;
  readonly ready: Promise<void>;

  constructor(
    private readonly model: FleetModel,
    flags: AgentHostFlags[],
    private readonly opts: AgentOptions,
  ) {
    this.now = opts.now ?? (() => Date.now());
    this.base = new URL(opts.serverUrl);
    const agentOpts = { keepAlive: true, maxSockets: opts.maxSockets ?? 64, maxFreeSockets: opts.maxSockets ?? 64 };
    this.agent = this.base.protocol === 'https:'
      ? new https.Agent({ ...agentOpts, ...(opts.ca !== undefined ? { ca: opts.ca } : {}) })
      : new http.Agent(agentOpts);
    this.ready = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    // Callers that never await ready must not see an unhandled rejection when stopping early.
    this.ready.catch(() => undefined);
    const start = this.now();
    // Enrollment is spread over a short window (1 ms per host, at most one interval) so a
    // large fleet does not hit the server in one burst; later check-ins spread wider (see roundDone()).
    const driven = opts.hosts ?? model.hosts;
    const window = Math.min(opts.checkInMs, driven.length);
    this.states = driven.map((host) => ({
      host, flags: flags[host.index] ?? { offline: false, slow: false }, nodeKey: null, phase: Phase.Enroll,
      due: start + (window > 0 ? hashString(host.identity.hostname) % window : 0), failures: 0, readsSinceConfig: 0,
      firstRoundDone: false, pending: null, accelUntil: 0, config: null, sched: null, waiters: [],
    }));
    if (this.states.length === 0) this.resolveReady();
    for (const s of this.states) this.push(s);
    this.arm();
  }

  /** Checks in hosts whose time has come, within the in-flight budget. */
  private pump = (): void => {
    this.timer = null;
    this.timerAt = Infinity;
    if (this.stopped) return;
    const limit = this.opts.maxInFlight ?? 256;
    const horizon = this.now() + TICK_MS;
    while (this.inFlight < limit && this.heap.length > 0 && (this.heap[0] as HostState).due <= horizon) {
      const s = this.pop();
      this.inFlight++;
      const p: Promise<void> = this.step(s)
        .catch(() => this.fail(s))
        .finally(() => {
          this.inFlight--;
          this.steps.delete(p);
          if (this.stopped) return;
          if (s.phase !== Phase.Parked) this.push(s);
          this.arm();
        });
      this.steps.add(p);
    }
    this.arm();
  };

  private arm(): void {
    if (this.stopped || this.heap.length === 0) return;
    if (this.inFlight >= (this.opts.maxInFlight ?? 256)) return; // a finishing step re-arms
    const at = (this.heap[0] as HostState).due;
    if (this.timer && at >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(this.pump, Math.max(0, at - this.now()));
  }

  private push(s: HostState): void {
    const h = this.heap;
    h.push(s);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((h[parent] as HostState).due <= s.due) break;
      h[i] = h[parent] as HostState;
      i = parent;
    }
    h[i] = s;
  }

  private pop(): HostState {
    const h = this.heap;
    const top = h[0] as HostState;
    const last = h.pop() as HostState;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && (h[r] as HostState).due < (h[l] as HostState).due ? r : l;
        if ((h[c] as HostState).due >= last.due) break;
        h[i] = h[c] as HostState;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }

  private interval(s: HostState): number {
    return s.accelUntil > this.now() ? Math.min(this.opts.checkInMs, this.opts.accelerateMs ?? 5000) : this.opts.checkInMs;
  }

  private backoff(s: HostState): number {
    // osquery waits 1, 4, 9 … s between tries; scaled down with fast test check-ins.
    const unit = Math.min(1000, this.opts.checkInMs);
    return Math.min(unit * s.failures * s.failures, 60_000);
  }

  private fail(s: HostState): void {
    s.failures++;
    s.due = this.now() + this.backoff(s);
  }

  private async step(s: HostState): Promise<void> {
    switch (s.phase) {
      case Phase.Enroll:
        return this.enroll(s);
      case Phase.Config:
        return this.fetchConfig(s);
      case Phase.Read:
        return this.read(s);
      case Phase.Write:
        return this.write(s);
      case Phase.Parked:
        return;
    }
  }

  private firstRow(s: HostState, table: string): Record<string, string> | undefined {
    return this.model.answer(s.host, `SELECT * FROM ${table} LIMIT 1`).rows[0];
  }

  private async enroll(s: HostState): Promise<void> {
    const details: Record<string, Record<string, string>> = {};
    for (const t of ['os_version', 'osquery_info', 'system_info', 'platform_info']) {
      const row = this.firstRow(s, t);
      if (row) details[t] = row;
    }
    const reply = await this.post(s, '/enroll', {
      enroll_secret: this.opts.enrollSecret,
      host_identifier: s.host.identity.hostname,
      platform_type: PLATFORM_MASK[s.host.template.platform],
      host_details: details,
    }, false);
    if (reply === null) return this.fail(s);
    // Enrollment reads only the key: node_invalid and error are not consulted here.
    const key = reply.node_key ?? reply.id;
    if (typeof key !== 'string' || key === '') return this.fail(s);
    s.nodeKey = key;
    s.failures = 0;
    s.phase = Phase.Config;
    s.due = this.now();
  }

  private async fetchConfig(s: HostState): Promise<void> {
    const r = await this.call(s, '/config', {});
    if (!r.ok) return this.retryOrReenroll(s, r.invalid);
    s.config = this.intern(r.body);
    this.loadSchedule(s, s.config);
    s.failures = 0;
    s.readsSinceConfig = 0;
    s.phase = Phase.Read;
    if (!s.firstRoundDone) s.due = this.now();
    // Otherwise due was set by the read that triggered the refresh: keep the host's rhythm.
  }

  /** Rebuilds the host's schedule when its config changed, keeping results of unchanged queries. */
  private loadSchedule(s: HostState, config: Json): void {
    if (s.sched?.config === config) return;
    const host = s.host;
    const queries = scheduledQueries(
      config,
      { hostname: host.identity.hostname, platform: host.template.platform, osqueryVersion: host.template.data.osqueryVersion },
      (sql) => {
        const a = this.model.answer(host, sql);
        return a.status === 0 && a.rows.length > 0;
      },
    );
    if (queries.length === 0) {
      s.sched = null;
      return;
    }
    const now = this.now();
    const old = s.sched;
    const splay = (hashString(`${host.identity.hostname}/splay`) % 100) / 1000; // osquery splays runs by up to 10 %
    s.sched = {
      config,
      queries,
      due: queries.map((q) => now + Math.round(this.intervalMs(q) * (1 + splay))),
      prev: queries.map((q) => {
        const i = old ? old.queries.findIndex((o) => o.name === q.name && o.query === q.query) : -1;
        return i >= 0 ? old?.prev[i] : undefined;
      }),
      counter: queries.map((q) => {
        const i = old ? old.queries.findIndex((o) => o.name === q.name && o.query === q.query) : -1;
        return i >= 0 ? (old?.counter[i] ?? 0) : 0;
      }),
    };
  }

  /** Runs the scheduled queries that are due and posts their result lines; false when the key was refused. */
  private async runSchedule(s: HostState): Promise<boolean> {
    const sched = s.sched;
    if (!sched) return true;
    const now = this.now();
    const data: Json[] = [];
    let decorations: Record<string, string> | undefined;
    for (let i = 0; i < sched.queries.length; i++) {
      if ((sched.due[i] as number) > now) continue;
      const q = sched.queries[i] as ScheduledQuery;
      sched.due[i] = now + this.intervalMs(q);
      const a = this.model.answer(s.host, q.query);
      if (a.status !== 0) continue;
      decorations ??= this.decorations(s, sched.config);
      const counter = sched.counter[i] as number;
      data.push(...logItems(q, sched.prev[i], a.rows, { hostIdentifier: s.host.identity.hostname, unixTime: Math.floor(now / 1000), counter, decorations }));
      sched.prev[i] = a.rows;
      sched.counter[i] = counter + 1;
    }
    if (data.length === 0) return true;
    // Result lines that fail to send are dropped rather than buffered: the data is static.
    const r = await this.call(s, '/log', { log_type: 'result', data });
    if (!r.ok && r.invalid) {
      this.retryOrReenroll(s, true);
      return false;
    }
    return true;
  }

  private intervalMs(q: ScheduledQuery): number {
    return Math.max(1, Math.round((q.intervalS * 1000) / (this.opts.timeFactor ?? 1)));
  }

  /**
   * Takes a host off the network (it stops checking in after its current check-in) or brings it
   * back (it checks in at once). Resolves when that is done: parked, or back with one check-in made.
   */
  setOffline(hostname: string, offline: boolean): Promise<void> {
    const s = this.states.find((x) => x.host.identity.hostname === hostname);
    if (!s) return Promise.reject(new Error(`no simulated host ${hostname}`));
    s.flags.offline = offline;
    if (offline && s.phase === Phase.Parked) return Promise.resolve();
    const done = new Promise<void>((resolve) => s.waiters.push(resolve));
    if (!offline && s.phase === Phase.Parked && !this.stopped) {
      s.phase = s.nodeKey ? Phase.Read : Phase.Enroll;
      s.due = this.now();
      this.push(s);
      this.arm();
    }
    return done;
  }

  private decorations(s: HostState, config: Json): Record<string, string> {
    const out: Record<string, string> = {};
    const dec = config.decorators;
    if (!dec || typeof dec !== 'object' || Array.isArray(dec)) return out;
    for (const list of [(dec as Json).load, (dec as Json).always]) {
      if (!Array.isArray(list)) continue;
      for (const sql of list) {
        if (typeof sql !== 'string') continue;
        const row = this.model.answer(s.host, sql).rows[0];
        if (row) Object.assign(out, row);
      }
    }
    return out;
  }

  private async read(s: HostState): Promise<void> {
    if (!(await this.runSchedule(s))) return;
    const r = await this.call(s, '/distributed/read', {});
    if (!r.ok) return this.retryOrReenroll(s, r.invalid);
    s.failures = 0;
    s.readsSinceConfig++;
    const accel = r.body.accelerate;
    if (typeof accel === 'number' && Number.isInteger(accel) && accel > 0) s.accelUntil = this.now() + accel * 1000;
    const work = this.distributed(s, r.body);
    if (work === null || Object.keys(work.queries).length === 0) return this.roundDone(s);
    const body: Json = { ...work };
    if (s.flags.slow) {
      s.pending = body;
      s.phase = Phase.Write;
      s.due = this.now() + this.opts.slowDelayMs;
      return;
    }
    s.pending = body;
    return this.write(s);
  }

  private async write(s: HostState): Promise<void> {
    const body = s.pending;
    if (!body) return this.roundDone(s);
    const r = await this.call(s, '/distributed/write', body);
    if (!r.ok) {
      if (r.invalid) {
        s.pending = null;
        return this.retryOrReenroll(s, true);
      }
      // osquery tries a write three times, then drops the results.
      s.failures++;
      if (s.failures < 3) {
        s.phase = Phase.Write;
        s.due = this.now() + this.backoff(s);
        return;
      }
    }
    s.pending = null;
    s.failures = 0;
    return this.roundDone(s);
  }

  /** Ends a check-in: counts the first full round, parks offline hosts, schedules the next read. */
  private roundDone(s: HostState): void {
    const first = !s.firstRoundDone;
    if (first) {
      s.firstRoundDone = true;
      this.roundsDone++;
      if (this.roundsDone === this.states.length) this.resolveReady();
    }
    const waiters = s.waiters.splice(0);
    for (const w of waiters) w();
    if (s.flags.offline) {
      s.phase = Phase.Parked;
      return;
    }
    const interval = this.interval(s);
    // After the first round each host lands somewhere in [0.5, 1.5) intervals, fixed per host,
    // which spreads a fleet that enrolled together evenly across the interval.
    const jitter = first ? (hashString(`${s.host.identity.uuid}/phase`) % 1000) / 1000 : 0.5;
    s.due = this.now() + Math.round(interval * (0.5 + jitter));
    s.phase = s.readsSinceConfig >= CONFIG_EVERY ? Phase.Config : Phase.Read;
  }

  private retryOrReenroll(s: HostState, invalid: boolean): void {
    if (invalid) {
      s.nodeKey = null;
      s.phase = Phase.Enroll;
      s.failures = 0;
      s.due = this.now();
      return;
    }
    this.fail(s);
  }

  /** Validates and runs one distributed/read answer; null when osquery would reject it whole. */
  private distributed(s: HostState, body: Json): { queries: Json; statuses: Json; messages: Json; stats: Json } | null {
    const queries = body.queries;
    if (queries === undefined || queries === null) return null;
    if (typeof queries !== 'object' || Array.isArray(queries)) return null;
    const entries = Object.entries(queries as Json);
    if (entries.some(([, sql]) => typeof sql !== 'string' || sql === '')) return null;
    const discovery = body.discovery;
    const drop = new Set<string>();
    if (discovery !== undefined && discovery !== null) {
      if (typeof discovery !== 'object' || Array.isArray(discovery)) return null;
      for (const [name, sql] of Object.entries(discovery as Json)) {
        if (typeof sql !== 'string' || sql === '') return null;
        if (!(name in (queries as Json))) continue;
        const a = this.model.answer(s.host, sql);
        if (a.status !== 0) return null;
        if (a.rows.length === 0) drop.add(name);
      }
    }
    const out = { queries: {} as Json, statuses: {} as Json, messages: {} as Json, stats: {} as Json };
    for (const [name, sql] of entries) {
      if (drop.has(name)) continue;
      const cpu = process.cpuUsage();
      const t0 = performance.now();
      const a: QueryAnswer = this.model.answer(s.host, sql as string);
      const wall = performance.now() - t0;
      const used = process.cpuUsage(cpu);
      out.queries[name] = a.rows;
      out.statuses[name] = a.status;
      out.messages[name] = a.message;
      out.stats[name] = {
        wall_time_ms: Math.round(wall), user_time: Math.round(used.user / 1000), system_time: Math.round(used.system / 1000),
        memory: 0,
      };
    }
    return out;
  }

  private intern(config: Json): Json {
    const key = JSON.stringify(config);
    let shared = this.configs.get(key);
    if (!shared) {
      shared = config;
      if (this.configs.size > 32) this.configs.clear();
      this.configs.set(key, shared);
    }
    return shared;
  }

  /** A call after enrollment: node_key in the body and the header; osquery's reading of the reply. */
  private async call(s: HostState, path: string, body: Json): Promise<Reply> {
    if (!s.nodeKey) return { ok: false, invalid: true };
    const reply = await this.post(s, path, { node_key: s.nodeKey, ...body }, true);
    if (reply === null) return { ok: false, invalid: false };
    if (reply.node_invalid === true) return { ok: false, invalid: true };
    if ('error' in reply) return { ok: false, invalid: false };
    return { ok: true, body: reply };
  }

  /** POSTs JSON; resolves to the parsed object, or null for a transport error or a body that is not a JSON object. */
  private post(s: HostState, path: string, body: Json, auth: boolean): Promise<Json | null> {
    if (this.stopped) return Promise.resolve(null);
    const payload = Buffer.from(JSON.stringify(body));
    const headers: http.OutgoingHttpHeaders = {
      'Content-Type': 'application/json',
      Accept: 'application/json',
      'User-Agent': `osquery/${s.host.template.data.osqueryVersion}`,
      'Content-Length': payload.length,
    };
    if (auth && s.nodeKey) headers.Authorization = `NodeKey ${s.nodeKey}`;
    const basePath = this.base.pathname.replace(/\/+$/, '');
    const mod = this.base.protocol === 'https:' ? https : http;
    return new Promise((resolve) => {
      const req = mod.request({
        protocol: this.base.protocol,
        hostname: this.base.hostname,
        port: this.base.port,
        path: `${basePath}${this.opts.osqueryPrefix}${path}`,
        method: 'POST',
        agent: this.agent,
        headers,
        timeout: this.opts.requestTimeoutMs ?? 30_000,
      });
      this.requests.add(req);
      const done = (v: Json | null): void => {
        this.requests.delete(req);
        resolve(v);
      };
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => done(null));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', () => done(null));
        res.on('aborted', () => done(null));
        res.on('end', () => done(parseBody(Buffer.concat(chunks).toString('utf8'))));
      });
      req.end(payload);
    });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.roundsDone < this.states.length) this.rejectReady(new Error('simulated fleet stopped before every host checked in'));
    for (const req of this.requests) req.destroy();
    await Promise.allSettled([...this.steps]);
    this.agent.destroy();
  }
}

/** osquery's reading of a reply body: empty is {}, anything but a JSON object is a failure. */
export function parseBody(text: string): Json | null {
  if (text.trim() === '') return {};
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null;
  } catch {
    return null;
  }
}
