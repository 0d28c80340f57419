/**
 * The file-system side of reading specs: files, folders (recursive, `.yml`/`.yaml`, sorted) and `-`
 * for stdin. The file system is injected, so tests run it on a table of fake paths; commands pass
 * `nodeLoadIO(ctx)`.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { diag } from './diagnostics.js';
import { InterruptedError } from '../errors.js';
import { LIMITS, limit, readBounded, sizeText } from '../limits.js';
import { BUNDLED_PACKS_DIR } from '../paths.js';
import type { Diagnostic, Pos, SourceText, SpecDoc } from './types.js';

export interface StatLike {
  isDirectory(): boolean;
  isFile(): boolean;
}

export interface LoadIO {
  readFile(p: string): Promise<Uint8Array>;
  readdir(p: string): Promise<string[]>;
  stat(p: string): Promise<StatLike>;
  readStdin(): Promise<Uint8Array>;
  /** The folder of a pack shipped with osfleet (`packs/<name>/`), for a name that is no path here. */
  bundledPack?(name: string): string | undefined;
}

export interface LoadResult {
  inputs: SourceText[];
  diagnostics: Diagnostic[];
  /** Every source met, readable or not, in the order given (folders expanded): the report order. */
  sources: string[];
}

export const STDIN_SOURCE = '<stdin>';
const SPEC_EXT = /\.ya?ml$/i;
/** Folders nested deeper than this are a symlink loop, not a spec repository. */
const MAX_DEPTH = 32;

const START: Pos = { line: 1, col: 1 };

function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e?.code) {
    case 'ENOENT':
      return 'no such file or folder';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a folder';
    case 'ENOTDIR':
      return 'not a folder';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    default:
      return e?.message ?? String(err);
  }
}

/**
 * Decodes UTF-8 strictly. Returns the text, or the position of the first byte that is not UTF-8 —
 * lenient decoding would turn a binary file into replacement characters and a confusing YAML error.
 */
export function decodeUtf8(bytes: Uint8Array): { text: string } | { badOffset: number; pos: Pos; byte: number } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    const bad = firstInvalidUtf8(bytes);
    const prefix = new TextDecoder('utf-8').decode(bytes.subarray(0, bad));
    const lines = prefix.split('\n');
    return { badOffset: bad, pos: { line: lines.length, col: (lines[lines.length - 1]?.length ?? 0) + 1 }, byte: bytes[bad] ?? 0 };
  }
}

function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    let n = 0;
    if (c < 0x80) n = 0;
    else if (c >= 0xc2 && c <= 0xdf) n = 1;
    else if (c >= 0xe0 && c <= 0xef) n = 2;
    else if (c >= 0xf0 && c <= 0xf4) n = 3;
    else return i;
    if (n > 0 && i + n >= b.length) return i; // truncated sequence at the end
    for (let k = 1; k <= n; k++) if (((b[i + k] ?? 0) & 0xc0) !== 0x80) return i;
    // Overlongs and surrogates are invalid too.
    if (c === 0xe0 && b[i + 1]! < 0xa0) return i;
    if (c === 0xed && b[i + 1]! > 0x9f) return i;
    if (c === 0xf0 && b[i + 1]! < 0x90) return i;
    if (c === 0xf4 && b[i + 1]! > 0x8f) return i;
    i += n + 1;
  }
  return b.length;
}

export async function loadInputs(paths: readonly string[], io: LoadIO): Promise<LoadResult> {
  const inputs: SourceText[] = [];
  const diagnostics: Diagnostic[] = [];
  const seen = new Set<string>();

  const sources: string[] = [];
  const addFile = async (p: string, source: string) => {
    if (seen.has(source)) return;
    seen.add(source);
    sources.push(source);
    let bytes: Uint8Array;
    try {
      bytes = p === '-' ? await io.readStdin() : await io.readFile(p);
    } catch (err) {
      if (err instanceof InterruptedError) throw err;
      diagnostics.push(diag(source, START, 'error', 'unreadable', `cannot read: ${reason(err)}`));
      return;
    }
    const decoded = decodeUtf8(bytes);
    if ('text' in decoded) {
      inputs.push({ source, text: decoded.text });
    } else {
      const hex = decoded.byte.toString(16).padStart(2, '0');
      diagnostics.push(diag(source, decoded.pos, 'error', 'binary-input', `binary or non-UTF-8 input (byte 0x${hex}): expected YAML text`));
    }
  };

  const walk = async (dir: string, depth: number): Promise<string[]> => {
    if (depth > MAX_DEPTH) throw Object.assign(new Error('loop'), { code: 'ELOOP' });
    const names = [...(await io.readdir(dir))].sort();
    const files: string[] = [];
    for (const name of names) {
      // Hidden entries (.git, editor swap folders) are never specs.
      if (name.startsWith('.')) continue;
      const full = path.join(dir, name);
      const st = await io.stat(full);
      if (st.isDirectory()) files.push(...(await walk(full, depth + 1)));
      else if (st.isFile() && SPEC_EXT.test(name)) files.push(full);
    }
    return files;
  };

  for (const p of paths) {
    if (p === '-') {
      await addFile('-', STDIN_SOURCE);
      continue;
    }
    let st: StatLike;
    try {
      st = await io.stat(p);
    } catch (err) {
      // `-f data-leak` from any folder: a name that is no path here may be a pack osfleet ships.
      const bundled = (err as NodeJS.ErrnoException)?.code === 'ENOENT' ? io.bundledPack?.(p) : undefined;
      if (bundled !== undefined) {
        for (const f of await walk(bundled, 0)) await addFile(f, f);
        continue;
      }
      sources.push(p);
      diagnostics.push(diag(p, START, 'error', 'unreadable', `cannot read: ${reason(err)}`));
      continue;
    }
    if (!st.isDirectory()) {
      // A FIFO or a device (/dev/zero) would block or never end: specs are regular files.
      if (!st.isFile()) {
        sources.push(p);
        diagnostics.push(diag(p, START, 'error', 'not-a-file', 'not a regular file or folder (a pipe or device?); use - to read stdin'));
        continue;
      }
      await addFile(p, p);
      continue;
    }
    let files: string[];
    try {
      files = await walk(p, 0);
    } catch (err) {
      sources.push(p);
      diagnostics.push(diag(p, START, 'error', 'unreadable', `cannot read folder: ${reason(err)}`));
      continue;
    }
    if (files.length === 0) {
      sources.push(p);
      diagnostics.push(diag(p, START, 'error', 'empty-folder', 'folder has no .yml or .yaml files'));
      continue;
    }
    for (const f of files) await addFile(f, f);
  }
  return { inputs, diagnostics, sources };
}

const PACK_NAME = /^[a-z0-9][a-z0-9_-]*$/i;

/** The names of the packs shipped with osfleet (`packs/<name>/`). */
export function bundledPackNames(): string[] {
  try {
    return readdirSync(BUNDLED_PACKS_DIR, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  } catch {
    return [];
  }
}

/** A spec input larger than the ceiling: named in the diagnostic, with the variable that raises it. */
export class TooLargeError extends Error {
  constructor(max: number) {
    super(`larger than ${sizeText(max)}, the ceiling for ${LIMITS.specBytes.what} (raise it with ${LIMITS.specBytes.env}=<bytes>)`);
  }
}

/**
 * The real file system, relative paths taken from `cwd` (the reported source stays as typed). Files
 * and stdin are refused past the spec-size ceiling before they are read whole; `signal` ends a read
 * of stdin at once. `stdin` is asked for only when `-` is read: Node builds process.stdin's stream
 * when it is first asked for (2–5 ms).
 */
export function nodeLoadIO(
  cwd: string,
  stdin: () => NodeJS.ReadableStream,
  fsp: typeof import('node:fs/promises'),
  opts: { signal?: AbortSignal; env?: Readonly<Record<string, string | undefined>> } = {},
): LoadIO {
  const abs = (p: string) => path.resolve(cwd, p);
  const max = limit('specBytes', opts.env);
  return {
    bundledPack: (name) => (PACK_NAME.test(name) && bundledPackNames().includes(name) ? path.join(BUNDLED_PACKS_DIR, name) : undefined),
    async readFile(p) {
      const handle = await fsp.open(abs(p), 'r');
      try {
        if ((await handle.stat()).size > max) throw new TooLargeError(max);
        return await handle.readFile();
      } finally {
        await handle.close();
      }
    },
    readdir: (p) => fsp.readdir(abs(p)),
    stat: (p) => fsp.stat(abs(p)),
    readStdin: () => readBounded(stdin(), { max, signal: opts.signal, onOver: () => new TooLargeError(max) }),
  };
}

export interface ReadSpecs {
  docs: SpecDoc[];
  diagnostics: Diagnostic[];
  /** Every source met, in report order. */
  sources: string[];
  /** How many inputs were read. */
  files: number;
}

/** Files, folders and stdin → parsed spec documents (what apply, delete and lint start from). */
export async function readSpecFiles(paths: readonly string[], io: LoadIO): Promise<ReadSpecs> {
  const { parseDocuments } = await import('./parse.js');
  const loaded = await loadInputs(paths, io);
  const diagnostics: Diagnostic[] = [...loaded.diagnostics];
  const docs: SpecDoc[] = [];
  for (const input of loaded.inputs) {
    const r = parseDocuments(input.text, input.source);
    docs.push(...r.docs);
    diagnostics.push(...r.diagnostics);
  }
  return { docs, diagnostics, sources: loaded.sources, files: loaded.inputs.length };
}
