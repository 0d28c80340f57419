/**
 * Where a command's results go (query and export): the checked writer of `-o` (`openOutput`), or
 * standard output; and what follows from it: whether a named output is watched by no terminal,
 * and where the evidence manifest goes by default.
 */
import type { Writable } from 'node:stream';
import { openOutput, type AtomicFile } from './atomic.js';

export interface Destination {
  /** The writer of `-o` (`-o -` included); undefined when there is no `-o`. */
  readonly file: AtomicFile | undefined;
  /** Where the formatter writes: the file's stream, or standard output. */
  readonly sink: Writable;
  /** A named output that is not standard output (a file, a device, a FIFO): no terminal watches it. */
  readonly toFile: boolean;
  /** A regular file replaced atomically: it gets a manifest beside it unless told where. */
  readonly manifestBeside: boolean;
}

/** Opens `output` (undefined: standard output) for the results. */
export async function openDestination(output: string | undefined, io: { stdout: Writable; cwd: string }): Promise<Destination> {
  const file = output !== undefined ? await openOutput(output, { stdout: io.stdout, cwd: io.cwd }) : undefined;
  return destinationOf(file, io.stdout);
}

/** What an opened output (or none) decides. */
export function destinationOf(file: AtomicFile | undefined, stdout: Writable): Destination {
  return {
    file,
    sink: file ? file.stream : stdout,
    toFile: file !== undefined && file.kind !== 'stdout',
    manifestBeside: file !== undefined && file.kind === 'replace',
  };
}

/** The manifest's path: `--manifest`, else `<output>.manifest.json` beside a regular file, else none. */
export function manifestPathOf(dest: Destination, flags: { manifest?: string | undefined; output?: string | undefined }): string | undefined {
  return flags.manifest ?? (dest.manifestBeside ? `${flags.output}.manifest.json` : undefined);
}
