/**
 * Reads query results as NDJSON: fleetctl's `query` output (and osfleet's ndjson), one
 * `{"host": "...", "rows": [...], "error"?: "..."}` per line. Streams: one line in memory at a time.
 */
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
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

/** Lines of a stream, decoded as UTF-8, without their line ends, numbered from 1. */
export async function* lines(input: Readable, signal?: AbortSignal): AsyncGenerator<[string, number]> {
  const decoder = new StringDecoder('utf8');
  // Pieces of a line that spans chunks, joined once when its end arrives (not re-concatenated
  // chunk after chunk: a long line would otherwise be copied several times).
  let parts: string[] = [];
  let n = 0;
  const clean = (line: string): string => {
    const end = line.length > 0 && line.charCodeAt(line.length - 1) === 13 ? line.length - 1 : line.length;
    return n === 1 && line.charCodeAt(0) === 0xfeff ? line.slice(1, end) : end === line.length ? line : line.slice(0, end);
  };
  for await (const chunk of input) {
    if (signal?.aborted) return;
    const text = typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer);
    let start = 0;
    let nl = text.indexOf('\n');
    while (nl !== -1) {
      let line = text.slice(start, nl);
      if (parts.length > 0) {
        parts.push(line);
        line = parts.join('');
        parts = [];
      }
      n++;
      yield [clean(line), n];
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    if (start < text.length) parts.push(text.slice(start));
  }
  const tail = parts.join('') + decoder.end();
  if (tail !== '') {
    n++;
    yield [clean(tail), n];
  }
}

export async function* readHostResults(input: Readable, opts: ReadOptions): AsyncGenerator<HostResult> {
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
