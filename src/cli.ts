/**
 * `main(argv)`: parses the command line with the program built from the command data
 * (src/program.ts, src/commands/), runs the command with a context, and turns every error into one
 * line and an exit code. `--version`, and `--help` into a pipe, are answered before this module is
 * read (src/launch.ts, src/quick.ts); here commander answers them, as for any other caller. Help
 * loads the command data but none of their dependencies (HTTP, YAML, SQLite, the spinner), and
 * reads no configuration.
 */
import type { CommanderError } from 'commander';
import { CliError, ExitCode, fileSystemError, isBrokenPipe } from './errors.js';
import type { IO } from './io.js';
import { terminalSafe } from './terminal.js';
import { createContext, type Ctx, type Env } from './context.js';
import { stdoutFailureMessage } from './quick.js';

/** For the launcher, before it makes its code cache (src/v8-flags.ts). */
export { restoreV8Flags } from './v8-flags.js';

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

export async function main(argv: string[], options: MainOptions = {}): Promise<number> {
  const env: Env = options.env ?? process.env;
  const wantsMachineOutput = argv.includes('--json') || argv.some((a, i) => a === '--format' && argv[i + 1] === 'json');
  const noColorFlag = argv.includes('--no-color') || wantsMachineOutput;
  const [commander, { systemIO }, { buildProgram, commandsToBuild }, { COMMANDS }] = await Promise.all([
    import('commander'),
    import('./io.js'),
    import('./program.js'),
    import('./commands/index.js'),
  ]);
  const io = options.io ?? systemIO(env, { noColor: noColorFlag });

  // Signals and the deadline: tests pass their own signal, real runs get SIGINT/SIGTERM/SIGHUP.
  const { startLifecycle, deadlineOf } = await import('./lifecycle.js');
  const life = startLifecycle({ external: options.signal, install: !options.signal, say: (line) => io.err(`${line}\n`) });
  const signal = life.signal;
  // A stdout that cannot take the output (a full disk, /dev/full, an I/O error) stops the command;
  // it is reported once the command has ended, whatever the command made of it. A closed pipe
  // (`| head`) is the reader's choice: the commands end quietly on it (isBrokenPipe).
  let stdoutFailure: Error | undefined;
  const onStdoutError = (err: Error) => {
    if (isBrokenPipe(err) || stdoutFailure) return;
    stdoutFailure = err;
    life.abort(new CliError(stdoutFailureMessage(err)));
  };
  io.stdout.on('error', onStdoutError);

  let ctx: Ctx | undefined;
  let exitCode: number = ExitCode.ok;
  let debug = argv.includes('--debug');
  const program = buildProgram(commander, commandsToBuild(argv, COMMANDS), io, async (spec, opts, globals) => {
    debug = globals.debug;
    ctx = createContext({
      io,
      env,
      globals,
      signal,
      main: (args, over) => main(args, over),
      ...(options.now ? { now: options.now } : {}),
      ...(options.cwd ? { cwd: options.cwd } : {}),
      ...(options.api ? { api: options.api } : {}),
    });
    if (spec.endsOnSignal) life.signalEndsNormally();
    const deadline = deadlineOf(opts['timeout'], env, spec.deadlineGraceMs);
    if (deadline) life.arm(deadline.ms, deadline.what);
    ctx.debug(`pid ${process.pid}: SIGINT, SIGTERM and SIGHUP handled${deadline ? `; deadline ${deadline.what}` : ''}`);
    const code = spec.run ? await spec.run(opts, ctx) : undefined;
    exitCode = typeof code === 'number' ? code : ExitCode.ok;
  });

  let deadlineReported = false;
  try {
    // fleetctl's `--flag=true` / `--flag=false` for boolean flags (urfave/cli takes them).
    const { booleanFlagValues } = await import('./argv.js');
    await program.parseAsync(booleanFlagValues(program, argv), { from: 'user' });
  } catch (err) {
    if (!stdoutFailure) exitCode = reportError(err, io, { debug, json: wantsMachineOutput, CommanderError: commander.CommanderError });
    if (err === life.expired) deadlineReported = true;
  } finally {
    // Flushed, so that a failure of the last writes (reported on a later tick) is seen here.
    await new Promise<void>((resolve) => io.stdout.write('', () => setImmediate(resolve)));
    io.stdout.off('error', onStdoutError);
    if (stdoutFailure) exitCode = reportError(new CliError(stdoutFailureMessage(stdoutFailure), { hint: 'write to a file with -o, or free some space' }), io, { debug, json: wantsMachineOutput });
    if (ctx) await ctx.close();
    life.dispose();
  }
  // The deadline ended the command (which may only have seen an abort): say so once.
  if (life.expired && !life.received && !deadlineReported && exitCode !== ExitCode.ok) reportError(life.expired, io, { debug: false, json: wantsMachineOutput });
  const final = life.finalCode(exitCode);
  life.leave(final);
  return final;
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
    if (opts.json) {
      io.err(JSON.stringify({ error: err.message, ...(err.hint ? { hint: err.hint } : {}), exit_code: err.exitCode }) + '\n');
    } else {
      // Messages carry names from files and servers: escaped, so they cannot drive the terminal.
      io.err(`${io.errColor.red('Error:')} ${terminalSafe(err.message)}\n`);
      if (err.hint) io.err(`${io.errColor.dim('Hint:')} ${terminalSafe(err.hint)}\n`);
    }
    if (opts.debug && err.stack) io.err(`${err.stack}\n`);
    return err.exitCode;
  }
  // A file the user named (or one beside it) that cannot be read or written: their environment, not a bug.
  const fsError = fileSystemError(err);
  if (fsError) return reportError(fsError, io, opts);
  const e = err instanceof Error ? err : new Error(String(err));
  io.err(`${io.errColor.red('Error:')} unexpected failure: ${terminalSafe(e.message)}\n`);
  io.err(opts.debug ? `${e.stack}\n` : 'Run again with --debug for the stack trace; please report it.\n');
  return ExitCode.error;
}
