/**
 * Server answers of the wrong shape (issue 21.1), through the real CLI against a stub server: each
 * ends in a clear error naming the endpoint and what was wrong, exit 1 (a server error), never exit
 * 0 with nothing printed, never "unexpected failure"; a 60 MB host list under a 256 MB heap is
 * refused at the answer ceiling instead of crashing the heap.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, scratchHome } from '../helpers/cli.js';
import { json, startStub, type StubServer } from '../helpers/stub-server.js';

let hostsAnswer: () => string = () => '{"hosts": []}';
let loginAnswer: unknown = {};
let specAnswer: unknown = { specs: [] };
let campaignAnswer: unknown = { campaign: { id: 1 } };
let usersAnswer: unknown = { users: [] };
let configAnswer: unknown = {};
let secretsAnswer: unknown = { spec: { secrets: [] } };
let stub: StubServer;
const home = scratchHome();
beforeAll(async () => {
  stub = await startStub((req, res) => {
    if (req.path === '/version') return json(res, 200, { version: '4.60.0' });
    if (req.path.startsWith('/api/v1/fleet/hosts')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(hostsAnswer());
    }
    if (req.path.startsWith('/api/v1/fleet/login')) return json(res, 200, loginAnswer);
    if (req.path.startsWith('/api/v1/fleet/users')) return json(res, 200, usersAnswer);
    if (req.path.startsWith('/api/v1/fleet/config')) return json(res, 200, configAnswer);
    if (req.path.startsWith('/api/v1/fleet/spec/enroll_secret')) return json(res, 200, secretsAnswer);
    if (req.path.startsWith('/api/v1/fleet/spec/')) return json(res, 200, specAnswer);
    if (req.path.startsWith('/api/v1/fleet/queries/run')) return json(res, 200, campaignAnswer);
    if (req.path.startsWith('/api/v1/fleet/labels')) return json(res, 200, { labels: [{ id: 1, name: 'All Hosts' }] });
    json(res, 404, { message: 'not found' });
  });
});
afterAll(async () => {
  await stub?.close();
  home.cleanup();
});

const env = () => ({ ...home.env, FLEET_URL: stub.url, FLEET_API_TOKEN: 'tok' });

describe('get hosts against a wrong host list', () => {
  it.each([
    ['an empty body', '', /GET \/api\/v1\/fleet\/hosts: 200 unexpected answer: `hosts` is missing, expected a list/],
    ['a JSON list', '[{"id": 1, "hostname": "a"}]', /GET \/api\/v1\/fleet\/hosts: 200 unexpected answer: the answer is a list, expected an object/],
    ['hosts as a string', '{"hosts": "h1,h2"}', /unexpected answer: `hosts` is a string \("h1,h2"\), expected a list/],
    ['null entries', '{"hosts": [{"id": 1, "hostname": "a"}, null]}', /unexpected answer: `hosts\[1\]` is null, expected an object/],
    ['a host without a name', '{"hosts": [{"id": 1}]}', /unexpected answer: `hosts\[0\]\.hostname` is missing, expected a string/],
  ])('%s: exit 1 naming the endpoint and the field', async (_what, body, message) => {
    hostsAnswer = () => body;
    const r = await runCli(['get', 'hosts', '--format', 'ndjson'], { env: env() });
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toContain('please report');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
  });

  it('null for an empty list (Go) is fine', async () => {
    hostsAnswer = () => '{"hosts": null}';
    const r = await runCli(['get', 'hosts', '--format', 'ndjson'], { env: env() });
    expect(r.code, r.stderr).toBe(0);
  });

  it('a 60 MB host list under a 256 MB heap: refused at the answer ceiling, no heap crash', async () => {
    const one = JSON.stringify({ id: 1, hostname: 'h'.repeat(40), uuid: 'u'.repeat(36), platform: 'ubuntu', padding: 'p'.repeat(400) });
    const big = `{"hosts": [${Array.from({ length: Math.ceil(60e6 / one.length) }, () => one).join(',')}]}`;
    hostsAnswer = () => big;
    const r = await runCli(['get', 'hosts', '--format', 'ndjson'], { env: env(), nodeArgs: ['--max-old-space-size=256'] });
    expect(r.stderr).toContain('the answer is larger than 32 MiB, the ceiling for one server answer');
    expect(r.stderr).toContain('OSFLEET_MAX_RESPONSE_BYTES');
    expect(r.stderr).not.toMatch(/heap|FATAL/i);
    expect(r.code).toBe(1);
  });
});

describe('login against a wrong answer', () => {
  it('a numeric token is refused, not saved', async () => {
    loginAnswer = { token: 12345, user: { email: 'a@example.com' } };
    const r = await runCli(['login', '--email', 'a@example.com', '--password-stdin'], { env: { ...home.env, FLEET_URL: stub.url }, stdin: 'Pa55word!\n' });
    expect(r.stderr).toMatch(/POST \/api\/v1\/fleet\/login: 200 unexpected answer: `token` is a number \(12345\), expected a string/);
    expect(r.code).toBe(1);
    const cfg = await runCli(['config', 'get', 'token'], { env: home.env });
    expect(cfg.stdout.trim()).toBe('');
  });
});

describe('spec lists and campaigns of the wrong shape', () => {
  // A spec list that is not a list used to read as "the server has none": apply would plan to create everything.
  it.each([
    ['specs as a string', { specs: 'q1,q2' }, /GET \/api\/v1\/fleet\/spec\/queries: 200 unexpected answer: `specs` is a string \("q1,q2"\), expected a list/],
    ['no specs key', {}, /GET \/api\/v1\/fleet\/spec\/queries: 200 unexpected answer: `specs` is missing, expected a list/],
    ['a spec without a name', { specs: [{ query: 'SELECT 1' }] }, /unexpected answer: `specs\[0\]\.name` is missing, expected a string/],
  ])('get queries with %s: exit 1 naming the endpoint and the field', async (_what, body, message) => {
    specAnswer = body;
    const r = await runCli(['get', 'queries'], { env: env() });
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toContain('please report');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
  });

  it('null specs (Go) is an empty list', async () => {
    specAnswer = { specs: null };
    const r = await runCli(['get', 'queries'], { env: env() });
    expect(r.code, r.stderr).toBe(0);
  });

  it('a campaign answer without a campaign id: exit 1 naming the endpoint, nothing waited for', async () => {
    campaignAnswer = { campaign: null };
    const r = await runCli(['query', '--labels', 'All Hosts', '--query', 'SELECT 1', '--timeout', '20s'], { env: env() });
    expect(r.stderr).toMatch(/POST \/api\/v1\/fleet\/queries\/run_by_\w+: 200 unexpected answer: `campaign` is null, expected an object/);
    expect(r.stderr).not.toContain('please report');
    expect(r.code).toBe(1);
  });
});

describe('users, options and enroll secrets of the wrong shape', () => {
  it.each([
    ['get users', ['get', 'users'], () => (usersAnswer = { users: 'admin@example.com' }), /GET \/api\/v1\/fleet\/users: 200 unexpected answer: `users` is a string/],
    ['get users (a user without email)', ['get', 'users'], () => (usersAnswer = { users: [{ name: 'a' }] }), /`users\[0\]\.email` is missing, expected a string/],
    ['get options', ['get', 'options'], () => (configAnswer = { agent_options: 'x' }), /GET \/api\/v1\/fleet\/config: 200 unexpected answer: `agent_options` is a string/],
    ['get enroll_secret', ['get', 'enroll_secret'], () => (secretsAnswer = { spec: { secrets: [{ secret: 7 }] } }), /`spec\.secrets\[0\]\.secret` is a number \(7\), expected a string/],
  ])('%s: exit 1 naming the endpoint and the field', async (_what, args, set, message) => {
    set();
    const r = await runCli(args, { env: env() });
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toContain('please report');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
  });
});
