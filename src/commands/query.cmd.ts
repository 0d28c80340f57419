/** `osfleet query` as data; the work is in ./query.js, loaded when the command runs. */
import type { QueryOptions } from './query.js';
import { defineCommand } from './define.js';
import { sameOption } from '../synonyms.js';
import { UsageError } from '../errors.js';
import { RESULT_OPTIONS } from './result-options.js';

export const command = defineCommand<QueryOptions & { reportName?: string; pretty?: boolean }>({
  name: 'query',
  summary: 'run a live query on hosts and collect every answer',
  options: [
    { flags: '--hosts <list>', description: 'hostnames, uuids, serials or ids (comma-separated)' },
    { flags: '--labels <list>', description: 'label names (comma-separated; union)' },
    { flags: '--label-expr <expr>', description: "label algebra, e.g. 'macOS AND NOT servers'" },
    { flags: '--all', description: 'every host' },
    { flags: '--query <sql>', description: 'the SQL to run' },
    { flags: '--query-name <name>', description: 'run a saved query by name' },
    { flags: '--report-name <name>', description: 'the same as --query-name (FleetDM 4.82+ calls saved queries reports)' },
    { flags: '--pretty', description: "fleetctl's flag: indented JSON (the same as --format json)" },
    { flags: '--timeout <duration>', description: 'stop waiting for hosts after this long and write what came (e.g. 90s, 5m; 0 = none; default 5m or env OSFLEET_TIMEOUT); the command ends within it plus half a second, exit 5 if it had to be cut' },
    { flags: '--exit', description: 'stop when every online host answered (the default)' },
    { flags: '--wait-all', description: 'keep waiting for offline hosts until the timeout' },
    { flags: '--ignore-unknown', description: 'skip unknown hosts and labels instead of stopping' },
    { flags: '--offline-fails', description: 'offline hosts count as missing: exit 3 unless every targeted host answered' },
    { flags: '--transport <transport>', description: 'how results come back', choices: ['auto', 'ws', 'rest'], default: 'auto' },
    { flags: '-q, --quiet', description: 'no progress or status on stderr' },
    { flags: '--resume <manifest>', description: 'ask again the hosts of an earlier run that did not answer; appends to its output, updates its manifest', complete: 'file' },
    ...RESULT_OPTIONS,
  ],
  examples: [
    { command: "osfleet --context preview query --labels macOS --query 'SELECT * FROM cups_jobs;'", description: 'who printed what on the Macs, as a table with dates and usernames' },
    {
      command: "osfleet --context preview query --all --query 'SELECT uid, username, shell FROM users;' -o users.csv",
      description: 'every host, saved as CSV with an evidence manifest beside it',
    },
    { command: "osfleet --context preview query --hosts dwight-win10,centos-fileserver --query 'SELECT * FROM os_version;' --format ndjson", description: 'two hosts by name, one JSON line per host' },
  ],
  // --timeout is also how a query ends normally: the hard deadline leaves it half a second to write.
  deadlineGraceMs: 500,
  run: async ({ pretty, ...options }, ctx) => {
    // fleetctl's --pretty prints each host's answer as indented JSON: osfleet's --format json.
    if (pretty && options.format !== undefined && options.format !== 'json') throw new UsageError(`--pretty is --format json; it cannot go with --format ${String(options.format)}`);
    const o = pretty ? { ...options, format: 'json' as const } : options;
    return (await import('./query.js')).run(sameOption(o, 'queryName', 'reportName', ['--query-name', '--report-name']), ctx);
  },
});
