/**
 * fleetctl's `query` output, byte for byte: one `{"host":...,"rows":[...]}` line per host, `"error"`
 * only when set, row keys sorted and <, >, & escaped as Go's json.Encoder does.
 */
import type { Writable } from 'node:stream';
import type { HostResult } from '../types.js';
import { byCodePoint, put, type ResultWriter } from './common.js';

const GO_ESCAPES = /[<>&\u2028\u2029]/g;
const GO_ESCAPE_TEST = /[<>&\u2028\u2029]/;
const goEscape = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** JSON text of a string as Go's encoding/json writes it (HTML-safe). */
export function goString(s: string): string {
  const j = JSON.stringify(s);
  return GO_ESCAPE_TEST.test(j) ? j.replace(GO_ESCAPES, goEscape) : j;
}

/** One fleetctl-compatible line (without the newline). */
export function ndjsonLine(r: HostResult, cache: { keys: string[]; sorted: string[] } = { keys: [], sorted: [] }): string {
  let s = `{"host":${goString(r.host)},"rows":[`;
  for (let i = 0; i < r.rows.length; i++) {
    const row = r.rows[i]!;
    const keys = Object.keys(row);
    let sorted = cache.sorted;
    if (!sameKeys(keys, cache.keys)) {
      sorted = [...keys].sort(byCodePoint);
      cache.keys = keys;
      cache.sorted = sorted;
    }
    s += i === 0 ? '{' : ',{';
    for (let j = 0; j < sorted.length; j++) {
      const k = sorted[j]!;
      s += `${j === 0 ? '' : ','}${goString(k)}:${goString(row[k]!)}`;
    }
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
  const cache = { keys: [] as string[], sorted: [] as string[] };
  return {
    async write(r) {
      await put(sink, `${ndjsonLine(r, cache)}\n`);
    },
    async end() {},
    async abort() {},
  };
}
