/**
 * Reads query results as NDJSON: fleetctl's `query` output (and osfleet's ndjson), one
 * `{"host": "...", "rows": [...], "error"?: "..."}` per line. Streams: one line in memory at a time.
 */
import { InputError } from '../errors.js';
import { LIMITS, limit } from '../limits.js';
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
  /** The longest line accepted (default MAX_LINE_BYTES). */
  maxLineBytes?: number | undefined;
}

export interface LineOptions {
  signal?: AbortSignal | undefined;
  /**
   * Only lines that are JSON objects matter: a line whose first byte (after blanks and a BOM) is
   * not `{` keeps its first bytes, enough to say what it is, and the rest is dropped as it streams
   * (a binary file or /dev/zero does not fill the memory).
   */
  objectsOnly?: boolean | undefined;
  /** The longest line read (default MAX_LINE_BYTES); a longer one ends the reading with LineTooLongError. */
  maxLineBytes?: number | undefined;
}

/**
 * Far above any real answer line (osquery caps a result at a few MB), and low enough that one line
 * parses within a small heap; OSFLEET_MAX_LINE_BYTES raises it (README, "Limits").
 */
export const MAX_LINE_BYTES = LIMITS.ndjsonLineBytes.value;
/** What a line that is not a JSON object keeps to be named in a message. */
const KEPT_OF_A_NON_OBJECT = 40;

export class LineTooLongError extends Error {
  constructor(
    readonly line: number,
    readonly limit: number,
  ) {
    super(`line ${line} is longer than ${sizeText(limit)} without a newline`);
  }
}

const sizeText = (bytes: number) => (bytes >= 1024 * 1024 ? `${Math.round(bytes / (1024 * 1024))} MiB` : `${bytes} bytes`);

/** Bytes that may come before the `{` of a JSON object line: blanks, CR, and a UTF-8 BOM. */
const isLead = (b: number) => b === 0x20 || b === 0x09 || b === 0x0d || b === 0xef || b === 0xbb || b === 0xbf;

/**
 * Lines of a stream, decoded as UTF-8, without their line ends, numbered from 1. Lines are cut in
 * the bytes (a newline byte is never part of a multi-byte character) and each is decoded on its
 * own: no string of a whole chunk is built, which in a long export would keep megabyte strings
 * alive (and promoted to V8's old space) for as long as any line sliced from them.
 */
export async function* lines(input: AsyncIterable<Buffer | string>, opts: LineOptions = {}): AsyncGenerator<[string, number]> {
  const maxBytes = opts.maxLineBytes ?? limit('ndjsonLineBytes');
  // The current line: pieces joined once when its end arrives (not re-concatenated chunk after
  // chunk: a long line would otherwise be copied several times).
  let parts: Buffer[] = [];
  let bytes = 0;
  /** Its first significant byte was seen (objectsOnly). */
  let decided = !opts.objectsOnly;
  /** It is not a JSON object: only its first bytes are kept. */
  let cut = false;
  let n = 0;
  const clean = (line: string): string => {
    const end = line.length > 0 && line.charCodeAt(line.length - 1) === 13 ? line.length - 1 : line.length;
    return n === 1 && line.charCodeAt(0) === 0xfeff ? line.slice(1, end) : end === line.length ? line : line.slice(0, end);
  };
  /** Adds buf[from, to) to the current line. */
  const take = (buf: Buffer, from: number, to: number) => {
    if (!decided) {
      let i = from;
      while (i < to && isLead(buf[i]!)) i++;
      if (i < to) {
        decided = true;
        cut = buf[i] !== 0x7b;
      }
    }
    if (bytes + (to - from) > maxBytes) throw new LineTooLongError(n + 1, maxBytes);
    const keep = cut ? Math.max(0, Math.min(to - from, KEPT_OF_A_NON_OBJECT - bytes)) : to - from;
    if (keep > 0) parts.push(buf.subarray(from, from + keep));
    bytes += to - from;
  };
  const finish = (): string => {
    const line = parts.length === 1 ? parts[0]!.toString('utf8') : Buffer.concat(parts).toString('utf8');
    parts = [];
    bytes = 0;
    decided = !opts.objectsOnly;
    cut = false;
    n++;
    return clean(line);
  };
  for await (const chunk of input) {
    if (opts.signal?.aborted) return;
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    let start = 0;
    let nl = buf.indexOf(10);
    while (nl !== -1) {
      let line: string;
      if (bytes === 0 && nl - start <= maxBytes && (!opts.objectsOnly || buf[start] === 0x7b)) {
        // The common case: a whole line inside this chunk (an object, when only objects matter).
        n++;
        line = clean(buf.toString('utf8', start, nl));
      } else {
        take(buf, start, nl);
        line = finish();
      }
      yield [line, n];
      start = nl + 1;
      nl = buf.indexOf(10, start);
    }
    if (start < buf.length) take(buf, start, buf.length);
  }
  if (bytes > 0) yield [finish(), n];
}

/** What a line-oriented input should be, for the message when a line is past the ceiling. */
export interface LineFormat {
  /** e.g. `not query results`. */
  notWhat: string;
  /** One line saying what a line should look like. */
  expect: string;
}

/**
 * Each non-blank line of an NDJSON-like input, parsed: a line that does not parse stops the run
 * (`strict`) or is reported and skipped; a line past the ceiling is an InputError naming the line
 * and how to raise the ceiling. The one loop under query results and osquery result logs.
 */
export async function* parsedLines<T>(input: AsyncIterable<Buffer | string>, parse: (text: string) => T, opts: ReadOptions, format: LineFormat): AsyncGenerator<T> {
  try {
    for await (const [text, n] of lines(input, { signal: opts.signal, objectsOnly: true, maxLineBytes: opts.maxLineBytes })) {
      if (text.trim() === '') continue;
      let value: T;
      try {
        value = parse(text);
      } catch (err) {
        const message = (err as Error).message;
        if (opts.strict) throw new InputError(`${opts.source}:${n}: ${message}`, { hint: 'drop --strict to skip broken lines' });
        opts.onBadLine?.({ source: opts.source, line: n, message });
        continue;
      }
      yield value;
    }
  } catch (err) {
    if (!(err instanceof LineTooLongError)) throw err;
    throw new InputError(`${opts.source}:${err.line}: more than ${sizeText(err.limit)} without a newline: ${format.notWhat}`, {
      hint: `${format.expect}; ${sizeText(err.limit)} is the ceiling for ${LIMITS.ndjsonLineBytes.what}; raise it with ${LIMITS.ndjsonLineBytes.env}=<bytes>`,
    });
  }
}

const RESULT_LINES: LineFormat = { notWhat: 'not query results', expect: 'export reads NDJSON: one {"host": ..., "rows": [...]} object per line' };

export function readHostResults(input: AsyncIterable<Buffer | string>, opts: ReadOptions): AsyncGenerator<HostResult> {
  return parsedLines(input, parseResultLine, opts, RESULT_LINES);
}
