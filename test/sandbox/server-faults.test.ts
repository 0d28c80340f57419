/** Fault injection: the control endpoint, each HTTP fault, websocket drops and blocks, seeded rates. */
import { Agent, request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FaultEngine, pathMatches } from '../../src/sandbox/server/faults.js';
import { FakeAgent, ResultsSocket } from '../helpers/agent.js';
import { raw, startTestSandbox } from '../helpers/sandbox.js';
import type { TestSandbox } from '../helpers/sandbox.js';

describe('fault injection (fleet)', () => {
  let t: TestSandbox;
  let agent: FakeAgent;
  const sockets: ResultsSocket[] = [];
  const ctl = (method: string, body?: unknown, token?: string) =>
    raw(`${t.url}/api/_sandbox/faults`, { method, token: token ?? t.admin.token, ...(body !== undefined ? { body } : {}) });
  const wsUrl = () => `${t.url.replace(/^http/, 'ws')}/api/v1/fleet/results/websocket`;
  /** A campaign on f1.local, and a results socket authenticated and watching it (not yet waited on). */
  const watchCampaign = async (query: string) => {
    const c = await raw(`${t.url}/api/v1/fleet/queries/run_by_names`, { token: t.admin.token, body: { query, selected: { hosts: ['f1.local'] } } });
    const s = new ResultsSocket(wsUrl());
    sockets.push(s);
    await s.opened;
    s.send('auth', { token: t.admin.token });
    s.send('select_campaign', { campaign_id: c.json.campaign.id });
    return { id: c.json.campaign.id as number, s };
  };

  beforeAll(async () => {
    t = await startTestSandbox({ dialect: 'fleet', hosts: false, statusTickMs: 100 });
    agent = new FakeAgent(t.url, '/api/osquery', { hostname: 'f1.local', uuid: 'UUID-F1', platform: 'darwin' });
    await agent.enroll(t.sandbox.enrollSecret);
    await agent.answerLabels(() => true);
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.close();
    await ctl('DELETE');
  });
  afterAll(async () => t.stop());

  it('the control endpoint wants the admin’s token and a valid plan', async () => {
    expect((await raw(`${t.url}/api/_sandbox/faults`, { body: { rules: [] } })).status).toBe(401);
    const bad = await ctl('POST', { rules: [{ fault: 'explode' }] });
    expect(bad.status).toBe(422);
    expect(bad.json.errors[0].reason).toMatch(/unknown fault/);
    expect((await ctl('POST', { rules: [] })).status).toBe(200);
  });

  it('answers the next N matching requests with 503 and Retry-After, then serves normally; agent and control untouched', async () => {
    expect((await ctl('POST', { rules: [{ match: { path: '/api/v1/fleet/hosts' }, fault: '503', count: 2, retryAfter: 3 }, { fault: '500' }] })).status).toBe(200);
    const a = await raw(`${t.url}/api/v1/fleet/hosts`, { token: t.admin.token });
    const b = await raw(`${t.url}/api/v1/fleet/hosts`, { token: t.admin.token });
    expect([a.status, b.status]).toEqual([503, 503]);
    expect(a.headers['retry-after']).toBe('3');
    // The catch-all 500 rule now applies to app paths, but never to the agent API or the control endpoint.
    const c = await raw(`${t.url}/api/v1/fleet/hosts`, { token: t.admin.token });
    expect(c.status).toBe(500);
    expect(c.json.message).toBe('injected fault');
    expect(Object.keys(await agent.read())).toEqual([]);
    expect((await ctl('GET')).status).toBe(200);
  });

  it.each([
    ['429', { fault: '429', retryAfter: 7 }, (r: Awaited<ReturnType<typeof raw>>) => {
      expect(r.status).toBe(429);
      expect(r.headers['retry-after']).toBe('7');
      expect(r.json.message).toBe('Too many requests');
    }],
    ['html', { fault: 'html' }, (r: Awaited<ReturnType<typeof raw>>) => {
      expect(r.status).toBe(502);
      expect(r.headers['content-type']).toBe('text/html');
      expect(r.text).toContain('<title>502 Bad Gateway</title>');
    }],
    ['malformed-json', { fault: 'malformed-json' }, (r: Awaited<ReturnType<typeof raw>>) => {
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(r.json).toBeUndefined();
    }],
  ])('%s', async (_n, rule, check) => {
    await ctl('POST', { rules: [{ match: { method: 'GET', path: '/^\\/api\\/v1\\/fleet\\/hosts$/' }, count: 1, ...rule }] });
    check(await raw(`${t.url}/api/v1/fleet/hosts`, { token: t.admin.token }));
    expect((await raw(`${t.url}/api/v1/fleet/hosts`, { token: t.admin.token })).status).toBe(200);
  });

  it('reset cuts the reply mid-body', async () => {
    await ctl('POST', { rules: [{ match: { path: '/api/v1/fleet/me' }, fault: 'reset', count: 1 }] });
    await expect(raw(`${t.url}/api/v1/fleet/me`, { token: t.admin.token })).rejects.toThrow();
    expect((await raw(`${t.url}/api/v1/fleet/me`, { token: t.admin.token })).status).toBe(200);
  });

  it('delay holds the reply; hang never answers (and does not keep the sandbox from stopping)', async () => {
    await ctl('POST', { rules: [{ match: { path: '/api/v1/fleet/me' }, fault: 'delay', delayMs: 300, count: 1 }, { match: { path: '/api/v1/fleet/config' }, fault: 'hang' }] });
    const t0 = Date.now();
    expect((await raw(`${t.url}/api/v1/fleet/me`, { token: t.admin.token })).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
    const impatient = new Agent({ headersTimeout: 300 });
    try {
      await expect(request(`${t.url}/api/v1/fleet/config`, { dispatcher: impatient, headers: { authorization: `Bearer ${t.admin.token}` } })).rejects.toThrow(/timeout/i);
    } finally {
      await impatient.destroy();
    }
  });

  it('a seeded rate gives the same sequence for the same seed', async () => {
    const statuses = async (seed: number) => {
      await ctl('POST', { seed, rules: [{ match: { path: '/api/v1/fleet/me' }, fault: '502', rate: 0.5 }] });
      const out: number[] = [];
      for (let i = 0; i < 16; i++) out.push((await raw(`${t.url}/api/v1/fleet/me`, { token: t.admin.token })).status);
      return out;
    };
    const a = await statuses(42);
    const b = await statuses(42);
    const c = await statuses(7);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a.filter((s) => s === 502).length).toBeGreaterThan(2);
    expect(a.filter((s) => s === 200).length).toBeGreaterThan(2);
  });

  it('drops the results websocket after K messages (1006), for the next `count` sockets only', async () => {
    await ctl('POST', { websocket: { closeAfterMessages: 2, count: 1 } });
    const run = async () => (await watchCampaign('SELECT 1')).s;
    const first = await run();
    expect(await first.closed).toBe(1006);
    expect(first.messages.map((m) => m.type)).toEqual(['totals', 'status']);
    const second = await run();
    await second.waitFor((m) => m.type === 'status');
    await new Promise((r) => setTimeout(r, 250));
    expect(second.closeCode).toBeUndefined();
  });

  it('ws-block refuses the upgrade with 403 like a proxy', async () => {
    await ctl('POST', { rules: [{ fault: 'ws-block', count: 1 }] });
    const s = new ResultsSocket(wsUrl());
    sockets.push(s);
    await expect(s.opened).rejects.toThrow(/403/);
    const ok = new ResultsSocket(wsUrl());
    sockets.push(ok);
    await ok.opened;
  });

  it('resultRowsPad inflates each host’s rows', async () => {
    await ctl('POST', { resultRowsPad: 3 });
    const { id, s } = await watchCampaign('SELECT 1 AS one');
    await s.waitFor((m) => m.type === 'status');
    const qs = await agent.read();
    const name = `fleet_distributed_query_${id}`;
    expect(qs[name]).toBe('SELECT 1 AS one');
    await agent.write({ [name]: [{ one: '1' }] });
    const res = await s.waitFor((m) => m.type === 'result');
    expect(res.data.rows).toHaveLength(4);
  });

  it('strayAnswers: before the first real answer, answers from a host outside the targets and from an invented host id', async () => {
    expect((await ctl('POST', { strayAnswers: { hosts: [{ id: 'x' }] } })).status).toBe(422);
    const other = new FakeAgent(t.url, '/api/osquery', { hostname: 'f2.local', uuid: 'UUID-F2', platform: 'ubuntu' });
    await other.enroll(t.sandbox.enrollSecret);
    await ctl('POST', { strayAnswers: { hosts: ['f2.local', 'f1.local', { id: 9999, hostname: 'ghost' }], campaigns: 1 } });
    const { id, s } = await watchCampaign('SELECT 1 AS one');
    await s.waitFor((m) => m.type === 'status');
    const name = `fleet_distributed_query_${id}`;
    expect((await agent.read())[name]).toBe('SELECT 1 AS one');
    await agent.write({ [name]: [{ one: '1' }] });
    await s.waitFor((m) => m.type === 'result' && m.data.host.hostname === 'f1.local');
    const results = s.messages.filter((m) => m.type === 'result').map((m) => [m.data.host.hostname, m.data.host.id, m.data.rows]);
    // f1.local is targeted: never a stray of its own campaign. The strays come first, with the real rows.
    expect(results.map(([h]) => h)).toEqual(['f2.local', 'ghost', 'f1.local']);
    expect(results[1]![1]).toBe(9999);
    for (const [, , rows] of results) expect(rows).toEqual([{ one: '1', host_hostname: expect.any(String), host_display_name: expect.any(String) }]);
  });
});

describe('pathMatches', () => {
  it.each([
    [undefined, '/anything', true],
    ['/api/v1/fleet/hosts', '/api/v1/fleet/hosts', true],
    ['/api/v1/fleet/hosts', '/api/v1/fleet/hosts/3', true],
    ['/api/v1/fleet/me', '/api/v1/fleet/hosts', false],
    ['/api/v1/fleet/', '/api/v1/fleet/hosts', true],
    ['/^\\/api\\/v1\\/fleet\\/hosts$/', '/api/v1/fleet/hosts', true],
    ['/^\\/api\\/v1\\/fleet\\/hosts$/', '/api/v1/fleet/hosts/3', false],
    ['/HOSTS$/i', '/api/v1/fleet/hosts', true],
    ['/(/', '/(/', false],
  ])('%s on %s -> %s', (pattern, path, expected) => {
    expect(pathMatches(pattern, path)).toBe(expected);
  });
});

describe('FaultEngine', () => {
  it('counts down `count` rules and skips exhausted ones to the next rule', () => {
    const e = new FaultEngine({ rules: [{ fault: '500', count: 1 }, { fault: '502', count: 2 }] });
    expect(['a', 'b', 'c', 'd'].map(() => e.pick('GET', '/x')?.fault)).toEqual(['500', '502', '502', undefined]);
  });
  it('matches method and prefix or /regex/', () => {
    const e = new FaultEngine({ rules: [{ match: { method: 'post', path: '/^\\/api\\/v1\\/fleet\\/spec\\//' }, fault: '503' }] });
    expect(e.pick('POST', '/api/v1/fleet/spec/queries')?.fault).toBe('503');
    expect(e.pick('GET', '/api/v1/fleet/spec/queries')).toBeUndefined();
    expect(e.pick('POST', '/api/v1/fleet/hosts')).toBeUndefined();
  });
  it('keeps ws-block for upgrades and HTTP faults for requests', () => {
    const e = new FaultEngine({ rules: [{ fault: 'ws-block' }, { fault: '500' }] });
    expect(e.pick('GET', '/x', true)?.fault).toBe('ws-block');
    expect(e.pick('GET', '/x', false)?.fault).toBe('500');
  });
  it('draws the same rate decisions for the same seed', () => {
    const seq = (seed: number) => {
      const e = new FaultEngine({ seed, rules: [{ fault: '500', rate: 0.3 }] });
      return Array.from({ length: 50 }, () => (e.pick('GET', '/') ? 1 : 0)).join('');
    };
    expect(seq(1)).toBe(seq(1));
    expect(seq(1)).not.toBe(seq(2));
    const hits = [...seq(3)].filter((c) => c === '1').length;
    expect(hits).toBeGreaterThan(5);
    expect(hits).toBeLessThan(30);
  });
});
