/**
 * Appending to an output written earlier (`query --resume`): its SHA-256 checked against the
 * manifest, its bytes copied first into the new atomic file, and CSV answers passed on under the
 * existing header (which the new header must equal).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { InputError } from '../errors.js';

/** The hex SHA-256 of a file's bytes. */
export async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The first line of a file (a CSV header), without its line end and BOM. */
export async function firstLine(path: string): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const text = buf.toString('utf8', 0, bytesRead).replace(/^\ufeff/, '');
    const end = text.indexOf('\n');
    return (end === -1 ? text : text.slice(0, end)).replace(/\r$/, '');
  } finally {
    await fh.close();
  }
}

/** Copies a file's bytes into `out`, byte for byte, waiting when it is full. */
export async function copyFileInto(path: string, out: Writable): Promise<void> {
  for await (const chunk of createReadStream(path)) {
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
}

/** Passes CSV on to `out` without its header line, which must be `expected`. */
export class WithoutHeader extends Writable {
  private head = '';
  private passed = false;
  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly expected: string,
    private readonly path: string,
  ) {
    super();
  }
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    let text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    if (!this.passed) {
      this.head += text;
      const end = this.head.indexOf('\n');
      if (end === -1) return cb();
      const header = this.head.slice(0, end).replace(/\r$/, '').replace(/^\ufeff/, '');
      if (header !== this.expected) return cb(new InputError(`${this.path}: the new answers have other columns (${header}) than the file (${this.expected}); nothing was appended`, { hint: 'resume with the same --keep-epoch/--no-usernames flags as the first run' }));
      this.passed = true;
      text = this.head.slice(end + 1);
      this.head = '';
    }
    if (text === '' || this.out.write(text)) cb();
    else this.out.once('drain', () => cb());
  }
}
