/** `osfleet export` as data; the work is in ./export.js, loaded when the command runs. */
import type { ExportOptions } from './export.js';
import { TIMEOUT_OPTION, defineCommand } from './define.js';
import { RESULT_OPTIONS } from './result-options.js';

export const command = defineCommand<ExportOptions>({
  name: 'export',
  summary: 'convert NDJSON query results (osfleet or fleetctl) or osquery result logs to readable table, CSV, JSON or YAML',
  arguments: [{ name: '[files...]', key: 'files', complete: 'file', description: 'NDJSON files or osquery result logs, gzip too (default: stdin)' }],
  options: [
    TIMEOUT_OPTION,
    { flags: '--sql <sql>', description: 'the SQL the rows came from (finds date and uid columns by schema)' },
    { flags: '--table <name>', description: 'the table the rows came from' },
    { flags: '--from-manifest <file>', description: "read the SQL and targets from osfleet's manifest", complete: 'file' },
    { flags: '--users <file>', description: 'NDJSON of a `SELECT uid, username FROM users` query on the same hosts', complete: 'file' },
    { flags: '--usernames-from-server', description: 'run the users query against the hosts in the input' },
    { flags: '--strict', description: 'stop at the first broken line' },
    { flags: '--log', description: 'the input is an osquery result log (recognised by its first line otherwise)' },
    { flags: '--packs <paths>', description: 'result logs: pack files (YAML specs or osquery .conf) with the scheduled SQL (default: the server)', complete: 'file' },
    { flags: '--query <names>', description: 'result logs: only these scheduled queries (comma-separated)' },
    { flags: '--since <time>', description: 'result logs: events at or after (2026-12-01, 2026-12-01T09:30Z, 7d)' },
    { flags: '--until <time>', description: 'result logs: events before' },
    ...RESULT_OPTIONS,
  ],
  examples: [
    {
      command: "osfleet --context preview query --labels macOS --query 'SELECT * FROM cups_jobs;' --raw -o jobs.ndjson && osfleet export jobs.ndjson --from-manifest jobs.ndjson.manifest.json --format csv -o jobs.csv",
      description: 'raw results kept, then made readable later (dates from the SQL in the manifest)',
    },
    { command: "osfleet export jobs.ndjson --sql 'SELECT * FROM cups_jobs;' --format table --tz UTC", description: 'the same rows as a table, dates in UTC' },
    { command: 'osfleet --context preview export --query data-leak-file-copies --since 7d --usernames-from-server -o copies.csv osquery_result', description: "a scheduled query's results from the result log, SQL from the server's packs" },
  ],
  run: async (options, ctx) => (await import('./export.js')).run(options, ctx),
});
