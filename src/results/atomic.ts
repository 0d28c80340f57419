/**
 * The one writer of every output file (`-o` of query, export and convert, and the manifests).
 *
 * - A new path, or an existing regular file: bytes go to a temporary file in the target's folder
 *   (same filesystem, so the rename is atomic), created 0600. `commit()` syncs, closes and renames
 *   it into place; an existing file keeps its owner and mode (or is refused, untouched, when its
 *   owner cannot be given to the new file). `abort()` removes the temporary file.
 * - A symlink is followed: its target is written (the link itself stays a link).
 * - Something that is not a regular file (a device, a FIFO, `/dev/stdout`, `/dev/fd/N`) is written
 *   through in place: it cannot be replaced, and must not be.
 * - `-` is standard output.
 *
 * Every write, the final sync, the close and the rename are checked: a failure (ENOSPC, EIO,
 * EDQUOT…) is an OutputError naming the file (exit 1); the temporary file is removed and an
 * existing file is left as it was. The bytes are hashed on their way out (SHA-256 for the manifest).
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import { access, lstat, readlink, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { CliError, ExitCode } from '../errors.js';

/** An output file could not be written: names the file and the cause (exit 1). */
export class OutputError extends CliError {
  constructor(message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, { exitCode: ExitCode.error, ...opts });
  }
}

/** How the output reaches its path. */
export type OutputKind = 'replace' | 'in-place' | 'stdout';

export interface AtomicFile {
  /** The final path (a symlink's target), or null for stdout. */
  readonly path: string | null;
  /** The path as given, for messages. */
  readonly name: string;
  readonly kind: OutputKind;
  readonly stream: Writable;
  commit(): Promise<void>;
  abort(): Promise<void>;
  /** Hex SHA-256 of the bytes written, once committed (hashed on the way out, not re-read). */
  sha256(): string;
  /** Bytes written. */
  readonly bytes: number;
}

export interface OutputOptions {
  /** The mode of a new file (an existing one keeps its own). Default 0600. */
  mode?: number | undefined;
  /** Where `-` writes. Without it, `-` is refused. */
  stdout?: Writable | undefined;
  /** Relative paths are resolved against this. */
  cwd?: string | undefined;
}

const CODES: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOENT: 'no such folder',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'it is a folder',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EIO: 'input/output error',
  EFBIG: 'file too large',
  ENXIO: 'no process is reading it',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'the name is too long',
};

/** The cause of a file system error in words, with its code: "no space left on device (ENOSPC)". */
export function describeFsError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const text = e.code ? CODES[e.code] : undefined;
  return text ? `${text} (${e.code})` : (e.message ?? String(err));
}

function failure(name: string, err: unknown, what = 'cannot write'): OutputError {
  if (err instanceof OutputError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  const hint =
    code === 'ENOSPC' || code === 'EDQUOT'
      ? `nothing was left at ${name}; free some space or choose another -o`
      : code === 'EIO'
        ? `the device reported an error; nothing was left at ${name}`
        : undefined;
  return new OutputError(`${what} ${name}: ${describeFsError(err)}`, { cause: err, ...(hint ? { hint } : {}) });
}

const p = <T>(fn: (cb: (err: NodeJS.ErrnoException | null, v: T) => void) => void) =>
  new Promise<T>((ok, fail) => fn((err, v) => (err ? fail(err) : ok(v))));

/** Writes all of `buf` (a short write is continued), hashing exactly the bytes written. */
async function writeAll(fd: number, buf: Buffer, hash: Hash): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const n = await p<number>((cb) => fs.write(fd, buf, off, buf.length - off, null, cb));
    if (n <= 0) throw Object.assign(new Error('the write made no progress'), { code: 'EIO' });
    hash.update(buf.subarray(off, off + n));
    off += n;
  }
}

/** Strings up to this size are encoded into the writer's one reused buffer (larger ones get their own). */
const SCRATCH_BYTES = 1 << 18;

/**
 * A Writable over a file descriptor whose every write, sync and close is checked. Text is encoded
 * into one buffer the writer keeps and reuses (writes are sequential), not into a new Buffer per
 * chunk: an export writes hundreds of megabytes, and a fresh Buffer per chunk is external memory
 * V8 frees only when a collection happens to find its wrapper dead, which in a long run lets tens
 * of megabytes of written-out bytes wait in memory (issue 19.3).
 */
class FdWriter extends Writable {
  bytes = 0;
  private fd: number | undefined;
  private scratch: Buffer | undefined;
  constructor(
    fd: number,
    private readonly hash: Hash,
    private readonly name: string,
    /** fsync errors that only mean "this kind of file cannot be synced" are fine (devices, FIFOs). */
    private readonly lenientSync: boolean,
  ) {
    // Room for a few chunks, so formatting goes on while the previous one is on its way to disk.
    super({ highWaterMark: 1 << 18, decodeStrings: false });
    this.fd = fd;
  }
  override _write(chunk: Buffer | string, enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.put(this.bytesOf([{ chunk, encoding: enc }])).then(() => cb(), (err: unknown) => cb(failure(this.name, err)));
  }
  override _writev(chunks: Array<{ chunk: Buffer | string; encoding: BufferEncoding }>, cb: (err?: Error | null) => void): void {
    this.put(this.bytesOf(chunks)).then(() => cb(), (err: unknown) => cb(failure(this.name, err)));
  }
  /** The chunks as one buffer: the reused one when they fit, else a new one (a chunk larger than it). */
  private bytesOf(chunks: ReadonlyArray<{ chunk: Buffer | string; encoding: BufferEncoding }>): Buffer {
    if (chunks.length === 1 && typeof chunks[0]!.chunk !== 'string') return chunks[0]!.chunk;
    let size = 0;
    for (const c of chunks) size += typeof c.chunk === 'string' ? Buffer.byteLength(c.chunk, c.encoding) : c.chunk.length;
    if (size > SCRATCH_BYTES) return Buffer.concat(chunks.map((c) => (typeof c.chunk === 'string' ? Buffer.from(c.chunk, c.encoding) : c.chunk)), size);
    const buf = (this.scratch ??= Buffer.allocUnsafeSlow(SCRATCH_BYTES));
    let off = 0;
    for (const c of chunks) off += typeof c.chunk === 'string' ? buf.write(c.chunk, off, c.encoding) : c.chunk.copy(buf, off);
    return buf.subarray(0, off);
  }
  private async put(buf: Buffer): Promise<void> {
    if (this.fd === undefined) throw new Error('closed');
    await writeAll(this.fd, buf, this.hash);
    this.bytes += buf.length;
  }
  override _final(cb: (err?: Error | null) => void): void {
    const fd = this.fd!;
    p<void>((c) => fs.fsync(fd, (e) => c(e, undefined)))
      .catch((err: NodeJS.ErrnoException) => {
        if (this.lenientSync && (err.code === 'EINVAL' || err.code === 'ENOTSUP' || err.code === 'EROFS')) return;
        throw err;
      })
      .then(
        () => {
          this.fd = undefined;
          return p<void>((c) => fs.close(fd, (e) => c(e, undefined)));
        },
        async (err: unknown) => {
          this.fd = undefined;
          await p<void>((c) => fs.close(fd, (e) => c(e, undefined))).catch(() => undefined);
          throw err;
        },
      )
      .then(() => cb(), (err: unknown) => cb(failure(this.name, err)));
  }
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const fd = this.fd;
    this.fd = undefined;
    if (fd === undefined) return cb(err);
    fs.close(fd, () => cb(err));
  }
}

/** Standard output, hashed on the way; never ended (other text may follow). */
class StdoutWriter extends Writable {
  bytes = 0;
  constructor(
    private readonly out: Writable,
    private readonly hash: Hash,
  ) {
    super({ highWaterMark: 1 << 18 });
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    this.out.write(chunk, (err) => cb(err ?? null));
  }
}

const STDOUT_NAMES = new Set(['/dev/stdout', '/dev/fd/1', '/proc/self/fd/1']);

const isProcLink = (target: string) => target.startsWith('/proc/') || target.startsWith('/dev/fd/');

/**
 * Where and how a path is written: the final path (symlinks followed), and whether it is replaced
 * (new or regular file) or written through (anything else).
 */
async function locate(abs: string): Promise<{ path: string; kind: 'replace' | 'in-place'; existing: fs.Stats | undefined }> {
  // /dev/fd/N, /proc/self/fd/N: a descriptor the caller already opened (a shell redirection).
  if (isProcLink(abs)) return { path: abs, kind: 'in-place', existing: undefined };
  try {
    if ((await realpath(dirname(abs))).startsWith('/proc/')) return { path: abs, kind: 'in-place', existing: undefined };
  } catch {
    // the folder is checked when the file is created
  }
  let cur = abs;
  for (let hops = 0; hops < 40; hops++) {
    let st: fs.Stats;
    try {
      st = await lstat(cur);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { path: cur, kind: 'replace', existing: undefined };
      throw err;
    }
    if (st.isSymbolicLink()) {
      const link = await readlink(cur);
      const next = resolve(dirname(cur), link);
      if (isProcLink(next)) return { path: abs, kind: 'in-place', existing: undefined };
      cur = next;
      continue;
    }
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (!st.isFile()) return { path: cur, kind: 'in-place', existing: st };
    // A regular file reached through links: the real path, so the rename lands beside it.
    return { path: cur === abs ? abs : await realpath(cur), kind: 'replace', existing: st };
  }
  throw Object.assign(new Error('too many symbolic links'), { code: 'ELOOP' });
}

/** Opens `name` for writing (see the module comment for what each kind of path gets). */
export async function openOutput(name: string, opts: OutputOptions = {}): Promise<AtomicFile> {
  const hash = createHash('sha256');
  let digest: string | undefined;
  // Standard output by its Linux names: the stream itself (a socket or a terminal cannot be reopened).
  if (name === '-' || (opts.stdout && STDOUT_NAMES.has(name))) {
    if (!opts.stdout) throw new OutputError(`${name}: standard output is not available here`);
    const stream = new StdoutWriter(opts.stdout, hash);
    let failed: Error | undefined;
    stream.on('error', (e) => (failed ??= e));
    return {
      path: null,
      name: 'standard output',
      kind: 'stdout',
      stream,
      async commit() {
        if (failed) throw failed;
        await new Promise<void>((ok, fail) => stream.end((err?: Error | null) => (err ? fail(err) : ok())));
        digest = hash.digest('hex');
      },
      async abort() {
        stream.destroy();
      },
      sha256() {
        if (digest === undefined) throw new Error('sha256() before commit()');
        return digest;
      },
      get bytes() {
        return stream.bytes;
      },
    };
  }

  const abs = resolve(opts.cwd ?? process.cwd(), name);
  let where: Awaited<ReturnType<typeof locate>>;
  try {
    where = await locate(abs);
  } catch (err) {
    throw failure(name, err);
  }

  if (where.kind === 'in-place') return openInPlace(name, where.path, where.existing, hash);

  const target = where.path;
  const existing = where.existing;
  // A file its owner made read-only is not replaced behind their back (rename would allow it).
  if (existing) {
    try {
      await access(target, fs.constants.W_OK);
    } catch (err) {
      throw new OutputError(`cannot replace ${name}: it is not writable (${(err as NodeJS.ErrnoException).code ?? 'EACCES'}, mode ${(existing.mode & 0o7777).toString(8).padStart(4, '0')})`, {
        hint: `${name} was left as it was; make it writable, remove it, or choose another -o`,
      });
    }
  }
  const mode = existing ? existing.mode & 0o7777 : (opts.mode ?? 0o600);
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number;
  try {
    fd = await p<number>((cb) => fs.open(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600, cb));
  } catch (err) {
    throw failure(name, err);
  }
  // A second Ctrl-C exits at once (process.exit): the half-written temporary must not stay behind.
  const onExit = () => fs.rmSync(tmp, { force: true });
  process.once('exit', onExit);
  const remove = async () => {
    await rm(tmp, { force: true });
    process.off('exit', onExit);
  };
  // The new file gets the old one's owner (then mode: chown clears set-id bits), or nothing is done.
  try {
    if (existing && (existing.uid !== process.geteuid?.() || existing.gid !== process.getegid?.())) {
      await p<void>((cb) => fs.fchown(fd, existing.uid, existing.gid, (e) => cb(e, undefined))).catch((err: NodeJS.ErrnoException) => {
        throw new OutputError(
          `cannot replace ${name}: it belongs to uid ${existing.uid} (gid ${existing.gid}) and the new file could not be given that owner (${err.code ?? err.message})`,
          { hint: `${name} was left as it was; remove it first, or choose another -o` },
        );
      });
    }
    await p<void>((cb) => fs.fchmod(fd, mode, (e) => cb(e, undefined)));
  } catch (err) {
    fs.closeSync(fd);
    await remove();
    throw failure(name, err);
  }
  const stream = new FdWriter(fd, hash, name, false);
  let failed: Error | undefined;
  stream.on('error', (e) => (failed ??= e));
  let done = false;
  return {
    path: target,
    name,
    kind: 'replace',
    stream,
    async commit() {
      if (done) return;
      done = true;
      try {
        if (failed) throw failed;
        await new Promise<void>((ok, fail) => stream.end((err?: Error | null) => (err ? fail(err) : ok())));
        if (failed) throw failed;
        digest = hash.digest('hex');
        await rename(tmp, target);
        process.off('exit', onExit);
      } catch (err) {
        stream.destroy();
        await remove();
        throw failure(name, err);
      }
      // The rename is durable once the folder is synced; a folder that cannot be synced is no failure.
      await syncFolder(dirname(target));
    },
    async abort() {
      if (done) return;
      done = true;
      stream.destroy();
      await remove();
    },
    sha256() {
      if (digest === undefined) throw new Error('sha256() before commit()');
      return digest;
    },
    get bytes() {
      return stream.bytes;
    },
  };
}

/** Kept for callers that name the mode only. */
export function atomicFile(path: string, mode = 0o600): Promise<AtomicFile> {
  return openOutput(path, { mode, stdout: process.stdout });
}

async function syncFolder(dir: string): Promise<void> {
  try {
    const fd = await p<number>((cb) => fs.open(dir, 'r', cb));
    await p<void>((cb) => fs.fsync(fd, (e) => cb(e, undefined))).catch(() => undefined);
    await p<void>((cb) => fs.close(fd, (e) => cb(e, undefined))).catch(() => undefined);
  } catch {
    // not every file system lets a folder be opened
  }
}

async function openInPlace(name: string, path: string, st: fs.Stats | undefined, hash: Hash): Promise<AtomicFile> {
  const { O_WRONLY, O_APPEND, O_NONBLOCK } = fs.constants;
  let fd: number;
  try {
    const info = st ?? (await stat(path));
    if (info.isSocket()) throw new OutputError(`cannot write ${name}: it is a socket`);
    if (info.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (info.isFIFO()) {
      // Opening a FIFO for writing waits for a reader, forever if none comes: ask without waiting
      // first (ENXIO when nobody reads), then open it for blocking writes.
      const probe = await p<number>((cb) => fs.open(path, O_WRONLY | O_NONBLOCK, cb));
      fd = await p<number>((cb) => fs.open(path, O_WRONLY, cb));
      fs.closeSync(probe);
    } else {
      // A regular file behind /dev/stdout or /dev/fd/N is the caller's redirection: appended to,
      // never truncated (`>>` must keep what was there). Devices ignore both flags.
      fd = await p<number>((cb) => fs.open(path, info.isFile() ? O_WRONLY | O_APPEND : O_WRONLY, cb));
    }
  } catch (err) {
    throw failure(name, err);
  }
  const stream = new FdWriter(fd, hash, name, true);
  let failed: Error | undefined;
  stream.on('error', (e) => (failed ??= e));
  let digest: string | undefined;
  let done = false;
  return {
    path,
    name,
    kind: 'in-place',
    stream,
    async commit() {
      if (done) return;
      done = true;
      if (failed) throw failed;
      try {
        await new Promise<void>((ok, fail) => stream.end((err?: Error | null) => (err ? fail(err) : ok())));
      } catch (err) {
        throw failure(name, err);
      }
      if (failed) throw failed;
      digest = hash.digest('hex');
    },
    async abort() {
      if (done) return;
      done = true;
      stream.destroy();
    },
    sha256() {
      if (digest === undefined) throw new Error('sha256() before commit()');
      return digest;
    },
    get bytes() {
      return stream.bytes;
    },
  };
}
