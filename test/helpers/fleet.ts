/**
 * A sandbox set up for CLI runs: started on a free loopback port, set up and logged in over plain
 * HTTP (not osfleet's client), with an isolated HOME and FLEET_URL/FLEET_API_TOKEN for the child.
 */
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot, scratchHome } from './cli.js';

/** A self-signed certificate for 127.0.0.1 that is its own CA (test/fixtures/tls/README.md). */
export const TEST_CA_PATH = path.join(repoRoot, 'test/fixtures/tls/cert.pem');
export const TEST_TLS = { key: readFileSync(path.join(repoRoot, 'test/fixtures/tls/key.pem')), cert: readFileSync(TEST_CA_PATH) };

export const ADMIN = { email: 'admin@osfleet.test', password: 'Test-password#1', name: 'Test Admin' };

export interface CliFleet {
  sandbox: Sandbox;
  url: string;
  token: string;
  /** Environment for runCli: isolated HOME plus FLEET_URL / FLEET_API_TOKEN. */
  env: Record<string, string>;
  home: string;
  stop(): Promise<void>;
}

async function post(url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

export async function setupAdmin(url: string, dialect: 'fleet' | 'kolide'): Promise<string> {
  const setup = await post(`${url}/api/v1/setup`, {
    admin: { admin: true, username: 'admin', name: ADMIN.name, email: ADMIN.email, password: ADMIN.password },
    org_info: { org_name: 'osfleet tests' },
    server_url: url.replace(/^http:/, 'https:'),
    kolide_server_url: url.replace(/^http:/, 'https:'),
  });
  if (setup.status === 200 && typeof setup.json['token'] === 'string') return setup.json['token'];
  const login = await post(`${url}/api/v1/${dialect === 'kolide' ? 'kolide' : 'fleet'}/login`, { username: ADMIN.email, email: ADMIN.email, password: ADMIN.password });
  if (typeof login.json['token'] !== 'string') throw new Error(`cannot log in to the sandbox: ${login.status} ${JSON.stringify(login.json)}`);
  return login.json['token'];
}

export async function startCliFleet(opts: SandboxOptions = {}): Promise<CliFleet> {
  const sandbox = await startSandbox({ port: 0, seed: 1, checkInMs: 100, ...opts });
  const home = scratchHome();
  try {
    const token = opts.tls ? await trusting(opts.tls.cert, () => setupAdmin(sandbox.url, sandbox.dialect)) : await setupAdmin(sandbox.url, sandbox.dialect);
    return {
      sandbox,
      url: sandbox.url,
      token,
      home: home.home,
      env: { ...home.env, FLEET_URL: sandbox.url, FLEET_API_TOKEN: token },
      async stop() {
        await sandbox.stop();
        home.cleanup();
      },
    };
  } catch (err) {
    await sandbox.stop();
    home.cleanup();
    throw err;
  }
}

/** Runs `fn` with this process's fetch trusting `ca` (the sandbox is set up over plain fetch). */
async function trusting<T>(ca: string | Buffer, fn: () => Promise<T>): Promise<T> {
  const { Agent, setGlobalDispatcher, getGlobalDispatcher } = await import('undici');
  const previous = getGlobalDispatcher();
  setGlobalDispatcher(new Agent({ connect: { ca: ca.toString() } }));
  try {
    return await fn();
  } finally {
    setGlobalDispatcher(previous);
  }
}
