/**
 * `osfleet convert -f PACK.conf [-o FILE] [--schedule-as pack|query]`: an osquery pack to query and
 * pack documents (Kolide, FleetDM before 4.35), or to scheduled query documents (FleetDM 4.35+,
 * chosen from the context's server or the flag). The YAML
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
  /** pack | query; else decided from the context's server (a pack when there is none). */
  scheduleAs?: string;
}

/** FleetDM schedules queries themselves from this version on (packs are deprecated there). */
const QUERY_SCHEDULES_SINCE = [4, 35, 0];

function schedulesQueries(dialect: string | undefined, version: string | undefined): boolean {
  if (dialect !== 'fleet' || !version) return false;
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(version);
  if (!m) return false;
  const v = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
  for (let i = 0; i < 3; i++) if (v[i] !== QUERY_SCHEDULES_SINCE[i]) return v[i]! > QUERY_SCHEDULES_SINCE[i]!;
  return true;
}

/**
 * What the target applies: the flag, else the current context's server (from what login stored, else
 * asked), else a pack. Says on stderr what it chose when a server decided it.
 */
async function scheduleTarget(opts: ConvertOptions, ctx: Ctx): Promise<'pack' | 'query'> {
  if (opts.scheduleAs !== undefined) {
    if (opts.scheduleAs !== 'pack' && opts.scheduleAs !== 'query') {
      throw new UsageError(`--schedule-as ${opts.scheduleAs}: use pack (Kolide, FleetDM before 4.35) or query (FleetDM 4.35 and later)`);
    }
    return opts.scheduleAs;
  }
  let conn;
  try {
    conn = await ctx.connection();
  } catch {
    return 'pack';
  }
  if (!conn.address) return 'pack';
  let dialect = conn.dialect;
  let version = conn.serverVersion;
  if (!dialect || !version) {
    try {
      const profile = await (await ctx.api()).server();
      dialect = profile.generation;
      version = profile.version;
    } catch (err) {
      ctx.io.err(`Warning: could not ask the server of context "${conn.name}" which documents it applies (${(err as Error).message}); wrote a pack (choose with --schedule-as pack|query)\n`);
      return 'pack';
    }
  }
  const target = schedulesQueries(dialect, version) ? 'query' : 'pack';
  const server = `${dialect === 'kolide' ? 'Kolide Fleet' : 'FleetDM'}${version ? ` ${version}` : ''}`;
  ctx.io.err(
    target === 'query'
      ? `Note: context "${conn.name}" is ${server}, which schedules queries itself: writing kind: query documents with their schedule (--schedule-as pack for a pack)\n`
      : `Note: context "${conn.name}" is ${server}: writing a pack (--schedule-as query for scheduled query documents)\n`,
  );
  return target;
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
  const scheduleAs = await scheduleTarget(opts, ctx);
  const result = convertPack(decoded.text, packName, opts.file === '-' ? '<stdin>' : source, { scheduleAs });
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
