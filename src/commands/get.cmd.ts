/** `osfleet get` as data; the work is in ./get.js, loaded when the command runs. */
import type { GetOptions } from './get.js';
import { TIMEOUT_OPTION, defineCommand } from './define.js';
import { sameOption } from '../synonyms.js';

export const command = defineCommand<GetOptions & { withReports?: boolean; fleet?: string }>({
  name: 'get',
  summary: 'list or show queries, packs, labels, options, enroll secrets or hosts',
  arguments: [
    { name: '<kind>', key: 'kind', choices: ['queries', 'reports', 'packs', 'labels', 'options', 'enroll_secret', 'hosts', 'users', 'config', 'all'], description: 'queries (FleetDM 4.82+: reports) | packs | labels | options | enroll_secret | hosts | users | config | all (every re-appliable spec)' },
    { name: '[name]', key: 'name', description: 'one object by name (hosts: hostname, uuid or id)' },
  ],
  options: [
    TIMEOUT_OPTION,
    { flags: '--yaml', description: 'multi-document YAML (re-appliable)' },
    { flags: '--json', description: 'one JSON object per line' },
    { flags: '--format <format>', description: 'output format', choices: ['table', 'json', 'yaml', 'csv', 'ndjson'] },
    { flags: '--with-queries', description: 'packs: also print the queries they schedule' },
    { flags: '--with-reports', description: 'the same as --with-queries (FleetDM 4.82+ calls saved queries reports)' },
    { flags: '--team <name>', description: 'queries: those of this FleetDM team (name or id) instead of the global ones' },
    { flags: '--fleet <name>', description: 'the same as --team (FleetDM 4.82+ calls teams fleets)' },
    { flags: '--status <status>', description: 'hosts: online | offline | new | mia | missing' },
    { flags: '--label <name>', description: 'hosts: only members of this label' },
    { flags: '--search <text>', description: 'hosts: hostname, uuid, serial or IP contains this' },
    { flags: '--tz <zone>', description: 'time zone for dates (IANA name)' },
    { flags: '--time-format <format>', description: 'how dates are written', choices: ['iso', 'long', 'utc', 'epoch'] },
  ],
  examples: [
    { command: 'osfleet --context preview get hosts --label macOS', description: 'the Macs, with their status and last check-in' },
    { command: 'osfleet --context preview get host pam-macbook-1015 --json', description: 'one host by name as JSON' },
    { command: 'osfleet --context preview get all --yaml > backup.yml', description: 'every re-appliable spec, ready for `osfleet apply -f backup.yml`' },
  ],
  run: async (options, ctx) =>
    (await import('./get.js')).run(sameOption(sameOption(options, 'withQueries', 'withReports', ['--with-queries', '--with-reports']), 'team', 'fleet', ['--team', '--fleet']), ctx),
});
