/**
 * `apply` through run() against the sandbox in this process: a client whose requests are counted by
 * method (an undici interceptor), a test IO, and an abort signal the test controls. Plus the pure
 * pieces (dialect adjustment, kinds to read) as tables.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Agent, type Dispatcher } from 'undici';
import { FleetClient } from '../src/api/client.js';
import { createContext, type Ctx } from '../src/context.js';
import { testIO, type TestIO } from '../src/io.js';
import { CliError, InputError, InterruptedError } from '../src/errors.js';
import { run as apply, type ApplyOptions } from '../src/commands/apply.js';
import { kindsToRead } from '../src/specs/server.js';
import { adjustForServer } from '../src/specs/plan.js';
import { profileFor } from '../src/api/server.js';
import { parseDocuments } from '../src/specs/parse.js';
import type { SpecSet } from '../src/specs/types.js';
import type { Sandbox } from '../src/sandbox/index.js';
import { startTestSandbox } from './helpers/sandbox.js';
import { repoRoot } from './helpers/cli.js';

const BASE = 'test/fixtures/apply/base.yml';

interface Counted {
  client: FleetClient;
  /** `METHOD /path` of every request, in order. */
  log: string[];
  writes(): string[];
  /** Called as each request is dispatched. */
  onRequest?: (line: string) => void;
  close(): Promise<void>;
}

function countedClient(sandbox: Sandbox, token: string): Counted {
  const agent = new Agent();
  const counted: Counted = {
    log: [],
    writes: () => counted.log.filter((l) => !l.startsWith('GET ')),
    client: undefined as unknown as FleetClient,
    close: async () => {
      await agent.close();
    },
  };
  const dispatcher = agent.compose((dispatch: Dispatcher['dispatch']) => (opts, handler) => {
    const line = `${opts.method} ${String(opts.path).replace(/\?.*$/, '')}`;
    counted.log.push(line);
    counted.onRequest?.(line);
    return dispatch(opts, handler);
  });
  counted.client = new FleetClient({ address: sandbox.url, token, dispatcher, retryBaseMs: 1, retryCapMs: 2 });
  return counted;
}

function ctxFor(io: TestIO, client: FleetClient, signal = new AbortController().signal, cwd = repoRoot): Ctx {
  return createContext({ io, env: {}, globals: { debug: false, color: false }, signal, cwd, api: async () => client });
}

const opts = (o: Partial<ApplyOptions>): ApplyOptions => ({ file: [BASE], format: 'text', ...o });

/** A spec folder with n queries, m labels and k packs (each pack schedules 10 queries, targets 2 labels). */
function bigRepo(scratch: string, name: string, n: number, m: number, k: number): string {
  const dir = path.join(scratch, name);
  mkdirSync(dir, { recursive: true });
  let q = '';
  for (let i = 0; i < n; i++) q += `---\napiVersion: v1\nkind: query\nspec:\n  name: ${name}_q${i}\n  query: SELECT ${i} AS n FROM time;\n`;
  let l = '';
  for (let i = 0; i < m; i++) l += `---\napiVersion: v1\nkind: label\nspec:\n  name: ${name}_l${i}\n  query: SELECT 1 FROM system_info WHERE cpu_logical_cores > ${i};\n`;
  let p = '';
  for (let i = 0; i < k; i++) {
    p += `---\napiVersion: v1\nkind: pack\nspec:\n  name: ${name}_p${i}\n  targets:\n    labels: [${name}_l${i % m}, ${name}_l${(i + 1) % m}]\n  queries:\n`;
    for (let j = 0; j < Math.min(10, n); j++) p += `    - query: ${name}_q${(i * 10 + j) % n}\n      interval: ${60 + j}\n`;
  }
  writeFileSync(path.join(dir, 'queries.yml'), q);
  writeFileSync(path.join(dir, 'labels.yml'), l);
  writeFileSync(path.join(dir, 'packs.yml'), p);
  return dir;
}

describe('adjustForDialect (pure)', () => {
  const desiredOf = (yaml: string): SpecSet => {
    const r = parseDocuments(yaml, 't.yml');
    const set: SpecSet = { queries: [], packs: [], labels: [] };
    for (const d of r.docs) {
      if (d.kind === 'query') set.queries.push(d.spec);
      if (d.kind === 'pack') set.packs.push(d.spec);
      if (d.kind === 'enroll_secret') set.enroll_secret = d.spec;
    }
    return set;
  };
  const empty: SpecSet = { queries: [], packs: [], labels: [] };
  const q = 'apiVersion: v1\nkind: query\nspec:\n  name: a\n  query: SELECT 1;\n  interval: 60\n  platform: darwin\n';
  const secrets = 'apiVersion: v1\nkind: enroll_secret\nspec:\n  secrets:\n    - {name: a, secret: s1, active: true}\n    - {name: b, secret: s2, active: false}\n';
  const pack = 'apiVersion: v1\nkind: pack\nspec:\n  name: p\n  queries:\n    - {query: a, interval: 60, denylist: false}\n';

  it.each([
    ['kolide drops FleetDM query fields, with a note', 'kolide', q, (r: ReturnType<typeof adjustForServer>) => {
      expect(r.desired.queries[0]).toEqual({ name: 'a', query: 'SELECT 1;' });
      expect(r.notes[0]).toMatch(/Kolide Fleet keeps no interval\/platform.* ignored in 1 query/);
    }],
    ['fleet keeps them', 'fleet', q, (r: ReturnType<typeof adjustForServer>) => {
      expect(r.desired.queries[0]).toMatchObject({ interval: 60, platform: 'darwin' });
      expect(r.notes).toEqual([]);
    }],
    ['kolide drops pack denylist', 'kolide', pack, (r: ReturnType<typeof adjustForServer>) => {
      expect(r.desired.packs[0]!.queries[0]).toEqual({ query: 'a', name: 'a', interval: 60 });
      expect(r.notes[0]).toMatch(/denylist/);
    }],
    ['fleet leaves inactive secrets out (they would become valid) and drops names', 'fleet', secrets, (r: ReturnType<typeof adjustForServer>) => {
      expect(r.desired.enroll_secret).toEqual({ secrets: [{ secret: 's1' }] });
      expect(r.notes[0]).toMatch(/1 secret with active: false left out/);
    }],
  ] as const)('%s', (_name, dialect, yaml, check) => {
    check(adjustForServer(desiredOf(yaml), empty, profileFor(dialect, undefined, 'queries')));
  });

  it('kolide compares only the secrets the files name (it keeps the others)', () => {
    const current: SpecSet = { ...empty, enroll_secret: { secrets: [{ name: 'a', secret: 's1', active: true }, { name: 'other', secret: 'x', active: true }] } };
    const r = adjustForServer(desiredOf(secrets), current, profileFor('kolide', undefined, 'queries'));
    expect(r.current.enroll_secret!.secrets.map((s) => s.name)).toEqual(['a']);
  });
});

describe('kindsToRead (pure)', () => {
  it.each([
    ['query', ['query']],
    ['label', ['label']],
    ['pack', ['label', 'pack', 'query']],
    ['options', ['options']],
    ['enroll_secret', ['enroll_secret']],
  ])('%s documents read %j', (kind, want) => {
    const spec: Record<string, string> = {
      query: 'spec: {name: a, query: SELECT 1;}',
      label: "spec: {name: a, query: 'SELECT 1;'}",
      pack: 'spec: {name: a, queries: [{query: a, interval: 60}]}',
      options: 'spec: {config: {}}',
      enroll_secret: 'spec: {secrets: [{secret: x}]}',
    };
    const r = parseDocuments(`apiVersion: v1\nkind: ${kind}\n${spec[kind]}\n`, 't.yml');
    expect([...kindsToRead(r.docs)].sort()).toEqual(want);
  });
});

/** A fresh sandbox (no hosts) with an admin, a scratch folder, and counted clients closed after each test. */
function useApplySandbox(dialect: 'fleet' | 'kolide', seed: number, prefix: string) {
  const s = {
    sandbox: undefined as unknown as Sandbox,
    token: '',
    scratch: '',
    open: [] as Counted[],
    client(): Counted {
      const c = countedClient(s.sandbox, s.token);
      s.open.push(c);
      return c;
    },
  };
  beforeAll(async () => {
    // The request paths asserted below are the queries/teams naming (FleetDM before 4.82);
    // test/naming.test.ts runs apply against the 4.82+ naming.
    const t = await startTestSandbox({ dialect, port: 0, seed, hosts: false, ...(dialect === 'fleet' ? { version: '4.60.0' } : {}) });
    s.sandbox = t.sandbox;
    s.token = t.admin.token;
    s.scratch = mkdtempSync(path.join(tmpdir(), prefix));
  });
  afterEach(async () => {
    s.sandbox.setFaults({});
    await Promise.all(s.open.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await s.sandbox?.stop();
    if (s.scratch) rmSync(s.scratch, { recursive: true, force: true });
  });
  return s;
}

describe('apply run() against the FleetDM sandbox', () => {
  const s = useApplySandbox('fleet', 3, 'osfleet-apply-');


  it('1,000 queries, 100 labels, 100 packs: the same requests as 10/2/2 (one GET and one POST per kind)', async () => {
    const small = s.client();
    expect(await apply(opts({ file: [bigRepo(s.scratch, 'small', 10, 2, 2)] }), ctxFor(testIO(), small.client))).toBe(0);
    const big = s.client();
    const io = testIO();
    expect(await apply(opts({ file: [bigRepo(s.scratch, 'big', 1000, 100, 100)] }), ctxFor(io, big.client))).toBe(0);
    const shape = (log: string[]) => [...log].sort();
    expect(shape(big.log)).toEqual(shape(small.log));
    expect(shape(big.log)).toEqual([
      'GET /api/v1/fleet/spec/labels',
      'GET /api/v1/fleet/spec/packs',
      'GET /api/v1/fleet/spec/queries',
      'GET /version',
      'POST /api/v1/fleet/spec/labels',
      'POST /api/v1/fleet/spec/packs',
      'POST /api/v1/fleet/spec/queries',
    ]);
    // Dependency order: queries, then labels, then packs.
    expect(big.writes()).toEqual(['POST /api/v1/fleet/spec/queries', 'POST /api/v1/fleet/spec/labels', 'POST /api/v1/fleet/spec/packs']);
    expect(io.stdoutText()).toContain('Plan: 1200 to create, 0 to update, 0 to delete, 0 unchanged.');
    expect(io.stderrText()).toContain('[+] applied 1000 queries\n[+] applied 100 labels\n[+] applied 100 packs\n');
    // Applied again: the plan is empty and nothing is sent.
    const again = s.client();
    const io2 = testIO();
    expect(await apply(opts({ file: [path.join(s.scratch, 'big')], dryRun: true, detailedExitcode: true }), ctxFor(io2, again.client))).toBe(0);
    expect(again.writes()).toEqual([]);
    expect(io2.stdoutText()).toBe('No changes: 1200 unchanged.\n');
  }, 60_000);

  it('a pack naming a query in neither the files nor the server: position, exit 1, zero writes', async () => {
    const file = path.join(s.scratch, 'unknown-query.yml');
    writeFileSync(file, 'apiVersion: v1\nkind: pack\nspec:\n  name: p\n  queries:\n    - query: nowhere_to_be_found\n      interval: 60\n');
    const c = s.client();
    const io = testIO();
    const err = await apply(opts({ file: [file] }), ctxFor(io, c.client)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).exitCode).toBe(1);
    expect(io.stderrText()).toContain(`${file}:6:14: error: pack "p" schedules unknown query "nowhere_to_be_found" (in neither these files nor the server)`);
    expect(c.writes()).toEqual([]);
  });

  it('a pack naming a query that only the server has is fine', async () => {
    const seed = path.join(s.scratch, 'seed.yml');
    writeFileSync(seed, 'apiVersion: v1\nkind: query\nspec:\n  name: on_server\n  query: SELECT 1;\n');
    expect(await apply(opts({ file: [seed] }), ctxFor(testIO(), s.client().client))).toBe(0);
    const file = path.join(s.scratch, 'server-query.yml');
    writeFileSync(file, 'apiVersion: v1\nkind: pack\nspec:\n  name: uses_server\n  queries:\n    - query: on_server\n      interval: 60\n');
    const c = s.client();
    expect(await apply(opts({ file: [file] }), ctxFor(testIO(), c.client))).toBe(0);
    expect(c.writes()).toEqual(['POST /api/v1/fleet/spec/packs']);
  });

  it('broken files are refused before any request at all', async () => {
    const bad = path.join(s.scratch, 'bad.yml');
    writeFileSync(bad, 'apiVersion: v1\nkind: query\nspec:\n  name: broken\n  query: SELEC name FROM processes;\n');
    const c = s.client();
    const io = testIO();
    await expect(apply(opts({ file: [bad, path.join(s.scratch, 'missing.yml')] }), ctxFor(io, c.client))).rejects.toBeInstanceOf(InputError);
    expect(io.stderrText()).toContain(`${bad}:5:10: error: query "broken": near "SELEC": syntax error`);
    expect(io.stderrText()).toContain(`${path.join(s.scratch, 'missing.yml')}:1:1: error: cannot read: no such file or folder`);
    expect(c.log).toEqual([]);
  });

  it("every bad-specs fixture: the errors lint names, at the same positions, exit 1, zero writes", async () => {
    const fixtures = path.join(repoRoot, 'test/fixtures');
    const expected = JSON.parse(readFileSync(path.join(fixtures, 'bad-specs/expected.json'), 'utf8')) as Record<string, string[]>;
    let checked = 0;
    for (const [source, lines] of Object.entries(expected)) {
      const errors = lines.filter((l) => l.includes(': error: '));
      // Unknown columns depend on osquery's version and extensions: lint's business, a warning to apply.
      if (errors.every((l) => / no such column: /.test(l))) continue;
      const c = s.client();
      const io = testIO();
      const err = await apply(opts({ file: [source] }), ctxFor(io, c.client, undefined, fixtures)).catch((e: unknown) => e);
      expect(err, source).toBeInstanceOf(InputError);
      // Offline, lint says "not in these files"; apply knows the server too.
      const scope = (l: string) => l.replace(/ \((not in these files|in neither these files nor the server)[^)]*\)$/, '');
      const got = io.stderrText().split('\n').filter((l) => l.includes(': error: ')).map(scope);
      expect(got.length, source).toBeGreaterThan(0);
      for (const l of got) expect(errors.map(scope), source).toContain(l);
      expect(c.writes(), source).toEqual([]);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(44);
  });

  it('options on FleetDM: agent_options keys beyond config/overrides are kept; dropped overrides go', async () => {
    const store = s.sandbox.server.core;
    store.setAgentOptions({ config: { options: { distributed_interval: 5 } }, overrides: { platforms: { darwin: { options: { distributed_interval: 1 } } } }, command_line_flags: { verbose: true } });
    const file = path.join(s.scratch, 'options.yml');
    writeFileSync(file, 'apiVersion: v1\nkind: options\nspec:\n  config:\n    options:\n      distributed_interval: 5\n');
    const io = testIO();
    // --detailed-exitcode is a plan's exit code (issue 17.7): with --dry-run only.
    expect(await apply(opts({ file: [file], dryRun: true, detailedExitcode: true }), ctxFor(testIO(), s.client().client))).toBe(2);
    expect(await apply(opts({ file: [file] }), ctxFor(io, s.client().client))).toBe(0);
    expect(io.stdoutText()).toBe('~ options: overrides.platforms.darwin (removed)\nPlan: 0 to create, 1 to update, 0 to delete, 0 unchanged.\n');
    expect(store.agentOptions()).toEqual({ config: { options: { distributed_interval: 5 } }, overrides: {}, command_line_flags: { verbose: true } });
    expect(await apply(opts({ file: [file], dryRun: true, detailedExitcode: true }), ctxFor(testIO(), s.client().client))).toBe(0);
  });

  it('--format json: the plan for machines, then what was applied', async () => {
    const file = path.join(s.scratch, 'json.yml');
    writeFileSync(file, 'apiVersion: v1\nkind: query\nspec:\n  name: json_q\n  query: SELECT 1;\n');
    const io = testIO();
    expect(await apply(opts({ file: [file], format: 'json', dryRun: true, detailedExitcode: true }), ctxFor(io, s.client().client))).toBe(2);
    expect(JSON.parse(io.stdoutText())).toMatchObject({ dry_run: true, changes: true, summary: { created: 1 }, kinds: { query: { created: ['json_q'] } }, applied: [], not_applied: ['queries'] });
    const io2 = testIO();
    expect(await apply(opts({ file: [file], format: 'json' }), ctxFor(io2, s.client().client))).toBe(0);
    expect(JSON.parse(io2.stdoutText())).toMatchObject({ dry_run: false, applied: ['queries'], not_applied: [] });
  });

  it('a later kind failing says which kinds were applied and which not (exit 1)', async () => {
    const dir = bigRepo(s.scratch, 'fails', 3, 1, 1);
    s.sandbox.setFaults({ rules: [{ match: { method: 'POST', path: '/api/v1/fleet/spec/packs' }, fault: '500', count: 10 }] });
    const c = s.client();
    const io = testIO();
    const err = (await apply(opts({ file: [dir] }), ctxFor(io, c.client)).catch((e: unknown) => e)) as CliError;
    expect(err).toBeInstanceOf(CliError);
    expect(err.exitCode).toBe(1);
    expect(err.message).toBe('applying packs failed (applied: queries, labels; not applied: packs): POST /api/v1/fleet/spec/packs: 500 injected fault');
    expect(io.stderrText()).toContain('[+] applied 3 queries\n[+] applied 1 label\n');
  });

  it('Ctrl-C between kinds stops there and says so (exit 130)', async () => {
    const dir = bigRepo(s.scratch, 'sigint', 3, 1, 1);
    const c = s.client();
    const ac = new AbortController();
    // The signal is the command's, not the client's: the request in flight completes, the next kind is not sent.
    c.onRequest = (line) => {
      if (line === 'POST /api/v1/fleet/spec/queries') ac.abort(new InterruptedError('interrupted by SIGINT'));
    };
    const err = (await apply(opts({ file: [dir] }), ctxFor(testIO(), c.client, ac.signal)).catch((e: unknown) => e)) as CliError;
    expect(err).toBeInstanceOf(InterruptedError);
    expect(err.exitCode).toBe(130);
    expect(err.message).toBe('interrupted before labels: applied: queries; not applied: labels, packs');
    expect(c.writes()).toEqual(['POST /api/v1/fleet/spec/queries']);
  });
});

describe('apply --prune against a fresh FleetDM sandbox', () => {
  const s = useApplySandbox('fleet', 4, 'osfleet-prune-');


  it('--prune without a terminal needs --yes, and nothing is sent before it', async () => {
    const dir = bigRepo(s.scratch, 'prune', 3, 1, 2);
    expect(await apply(opts({ file: [dir] }), ctxFor(testIO(), s.client().client))).toBe(0);
    writeFileSync(path.join(dir, 'queries.yml'), '---\napiVersion: v1\nkind: query\nspec:\n  name: prune_q0\n  query: SELECT 0 AS n FROM time;\n---\napiVersion: v1\nkind: query\nspec:\n  name: prune_q1\n  query: SELECT 1 AS n FROM time;\n');
    writeFileSync(path.join(dir, 'packs.yml'), '---\napiVersion: v1\nkind: pack\nspec:\n  name: prune_p0\n  queries:\n    - {query: prune_q0, interval: 60}\n');
    const c = s.client();
    await expect(apply(opts({ file: [dir], prune: true }), ctxFor(testIO(), c.client))).rejects.toMatchObject({ exitCode: 64 });
    expect(c.writes()).toEqual([]);
    const c2 = s.client();
    const io = testIO();
    expect(await apply(opts({ file: [dir], prune: true, yes: true }), ctxFor(io, c2.client))).toBe(0);
    expect(io.stdoutText()).toBe(
      [
        // Deletions in the order they run, each with what depends on it (issue 17.5).
        '~ pack "prune_p0": queries.prune_q1 (removed), queries.prune_q2 (removed), targets.labels',
        '- pack "prune_p1"',
        '- query "prune_q2" (used by pack "prune_p1", deleted first)',
        'Plan: 0 to create, 1 to update, 2 to delete, 3 unchanged.',
        '',
      ].join('\n'),
    );
    expect(io.stderrText()).toContain('[+] applied 1 pack\n[+] deleted 1 pack\n[+] deleted 1 query\n');
    // Packs are deleted before queries (a pack may schedule them); labels are not an applied kind here.
    expect(c2.writes()).toEqual(['POST /api/v1/fleet/spec/packs', 'DELETE /api/v1/fleet/packs/prune_p1', 'DELETE /api/v1/fleet/queries/prune_q2']);
  });

  it('on a terminal --prune asks; "n" cancels before anything is sent, "y" goes ahead', async () => {
    const dir = bigRepo(s.scratch, 'ask', 2, 1, 1);
    expect(await apply(opts({ file: [dir] }), ctxFor(testIO(), s.client().client))).toBe(0);
    writeFileSync(path.join(dir, 'queries.yml'), '---\napiVersion: v1\nkind: query\nspec:\n  name: ask_q0\n  query: SELECT 0 AS n FROM time;\n');
    writeFileSync(path.join(dir, 'packs.yml'), '---\napiVersion: v1\nkind: pack\nspec:\n  name: ask_p0\n  targets: {labels: [ask_l0]}\n  queries:\n    - {query: ask_q0, interval: 60}\n');
    const no = s.client();
    const ioNo = testIO({ tty: true, stdin: 'n\n' });
    await expect(apply(opts({ file: [path.join(dir, 'queries.yml'), path.join(dir, 'packs.yml')], prune: true }), ctxFor(ioNo, no.client))).rejects.toThrow('apply cancelled: nothing was applied');
    // Prune works on whole kinds: what the previous test left goes too.
    expect(ioNo.stderrText()).toMatch(/Delete 1 pack, 3 queries from the server\? \[y\/N\] /);
    expect(no.writes()).toEqual([]);
    const yes = s.client();
    const ioYes = testIO({ tty: true, stdin: 'y\n' });
    expect(await apply(opts({ file: [path.join(dir, 'queries.yml'), path.join(dir, 'packs.yml')], prune: true }), ctxFor(ioYes, yes.client))).toBe(0);
    expect(yes.writes()).toEqual([
      'POST /api/v1/fleet/spec/packs',
      'DELETE /api/v1/fleet/packs/prune_p0',
      'DELETE /api/v1/fleet/queries/ask_q1',
      'DELETE /api/v1/fleet/queries/prune_q0',
      'DELETE /api/v1/fleet/queries/prune_q1',
    ]);
  });

  it('--prune that would leave a kept pack pointing at a deleted query is refused before anything is sent', async () => {
    const dir = bigRepo(s.scratch, 'keep', 2, 1, 1);
    expect(await apply(opts({ file: [dir] }), ctxFor(testIO(), s.client().client))).toBe(0);
    // Only the queries file, without keep_q1 that the pack keep_p0 (not in the files, so it stays) schedules.
    const file = path.join(s.scratch, 'keep-queries.yml');
    writeFileSync(file, '---\napiVersion: v1\nkind: query\nspec:\n  name: keep_q0\n  query: SELECT 0 AS n FROM time;\n');
    const c = s.client();
    const io = testIO();
    await expect(apply(opts({ file: [file], prune: true, yes: true }), ctxFor(io, c.client))).rejects.toThrow('would break packs that stay: nothing was applied');
    expect(io.stderrText()).toContain('error: --prune would delete query "keep_q1" but pack "keep_p0", which stays, still uses it');
    expect(c.writes()).toEqual([]);
  });
});

describe('apply run() against the Kolide sandbox', () => {
  const s = useApplySandbox('kolide', 6, 'osfleet-apply-kolide-');


  it("FleetDM's query fields: a note, not sent, and no change planned forever after", async () => {
    const file = path.join(s.scratch, 'fleet-fields.yml');
    writeFileSync(file, 'apiVersion: v1\nkind: query\nspec:\n  name: scheduled\n  query: SELECT 1;\n  interval: 3600\n  platform: darwin\n');
    const io = testIO();
    expect(await apply(opts({ file: [file] }), ctxFor(io, s.client().client))).toBe(0);
    expect(io.stderrText()).toContain('Note: Kolide Fleet keeps no interval/platform/logging/observer_can_run/min_osquery_version/automations_enabled on queries: ignored in 1 query');
    const again = s.client();
    const io2 = testIO();
    expect(await apply(opts({ file: [file], dryRun: true, detailedExitcode: true }), ctxFor(io2, again.client))).toBe(0);
    expect(io2.stdoutText()).toBe('No changes: 1 unchanged.\n');
    expect(again.writes()).toEqual([]);
  });

  it('an enroll secret without a name is refused with its position (Kolide updates secrets by name)', async () => {
    const file = path.join(s.scratch, 'secret.yml');
    writeFileSync(file, 'apiVersion: v1\nkind: enroll_secret\nspec:\n  secrets:\n    - name: ok\n      secret: abcdefghij\n    - secret: klmnopqrst\n');
    const c = s.client();
    const io = testIO();
    await expect(apply(opts({ file: [file] }), ctxFor(io, c.client))).rejects.toBeInstanceOf(InputError);
    expect(io.stderrText()).toContain(`${file}:7:7: error: enroll_secret: Kolide Fleet needs a name on each secret (it updates secrets by name)`);
    expect(c.writes()).toEqual([]);
  });

  it('secrets the files do not name are kept, and not planned as removed', async () => {
    const file = path.join(s.scratch, 'one-secret.yml');
    writeFileSync(file, 'apiVersion: v1\nkind: enroll_secret\nspec:\n  secrets:\n    - name: extra\n      secret: extra-secret-value\n');
    const io = testIO();
    expect(await apply(opts({ file: [file] }), ctxFor(io, s.client().client))).toBe(0);
    expect(io.stdoutText()).toBe('+ enroll_secret\nPlan: 1 to create, 0 to update, 0 to delete, 0 unchanged.\n');
    const io2 = testIO();
    expect(await apply(opts({ file: [file], dryRun: true, detailedExitcode: true }), ctxFor(io2, s.client().client))).toBe(0);
    expect(io2.stdoutText()).toBe('No changes: 1 unchanged.\n');
    const names = s.sandbox.server.core.store.secrets().map((s) => s.name).sort();
    expect(names).toEqual(['default', 'extra']);
  });
});
