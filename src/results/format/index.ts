import type { Writable } from 'node:stream';
import { csvWriter } from './csv.js';
import { jsonWriter } from './json.js';
import { ndjsonWriter } from './ndjson.js';
import { tableWriter } from './table.js';
import { yamlWriter } from './yaml.js';
import type { ResultFormat, ResultWriter, WriterOptions } from './common.js';

export * from './common.js';
export { neutraliseCell } from './csv.js';
export { goString, ndjsonLine } from './ndjson.js';
export { fitWidths, renderTable } from './table.js';

export function createResultWriter(format: ResultFormat, sink: Writable, opts: WriterOptions): ResultWriter {
  switch (format) {
    case 'ndjson':
      return ndjsonWriter(sink);
    case 'json':
      return jsonWriter(sink);
    case 'yaml':
      return yamlWriter(sink);
    case 'csv':
      return csvWriter(sink, opts);
    case 'table':
      return tableWriter(sink, opts);
  }
}
