/**
 * `osfleet convert -f PACK.conf [-o FILE]`: an osquery pack to query and pack documents. The YAML
 * goes to stdout or, atomically, to FILE; warnings (platforms Fleet does not know, dropped keys) go
 * to stderr. Exit 1 when the pack cannot be read or parsed.
 */
import path from 'node:path';
import type { Ctx } from '../context.js';
import { CliError, InputError, UsageError } from '../errors.js';
import { limit, overLimit, readBounded } from '../limits.js';

export interface ConvertOptions {
  file?: string;
  output?: string;
}

export async function run(opts: ConvertOptions, ctx: Ctx): Promise<number> {
  if (!opts.file) throw new UsageError('-f must be specified', 'osfleet convert -f pack.conf [-o pack.yml]');
  const [{ convertPack }, { decodeUtf8 }, { formatDiagnostic }, fsp] = await Promise.all([
    import('../specs/convert.js'),
    import('../specs/load.js'),
    import('../specs/diagnostics.js'),
    import('node:fs/promises'),
  ]);
  const source = opts.file;
  let bytes: Uint8Array;
  try {
    const max = limit('specBytes', ctx.env);
    const over = () => overLimit('specBytes', opts.file === '-' ? 'stdin' : source, max);
    if (opts.file === '-') bytes = await readBounded(ctx.io.stdin, { max, signal: ctx.signal, onOver: over });
    else {
      const handle = await fsp.open(path.resolve(ctx.cwd, opts.file), 'r');
      try {
        if ((await handle.stat()).size > max) throw over();
        bytes = await handle.readFile();
      } finally {
        await handle.close();
      }
    }
  } catch (err) {
    if (err instanceof CliError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a folder' : (err as Error).message;
    throw new InputError(`cannot read ${source}: ${why}`);
  }
  const decoded = decodeUtf8(bytes);
  if (!('text' in decoded)) {
    ctx.io.err(`${source}:${decoded.pos.line}:${decoded.pos.col}: error: binary or non-UTF-8 input (byte 0x${decoded.byte.toString(16).padStart(2, '0')}): expected an osquery pack (JSON)\n`);
    return 1;
  }
  const base = opts.file === '-' ? 'stdin' : path.basename(opts.file);
  const packName = base.replace(/\.[^.]*$/, '') || base;
  const result = convertPack(decoded.text, packName, opts.file === '-' ? '<stdin>' : source);
  for (const d of [...result.errors, ...result.warnings]) ctx.io.err(formatDiagnostic(d) + '\n');
  if (result.errors.length > 0) return 1;

  if (opts.output) {
    const { atomicFile } = await import('../results/atomic.js');
    // Specs are meant to be committed and shared: 0644, unlike result files.
    const file = await atomicFile(path.resolve(ctx.cwd, opts.output), 0o644);
    try {
      await new Promise<void>((ok, fail) => file.stream.write(result.docs, (err) => (err ? fail(err) : ok())));
      await file.commit();
    } catch (err) {
      await file.abort();
      throw err;
    }
  } else {
    ctx.io.out(result.docs);
  }
  return 0;
}
