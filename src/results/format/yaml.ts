/**
 * YAML with the same shape as the JSON document: `results:` (one item per host: host, rows, error)
 * then `hosts:` (statuses). Items are written as they come, so memory stays flat.
 */
import type { Writable } from 'node:stream';
import type { HostResult } from '../types.js';
import { put, statusRecord, type ResultWriter, type StatusSource } from './common.js';

// Written under YAML 1.1 rules so strings that 1.1 readers (PyYAML, Ruby) would take for dates,
// booleans (yes, on) or numbers get quoted: every osquery value stays a string for every reader.
const YAML_OPTS = { lineWidth: 0, version: '1.1' } as const;

function item(r: HostResult): Record<string, unknown> {
  return { host: r.host, rows: r.rows, ...(r.error ? { error: r.error } : {}) };
}

// yaml is loaded only when YAML is written: it is the heaviest import of the pipeline.
let yamlModule: Promise<typeof import('yaml')> | undefined;
const loadYaml = () => (yamlModule ??= import('yaml'));

export function yamlWriter(sink: Writable): ResultWriter {
  let count = 0;
  return {
    async write(r) {
      const { stringify } = await loadYaml();
      await put(sink, `${count === 0 ? 'results:\n' : ''}${stringify([item(r)], YAML_OPTS)}`);
      count++;
    },
    async end(statuses: StatusSource) {
      const { stringify } = await loadYaml();
      // Status by status: a block sequence is its items' texts one after another.
      let out = count === 0 ? 'results: []\n' : '';
      let n = 0;
      for await (const s of statuses) {
        out += `${n++ === 0 ? 'hosts:\n' : ''}${stringify([statusRecord(s)], YAML_OPTS)}`;
        if (out.length >= 1 << 16) {
          await put(sink, out);
          out = '';
        }
      }
      await put(sink, `${out}${n === 0 ? 'hosts: []\n' : ''}`);
    },
    async abort() {},
  };
}
