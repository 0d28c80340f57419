/**
 * One JSON document, streamed:
 *
 *   {
 *     "results": [
 *       {"host":"mac1","rows":[{"time":"1598384396","uid":"501"}]},
 *       {"host":"win10","rows":[],"error":"no such table: cups_jobs"}
 *     ],
 *     "hosts": [
 *       {"host":"mac1","host_id":7,"status":"answered","rows":1},
 *       {"host":"win10","status":"error","rows":0,"error":"no such table: cups_jobs"}
 *     ]
 *   }
 *
 * `results` holds fleetctl's per-host objects (the NDJSON lines, keys sorted, Go's escapes) in the
 * order they arrived; `hosts` one status per targeted host (answered, empty, error, no-response,
 * offline), `host_id` and `error` only when known. Each result sits on its own line so the file
 * stays greppable; an interrupted run still ends with the closing brackets. YAML has the same shape.
 */
import type { Writable } from 'node:stream';
import type { HostStatus } from '../types.js';
import { ndjsonLine, newCache, writeLineInParts } from './ndjson.js';
import { put, statusRecord, type ResultWriter } from './common.js';

export function statusJson(s: HostStatus): string {
  return JSON.stringify(statusRecord(s));
}

export function jsonWriter(sink: Writable): ResultWriter {
  let count = 0;
  const cache = newCache();
  return {
    async write(r) {
      await put(sink, `${count === 0 ? '{\n  "results": [\n    ' : ',\n    '}${ndjsonLine(r, cache)}`);
      count++;
    },
    async writeSlices(head, slices) {
      await writeLineInParts(sink, head, slices, cache, count === 0 ? '{\n  "results": [\n    ' : ',\n    ');
      count++;
    },
    async end(statuses) {
      // Status by status (a table of 100,000 hosts is read from disk in order, not held).
      let out = `${count === 0 ? '{\n  "results": [],\n' : '\n  ],\n'}  "hosts": [`;
      let n = 0;
      for await (const s of statuses) {
        out += `${n++ === 0 ? '\n    ' : ',\n    '}${statusJson(s)}`;
        if (out.length >= 1 << 16) {
          await put(sink, out);
          out = '';
        }
      }
      await put(sink, `${out}${n === 0 ? ']' : '\n  ]'}\n}\n`);
    },
    async abort() {},
  };
}
