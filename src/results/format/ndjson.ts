/**
 * fleetctl's `query` output, byte for byte: one `{"host":...,"rows":[...]}` line per host, `"error"`
 * only when set, row keys sorted and <, >, & escaped as Go's json.Encoder does.
 */
import type { Writable } from 'node:stream';
import type { HostResult, Row } from '../types.js';
import { byCodePoint, put, type ResultWriter } from './common.js';

const GO_ESCAPES = /[<>&\u2028\u2029]/g;
const GO_ESCAPE_TEST = /[<>&\u2028\u2029]/;
const goEscape = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** JSON text of a string as Go's encoding/json writes it (HTML-safe). */
export function goString(s: string): string {
  const j = JSON.stringify(s);
  return GO_ESCAPE_TEST.test(j) ? j.replace(GO_ESCAPES, goEscape) : j;
}

interface KeyCache {
  keys: string[];
  sorted: string[];
  /** The row's own key order is already Go's. */
  inOrder: boolean;
  /** A key like "2" that JS objects would move to the front: build the JSON by hand. */
  manual: boolean;
}

export const newCache = (): KeyCache => ({ keys: [], sorted: [], inOrder: true, manual: false });
const INDEX_LIKE = /^(?:0|[1-9]\d*)$/;

/**
 * The rows of a line as JSON, without the surrounding brackets: Go's sorted keys and escapes. One
 * native JSON.stringify (rows rebuilt with sorted keys only when they are not), then Go's HTML
 * escapes over the text in the rare case it needs them.
 */
export function rowsJson(input: readonly Row[], cache: KeyCache = newCache()): string {
  let rows: readonly Row[] = input;
  let copied: Row[] | undefined;
  // Rows with one key set out of Go's order (Fleet's host_* columns after the query's own): the
  // key list given to JSON.stringify sets the order, in native code, with no copy of each row
  // (at 100,000 hosts × 10 rows, the copies were the client's largest cost after parsing).
  let uniform = input.length > 0;
  for (let i = 0; uniform && i < input.length; i++) {
    const keys = Object.keys(input[i]!);
    if (i === 0 && !sameKeys(keys, cache.keys)) {
      cache.keys = keys;
      cache.sorted = [...keys].sort(byCodePoint);
      cache.inOrder = sameKeys(keys, cache.sorted);
      cache.manual = keys.some((k) => INDEX_LIKE.test(k));
    }
    uniform = sameKeys(keys, cache.keys);
    // (a nested value would have its own keys filtered by the list: such rows take the copy below)
    const row = input[i]!;
    for (let j = 0; uniform && j < keys.length; j++) if (typeof row[keys[j]!] === 'object') uniform = false;
  }
  if (uniform && !cache.manual && !cache.inOrder) {
    const s = JSON.stringify(input, cache.sorted);
    const inner = s.slice(1, -1);
    return GO_ESCAPE_TEST.test(inner) ? inner.replace(GO_ESCAPES, goEscape) : inner;
  }
  for (let i = 0; i < input.length; i++) {
    const row = input[i]!;
    const keys = Object.keys(row);
    if (!sameKeys(keys, cache.keys)) {
      cache.keys = keys;
      cache.sorted = [...keys].sort(byCodePoint);
      cache.inOrder = sameKeys(keys, cache.sorted);
      cache.manual = keys.some((k) => INDEX_LIKE.test(k));
    }
    if (cache.manual) return manualRows(input);
    if (!cache.inOrder) {
      copied ??= input.slice(0, i);
      const sorted = cache.sorted;
      const copy: Row = {};
      for (let j = 0; j < sorted.length; j++) copy[sorted[j]!] = row[sorted[j]!]!;
      copied.push(copy);
    } else if (copied) copied.push(row);
  }
  if (copied) rows = copied;
  if (rows.length === 0) return '';
  const s = JSON.stringify(rows);
  const inner = s.slice(1, -1);
  return GO_ESCAPE_TEST.test(inner) ? inner.replace(GO_ESCAPES, goEscape) : inner;
}

/** One fleetctl-compatible line (without the newline). */
export function ndjsonLine(r: HostResult, cache: KeyCache = newCache()): string {
  return lineOf(r, rowsJson(r.rows, cache));
}

/** The line around rows already rendered by rowsJson (slices joined by commas). */
export function lineOf(r: Pick<HostResult, 'host' | 'error'>, rows: string): string {
  return `{"host":${goString(r.host)},"rows":[${rows}]${r.error ? `,"error":${goString(r.error)}` : ''}}`;
}

function manualRows(rows: readonly Row[]): string {
  let s = '';
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const sorted = Object.keys(row).sort(byCodePoint);
    s += i === 0 ? '{' : ',{';
    for (let j = 0; j < sorted.length; j++) s += `${j === 0 ? '' : ','}${goString(sorted[j]!)}:${goString(row[sorted[j]!]!)}`;
    s += '}';
  }
  return s;
}

function sameKeys(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function ndjsonWriter(sink: Writable): ResultWriter {
  const cache = newCache();
  return {
    async write(r) {
      await put(sink, `${ndjsonLine(r, cache)}\n`);
    },
    async writeSlices(head, slices) {
      await writeLineInParts(sink, head, slices, cache, '');
      await put(sink, '\n');
    },
    async end() {},
    async abort() {},
  };
}

/**
 * Writes one line piece by piece: the head, each slice's rows, the tail. Pieces stay small enough
 * for V8's young generation, where a whole line of a large answer would be a large object that
 * only a full GC frees.
 */
export async function writeLineInParts(
  sink: Writable,
  head: Pick<HostResult, 'host' | 'error'>,
  slices: Iterable<readonly Row[]>,
  cache: KeyCache,
  prefix: string,
): Promise<void> {
  await put(sink, `${prefix}{"host":${goString(head.host)},"rows":[`);
  let first = true;
  for (const slice of slices) {
    const part = rowsJson(slice, cache);
    if (part === '') continue;
    await put(sink, first ? part : `,${part}`);
    first = false;
  }
  await put(sink, `]${head.error ? `,"error":${goString(head.error)}` : ''}}`);
}

/** Rows JSON of several slices of one answer, as if they were one list. */
export function joinSlices(slices: Iterable<readonly Row[]>, cache: KeyCache): string {
  let out = '';
  for (const slice of slices) {
    const part = rowsJson(slice, cache);
    if (part === '') continue;
    out = out === '' ? part : `${out},${part}`;
  }
  return out;
}
