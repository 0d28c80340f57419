/**
 * The answers that need none of the program: `--version`, and `--help` into a pipe (the text
 * commander prints there, rendered at build time into bundle/help.txt). src/launch.ts gives them
 * before it reads the bundle; a caller of `main` (src/cli.ts) gets commander's, the same text.
 */
import { ExitCode, isBrokenPipe } from './errors.js';
import { clientVersion, prerenderedHelp } from './version.js';

/** The text to print for `argv` without loading anything, or undefined when the program must run. */
export function quickAnswer(argv: readonly string[], stdoutIsTerminal: boolean): string | undefined {
  if (argv.length !== 1) return undefined;
  // `osfleet --version` runs thousands of times a day from scripts.
  if (argv[0] === '--version' || argv[0] === '-V') return `${clientVersion()}\n`;
  // Into a pipe (scripts, `| less`, completion helpers): a terminal gets commander's, at its width.
  if ((argv[0] === '--help' || argv[0] === '-h') && !stdoutIsTerminal) return prerenderedHelp();
  return undefined;
}

/** Writes `text` to stdout; a failure to write it is the command's failure (a closed pipe is not). */
export async function writeStdout(text: string): Promise<number> {
  const failure = await new Promise<Error | null | undefined>((resolve) => {
    process.stdout.once('error', resolve);
    process.stdout.write(text, resolve);
  });
  if (!failure || isBrokenPipe(failure)) return ExitCode.ok;
  process.stderr.write(`Error: ${stdoutFailureMessage(failure)}\n`);
  return ExitCode.error;
}

export function stdoutFailureMessage(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  const why: Record<string, string> = {
    ENOSPC: 'no space left on device',
    EDQUOT: 'disk quota exceeded',
    EFBIG: 'file too large',
    EIO: 'input/output error',
  };
  return `cannot write the output to stdout: ${(code && why[code]) ?? err.message}${code ? ` (${code})` : ''}`;
}
