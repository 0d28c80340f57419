/**
 * The simulated hosts against a small fake osquery server (node:http) written here: the wire
 * protocol as osquery speaks it, and the fleet options (slow, offline, generated hosts).
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { SimulatedFleet } from '../../src/sandbox/hosts/index.js';
import { AgentFleet } from '../../src/sandbox/hosts/agent.js';
import { CONFIDENTIAL_PRINTED_AT, CONFIDENTIAL_TITLE, STORY_HOSTNAMES, startFleet } from '../../src/sandbox/hosts/index.js';
import { buildModel } from '../../src/sandbox/hosts/model.js';

type Json = Record<string, any>;

// A throwaway self-signed certificate for 127.0.0.1 (valid 2020–2120), only for this test.
const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgoCNxbTH80fiSR2jj
vEjfUofJCC8DPXhK9xb4XZzTobWhRANCAARvlfSj5J1aM7LBSX5Ox+06BWv0AaAI
ScpqYszWdfUGPWiPz1TvTBQ6NEc8fmS1PPXwl6p6SwntEGFCJksHffbU
-----END PRIVATE KEY-----`;
const TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBXTCCAQKgAwIBAgIBATAKBggqhkjOPQQDAjAUMRIwEAYDVQQDDAkxMjcuMC4w
LjEwIBcNMjAwMTAxMDAwMDAwWhgPMjEyMDAxMDEwMDAwMDBaMBQxEjAQBgNVBAMM
CTEyNy4wLjAuMTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABG+V9KPknVozssFJ
fk7H7ToFa/QBoAhJympizNZ19QY9aI/PVO9MFDo0Rzx+ZLU89fCXqnpLCe0QYUIm
Swd99tSjQzBBMA8GA1UdEwEB/wQFMAMBAf8wDwYDVR0RBAgwBocEfwAAATAdBgNV
HQ4EFgQUgzRROjNHh9y5oPAYbIHmsS9nLwAwCgYIKoZIzj0EAwIDSQAwRgIhAPO6
gnwoW+brRt+y3O9SlAeQ2QEEc3fBwnWhsoTtWj+cAiEAkxNQRkDrNJneMmDfaNy6
r1T70lT0aY3NZKaLwOSjsLs=
-----END CERTIFICATE-----`;

interface Seen {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Json;
  host: string | undefined;
  at: number;
}

interface Campaign {
  queries: Record<string, string>;
  discovery?: Record<string, string>;
  delivered: Map<string, number>;
}

class FakeOsqueryServer {
  readonly seen: Seen[] = [];
  readonly keys = new Map<string, string>();
  readonly writes: { host: string; body: Json; at: number }[] = [];
  readonly logs: { host: string; body: Json; at: number }[] = [];
  readonly sockets = new Set<Socket>();
  peakSockets = 0;
  private readonly waiters: { check: () => boolean; resolve: () => void }[] = [];
  private readonly invalid = new Set<string>();
  private readonly campaigns: Campaign[] = [];
  configReply: (host: string) => unknown = () => ({ options: { distributed_interval: 60 }, file_paths: { removable_media: ['/Volumes/%%'] } });
  readReply: ((host: string) => string | undefined) | undefined;
  private counter = 0;
  url = '';
  private server: http.Server;
  tlsErrors = 0;

  constructor(readonly prefix = '/api/osquery', readonly secret = 'sekrit', tls = false) {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => this.handle(req, res);
    this.server = tls ? https.createServer({ key: TEST_KEY, cert: TEST_CERT }, handler) : http.createServer(handler);
    this.server.on('tlsClientError', () => {
      this.tlsErrors++;
      this.notify();
    });
    this.server.on(tls ? 'secureConnection' : 'connection', (s: Socket) => {
      this.sockets.add(s);
      this.peakSockets = Math.max(this.peakSockets, this.sockets.size);
      s.on('close', () => {
        this.sockets.delete(s);
        this.notify();
      });
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `${this.server instanceof https.Server ? 'https' : 'http'}://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }

  /** Resolves once check() holds, re-evaluated after every request and socket close. */
  waitFor(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ check, resolve }));
  }

  private notify(): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!;
      if (w.check()) {
        this.waiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  invalidate(host: string): void {
    this.invalid.add(host);
  }

  campaign(queries: Record<string, string>, discovery?: Record<string, string>): Campaign {
    const c: Campaign = { queries, delivered: new Map(), ...(discovery ? { discovery } : {}) };
    this.campaigns.push(c);
    return c;
  }

  count(path: string, host?: string): number {
    return this.seen.filter((s) => s.path === path && (host === undefined || s.host === host)).length;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Json;
      const path = (req.url ?? '').slice(this.prefix.length);
      const host = path === '/enroll' ? (body.host_identifier as string) : this.keys.get(body.node_key as string);
      this.seen.push({ path, headers: req.headers, body, host, at: Date.now() });
      const reply = (status: number, obj: unknown): void => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(obj));
        this.notify();
      };
      if (path === '/enroll') {
        if (body.enroll_secret !== this.secret) return reply(401, { error: 'invalid secret', node_invalid: true });
        const key = `key-${++this.counter}`;
        this.keys.set(key, body.host_identifier as string);
        this.invalid.delete(body.host_identifier as string);
        return reply(200, { node_key: key });
      }
      if (!host || this.invalid.has(host)) return reply(401, { error: 'invalid node key', node_invalid: true });
      if (path === '/config') return reply(200, this.configReply(host));
      if (path === '/distributed/read') {
        const custom = this.readReply?.(host);
        if (custom !== undefined) {
          res.writeHead(200);
          res.end(custom);
          this.notify();
          return;
        }
        const queries: Record<string, string> = {};
        const discovery: Record<string, string> = {};
        for (const c of this.campaigns) {
          if (c.delivered.has(host)) continue;
          c.delivered.set(host, Date.now());
          Object.assign(queries, c.queries);
          Object.assign(discovery, c.discovery ?? {});
        }
        return reply(200, Object.keys(queries).length ? { queries, ...(Object.keys(discovery).length ? { discovery } : {}) } : { queries: {} });
      }
      if (path === '/log') {
        this.logs.push({ host, body, at: Date.now() });
        return reply(200, {});
      }
      if (path === '/distributed/write') {
        this.writes.push({ host, body, at: Date.now() });
        return reply(200, {});
      }
      return reply(404, { error: 'not found' });
    });
  }
}

let server: FakeOsqueryServer;
let fleet: SimulatedFleet | undefined;

async function setup(opts: Partial<Parameters<typeof startFleet>[0]> = {}, srv?: FakeOsqueryServer): Promise<SimulatedFleet> {
  server = srv ?? new FakeOsqueryServer();
  await server.listen();
  fleet = await startFleet({
    serverUrl: server.url, osqueryPrefix: server.prefix, enrollSecret: server.secret, seed: 7, extraHosts: 0,
    offline: 0, slow: 0, checkInMs: 40, ...opts,
  });
  return fleet;
}

afterEach(async () => {
  await fleet?.stop();
  fleet = undefined;
  await server?.close();
});

const STORY = [STORY_HOSTNAMES.windows, STORY_HOSTNAMES.centos, STORY_HOSTNAMES.mac1015, STORY_HOSTNAMES.mac1014];

function allStrings(o: Json): boolean {
  return Object.values(o).every((v) => typeof v === 'string');
}

describe('simulated osquery hosts on the wire', () => {
  it('enroll with secret, hostname, platform_type and string host_details, then authenticate with the node key', async () => {
    const f = await setup();
    await f.ready;
    const enrolls = server.seen.filter((s) => s.path === '/enroll');
    expect(enrolls.map((e) => e.body.host_identifier).sort()).toEqual([...STORY].sort());
    const platformType = Object.fromEntries(enrolls.map((e) => [e.body.host_identifier, e.body.platform_type]));
    expect(platformType).toEqual({
      [STORY_HOSTNAMES.windows]: '2', [STORY_HOSTNAMES.centos]: '9', [STORY_HOSTNAMES.mac1015]: '21', [STORY_HOSTNAMES.mac1014]: '21',
    });
    for (const e of enrolls) {
      expect(e.body.enroll_secret).toBe('sekrit');
      expect(Object.keys(e.body.host_details).sort()).toEqual(['os_version', 'osquery_info', 'platform_info', 'system_info']);
      for (const row of Object.values(e.body.host_details as Record<string, Json>)) expect(allStrings(row)).toBe(true);
      expect(e.body.host_details.system_info.hostname).toBe(e.body.host_identifier);
      expect(e.body.host_details.osquery_info.platform_mask).toBe(e.body.platform_type);
      expect(e.headers['user-agent']).toMatch(/^osquery\/\d+\.\d+\.\d+$/);
      expect(e.headers['content-type']).toBe('application/json');
      expect(e.headers.accept).toBe('application/json');
      expect(e.headers.authorization).toBeUndefined();
    }
    const centos = enrolls.find((e) => e.body.host_identifier === STORY_HOSTNAMES.centos)!;
    expect(centos.body.host_details.os_version).toMatchObject({ platform: 'centos', major: '7', minor: '2' });
    const after = server.seen.filter((s) => s.path !== '/enroll');
    expect(after.length).toBeGreaterThanOrEqual(8);
    for (const s of after) {
      expect(typeof s.body.node_key).toBe('string');
      expect(s.headers.authorization).toBe(`NodeKey ${s.body.node_key}`);
    }
    for (const h of STORY) {
      expect(server.count('/config', h)).toBeGreaterThanOrEqual(1);
      expect(server.count('/distributed/read', h)).toBeGreaterThanOrEqual(1);
    }
    expect(f.hosts.map((h) => [h.hostname, h.platform])).toEqual([
      [STORY_HOSTNAMES.windows, 'windows'], [STORY_HOSTNAMES.centos, 'linux'], [STORY_HOSTNAMES.mac1015, 'darwin'], [STORY_HOSTNAMES.mac1014, 'darwin'],
    ]);
  });

  it('answers a distributed read with rows of strings, statuses, messages and stats; cups_jobs fails off macOS', async () => {
    const f = await setup();
    await f.ready;
    server.campaign({ q_cups: 'SELECT * FROM cups_jobs;', q_users: 'SELECT uid, username FROM users WHERE uid >= 500', q_bad: 'SELEC 1' });
    await server.waitFor(() => server.writes.length >= 4);
    const byHost = new Map(server.writes.map((w) => [w.host, w.body]));
    for (const h of STORY) {
      const b = byHost.get(h)!;
      expect(Object.keys(b).sort()).toEqual(['messages', 'node_key', 'queries', 'stats', 'statuses']);
      expect(Object.keys(b.queries).sort()).toEqual(['q_bad', 'q_cups', 'q_users']);
      expect(b.statuses.q_users).toBe(0);
      expect(b.messages.q_users).toBe('');
      expect(b.queries.q_users.length).toBeGreaterThan(0);
      for (const row of b.queries.q_users) expect(allStrings(row)).toBe(true);
      expect(b.statuses.q_bad).toBe(1);
      expect(b.messages.q_bad).toBe('near "SELEC": syntax error');
      expect(b.queries.q_bad).toEqual([]);
      expect(Object.keys(b.stats.q_users).sort()).toEqual(['memory', 'system_time', 'user_time', 'wall_time_ms']);
    }
    for (const h of [STORY_HOSTNAMES.windows, STORY_HOSTNAMES.centos]) {
      expect(byHost.get(h)!.statuses.q_cups).toBe(1);
      expect(byHost.get(h)!.messages.q_cups).toBe('no such table: cups_jobs');
      expect(byHost.get(h)!.queries.q_cups).toEqual([]);
    }
    for (const h of [STORY_HOSTNAMES.mac1015, STORY_HOSTNAMES.mac1014]) {
      expect(byHost.get(h)!.statuses.q_cups).toBe(0);
      expect(byHost.get(h)!.queries.q_cups.length).toBeGreaterThan(0);
    }
    const confidential = byHost.get(STORY_HOSTNAMES.mac1014)!.queries.q_cups.find((r: Json) => r.title === CONFIDENTIAL_TITLE);
    expect(confidential).toMatchObject({ creation_time: String(CONFIDENTIAL_PRINTED_AT), user: 'ryan' });
  });

  it('drops a query whose discovery SQL returns no rows, and runs it where it does', async () => {
    const f = await setup();
    await f.ready;
    server.campaign({ q_mac: 'SELECT COUNT(*) AS n FROM cups_jobs', q_all: 'SELECT 1 AS one' }, { q_mac: "SELECT 1 FROM os_version WHERE platform = 'darwin'" });
    await server.waitFor(() => server.writes.length >= 4);
    for (const w of server.writes) {
      const mac = w.host.includes('macbook');
      expect('q_mac' in w.body.queries).toBe(mac);
      expect('q_mac' in w.body.statuses).toBe(mac);
      expect(w.body.queries.q_all).toEqual([{ one: '1' }]);
    }
  });

  it('drops its node key and enrolls again on node_invalid', async () => {
    const f = await setup();
    await f.ready;
    const h = STORY_HOSTNAMES.centos;
    const oldKey = [...server.keys].find(([, host]) => host === h)![0];
    server.invalidate(h);
    await server.waitFor(() => server.count('/enroll', h) === 2);
    const newKey = [...server.keys].filter(([, host]) => host === h).map(([k]) => k).find((k) => k !== oldKey)!;
    await server.waitFor(() => server.seen.some((s) => s.body.node_key === newKey && s.path === '/distributed/read'));
    const secondEnroll = server.seen.findIndex((x) => x.path === '/enroll' && x.host === h && x !== server.seen.find((y) => y.path === '/enroll' && y.host === h));
    const later = server.seen.slice(secondEnroll + 1).filter((x) => x.host === h);
    expect(later.length).toBeGreaterThan(0);
    expect(later.every((x) => x.body.node_key === newKey)).toBe(true);
    expect(later[0]!.path).toBe('/config');
    // The other hosts keep their keys.
    expect(server.count('/enroll', STORY_HOSTNAMES.windows)).toBe(1);
  });

  it('retries a call whose reply carries an error key or is not JSON', async () => {
    let failures = 2;
    const srv = new FakeOsqueryServer();
    srv.readReply = (host) => (host === STORY_HOSTNAMES.mac1015 && failures-- > 0 ? (failures === 1 ? '{"error":"database busy"}' : 'not json') : undefined);
    const f = await setup({}, srv);
    await f.ready;
    server.campaign({ q: 'SELECT COUNT(*) AS n FROM users' });
    await server.waitFor(() => server.writes.some((w) => w.host === STORY_HOSTNAMES.mac1015));
    expect(server.count('/enroll', STORY_HOSTNAMES.mac1015)).toBe(1);
    expect(server.count('/distributed/read', STORY_HOSTNAMES.mac1015)).toBeGreaterThanOrEqual(3);
  });

  it('rejects a whole read whose queries hold an empty SQL or whose discovery does not compile, and keeps polling', async () => {
    const srv = new FakeOsqueryServer();
    let served = 0;
    srv.readReply = (host) => {
      if (host === STORY_HOSTNAMES.mac1014 && served === 0) return (served++, JSON.stringify({ queries: { good: 'SELECT 1', bad: '' } }));
      if (host === STORY_HOSTNAMES.mac1014 && served === 1) return (served++, JSON.stringify({ queries: { good: 'SELECT 1' }, discovery: { good: 'SELEC 1' } }));
      if (host === STORY_HOSTNAMES.mac1014 && served === 2) return (served++, JSON.stringify({ queries: { ok: 'SELECT 2 AS two' } }));
      return undefined;
    };
    const f = await setup({}, srv);
    await f.ready;
    await server.waitFor(() => served === 3 && server.writes.some((w) => w.host === STORY_HOSTNAMES.mac1014));
    const writes = server.writes.filter((w) => w.host === STORY_HOSTNAMES.mac1014);
    expect(writes).toHaveLength(1);
    expect(writes[0]!.body.queries).toEqual({ ok: [{ two: '2' }] });
  });

  it('refetches the config every ten distributed reads', async () => {
    const f = await setup({ checkInMs: 10 });
    await f.ready;
    const h = STORY_HOSTNAMES.mac1015;
    await server.waitFor(() => server.count('/distributed/read', h) >= 21);
    const configs = server.count('/config', h);
    expect(configs).toBeGreaterThanOrEqual(3);
    expect(configs).toBeLessThanOrEqual(4);
  });

  it('polls fast while an integer accelerate lasts, and ignores a string one', async () => {
    server = new FakeOsqueryServer();
    await server.listen();
    const srv = server;
    let asked = 0;
    srv.readReply = (host) => {
      if (asked >= 2) return undefined;
      if (host === STORY_HOSTNAMES.mac1014) return (asked++, JSON.stringify({ queries: {}, accelerate: 60 }));
      if (host === STORY_HOSTNAMES.mac1015) return (asked++, JSON.stringify({ queries: {}, accelerate: '60' }));
      return undefined;
    };
    const model = buildModel({ seed: 7, story: true, extraHosts: 0, cacheMs: 0 });
    const agents = new AgentFleet(model, [], {
      serverUrl: srv.url, osqueryPrefix: srv.prefix, enrollSecret: srv.secret, checkInMs: 60_000, slowDelayMs: 0, accelerateMs: 15,
    });
    try {
      await agents.ready;
      await srv.waitFor(() => srv.count('/distributed/read', STORY_HOSTNAMES.mac1014) >= 6);
      expect(srv.count('/distributed/read', STORY_HOSTNAMES.mac1015)).toBe(1);
      expect(srv.count('/distributed/read', STORY_HOSTNAMES.windows)).toBe(1);
    } finally {
      await agents.stop();
      model.close();
    }
  });

  it('keeps retrying enrollment with a wrong secret and never reaches config', async () => {
    const srv = new FakeOsqueryServer('/api/v1/osquery', 'right');
    server = srv;
    await srv.listen();
    fleet = await startFleet({ serverUrl: srv.url, osqueryPrefix: srv.prefix, enrollSecret: 'wrong', seed: 1, extraHosts: 0, offline: 0, slow: 0, checkInMs: 20 });
    await srv.waitFor(() => srv.count('/enroll', STORY_HOSTNAMES.windows) >= 3);
    expect(srv.count('/config')).toBe(0);
    expect(srv.seen.every((s) => s.path === '/enroll' && s.body.enroll_secret === 'wrong')).toBe(true);
  });

  it('a slow host answers after slowDelayMs while the others answer at once', async () => {
    const f = await setup({ slow: 1, slowDelayMs: 400 });
    const slow = f.hosts.filter((h) => h.slow).map((h) => h.hostname);
    expect(slow).toEqual([STORY_HOSTNAMES.centos]);
    await f.ready;
    const c = server.campaign({ q: 'SELECT 1 AS one' });
    await server.waitFor(() => server.writes.length >= 4);
    const lag = (h: string): number => server.writes.find((w) => w.host === h)!.at - c.delivered.get(h)!;
    expect(lag(STORY_HOSTNAMES.centos)).toBeGreaterThanOrEqual(390);
    for (const h of STORY.filter((x) => x !== STORY_HOSTNAMES.centos)) expect(lag(h)).toBeLessThan(390);
    // The slow host's write is the last to arrive.
    expect(server.writes[server.writes.length - 1]!.host).toBe(STORY_HOSTNAMES.centos);
  });

  it('offline hosts enroll, do one round and then stop checking in (the Windows desktop first)', async () => {
    const f = await setup({ offline: 1 });
    expect(f.hosts.filter((h) => h.offline).map((h) => h.hostname)).toEqual([STORY_HOSTNAMES.windows]);
    await f.ready;
    const win = STORY_HOSTNAMES.windows;
    expect(server.count('/config', win)).toBe(1);
    expect(server.count('/distributed/read', win)).toBe(1);
    const before = server.count('/distributed/read', STORY_HOSTNAMES.centos);
    await server.waitFor(() => server.count('/distributed/read', STORY_HOSTNAMES.centos) >= before + 5);
    expect(server.count('/distributed/read', win)).toBe(1);
    expect(server.seen.filter((s) => s.host === win)).toHaveLength(3);
  });

  it('generated hosts enroll with unique names, share template answers and keep their own identity', async () => {
    const f = await setup({ extraHosts: 40, story: false, checkInMs: 60 });
    expect(f.hosts).toHaveLength(40);
    expect(new Set(f.hosts.map((h) => h.hostname)).size).toBe(40);
    expect(new Set(f.hosts.map((h) => h.platform))).toEqual(new Set(['darwin', 'linux', 'windows']));
    await f.ready;
    server.campaign({ users: 'SELECT uid, username FROM users ORDER BY uid', me: 'SELECT hostname, uuid FROM system_info', os: 'SELECT name, version FROM os_version' });
    await server.waitFor(() => server.writes.length >= 40);
    const byOs = new Map<string, string>();
    for (const w of server.writes) {
      const info = f.hosts.find((h) => h.hostname === w.host)!;
      expect(w.body.queries.me).toEqual([{ hostname: info.hostname, uuid: info.uuid }]);
      const os = JSON.stringify(w.body.queries.os);
      const users = JSON.stringify(w.body.queries.users);
      if (byOs.has(os)) expect(byOs.get(os)).toBe(users);
      byOs.set(os, users);
    }
    expect(byOs.size).toBeGreaterThan(3);
  });

  it('runs scheduled queries from the config and posts result lines (differential, snapshot, packs, decorators)', async () => {
    const srv = new FakeOsqueryServer();
    srv.configReply = () => ({
      options: { distributed_interval: 10 },
      decorators: { load: ['SELECT uuid AS host_uuid FROM system_info', 'SELECT hostname FROM system_info'] },
      schedule: { root_user: { query: 'SELECT username FROM users ORDER BY uid LIMIT 1', interval: 1 } },
      packs: {
        dlp: { platform: 'darwin', queries: { cups: { query: 'SELECT title, user FROM cups_jobs', interval: 1, snapshot: true } } },
        never: { platform: 'gentoo', queries: { x: { query: 'SELECT 1', interval: 1 } } },
      },
    });
    const f = await setup({ checkInMs: 50 }, srv);
    await f.ready;
    // Two runs of the snapshot query on both Macs and the first run everywhere.
    const snaps = (h: string): number => server.logs.filter((l) => l.host === h).flatMap((l) => l.body.data).filter((d: Json) => d.action === 'snapshot').length;
    await server.waitFor(() => snaps(STORY_HOSTNAMES.mac1015) >= 2 && snaps(STORY_HOSTNAMES.mac1014) >= 2 && new Set(server.logs.map((l) => l.host)).size === 4);
    for (const l of server.logs) {
      expect(l.body.log_type).toBe('result');
      expect(l.body.node_key).toBeTypeOf('string');
    }
    const items = server.logs.flatMap((l) => l.body.data.map((d: Json) => ({ ...d, host: l.host })));
    const root = items.filter((d) => d.name === 'root_user');
    // Differential: one "added" line per host on the first run, and nothing more while the data stays the same.
    expect(root.map((d) => d.host).sort()).toEqual([...STORY].sort());
    for (const d of root) {
      expect(d).toMatchObject({ action: 'added', columns: { username: d.host === STORY_HOSTNAMES.windows ? 'SYSTEM' : 'root' }, counter: 0, epoch: 0, numerics: false, hostIdentifier: d.host });
      expect(d.calendarTime).toMatch(/^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4} UTC$/);
      expect(Math.abs(d.unixTime - Date.now() / 1000)).toBeLessThan(30);
      expect(d.decorations.hostname).toBe(d.host);
      expect(d.decorations.host_uuid).toBe(f.hosts.find((h) => h.hostname === d.host)!.uuid);
    }
    const cups = items.filter((d) => d.name === 'pack_dlp_cups');
    expect(new Set(cups.map((d) => d.host))).toEqual(new Set([STORY_HOSTNAMES.mac1015, STORY_HOSTNAMES.mac1014]));
    const jim = cups.filter((d) => d.host === STORY_HOSTNAMES.mac1014);
    expect(jim[0]!.snapshot).toContainEqual({ title: CONFIDENTIAL_TITLE, user: 'ryan' });
    expect(jim.map((d) => d.counter).slice(0, 2)).toEqual([0, 1]);
    expect(items.some((d) => String(d.name).includes('never'))).toBe(false);
  }, 15_000);

  it('speaks https when given the server CA, and refuses an untrusted certificate', async () => {
    const f = await setup({ ca: TEST_CERT }, new FakeOsqueryServer('/api/osquery', 'sekrit', true));
    expect(server.url).toMatch(/^https:/);
    await f.ready;
    expect(server.count('/enroll')).toBe(4);
    await f.stop();
    await server.close();
    const srv = new FakeOsqueryServer('/api/osquery', 'sekrit', true);
    await setup({}, srv);
    await srv.waitFor(() => srv.tlsErrors >= 1);
    expect(srv.seen).toHaveLength(0);
  });

  it('600 hosts share at most 64 keep-alive connections and all answer a campaign', async () => {
    const f = await setup({ extraHosts: 600, story: false, checkInMs: 300 });
    await f.ready;
    expect(server.count('/enroll')).toBe(600);
    expect(new Set(server.seen.filter((s) => s.path === '/enroll').map((s) => s.body.host_identifier)).size).toBe(600);
    server.campaign({ q: "SELECT COUNT(*) AS n FROM users WHERE shell NOT LIKE '%false'" });
    await server.waitFor(() => server.writes.length >= 600);
    expect(new Set(server.writes.map((w) => w.host)).size).toBe(600);
    expect(server.peakSockets).toBeLessThanOrEqual(64);
    // Reads are spread over the interval rather than arriving in one burst.
    const reads = server.seen.filter((s) => s.path === '/distributed/read').slice(-600).map((s) => s.at);
    expect(Math.max(...reads) - Math.min(...reads)).toBeGreaterThan(100);
  });

  it('stop() ends the check-ins and closes every connection', async () => {
    const f = await setup({ extraHosts: 10 });
    await f.ready;
    expect(server.sockets.size).toBeGreaterThan(0);
    await f.stop();
    await server.waitFor(() => server.sockets.size === 0);
    const n = server.seen.length;
    // A second fleet's check-ins are the clock: while it does five rounds the stopped one stays silent.
    const other = await startFleet({ serverUrl: server.url, osqueryPrefix: server.prefix, enrollSecret: server.secret, seed: 8, story: false, extraHosts: 1, offline: 0, slow: 0, checkInMs: 40 });
    fleet = other;
    const probe = other.hosts[0]!.hostname;
    await server.waitFor(() => server.count('/distributed/read', probe) >= 5);
    expect(server.seen.slice(n).every((x) => x.host === probe)).toBe(true);
  });
});
