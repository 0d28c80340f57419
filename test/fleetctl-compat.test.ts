/**
 * fleetctl compatibility: what fleetctl prints applies back as unchanged, and what osfleet prints
 * carries every key fleetctl prints, in fleetctl's order, on both generations (issue 22, 17.6).
 *
 * The fixtures under test/fixtures/fleetctl/ reproduce fleetctl's goldens (README there names the
 * upstream file and commit of each). Each is applied to the sandbox of its generation, applied again
 * (dry run, --detailed-exitcode: exit 0 means "no changes"), then printed by osfleet (`get --yaml`,
 * `get --json`) and that output applied again as unchanged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { FleetClient } from '../src/api/client.js';
import { createContext, type Ctx } from '../src/context.js';
import { testIO, type TestIO } from '../src/io.js';
import { run as apply } from '../src/commands/apply.js';
import { run as get, type GetOptions } from '../src/commands/get.js';
import type { Sandbox } from '../src/sandbox/index.js';
import { startTestSandbox } from './helpers/sandbox.js';
import { repoRoot } from './helpers/cli.js';

const FIXTURES = path.join(repoRoot, 'test/fixtures/fleetctl');

/** fleetctl's keys per kind and generation, in its JSON order (the structs' field order). */
const KEYS = {
  fleet: {
    query: ['name', 'description', 'query', 'team', 'interval', 'observer_can_run', 'platform', 'min_osquery_version', 'automations_enabled', 'logging', 'discard_data'],
    label: ['id', 'name', 'description', 'query', 'platform', 'label_type', 'label_membership_type', 'hosts'],
    pack: ['id', 'name', 'description', 'platform', 'disabled', 'targets'],
    secret: ['secret', 'created_at'],
  },
  kolide: {
    query: ['name', 'description', 'query'],
    label: ['ID', 'name', 'description', 'query', 'platform', 'label_type', 'label_membership_type'],
    pack: ['id', 'name', 'targets', 'queries'],
    secret: ['name', 'secret', 'active', 'created_at'],
  },
} as const;

const FILES = {
  fleet: ['queries.yml', 'queries.jsonl', 'labels.yml', 'labels.jsonl', 'enroll_secret.yml', 'enroll_secret.jsonl', 'packs.yml', 'packs.json'],
  kolide: ['queries.yml', 'labels.yml', 'labels.jsonl', 'enroll_secret.yml', 'packs.yml'],
} as const;

describe.each(['fleet', 'kolide'] as const)("fleetctl's output against the %s sandbox", (dialect) => {
  let sandbox: Sandbox;
  let client: FleetClient;
  let scratch: string;
  const dir = path.join(FIXTURES, dialect === 'fleet' ? 'fleetdm' : 'kolide');
  const ctxFor = (io: TestIO): Ctx =>
    createContext({ io, env: { TZ: 'UTC' }, globals: { debug: false, color: false }, signal: new AbortController().signal, cwd: repoRoot, api: async () => client });
  const applyFile = async (file: string, extra: { dryRun?: boolean; detailedExitcode?: boolean } = {}) => {
    const io = testIO();
    const code = await apply({ file: [file], format: 'text', sqlCheck: false, ...extra }, ctxFor(io));
    return { code, stdout: io.stdoutText(), stderr: io.stderrText() };
  };
  const printed = async (o: GetOptions) => {
    const io = testIO();
    expect(await get(o, ctxFor(io))).toBe(0);
    return io.stdoutText();
  };

  beforeAll(async () => {
    // fleetctl's goldens are the queries/teams naming (FleetDM before 4.82).
    const t = await startTestSandbox({ dialect, port: 0, seed: 11, hosts: false, ...(dialect === 'fleet' ? { version: '4.60.0' } : {}) });
    sandbox = t.sandbox;
    client = new FleetClient({ address: sandbox.url, token: t.admin.token });
    scratch = mkdtempSync(path.join(tmpdir(), `osfleet-compat-${dialect}-`));
    // The packs' queries must exist first (fleetctl's golden pack schedules none; Kolide's one query).
    const first = await applyFile(path.join(dir, 'queries.yml'));
    expect(first.code, first.stderr).toBe(0);
  });
  afterAll(async () => {
    await client?.close();
    await sandbox?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it.each(FILES[dialect])('%s applies, then applies again as unchanged', async (name) => {
    const file = path.join(dir, name);
    const r = await applyFile(file);
    expect(r.code, r.stderr).toBe(0);
    const again = await applyFile(file, { dryRun: true, detailedExitcode: true });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toMatch(/No changes: \d+ unchanged\.\n$/);
  });

  it.each([
    ['queries', 'query'],
    ['labels', 'label'],
    ['packs', 'pack'],
    ['enroll_secret', 'secret'],
  ] as const)("get %s --json: fleetctl's keys in fleetctl's order, and it applies back as unchanged", async (kind, key) => {
    const json = await printed({ kind, json: true });
    const lines = json.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; apiVersion: string; spec: Record<string, unknown> });
    expect(lines.length).toBeGreaterThan(0);
    for (const doc of lines) {
      expect(Object.keys(doc)).toEqual(['kind', 'apiVersion', 'spec']);
      const spec = key === 'secret' ? (doc.spec['secrets'] as Array<Record<string, unknown>>)[0]! : doc.spec;
      // Keys Go's omitempty leaves out when empty (label_type of a regular label, Kolide's platform).
      const omitempty = new Set(['label_type', ...(dialect === 'kolide' ? ['description', 'platform'] : [])]);
      const want = KEYS[dialect][key].filter((k) => !omitempty.has(k) || spec[k] !== undefined);
      expect(Object.keys(spec).slice(0, want.length)).toEqual(want);
    }
    const file = path.join(scratch, `${kind}.jsonl`);
    writeFileSync(file, json);
    const again = await applyFile(file, { dryRun: true, detailedExitcode: true });
    expect(again.code, again.stdout + again.stderr).toBe(0);
  });

  it.each(['queries', 'labels', 'packs', 'enroll_secret', 'all'])('get %s --yaml: keys sorted as fleetctl writes YAML, and it applies back as unchanged', async (kind) => {
    const yaml = await printed({ kind, yaml: true });
    for (const d of parseAllDocuments(yaml)) {
      const doc = d.toJS() as { spec: Record<string, unknown> };
      const keys = Object.keys(doc);
      expect(keys).toEqual([...keys].sort());
      if (kind !== 'all') expect(Object.keys(doc.spec)).toEqual([...Object.keys(doc.spec)].sort());
    }
    const file = path.join(scratch, `${kind}.yml`);
    writeFileSync(file, yaml);
    const again = await applyFile(file, { dryRun: true, detailedExitcode: true });
    expect(again.code, again.stdout + again.stderr).toBe(0);
  });

  it('every key of the golden documents is printed again', async () => {
    for (const [name, kind] of [['queries.yml', 'queries'], ['labels.yml', 'labels'], ['enroll_secret.yml', 'enroll_secret'], ['packs.yml', 'packs']] as const) {
      const golden = parseAllDocuments(readFileSync(path.join(dir, name), 'utf8')).map((d) => d.toJS() as { spec: Record<string, unknown> });
      const ours = parseAllDocuments(await printed({ kind, yaml: true })).map((d) => d.toJS() as { spec: Record<string, unknown> });
      for (const g of golden) {
        const mine = kind === 'enroll_secret' ? ours[0] : ours.find((o) => o.spec['name'] === g.spec['name']);
        // A built-in label of Kolide 3.2 the sandbox's older Kolide calls otherwise ("Mac OS X").
        if (!mine && g.spec['label_type'] === 'builtin') continue;
        expect(mine, `${name}: ${String(g.spec['name'])}`).toBeDefined();
        const keysOf = (s: Record<string, unknown>) => (kind === 'enroll_secret' ? Object.keys((s['secrets'] as Array<Record<string, unknown>>)[0]!) : Object.keys(s));
        expect(keysOf(mine!.spec), `${name}: ${String(g.spec['name'])}`).toEqual(expect.arrayContaining(keysOf(g.spec)));
      }
    }
  });

  it('built-in labels are listed, marked, and re-apply as "left alone", named once', async () => {
    const yaml = await printed({ kind: 'labels', yaml: true });
    const builtin = parseAllDocuments(yaml).map((d) => d.toJS() as { spec: Record<string, unknown> }).filter((d) => d.spec['label_type'] === 'builtin');
    expect(builtin.map((d) => d.spec['name'])).toContain('All Hosts');
    const file = path.join(scratch, 'builtin.yml');
    writeFileSync(file, yaml);
    const again = await applyFile(file, { dryRun: true });
    expect(again.stdout.match(/^= built-in labels left alone/gm)).toHaveLength(1);
    expect(again.stdout).toContain('"All Hosts"');
  });

  it('get enroll_secret prints the YAML document by default, with created_at', async () => {
    const text = await printed({ kind: 'enroll_secret' });
    const doc = parseYaml(text.replace(/^---\n/, '')) as { kind: string; spec: { secrets: Array<Record<string, unknown>> } };
    expect(doc.kind).toBe('enroll_secret');
    expect(doc.spec.secrets[0]).toHaveProperty('created_at');
  });

  it('get config prints the app configuration as a kind: config document that applies back as unchanged; a change is planned and sent', async () => {
    const yaml = await printed({ kind: 'config' });
    expect(yaml).toMatch(/^---\napiVersion: v1\nkind: config\nspec:\n/);
    const file = path.join(scratch, 'config.yml');
    writeFileSync(file, yaml);
    const again = await applyFile(file, { dryRun: true, detailedExitcode: true });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toBe('No changes: 1 unchanged.\n');
    writeFileSync(file, 'apiVersion: v1\nkind: config\nspec:\n  org_info:\n    org_name: Renamed Org\n');
    const changed = await applyFile(file);
    expect(changed.code, changed.stderr).toBe(0);
    expect(changed.stdout).toBe('~ config: org_info.org_name\nPlan: 0 to create, 1 to update, 0 to delete, 0 unchanged.\n');
    expect(await printed({ kind: 'config', json: true })).toContain('"org_name":"Renamed Org"');
  });

  it('get users: the admin in a table; --json one kind: user document per user', async () => {
    expect(await printed({ kind: 'users', format: 'csv' })).toMatch(/^name,email,role,api_only\r\nSandbox Admin,admin@example\.com,admin,false\r\n/);
    const lines = (await printed({ kind: 'users', json: true })).trim().split('\n').map((l) => JSON.parse(l) as { kind: string; spec: { email: string } });
    expect(lines.map((l) => `${l.kind}:${l.spec.email}`)).toEqual(['user:admin@example.com']);
  });
});

describe("FleetDM 4.82+ naming: what osfleet prints follows the server and re-applies on both namings (issue 25.3)", () => {
  let newer: Sandbox;
  let older: Sandbox;
  let newClient: FleetClient;
  let oldClient: FleetClient;
  let scratch: string;
  const ctxFor = (io: TestIO, client: FleetClient): Ctx =>
    createContext({ io, env: { TZ: 'UTC' }, globals: { debug: false, color: false }, signal: new AbortController().signal, cwd: repoRoot, api: async () => client });
  const applyTo = async (client: FleetClient, file: string, extra: { dryRun?: boolean; detailedExitcode?: boolean } = {}) => {
    const io = testIO();
    const code = await apply({ file: [file], format: 'text', sqlCheck: false, ...extra }, ctxFor(io, client));
    return { code, stdout: io.stdoutText(), stderr: io.stderrText() };
  };

  beforeAll(async () => {
    const a = await startTestSandbox({ dialect: 'fleet', port: 0, seed: 12, hosts: false, version: '4.95.0' });
    const b = await startTestSandbox({ dialect: 'fleet', port: 0, seed: 13, hosts: false, version: '4.60.0' });
    newer = a.sandbox;
    older = b.sandbox;
    newClient = new FleetClient({ address: newer.url, token: a.admin.token });
    oldClient = new FleetClient({ address: older.url, token: b.admin.token });
    scratch = mkdtempSync(path.join(tmpdir(), 'osfleet-compat-naming-'));
  });
  afterAll(async () => {
    await newClient?.close();
    await oldClient?.close();
    await newer?.stop();
    await older?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it("fleetctl 4.60's golden applies to 4.95; 4.95's output says kind: report with fleet beside team, applies back unchanged there and to 4.60", async () => {
    const golden = path.join(FIXTURES, 'fleetdm/queries.yml');
    expect((await applyTo(newClient, golden)).code).toBe(0);
    const io = testIO();
    expect(await get({ kind: 'reports', yaml: true }, ctxFor(io, newClient))).toBe(0);
    const printed = io.stdoutText();
    const docs = parseAllDocuments(printed).map((d) => d.toJS() as { kind: string; spec: Record<string, unknown> });
    expect(docs.map((d) => d.kind)).toEqual(['report', 'report', 'report']);
    expect(docs[0]!.spec).toMatchObject({ fleet: '', team: '' });
    const file = path.join(scratch, 'reports.yml');
    writeFileSync(file, printed);
    const same = await applyTo(newClient, file, { dryRun: true, detailedExitcode: true });
    expect(same.code, same.stdout + same.stderr).toBe(0);
    // The same file on a server before 4.82: created, then unchanged.
    expect((await applyTo(oldClient, file)).code).toBe(0);
    const again = await applyTo(oldClient, file, { dryRun: true, detailedExitcode: true });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    // No old path or key was used against the new server, no new key sent to the old one.
    expect(newer.deprecated).toEqual([]);
    expect(older.ignoredNewKeys).toEqual([]);
  });
});
