/**
 * Reads query results as NDJSON: fleetctl's `query` output (and osfleet's ndjson), one
 * `{"host": "...", "rows": [...], "error"?: "..."}` per line. Streams: one line in memory at a time.
 */
import { InputError } from '../errors.js';
import type { HostResult, Row } from './types.js';

export interface BadLine {
  source: string;
  line: number;
  message: string;
}

/** Parses one line; throws an Error saying what is wrong with it. */
export function parseResultLine(text: string): HostResult {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new Error(`not JSON (${(err as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
  const o = v as Record<string, unknown>;
  const host = o['host'];
  if (typeof host !== 'string' || host === '') throw new Error('no "host" string');
  const rawRows = o['rows'];
  if (rawRows !== null && rawRows !== undefined && !Array.isArray(rawRows)) throw new Error('"rows" is not a list');
  const rows = (rawRows ?? []) as unknown[];
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new Error(`row ${i + 1} is not an object`);
    const row = r as Record<string, unknown>;
    for (const k in row) {
      const cell = row[k];
      // osquery sends strings; other writers may not. Keep the meaning, as text.
      if (typeof cell !== 'string') row[k] = cell === null || cell === undefined ? '' : typeof cell === 'object' ? JSON.stringify(cell) : String(cell);
    }
  }
  const error = o['error'];
  if (error !== undefined && error !== null && typeof error !== 'string') throw new Error('"error" is not a string');
  const hostId = o['host_id'];
  return {
    host,
    ...(typeof hostId === 'number' ? { hostId } : {}),
    rows: rows as Row[],
    ...(typeof error === 'string' && error !== '' ? { error } : {}),
  };
}

export interface ReadOptions {
  /** Named in messages: a file path or `stdin`. */
  source: string;
  /** Stop at the first broken line (InputError) instead of reporting and skipping it. */
  strict?: boolean | undefined;
  onBadLine?: ((bad: BadLine) => void) | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * Lines of a stream, decoded as UTF-8, without their line ends, numbered from 1. Lines are cut in
 * the bytes (a newline byte is never part of a multi-byte character) and each is decoded on its
 * own: no string of a whole chunk is built, which in a long export would keep megabyte strings
 * alive (and promoted to V8's old space) for as long as any line sliced from them.
 */
export async function* lines(input: AsyncIterable<Buffer | string>, signal?: AbortSignal): AsyncGenerator<[string, number]> {
  // Pieces of a line that spans chunks, joined once when its end arrives (not re-concatenated
  // chunk after chunk: a long line would otherwise be copied several times).
  let parts: Buffer[] = [];
  let n = 0;
  const clean = (line: string): string => {
    const end = line.length > 0 && line.charCodeAt(line.length - 1) === 13 ? line.length - 1 : line.length;
    return n === 1 && line.charCodeAt(0) === 0xfeff ? line.slice(1, end) : end === line.length ? line : line.slice(0, end);
  };
  for await (const chunk of input) {
    if (signal?.aborted) return;
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    let start = 0;
    let nl = buf.indexOf(10);
    while (nl !== -1) {
      let line: string;
      if (parts.length > 0) {
        parts.push(buf.subarray(start, nl));
        line = Buffer.concat(parts).toString('utf8');
        parts = [];
      } else line = buf.toString('utf8', start, nl);
      n++;
      yield [clean(line), n];
      start = nl + 1;
      nl = buf.indexOf(10, start);
    }
    if (start < buf.length) parts.push(buf.subarray(start));
  }
  if (parts.length > 0) {
    n++;
    yield [clean(Buffer.concat(parts).toString('utf8')), n];
  }
}

export async function* readHostResults(input: AsyncIterable<Buffer | string>, opts: ReadOptions): AsyncGenerator<HostResult> {
  for await (const [text, n] of lines(input, opts.signal)) {
    if (text.trim() === '') continue;
    let r: HostResult;
    try {
      r = parseResultLine(text);
    } catch (err) {
      const message = (err as Error).message;
      if (opts.strict) throw new InputError(`${opts.source}:${n}: ${message}`, { hint: 'drop --strict to skip broken lines' });
      opts.onBadLine?.({ source: opts.source, line: n, message });
      continue;
    }
    yield r;
  }
}
