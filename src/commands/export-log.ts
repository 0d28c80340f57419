/**
 * `export` of osquery result logs (Fleet's filesystem logger, osquery's own): recognising a log,
 * finding the SQL of each scheduled query (local packs given with --packs, else the server's specs),
 * the --query/--since/--until filters, and what the manifest records. The reading itself is
 * src/results/osquery-log.ts; the rest of the way (dates, usernames, formats, manifest) is export's.
 */
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { InputError, UsageError } from '../errors.js';
import type { Ctx } from '../context.js';
import {
  logColumnsFirst,
  logPlan,
  looksLikeLogLine,
  readLogResults,
  type ScheduledSql,
} from '../results/osquery-log.js';
import type { BadLine, ColumnPlan, HostResult } from '../results/index.js';
import { gunzipSync } from 'node:zlib';

export interface LogFlags {
  log?: boolean | undefined;
  packs?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
  query?: string | undefined;
}

export interface LogExport {
  plan: ColumnPlan;
  order: (columns: readonly string[]) => string[];
  /** The SQL when the export holds one scheduled query. */
  sql: string | undefined;
  read(input: AsyncIterable<Buffer | string>, opts: { source: string; strict?: boolean | undefined; onBadLine?: (b: BadLine) => void; signal?: AbortSignal }): AsyncGenerator<HostResult>;
  /** Warnings known once the reading is over. */
  warnings(): string[];
  manifest(): Record<string, unknown>;
}

/** Bytes read to recognise a log by its first line. */
const PROBE_BYTES = 1 << 20;

/** Whether an open file is a regular file starting with gzip's magic bytes (read at offset 0: the stream is untouched). */
export async function startsWithGzip(fh: FileHandle): Promise<boolean> {
  if (!(await fh.stat()).isFile()) return false;
  const b = Buffer.alloc(2);
  const { bytesRead } = await fh.read(b, 0, 2, 0);
  return bytesRead === 2 && b[0] === 0x1f && b[1] === 0x8b;
}

/**
 * Whether the first non-empty line of a regular file (gzip undone) is a result-log item. Pipes
 * and devices are not probed (what is read from them would be lost): --log names them.
 */
export async function isResultLogFile(path: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    return false; // the real open names the problem
  }
  try {
    if (!(await fh.stat()).isFile()) return false;
    const buf = Buffer.alloc(PROBE_BYTES);
    const { bytesRead } = await fh.read(buf, 0, PROBE_BYTES, 0);
    let bytes = buf.subarray(0, bytesRead);
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
      try {
        bytes = gunzipSync(bytes, { finishFlush: 2 /* Z_SYNC_FLUSH: a partial archive is fine */, maxOutputLength: PROBE_BYTES });
      } catch {
        return false;
      }
    }
    for (const line of bytes.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      try {
        return looksLikeLogLine(JSON.parse(line));
      } catch {
        return false;
      }
    }
    return false;
  } finally {
    await fh.close();
  }
}

/**
 * Whether standard input holds a result log: its first line is read (up to PROBE_BYTES) and put
 * back, so the real reading sees every byte. A terminal is not probed (it would wait for typing).
 */
export async function isResultLogStdin(stdin: NodeJS.ReadableStream & { unshift(chunk: unknown): void; readableEnded?: boolean }, isTTY: boolean, signal: AbortSignal): Promise<boolean> {
  if (isTTY || signal.aborted) return false;
  const taken: Array<Buffer | string> = [];
  let text = '';
  try {
    while (!text.includes('\n') && text.length < PROBE_BYTES) {
      const chunk = stdin.read() as Buffer | string | null;
      if (chunk === null) {
        if (stdin.readableEnded) break;
        // A signal ends the wait: the command then ends as interrupted.
        const more = await new Promise<boolean>((resolve) => {
          const done = (v: boolean) => () => {
            stdin.off('readable', onReadable);
            stdin.off('end', onEnd);
            stdin.off('error', onEnd);
            signal.removeEventListener('abort', onEnd);
            resolve(v);
          };
          const onReadable = done(true);
          const onEnd = done(false);
          stdin.once('readable', onReadable);
          stdin.once('end', onEnd);
          stdin.once('error', onEnd);
          signal.addEventListener('abort', onEnd, { once: true });
        });
        if (!more) break;
        continue;
      }
      taken.push(chunk);
      text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    }
  } finally {
    // Back in front, in their order: the stream reads them first.
    for (let i = taken.length - 1; i >= 0; i--) stdin.unshift(taken[i]);
  }
  // Interrupted: nothing more will be read, and a stream left reading would keep the process alive.
  if (signal.aborted) {
    (stdin as unknown as { destroy?: () => void }).destroy?.();
    return false;
  }
  const first = text.split('\n').find((l) => l.trim() !== '');
  if (first === undefined) return false;
  try {
    return looksLikeLogLine(JSON.parse(first));
  } catch {
    return false;
  }
}

export function wantsLog(flags: LogFlags): boolean {
  return Boolean(flags.log || flags.packs || flags.since || flags.until || flags.query);
}

/**
 * A time bound: UNIX seconds, a duration back from now (`90m`, `24h`, `7d`), or an ISO 8601 date
 * or date-time; without an offset it is read in `zone` (the output time zone).
 */
export function parseTimeBound(text: string, flag: string, zone: string, now: Date): number {
  const s = text.trim();
  if (/^\d{9,11}$/.test(s)) return Number(s);
  const rel = /^(\d+)(s|m|h|d|w)$/.exec(s);
  if (rel) {
    const unit = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[rel[2] as 's' | 'm' | 'h' | 'd' | 'w'];
    return Math.floor(now.getTime() / 1000) - Number(rel[1]) * unit;
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i.exec(s);
  if (!m) throw new UsageError(`${flag}: cannot read "${text}" as a time`, 'use 2026-12-01, 2026-12-01T09:30, 2026-12-01T09:30:00Z, UNIX seconds, or a duration back from now (24h, 7d)');
  const [y, mo, d, h, mi, se] = [m[1], m[2], m[3], m[4] ?? '0', m[5] ?? '0', m[6] ?? '0'].map(Number) as [number, number, number, number, number, number];
  const wall = Date.UTC(y, mo - 1, d, h, mi, se);
  const check = new Date(wall);
  if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59 || se > 59) throw new UsageError(`${flag}: "${text}" is not a real date`);
  if (m[7]) {
    const off = m[7].toUpperCase() === 'Z' ? 0 : (() => {
      const o = m[7]!.replace(':', '');
      return (o[0] === '-' ? -1 : 1) * (Number(o.slice(1, 3)) * 60 + Number(o.slice(3, 5)));
    })();
    return Math.floor((wall - off * 60_000) / 1000);
  }
  // Wall time in `zone`: find the instant whose local time there is this (two passes cover DST).
  let guess = wall;
  for (let i = 0; i < 2; i++) guess = wall - zoneOffsetMs(zone, guess);
  return Math.floor(guess / 1000);
}

function zoneOffsetMs(zone: string, at: number): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(new Date(at));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) - Math.floor(at / 1000) * 1000;
}

interface Entry extends ScheduledSql {
  /** The pack entry's name and the saved query it runs: what --query may say. */
  aliases: string[];
}

/** Log names of one pack entry: Fleet's `pack/<pack>/<entry>` and osquery's default `pack_<pack>_<entry>`. */
const logNames = (pack: string, entry: string) => [`pack/${pack}/${entry}`, `pack_${pack}_${entry}`];

type Spec = Record<string, unknown>;

/** Entries of packs and scheduled queries given as specs (YAML files or the server's). */
function entriesOfSpecs(queries: Spec[], packs: Spec[]): Entry[] {
  const sqlOf = new Map<string, string>();
  for (const q of queries) if (typeof q['name'] === 'string' && typeof q['query'] === 'string') sqlOf.set(q['name'], q['query']);
  const out: Entry[] = [];
  for (const p of packs) {
    if (typeof p['name'] !== 'string' || !Array.isArray(p['queries'])) continue;
    for (const pq of p['queries'] as Spec[]) {
      const saved = String(pq['query'] ?? '');
      const entry = typeof pq['name'] === 'string' && pq['name'] !== '' ? pq['name'] : saved;
      const sql = sqlOf.get(saved);
      if (sql === undefined) continue;
      for (const name of logNames(p['name'], entry)) out.push({ name, sql, aliases: [entry, saved] });
    }
  }
  // FleetDM 4.35+ schedules queries themselves: `pack/Global/<name>`.
  for (const q of queries) {
    if (typeof q['name'] !== 'string' || typeof q['query'] !== 'string') continue;
    const interval = Number(q['interval'] ?? 0);
    if (interval > 0) out.push({ name: `pack/Global/${q['name']}`, sql: q['query'], aliases: [q['name']] });
  }
  return out;
}

/** osquery pack files (JSON, `.conf`): the pack is named after the file, as in `packs: {name: path}`. */
async function entriesOfOsqueryPack(path: string): Promise<Entry[]> {
  const { preprocessPack } = await import('../specs/convert.js');
  const text = await readFile(path, 'utf8');
  let v: unknown;
  try {
    v = JSON.parse(preprocessPack(text).text);
  } catch (err) {
    throw new InputError(`--packs ${path}: not an osquery pack (${(err as Error).message})`);
  }
  const queries = (v as { queries?: unknown })?.queries;
  if (!queries || typeof queries !== 'object') throw new InputError(`--packs ${path}: no "queries" object`);
  const pack = basename(path, extname(path));
  const out: Entry[] = [];
  for (const [entry, q] of Object.entries(queries as Record<string, Spec>)) {
    if (typeof q?.['query'] !== 'string') continue;
    for (const name of logNames(pack, entry)) out.push({ name, sql: q['query'], aliases: [entry] });
  }
  return out;
}

async function entriesOfFiles(paths: string[], ctx: Ctx): Promise<Entry[]> {
  const json = paths.filter((p) => /\.(conf|json)$/i.test(p));
  const yaml = paths.filter((p) => !json.includes(p));
  const out: Entry[] = [];
  for (const p of json) out.push(...(await entriesOfOsqueryPack(p)));
  if (yaml.length > 0) {
    const [{ loadInputs, nodeLoadIO }, { parseDocuments }, { toSpecSet }, fsp] = await Promise.all([
      import('../specs/load.js'),
      import('../specs/parse.js'),
      import('../specs/validate.js'),
      import('node:fs/promises'),
    ]);
    const loaded = await loadInputs(yaml, nodeLoadIO(ctx.cwd, ctx.io.stdin, fsp));
    const bad = loaded.diagnostics.find((d) => d.severity === 'error');
    if (bad) throw new InputError(`--packs: ${bad.source}: ${bad.message}`);
    const docs = loaded.inputs.flatMap((i) => parseDocuments(i.text, i.source).docs);
    const set = toSpecSet(docs);
    out.push(...entriesOfSpecs(set.queries as unknown as Spec[], set.packs as unknown as Spec[]));
  }
  return out;
}

async function entriesOfServer(ctx: Ctx): Promise<Entry[] | undefined> {
  const conn = await ctx.connection().catch(() => undefined);
  if (!conn?.address) return undefined;
  const { listSpecs } = await import('../api/specs.js');
  const client = await ctx.api();
  await client.detect();
  const [queries, packs] = await Promise.all([listSpecs(client, 'queries'), listSpecs(client, 'packs')]);
  return entriesOfSpecs(queries, packs);
}

export async function prepareLogExport(flags: LogFlags, ctx: Ctx, zone: string, timeColumns: string[]): Promise<LogExport> {
  const since = flags.since ? parseTimeBound(flags.since, '--since', zone, ctx.now()) : undefined;
  const until = flags.until ? parseTimeBound(flags.until, '--until', zone, ctx.now()) : undefined;
  if (since !== undefined && until !== undefined && since >= until) throw new UsageError(`--since ${flags.since} is not before --until ${flags.until}`);
  const wanted = (flags.query ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');

  const warnings: string[] = [];
  let specsFrom: string | null = null;
  let entries: Entry[];
  if (flags.packs) {
    entries = await entriesOfFiles(flags.packs.split(',').map((s) => s.trim()).filter((s) => s !== ''), ctx);
    specsFrom = flags.packs;
  } else {
    const fromServer = await entriesOfServer(ctx);
    if (fromServer) {
      entries = fromServer;
      specsFrom = 'server';
    } else {
      entries = [];
      warnings.push('no --packs and no server to read the packs from: only log_time is read as a date');
    }
  }
  const byName = new Map<string, Entry>();
  for (const e of entries) if (!byName.has(e.name)) byName.set(e.name, e);
  const matches = (name: string, w: string): boolean => {
    if (name === w || name.endsWith(`/${w}`)) return true;
    return byName.get(name)?.aliases.includes(w) ?? false;
  };
  const accept = wanted.length > 0 ? (name: string) => wanted.some((w) => matches(name, w)) : undefined;
  // The queries whose SQL decides the columns: the chosen ones, else every one the specs schedule.
  const chosen = [...byName.values()].filter((e) => !accept || accept(e.name));
  // One SQL per distinct query text (the same saved query in two packs is one plan).
  const distinct = new Map<string, ScheduledSql>();
  for (const e of chosen) if (!distinct.has(e.sql)) distinct.set(e.sql, { name: e.name, sql: e.sql });
  const { plan, conflicts } = logPlan([...distinct.values()], timeColumns);
  const seen = new Map<string, number>();
  const columns = new Set<string>();

  return {
    plan,
    order: logColumnsFirst,
    sql: distinct.size === 1 ? [...distinct.values()][0]!.sql : undefined,
    read: (input, o) => readLogResults(input, { ...o, accept, since, until, seen, columns }),
    warnings() {
      const out = [...warnings];
      // Conflicts matter only for columns that showed up.
      for (const c of conflicts) if (columns.has(c.column)) out.push(c.warning);
      const unknown = [...seen.keys()].filter((n) => !byName.has(n)).sort();
      if (unknown.length > 0 && specsFrom !== null) {
        out.push(`${unknown.join(', ')}: not in ${specsFrom === 'server' ? "the server's packs" : specsFrom}: no SQL known, so dates and uids in ${unknown.length === 1 ? 'its' : 'their'} rows are found only by the columns of the other queries`);
      }
      if (wanted.length > 0) {
        const missing = wanted.filter((w) => ![...seen.keys()].some((n) => matches(n, w)));
        if (missing.length > 0) out.push(`--query ${missing.join(', ')}: no line of the log in range`);
      }
      return out;
    },
    manifest: () => ({
      queries: Object.fromEntries([...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
      since: since !== undefined ? new Date(since * 1000).toISOString() : null,
      until: until !== undefined ? new Date(until * 1000).toISOString() : null,
      specs_from: specsFrom,
    }),
  };
}
