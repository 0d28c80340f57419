/** setup, login, whoami, version, logout: the built CLI against a fresh sandbox of each generation. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { startSandbox, type Sandbox } from '../src/sandbox/index.js';
import { runCli, scratchHome } from './helpers/cli.js';

const PASSWORD = 'Sandbox-admin#42';

describe.each(['fleet', 'kolide'] as const)('session commands against a fresh %s sandbox', (dialect) => {
  let sandbox: Sandbox;
  let home: ReturnType<typeof scratchHome>;
  beforeAll(async () => {
    sandbox = await startSandbox({ dialect, port: 0, seed: 1, hosts: false });
    home = scratchHome();
  });
  afterAll(async () => {
    await sandbox?.stop();
    home?.cleanup();
  });

  it('before setup, every command says the server is not set up', async () => {
    await runCli(['config', 'set', '--address', sandbox.url], { env: home.env });
    const r = await runCli(['login', '--email', 'admin@example.com', '--password-stdin'], { env: home.env, stdin: PASSWORD });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not set up/);
    expect(r.stderr).toContain('osfleet setup');
  });

  it('setup creates the admin and logs in; the token lands in a 0600 file', async () => {
    const args = ['setup', '--email', 'admin@example.com', '--name', 'Admin', '--org-name', 'Acme', '--password-stdin'];
    // The URL agents use; Kolide requires https there (the plain-http sandbox relaxes that).
    args.push('--server-url', 'https://fleet.example.com');
    const r = await runCli(args, { env: home.env, stdin: PASSWORD });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('is set up');
    expect(statSync(home.configPath).mode & 0o777).toBe(0o600);
    const cfg = readFileSync(home.configPath, 'utf8');
    expect(cfg).toContain(`dialect: ${dialect}`);
    expect(cfg).not.toContain(PASSWORD);
    const again = await runCli(['setup', '--email', 'admin@example.com', '--password-stdin'], { env: home.env, stdin: PASSWORD });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already been set up');
  });

  it('logout, login, whoami and version', async () => {
    const out = await runCli(['logout'], { env: home.env });
    expect(out.code).toBe(0);
    expect(readFileSync(home.configPath, 'utf8')).not.toContain('token:');
    const unauth = await runCli(['whoami'], { env: home.env });
    expect(unauth.code).toBe(4);
    expect(unauth.stderr).toContain('osfleet login');

    const bad = await runCli(['login', '--email', 'admin@example.com', '--password-stdin'], { env: home.env, stdin: 'wrong-password#1' });
    expect(bad.code).toBe(4);
    expect(bad.stderr).toContain('do not match');

    const login = await runCli(['login', '--email', 'admin@example.com', '--password-stdin'], { env: home.env, stdin: PASSWORD });
    expect(login.code).toBe(0);
    const who = await runCli(['whoami', '--json'], { env: home.env });
    expect(who.code).toBe(0);
    const me = JSON.parse(who.stdout) as Record<string, unknown>;
    expect(me).toMatchObject({ email: 'admin@example.com', dialect, role: 'admin', api_prefix: dialect === 'kolide' ? '/api/v1/kolide' : '/api/v1/fleet' });
    expect(String(me['server_version'])).toMatch(dialect === 'kolide' ? /^3\./ : /^4\./);

    const version = await runCli(['version'], { env: home.env });
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(new RegExp(`server  ${sandbox.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: Fleet ${dialect === 'kolide' ? '3' : '4'}\\.`));
  });

  it('the password never reaches a file, and --debug never shows it or the token', async () => {
    const r = await runCli(['login', '--debug', '--email', 'admin@example.com', '--password-stdin'], { env: home.env, stdin: PASSWORD });
    expect(r.code).toBe(0);
    const cfg = readFileSync(path.join(home.configPath), 'utf8');
    const token = /token: (\S+)/.exec(cfg)?.[1] ?? '';
    expect(token.length).toBeGreaterThan(8);
    expect(r.stderr).toContain('[debug] POST');
    expect(r.stderr + r.stdout).not.toContain(PASSWORD);
    expect(r.stderr + r.stdout).not.toContain(token);
  });
});
