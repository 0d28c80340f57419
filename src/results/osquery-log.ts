/**
 * osquery result logs (osquery.md §1.6) as the filesystem logger writes them, Fleet's included: one
 * JSON object per line, `name` (`pack/<pack>/<query>`), `hostIdentifier`, `unixTime`,
 * `calendarTime`, and one of three shapes, detected line by line (a file may mix them):
 *
 * - event: `action` added/removed and `columns` (one row);
 * - snapshot: `action: snapshot` (or none) and a `snapshot` list of rows;
 * - batch: `diffResults: {added: [...], removed: [...]}`.
 *
 * Each line becomes one HostResult whose rows start with the log's own columns (LOG_COLUMNS): the
 * scheduled query, the action and the event's time, then the row as osquery sent it. Streams: one
 * line in memory at a time; gzip is recognised by its magic bytes, whatever the file is called.
 */
import { createGunzip } from 'node:zlib';
import { pipeline as streamPipeline, Readable } from 'node:stream';
import { InputError, UsageError } from '../errors.js';
import { open, type FileHandle } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { parsedLines, type BadLine, type LineFormat } from './read.js';
import { planColumns, type ColumnPlan, type TimeColumn } from './plan.js';
import type { HostResult, Row } from './types.js';

/** The columns a log adds before each row. Not `action`/`time`: file_events has both. */
export const LOG_COLUMNS = { query: 'log_query', action: 'log_action', time: 'log_time' } as const;
export const LOG_COLUMN_NAMES: readonly string[] = [LOG_COLUMNS.query, LOG_COLUMNS.action, LOG_COLUMNS.time];

export type LogAction = 'added' | 'removed' | 'snapshot';

export interface LogEvent {
  name: string;
  host: string;
  unixTime: number;
  /** Rows in the order they are written, each with its action. */
  rows: Array<[LogAction, Row]>;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Whether a parsed line is a result-log item (rather than `{host, rows}` query results). */
export function looksLikeLogLine(v: unknown): boolean {
  if (!isObject(v)) return false;
  return typeof v['name'] === 'string' && ('columns' in v || 'snapshot' in v || 'diffResults' in v) && ('hostIdentifier' in v || 'unixTime' in v);
}

function cell(v: unknown): string {
  // osquery sends strings unless --logger_numerics; keep the meaning, as text.
  return typeof v === 'string' ? v : v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function rowOf(v: unknown, what: string): Row {
  if (!isObject(v)) throw new Error(`${what} is not an object`);
  const row: Row = {};
  for (const k in v) row[k] = cell(v[k]);
  return row;
}

function rowsOf(v: unknown, what: string): Row[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) throw new Error(`"${what}" is not a list`);
  return v.map((r, i) => rowOf(r, `${what} row ${i + 1}`));
}

/** Parses one result-log line; throws an Error saying what is wrong with it. */
export function parseLogLine(text: string): LogEvent {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new Error(`not JSON (${(err as Error).message})`);
  }
  if (!isObject(v)) throw new Error('not a JSON object');
  const name = v['name'];
  if (typeof name !== 'string' || name === '') throw new Error('no "name" string: not an osquery result-log line');
  // The documentation's event and batch samples say `hostname`; the agent writes `hostIdentifier`.
  const hostValue = v['hostIdentifier'] ?? v['hostname'];
  if (typeof hostValue !== 'string' || hostValue === '') throw new Error('no "hostIdentifier" string');
  // A number since osquery 5.10, a string before.
  const t = v['unixTime'];
  const unixTime = typeof t === 'number' ? t : typeof t === 'string' && /^\d+$/.test(t.trim()) ? Number(t) : NaN;
  if (!Number.isSafeInteger(unixTime)) throw new Error('no "unixTime" (UNIX seconds)');
  const rows: Array<[LogAction, Row]> = [];
  if ('diffResults' in v) {
    const d = v['diffResults'];
    if (!isObject(d)) throw new Error('"diffResults" is not an object');
    for (const r of rowsOf(d['added'], 'diffResults.added')) rows.push(['added', r]);
    for (const r of rowsOf(d['removed'], 'diffResults.removed')) rows.push(['removed', r]);
  } else if ('snapshot' in v) {
    for (const r of rowsOf(v['snapshot'], 'snapshot')) rows.push(['snapshot', r]);
  } else if ('columns' in v) {
    const action = v['action'];
    if (action !== 'added' && action !== 'removed') throw new Error(`"action" is ${JSON.stringify(action)}, not "added" or "removed"`);
    rows.push([action, rowOf(v['columns'], '"columns"')]);
  } else throw new Error('neither "columns", "snapshot" nor "diffResults": not an osquery result-log line');
  return { name, host: hostValue, unixTime, rows };
}

/** The rows of an event as the pipeline takes them: the log's columns first, then the row's. */
export function logResult(ev: LogEvent): HostResult {
  const time = String(ev.unixTime);
  return {
    host: ev.host,
    rows: ev.rows.map(([action, r]) => {
      const out: Row = { [LOG_COLUMNS.query]: ev.name, [LOG_COLUMNS.action]: action, [LOG_COLUMNS.time]: time };
      for (const k in r) {
        // A row column called like one of ours keeps its value under `<name>.1` (never dropped).
        out[k in out ? `${k}.1` : k] = r[k]!;
      }
      return out;
    }),
  };
}

export interface LogFilter {
  /** UNIX seconds, inclusive. */
  since?: number | undefined;
  /** UNIX seconds, exclusive. */
  until?: number | undefined;
  /** Keeps only these scheduled queries (a name as the log writes it). */
  accept?: ((name: string) => boolean) | undefined;
}

export interface LogReadOptions extends LogFilter {
  source: string;
  strict?: boolean | undefined;
  onBadLine?: ((bad: BadLine) => void) | undefined;
  signal?: AbortSignal | undefined;
  /** Every scheduled-query name kept and its row count, for the manifest. */
  seen?: Map<string, number> | undefined;
  /** Every row column met. */
  columns?: Set<string> | undefined;
}

const LOG_LINES: LineFormat = { notWhat: 'not an osquery result log', expect: 'a result log has one JSON object per line (osquery\'s filesystem logger)' };

/** HostResults of a result log, one per line that passes the filter. */
export async function* readLogResults(input: AsyncIterable<Buffer | string>, opts: LogReadOptions): AsyncGenerator<HostResult> {
  for await (const ev of parsedLines(input, parseLogLine, opts, LOG_LINES)) {
    if (opts.accept && !opts.accept(ev.name)) continue;
    if (opts.since !== undefined && ev.unixTime < opts.since) continue;
    if (opts.until !== undefined && ev.unixTime >= opts.until) continue;
    if (opts.seen) opts.seen.set(ev.name, (opts.seen.get(ev.name) ?? 0) + ev.rows.length);
    if (opts.columns) for (const [, r] of ev.rows) for (const k in r) opts.columns.add(k);
    yield logResult(ev);
  }
}

/**
 * The stream with gzip undone when it starts with gzip's magic bytes (rotated logs are often
 * compressed: `osquery_result-2026-….gz`), whatever the file is called. A cut or corrupt archive
 * fails the reading with an InputError naming the source.
 */
export function gunzipIfCompressed(input: Readable, source: string): Readable {
  const out = Readable.from(decompress(input, source), { objectMode: false, highWaterMark: 1 << 20 });
  // Stopped early (an error, a signal, or destroyed before it was ever read because another input
  // failed first): release the input, or its file is left for the garbage collector to close. A
  // generator's own `finally` would not do: one that never started never runs it.
  out.once('close', () => {
    if (!input.readableEnded && !input.destroyed) input.destroy();
  });
  return out;
}

const toBuffer = (c: unknown): Buffer => (Buffer.isBuffer(c) ? c : Buffer.from(String(c), 'utf8'));

async function* decompress(input: Readable, source: string): AsyncGenerator<Buffer> {
  const it = input[Symbol.asyncIterator]() as AsyncIterator<unknown>;
  let head = Buffer.alloc(0);
  while (head.length < 2) {
    const n = await it.next();
    if (n.done) {
      if (head.length > 0) yield head;
      return;
    }
    head = Buffer.concat([head, toBuffer(n.value)]);
  }
  // The input again from its first bytes: as it is, or through gunzip.
  const first = head;
  async function* whole(): AsyncGenerator<Buffer> {
    yield first;
    for (;;) {
      const n = await it.next();
      if (n.done) return;
      yield toBuffer(n.value);
    }
  }
  if (first[0] !== 0x1f || first[1] !== 0x8b) {
    yield* whole();
    return;
  }
  const compressed = Readable.from(whole(), { objectMode: false });
  const gz = createGunzip();
  streamPipeline(compressed, gz, () => undefined);
  try {
    for await (const c of gz) yield c as Buffer;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (typeof e.code === 'string' && e.code.startsWith('Z_')) throw new InputError(`${source}: the gzip data is cut or corrupt (${e.message})`);
    throw err;
  }
}

export interface ScheduledSql {
  /** The name as the log writes it: `pack/<pack>/<entry>`. */
  name: string;
  sql: string;
}

export interface LogPlan {
  plan: ColumnPlan;
  /** Columns whose meaning differs between the chosen queries: left as they are, and why. */
  conflicts: Array<{ column: string; warning: string }>;
}

/**
 * One column plan for the rows of several scheduled queries, each query's columns decided by its
 * own SQL and tables: a column keeps a date (or uid) meaning only when every query that returns it
 * agrees; a disagreement is left as it is and named. The log's columns come first.
 */
export function logPlan(queries: readonly ScheduledSql[], timeColumns: readonly string[] = []): LogPlan {
  const plans = queries.map((q) => ({ name: q.name, plan: planColumns(q.sql, { timeColumns: [...timeColumns] }) }));
  const times = new Map<string, TimeColumn>();
  const uids = new Map<string, string>();
  const plain = new Set<string>();
  const tables = new Set<string>();
  const meaning = new Map<string, Map<string, string[]>>();
  const note = (col: string, what: string, q: string) => {
    let m = meaning.get(col);
    if (!m) meaning.set(col, (m = new Map()));
    m.set(what, [...(m.get(what) ?? []), q]);
  };
  for (const { name, plan } of plans) {
    for (const t of plan.tables) tables.add(t);
    const cols = new Set([...(plan.select ?? []), ...plan.times.keys(), ...plan.uids.keys(), ...plan.plain]);
    for (const c of cols) {
      const t = plan.times.get(c);
      const u = plan.uids.get(c);
      note(c, t ? `time:${t.kind}` : u ? `uid:${u}` : 'plain', name);
    }
  }
  const conflicts: LogPlan['conflicts'] = [];
  for (const [col, m] of meaning) {
    if (m.size === 1) {
      const what = [...m.keys()][0]!;
      if (what.startsWith('time:')) {
        const first = plans.find((p) => p.plan.times.has(col))!.plan.times.get(col)!;
        times.set(col, first);
      } else if (what.startsWith('uid:')) uids.set(col, what.slice(4));
      else plain.add(col);
      continue;
    }
    plain.add(col);
    const parts = [...m.entries()].map(([what, qs]) => `${what.startsWith('time') ? 'a date' : what.startsWith('uid') ? 'a uid' : 'plain'} in ${qs.join(', ')}`);
    conflicts.push({ column: col, warning: `column ${col} is ${parts.join(' but ')}: left as it is (export one query with --query to convert it)` });
  }
  const undecided = new Map<string, string>();
  for (const { plan } of plans) for (const [c, why] of plan.undecided) if (!times.has(c) && !uids.has(c)) undecided.set(c, why);
  for (const c of conflicts) undecided.set(c.column, 'its meaning differs between the scheduled queries exported together');
  times.set(LOG_COLUMNS.time, { kind: 'unix_seconds', guessed: false });
  plain.add(LOG_COLUMNS.query);
  plain.add(LOG_COLUMNS.action);
  // A fixed column list only when every query's SQL names its columns.
  let select: string[] | null = null;
  if (plans.length > 0 && plans.every((p) => p.plan.select)) {
    select = [...LOG_COLUMN_NAMES];
    for (const p of plans) for (const c of p.plan.select!) if (!select.includes(c)) select.push(c);
  }
  return {
    plan: {
      select,
      tables: [...tables],
      times,
      uids,
      plain,
      // Without any known SQL the rows alone tell; the name rule stays the pipeline's to decide.
      guess: plans.length === 0 || plans.some((p) => p.plan.guess),
      // No SQL at all (no packs, no server): each row's own column set against the schema.
      infer: plans.length === 0,
      undecided,
    },
    conflicts,
  };
}

/** Orders output columns so the log's come first (for layouts that are only known from the rows). */
export function logColumnsFirst(columns: readonly string[]): string[] {
  const rank = (c: string): number => {
    for (let i = 0; i < LOG_COLUMN_NAMES.length; i++) {
      const n = LOG_COLUMN_NAMES[i]!;
      if (c === n || c.startsWith(`${n}_`)) return i;
    }
    return LOG_COLUMN_NAMES.length;
  };
  return [...columns].map((c, i) => [c, i] as const).sort((a, b) => rank(a[0]) - rank(b[0]) || a[1] - b[1]).map(([c]) => c);
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

