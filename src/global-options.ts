/**
 * The options every command accepts, declared on the program (src/program.ts). Data alone, so that
 * the launcher (src/launch.ts) can step over them to find the command without loading the program.
 */
/** An option as the command data declares one (`OptionSpec` in src/commands/define.ts). */
export interface GlobalOptionSpec {
  flags: string;
  description: string;
  default?: boolean;
  complete?: 'file';
}

export const GLOBAL_OPTIONS: readonly GlobalOptionSpec[] = [
  { flags: '--context <name>', description: 'configuration context to use (env OSFLEET_CONTEXT)' },
  { flags: '--config <path>', description: 'configuration file (env OSFLEET_CONFIG)', complete: 'file' },
  { flags: '--debug', description: 'trace HTTP requests to stderr (secrets redacted)', default: false },
  { flags: '--no-color', description: 'disable colour' },
];

/**
 * The command line from the command on: what follows the global options given before it
 * (`--context prod get hosts` → `get hosts`; `--config=x.yml lint` → `lint`).
 */
export function afterGlobalOptions(argv: readonly string[]): readonly string[] {
  let i = 0;
  while (i < argv.length) {
    const [name, inline] = argv[i]!.split('=', 2);
    const option = GLOBAL_OPTIONS.find((o) => o.flags.split(' ')[0] === name);
    if (!option) break;
    i += option.flags.includes('<') && inline === undefined ? 2 : 1;
  }
  return argv.slice(i);
}
