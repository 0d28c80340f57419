/**
 * The one small builder that turns the command data (src/commands/*.ts, see define.ts) into the
 * commander program. The only module besides cli.ts that knows commander; it imports no command's
 * dependencies, so `--help` stays light.
 */
import type { Argument as CommanderArgument, Command, Option as CommanderOption } from 'commander';
import { CliError, EXIT_CODE_TABLE, ExitCode } from './errors.js';
import type { IO } from './io.js';
import type { GlobalOptions } from './context.js';
import type { CommandSpec, Example, OptionSpec } from './commands/define.js';
import { clientVersion } from './version.js';
import { afterGlobalOptions, GLOBAL_OPTIONS } from './global-options.js';
import type { Shell } from './completion.js';

/** The completion scripts' shells (listed here so --help does not load the generator). */
const SHELLS: readonly Shell[] = ['bash', 'zsh', 'fish'];

/** The builder's own commands, as data for help and completion. */
const COMPLETION: CommandSpec = {
  name: 'completion',
  summary: 'print a shell completion script (bash, zsh or fish)',
  arguments: [{ name: '<shell>', key: 'shell', choices: SHELLS }],
  examples: [
    { command: 'source <(osfleet completion bash)', description: 'complete osfleet in this bash session (add it to ~/.bashrc to keep it)' },
    { command: 'osfleet completion zsh > "${fpath[1]}/_osfleet"', description: 'install for zsh' },
    { command: 'osfleet completion fish > ~/.config/fish/completions/osfleet.fish', description: 'install for fish' },
  ],
};
const BUILTINS: readonly CommandSpec[] = [
  { name: 'help', summary: 'help on a command, or `help exit-codes`' },
  COMPLETION,
];

export type Runner = (spec: CommandSpec, options: Record<string, unknown>, globals: GlobalOptions) => Promise<void>;

interface Commander {
  Command: typeof Command;
  Option: typeof CommanderOption;
  Argument: typeof CommanderArgument;
  InvalidArgumentError: new (message: string) => Error;
}

export const PROGRAM_SUMMARY = 'Manage osquery fleets through a Fleet server (Kolide Fleet 3.x or FleetDM 4.x)';

export function examplesText(examples: readonly Example[]): string {
  const lines = ['', 'Examples:'];
  for (const e of examples) lines.push(`  # ${e.description}`, `  $ ${e.command}`);
  return `${lines.join('\n')}\n`;
}

function toOption(commander: Commander, spec: OptionSpec): CommanderOption {
  const opt = new commander.Option(spec.flags, spec.description);
  if (spec.choices) opt.choices(spec.choices);
  if (spec.repeatable) {
    opt.argParser((value: string, previous: unknown) => [...(Array.isArray(previous) ? (previous as string[]) : []), value]);
  }
  if (spec.integer) {
    const { min, max } = spec.integer;
    opt.argParser((value: string) => {
      if (!/^\s*-?\d+\s*$/.test(value)) throw new commander.InvalidArgumentError(`not a whole number (${min}–${max})`);
      const n = Number(value);
      if (n < min || n > max) throw new commander.InvalidArgumentError(`must be between ${min} and ${max}`);
      // Kept as typed: the command's options stay strings (they are also read from files and env).
      return value.trim();
    });
  }
  if (spec.default !== undefined) opt.default(Array.isArray(spec.default) ? [...spec.default] : spec.default);
  return opt;
}

function addCommand(commander: Commander, parent: Command, spec: CommandSpec, runner: Runner): void {
  const cmd = parent.command(spec.name).description(spec.summary);
  cmd.exitOverride();
  for (const a of spec.arguments ?? []) cmd.argument(a.name, a.description ?? '');
  for (const o of spec.options ?? []) cmd.addOption(toOption(commander, o));
  if (spec.examples?.length) cmd.addHelpText('after', examplesText(spec.examples));
  for (const sub of spec.subcommands ?? []) addCommand(commander, cmd, sub, runner);
  const run = spec.run;
  if (!run) return;
  cmd.action(async (...actionArgs: unknown[]) => {
    const self = actionArgs[actionArgs.length - 1] as Command;
    const args = actionArgs.slice(0, -2);
    const all = self.optsWithGlobals<Record<string, unknown>>();
    const globals: GlobalOptions = {
      context: typeof all['context'] === 'string' ? all['context'] : undefined,
      config: typeof all['config'] === 'string' ? all['config'] : undefined,
      debug: Boolean(all['debug']),
      color: all['color'] !== false,
    };
    const options: Record<string, unknown> = { ...self.opts<Record<string, unknown>>() };
    (spec.arguments ?? []).forEach((a, i) => {
      options[a.key] = args[i] ?? (a.name.endsWith('...]') || a.name.endsWith('...>') ? [] : undefined);
    });
    for (const key of spec.inherit ?? []) options[key] ??= all[key];
    await runner(spec, options, globals);
  });
}

/**
 * The commands a command line needs built: the one it names (after any global options), with its options and
 * subcommands, else all of them (the top-level help, the suggestion for a mistyped command).
 * Building every command's options cost each `lint` about 2 ms.
 */
export function commandsToBuild(argv: readonly string[], specs: readonly CommandSpec[]): readonly CommandSpec[] {
  const first = afterGlobalOptions(argv)[0];
  const named = specs.find((spec) => spec.name === first);
  return named ? [named] : specs;
}

export function buildProgram(commander: Commander, specs: readonly CommandSpec[], io: IO, runner: Runner): Command {
  const program = new commander.Command('osfleet');
  program.description(PROGRAM_SUMMARY).version(clientVersion(), '-V, --version', 'print the client version');
  for (const o of GLOBAL_OPTIONS) program.addOption(toOption(commander, o));
  program
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s),
      writeErr: (s) => io.err(s),
      outputError: (s, write) => write(io.errColor.red(s)),
    });
  for (const spec of specs) addCommand(commander, program, spec, runner);

  // --- help topics --------------------------------------------------------------------------------
  program.helpCommand(false);
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
  program
    .command('completion')
    .description(COMPLETION.summary)
    .addArgument(new commander.Argument('<shell>', 'bash | zsh | fish').choices(SHELLS))
    .addHelpText('after', examplesText(COMPLETION.examples ?? []))
    .action(async (shell: Shell) => {
      const { completionScript, completionTree } = await import('./completion.js');
      io.out(completionScript(shell, completionTree(specs, GLOBAL_OPTIONS, PROGRAM_SUMMARY, BUILTINS)));
    });
  program.addHelpText('after', '\nRun `osfleet help exit-codes` for the exit codes.\n');
  return program;
}
