/** Questions to a person at a terminal: secrets without echo, yes/no confirmations, stdin reads. */
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import type { IO } from './io.js';
import { UsageError } from './errors.js';
import { LIMITS, overLimit, readBounded } from './limits.js';

/**
 * Reads all of stdin (for --token-stdin / --password-stdin), without the trailing newline. A token
 * or password is short: more than a few KiB is refused before it is read further or sent anywhere.
 */
export async function readAllStdin(io: IO, signal?: AbortSignal): Promise<string> {
  const max = LIMITS.secretBytes.value;
  const bytes = await readBounded(io.stdin, { max, signal, onOver: () => overLimit('secretBytes', 'stdin', max) });
  return bytes.toString('utf8').replace(/\r?\n$/, '');
}

/** Asks one line on stderr; with `secret` the answer is not echoed. Requires a terminal. */
export async function ask(io: IO, question: string, opts: { secret?: boolean; flag?: string } = {}): Promise<string> {
  if (!io.stdinIsTTY) {
    throw new UsageError(
      `cannot ask "${question.replace(/[:\s]+$/, '')}": stdin is not a terminal`,
      opts.flag ? `pass it with ${opts.flag}` : undefined,
    );
  }
  let muted = false;
  const output = new Writable({
    write(chunk, _enc, cb) {
      if (!muted) io.stderr.write(chunk);
      cb();
    },
  });
  const rl = createInterface({ input: io.stdin, output, terminal: true });
  try {
    const answer = new Promise<string>((resolve) => rl.question(question, resolve));
    muted = Boolean(opts.secret);
    const value = await answer;
    if (opts.secret) io.stderr.write('\n');
    return value;
  } finally {
    rl.close();
  }
}

/** A yes/no question on a terminal; elsewhere `--yes` is required. */
export async function confirm(io: IO, question: string, opts: { yes: boolean }): Promise<boolean> {
  if (opts.yes) return true;
  if (!io.stdinIsTTY || !io.stderrIsTTY) {
    throw new UsageError(`${question.replace(/\?\s*$/, '')}: confirmation needed but there is no terminal`, 'pass --yes to confirm');
  }
  const answer = (await ask(io, `${question} [y/N] `)).trim().toLowerCase();
  return answer === 'y' || answer === 'yes';
}
