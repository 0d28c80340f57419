/**
 * Nothing written is dropped (issue 22.1): a FleetDM query's `team` is resolved by name and sent, a
 * missing team is an error with its position before anything is written, `discard_data` is sent.
 * A scripted FleetDM (the sandbox has no teams) records what osfleet sends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FleetClient } from '../src/api/client.js';
import { createContext, type Ctx } from '../src/context.js';
import { testIO, type TestIO } from '../src/io.js';
import { InputError } from '../src/errors.js';
import { run as apply } from '../src/commands/apply.js';
import { run as get } from '../src/commands/get.js';
import { printedQuery } from '../src/specs/server.js';
import { json, startStub, type StubServer } from './helpers/stub-server.js';
import { repoRoot } from './helpers/cli.js';

describe('apply: team and discard_data reach a FleetDM server', () => {
  let stub: StubServer;
  let scratch: string;
  const posted: unknown[] = [];
  beforeAll(async () => {
    stub = await startStub((req, res) => {
      const url = new URL(req.path, 'http://x');
      if (url.pathname === '/version') return json(res, 200, { version: '4.60.0' });
      if (url.pathname === '/api/v1/fleet/teams') {
        const q = url.searchParams.get('query') ?? '';
        return json(res, 200, { teams: [{ id: 7, name: 'Workstations' }].filter((t) => t.name.toLowerCase().includes(q.toLowerCase())) });
      }
      if (url.pathname === '/api/v1/fleet/spec/queries' && req.method === 'GET') {
        const team = url.searchParams.get('team_id');
        return json(res, 200, { specs: team === '7' ? [{ name: 'uptime', description: '', query: 'SELECT 1;', team: 'Workstations', interval: 0, discard_data: false }] : [] });
      }
      if (url.pathname === '/api/v1/fleet/spec/queries' && req.method === 'POST') {
        posted.push(JSON.parse(req.body));
        return json(res, 200, {});
      }
      return json(res, 404, { message: 'not found' });
    });
    scratch = mkdtempSync(path.join(tmpdir(), 'osfleet-team-'));
  });
  afterAll(async () => {
    await stub?.close();
    rmSync(scratch, { recursive: true, force: true });
  });
  const ctxFor = (io: TestIO, client: FleetClient): Ctx =>
    createContext({ io, env: {}, globals: { debug: false, color: false }, signal: new AbortController().signal, cwd: repoRoot, api: async () => client });

  it('a team query is planned against that team and sent with its team and discard_data', async () => {
    const file = path.join(scratch, 'q.yml');
    writeFileSync(file, 'apiVersion: v1\nkind: query\nspec:\n  name: uptime\n  query: SELECT 1;\n  team: Workstations\n  discard_data: true\n');
    const client = new FleetClient({ address: stub.url, token: 't' });
    const io = testIO();
    expect(await apply({ file: [file], format: 'text', sqlCheck: false }, ctxFor(io, client))).toBe(0);
    expect(io.stdoutText()).toBe('~ query "uptime": discard_data\nPlan: 0 to create, 1 to update, 0 to delete, 0 unchanged.\n');
    expect(posted).toEqual([{ specs: [{ name: 'uptime', query: 'SELECT 1;', discard_data: true, team: 'Workstations' }] }]);
    await client.close();
  });

  it('a team the server does not have: an error at the field, nothing sent', async () => {
    posted.length = 0;
    const file = path.join(scratch, 'bad.yml');
    writeFileSync(file, 'apiVersion: v1\nkind: report\nspec:\n  name: uptime\n  query: SELECT 1;\n  fleet: Servers\n');
    const client = new FleetClient({ address: stub.url, token: 't' });
    const io = testIO();
    await expect(apply({ file: [file], format: 'text', sqlCheck: false }, ctxFor(io, client))).rejects.toBeInstanceOf(InputError);
    expect(io.stderrText()).toContain(`${file}:6:10: error: query "uptime": team "Servers" doesn't exist on the server`);
    expect(posted).toEqual([]);
    await client.close();
  });

  it('get reports --fleet NAME: that team\'s queries with fleetctl\'s keys; get fleets says what osfleet has instead', async () => {
    const client = new FleetClient({ address: stub.url, token: 't' });
    const io = testIO();
    expect(await get({ kind: 'reports', team: 'workstations', json: true }, ctxFor(io, client))).toBe(0);
    expect(io.stdoutText()).toBe(
      '{"kind":"query","apiVersion":"v1","spec":{"name":"uptime","description":"","query":"SELECT 1;","team":"Workstations","interval":0,"observer_can_run":false,"platform":"","min_osquery_version":"","automations_enabled":false,"logging":"","discard_data":false}}\n',
    );
    await expect(get({ kind: 'fleets' }, ctxFor(testIO(), client))).rejects.toThrow('osfleet does not manage FleetDM fleets');
    await client.close();
  });
});

describe('printed queries follow the server\'s naming', () => {
  it('4.82+: `fleet` beside `team` (as the newest fleetctl prints them); older: `team` only', () => {
    const raw = { name: 'q', description: '', query: 'SELECT 1;', team: 'A', interval: 0 };
    expect(Object.keys(printedQuery(raw, 'fleet', 'reports')).slice(0, 5)).toEqual(['name', 'description', 'query', 'fleet', 'team']);
    expect(printedQuery(raw, 'fleet', 'reports')['fleet']).toBe('A');
    expect(printedQuery(raw, 'fleet', 'queries')).not.toHaveProperty('fleet');
  });
});
