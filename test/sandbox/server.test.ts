/**
 * The sandbox server spoken to directly: raw HTTP (undici request) and a plain `ws` client, with a
 * scripted agent instead of the simulated fleet so every step of the protocols is under the test's control.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox } from '../../src/sandbox/index.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { FakeAgent, ResultsSocket } from '../helpers/agent.js';
import { ADMIN, apiPrefix, raw, startTestSandbox } from '../helpers/sandbox.js';
import type { TestSandbox } from '../helpers/sandbox.js';

const dialects = ['fleet', 'kolide'] as const;
const osqPrefix = (d: 'fleet' | 'kolide') => (d === 'kolide' ? '/api/v1/osquery' : '/api/osquery');
const wsUrl = (t: TestSandbox) => `${t.url.replace(/^http/, 'ws')}${t.prefix}/results/websocket`;

describe.each(dialects)('setup gating (%s)', (dialect) => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await startSandbox({ dialect, hosts: false });
  });
  afterAll(async () => sb.stop());

  it('answers only /version, setup and the agent API before setup, then 404s setup', async () => {
    const prefix = apiPrefix(dialect);
    for (const p of ['/hosts', '/me', '/config', '/spec/queries']) {
      const r = await raw(`${sb.url}${prefix}${p}`);
      expect(r.status).toBe(404);
      expect(r.text).toBe('404 page not found\n');
    }
    const login = await raw(`${sb.url}${prefix}/login`, { body: { username: 'x', email: 'x', password: 'y' } });
    expect(login.status).toBe(404);
    const v = await raw(`${sb.url}/version`);
    expect(v.status).toBe(200);
    expect(v.json.version).toMatch(dialect === 'kolide' ? /^3\./ : /^4\./);

    // Hosts can enroll before setup (the default secret exists from the start).
    const agent = new FakeAgent(sb.url, osqPrefix(dialect), { hostname: 'early.local', uuid: 'UUID-EARLY', platform: 'darwin' });
    expect((await agent.enroll(sb.enrollSecret)).status).toBe(200);

    const body = {
      admin: { admin: true, username: ADMIN.username, name: ADMIN.name, email: ADMIN.email, password: ADMIN.password },
      org_info: { org_name: 'Org' }, server_url: sb.url, kolide_server_url: sb.url,
    };
    // Validation first: FleetDM's password rule; Kolide drops the connection when admin.username is missing.
    if (dialect === 'fleet') {
      const weak = await raw(`${sb.url}/api/v1/setup`, { body: { ...body, admin: { ...body.admin, password: 'short' } } });
      expect(weak.status).toBe(422);
      expect(weak.json.errors[0]).toEqual({ name: 'password', reason: expect.stringMatching(/at least 12 characters/) });
    } else {
      const { username: _u, ...noUsername } = body.admin;
      await expect(raw(`${sb.url}/api/v1/setup`, { body: { ...body, admin: noUsername } })).rejects.toThrow();
    }
    const setup = await raw(`${sb.url}/api/v1/setup`, { body });
    expect(setup.status).toBe(200);
    expect(typeof setup.json.token).toBe('string');
    expect(setup.json.osquery_enroll_secret).toBe(sb.enrollSecret);
    expect(setup.json[dialect === 'kolide' ? 'kolide_server_url' : 'server_url']).toBe(sb.url);
    if (dialect === 'kolide') expect(setup.json.token.split('.')).toHaveLength(3);
    expect((await raw(`${sb.url}/api/v1/setup`, { body })).status).toBe(404);

    const me = await raw(`${sb.url}${prefix}/me`, { token: setup.json.token });
    expect(me.status).toBe(200);
    expect(me.json.user.email).toBe(ADMIN.email);
    // The other dialect's paths do not exist on this server.
    const other = await raw(`${sb.url}${apiPrefix(dialect === 'kolide' ? 'fleet' : 'kolide')}/me`, { token: setup.json.token });
    expect(other.status).toBe(404);
  });
});

describe.each(dialects)('API errors and specs (%s)', (dialect) => {
  let t: TestSandbox;
  beforeAll(async () => {
    t = await startTestSandbox({ dialect, hosts: false });
  });
  afterAll(async () => t.stop());

  it('refuses a missing or foreign token with the dialect’s 401 body', async () => {
    const none = await raw(`${t.url}${t.prefix}/hosts`);
    expect(none.status).toBe(401);
    const bad = await raw(`${t.url}${t.prefix}/hosts`, { token: 'not-a-token' });
    expect(bad.status).toBe(401);
    if (dialect === 'kolide') {
      expect(none.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(none.json).toEqual({ message: 'Authentication Failed', errors: [{ name: 'base', reason: 'no auth token' }] });
      expect(bad.json.errors[0].reason).toBe('token contains an invalid number of segments');
    } else {
      expect(none.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(none.json.message).toBe('Authorization header required');
      expect(typeof none.json.uuid).toBe('string');
      expect(bad.json.message).toBe('Authentication required');
    }
  });

  it('answers bad JSON like the real server', async () => {
    const r = await raw(`${t.url}${t.prefix}/spec/queries`, { token: t.admin.token, rawBody: '{"specs": [' });
    if (dialect === 'kolide') {
      expect(r.status).toBe(500);
      expect(r.json.message).toBe('Unknown Error');
      expect(r.json.errors[0].reason).toBe('unexpected EOF');
      const r2 = await raw(`${t.url}${t.prefix}/spec/queries`, { token: t.admin.token, rawBody: 'hello' });
      expect(r2.json.errors[0].reason).toBe("invalid character 'h' looking for beginning of value");
    } else {
      expect(r.status).toBe(400);
      expect(r.json).toMatchObject({ message: 'Bad request', errors: [{ name: 'base', reason: 'json decoder error' }] });
    }
  });

  it('logout ends the session: its token is refused afterwards', async () => {
    const login = await raw(`${t.url}${t.prefix}/login`, { body: { username: ADMIN.username, email: ADMIN.email, password: ADMIN.password } });
    const tok = login.json.token as string;
    expect((await raw(`${t.url}${t.prefix}/me`, { token: tok })).status).toBe(200);
    expect((await raw(`${t.url}${t.prefix}/logout`, { token: tok, method: 'POST' })).json).toEqual({});
    expect((await raw(`${t.url}${t.prefix}/me`, { token: tok })).status).toBe(401);
    expect((await raw(`${t.url}${t.prefix}/me`, { token: t.admin.token })).status).toBe(200);
  });

  it('refuses specs that are not a list of objects, as Go’s decoder would', async () => {
    const r = await raw(`${t.url}${t.prefix}/spec/queries`, { token: t.admin.token, body: { specs: { name: 'x', query: 'SELECT 1' } } });
    if (dialect === 'kolide') {
      expect(r.status).toBe(500);
      expect(r.json.errors[0].reason).toBe('json: cannot unmarshal object into Go struct field .specs of type []*kolide.QuerySpec');
    } else {
      expect(r.status).toBe(400);
      expect(r.json.errors[0].reason).toBe('json decoder error');
    }
  });

  it('wrong password on login is refused', async () => {
    const r = await raw(`${t.url}${t.prefix}/login`, { body: { username: ADMIN.username, email: ADMIN.email, password: 'wrong-Pass1234!' } });
    expect(r.status).toBe(401);
    expect(r.json.message).toBe(dialect === 'kolide' ? 'Authentication Failed' : 'Authentication failed');
  });

  it('round-trips query, label and pack specs, with the singular-under-plural quirk and case-insensitive names', async () => {
    const tok = t.admin.token;
    const q = await raw(`${t.url}${t.prefix}/spec/queries`, { token: tok, body: { specs: [{ name: 'Print_Jobs', description: 'd', query: 'SELECT * FROM cups_jobs;' }] } });
    expect(q.status).toBe(200);
    expect(q.json).toEqual({});
    const one = await raw(`${t.url}${t.prefix}/spec/queries/print_jobs`, { token: tok });
    expect(one.status).toBe(200);
    expect(Array.isArray(one.json.specs)).toBe(false);
    expect(one.json.specs).toMatchObject({ name: 'Print_Jobs', query: 'SELECT * FROM cups_jobs;' });
    const l = await raw(`${t.url}${t.prefix}/spec/labels`, { token: tok, body: { specs: [{ name: 'Macs with CUPS', query: "SELECT 1 FROM os_version WHERE platform = 'darwin';" }] } });
    expect(l.status).toBe(200);
    const p = await raw(`${t.url}${t.prefix}/spec/packs`, { token: tok, body: { specs: [{ name: 'dlp', targets: { labels: ['Macs with CUPS'] }, queries: [{ query: 'Print_Jobs', interval: 60 }] }] } });
    expect(p.status).toBe(200);
    const packs = await raw(`${t.url}${t.prefix}/spec/packs`, { token: tok });
    expect(packs.json.specs[0]).toMatchObject({ name: 'dlp', disabled: false, targets: { labels: ['Macs with CUPS'] }, queries: [{ query: 'Print_Jobs', name: 'Print_Jobs', interval: 60 }] });
    const badPack = await raw(`${t.url}${t.prefix}/spec/packs`, { token: tok, body: { specs: [{ name: 'p', queries: [{ query: 'x', interval: 1 }] }] } });
    expect(badPack.status).toBe(dialect === 'kolide' ? 500 : 422);
    expect(badPack.json.errors[0].reason).toBe("applying pack 'p': cannot schedule unknown query 'x'");
    const dynWithHosts = await raw(`${t.url}${t.prefix}/spec/labels`, { token: tok, body: { specs: [{ name: 'L', query: 'SELECT 1', hosts: ['a'] }] } });
    expect(dynWithHosts.status).toBe(dialect === 'kolide' ? 500 : 422);
    expect(dynWithHosts.json.errors[0].reason).toBe('label L is declared as dynamic but contains `hosts` key');

    if (dialect === 'kolide') {
      // Kolide's scheduled_queries.query_name references queries(name) with no ON DELETE (migration
      // 20171219164727): MySQL refuses, and Kolide answers 403 "Validation Failed" (issue 17).
      const refused = await raw(`${t.url}${t.prefix}/queries/PRINT_JOBS`, { token: tok, method: 'DELETE' });
      expect(refused.status).toBe(403);
      expect(refused.json.message).toBe('Validation Failed');
      expect(refused.json.errors[0].reason).toContain('foreign key constraint on queries');
      const emptied = await raw(`${t.url}${t.prefix}/spec/packs`, { token: tok, body: { specs: [{ name: 'dlp', targets: { labels: ['Macs with CUPS'] }, queries: [] }] } });
      expect(emptied.status).toBe(200);
    }
    const del = await raw(`${t.url}${t.prefix}/queries/PRINT_JOBS`, { token: tok, method: 'DELETE' });
    expect(del.status).toBe(200);
    // FleetDM: the pack's schedule loses the deleted query, the pack stays.
    expect((await raw(`${t.url}${t.prefix}/spec/packs/DLP`, { token: tok })).json.specs).toMatchObject({ name: 'dlp', queries: [] });
    const del2 = await raw(`${t.url}${t.prefix}/queries/print_jobs`, { token: tok, method: 'DELETE' });
    expect(del2.status).toBe(404);
    expect(del2.json.message).toBe('Resource Not Found');
    const missingPack = await raw(`${t.url}${t.prefix}/spec/packs/nope`, { token: tok });
    expect(missingPack.status).toBe(dialect === 'kolide' ? 500 : 404);
  });

  it('serves enroll secrets in the dialect’s envelope', async () => {
    const r = await raw(`${t.url}${t.prefix}/spec/enroll_secret`, { token: t.admin.token });
    expect(r.status).toBe(200);
    if (dialect === 'kolide') {
      expect(r.json.specs.secrets[0]).toMatchObject({ name: 'default', secret: t.sandbox.enrollSecret, active: true });
    } else {
      expect(r.json.spec.secrets[0]).toMatchObject({ secret: t.sandbox.enrollSecret });
      expect(r.json.spec.secrets[0].name).toBeUndefined();
    }
  });

  it('serves agent options: Kolide through /spec/osquery_options, FleetDM through config.agent_options', async () => {
    const opts = { config: { options: { distributed_interval: 7, logger_tls_period: 5 } }, overrides: { platforms: { darwin: { options: { distributed_interval: 3 } } } } };
    if (dialect === 'kolide') {
      expect((await raw(`${t.url}${t.prefix}/spec/osquery_options`, { token: t.admin.token, body: { spec: opts } })).status).toBe(200);
      expect((await raw(`${t.url}${t.prefix}/spec/osquery_options`, { token: t.admin.token })).json.spec).toEqual(opts);
    } else {
      expect((await raw(`${t.url}${t.prefix}/spec/osquery_options`, { token: t.admin.token })).status).toBe(404);
      const r = await raw(`${t.url}${t.prefix}/config`, { token: t.admin.token, method: 'PATCH', body: { agent_options: opts, org_info: { org_name: 'Renamed' } } });
      expect(r.status).toBe(200);
      expect(r.json.agent_options).toEqual(opts);
      expect(r.json.org_info.org_name).toBe('Renamed');
    }
    const agent = new FakeAgent(t.url, osqPrefix(dialect), { hostname: 'opts.local', uuid: 'UUID-OPTS', platform: 'darwin' });
    await agent.enroll(t.sandbox.enrollSecret);
    expect((await agent.config()).json).toEqual({ options: { distributed_interval: 3 } });
    const linux = new FakeAgent(t.url, osqPrefix(dialect), { hostname: 'opts2.local', uuid: 'UUID-OPTS2', platform: 'ubuntu' });
    await linux.enroll(t.sandbox.enrollSecret);
    expect((await linux.config()).json.options.distributed_interval).toBe(7);
    const host = (await raw(`${t.url}${t.prefix}/hosts/identifier/opts2.local`, { token: t.admin.token })).json.host;
    expect(host.distributed_interval).toBe(7);
    const page = await raw(`${t.url}${t.prefix}/hosts?page=1&per_page=1`, { token: t.admin.token });
    expect(page.json.hosts.map((h: { hostname: string }) => h.hostname)).toEqual(['opts2.local']);
    const search = await raw(`${t.url}${t.prefix}/hosts?query=OPTS.local`, { token: t.admin.token });
    expect(search.json.hosts.map((h: { hostname: string }) => h.hostname)).toEqual(['opts.local']);
  });

  it('validates campaign targets and SQL per dialect', async () => {
    const tok = t.admin.token;
    const unknownLabel = await raw(`${t.url}${t.prefix}/queries/run_by_names`, { token: tok, body: { query: 'SELECT 1', selected: { labels: ['nope', 'Nada'], hosts: [] } } });
    const empty = await raw(`${t.url}${t.prefix}/queries/run_by_names`, { token: tok, body: { query: '', selected: { labels: ['All Hosts'], hosts: [] } } });
    if (dialect === 'kolide') {
      // Kolide drops unknown names silently and runs a zero-target campaign.
      expect(unknownLabel.status).toBe(200);
      expect(unknownLabel.json.campaign.Metrics).toEqual({ TotalHosts: 0, OnlineHosts: 0, OfflineHosts: 0, MissingInActionHosts: 0, NewHosts: 0 });
      expect(empty.status).toBe(500);
      expect(empty.json.message).toBe('Unknown Error');
    } else {
      expect(unknownLabel.status).toBe(400);
      expect(unknownLabel.json.errors[0].reason).toBe('Invalid label name(s): nope, Nada.');
      expect(empty.status).toBe(422);
      const none = await raw(`${t.url}${t.prefix}/queries/run_by_identifiers`, { token: tok, body: { query: 'SELECT 1', selected: { hosts: ['ghost'] } } });
      expect(none.status).toBe(400);
      expect(none.json.errors[0].reason).toBe('no hosts targeted');
    }
  });
});

describe.each(dialects)('agent protocol and live queries (%s)', (dialect) => {
  let t: TestSandbox;
  let mac: FakeAgent;
  let win: FakeAgent;
  const sockets: ResultsSocket[] = [];
  beforeAll(async () => {
    t = await startTestSandbox({ dialect, hosts: false, statusTickMs: 100 });
    mac = new FakeAgent(t.url, osqPrefix(dialect), { hostname: 'mac-1.example.com', uuid: 'UUID-MAC-1', platform: 'darwin', serial: 'C02MAC1' });
    win = new FakeAgent(t.url, osqPrefix(dialect), { hostname: 'DESKTOP-WIN', uuid: 'UUID-WIN-1', platform: 'windows' });
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.close();
  });
  afterAll(async () => t.stop());

  it('refuses a wrong enroll secret and an unknown node key with node_invalid', async () => {
    const bad = await mac.enroll('wrong-secret');
    expect(bad.status).toBe(401);
    expect(bad.json).toMatchObject({ error: 'enroll failed: no matching secret found', node_invalid: true });
    const ghost = new FakeAgent(t.url, osqPrefix(dialect), { hostname: 'g', uuid: 'g', platform: 'darwin' });
    ghost.nodeKey = 'made-up';
    const r = await ghost.post('/distributed/read', { node_key: 'made-up' });
    expect(r.status).toBe(401);
    expect(r.json.node_invalid).toBe(true);
  });

  it('enrolls, serves config with the check-in interval, and evaluates labels through distributed read/write', async () => {
    expect((await mac.enroll(t.sandbox.enrollSecret)).status).toBe(200);
    expect((await win.enroll(t.sandbox.enrollSecret)).status).toBe(200);
    const cfg = await mac.config();
    expect(cfg.status).toBe(200);
    expect(cfg.json.options.distributed_interval).toBe(1);
    await raw(`${t.url}${t.prefix}/spec/labels`, { token: t.admin.token, body: { specs: [{ name: 'Darwin boxes', query: "SELECT 1 FROM os_version WHERE platform = 'darwin'" }] } });
    const qs = await mac.read();
    const names = Object.keys(qs);
    expect(names.some((n) => n.startsWith(`${dialect}_detail_query_`))).toBe(true);
    expect(names.filter((n) => n.startsWith(`${dialect}_label_query_`)).length).toBeGreaterThanOrEqual(2);
    // A query handed out and not yet answered is not handed out again on the next poll.
    expect(Object.keys(await mac.read()).filter((n) => n.includes('_label_query_'))).toEqual([]);
    const answer: Record<string, Array<Record<string, string>>> = {};
    for (const [n, sql] of Object.entries(qs)) if (n.includes('_label_query_')) answer[n] = /darwin|select 1;$/i.test(sql) ? [{ '1': '1' }] : [];
    expect((await mac.write(answer)).status).toBe(200);
    await win.answerLabels((sql) => /windows|select 1;$/i.test(sql));

    const labels = await raw(`${t.url}${t.prefix}/labels`, { token: t.admin.token });
    const darwin = labels.json.labels.find((l: { name: string }) => l.name === 'Darwin boxes');
    expect(darwin.count).toBe(1);
    const members = await raw(`${t.url}${t.prefix}/labels/${darwin.id}/hosts`, { token: t.admin.token });
    expect(members.json.hosts.map((h: { hostname: string }) => h.hostname)).toEqual(['mac-1.example.com']);
    const all = labels.json.labels.find((l: { name: string }) => l.name === 'All Hosts');
    expect(all.count).toBe(2);

    const hosts = await raw(`${t.url}${t.prefix}/hosts`, { token: t.admin.token });
    expect(hosts.json.hosts.map((h: { hostname: string; status: string }) => [h.hostname, h.status])).toEqual([
      ['mac-1.example.com', 'online'],
      ['DESKTOP-WIN', 'online'],
    ]);
    const targets = await raw(`${t.url}${t.prefix}/targets`, { token: t.admin.token, body: { query: 'mac', selected: { hosts: [], labels: [darwin.id, all.id] } } });
    expect(targets.json).toMatchObject({ targets_count: 2, targets_online: 2, targets_offline: 0, targets_missing_in_action: 0 });
    expect(targets.json.targets.hosts.map((h: { hostname: string }) => h.hostname)).toEqual(['mac-1.example.com']);
    const byId = await raw(`${t.url}${t.prefix}/hosts/identifier/uuid-mac-1`, { token: t.admin.token });
    expect(byId.json.host.hostname).toBe('mac-1.example.com');
    expect(byId.json.host.labels.map((l: { name: string }) => l.name)).toContain('Darwin boxes');
  });

  it('manual labels take their hosts from the spec and are not sent to hosts', async () => {
    const r = await raw(`${t.url}${t.prefix}/spec/labels`, { token: t.admin.token, body: { specs: [{ name: 'Finance laptops', label_membership_type: 'manual', hosts: ['MAC-1.example.com', 'nobody'] }] } });
    expect(r.status).toBe(200);
    const spec = await raw(`${t.url}${t.prefix}/spec/labels/finance%20laptops`, { token: t.admin.token });
    expect(spec.json.specs).toMatchObject({ name: 'Finance laptops', label_membership_type: 'manual', hosts: ['mac-1.example.com'] });
    expect(spec.json.specs[dialect === 'kolide' ? 'ID' : 'id']).toEqual(expect.any(Number));
    const c = await raw(`${t.url}${t.prefix}/queries/run_by_names`, { token: t.admin.token, body: { query: 'SELECT 1', selected: { hosts: [], labels: ['finance LAPTOPS'] } } });
    expect(c.json.campaign.Metrics.TotalHosts).toBe(1);
    const qs = Object.values(await win.read());
    expect(qs.every((sql) => !sql.includes('Finance'))).toBe(true);
  });

  it('sends a label applied while the host held older label queries (no lost evaluation)', async () => {
    const apply = (name: string) =>
      raw(`${t.url}${t.prefix}/spec/labels`, { token: t.admin.token, body: { specs: [{ name, query: `SELECT '${name}' AS x` }] } });
    await apply('Race A');
    const first = await mac.read();
    const a = Object.entries(first).find(([, sql]) => sql.includes('Race A'));
    expect(a).toBeDefined();
    await apply('Race B');
    await mac.write({ [a![0]]: [{ x: 'Race A' }] });
    const second = await mac.read();
    expect(Object.values(second).some((sql) => sql.includes('Race B'))).toBe(true);
    expect(Object.values(second).some((sql) => sql.includes('Race A'))).toBe(false);
    const answers: Record<string, Array<Record<string, string>>> = {};
    for (const n of Object.keys(second)) answers[n] = [];
    await mac.write(answers);
  });

  it('streams a campaign over the websocket: totals, status, one result per host, finished, socket kept open', async () => {
    const created = await raw(`${t.url}${t.prefix}/queries/run_by_names`, {
      token: t.admin.token, body: { query: 'SELECT * FROM cups_jobs;', selected: { hosts: ['MAC-1.example.com'], labels: ['Darwin boxes'] } },
    });
    expect(created.status).toBe(200);
    const c = created.json.campaign;
    // FleetDM 4.82+ carries report_id beside query_id (fleet-api.md §11).
    const renamed = t.sandbox.naming === 'reports' ? ['report_id'] : [];
    expect(Object.keys(c)).toEqual(['created_at', 'updated_at', 'Metrics', 'id', 'query_id', ...renamed, 'status', 'user_id']);
    expect(c.Metrics).toMatchObject({ TotalHosts: 1, OnlineHosts: 1 });

    const qname = `${dialect}_distributed_query_${c.id}`;
    // FleetDM hands the query out at creation; Kolide only once a reader selected the campaign.
    const early = await mac.read();
    expect(early[qname]).toBe(dialect === 'fleet' ? 'SELECT * FROM cups_jobs;' : undefined);
    if (dialect === 'fleet') await mac.write({ [qname]: [{ id: '7', title: 'payroll.pdf', size: '1024' }] });

    const s = new ResultsSocket(wsUrl(t));
    sockets.push(s);
    await s.opened;
    s.send('auth', { token: t.admin.token });
    s.send('select_campaign', { campaign_id: c.id });
    await s.waitFor((m) => m.type === 'status');
    expect(s.messages.slice(0, 2)).toEqual([
      { type: 'totals', data: { count: 1, online: 1, offline: 0, missing_in_action: 0 } },
      { type: 'status', data: { expected_results: 1, actual_results: 0, status: 'pending' } },
    ]);
    if (dialect === 'kolide') {
      const qs = await mac.read();
      expect(qs[qname]).toBe('SELECT * FROM cups_jobs;');
      await mac.write({ [qname]: [{ id: '7', title: 'payroll.pdf', size: '1024' }] });
    }
    const result = await s.waitFor((m) => m.type === 'result');
    expect(result.data.distributed_query_execution_id).toBe(c.id);
    if (dialect === 'kolide') {
      expect(result.data.host).toMatchObject({ id: expect.any(Number), hostname: 'mac-1.example.com', uuid: 'UUID-MAC-1', platform: 'darwin', seen_time: expect.any(String) });
      expect(result.data.host).not.toHaveProperty('status');
      expect(result.data.rows).toEqual([{ id: '7', title: 'payroll.pdf', size: '1024', host_hostname: 'mac-1.example.com' }]);
      expect(result.data.error).toBeNull();
    } else {
      expect(result.data.host).toEqual({ id: expect.any(Number), hostname: 'mac-1.example.com', display_name: 'mac-1' });
      expect(result.data.rows).toEqual([{ id: '7', title: 'payroll.pdf', size: '1024', host_hostname: 'mac-1.example.com', host_display_name: 'mac-1' }]);
      expect('error' in result.data).toBe(false);
    }
    const fin = await s.waitFor((m) => m.type === 'status' && m.data.status === 'finished');
    expect(fin.data).toEqual({ expected_results: 1, actual_results: 1, status: 'finished' });
    // Fleet keeps the socket open after `finished`; only the client ends the stream.
    await new Promise((r) => setTimeout(r, 300));
    expect(s.closeCode).toBeUndefined();
    // Nothing repeats: totals and status only go out when they change.
    expect(s.messages.filter((m) => m.type === 'totals')).toHaveLength(1);
    expect(s.messages.filter((m) => m.type === 'status')).toHaveLength(2);
  });

  it('reports a failed query per dialect: Kolide "failed", FleetDM osquery’s message', async () => {
    const created = await raw(`${t.url}${t.prefix}/queries/run_by_names`, { token: t.admin.token, body: { query: 'SELECT * FROM cups_jobs;', selected: { hosts: ['DESKTOP-WIN'], labels: [] } } });
    const c = created.json.campaign;
    const s = new ResultsSocket(wsUrl(t));
    sockets.push(s);
    await s.opened;
    s.send('auth', { token: t.admin.token });
    s.send('select_campaign', { campaign_id: c.id });
    await s.waitFor((m) => m.type === 'status');
    const qname = `${dialect}_distributed_query_${c.id}`;
    expect((await win.read())[qname]).toBeDefined();
    await win.write({ [qname]: [] }, { [qname]: 1 }, { [qname]: 'no such table: cups_jobs' });
    const result = await s.waitFor((m) => m.type === 'result');
    expect(result.data.error).toBe(dialect === 'kolide' ? 'failed' : 'no such table: cups_jobs');
    expect(result.data.rows).toEqual([]);
  });

  it('sends no totals for a zero-target campaign, only a finished status', async () => {
    const created = await raw(`${t.url}${t.prefix}/queries/run`, { token: t.admin.token, body: { query: 'SELECT 1', selected: { hosts: [999999], labels: [] } } });
    expect(created.status).toBe(200);
    const s = new ResultsSocket(wsUrl(t));
    sockets.push(s);
    await s.opened;
    s.send('auth', { token: t.admin.token });
    s.send('select_campaign', { campaign_id: created.json.campaign.id });
    await s.waitFor((m) => m.type === 'status');
    await new Promise((r) => setTimeout(r, 250));
    expect(s.messages).toEqual([{ type: 'status', data: { expected_results: 0, actual_results: 0, status: 'finished' } }]);
  });

  it.each([
    ['a bad token', [{ type: 'auth', data: { token: 'bogus' } }], 'unauthorized'],
    ['an unknown campaign', 'AUTH+{"type":"select_campaign","data":{"campaign_id":4242}}', 'cannot find campaign for ID 4242'],
    ['campaign id 0', 'AUTH+{"type":"select_campaign","data":{}}', '0 is not a valid campaign ID'],
    ['a string campaign id', 'AUTH+{"type":"select_campaign","data":{"campaign_id":"7"}}', 'error unmarshaling select_campaign data'],
    ['another message type', 'AUTH+{"type":"hello","data":{}}', 'expected select_campaign'],
    ['unreadable JSON', 'AUTH+{nope', 'error reading select_campaign'],
  ])('answers %s with an error string, then drops the socket (1006)', async (_name, script, expected) => {
    const s = new ResultsSocket(wsUrl(t));
    sockets.push(s);
    await s.opened;
    if (typeof script === 'string') {
      s.send('auth', { token: t.admin.token });
      s.ws.send(script.slice('AUTH+'.length));
    } else for (const m of script) s.send(m.type, m.data);
    const code = await s.closed;
    expect(s.messages).toEqual([{ type: 'error', data: expected }]);
    expect(code).toBe(1006);
  });

  it('closes without a word when the first message is not auth', async () => {
    const s = new ResultsSocket(wsUrl(t));
    sockets.push(s);
    await s.opened;
    s.send('select_campaign', { campaign_id: 1 });
    expect(await s.closed).toBe(1006);
    expect(s.messages).toEqual([]);
  });

  it('checks campaign ownership on FleetDM only', async () => {
    const created = await raw(`${t.url}${t.prefix}/queries/run_by_names`, { token: t.admin.token, body: { query: 'SELECT 1', selected: { hosts: ['mac-1.example.com'], labels: [] } } });
    const user = await raw(`${t.url}${t.prefix}/users/admin`, {
      token: t.admin.token, body: { username: 'obs', name: 'Observer', email: 'obs@example.com', password: 'observer-Pass1234!', global_role: 'observer', admin: false },
    });
    expect(user.status).toBe(200);
    const login = await raw(`${t.url}${t.prefix}/login`, { body: { username: 'obs', email: 'obs@example.com', password: 'observer-Pass1234!' } });
    const other = login.json.token as string;
    const s = new ResultsSocket(wsUrl(t));
    sockets.push(s);
    await s.opened;
    s.send('auth', { token: other });
    s.send('select_campaign', { campaign_id: created.json.campaign.id });
    if (dialect === 'fleet') {
      expect(await s.closed).toBe(1006);
      expect(s.messages).toEqual([{ type: 'error', data: 'forbidden' }]);
    } else {
      await s.waitFor((m) => m.type === 'status');
      expect(s.closeCode).toBeUndefined();
    }
    // A FleetDM observer may not run ad-hoc SQL; a Kolide user may. Neither may apply specs or touch the fault control endpoint.
    const adHoc = await raw(`${t.url}${t.prefix}/queries/run_by_names`, { token: other, body: { query: 'SELECT 1', selected: { hosts: ['mac-1.example.com'], labels: [] } } });
    expect(adHoc.status).toBe(dialect === 'fleet' ? 403 : 200);
    expect((await raw(`${t.url}${t.prefix}/spec/queries`, { token: other, body: { specs: [] } })).status).toBe(403);
    const ctl = await raw(`${t.url}/api/_sandbox/faults`, { token: other, body: { rules: [] } });
    expect(ctl.status).toBe(403);
  });
});

describe('FleetDM login rate limit', () => {
  let t: TestSandbox;
  beforeAll(async () => {
    t = await startTestSandbox({ dialect: 'fleet', hosts: false });
  });
  afterAll(async () => t.stop());

  it('answers 429 with Retry-After after 10 failed logins in a minute, even with the right password', async () => {
    const attempt = (password: string) => raw(`${t.url}/api/v1/fleet/login`, { body: { email: ADMIN.email, password } });
    for (let i = 0; i < 10; i++) expect((await attempt('wrong-Pass1234!')).status).toBe(401);
    const limited = await attempt(ADMIN.password);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await raw(`${t.url}/api/v1/fleet/me`, { token: t.admin.token })).status).toBe(200);
  });
});
