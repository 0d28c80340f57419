/**
 * fleetctl users behind an access proxy (issue 22.5): `config set --custom-header NAME:VALUE`
 * (repeatable), kept per context under fleetctl's key, also read from `~/.fleet/config`, sent on
 * every REST request and on the websocket upgrade, and never shown (redacted like the token).
 * And Kolide's `get hosts NAME` prints the bare host as fleetctl 3.x does (issue 22.7).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli, scratchHome } from './helpers/cli.js';
import { startCliFleet, type CliFleet } from './helpers/fleet.js';

const SECRET = 'proxy-secret-4d1f9e27';

describe('custom headers', () => {
  let fleet: CliFleet;
  beforeAll(async () => {
    fleet = await startCliFleet({ dialect: 'fleet', seed: 21, recordHeader: 'x-proxy-auth' });
  });
  afterAll(async () => fleet?.stop());

  it('config set --custom-header: saved as custom-headers, sent on REST and on the websocket, never printed', async () => {
    const home = scratchHome();
    try {
      const env = home.env;
      const set = await runCli(['config', 'set', '--address', fleet.url, '--token', fleet.token, '--custom-header', `X-Proxy-Auth:${SECRET}`, '--custom-header', 'X-Team: blue:green'], { env });
      expect(set.code, set.stderr).toBe(0);
      expect(set.stderr).toContain('custom-headers');
      expect(set.stderr).not.toContain(SECRET);
      const saved = readFileSync(home.configPath, 'utf8');
      expect(saved).toMatch(/custom-headers:\n\s+X-Proxy-Auth: proxy-secret-4d1f9e27\n\s+X-Team: blue:green/);
      const before = fleet.sandbox.headerLog.length;
      const q = await runCli(['--debug', 'query', '--hosts', 'centos-fileserver', '--query', 'SELECT 1 AS one', '--transport', 'ws', '--format', 'ndjson'], { env });
      expect(q.code, q.stderr).toBe(0);
      // The simulated hosts' own requests (the agent API) are not osfleet's.
      const seen = fleet.sandbox.headerLog.slice(before).filter((h) => !h.path.includes('/osquery'));
      expect(seen.filter((h) => h.via === 'rest').length).toBeGreaterThan(0);
      expect(seen.filter((h) => h.via === 'ws')).toHaveLength(1);
      expect(seen.every((h) => h.value === SECRET)).toBe(true);
      expect(q.stderr).toContain('custom headers on every request: X-Proxy-Auth: REDACTED, X-Team: REDACTED');
      expect(q.stderr + q.stdout).not.toContain(SECRET);
      const get = await runCli(['config', 'get', 'custom-headers'], { env });
      expect(get.stdout).toContain('X-Proxy-Auth: ');
      expect(get.stdout).not.toContain(SECRET);
    } finally {
      home.cleanup();
    }
  });

  it("fleetctl's ~/.fleet/config custom-headers are sent too", async () => {
    const home = scratchHome();
    try {
      const dir = path.join(home.home, '.fleet');
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      chmodSync(dir, 0o700);
      const file = path.join(dir, 'config');
      writeFileSync(file, `contexts:\n  default:\n    address: ${fleet.url}\n    token: ${fleet.token}\n    custom-headers:\n      X-Proxy-Auth: ${SECRET}\n`, { mode: 0o600 });
      const before = fleet.sandbox.headerLog.length;
      const r = await runCli(['get', 'labels', '--format', 'csv'], { env: home.env });
      expect(r.code, r.stderr).toBe(0);
      // The simulated hosts' own requests (the agent API) are not osfleet's.
      const seen = fleet.sandbox.headerLog.slice(before).filter((h) => !h.path.includes('/osquery'));
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((h) => h.value === SECRET)).toBe(true);
    } finally {
      home.cleanup();
    }
  });
});

describe.each(['kolide', 'fleet'] as const)('%s get hosts NAME', (dialect) => {
  let fleet: CliFleet;
  beforeAll(async () => {
    fleet = await startCliFleet({ dialect, seed: 22 });
  });
  afterAll(async () => fleet?.stop());

  it(dialect === 'kolide' ? 'prints the bare host, as fleetctl 3.x (`.hostname`)' : 'prints the kind: host envelope, as fleetctl 4 (`.spec.hostname`)', async () => {
    const json = await runCli(['get', 'hosts', 'centos-fileserver', '--json'], { env: fleet.env });
    expect(json.code, json.stderr).toBe(0);
    const doc = JSON.parse(json.stdout) as { hostname?: string; spec?: { hostname?: string } };
    if (dialect === 'kolide') expect(doc.hostname).toBe('centos-fileserver');
    else expect(doc.spec?.hostname).toBe('centos-fileserver');
    const yaml = await runCli(['get', 'hosts', 'centos-fileserver'], { env: fleet.env });
    expect(yaml.code).toBe(0);
    if (dialect === 'kolide') {
      expect(yaml.stdout).toMatch(/^hostname: centos-fileserver$/m);
      expect(yaml.stdout).not.toContain('kind:');
    } else expect(yaml.stdout).toContain('kind: host');
  });
});
