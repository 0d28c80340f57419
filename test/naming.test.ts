/**
 * FleetDM 4.82 renamed queries to reports and teams to fleets (fleet-api.md §11). osfleet detects the
 * naming once per context and speaks the server's: against a 4.95 sandbox no old path or key is
 * used, against a 4.60 one no new key is sent (it would be ignored), and Kolide is untouched. The
 * sandbox serves both namings: new paths with old aliases, both keys in responses, 400 for both names
 * of a pair, and a record of every old name used.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from './helpers/cli.js';
import { startCliFleet, type CliFleet } from './helpers/fleet.js';
import { raw, startTestSandbox, type TestSandbox } from './helpers/sandbox.js';
import { scratchHome } from './helpers/cli.js';
import { namingOfVersion, profileFor, pick } from '../src/api/server.js';

const SPECS = `apiVersion: v1
kind: query
spec:
  name: naming_users
  description: users on each host
  query: SELECT uid, username FROM users;
---
apiVersion: v1
kind: label
spec:
  name: naming_linux
  query: SELECT 1 FROM os_version WHERE platform = 'centos';
---
apiVersion: v1
kind: pack
spec:
  name: naming_pack
  queries:
    - query: naming_users
      interval: 3600
`;

const cases = [
  { name: 'FleetDM 4.95 (reports/fleets)', dialect: 'fleet', version: '4.95.0', naming: 'reports' },
  { name: 'FleetDM 4.60 (queries/teams)', dialect: 'fleet', version: '4.60.0', naming: 'queries' },
  { name: 'Kolide 3.2', dialect: 'kolide', version: undefined, naming: 'queries' },
] as const;

describe.each(cases)('the CLI against $name', ({ dialect, version, naming }) => {
  let fleet: CliFleet;
  let dir: string;
  beforeAll(async () => {
    fleet = await startCliFleet({ dialect, ...(version ? { version } : {}), seed: 4 });
    dir = mkdtempSync(path.join(tmpdir(), 'osfleet-naming-'));
    writeFileSync(path.join(dir, 'specs.yml'), SPECS);
  });
  afterAll(async () => {
    await fleet?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('apply, get, query by saved name and delete use only the names the server speaks', async () => {
    const cli = (args: string[]) => runCli(args, { env: fleet.env });
    const applied = await cli(['apply', '-f', path.join(dir, 'specs.yml')]);
    expect(applied.code, applied.stderr).toBe(0);
    const again = await cli(['apply', '-f', path.join(dir, 'specs.yml'), '--dry-run']);
    expect(again.stdout).toContain('No changes');
    const got = await cli(['get', 'queries', '--yaml']);
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout).toContain('name: naming_users');
    const one = await cli(['get', 'query', 'naming_users', '--yaml']);
    expect(one.stdout).toContain('SELECT uid, username FROM users;');
    const run = await cli(['query', '--query-name', 'naming_users', '--hosts', 'centos-fileserver', '--format', 'ndjson']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('"host":"centos-fileserver"');
    const who = await cli(['whoami']);
    expect(who.stdout).toContain(naming === 'reports' ? 'naming: reports/fleets' : 'naming: queries/teams');
    const del = await cli(['delete', 'pack', 'naming_pack', '--yes']);
    expect(del.stdout).toContain('[+] deleted pack "naming_pack"');
    const delq = await cli(['delete', 'query', 'naming_users', '--yes']);
    expect(delq.stdout).toContain('[+] deleted query "naming_users"');

    expect(fleet.sandbox.naming).toBe(naming);
    // Against the new naming, not one old path or key; against the old one, not one new key.
    expect(fleet.sandbox.deprecated).toEqual([]);
    expect(fleet.sandbox.ignoredNewKeys).toEqual([]);
  });
});

describe('the naming is detected once and cached with the context', () => {
  let t: TestSandbox;
  let home: ReturnType<typeof scratchHome>;
  beforeAll(async () => {
    t = await startTestSandbox({ dialect: 'fleet', hosts: false, seed: 6 });
    home = scratchHome();
  });
  afterAll(async () => {
    await t?.stop();
    home?.cleanup();
  });

  it('a context learns `naming: reports` from the first command and --debug names it', async () => {
    const env = home.env;
    expect((await runCli(['config', 'set', '--address', t.url, '--token', t.admin.token], { env })).code).toBe(0);
    const r = await runCli(['--debug', 'get', 'queries'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('server: FleetDM 4.95.0, API /api/v1/fleet, reports/fleets naming (4.82+)');
    const saved = readFileSync(home.configPath, 'utf8');
    expect(saved).toMatch(/naming: reports/);
    expect(saved).toMatch(/server-version: 4\.95\.0/);
    // The next run asks nothing about the server: no GET /version.
    const again = await runCli(['--debug', 'get', 'queries'], { env });
    expect(again.stderr).not.toContain('GET /version');
    expect(again.stderr).toContain('GET /api/v1/fleet/spec/reports');
  });
});

describe('the sandbox speaks both namings', () => {
  let fresh: TestSandbox;
  let old: TestSandbox;
  beforeAll(async () => {
    [fresh, old] = await Promise.all([
      startTestSandbox({ dialect: 'fleet', hosts: false, seed: 7 }),
      startTestSandbox({ dialect: 'fleet', hosts: false, seed: 8, version: '4.60.0' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([fresh?.stop(), old?.stop()]);
  });

  it('defaults to the newest FleetDM, 4.95.0', async () => {
    expect((await raw(`${fresh.url}/version`)).json.version).toBe('4.95.0');
    expect(fresh.sandbox.naming).toBe('reports');
  });

  it('serves the new paths with the old ones as aliases, logging each old one', async () => {
    const before = fresh.sandbox.deprecated.length;
    const spec = { specs: [{ name: 'alias_q', query: 'SELECT 1;' }] };
    expect((await raw(`${fresh.url}/api/v1/fleet/spec/reports`, { token: fresh.admin.token, body: spec })).status).toBe(200);
    expect(fresh.sandbox.deprecated.length).toBe(before);
    const viaOld = await raw(`${fresh.url}/api/v1/fleet/spec/queries/alias_q`, { token: fresh.admin.token });
    expect(viaOld.status).toBe(200);
    expect(fresh.sandbox.deprecated.slice(before)).toEqual([{ method: 'GET', path: '/spec/queries/alias_q', kind: 'path', name: 'queries' }]);
  });

  it('answers with both keys: queries and reports, query and report, query_id and report_id, both config spellings', async () => {
    const list = await raw(`${fresh.url}/api/v1/fleet/reports?query=alias_q`, { token: fresh.admin.token });
    expect(list.json.reports).toEqual(list.json.queries);
    const id = list.json.reports[0].id as number;
    const one = await raw(`${fresh.url}/api/v1/fleet/reports/${id}`, { token: fresh.admin.token });
    expect(one.json.report).toEqual(one.json.query);
    const config = await raw(`${fresh.url}/api/v1/fleet/config`, { token: fresh.admin.token });
    expect(config.json.server_settings.live_reporting_disabled).toBe(config.json.server_settings.live_query_disabled);
  });

  it('refuses both names of a pair in one request with 400 "Specify only one of …"', async () => {
    const both = await raw(`${fresh.url}/api/v1/fleet/hosts?team_id=1&fleet_id=1`, { token: fresh.admin.token });
    expect(both.status).toBe(400);
    expect(both.text).toContain('Specify only one of \\"team_id\\" or \\"fleet_id\\"');
    const body = await raw(`${fresh.url}/api/v1/fleet/reports/run_by_identifiers`, {
      token: fresh.admin.token,
      body: { query_id: 1, report_id: 1, selected: { hosts: ['x'], labels: [] } },
    });
    expect(body.status).toBe(400);
  });

  it('a 4.60 server has no new paths and ignores new keys (recorded, so tests can catch them)', async () => {
    expect((await raw(`${old.url}/api/v1/fleet/spec/reports`, { token: old.admin.token })).status).toBe(404);
    const r = await raw(`${old.url}/api/v1/fleet/hosts?fleet_id=1`, { token: old.admin.token });
    expect(r.status).toBe(200);
    expect(old.sandbox.ignoredNewKeys).toEqual([{ method: 'GET', path: '/hosts', kind: 'key', name: 'fleet_id' }]);
    expect(old.sandbox.deprecated).toEqual([]);
  });
});

describe('naming helpers (pure)', () => {
  it.each([
    ['4.60.0', 'queries'],
    ['4.81.9', 'queries'],
    ['4.82.0', 'reports'],
    ['v4.95.0', 'reports'],
    ['5.0.0', 'reports'],
    ['3.2.0', 'queries'],
    ['dev', undefined],
  ] as const)('%s → %s', (v, want) => {
    expect(namingOfVersion(v)).toBe(want);
  });

  it('words follow the naming; Kolide always speaks the old names', () => {
    expect(profileFor('fleet', '4.95.0', 'reports').words).toMatchObject({ queries: 'reports', query_id: 'report_id', team_id: 'fleet_id' });
    expect(profileFor('fleet', '4.60.0', 'queries').words).toMatchObject({ queries: 'queries', query_id: 'query_id', team_id: 'team_id' });
    expect(profileFor('kolide', '3.2.0', 'reports').naming).toBe('queries');
  });

  it('responses are read new key first, the old one as fallback', () => {
    expect(pick({ queries: [1], reports: [2] }, 'queries')).toEqual([2]);
    expect(pick({ queries: [1] }, 'queries')).toEqual([1]);
    expect(pick({ team_id: 3 }, 'team_id')).toBe(3);
  });
});
