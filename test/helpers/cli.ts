/** Runs the built CLI (`bin/osfleet.js`) as a child process with an isolated HOME and config. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const binPath = path.join(repoRoot, 'bin', 'osfleet.js');
/** Verbatim upstream files the tests read (origins and licences in its README). */
export const upstreamDir = path.resolve(repoRoot, 'test/fixtures/upstream');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliRunOptions {
  env?: Record<string, string | undefined>;
  stdin?: string;
  cwd?: string;
  nodeArgs?: string[];
  timeoutMs?: number;
}

/** A scratch HOME with its own config path; `cleanup()` removes it. */
export function scratchHome(): { home: string; configPath: string; env: Record<string, string>; cleanup(): void } {
  const home = mkdtempSync(path.join(tmpdir(), 'osfleet-test-'));
  const configPath = path.join(home, '.config', 'osfleet', 'config.yml');
  return {
    home,
    configPath,
    env: { HOME: home, XDG_CONFIG_HOME: path.join(home, '.config') },
    cleanup: () => rmSync(home, { recursive: true, force: true }),
  };
}

/**
 * Node's compile cache for the bundle (bin/osfleet.js keeps it in $XDG_CACHE_HOME/osfleet), one
 * for every child of the suite: in each scratch HOME it would be written again (a cold run costs
 * ~15% more CPU, a warm one ~10% less). In dist/, beside the build: scripts/bundle.js empties it
 * with each new bundle, whose files it no longer fits.
 */
export const compileCacheHome = path.join(repoRoot, 'dist', '.test-cache');

/** The environment a CLI child gets: the parent's PATH and nothing that could leak config in. */
export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    LANG: 'C.UTF-8',
    TZ: 'UTC',
    CI: 'true',
    XDG_CACHE_HOME: compileCacheHome,
  };
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export function startCli(args: string[], opts: CliRunOptions = {}): ChildProcess {
  return spawn(process.execPath, [...(opts.nodeArgs ?? []), binPath, ...args], {
    cwd: opts.cwd ?? repoRoot,
    env: childEnv(opts.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

export function runCli(args: string[], opts: CliRunOptions = {}): Promise<CliResult> {
  const child = startCli(args, opts);
  return collect(child, opts);
}

/** Collects a child's output until it closes; its stdin is ended (with `stdin` first) unless the caller writes it (`writesStdin`). */
export function collect(child: ChildProcess, opts: { stdin?: string; timeoutMs?: number; writesStdin?: boolean } = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  if (opts.stdin !== undefined) child.stdin?.end(opts.stdin);
  else if (!opts.writesStdin) child.stdin?.end();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`CLI did not finish within ${opts.timeoutMs ?? 60_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/**
 * Runs osfleet with V8's coverage on (NODE_V8_COVERAGE) and returns the modules that run loaded,
 * one absolute path a line, as `modulesLoaded` reads them.
 */
export async function tracedRun(args: string[], opts: CliRunOptions & { traceDir: string }): Promise<CliResult & { loaded: string }> {
  rmSync(opts.traceDir, { recursive: true, force: true });
  const r = await runCli(args, { ...opts, env: { ...opts.env, NODE_V8_COVERAGE: opts.traceDir } });
  const loaded = modulesLoaded(opts.traceDir);
  rmSync(opts.traceDir, { recursive: true, force: true });
  return { ...r, loaded };
}

/**
 * The modules a run under NODE_V8_COVERAGE loaded: every file it ran, and inside the bundle's files
 * every module esbuild put there that ran. esbuild wraps a module reached by an `import()` (and the
 * modules only it imports) in a function named by the module's path, which runs at the first
 * import; the others run with their file. So `toContain('node_modules/yaml/')` means what it meant
 * unbundled.
 */
export function modulesLoaded(coverageDir: string): string {
  const meta = JSON.parse(readFileSync(path.join(repoRoot, 'dist/bundle-meta.json'), 'utf8')) as { outputs: Record<string, { inputs: Record<string, unknown> }> };
  const out: string[] = [];
  for (const name of readdirSync(coverageDir)) {
    const { result } = JSON.parse(readFileSync(path.join(coverageDir, name), 'utf8')) as {
      result: Array<{ url: string; functions: Array<{ functionName: string; ranges: Array<{ count: number }> }> }>;
    };
    for (const script of result) {
      if (!script.url.startsWith('file:') && !script.url.startsWith('/')) continue;
      const file = script.url.startsWith('file:') ? fileURLToPath(script.url) : script.url;
      out.push(file);
      const inBundle = meta.outputs[path.relative(repoRoot, file).split(path.sep).join('/')];
      if (!inBundle) continue;
      const wrapped = new Set(wrappedModules(file));
      const ran = new Set(script.functions.filter((f) => wrapped.has(f.functionName) && f.ranges[0]!.count > 0).map((f) => f.functionName));
      for (const input of Object.keys(inBundle.inputs)) if (!wrapped.has(input) || ran.has(input)) out.push(path.join(repoRoot, input));
    }
  }
  return out.join('\n');
}

/** The modules of a bundle file that esbuild wrapped (`"dist/x.js"() {` or `"node_modules/…"(exports, module) {`). */
function wrappedModules(bundleFile: string): string[] {
  return [...readFileSync(bundleFile, 'latin1').matchAll(/^ {2}"((?:dist|node_modules)\/[^"]+)"\(/gm)].map((m) => m[1]!);
}

/** A query's NDJSON output (one answer per line), parsed. */
export function ndjsonAnswers(stdout: string): Array<{ host: string; rows: Array<Record<string, string>>; error?: string }> {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { host: string; rows: Array<Record<string, string>>; error?: string });
}
