/**
 * `osfleet convert -f PACK.conf [-o FILE]`: an osquery pack to query and pack documents. The YAML
 * goes to stdout or, atomically, to FILE; warnings (platforms Fleet does not know, dropped keys) go
 * to stderr. Exit 1 when the pack cannot be read or parsed.
 */
import path from 'node:path';
import type { Ctx } from '../context.js';
import { InputError, UsageError } from '../errors.js';

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
    bytes = opts.file === '-' ? await readAll(ctx.io.stdin) : await fsp.readFile(path.resolve(ctx.cwd, opts.file));
  } catch (err) {
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
    const { openOutput } = await import('../results/atomic.js');
    // Specs are meant to be committed and shared: 0644, unlike result files.
    const file = await openOutput(opts.output, { mode: 0o644, stdout: ctx.io.stdout, cwd: ctx.cwd });
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

async function readAll(stream: NodeJS.ReadableStream): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}
