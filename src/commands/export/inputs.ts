/**
 * `osfleet export`'s inputs: each opened up front (a gzip-compressed file through gunzip)
 * and hashed as it is read (the manifest records each input's SHA-256), a first pass for their hosts,
 * and stdin kept in a private temporary file when it must be read twice.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { finished, pipeline as streamPipeline } from 'node:stream/promises';
import type { Ctx } from '../../context.js';
import { InputError } from '../../errors.js';
import type { BadLine, HostResult } from '../../results/index.js';
import { gunzipIfCompressed, startsWithGzip } from '../../results/osquery-log.js';
import { INPUT_CHUNK_BYTES } from '../../results/memory.js';

/** Reads one input: query results or a result log. */
export type Reader = (input: AsyncIterable<Buffer | string>, o: { source: string; strict?: boolean | undefined; onBadLine?: (b: BadLine) => void; signal?: AbortSignal }) => AsyncGenerator<HostResult>;

/** An input stream, hashed as it is read (the manifest records each input's SHA-256). */
export interface Input {
  path: string;
  stream: Readable;
  hash: Hash;
  bytes: number;
}

/** How an input is named in messages and the manifest: `-` is stdin. */
export const sourceName = (path: string) => (path === '-' ? 'stdin' : path);

async function openStream(path: string, ctx: Ctx): Promise<Readable> {
  if (path === '-') return ctx.io.stdin;
  // Opened up front so a missing file fails before any output exists.
  let fh: FileHandle | undefined;
  try {
    fh = await open(path, 'r');
    // A folder opens on Linux and fails only on the first read, without its name.
    if ((await fh.stat()).isDirectory()) throw Object.assign(new Error('is a folder'), { code: 'EISDIR', path });
    // Rotated logs and archived results are often gzip-compressed: a regular file starting with
    // gzip's magic bytes is read through gunzip (pipes and devices are read as they are).
    const gz = await startsWithGzip(fh);
    // Small pieces: each is garbage once its lines are cut, and a small one dies young (issue 19.3).
    const raw = createReadStream('', { fd: fh, autoClose: true, highWaterMark: INPUT_CHUNK_BYTES });
    return gz ? gunzipIfCompressed(raw, path) : raw;
  } catch (err) {
    // Closed here, not left to the garbage collector (which warns, and may be never).
    await fh?.close().catch(() => undefined);
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`);
  }
}

/** Opens an input (`-`: stdin), its hash and byte count at zero. */
export async function openInput(path: string, ctx: Ctx): Promise<Input> {
  return { path, stream: await openStream(path, ctx), hash: createHash('sha256'), bytes: 0 };
}

/** The bytes of an input, counted and hashed on their way to the reader. */
export async function* hashed(input: Input): AsyncGenerator<Buffer> {
  for await (const chunk of input.stream) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    input.hash.update(b);
    input.bytes += b.length;
    yield b;
  }
}

/** Closes the inputs opened (stdin stays open: it is not ours). */
export async function closeInputs(inputs: readonly Input[], ctx: Ctx): Promise<void> {
  // destroy() closes the file later: wait for it, so no descriptor outlives the command's work.
  await Promise.all(inputs.filter((i) => i.stream !== ctx.io.stdin).map((i) => finished(i.stream.destroy()).catch(() => undefined)));
}

/** The distinct hosts of NDJSON inputs (broken lines are reported by the real pass). */
export async function hostsOf(paths: readonly string[], ctx: Ctx, reader: Reader): Promise<string[]> {
  const hosts = new Set<string>();
  for (const p of paths) {
    const input = await openInput(p, ctx);
    try {
      for await (const r of reader(input.stream, { source: p, signal: ctx.signal })) hosts.add(r.host);
    } finally {
      await closeInputs([input], ctx);
    }
  }
  return [...hosts].sort();
}

/**
 * Stdin copied into a private temporary folder (mode 0600), to be read twice; the paths with `-`
 * replaced by the copy. The caller removes `dir`.
 */
export async function keepStdin(paths: readonly string[], ctx: Ctx): Promise<{ paths: string[]; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'osfleet-export-'));
  const copy = join(dir, 'stdin.ndjson');
  await streamPipeline(ctx.io.stdin, createWriteStream(copy, { mode: 0o600 }), { signal: ctx.signal });
  return { paths: paths.map((f) => (f === '-' ? copy : f)), dir };
}
