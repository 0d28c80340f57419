import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MockAgent } from 'undici';
import { FleetClient } from '../src/api/client.js';
import { login } from '../src/api/session.js';
import { ApiError, AuthError, CliError, NetworkError } from '../src/errors.js';
import { json, startStub, type StubServer } from './helpers/stub-server.js';
import { repoRoot } from './helpers/cli.js';

const servers: StubServer[] = [];
const clients: FleetClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
const stub = async (...args: Parameters<typeof startStub>) => {
  const s = await startStub(...args);
  servers.push(s);
  return s;
};
const client = (opts: ConstructorParameters<typeof FleetClient>[0]) => {
  const c = new FleetClient({ retryBaseMs: 5, retryCapMs: 20, ...opts });
  clients.push(c);
  return c;
};

describe('dialect detection', () => {
  it('Kolide 3.x → /api/v1/kolide', async () => {
    const s = await stub((req, res) => (req.path === '/version' ? json(res, 200, { version: '3.2.0', branch: 'master' }) : json(res, 404, {})));
    const c = client({ address: s.url });
    expect(await c.server()).toMatchObject({ generation: 'kolide', version: '3.2.0' });
    expect(c.appPath('/hosts')).toBe('/api/v1/kolide/hosts');
    expect(c.websocketUrl('/results/websocket')).toBe(s.url.replace('http', 'ws') + '/api/v1/kolide/results/websocket');
  });

  it('FleetDM 4.x → /api/v1/fleet, with the url-prefix in front', async () => {
    const s = await stub((req, res) => (req.path === '/fleet/version' ? json(res, 200, { version: '4.58.0' }) : json(res, 404, {})));
    const c = client({ address: s.url + '/ignored/path', urlPrefix: 'fleet/' });
    expect(await c.server()).toMatchObject({ generation: 'fleet', version: '4.58.0' });
    expect(c.websocketUrl('/results/websocket')).toBe(s.url.replace('http', 'ws') + '/fleet/api/v1/fleet/results/websocket');
  });

  it('an unparseable version falls back to probing the login paths', async () => {
    const s = await stub((req, res) => {
      if (req.path === '/version') return json(res, 200, { version: 'unknown' });
      if (req.path === '/api/v1/fleet/login') return json(res, 401, { message: 'Authentication failed' });
      json(res, 404, {});
    });
    expect((await client({ address: s.url }).server()).generation).toBe('fleet');
  });

  it('the probe finds Kolide when only its login answers', async () => {
    const s = await stub((req, res) => {
      if (req.path === '/version') return json(res, 200, { version: 'dev' });
      if (req.path === '/api/v1/kolide/login') return json(res, 401, { message: 'Authentication Failed' });
      json(res, 404, {});
    });
    expect((await client({ address: s.url }).server()).generation).toBe('kolide');
  });

  it('a server that is not set up (404 everywhere but /api/v1/setup) says so', async () => {
    const s = await stub((req, res) => (req.path === '/api/v1/setup' ? json(res, 200, {}) : (res.writeHead(404), res.end('404 page not found'))));
    const err = await client({ address: s.url }).server().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).message).toContain('not set up');
    expect((err as CliError).hint).toContain('osfleet setup');
  });

  it('login sends one body both generations accept and reads the token', async () => {
    const s = await stub((req, res) => {
      if (req.path === '/version') return json(res, 200, { version: '3.1.0' });
      if (req.path === '/api/v1/kolide/login') return json(res, 200, { user: { id: 1, email: 'a@b.c' }, token: 'jwt' });
      json(res, 404, {});
    });
    const c = client({ address: s.url });
    expect((await login(c, 'a@b.c', 'pw')).token).toBe('jwt');
    expect(JSON.parse(s.seen.at(-1)!.body)).toEqual({ username: 'a@b.c', email: 'a@b.c', password: 'pw' });
  });
});

describe('text answers with a first line asked for (the host report)', () => {
  it('refuses an answer at its first line, without waiting for the rest, and drops the connection', async () => {
    let dropped!: () => void;
    const connectionDropped = new Promise<void>((resolve) => (dropped = resolve));
    // A FleetDM that ignores `columns`: every column, and (here) an answer that never ends.
    const s = await stub((req, res) => {
      res.writeHead(200, { 'content-type': 'text/csv' });
      res.write('created_at,updated_at,id,hostname\r\n2024-01-01,2024-01-01,1,a\r\n');
      res.on('close', () => dropped());
    });
    const c = client({ address: s.url, dialect: 'fleet', token: 't', requestTimeoutMs: 60_000 });
    const err = await c.request('GET', '/hosts/report', { text: true, firstLine: (line) => line === 'id', once: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).message).toContain('an answer whose first line is not the one asked for: "created_at,updated_at,id,hostname"');
    await connectionDropped;
  });

  it('reads the whole answer when its first line is the one asked for (in pieces, or with no line end)', async () => {
    const s = await stub((req, res) => {
      res.writeHead(200, { 'content-type': 'text/csv' });
      if (req.path.includes('empty')) return res.end('id');
      res.write('i');
      setImmediate(() => res.end('d\n1\n2\n'));
    });
    const c = client({ address: s.url, dialect: 'fleet', token: 't' });
    expect(await c.request('GET', '/hosts/report', { text: true, firstLine: (line) => line === 'id' })).toBe('id\n1\n2\n');
    expect(await c.request('GET', '/hosts/report?empty', { text: true, firstLine: (line) => line === 'id' })).toBe('id');
  });
});

describe('errors and retries', () => {
  it('maps a Kolide 500 validation body to its reason', async () => {
    const s = await stub((req, res) => json(res, 500, { message: 'Unknown Error', errors: [{ name: 'base', reason: "cannot schedule unknown query 'x'" }] }));
    const c = client({ address: s.url, dialect: 'kolide', token: 't' });
    const err = await c.request('POST', '/spec/packs', { body: { specs: [] } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).message).toBe("POST /api/v1/kolide/spec/packs: 500 Unknown Error: cannot schedule unknown query 'x'");
    expect(s.seen).toHaveLength(1); // a POST is never replayed after a 500
  });

  it('retries a GET on 503 honouring Retry-After, then succeeds', async () => {
    let n = 0;
    const s = await stub((req, res) => (++n === 1 ? json(res, 503, { message: 'busy' }, { 'retry-after': '1' }) : json(res, 200, { hosts: [] })));
    const c = client({ address: s.url, dialect: 'fleet', token: 't' });
    const started = Date.now();
    expect(await c.request('GET', '/hosts')).toEqual({ hosts: [] });
    expect(s.seen).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950); // waited as told, not the 5 ms backoff
  });

  it('gives up after the capped attempts with the last error', async () => {
    const s = await stub((req, res) => json(res, 502, { message: 'Bad Gateway' }));
    const c = client({ address: s.url, dialect: 'fleet', token: 't', maxAttempts: 3 });
    await expect(c.request('GET', '/hosts')).rejects.toThrow('502 Bad Gateway');
    expect(s.seen).toHaveLength(3);
  });

  it('does not replay a POST on 503 or a reset, but does on 429 (not processed)', async () => {
    const s = await stub((req, res) => json(res, 503, { message: 'busy' }));
    const c = client({ address: s.url, dialect: 'fleet', token: 't' });
    await expect(c.request('POST', '/queries/run_by_names', { body: {} })).rejects.toBeInstanceOf(ApiError);
    expect(s.seen).toHaveLength(1);

    let n = 0;
    const s2 = await stub((req, res) => (++n === 1 ? json(res, 429, { message: 'Too many requests' }, { 'retry-after': '0' }) : json(res, 200, { token: 'x', user: {} })));
    const c2 = client({ address: s2.url, dialect: 'fleet' });
    await c2.request('POST', '/login', { auth: false, body: {} });
    expect(s2.seen).toHaveLength(2);
  });

  it('retries a GET whose body was cut mid-way', async () => {
    let n = 0;
    const s = await stub((req, res) => {
      if (++n === 1) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
        res.write('{"hosts": [');
        setImmediate(() => res.destroy());
        return;
      }
      json(res, 200, { hosts: [{ id: 1 }] });
    });
    const c = client({ address: s.url, dialect: 'fleet', token: 't' });
    expect(await c.request('GET', '/hosts')).toEqual({ hosts: [{ id: 1 }] });
    expect(s.seen).toHaveLength(2);
  });

  it('names malformed JSON and HTML pages', async () => {
    const s = await stub((req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><title>Login</title></html>');
    });
    const c = client({ address: s.url, dialect: 'fleet', token: 't', maxAttempts: 1 });
    await expect(c.request('GET', '/hosts')).rejects.toThrow('an HTML page instead of JSON');
  });

  it('401 is an AuthError; no token means no request at all', async () => {
    const s = await stub((req, res) => json(res, 401, { message: 'Authentication required' }));
    const c = client({ address: s.url, dialect: 'fleet', token: 'bad' });
    await expect(c.request('GET', '/me')).rejects.toBeInstanceOf(AuthError);
    const none = client({ address: s.url, dialect: 'fleet' });
    await expect(none.request('GET', '/me')).rejects.toThrow('not logged in');
    expect(s.seen).toHaveLength(1);
  });

  it('connection refused is a NetworkError with a hint', async () => {
    const s = await stub((req, res) => json(res, 200, {}));
    const url = s.url;
    await s.close();
    servers.pop();
    const c = client({ address: url, dialect: 'fleet', token: 't', maxAttempts: 2 });
    const err = await c.request('GET', '/hosts').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as NetworkError).message).toContain('connection refused');
  });

  it('an abort stops a request at once', async () => {
    const s = await stub(() => undefined); // never answers
    const ac = new AbortController();
    const c = client({ address: s.url, dialect: 'fleet', token: 't', signal: ac.signal });
    const p = c.request('GET', '/hosts');
    setImmediate(() => ac.abort());
    await expect(p).rejects.toMatchObject({ exitCode: 130 });
  });
});

describe('secrets on the wire', () => {
  it('never follows a redirect, so the token never reaches another origin', async () => {
    const other = await stub((req, res) => json(res, 200, { hosts: [] }));
    const s = await stub((req, res) => {
      res.writeHead(307, { location: `${other.url}/api/v1/fleet/hosts` });
      res.end();
    });
    const c = client({ address: s.url, dialect: 'fleet', token: 'the-token' });
    const err = await c.request('GET', '/hosts').catch((e: unknown) => e);
    expect((err as Error).message).toContain('osfleet does not follow redirects');
    expect((err as CliError).hint).toContain(other.url);
    expect(other.seen).toHaveLength(0);
    expect(s.seen[0]!.headers.authorization).toBe('Bearer the-token');
  });

  it('debug traces show method, path, status and time, never the token', async () => {
    const s = await stub((req, res) => json(res, 200, { user: { email: 'a' } }));
    const lines: string[] = [];
    const c = client({ address: s.url, dialect: 'fleet', token: 'super-secret-token', debug: (l) => lines.push(l) });
    await c.request('GET', '/me');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^GET \/api\/v1\/fleet\/me → 200 \(\d+ ms, \d+ bytes\)$/);
    expect(lines.join('\n')).not.toContain('super-secret-token');
  });

  it('uses MockAgent when injected (no network)', async () => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    agent.get('https://fleet.test').intercept({ path: '/api/v1/fleet/hosts', method: 'GET' }).reply(200, { hosts: [{ id: 7 }] });
    const c = client({ address: 'https://fleet.test', dialect: 'fleet', token: 't', dispatcher: agent });
    expect(await c.request('GET', '/hosts')).toEqual({ hosts: [{ id: 7 }] });
    agent.assertNoPendingInterceptors();
    await agent.close();
  });
});

describe('TLS', () => {
  // A self-signed certificate for 127.0.0.1 that is its own CA (test/fixtures/tls/README.md).
  const tls = {
    key: readFileSync(path.join(repoRoot, 'test/fixtures/tls/key.pem'), 'utf8'),
    cert: readFileSync(path.join(repoRoot, 'test/fixtures/tls/cert.pem'), 'utf8'),
  };

  it('fails without the CA, with a hint about rootca; works with it; skip-verify works', async () => {
    const s = await stub((req, res) => json(res, 200, { version: '4.60.0' }), tls);
    const err = await client({ address: s.url, maxAttempts: 1 }).server().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as NetworkError).hint).toContain('--rootca');
    expect((await client({ address: s.url, ca: tls.cert }).server()).version).toBe('4.60.0');
    expect((await client({ address: s.url, tlsSkipVerify: true }).server()).version).toBe('4.60.0');
  });
});
