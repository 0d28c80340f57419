/** `osfleet schema` as data; the work is in ./schema.js, loaded when the command runs. */
import type { SchemaOptions } from './schema.js';
import { defineCommand } from './define.js';

export const command = defineCommand<SchemaOptions>({
  name: 'schema',
  summary: "what osfleet knows of osquery's tables: columns, types, platforms, dates and uids",
  arguments: [{ name: '[table]', key: 'table', description: 'one table' }],
  options: [
    { flags: '--json', description: 'JSON output' },
    { flags: '--platform <platform>', description: 'only tables available on this platform' },
    { flags: '--osquery-version', description: 'the osquery release whose table specs the schema follows' },
  ],
  examples: [
    { command: 'osfleet schema cups_jobs', description: 'its columns, which are dates and which are uids' },
    { command: 'osfleet schema --platform darwin', description: 'the tables a Mac has' },
  ],
  run: async (options, ctx) => (await import('./schema.js')).run(options, ctx),
});
