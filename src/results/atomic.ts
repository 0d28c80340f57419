/**
 * Output files that are never half-written: bytes go to a temporary file in the target's folder
 * (same filesystem, so rename is atomic), created 0600; `commit()` renames it into place, `abort()`
 * removes it. An interrupted query commits what it received (its writer closes the document first).
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import { chmod, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { InputError } from '../errors.js';

export interface AtomicFile {
  /** The final path. */
  readonly path: string;
  readonly stream: fs.WriteStream;
  commit(): Promise<void>;
  abort(): Promise<void>;
  /** Hex SHA-256 of the bytes written, once committed (hashed on the way to disk, not re-read). */
  sha256(): string;
  /** Bytes written, once committed. */
  readonly bytes: number;
}

/**
 * The file system calls of a write stream, hashing exactly the bytes each call reports written
 * (a short write is retried by the stream with the rest, which is then hashed in turn).
 */
function hashingFs(hash: Hash) {
  return {
    open: fs.open,
    close: fs.close,
    write(fd: number, buffer: Buffer, offset: number, length: number, position: number | null, cb: (err: NodeJS.ErrnoException | null, written: number, buffer: Buffer) => void) {
      fs.write(fd, buffer, offset, length, position, (err, written, buf) => {
        if (!err && written > 0) hash.update(buffer.subarray(offset, offset + written));
        cb(err, written, buf);
      });
    },
    writev(fd: number, buffers: Buffer[], position: number | null, cb: (err: NodeJS.ErrnoException | null, written: number, buffers: Buffer[]) => void) {
      fs.writev(fd, buffers, position, (err, written, bufs) => {
        if (!err) {
          let left = written;
          for (let i = 0; i < buffers.length && left > 0; i++) {
            const b = buffers[i]!;
            hash.update(left >= b.length ? b : b.subarray(0, left));
            left -= b.length;
          }
        }
        cb(err, written, bufs as Buffer[]);
      });
    },
  };
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOENT':
      return 'no such folder';
    case 'ENOTDIR':
      return 'a part of the path is not a folder';
    case 'EISDIR':
      return 'it is a folder';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOSPC':
      return 'no space left on device';
    default:
      return e.message ?? String(err);
  }
}

export async function atomicFile(path: string, mode = 0o600): Promise<AtomicFile> {
  const target = resolve(path);
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  // Room for a few chunks, so formatting goes on while the previous one is on its way to disk.
  const hash = createHash('sha256');
  const stream = fs.createWriteStream(tmp, { flags: 'wx', mode, highWaterMark: 1 << 18, fs: hashingFs(hash) });
  let digest: string | undefined;
  await new Promise<void>((ok, fail) => {
    stream.once('open', () => ok());
    stream.once('error', (err) => fail(new InputError(`cannot write ${path}: ${describe(err)}`, { cause: err })));
  });
  let done = false;
  // A second Ctrl-C exits at once (process.exit): the half-written temporary must not stay behind.
  const onExit = () => fs.rmSync(tmp, { force: true });
  process.once('exit', onExit);
  const remove = () => {
    process.off('exit', onExit);
    return rm(tmp, { force: true });
  };
  return {
    path: target,
    stream,
    async commit() {
      if (done) return;
      done = true;
      try {
        await new Promise<void>((ok, fail) => {
          stream.once('error', fail);
          stream.end(() => ok());
        });
        digest = hash.digest('hex');
        await chmod(tmp, mode);
        await rename(tmp, target);
        process.off('exit', onExit);
      } catch (err) {
        await remove();
        throw new InputError(`cannot write ${path}: ${describe(err)}`, { cause: err });
      }
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
      return stream.bytesWritten;
    },
  };
}
