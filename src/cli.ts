/**
 * The only file that knows commander. It declares every command and flag, and imports a command's
 * module only when that command runs, so `--help` and `--version` load no HTTP, YAML or spinner code
 * and read no configuration.
 */
import type { Command, CommanderError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { CliError, EXIT_CODE_TABLE, ExitCode, InterruptedError, isBrokenPipe } from './errors.js';
import type { IO } from './io.js';
import { createContext, type Ctx, type Env, type GlobalOptions } from './context.js';

export interface MainOptions {
  io?: IO;
  env?: Env;
  /** Tests pass their own signal; real runs get one aborted by SIGINT/SIGTERM. */
  signal?: AbortSignal;
  /** Tests inject an API client factory. */
  api?: Ctx['api'];
  now?: () => Date;
  cwd?: string;
}

type CommandModule = { run(opts: any, ctx: Ctx): Promise<number | void> };
type Loader = () => Promise<CommandModule>;

export function clientVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export async function main(argv: string[], options: MainOptions = {}): Promise<number> {
  const env: Env = options.env ?? process.env;
  const wantsMachineOutput = argv.includes('--json') || argv.some((a, i) => a === '--format' && argv[i + 1] === 'json');
  const noColorFlag = argv.includes('--no-color') || wantsMachineOutput;
  // `osfleet --version` runs thousands of times a day from scripts: answer it before loading
  // commander and chalk at all.
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    (options.io ? (t: string) => options.io!.out(t) : (t: string) => void process.stdout.write(t))(`${clientVersion()}\n`);
    return ExitCode.ok;
  }
  const [commander, { systemIO }] = await Promise.all([import('commander'), import('./io.js')]);
  const io = options.io ?? systemIO(env, { noColor: noColorFlag });

  const controller = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      // A second Ctrl-C: the user really wants out.
      process.exit(ExitCode.interrupted);
    }
    controller.abort(new InterruptedError(`interrupted by ${name}`));
  };
  const installSignals = !options.signal;
  if (installSignals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }

  let ctx: Ctx | undefined;
  let exitCode: number = ExitCode.ok;
  let debug = argv.includes('--debug');
  const program = buildProgram(commander, io, async (load, opts, globals) => {
    debug = globals.debug;
    ctx = createContext({
      io,
      env,
      globals,
      signal,
      ...(options.now ? { now: options.now } : {}),
      ...(options.cwd ? { cwd: options.cwd } : {}),
      ...(options.api ? { api: options.api } : {}),
    });
    const mod = await load();
    const code = await mod.run(opts, ctx);
    exitCode = typeof code === 'number' ? code : ExitCode.ok;
  });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    exitCode = reportError(err, io, { debug, json: wantsMachineOutput, CommanderError: commander.CommanderError });
  } finally {
    if (ctx) await ctx.close();
    if (installSignals) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
  return exitCode;
}

/** The one top-level error handler: one line (plus a hint), no stack unless --debug. */
export function reportError(err: unknown, io: IO, opts: { debug: boolean; json: boolean; CommanderError?: typeof CommanderError }): number {
  // `osfleet export big.ndjson | head` closes stdout early: the reader's choice, not a failure.
  if (isBrokenPipe(err)) return ExitCode.ok;
  if (opts.CommanderError && err instanceof opts.CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
      return ExitCode.ok;
    }
    // commander already printed its message through configureOutput.
    return err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  }
  if (err instanceof CliError) {
    if (err.message === '') return err.exitCode;
    if (opts.json) {
      io.err(JSON.stringify({ error: err.message, ...(err.hint ? { hint: err.hint } : {}), exit_code: err.exitCode }) + '\n');
    } else {
      io.err(`${io.errColor.red('Error:')} ${err.message}\n`);
      if (err.hint) io.err(`${io.errColor.dim('Hint:')} ${err.hint}\n`);
    }
    if (opts.debug && err.stack) io.err(`${err.stack}\n`);
    return err.exitCode;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  io.err(`${io.errColor.red('Error:')} unexpected failure: ${e.message}\n`);
  io.err(opts.debug ? `${e.stack}\n` : 'Run again with --debug for the stack trace; please report it.\n');
  return ExitCode.error;
}

type Runner = (load: Loader, opts: Record<string, unknown>, globals: GlobalOptions) => Promise<void>;

function buildProgram(commander: { Command: typeof Command; Option: typeof Option }, io: IO, runner: Runner): Command {
  const { Option } = commander;
  const program = new commander.Command('osfleet');
  program
    .description('Manage osquery fleets through a Fleet server (Kolide Fleet 3.x or FleetDM 4.x)')
    .version(clientVersion(), '-V, --version', 'print the client version')
    .option('--context <name>', 'configuration context to use (env OSFLEET_CONTEXT)')
    .option('--config <path>', 'configuration file (env OSFLEET_CONFIG)')
    .option('--debug', 'trace HTTP requests to stderr (secrets redacted)', false)
    .option('--no-color', 'disable colour')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s),
      writeErr: (s) => io.err(s),
      outputError: (s, write) => write(io.errColor.red(s)),
    });

  /** Declares a command whose module is loaded only when it runs. */
  const lazy = (
    cmd: Command,
    load: Loader,
    shape?: (args: unknown[], opts: Record<string, unknown>, withParents: Record<string, unknown>) => Record<string, unknown>,
  ) => {
    cmd.exitOverride();
    cmd.action(async (...actionArgs: unknown[]) => {
      const self = actionArgs[actionArgs.length - 1] as Command;
      const args = actionArgs.slice(0, -2);
      const all = self.optsWithGlobals() as Record<string, unknown>;
      const globals: GlobalOptions = {
        context: all['context'] as string | undefined,
        config: all['config'] as string | undefined,
        debug: Boolean(all['debug']),
        color: all['color'] !== false,
      };
      const own = self.opts() as Record<string, unknown>;
      await runner(load, shape ? shape(args, own, all) : { ...own, args }, globals);
    });
    return cmd;
  };

  // --- configuration and session -------------------------------------------------------------
  const config = program.command('config').description('read and change connection contexts');
  lazy(
    config
      .command('set')
      .description('set keys of a context (created when missing)')
      .option('--address <url>', 'Fleet server address, e.g. https://fleet.example.com:8080')
      .option('--email <email>', 'email of the user')
      .option('--token <token>', 'API token (leaks into shell history; prefer --token-stdin)')
      .option('--token-stdin', 'read the API token from stdin')
      .option('--rootca <file>', 'PEM file with the CA certificate(s) to trust')
      .option('--tls-skip-verify', 'do not verify the server certificate (dangerous)')
      .option('--no-tls-skip-verify', 'verify the server certificate again')
      .option('--url-prefix <prefix>', 'path prefix the server is mounted under')
      .option('--allow-insecure-http', 'allow http:// to a non-loopback address'),
    () => import('./commands/config.js').then((m) => ({ run: m.runSet })),
  );
  lazy(
    config.command('get').description('print a key (or every key) of the current context').argument('[key]'),
    () => import('./commands/config.js').then((m) => ({ run: m.runGet })),
    (args, opts) => ({ ...opts, key: args[0] }),
  );
  lazy(
    config.command('use-context').description('make a context the current one').argument('<name>'),
    () => import('./commands/config.js').then((m) => ({ run: m.runUseContext })),
    (args, opts) => ({ ...opts, name: args[0] }),
  );
  lazy(
    config.command('list').description('list the contexts').option('--json', 'JSON output'),
    () => import('./commands/config.js').then((m) => ({ run: m.runList })),
  );

  lazy(
    program
      .command('setup')
      .description('create the first admin on a fresh Fleet server')
      .option('--address <url>', 'server address (default: the context address)')
      .option('--email <email>', 'admin email')
      .option('--name <name>', 'admin full name')
      .option('--username <name>', 'admin username (Kolide; defaults to the email)')
      .option('--org-name <name>', 'organisation name')
      .option('--server-url <url>', 'the URL agents use to reach Fleet (default: the address; Kolide requires https)')
      .option('--password-stdin', 'read the password from stdin'),
    () => import('./commands/setup.js'),
  );
  lazy(
    program
      .command('login')
      .description('log in and store the token in the context')
      .option('--email <email>', 'email (or Kolide username)')
      .option('--password <password>', 'password (leaks into shell history; prefer --password-stdin)')
      .option('--password-stdin', 'read the password from stdin'),
    () => import('./commands/login.js'),
  );
  lazy(program.command('logout').description('log out on the server and remove the stored token'), () =>
    import('./commands/logout.js'),
  );
  lazy(
    program.command('whoami').description('the logged-in user, the server version and API dialect').option('--json', 'JSON output'),
    () => import('./commands/whoami.js'),
  );
  lazy(
    program.command('version').description('client and server versions').option('--json', 'JSON output'),
    () => import('./commands/version.js'),
  );

  // --- specs ------------------------------------------------------------------------------------
  lazy(
    program
      .command('apply')
      .description('apply queries, packs, labels, options and enroll secrets from YAML files or folders')
      .option('-f, --file <path>', 'file, folder or - for stdin (repeatable)', collect, [])
      .option('--dry-run', 'print the plan without applying it')
      .option('--detailed-exitcode', 'with --dry-run: exit 2 when the plan has changes')
      .option('--prune', 'also delete server objects of the applied kinds that the files no longer have')
      .option('--no-sql-check', 'do not refuse SQL that SQLite cannot parse (osfleet lint shows why)')
      .option('-y, --yes', 'do not ask for confirmation')
      .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text')),
    () => import('./commands/apply.js'),
  );
  lazy(
    program
      .command('get')
      .description('list or show queries, packs, labels, options, enroll secrets or hosts')
      .argument('<kind>', 'queries | packs | labels | options | enroll_secret | hosts | all (every re-appliable spec)')
      .argument('[name]', 'one object by name (hosts: hostname, uuid or id)')
      .option('--yaml', 'multi-document YAML (re-appliable)')
      .option('--json', 'one JSON object per line')
      .addOption(new Option('--format <format>', 'output format').choices(['table', 'json', 'yaml', 'csv', 'ndjson']))
      .option('--with-queries', 'packs: also print the queries they schedule')
      .option('--status <status>', 'hosts: online | offline | new | mia | missing')
      .option('--label <name>', 'hosts: only members of this label')
      .option('--search <text>', 'hosts: hostname, uuid, serial or IP contains this')
      .option('--tz <zone>', 'time zone for dates (IANA name)')
      .addOption(new Option('--time-format <format>', 'how dates are written').choices(['iso', 'long', 'utc', 'epoch'])),
    () => import('./commands/get.js'),
    (args, opts) => ({ ...opts, kind: args[0], name: args[1] }),
  );
  lazy(
    program
      .command('delete')
      .description('delete queries, packs or labels by name, or those in YAML files')
      .argument('[kind]', 'query | pack | label')
      .argument('[names...]', 'names to delete')
      .option('-f, --file <path>', 'delete what these files define (repeatable)', collect, [])
      .option('-y, --yes', 'do not ask for confirmation'),
    () => import('./commands/delete.js'),
    (args, opts) => ({ ...opts, kind: args[0], names: args[1] ?? [] }),
  );
  lazy(
    program
      .command('lint')
      .description('check spec files offline: structure, SQL syntax, tables and columns, platforms')
      .option('-f, --file <path>', 'file or folder (repeatable)', collect, [])
      .argument('[paths...]', 'files or folders')
      .option('--strict', 'treat warnings as errors')
      .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text')),
    () => import('./commands/lint.js'),
    (args, opts) => ({ ...opts, file: [...((opts['file'] as string[]) ?? []), ...((args[0] as string[]) ?? [])] }),
  );
  lazy(
    program
      .command('convert')
      .description('convert an osquery pack (.conf/.json) to query and pack documents')
      .option('-f, --file <path>', 'osquery pack file')
      .option('-o, --output <file>', 'write to this file instead of stdout'),
    () => import('./commands/convert.js'),
  );
  lazy(
    program
      .command('schema')
      .description("what osfleet knows of osquery's tables: columns, types, platforms, dates and uids")
      .argument('[table]', 'one table')
      .option('--json', 'JSON output')
      .option('--platform <platform>', 'only tables available on this platform'),
    () => import('./commands/schema.js'),
    (args, opts) => ({ ...opts, table: args[0] }),
  );

  // --- live queries and results -----------------------------------------------------------------
  const resultOptions = (cmd: Command) =>
    cmd
      .addOption(new Option('--format <format>', 'output format').choices(['table', 'ndjson', 'json', 'yaml', 'csv']))
      .option('-o, --output <file>', 'write the results to this file (atomically, mode 0600)')
      .option('--manifest <file>', 'write the evidence manifest here (default: <output>.manifest.json)')
      .addOption(new Option('--time-format <format>', 'how dates are written').choices(['iso', 'long', 'utc', 'epoch']).default('iso'))
      .option('--tz <zone>', 'time zone for dates (IANA name; default: the system zone)')
      .option('--keep-epoch', 'keep the raw value in <column>_epoch beside each date')
      .option('--time-columns <columns>', 'also convert these columns (comma-separated)')
      .option('--no-times', 'do not convert epoch columns to dates')
      .option('--no-usernames', 'do not add usernames for uid columns')
      .option('--enrich', 'enrich machine formats (json, ndjson, yaml) too')
      .option('--raw', 'no enrichment at all')
      .option('--csv-raw', 'CSV: do not neutralise spreadsheet formulas')
      .option('--bom', 'CSV: start with a UTF-8 byte-order mark (Excel)');

  lazy(
    resultOptions(
      program
        .command('query')
        .description('run a live query on hosts and collect every answer')
        .option('--hosts <list>', 'hostnames, uuids, serials or ids (comma-separated)')
        .option('--labels <list>', 'label names (comma-separated; union)')
        .option('--label-expr <expr>', "label algebra, e.g. 'macOS AND NOT servers'")
        .option('--all', 'every host')
        .option('--query <sql>', 'the SQL to run')
        .option('--query-name <name>', 'run a saved query by name')
        .option('--timeout <duration>', 'give up after this long (e.g. 90s, 5m; 0 = none)', '5m')
        .option('--exit', 'stop when every online host answered (the default)')
        .option('--wait-all', 'keep waiting for offline hosts until the timeout')
        .option('--ignore-unknown', 'skip unknown hosts and labels instead of stopping')
        .option('--resume <manifest>', "ask again the hosts of an earlier run that did not answer (offline, no response, error); appends to its output and updates its manifest")
        .addOption(new Option('--transport <transport>', 'how results come back').choices(['auto', 'ws', 'rest']).default('auto'))
        .option('-q, --quiet', 'no progress or status on stderr'),
    ),
    () => import('./commands/query.js'),
  );
  lazy(
    resultOptions(
      program
        .command('export')
        .description('convert NDJSON query results (osfleet or fleetctl) or osquery result logs to readable table, CSV, JSON or YAML')
        .argument('[files...]', 'NDJSON files or result logs, gzip too (default: stdin)')
        .option('--sql <sql>', 'the SQL the rows came from (finds date and uid columns by schema)')
        .option('--table <name>', 'the table the rows came from')
        .option('--from-manifest <file>', "read the SQL and targets from osfleet's manifest")
        .option('--users <file>', 'NDJSON of a `SELECT uid, username FROM users` query on the same hosts')
        .option('--usernames-from-server', 'run the users query against the hosts in the input')
        .option('--strict', 'stop at the first broken line')
        .option('--log', 'the input is an osquery result log (recognised by its first line otherwise; needed for stdin)')
        .option('--packs <paths>', 'result logs: pack files (YAML specs or osquery .conf) with the scheduled SQL (default: the server)')
        .option('--query <names>', 'result logs: only these scheduled queries (comma-separated)')
        .option('--since <time>', 'result logs: events at or after (2026-12-01, 2026-12-01T09:30Z, 7d)')
        .option('--until <time>', 'result logs: events before'),
    ),
    () => import('./commands/export.js'),
    (args, opts) => ({ ...opts, files: args[0] ?? [] }),
  );

  lazy(
    resultOptions(
      program
        .command('report')
        .description("FleetDM: the results the server kept of a scheduled query (its query report), as table, CSV, JSON or YAML")
        .argument('<query>', 'the saved query'),
    ),
    () => import('./commands/report.js'),
    (args, opts) => ({ ...opts, query: args[0] }),
  );

  // --- sandbox ------------------------------------------------------------------------------------
  const preview = program
    .command('preview')
    .description('start the embedded Fleet-compatible sandbox with simulated osquery hosts')
    .addOption(new Option('--dialect <dialect>', 'API generation to speak').choices(['fleet', 'kolide']).default('fleet'))
    .option('--port <port>', 'port on 127.0.0.1 (default: 8412, 0 = any free port)', '8412')
    .option('--hosts <n>', 'extra generated hosts besides the four of the story', '0')
    .option('--offline <n>', 'hosts that enrolled but stopped checking in', '0')
    .option('--slow <n>', 'hosts that answer late', '0')
    .option('--check-in <ms>', 'hosts check-in interval in milliseconds')
    .option('--data <dir>', 'keep the server state in this folder (default: in memory)')
    .option('--seed <n>', 'seed for the generated data', '1')
    .option('--detach', 'run in the background (see `preview status` and `preview stop`)')
    .option('--result-log <file>', "append the hosts' scheduled results here, as Fleet's filesystem logger (default: <data>/osquery_result)")
    .option('--time-factor <n>', 'run schedules n times faster (60: an hourly query every minute)')
    .option('--use', 'make the preview context the current one');
  lazy(preview, () => import('./commands/preview.js'));
  // `preview status --data X`: commander hands --data to whichever of preview and status parses it.
  const dataDir = (_args: unknown[], own: Record<string, unknown>, all: Record<string, unknown>) => ({ data: own['data'] ?? all['data'] });
  lazy(
    preview.command('status').description('is a detached sandbox running?').option('--data <dir>', 'its data folder'),
    () => import('./commands/preview.js').then((m) => ({ run: m.runStatus })),
    dataDir,
  );
  lazy(
    preview.command('stop').description('stop a detached sandbox').option('--data <dir>', 'its data folder'),
    () => import('./commands/preview.js').then((m) => ({ run: m.runStop })),
    dataDir,
  );

  lazy(
    program.command('demo').description("the story: sandbox, packs, who printed and copied what (writes leaks-*.csv)"),
    () => import('./commands/demo.js'),
  );

  // --- help topics --------------------------------------------------------------------------------
  program.addHelpCommand(false);
  program
    .command('help')
    .description('help on a command, or `help exit-codes`')
    .argument('[topic...]')
    .action((topic: string[]) => {
      if (topic.length === 1 && topic[0] === 'exit-codes') {
        io.out('Exit codes:\n');
        for (const [code, meaning] of EXIT_CODE_TABLE) io.out(`  ${String(code).padStart(3)}  ${meaning}\n`);
        return;
      }
      if (topic.length === 0) {
        program.outputHelp();
        return;
      }
      let cmd: Command | undefined = program;
      for (const t of topic) cmd = cmd?.commands.find((c) => c.name() === t || c.aliases().includes(t));
      if (!cmd) throw new CliError(`no help for "${topic.join(' ')}"`, { exitCode: ExitCode.usage });
      cmd.outputHelp();
    });
  program.addHelpText('after', '\nRun `osfleet help exit-codes` for the exit codes.\n');
  return program;
}
