/**
 * What fleetctl users type (issue 22.7): boolean flags with `=true`/`=false` (urfave/cli takes them),
 * and `apply --force`, accepted with a line saying what osfleet does instead.
 */
import { describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { booleanFlagValues } from '../src/argv.js';
import { runCli, scratchHome } from './helpers/cli.js';
import { startCliFleet } from './helpers/fleet.js';
import { startSandbox } from '../src/sandbox/index.js';

describe('boolean flags with =true / =false', () => {
  const program = new Command('x');
  program.command('set').option('--tls-skip-verify').option('--no-tls-skip-verify').option('--address <url>');
  program.command('apply').option('--dry-run').option('--no-sql-check').option('--format <f>');

  it.each([
    [['set', '--tls-skip-verify=true'], ['set', '--tls-skip-verify']],
    [['set', '--tls-skip-verify=false'], ['set', '--no-tls-skip-verify']],
    [['apply', '--dry-run=true'], ['apply', '--dry-run']],
    [['apply', '--dry-run=false'], ['apply']],
    [['apply', '--sql-check=false'], ['apply', '--no-sql-check']],
    [['apply', '--sql-check=true'], ['apply']],
    // Flags with values, unknown flags and everything after `--` stay as typed.
    [['set', '--address=https://x'], ['set', '--address=https://x']],
    [['apply', '--format=true'], ['apply', '--format=true']],
    [['apply', '--nope=true'], ['apply', '--nope=true']],
    [['apply', '--', '--dry-run=true'], ['apply', '--', '--dry-run=true']],
  ])('%j → %j', (argv, want) => expect(booleanFlagValues(program, argv)).toEqual(want));
});

describe('through the CLI', () => {
  it('config set --tls-skip-verify=true sets it, =false clears it', async () => {
    const home = scratchHome();
    try {
      const on = await runCli(['config', 'set', '--address', 'https://fleet.example.com', '--tls-skip-verify=true'], { env: home.env });
      expect(on.code, on.stderr).toBe(0);
      expect((await runCli(['config', 'get', 'tls-skip-verify'], { env: home.env })).stdout.trim()).toBe('true');
      const off = await runCli(['config', 'set', '--tls-skip-verify=false'], { env: home.env });
      expect(off.code, off.stderr).toBe(0);
      expect((await runCli(['config', 'get', 'tls-skip-verify'], { env: home.env })).stdout.trim()).toBe('false');
    } finally {
      home.cleanup();
    }
  });

  it('apply --force: accepted, with a line saying what osfleet does instead; --detailed-exitcode without --dry-run refused', async () => {
    const home = scratchHome();
    try {
      const env = { ...home.env, FLEET_URL: 'http://127.0.0.1:9', FLEET_API_TOKEN: 't' };
      const force = await runCli(['apply', '--force', '-f', 'test/fixtures/fleetctl/fleetdm/queries.yml'], { env });
      expect(force.stderr).toContain("Note: --force is fleetctl's way past ignorable validation errors; osfleet has none to force");
      expect(force.stderr).not.toContain('unknown option');
      const dec = await runCli(['apply', '--detailed-exitcode', '-f', 'test/fixtures/fleetctl/fleetdm/queries.yml'], { env });
      expect(dec.code).toBe(64);
      expect(dec.stderr).toContain('--detailed-exitcode goes with --dry-run');
    } finally {
      home.cleanup();
    }
  });
});

describe('lint --naming: the FleetDM naming the files are written for', () => {
  const report = 'apiVersion: v1\nkind: report\nspec:\n  name: up\n  query: SELECT 1;\n  fleet: Workstations\n';
  const query = 'apiVersion: v1\nkind: query\nspec:\n  name: up\n  query: SELECT 1;\n  team: Workstations\n';
  it.each([
    ['queries', report, ['<stdin>:1:1: warning: query "up": `kind: report` is FleetDM 4.82+\'s word; older servers and fleetctl say `kind: query`', '<stdin>:6:3: warning: query "up": `fleet` is FleetDM 4.82+\'s word; older servers say `team`']],
    ['reports', query, ['<stdin>:1:1: warning: query "up": `kind: query` is FleetDM\'s old word since 4.82 (`kind: report`)', '<stdin>:6:3: warning: query "up": `team` is FleetDM\'s old word since 4.82 (`fleet`)']],
    ['reports', report, []],
    ['queries', query, []],
  ])('--naming %s', async (naming, text, want) => {
    const r = await runCli(['lint', '--naming', naming, '-f', '-'], { stdin: text });
    expect(r.stdout.trim().split('\n').filter(Boolean)).toEqual(want);
    expect(r.code).toBe(0);
  });
});

describe("fleetctl habits admins type (issue 17.10)", () => {
  it('setup --password works on a fresh server and warns that it lands in shell history', async () => {
    const sandbox = await startSandbox({ dialect: 'fleet', port: 0, seed: 2, hosts: false });
    const home = scratchHome();
    try {
      const r = await runCli(['setup', '--address', sandbox.url, '--email', 'admin@example.com', '--name', 'Admin', '--org-name', 'Acme', '--password', 'sandbox-Pass1234!'], { env: home.env });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('Warning: --password lands in your shell history and in the process list; prefer --password-stdin');
    } finally {
      home.cleanup();
      await sandbox.stop();
    }
  });

  it('query --pretty prints indented JSON (--format json); with another --format it is a usage error', async () => {
    const fleet = await startCliFleet({ dialect: 'fleet', offline: 0 });
    try {
      const r = await runCli(['query', '--all', '--query', 'SELECT 1 AS one;', '--pretty', '-q'], { env: fleet.env });
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout) as { results: unknown[] };
      expect(doc.results.length).toBeGreaterThan(0);
      expect(r.stdout).toMatch(/^\{\n/);
      const bad = await runCli(['query', '--all', '--query', 'SELECT 1;', '--pretty', '--format', 'csv'], { env: fleet.env });
      expect(bad.code).toBe(64);
      expect(bad.stderr).toContain('--pretty is --format json');
    } finally {
      await fleet.stop();
    }
  });
});
