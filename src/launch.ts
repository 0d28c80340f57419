/**
 * What `bin/osfleet.js` runs. The answers that need nothing loaded (`--version`, `--help` into a
 * pipe) come first; otherwise the command line (bundle/cli.cjs, one file) is compiled with the V8
 * code cache an earlier run of the same command left, and its `main` runs.
 *
 * Why a code cache of our own beside Node's (module.enableCompileCache, still on here for what is
 * loaded from node_modules at run time: better-sqlite3, undici): Node makes its cache when a file is
 * compiled, before it runs, so it holds the top level only, and every function is compiled again at
 * its first call in every run. The cache V8 makes after a run (`script.createCachedData()`) holds
 * every function that run compiled: commander, yaml's parser, the lint checks. bench/README.md has
 * the figures.
 *
 * One cache per command (`lint`, `get-hosts`, …: cacheSlot) because a cache is read whole: one
 * holding every command's functions would cost each command the others' share. The files live in
 * `$XDG_CACHE_HOME/osfleet/code/<build>-<node>-<arch>/` (~/.cache without XDG_CACHE_HOME; none
 * without HOME; NODE_DISABLE_COMPILE_CACHE=1 turns both caches off). A cache is written, atomically,
 * at the end of a run that had none or whose cache V8 refused (another Node, other V8 flags), or
 * whose cache another user could have written (readOwnCache). It is
 * not output: a failure to write it (read-only or full disk) is ignored, and the next run tries again.
 * V8 checks its own version, flags and the source's length; the build id in the folder's name stands
 * for the source's content, which V8 does not check.
 */
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire, enableCompileCache } from 'node:module';
import path from 'node:path';
import { Script } from 'node:vm';
import { afterGlobalOptions } from './global-options.js';
import { CLI_BUNDLE } from './paths.js';
import { quickAnswer, writeStdout } from './quick.js';

type Main = (argv: string[]) => Promise<number>;
/** What bundle/cli.cjs exports to the launcher (src/cli.ts). */
interface CommandLine {
  main: Main;
  restoreV8Flags: () => void;
}
type Env = Readonly<Record<string, string | undefined>>;

export async function launch(argv: string[], env: Env = process.env): Promise<number> {
  const quick = quickAnswer(argv, process.stdout.isTTY === true);
  if (quick !== undefined) return writeStdout(quick);

  const cacheRoot = env['NODE_DISABLE_COMPILE_CACHE'] ? undefined : osfleetCacheHome(env);
  if (cacheRoot) enableCompileCache?.(path.join(cacheRoot, 'compile-cache'));
  const commandLine = loadCommandLine(cacheRoot, argv);
  const code = await commandLine.main(argv);
  commandLine.saveCodeCache();
  return code;
}

/**
 * Compiles bundle/cli.cjs with the command's code cache, runs its top level and returns its `main`.
 * Its own function, so that the bundle's text and the cache read are not held while the command
 * runs (4.8 MB of a `query`'s peak); V8 keeps the text it compiled.
 */
function loadCommandLine(cacheRoot: string | undefined, argv: readonly string[]): { main: Main; saveCodeCache(): void } {
  // The file is the body of a CommonJS module already wrapped in its function (scripts/bundle.js),
  // so that it is compiled as read, without a copy. Its strings are ASCII (esbuild's charset): read
  // as latin1, it needs no UTF-8 decoding.
  const source = readFileSync(CLI_BUNDLE, 'latin1');
  const cacheFile = cacheRoot ? codeCacheFile(cacheRoot, buildIdOf(source), cacheSlot(argv)) : undefined;
  const cachedData = cacheFile ? readOwnCache(cacheFile) : undefined;
  const script = new Script(source, { filename: CLI_BUNDLE, ...(cachedData ? { cachedData } : {}) });
  const module = { exports: {} as Partial<CommandLine> };
  (script.runInThisContext() as (...args: unknown[]) => void).call(module.exports, module.exports, createRequire(CLI_BUNDLE), module, CLI_BUNDLE, path.dirname(CLI_BUNDLE));
  const stale = cacheFile !== undefined && (!cachedData || script.cachedDataRejected === true);
  const { main, restoreV8Flags } = module.exports as CommandLine;
  return {
    main,
    saveCodeCache: () => {
      if (!stale) return;
      // V8 stamps the cache with the flags in force: those every run starts with (src/v8-flags.ts).
      restoreV8Flags();
      saveQuietly(cacheFile, script.createCachedData());
    },
  };
}

/** `$XDG_CACHE_HOME/osfleet` (an absolute XDG_CACHE_HOME only), else `~/.cache/osfleet`, else none. */
export function osfleetCacheHome(env: Env): string | undefined {
  const xdg = env['XDG_CACHE_HOME'];
  const home = env['HOME'];
  const cacheHome = xdg && path.isAbsolute(xdg) ? xdg : home ? path.join(home, '.cache') : undefined;
  return cacheHome && path.join(cacheHome, 'osfleet');
}

/** The build id scripts/bundle.js writes on the bundle's first line (`// osfleet build <id>`). */
export function buildIdOf(source: string): string {
  return /^\/\/ osfleet build ([0-9a-f]{8,64})\n/.exec(source)?.[1] ?? 'unknown';
}

/**
 * Which cache a run uses: its command words (`lint`, `get-hosts`, `config-set`) after any global
 * options, up to two, before the first option or argument that is not a plain lower-case word;
 * `none` when there are none.
 */
export function cacheSlot(argv: readonly string[]): string {
  const words: string[] = [];
  for (const arg of afterGlobalOptions(argv)) {
    if (words.length === 2 || !/^[a-z][a-z0-9-]{0,23}$/.test(arg)) break;
    words.push(arg);
  }
  return words.length > 0 ? words.join('-') : 'none';
}

export function codeCacheFile(cacheRoot: string, buildId: string, slot: string): string {
  return path.join(cacheRoot, 'code', `${buildId}-${process.version}-${process.arch}`, `${slot}.v8`);
}

/**
 * The cache, if there is one that only this user could have written: V8 runs what a code cache
 * holds, so one that another user owns or may write (a shared or careless XDG_CACHE_HOME) could
 * change what osfleet does and prints. Checked on the file read, not on its name. Otherwise none:
 * the run compiles from the bundle and writes its own.
 */
export function readOwnCache(file: string): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const st = fstatSync(fd);
    if (!st.isFile() || (st.mode & 0o022) !== 0 || (process.getuid && st.uid !== process.getuid())) return undefined;
    return readFileSync(fd);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Writes the cache atomically; the first write for a build removes the caches of other builds. */
function saveQuietly(file: string, data: Buffer): void {
  const dir = path.dirname(file);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    if (!existsSync(dir)) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      for (const other of readdirSync(path.dirname(dir))) {
        if (other !== path.basename(dir)) rmSync(path.join(path.dirname(dir), other), { recursive: true, force: true });
      }
    }
    writeFileSync(tmp, data, { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    // Not output (see the header); a partial file is not left behind.
    try {
      rmSync(tmp, { force: true });
    } catch {
      // There is no such file where there is no such folder (ENOTDIR).
    }
  }
}
