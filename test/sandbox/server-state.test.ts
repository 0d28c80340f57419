/** State across restarts, HTTPS, offline hosts, FleetDM's REST live queries, and the runnable entry. */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxEnrollSecret, startSandbox } from '../../src/sandbox/index.js';
import { hostStatus } from '../../src/sandbox/server/shapes.js';
import type { HostRec } from '../../src/sandbox/server/store.js';
import { goDecodeError } from '../../src/sandbox/server/wire.js';
import { FakeAgent, ResultsSocket } from '../helpers/agent.js';
import { ADMIN, raw, startTestSandbox } from '../helpers/sandbox.js';
import type { TestSandbox } from '../helpers/sandbox.js';

const repo = path.resolve(import.meta.dirname, '../..');
const tlsDir = path.join(repo, 'test/fixtures/tls');

describe('state in a data folder', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'osfleet-sandbox-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the admin, specs and hosts across a restart, and refuses the other dialect', async () => {
    const first = await startTestSandbox({ dialect: 'kolide', hosts: false, dataDir: dir });
    const agent = new FakeAgent(first.url, '/api/v1/osquery', { hostname: 'kept.local', uuid: 'UUID-KEPT', platform: 'ubuntu' });
    expect((await agent.enroll(first.sandbox.enrollSecret)).status).toBe(200);
    await raw(`${first.url}${first.prefix}/spec/queries`, { token: first.admin.token, body: { specs: [{ name: 'kept', query: 'SELECT 1;' }] } });
    await first.stop();

    const again = await startSandbox({ dialect: 'kolide', hosts: false, dataDir: dir });
    try {
      expect((await raw(`${again.url}/api/v1/setup`, { body: { admin: { username: 'x', password: 'x', email: 'x' } } })).status).toBe(404);
      const login = await raw(`${again.url}/api/v1/kolide/login`, { body: { username: ADMIN.username, password: ADMIN.password } });
      expect(login.status).toBe(200);
      const tok = login.json.token as string;
      expect((await raw(`${again.url}/api/v1/kolide/spec/queries/kept`, { token: tok })).json.specs.query).toBe('SELECT 1;');
      const hosts = await raw(`${again.url}/api/v1/kolide/hosts`, { token: tok });
      expect(hosts.json.hosts.map((h: { hostname: string }) => h.hostname)).toEqual(['kept.local']);
      // Its node key still works: no re-enrollment needed after a restart.
      const same = new FakeAgent(again.url, '/api/v1/osquery', agent.id);
      same.nodeKey = agent.nodeKey;
      expect((await same.config()).status).toBe(200);
    } finally {
      await again.stop();
    }
    await expect(startSandbox({ dialect: 'fleet', hosts: false, dataDir: dir })).rejects.toThrow(/kolide sandbox/);
  });
});

describe('HTTPS with the real fleet (kolide)', () => {
  const key = readFileSync(path.join(tlsDir, 'key.pem'));
  const cert = readFileSync(path.join(tlsDir, 'cert.pem'));
  let sb: Awaited<ReturnType<typeof startSandbox>>;
  const dispatcher = new Agent({ connect: { ca: cert } });
  beforeAll(async () => {
    sb = await startSandbox({ dialect: 'kolide', tls: { key, cert }, statusTickMs: 200 });
  });
  afterAll(async () => {
    await sb.stop();
    await dispatcher.close();
  });

  it('requires an https kolide_server_url, then streams results over wss', async () => {
    expect(sb.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const admin = { admin: true, username: ADMIN.username, email: ADMIN.email, password: ADMIN.password };
    const http = await raw(`${sb.url}/api/v1/setup`, { dispatcher, body: { admin, kolide_server_url: sb.url.replace('https', 'http') } });
    expect(http.status).toBe(422);
    expect(http.json.errors).toEqual([{ name: 'kolide_server_url', reason: 'url scheme must be https' }]);
    const ok = await raw(`${sb.url}/api/v1/setup`, { dispatcher, body: { admin, kolide_server_url: sb.url } });
    expect(ok.status).toBe(200);
    const token = ok.json.token as string;
    const c = await raw(`${sb.url}/api/v1/kolide/queries/run_by_names`, { dispatcher, token, body: { query: 'SELECT hostname FROM system_info;', selected: { labels: ['Mac OS X'] } } });
    expect(c.json.campaign.Metrics.TotalHosts).toBe(2);
    const s = new ResultsSocket(`${sb.url.replace(/^https/, 'wss')}/api/v1/kolide/results/websocket`, { ca: cert });
    try {
      await s.opened;
      s.send('auth', { token });
      s.send('select_campaign', { campaign_id: c.json.campaign.id });
      await s.waitFor((m) => m.type === 'status' && m.data.status === 'finished', 20_000);
      expect(s.messages.filter((m) => m.type === 'result').map((m) => m.data.rows[0].hostname).sort()).toEqual(['jim-macbook-1014', 'pam-macbook-1015']);
    } finally {
      s.close();
    }
  });
});

describe('offline hosts and REST live queries (fleet)', () => {
  let t: TestSandbox;
  beforeAll(async () => {
    t = await startTestSandbox({ dialect: 'fleet', story: false, extraHosts: 3, offline: 1, statusTickMs: 200, restPeriodMs: 1500 });
  });
  afterAll(async () => t.stop());

  it('an offline host reads as offline right after start, and counts as such in campaign totals', async () => {
    const hosts = (await raw(`${t.url}/api/v1/fleet/hosts`, { token: t.admin.token })).json.hosts as Array<{ hostname: string; status: string; id: number }>;
    const offline = t.sandbox.fleet!.hosts.filter((h) => h.offline).map((h) => h.hostname);
    expect(offline).toHaveLength(1);
    expect(hosts.filter((h) => h.status === 'offline').map((h) => h.hostname)).toEqual(offline);
    expect((await raw(`${t.url}/api/v1/fleet/hosts?status=online`, { token: t.admin.token })).json.hosts).toHaveLength(2);
    const c = await raw(`${t.url}/api/v1/fleet/queries/run_by_names`, { token: t.admin.token, body: { query: 'SELECT 1 AS x;', selected: { labels: ['All Hosts'] } } });
    expect(c.json.campaign.Metrics).toMatchObject({ TotalHosts: 3, OnlineHosts: 2, OfflineHosts: 1 });
    const s = new ResultsSocket(`${t.url.replace(/^http/, 'ws')}/api/v1/fleet/results/websocket`);
    try {
      await s.opened;
      s.send('auth', { token: t.admin.token });
      s.send('select_campaign', { campaign_id: c.json.campaign.id });
      const fin = await s.waitFor((m) => m.type === 'status' && m.data.status === 'finished', 20_000);
      expect(fin.data).toEqual({ expected_results: 2, actual_results: 2, status: 'finished' });
      expect(s.messages[0]!.data).toEqual({ count: 3, online: 2, offline: 1, missing_in_action: 0 });
    } finally {
      s.close();
    }
  });

  it('POST /hosts/{id}/query answers from an online host, at once for an offline one', async () => {
    const hosts = (await raw(`${t.url}/api/v1/fleet/hosts`, { token: t.admin.token })).json.hosts as Array<{ status: string; id: number; hostname: string }>;
    const on = hosts.find((h) => h.status === 'online')!;
    const off = hosts.find((h) => h.status === 'offline')!;
    const r = await raw(`${t.url}/api/v1/fleet/hosts/${on.id}/query`, { token: t.admin.token, body: { query: 'SELECT hostname FROM system_info;' } });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ host_id: on.id, query: 'SELECT hostname FROM system_info;', status: 'online', rows: [{ hostname: on.hostname }] });
    const t0 = Date.now();
    const o = await raw(`${t.url}/api/v1/fleet/hosts/identifier/${off.hostname}/query`, { token: t.admin.token, body: { query: 'SELECT 1;' } });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(o.json).toMatchObject({ host_id: off.id, status: 'offline', error: 'host is offline', rows: [] });
    const missing = await raw(`${t.url}/api/v1/fleet/hosts/99999/query`, { token: t.admin.token, body: { query: 'SELECT 1;' } });
    expect(missing.status).toBe(404);
  });

  it('POST /queries/{id}/run runs a saved query on host ids', async () => {
    await raw(`${t.url}/api/v1/fleet/spec/queries`, { token: t.admin.token, body: { specs: [{ name: 'os', query: 'SELECT name FROM os_version;' }] } });
    const q = (await raw(`${t.url}/api/v1/fleet/queries?query=os`, { token: t.admin.token })).json.queries.find((x: { name: string }) => x.name === 'os');
    const hosts = (await raw(`${t.url}/api/v1/fleet/hosts?status=online`, { token: t.admin.token })).json.hosts as Array<{ id: number }>;
    const r = await raw(`${t.url}/api/v1/fleet/queries/${q.id}/run`, { token: t.admin.token, body: { host_ids: hosts.map((h) => h.id) } });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ query_id: q.id, targeted_host_count: 2, responded_host_count: 2 });
    expect(r.json.results.every((x: { rows: unknown[]; error: unknown }) => x.rows.length === 1 && x.error === null)).toBe(true);
  });
});

describe('dist/sandbox/main.js', () => {
  it('writes its status file once listening, applies --faults, and stops cleanly on SIGTERM', async () => {
    const main = path.join(repo, 'dist/sandbox/main.js');
    expect(existsSync(main), 'run `npm run build` first').toBe(true);
    const dir = mkdtempSync(path.join(tmpdir(), 'osfleet-main-'));
    const statusFile = path.join(dir, 'preview.json');
    const child = spawn(process.execPath, [main, '--dialect', 'fleet', '--port', '0', '--hosts', '0', '--seed', '5', '--data', dir, '--status-file', statusFile, '--faults', '{"rules":[{"match":{"path":"/version"},"fault":"503","count":1,"retryAfter":2}]}'], { stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 30_000;
      while (!existsSync(statusFile)) {
        if (Date.now() > deadline) throw new Error('no status file');
        await new Promise((r) => setTimeout(r, 50));
      }
      const st = JSON.parse(readFileSync(statusFile, 'utf8')) as { pid: number; url: string; port: number; dialect: string; enrollSecret: string };
      expect(st).toMatchObject({ pid: child.pid, dialect: 'fleet', enrollSecret: sandboxEnrollSecret(5) });
      expect(st.url).toBe(`http://127.0.0.1:${st.port}`);
      const faulted = await raw(`${st.url}/version`);
      expect([faulted.status, faulted.headers['retry-after']]).toEqual([503, '2']);
      expect((await raw(`${st.url}/version`)).json.version).toMatch(/^4\./);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(existsSync(statusFile)).toBe(false);
      expect(existsSync(path.join(dir, 'sandbox.sqlite'))).toBe(true);
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('pure helpers', () => {
  const h = (seenAgoS: number, di = 10, ctr = 10) => ({ seenTime: 1_000_000_000 - seenAgoS * 1000, distributedInterval: di, configTlsRefresh: ctr }) as HostRec;
  it.each([
    ['fleet', 0, 'online'],
    ['fleet', 69, 'online'],
    ['fleet', 71, 'offline'],
    ['kolide', 39, 'online'],
    ['kolide', 41, 'offline'],
    ['kolide', 31 * 86400, 'mia'],
  ] as const)('%s host seen %ss ago is %s', (d, ago, expected) => {
    expect(hostStatus(d, h(ago), 1_000_000_000)).toBe(expected);
  });
  it('uses the smaller of the two intervals', () => {
    expect(hostStatus('fleet', h(100, 10, 3600), 1_000_000_000)).toBe('offline');
  });
  it.each([
    ['', 'EOF'],
    ['   ', 'EOF'],
    ['hello', "invalid character 'h' looking for beginning of value"],
    ['{"a": [', 'unexpected EOF'],
  ])('goDecodeError(%j) = %s', (text, expected) => {
    expect(goDecodeError(text)).toBe(expected);
  });
});
