import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli, scratchHome, repoRoot, tracedRun } from './helpers/cli.js';
import { json, startStub, type StubServer } from './helpers/stub-server.js';

let scratch: ReturnType<typeof scratchHome>;
beforeAll(() => {
  scratch = scratchHome();
});
afterAll(() => scratch.cleanup());

describe('startup stays light', () => {
  it.each([['--version'], ['--help'], ['help', 'exit-codes']])('osfleet %s loads neither undici, yaml nor ora, and reads no config', async (...args) => {
    const { code, loaded } = await tracedRun(args, {
      env: { ...scratch.env, OSFLEET_CONFIG: '/nonexistent/should-not-be-read.yml' },
      traceDir: path.join(scratch.home, `trace-${args.join('-')}`),
    });
    expect(code).toBe(0);
    expect(loaded).toContain('/bundle/launch.cjs'); // the trace works
    expect(loaded).toContain('/dist/quick.js'); // and names what is in the bundle
    // --version answers before the command line is read, and so does --help into a pipe
    // (prerendered); help topics need it, and commander.
    if (args[0] === '--version' || args[0] === '--help') {
      expect(loaded).not.toContain('/bundle/cli.cjs');
    } else {
      expect(loaded).toContain('/dist/cli.js');
      expect(loaded).toContain('node_modules/commander/');
    }
    for (const heavy of ['node_modules/undici/', 'node_modules/yaml/', 'node_modules/ora/', 'node_modules/ws/', 'better-sqlite3', '/dist/api/', '/dist/config/']) {
      expect(loaded, heavy).not.toContain(heavy);
    }
  });

  it('config list loads no HTTP client (undici, the api client), nor does an address refused by config set', async () => {
    for (const args of [['config', 'list'], ['config', 'set', '--address', 'http://fleet.example.com']]) {
      const r = await tracedRun(args, { env: scratch.env, traceDir: path.join(scratch.home, `trace-${args.slice(0, 2).join('-')}`) });
      // Plain http:// to a remote host is refused before any connection (exit 1, a config error).
      expect(r.code, r.stderr).toBe(args[1] === 'set' ? 1 : 0);
      if (args[1] === 'set') expect(r.stderr).toContain('refusing plain http:// to fleet.example.com');
      expect(r.loaded).toContain('/dist/config/'); // the trace sees inside the bundle
      if (args[1] === 'set') expect(r.loaded).toContain('/dist/api/address.js');
      for (const heavy of ['node_modules/undici/', '/dist/api/client.js', '/dist/api/undici.js']) expect(r.loaded, heavy).not.toContain(heavy);
    }
  });

  it('--help into a pipe prints, from the build, exactly what commander prints (and -h the same)', async () => {
    const { main } = await import('../src/cli.js');
    const { testIO } = await import('../src/io.js');
    const io = testIO();
    expect(await main(['--help'], { io, env: {}, signal: new AbortController().signal })).toBe(0);
    expect(io.stdoutText()).toMatch(/^Usage: osfleet /);
    for (const flag of ['--help', '-h']) {
      const r = await runCli([flag], { env: scratch.env });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout, `${flag}: rerun npm run build if a command's help changed`).toBe(io.stdoutText());
    }
  });

  it("the build's schema database image has exactly the tables and columns of the schema", async () => {
    const Database = (await import('better-sqlite3')).default;
    const schema = await import('../src/schema/index.js');
    const { buildSchemaDatabase } = await import('../src/specs/sql-check.js');
    const tables = (db: InstanceType<typeof Database>) => db.prepare("SELECT name, sql FROM sqlite_schema ORDER BY name").all();
    const { SCHEMA_DATABASE_IMAGE } = await import('../src/paths.js');
    const image = new Database(readFileSync(SCHEMA_DATABASE_IMAGE));
    const built = buildSchemaDatabase(Database, schema);
    try {
      expect(tables(image)).toHaveLength(schema.allTables().length);
      expect(tables(image), 'rerun npm run build after changing the schema').toEqual(tables(built));
    } finally {
      image.close();
      built.close();
    }
  });

  it('export --format ndjson loads neither the CSV nor the table library; --format csv does', async () => {
    const input = path.join(scratch.home, 'small.ndjson');
    writeFileSync(input, '{"host":"h","rows":[{"a":"1"}]}\n');
    const loads = async (format: string) => {
      const r = await tracedRun(['export', input, '--format', format], { env: scratch.env, traceDir: path.join(scratch.home, `trace-export-${format}`) });
      expect(r.code, r.stderr).toBe(0);
      return r;
    };
    const ndjson = await loads('ndjson');
    expect(ndjson.stdout).toBe('{"host":"h","rows":[{"a":"1"}]}\n');
    expect(ndjson.loaded).not.toContain('node_modules/csv-stringify/');
    expect(ndjson.loaded).not.toContain('node_modules/cli-table3/');
    const csv = await loads('csv');
    expect(csv.stdout).toBe('host,a\r\nh,1\r\n');
    expect(csv.loaded).toContain('node_modules/csv-stringify/');
  });

  it('--version prints the package version', async () => {
    const r = await runCli(['--version']);
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    expect(r.stdout).toBe(`${pkg.version}\n`);
  });

  it('help exit-codes prints the documented table', async () => {
    const r = await runCli(['help', 'exit-codes']);
    for (const code of ['0', '1', '2', '3', '4', '64', '130']) expect(r.stdout).toMatch(new RegExp(`^\\s+${code}  `, 'm'));
  });
});

describe('the package: what npm run build made and npm pack ships', () => {
  type Meta = { inputs: Record<string, { bytes: number }>; outputs: Record<string, { bytes: number }> };
  const meta = () => JSON.parse(readFileSync(path.join(repoRoot, 'dist/bundle-meta.json'), 'utf8')) as Meta;

  it('the bundle is the one of dist/ as it is now (tsc alone leaves it stale: run npm run build)', () => {
    const m = meta();
    const built = statSync(path.join(repoRoot, 'bundle/cli.cjs')).mtimeMs;
    const inputs = Object.keys(m.inputs).filter((i) => i.startsWith('dist/'));
    expect(inputs).toContain('dist/cli.js');
    for (const input of inputs) {
      const st = statSync(path.join(repoRoot, input));
      expect({ input, bytes: st.size, newer: st.mtimeMs > built }, 'rerun npm run build').toEqual({ input, bytes: m.inputs[input]!.bytes, newer: false });
    }
    for (const [output, { bytes }] of Object.entries(m.outputs)) expect(statSync(path.join(repoRoot, output)).size, output).toBe(bytes);
  });

  it('npm pack ships the launcher, every file of the bundle and its assets, the packs, and nothing in between', () => {
    const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: repoRoot, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const files = (JSON.parse(r.stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
    const expected = ['package.json', 'README.md', 'LICENSE', 'bin/osfleet.js', 'bundle/launch.cjs', 'bundle/cli.cjs', 'bundle/sandbox.js', 'bundle/help.txt', 'bundle/osquery.sqlite', 'packs/data-leak/pack.yml'];
    expect(files).toEqual(expect.arrayContaining([...expected, ...Object.keys(meta().outputs)]));
    expect(files.filter((f) => !/^(bin|bundle|packs)\//.test(f) && !['package.json', 'README.md', 'LICENSE'].includes(f))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.map') || f.endsWith('.ts'))).toEqual([]);
  });
});

describe('bad input gets one clear line and the documented exit code', () => {
  it('unknown command → 64', async () => {
    const r = await runCli(['frobnicate'], { env: scratch.env });
    expect(r.code).toBe(64);
    expect(r.stderr).toContain("unknown command 'frobnicate'");
  });
  it('unknown flag → 64', async () => {
    const r = await runCli(['whoami', '--frob'], { env: scratch.env });
    expect(r.code).toBe(64);
    expect(r.stderr).toContain("unknown option '--frob'");
  });
  it('missing address → 1 with what to do, no stack', async () => {
    const r = await runCli(['whoami'], { env: scratch.env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Error: no server address in context "default"');
    expect(r.stderr).toContain('osfleet config set --address');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
  it('malformed URL in FLEET_URL → 1', async () => {
    const r = await runCli(['whoami'], { env: { ...scratch.env, FLEET_URL: 'not a url' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('"not a url" is not a valid URL');
  });
  it('unreachable server → 1, one line naming it', async () => {
    const s = await startStub((req, res) => json(res, 200, {}));
    const url = s.url;
    await s.close();
    const r = await runCli(['whoami'], { env: { ...scratch.env, FLEET_URL: url, FLEET_API_TOKEN: 't' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot connect to ${url}: connection refused`);
    expect(r.stderr.trim().split('\n')).toHaveLength(2); // the error and its hint
  });
  it('a rejected token → 4 with "osfleet login"; --debug traces without the token', async () => {
    const s = await startStub((req, res) => {
      if (req.path === '/version') return json(res, 200, { version: '4.50.0' });
      json(res, 401, { message: 'Authentication required', errors: [{ name: 'base', reason: 'invalid session' }] });
    });
    try {
      const r = await runCli(['whoami', '--debug'], { env: { ...scratch.env, FLEET_URL: s.url, FLEET_API_TOKEN: 'leaky-token-123' } });
      expect(r.code).toBe(4);
      expect(r.stderr).toContain('osfleet login');
      expect(r.stderr).toMatch(/\[debug\] GET \/api\/v1\/fleet\/me → 401/);
      expect(r.stderr + r.stdout).not.toContain('leaky-token-123');
    } finally {
      await s.close();
    }
  });
  it('a 5xx that does not go away → 1 with the server message', async () => {
    const s = await startStub((req, res) => {
      if (req.path === '/version') return json(res, 200, { version: '3.2.0' });
      json(res, 500, { message: 'Unknown Error', errors: [{ name: 'base', reason: 'database is gone' }] });
    });
    try {
      const r = await runCli(['whoami'], { env: { ...scratch.env, FLEET_URL: s.url, FLEET_API_TOKEN: 't' } });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('500 Unknown Error: database is gone');
    } finally {
      await s.close();
    }
  });
});

describe('config file safety from the CLI', () => {
  let s: StubServer;
  afterEach(async () => s?.close());
  it('config set writes 0600 and login stores the token; whoami uses it', async () => {
    s = await startStub((req, res) => {
      if (req.path === '/version') return json(res, 200, { version: '4.50.0' });
      if (req.path === '/api/v1/fleet/login') return json(res, 200, { user: { id: 1, email: 'admin@example.com', name: 'Admin', global_role: 'admin' }, token: 'session-abc' });
      if (req.path === '/api/v1/fleet/me') {
        if (req.headers.authorization !== 'Bearer session-abc') return json(res, 401, { message: 'Authentication required' });
        return json(res, 200, { user: { id: 1, email: 'admin@example.com', name: 'Admin', global_role: 'admin' } });
      }
      json(res, 404, { message: 'Resource Not Found' });
    });
    const home = scratchHome();
    try {
      expect((await runCli(['config', 'set', '--address', s.url], { env: home.env })).code).toBe(0);
      const login = await runCli(['login', '--email', 'admin@example.com', '--password-stdin'], { env: home.env, stdin: 'hunter2\n' });
      expect(login.stderr).toContain('Logged in');
      expect(login.code).toBe(0);
      expect(JSON.parse(s.seen.find((r) => r.path === '/api/v1/fleet/login')!.body)).toMatchObject({ password: 'hunter2' });
      const who = await runCli(['whoami'], { env: home.env });
      expect(who.code).toBe(0);
      expect(who.stdout).toContain('admin@example.com (Admin), admin');
      expect(who.stdout).toContain('API /api/v1/fleet (FleetDM)');
      const cfg = readFileSync(home.configPath, 'utf8');
      expect(cfg).toContain('dialect: fleet');
      expect(cfg).not.toContain('hunter2');
    } finally {
      home.cleanup();
    }
  });
});
