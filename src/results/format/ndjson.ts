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

/** One fleetctl-compatible line (without the newline). */
export function ndjsonLine(r: HostResult, cache: KeyCache = newCache()): string {
  // One native JSON.stringify per line (rows rebuilt with sorted keys only when they are not),
  // then Go's HTML escapes over the line in the rare case it needs them.
  let rows: Row[] = r.rows;
  let manual = false;
  for (let i = 0; i < r.rows.length; i++) {
    const row = r.rows[i]!;
    const keys = Object.keys(row);
    if (!sameKeys(keys, cache.keys)) {
      cache.keys = keys;
      cache.sorted = [...keys].sort(byCodePoint);
      cache.inOrder = sameKeys(keys, cache.sorted);
      cache.manual = keys.some((k) => INDEX_LIKE.test(k));
    }
    if (cache.manual) manual = true;
    if (!cache.inOrder) {
      if (rows === r.rows) rows = r.rows.slice(0, i);
      const sorted = cache.sorted;
      const copy: Row = {};
      for (let j = 0; j < sorted.length; j++) copy[sorted[j]!] = row[sorted[j]!]!;
      rows.push(copy);
    } else if (rows !== r.rows) rows.push(row);
  }
  if (manual) return manualLine(r);
  const s = JSON.stringify(r.error ? { host: r.host, rows, error: r.error } : { host: r.host, rows });
  return GO_ESCAPE_TEST.test(s) ? s.replace(GO_ESCAPES, goEscape) : s;
}

function manualLine(r: HostResult): string {
  let s = `{"host":${goString(r.host)},"rows":[`;
  for (let i = 0; i < r.rows.length; i++) {
    const row = r.rows[i]!;
    const sorted = Object.keys(row).sort(byCodePoint);
    s += i === 0 ? '{' : ',{';
    for (let j = 0; j < sorted.length; j++) s += `${j === 0 ? '' : ','}${goString(sorted[j]!)}:${goString(row[sorted[j]!]!)}`;
    s += '}';
  }
  s += ']';
  if (r.error) s += `,"error":${goString(r.error)}`;
  return `${s}}`;
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
    async end() {},
    async abort() {},
  };
}
