/**
 * Output files that are never half-written: bytes go to a temporary file in the target's folder
 * (same filesystem, so rename is atomic), created 0600; `commit()` renames it into place, `abort()`
 * removes it. An interrupted query commits what it received (its writer closes the document first).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, rmSync, type WriteStream } from 'node:fs';
import { chmod, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { InputError } from '../errors.js';

export interface AtomicFile {
  /** The final path. */
  readonly path: string;
  readonly stream: WriteStream;
  commit(): Promise<void>;
  abort(): Promise<void>;
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
  const stream = createWriteStream(tmp, { flags: 'wx', mode, highWaterMark: 1 << 18 });
  await new Promise<void>((ok, fail) => {
    stream.once('open', () => ok());
    stream.once('error', (err) => fail(new InputError(`cannot write ${path}: ${describe(err)}`, { cause: err })));
  });
  let done = false;
  // A second Ctrl-C exits at once (process.exit): the half-written temporary must not stay behind.
  const onExit = () => rmSync(tmp, { force: true });
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
  };
}

/** Hex SHA-256 of a file's bytes, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
