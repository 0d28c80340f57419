/**
 * Secrets and files (issue 16.8): credentials echoed in a server's error text are redacted before
 * they are printed; `preview --data` keeps its folder 0700 and its files 0600; a bad `--rootca`
 * names the file and what is wrong with it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startSandbox } from '../../src/sandbox/index.js';
import { runCli, scratchHome } from '../helpers/cli.js';
import { TEST_CA_PATH } from '../helpers/fleet.js';
import { json, startStub, type StubServer } from '../helpers/stub-server.js';

const TOKEN = 'tok-Very-Secret-0123456789';
let dir: string;
const home = scratchHome();
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'osfleet-secret-files-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  home.cleanup();
});

describe('a server that echoes the credentials in its error text', () => {
  let stub: StubServer;
  beforeAll(async () => {
    stub = await startStub((req, res) => {
      if (req.path === '/version') return json(res, 200, { version: '4.60.0' });
      if (req.path.startsWith('/api/v1/fleet/login')) {
        return json(res, 422, { message: `bad login ${req.body}`, errors: [{ name: 'base', reason: `request was ${req.body}` }] });
      }
      // A proxy's debug page quoting the request headers back.
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`upstream failed for GET ${req.path} authorization: ${String(req.headers['authorization'])} x-api-token=${TOKEN}`);
    });
  });
  afterAll(async () => stub?.close());

  it('get hosts: the token and the Authorization value are REDACTED', async () => {
    const r = await runCli(['get', 'hosts'], { env: { ...home.env, FLEET_URL: stub.url, FLEET_API_TOKEN: TOKEN } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('authorization: Bearer REDACTED');
    expect(r.stderr).not.toContain(TOKEN);
    expect(r.stderr).not.toContain('Very-Secret');
  });

  it('login: the password quoted back is REDACTED', async () => {
    const password = 'Pa55word-never-shown';
    const r = await runCli(['login', '--email', 'a@example.com', '--password-stdin'], { env: { ...home.env, FLEET_URL: stub.url }, stdin: `${password}\n` });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('bad login');
    expect(r.stderr).not.toContain(password);
  });
});

it('preview --data: the folder 0700 and every file in it 0600, even a folder and files made looser before', async () => {
  const data = path.join(dir, 'preview-data');
  mkdirSync(data, { mode: 0o755 });
  chmodSync(data, 0o755);
  writeFileSync(path.join(data, 'old.log'), 'x', { mode: 0o644 });
  const sandbox = await startSandbox({ port: 0, seed: 1, dataDir: data, hosts: false });
  try {
    // A write, so SQLite has its -wal and -shm files.
    const setup = await fetch(`${sandbox.url}/api/v1/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ admin: { admin: true, email: 'a@example.com', name: 'A', username: 'a', password: 'Pa55word!x' }, org_info: { org_name: 'o' }, server_url: sandbox.url }),
    });
    await setup.text();
    expect(statSync(data).mode & 0o777).toBe(0o700);
    const files = readdirSync(data);
    expect(files).toContain('sandbox.sqlite');
    for (const f of files) expect([f, statSync(path.join(data, f)).mode & 0o777]).toEqual([f, 0o600]);
  } finally {
    await sandbox.stop();
  }
});

describe('a bad --rootca names the file and what is wrong', () => {
  const cases: Array<[string, () => string, RegExp]> = [
    ['missing', () => path.join(dir, 'nope.pem'), /the rootca file \S+nope\.pem does not exist/],
    ['a folder', () => dir, /the rootca file \S+ is a folder, not a file/],
    ['not PEM', () => write('garbage.pem', 'hello world\n'), /the rootca file \S+garbage\.pem is not PEM \(no -----BEGIN CERTIFICATE----- line\)/],
    ['DER', () => write('ca.der', Buffer.from([0x30, 0x82, 0x01, 0x0a])), /is not PEM \(it looks like binary DER\)[\s\S]*openssl x509 -inform der/],
    ['a key, no certificate', () => write('key.pem', '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n'), /is PEM but holds no certificate \(only: private key\)/],
    ['a broken certificate', () => write('broken.pem', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'), /holds a certificate that does not parse/],
  ];
  function write(name: string, data: string | Buffer): string {
    const p = path.join(dir, name);
    writeFileSync(p, data);
    return p;
  }

  it.each(cases)('%s: config set refuses it', async (_what, file, message) => {
    const r = await runCli(['config', 'set', '--rootca', file()], { env: home.env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
  });

  it('unreadable (when not root): named as such', async () => {
    if (process.getuid?.() === 0) return; // root reads every file
    const p = write('locked.pem', '-----BEGIN CERTIFICATE-----\n');
    chmodSync(p, 0o000);
    const r = await runCli(['config', 'set', '--rootca', p], { env: home.env });
    expect(r.stderr).toMatch(/is not readable \(permission denied\)/);
  });

  it('a good one is accepted and stored as an absolute path; one that went bad later is named on use', async () => {
    const copy = write('ca.pem', '');
    writeFileSync(copy, await import('node:fs').then((f) => f.readFileSync(TEST_CA_PATH)));
    const own = scratchHome();
    try {
      const set = await runCli(['config', 'set', '--address', 'https://127.0.0.1:9', '--rootca', path.relative(dir, copy)], { env: own.env, cwd: dir });
      expect(set.code, set.stderr).toBe(0);
      expect(set.stderr).toContain(`Set rootca to "${copy}"`);
      writeFileSync(copy, 'not a certificate any more\n');
      const r = await runCli(['get', 'hosts'], { env: { ...own.env, FLEET_API_TOKEN: 't' } });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`the rootca file ${copy} is not PEM`);
    } finally {
      own.cleanup();
    }
  });
});
