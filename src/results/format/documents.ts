/**
 * Object listings (what `get` prints): `apiVersion/kind/spec` documents as fleetctl writes them, and
 * columns for people and spreadsheets.
 *
 * - `yaml`: multi-document YAML, each document led by `---` (fleetctl's `get --yaml`); no line folding,
 *   so SQL stays on the lines it was written on.
 * - `envelope-json`: one compact `{"kind":…,"apiVersion":"v1","spec":…}` per line (fleetctl's `get
 *   --json`, key order kind, apiVersion, spec).
 * - `json`: the specs alone as one array; `ndjson`: the specs alone, one per line.
 * - `table` / `csv`: columns (CSV cells neutralised against spreadsheet formulas).
 *
 * `documentWriter` streams (hosts: one page at a time, memory flat); the others build one text.
 */
import type { Writable } from 'node:stream';
import { put } from './common.js';

export type DocumentMode = 'yaml' | 'envelope-json' | 'json' | 'ndjson';
export type ListingMode = DocumentMode | 'table' | 'csv';

export interface SpecDocument {
  kind: string;
  spec: unknown;
}

export interface Columns {
  header: string[];
  rows: string[][];
}

let yamlModule: Promise<typeof import('yaml')> | undefined;
const loadYaml = () => (yamlModule ??= import('yaml'));

/** Compact, fleetctl's key order: kind, apiVersion, spec. */
export function envelopeJson(kind: string, spec: unknown): string {
  return JSON.stringify({ kind, apiVersion: 'v1', spec });
}

/**
 * One `---`-led YAML document with every mapping's keys sorted, as fleetctl writes YAML (it converts
 * JSON to YAML through Go maps: apiVersion, kind, spec, and the spec's keys in byte order).
 */
export async function yamlDocument(kind: string, spec: unknown): Promise<string> {
  const { stringify } = await loadYaml();
  return '---\n' + stringify({ apiVersion: 'v1', kind, spec }, { lineWidth: 0, minContentWidth: 0, sortMapEntries: true });
}

/** Every document in one text. */
export async function documentsText(mode: DocumentMode, docs: readonly SpecDocument[]): Promise<string> {
  switch (mode) {
    case 'yaml':
      return (await Promise.all(docs.map((d) => yamlDocument(d.kind, d.spec)))).join('');
    case 'envelope-json':
      return docs.map((d) => envelopeJson(d.kind, d.spec) + '\n').join('');
    case 'json':
      return JSON.stringify(docs.map((d) => d.spec), null, 2) + '\n';
    case 'ndjson':
      return docs.map((d) => JSON.stringify(d.spec) + '\n').join('');
  }
}

export interface DocumentWriter {
  /** Writes a batch (a page), waiting for the sink to drain. */
  write(docs: readonly SpecDocument[]): Promise<void>;
  /** Closes what needs closing (the JSON array); returns how many documents were written. */
  end(): Promise<number>;
}

/** Streams documents batch by batch; `json` is still one valid array however many batches come. */
export function documentWriter(sink: Writable, mode: DocumentMode): DocumentWriter {
  let count = 0;
  return {
    async write(docs) {
      let text = '';
      for (const d of docs) {
        switch (mode) {
          case 'envelope-json':
            text += envelopeJson(d.kind, d.spec) + '\n';
            break;
          case 'ndjson':
            text += JSON.stringify(d.spec) + '\n';
            break;
          case 'json':
            text += (count === 0 ? '[\n' : ',\n') + JSON.stringify(d.spec);
            break;
          case 'yaml':
            text += await yamlDocument(d.kind, d.spec);
            break;
        }
        count++;
      }
      if (text !== '') await put(sink, text);
    },
    async end() {
      if (mode === 'json') await put(sink, count === 0 ? '[]\n' : '\n]\n');
      return count;
    },
  };
}

const flat = (s: string) => s.replace(/\s*[\r\n]+\s*/g, ' ').replace(/\t/g, ' ');

/** Columns as CSV (header first, every cell neutralised) or as a table (cells on one line each). */
export async function columnsText(mode: 'table' | 'csv', cols: Columns, opts: { tty: boolean; width?: number | undefined }): Promise<string> {
  if (mode === 'csv') {
    const { csvText, neutraliseCell } = await import('./csv.js');
    return csvText([cols.header, ...cols.rows].map((r) => r.map(neutraliseCell)));
  }
  const { renderTable } = await import('./table.js');
  return renderTable(cols.header, cols.rows.map((r) => r.map(flat)), opts);
}

/** CSV records only (no header), for streaming rows after `columnsText` wrote the header. */
export async function csvRows(rows: readonly string[][]): Promise<string> {
  const { csvText, neutraliseCell } = await import('./csv.js');
  return csvText(rows.map((r) => r.map(neutraliseCell)));
}
