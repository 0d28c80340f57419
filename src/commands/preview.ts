/**
 * `osfleet preview`: the embedded sandbox on loopback, set up and logged in, saved as the `preview`
 * context. Foreground until Ctrl-C, or `--detach` with `preview status` / `preview stop`.
 */
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Ctx } from '../context.js';
import { AlreadySetUpError, CliError, UsageError, ExitCode } from '../errors.js';
import { LIMITS } from '../limits.js';
import { SANDBOX_MAIN } from '../paths.js';
import { sleep } from '../sleep.js';
import { createClient } from '../api/client.js';
import { login, setup } from '../api/session.js';
import type { ResolvedContext } from '../config/store.js';

export interface PreviewOptions {
  dialect: 'fleet' | 'kolide';
  serverVersion?: string;
  port: string;
  hosts: string;
  offline: string;
  slow: string;
  checkIn?: string;
  data?: string;
  seed: string;
  detach?: boolean;
  use?: boolean;
  /** Where the hosts' scheduled results go (default: <data>/osquery_result, else a private temporary folder). */
  resultLog?: string;
  /** Scheduled queries run this many times faster (60: hourly queries every minute). */
  timeFactor?: string;
}

const CONTEXT = 'preview';
const ADMIN_EMAIL = 'admin@osfleet.local';

function int(flag: string, value: string | undefined, min = 0): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min) throw new UsageError(`${flag}: "${value}" is not a whole number${min ? ` ≥ ${min}` : ''}`);
  return Number(value);
}

/** Where a detached sandbox keeps its state, pid and status file by default. */
function defaultDataDir(ctx: Ctx): string {
  const home = ctx.env['HOME'] ?? '.';
  return path.join(ctx.env['XDG_STATE_HOME'] || path.join(home, '.local', 'state'), 'osfleet', 'preview');
}

interface AdminSecret {
  email: string;
  password: string;
}

/** The generated admin password lives beside the data (0600), so a restart on the same data can log in again. */
async function adminSecret(dataDir: string | undefined): Promise<AdminSecret> {
  const file = dataDir ? path.join(dataDir, 'admin.json') : undefined;
  if (file && existsSync(file)) return JSON.parse(await readFile(file, 'utf8')) as AdminSecret;
  // FleetDM's password rule: 12+ characters with a digit and a symbol.
  const secret = { email: ADMIN_EMAIL, password: `Osf-${randomBytes(12).toString('base64url')}#7` };
  if (file) await writeFile(file, JSON.stringify(secret), { mode: 0o600 });
  return secret;
}

/** Setup on first start, login afterwards; the token goes into the `preview` context. */
async function connect(ctx: Ctx, url: string, dataDir: string | undefined, use: boolean): Promise<void> {
  const secret = await adminSecret(dataDir);
  const conn: ResolvedContext = {
    name: CONTEXT,
    address: url,
    token: undefined,
    email: undefined,
    tlsSkipVerify: false,
    rootca: undefined,
    urlPrefix: '',
    allowInsecureHttp: false,
    dialect: undefined,
    serverVersion: undefined,
    naming: undefined,
    customHeaders: {},
    tokenSource: undefined,
  };
  const client = await createClient(conn, ctx);
  try {
    let token: string | undefined;
    try {
      token = (await setup(client, { email: secret.email, password: secret.password, name: 'osfleet admin', username: 'admin', orgName: 'osfleet preview', serverUrl: url })).token;
    } catch (err) {
      if (!(err instanceof AlreadySetUpError)) throw err;
    }
    const server = await client.server({ refresh: true });
    if (!token) token = (await login(client, secret.email, secret.password)).token;
    const store = await ctx.config();
    await store.update(
      CONTEXT,
      { address: url, email: secret.email, token, dialect: server.generation, naming: server.naming, ...(server.version ? { 'server-version': server.version } : {}) },
      { remove: ['rootca', 'tls-skip-verify', 'url-prefix'] },
    );
    const makeCurrent = use || (!store.currentContext && !store.get('default'));
    if (makeCurrent) await store.setCurrent(CONTEXT);
    ctx.io.err(`[+] Context "${CONTEXT}" saved in ${store.path}${makeCurrent ? ' and made current' : ` (use it with --context ${CONTEXT}, or: osfleet config use-context ${CONTEXT})`}\n`);
  } finally {
    await client.close();
  }
}

function nextSteps(ctx: Ctx, url: string, dialect: string, hosts: number): void {
  const c = '--context preview ';
  ctx.io.err(
    [
      `Sandbox Fleet (${dialect === 'kolide' ? 'Kolide API' : 'FleetDM API'}) at ${url} with ${hosts} simulated osquery host${hosts === 1 ? '' : 's'}.`,
      'Try:',
      `  osfleet ${c}get hosts`,
      `  osfleet ${c}apply -f data-leak      # the data-leak pack shipped with osfleet`,
      `  osfleet ${c}query --labels '${dialect === 'kolide' ? 'Mac OS X' : 'macOS'}' --query 'SELECT * FROM cups_jobs;'`,
      `  osfleet ${c}query --all --format csv -o copies.csv --query "SELECT action, file_events.uid, users.username, target_path, time FROM file_events JOIN users USING (uid);"`,
      '',
    ].join('\n'),
  );
}

export async function run(opts: PreviewOptions, ctx: Ctx): Promise<number> {
  const port = int('--port', opts.port) ?? 8412;
  const extraHosts = int('--hosts', opts.hosts) ?? 0;
  if (extraHosts > LIMITS.previewHosts.value) {
    throw new UsageError(`--hosts: ${opts.hosts} is more than ${LIMITS.previewHosts.value.toLocaleString('en-US')}, the ceiling for ${LIMITS.previewHosts.what}`, 'this ceiling is fixed: the sandbox keeps every host in memory');
  }
  const offline = int('--offline', opts.offline) ?? 0;
  const slow = int('--slow', opts.slow) ?? 0;
  const checkInMs = int('--check-in', opts.checkIn, 50);
  const seed = int('--seed', opts.seed) ?? 1;
  const timeFactor = int('--time-factor', opts.timeFactor, 1);
  if (opts.serverVersion !== undefined && !/^\d+\.\d+\.\d+$/.test(opts.serverVersion)) {
    throw new UsageError(`--server-version: "${opts.serverVersion}" is not a version like 4.95.0`);
  }
  if (opts.detach) return detach(opts, ctx, { port, extraHosts, offline, slow, checkInMs, seed });

  const dataDir = opts.data ? path.resolve(ctx.cwd, opts.data) : undefined;
  if (dataDir) mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // The sandbox's hosts answer SQL with SQLite: say so in one line where it cannot load.
  await (await import('../sqlite.js')).loadSqlite('preview');
  let tmpLogDir: string | undefined;
  if (!opts.resultLog && !dataDir) tmpLogDir = await mkdtemp(path.join(tmpdir(), 'osfleet-preview-'));
  const resultLog = opts.resultLog ? path.resolve(ctx.cwd, opts.resultLog) : path.join(dataDir ?? tmpLogDir!, 'osquery_result');
  const { startSandbox } = await import('../sandbox/index.js');
  const sandbox = await startSandbox({
    dialect: opts.dialect,
    ...(opts.serverVersion !== undefined ? { version: opts.serverVersion } : {}),
    // --debug shows each use of a deprecated path or key (FleetDM 4.82+ names).
    log: (line) => ctx.debug(`sandbox: ${line}`),
    port,
    seed,
    extraHosts,
    offline,
    slow,
    ...(checkInMs !== undefined ? { checkInMs } : {}),
    ...(dataDir ? { dataDir } : {}),
    resultLog,
    ...(timeFactor !== undefined ? { timeFactor } : {}),
  });
  try {
    await connect(ctx, sandbox.url, dataDir, Boolean(opts.use));
    nextSteps(ctx, sandbox.url, sandbox.dialect, sandbox.fleet?.hosts.length ?? 0);
    ctx.io.err(`Scheduled results (Fleet's filesystem logger) go to ${resultLog}${timeFactor && timeFactor > 1 ? `, schedules ${timeFactor}× faster` : ''}:\n  osfleet --context preview export --format csv -o collected.csv ${resultLog}\n`);
    ctx.io.err('Press Ctrl-C to stop.\n');
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) return resolve();
      ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    ctx.io.err('Stopping the sandbox…\n');
  } finally {
    await sandbox.stop();
  }
  return ExitCode.ok;
}

interface StatusFile {
  pid: number;
  url: string;
  port: number;
  dialect: string;
}

async function readStatus(dataDir: string): Promise<StatusFile | undefined> {
  try {
    return JSON.parse(await readFile(path.join(dataDir, 'preview.json'), 'utf8')) as StatusFile;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function detach(
  opts: PreviewOptions,
  ctx: Ctx,
  n: { port: number; extraHosts: number; offline: number; slow: number; checkInMs: number | undefined; seed: number },
): Promise<number> {
  const dataDir = path.resolve(ctx.cwd, opts.data ?? defaultDataDir(ctx));
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const existing = await readStatus(dataDir);
  if (existing && alive(existing.pid)) {
    throw new CliError(`a sandbox is already running at ${existing.url} (pid ${existing.pid})`, { hint: 'stop it with: osfleet preview stop' });
  }
  const statusFile = path.join(dataDir, 'preview.json');
  await rm(statusFile, { force: true });
  const args = [
    SANDBOX_MAIN,
    '--dialect', opts.dialect,
    ...(opts.serverVersion !== undefined ? ['--server-version', opts.serverVersion] : []),
    '--port', String(n.port),
    '--hosts', String(n.extraHosts),
    '--offline', String(n.offline),
    '--slow', String(n.slow),
    '--seed', String(n.seed),
    '--data', dataDir,
    '--status-file', statusFile,
    ...(opts.resultLog ? ['--result-log', path.resolve(ctx.cwd, opts.resultLog)] : []),
    ...(opts.timeFactor ? ['--time-factor', opts.timeFactor] : []),
    ...(n.checkInMs !== undefined ? ['--check-in', String(n.checkInMs)] : []),
  ];
  const log = openSync(path.join(dataDir, 'preview.log'), 'a', 0o600);
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  child.unref();
  const status = await waitForStatus(statusFile, child.pid ?? -1, ctx.signal);
  await connect(ctx, status.url, dataDir, Boolean(opts.use));
  nextSteps(ctx, status.url, status.dialect, 4 + n.extraHosts);
  ctx.io.err(`Running in the background (pid ${status.pid}); stop it with: osfleet preview stop${opts.data ? ` --data ${opts.data}` : ''}\n`);
  return ExitCode.ok;
}

async function waitForStatus(file: string, pid: number, signal: AbortSignal): Promise<StatusFile> {
  const { watch } = await import('node:fs');
  const dir = path.dirname(file);
  return new Promise<StatusFile>((resolve, reject) => {
    let done = false;
    const finish = (err?: Error, st?: StatusFile) => {
      if (done) return;
      done = true;
      watcher.close();
      clearInterval(liveness);
      if (err) reject(err);
      else resolve(st!);
    };
    const check = async () => {
      const st = await readStatus(dir);
      if (st && st.url) finish(undefined, st);
    };
    const watcher = watch(dir, () => void check());
    // The child may die before writing its status (port taken, bad flags): notice it.
    const liveness = setInterval(() => {
      if (!alive(pid)) finish(new CliError(`the sandbox exited during start-up; see ${path.join(dir, 'preview.log')}`));
    }, 200);
    signal.addEventListener('abort', () => finish(signal.reason as Error), { once: true });
    void check();
  });
}

export async function runStatus(opts: { data?: string }, ctx: Ctx): Promise<number> {
  const dataDir = path.resolve(ctx.cwd, opts.data ?? defaultDataDir(ctx));
  const st = await readStatus(dataDir);
  if (!st || !alive(st.pid)) {
    ctx.io.out('not running\n');
    return ExitCode.error;
  }
  ctx.io.out(`running at ${st.url} (pid ${st.pid}, ${st.dialect} dialect, data ${dataDir})\n`);
  return ExitCode.ok;
}

export async function runStop(opts: { data?: string }, ctx: Ctx): Promise<number> {
  const dataDir = path.resolve(ctx.cwd, opts.data ?? defaultDataDir(ctx));
  const st = await readStatus(dataDir);
  if (!st || !alive(st.pid)) {
    ctx.io.err('no sandbox is running\n');
    await rm(path.join(dataDir, 'preview.json'), { force: true });
    return ExitCode.ok;
  }
  process.kill(st.pid, 'SIGTERM');
  // It flushes SQLite and closes its hosts before exiting; wait for that.
  const deadline = Date.now() + 15_000;
  while (alive(st.pid)) {
    if (Date.now() > deadline) throw new CliError(`the sandbox (pid ${st.pid}) did not stop within 15 s`);
    await sleep(100);
  }
  await rm(path.join(dataDir, 'preview.json'), { force: true });
  ctx.io.err(`[+] Sandbox stopped (pid ${st.pid}); its data stays in ${dataDir}\n`);
  return ExitCode.ok;
}
