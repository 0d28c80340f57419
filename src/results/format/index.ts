import type { Writable } from 'node:stream';
import { jsonWriter } from './json.js';
import { ndjsonWriter } from './ndjson.js';
import { yamlWriter } from './yaml.js';
import type { ResultFormat, ResultWriter, WriterOptions } from './common.js';

export * from './common.js';
export { goString, ndjsonLine } from './ndjson.js';

/**
 * A writer whose module (and its library: csv-stringify, cli-table3) is loaded on first use, so
 * `query --format ndjson`, the scripts' format, does not pay for the others at start-up.
 */
function loadOnFirstUse(load: () => Promise<ResultWriter>): ResultWriter {
  let writer: Promise<ResultWriter> | undefined;
  const get = () => (writer ??= load());
  return {
    async write(r) {
      await (await get()).write(r);
    },
    async end(statuses) {
      await (await get()).end(statuses);
    },
    async abort() {
      if (writer) await (await writer).abort();
    },
  };
}

export function createResultWriter(format: ResultFormat, sink: Writable, opts: WriterOptions): ResultWriter {
  switch (format) {
    case 'ndjson':
      return ndjsonWriter(sink);
    case 'json':
      return jsonWriter(sink);
    case 'yaml':
      return yamlWriter(sink);
    case 'csv':
      return loadOnFirstUse(async () => (await import('./csv.js')).csvWriter(sink, opts));
    case 'table':
      return loadOnFirstUse(async () => (await import('./table.js')).tableWriter(sink, opts));
  }
}
