/**
 * A command as data: its name, a one-line summary, its arguments and options, a few real examples
 * and `run(options, ctx)`. The program builder (src/program.ts) turns these into the commander
 * program, the shell completion scripts (src/completion.ts) read the same data, and nothing else
 * knows about commander. A command module's own imports stay light (errors, types, node builtins):
 * `--help` loads every command module, so the API client, YAML, SQLite and the spinner are imported
 * inside `run`.
 */
import type { Ctx } from '../context.js';

/** A positional argument; its value lands in the options object under `key`. */
export interface ArgumentSpec {
  /** commander syntax: `<kind>`, `[name]`, `[files...]` */
  name: string;
  key: string;
  description?: string;
  /** For shell completion: the words it takes, or that it names files. */
  choices?: readonly string[];
  complete?: 'file';
}

export interface OptionSpec {
  /** commander syntax: `-f, --file <path>`, `--dry-run`, `--no-times` */
  flags: string;
  description: string;
  default?: string | boolean | readonly string[];
  /** The only values accepted (a usage error otherwise); completion offers them. */
  choices?: readonly string[];
  /** May be given more than once: the values collect into an array. */
  repeatable?: boolean;
  /** A whole number within these bounds, checked while parsing (a usage error otherwise). */
  integer?: { min: number; max: number };
  /** What the value names, for shell completion. */
  complete?: 'file' | 'directory';
}

export interface Example {
  /** The command line, starting with `osfleet`. */
  command: string;
  description: string;
}

export interface CommandSpec<O extends object = object> {
  name: string;
  summary: string;
  arguments?: readonly ArgumentSpec[];
  options?: readonly OptionSpec[];
  /** 1–3 command lines that work against `osfleet preview`, shown at the end of `--help`. */
  examples?: readonly Example[];
  /**
   * Options of the parent command this one also accepts (`preview status --data X`: commander hands
   * --data to whichever of the two parses it); the value comes from either.
   */
  inherit?: readonly string[];
  subcommands?: readonly CommandSpec[];
  /**
   * For commands whose --timeout is also their normal way to end (query): the hard deadline comes
   * this much later, so the command can write what it received.
   */
  deadlineGraceMs?: number;
  /** Absent on a group of subcommands (`config`). Returns the exit code (0 when void). */
  run?(options: O, ctx: Ctx): Promise<number | void>;
}

/** `--timeout` of every command that talks to a server (issue 16.4; README "Deadlines"). */
export const TIMEOUT_OPTION: OptionSpec = {
  flags: '--timeout <duration>',
  description: 'give up after this long, connecting and waiting included (e.g. 30s, 5m; env OSFLEET_TIMEOUT); exit 5',
};

/** Identity, for type inference: `export const command = defineCommand<QueryOptions>({ … })`. */
export function defineCommand<O extends object>(spec: CommandSpec<O>): CommandSpec<O> {
  return spec;
}
