/**
 * The context every command runs with: IO, environment, clock, global flags, an abort signal for
 * Ctrl-C, and lazily built configuration and API client. Commands get what they need from here, never
 * from process globals, so tests can build a ctx with a test IO, a fixed clock and a sandbox client.
 */
import type { IO } from './io.js';
import type { ConfigStore, ResolvedContext } from './config/store.js';
import type { FleetClient } from './api/client.js';
import type { Env } from './env.js';

export type { Env } from './env.js';

export interface GlobalOptions {
  /** --context NAME */
  context?: string | undefined;
  /** --config PATH */
  config?: string | undefined;
  debug: boolean;
  /** false under --no-color */
  color: boolean;
}

export interface Ctx {
  io: IO;
  env: Env;
  now(): Date;
  cwd: string;
  globals: GlobalOptions;
  /** Aborted on SIGINT/SIGTERM; its reason is an InterruptedError. */
  signal: AbortSignal;
  /** A --debug trace line on stderr (callers redact secrets before calling). */
  debug(line: string): void;
  /** The configuration file and the chosen context, read on first use. */
  config(): Promise<ConfigStore>;
  /** The resolved connection settings (file + environment overrides). */
  connection(): Promise<ResolvedContext>;
  /** The API client for the chosen context, built on first use. */
  api(): Promise<FleetClient>;
  /** Releases what was opened (HTTP agent, sockets). Called once by main. */
  close(): Promise<void>;
  /** Runs another osfleet command line in this process (the demo does), with its own IO and env. */
  main(argv: string[], over: SubRun): Promise<number>;
}

/** What a nested run (Ctx.main) replaces. */
export interface SubRun {
  io: IO;
  env: Env;
  signal: AbortSignal;
  cwd: string;
}

export interface CtxInit {
  io: IO;
  env: Env;
  globals: GlobalOptions;
  signal: AbortSignal;
  now?: () => Date;
  cwd?: string;
  /** Tests inject a client (for example one bound to a MockAgent). */
  api?: () => Promise<FleetClient>;
  /** cli.ts's main, handed in (a command importing cli.ts would be an import cycle). */
  main?: (argv: string[], over: SubRun) => Promise<number>;
}

export function createContext(init: CtxInit): Ctx {
  let store: Promise<ConfigStore> | undefined;
  let client: Promise<FleetClient> | undefined;
  const closers: Array<() => Promise<void>> = [];
  const ctx: Ctx = {
    io: init.io,
    env: init.env,
    now: init.now ?? (() => new Date()),
    cwd: init.cwd ?? process.cwd(),
    globals: init.globals,
    signal: init.signal,
    debug(line) {
      if (init.globals.debug) init.io.err(`[debug] ${line}\n`);
    },
    config() {
      store ??= import('./config/store.js').then((m) =>
        m.loadConfig({ env: init.env, configPath: init.globals.config, contextName: init.globals.context }),
      );
      return store;
    },
    async connection() {
      return (await ctx.config()).resolve();
    },
    api() {
      client ??= (async () => {
        if (init.api) return init.api();
        const { createClient } = await import('./api/client.js');
        const conn = await ctx.connection();
        const c = await createClient(conn, ctx, {
          // Detected afresh: cached with the context, so the next run asks nothing.
          onResolved: async (p) => {
            const store = await ctx.config();
            const stored = store.get();
            // Only in osfleet's own file (fleetctl's is never written), for the stored server.
            if (!stored || store.readFrom !== store.path || stored.address !== conn.address) return;
            if (stored.dialect === p.generation && stored['server-version'] === p.version && stored.naming === p.naming) return;
            await store.update(store.contextName, { dialect: p.generation, naming: p.naming, ...(p.version ? { 'server-version': p.version } : {}) });
          },
        });
        for (const w of c.warnings) init.io.err(init.io.errColor.yellow(`Warning: ${w}\n`));
        closers.push(() => c.close());
        return c;
      })();
      return client;
    },
    async close() {
      await Promise.allSettled(closers.map((c) => c()));
    },
    main(argv, over) {
      if (!init.main) throw new Error('this context cannot run nested commands');
      return init.main(argv, over);
    },
  };
  return ctx;
}
