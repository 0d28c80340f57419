/**
 * Admin workflows as the server means them, on both generations (issue 17): Kolide's 500 "no rows"
 * is "not found", a failed setup or login leaves the contexts file as it was, an address with a path
 * is a URL prefix on every REST and websocket call, a delete refused because a pack still uses the
 * query names the pack, and offline hosts alone do not fail a query.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot, runCli, scratchHome } from './helpers/cli.js';
import { ADMIN, startCliFleet, type CliFleet } from './helpers/fleet.js';
import { raw } from './helpers/sandbox.js';
import { startSandbox, type Sandbox } from '../src/sandbox/index.js';
import { queryExitCode } from '../src/commands/query/statuses.js';

describe.each(['kolide', 'fleet'] as const)('%s: unknown targets, failed setup/login, delete in use', (dialect) => {
  let fleet: CliFleet;
  beforeAll(async () => {
    fleet = await startCliFleet({ dialect, seed: 11 });
  });
  afterAll(async () => fleet?.stop());

  it('an unknown host is named in one line (no 500), and --ignore-unknown goes on without it', async () => {
    const r = await runCli(['query', '--hosts', 'centos-fileserver,no-such-host', '--query', 'SELECT 1 AS one'], { env: fleet.env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('unknown host: no-such-host');
    expect(r.stderr).not.toContain('500');
    const ok = await runCli(['query', '--hosts', 'centos-fileserver,no-such-host', '--query', 'SELECT 1 AS one', '--ignore-unknown', '--format', 'ndjson'], { env: fleet.env });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toContain('Warning: skipping unknown host: no-such-host');
    expect(ok.stdout).toContain('"host":"centos-fileserver"');
    const host = await runCli(['get', 'hosts', 'no-such-host'], { env: fleet.env });
    expect(host.code).toBe(1);
    expect(host.stderr).toContain('host "no-such-host" doesn\'t exist');
    const byId = await runCli(['get', 'hosts', '987654'], { env: fleet.env });
    expect(byId.stderr).toContain('host "987654" doesn\'t exist');
  });

  it('a failed setup (with or without --address) or login leaves the contexts file byte for byte', async () => {
    const home = scratchHome();
    try {
      const env = home.env;
      expect((await runCli(['config', 'set', '--address', fleet.url, '--token', fleet.token], { env })).code).toBe(0);
      expect((await runCli(['get', 'labels'], { env })).code).toBe(0);
      const before = readFileSync(home.configPath);
      const setupArgs = ['setup', '--email', 'someone@example.com', '--password-stdin'];
      const s1 = await runCli(setupArgs, { env, stdin: 'Another-pass-123!\n' });
      expect(s1.code).toBe(1);
      expect(s1.stderr).toContain('already been set up');
      const s2 = await runCli([...setupArgs, '--address', fleet.url], { env, stdin: 'Another-pass-123!\n' });
      expect(s2.code).toBe(1);
      const l1 = await runCli(['login', '--email', ADMIN.email, '--password-stdin'], { env, stdin: 'wrong-password\n' });
      expect(l1.code).toBe(4);
      expect(readFileSync(home.configPath).equals(before)).toBe(true);
      // And the saved token still works.
      expect((await runCli(['get', 'labels'], { env })).code).toBe(0);
    } finally {
      home.cleanup();
    }
  });

  it('deleting a query a pack still uses: Kolide refuses and osfleet names the pack (exit 1); FleetDM deletes', async () => {
    const dir = path.join(repoRoot, 'test/fixtures/admin');
    const applied = await runCli(['apply', '-f', path.join(dir, 'in-use.yml')], { env: fleet.env });
    expect(applied.code, applied.stderr).toBe(0);
    const r = await runCli(['delete', 'query', 'in_use_query', '--yes'], { env: fleet.env });
    if (dialect === 'kolide') {
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('still used by pack "in_use_pack"');
      expect(r.stderr).not.toMatch(/permission|osfleet login/);
    } else {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('[+] deleted query "in_use_query"');
    }
  });
});

describe.each(['fleet', 'kolide'] as const)('%s under a URL prefix (/fleet)', (dialect) => {
  let sandbox: Sandbox;
  let home: ReturnType<typeof scratchHome>;
  beforeAll(async () => {
    // Not set up: setup itself must go through the prefix.
    sandbox = await startSandbox({ dialect, port: 0, seed: 12, checkInMs: 250, urlPrefix: '/fleet' });
    home = scratchHome();
  });
  afterAll(async () => {
    await sandbox?.stop();
    home?.cleanup();
  });

  it('the address path is used on every REST and websocket call: setup, get, live query', async () => {
    expect(sandbox.url.endsWith('/fleet')).toBe(true);
    const origin = new URL(sandbox.url).origin;
    // Outside the prefix there is nothing (as a server with url_prefix answers).
    expect((await raw(`${origin}/api/v1/setup`, { body: {} })).status).toBe(404);
    const env = home.env;
    const setup = await runCli(['setup', '--address', sandbox.url, '--email', 'admin@example.com', '--name', 'Admin', '--password-stdin'], { env, stdin: 'Prefix-pass-1234!\n' });
    expect(setup.code, setup.stderr).toBe(0);
    expect(setup.stderr).toContain('is set up');
    const hosts = await runCli(['get', 'hosts', '--format', 'csv'], { env });
    expect(hosts.code, hosts.stderr).toBe(0);
    const q = await runCli(['query', '--hosts', 'centos-fileserver', '--query', 'SELECT 1 AS one', '--format', 'ndjson', '--transport', 'ws', '--debug'], { env });
    expect(q.code, q.stderr).toBe(0);
    expect(q.stdout).toContain('"host":"centos-fileserver"');
    expect(q.stderr).toContain(`WS /fleet/api/v1/${dialect}/results/websocket connecting`);
  });
});

describe('query exit codes (pure)', () => {
  const st = (...s: Array<'answered' | 'empty' | 'error' | 'no-response' | 'offline'>) => s.map((status) => ({ status }));
  it.each([
    [st('answered', 'empty', 'offline'), false, 0],
    [st('answered', 'offline'), true, 3],
    [st('answered', 'error'), false, 3],
    [st('answered', 'no-response'), false, 3],
    [st('answered'), true, 0],
  ] as const)('%j offlineFails=%s → %i', (statuses, offlineFails, code) => {
    expect(queryExitCode(statuses, { offlineFails })).toBe(code);
  });
});
