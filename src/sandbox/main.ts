/**
 * Runnable sandbox for `osfleet preview --detach`:
 *   node dist/sandbox/main.js --dialect fleet --port 0 --hosts N --offline N --slow N --seed N
 *     --check-in MS --data DIR --status-file FILE [--tls-key FILE --tls-cert FILE [--tls-ca FILE]]
 *     [--faults '<FaultPlan JSON>' | --faults @plan.json] [--status-tick MS] [--no-story]
 * Writes {pid, url, port, dialect, enrollSecret} to the status file (atomically) once listening and
 * the fleet is ready; stops cleanly on SIGTERM/SIGINT and removes the status file.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
// Through index.js alone: the package builds this entry apart from the rest (scripts/bundle.js).
import { startSandbox, validatePlan } from './index.js';
import type { FaultPlan, SandboxOptions } from './index.js';

function parseArgs(argv: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const eq = a.indexOf('=');
    if (eq > 0) out.set(a.slice(2, eq), a.slice(eq + 1));
    else {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) out.set(a.slice(2), 'true');
      else {
        out.set(a.slice(2), v);
        i++;
      }
    }
  }
  return out;
}

function int(args: Map<string, string>, name: string): number | undefined {
  const v = args.get(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer`);
  return n;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const dialect = args.get('dialect') ?? 'fleet';
  if (dialect !== 'fleet' && dialect !== 'kolide') throw new Error('--dialect must be fleet or kolide');
  const opts: SandboxOptions = { dialect };
  const set = <K extends keyof SandboxOptions>(k: K, v: SandboxOptions[K] | undefined): void => {
    if (v !== undefined) opts[k] = v;
  };
  set('port', int(args, 'port'));
  set('extraHosts', int(args, 'hosts'));
  set('offline', int(args, 'offline'));
  set('slow', int(args, 'slow'));
  set('seed', int(args, 'seed'));
  set('checkInMs', int(args, 'check-in'));
  set('statusTickMs', int(args, 'status-tick'));
  set('dataDir', args.get('data'));
  set('resultLog', args.get('result-log'));
  set('timeFactor', int(args, 'time-factor'));
  set('host', args.get('host'));
  set('version', args.get('server-version'));
  // Each deprecated path or key a client uses goes to the log.
  opts.log = (line) => process.stderr.write(`sandbox: ${line}\n`);
  if (args.get('no-story') === 'true') opts.story = false;
  const key = args.get('tls-key');
  const cert = args.get('tls-cert');
  if (key !== undefined || cert !== undefined) {
    if (!key || !cert) throw new Error('--tls-key and --tls-cert go together');
    const ca = args.get('tls-ca');
    opts.tls = { key: readFileSync(key), cert: readFileSync(cert), ...(ca ? { ca: readFileSync(ca) } : {}) };
  }
  const faults = args.get('faults');
  if (faults !== undefined) {
    const text = faults.startsWith('@') ? readFileSync(faults.slice(1), 'utf8') : faults;
    const plan: unknown = JSON.parse(text);
    const problem = validatePlan(plan);
    if (problem) throw new Error(`--faults: ${problem}`);
    opts.faults = plan as FaultPlan;
  }
  const statusFile = args.get('status-file');

  const sandbox = await startSandbox(opts);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`sandbox: ${signal}, stopping\n`);
    sandbox
      .stop()
      .then(() => {
        if (statusFile) rmSync(statusFile, { force: true });
        process.exitCode = 0;
      })
      .catch((e: unknown) => {
        process.stderr.write(`sandbox: stop failed: ${String(e)}\n`);
        process.exitCode = 1;
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  const status = { pid: process.pid, url: sandbox.url, port: sandbox.port, dialect: sandbox.dialect, enrollSecret: sandbox.enrollSecret };
  if (statusFile) {
    // Written whole then renamed, so a reader watching the folder never sees half a file.
    const tmp = `${statusFile}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(status) + '\n', { mode: 0o600 });
    renameSync(tmp, statusFile);
  }
  process.stderr.write(`sandbox: ${sandbox.dialect} listening on ${sandbox.url} with ${sandbox.fleet?.hosts.length ?? 0} hosts\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`sandbox: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
