/** `osfleet apply` as data; the work is in ./apply.js, loaded when the command runs. */
import type { ApplyOptions } from './apply.js';
import { TIMEOUT_OPTION, defineCommand } from './define.js';

export const command = defineCommand<ApplyOptions>({
  name: 'apply',
  summary: 'apply queries, packs, labels, options and enroll secrets from YAML files or folders',
  options: [
    TIMEOUT_OPTION,
    { flags: '-f, --file <path>', description: 'file, folder or - for stdin (repeatable)', repeatable: true, default: [], complete: 'file' },
    { flags: '--dry-run', description: 'print the plan without applying it' },
    { flags: '--detailed-exitcode', description: 'with --dry-run only: exit 2 when the plan has changes (as terraform plan)' },
    { flags: '--force', description: "fleetctl's flag, accepted: osfleet never refuses unknown keys (warnings); --no-sql-check skips the SQL check" },
    { flags: '--prune', description: 'also delete server objects of the applied kinds that the files no longer have' },
    { flags: '--no-sql-check', description: 'do not refuse SQL that SQLite cannot parse (osfleet lint shows why)' },
    { flags: '-y, --yes', description: 'do not ask for confirmation' },
    { flags: '--format <format>', description: 'output format', choices: ['text', 'json'], default: 'text' },
  ],
  examples: [
    { command: 'osfleet --context preview apply -f data-leak --dry-run', description: 'what applying the bundled pack would change' },
    { command: 'osfleet --context preview apply -f data-leak', description: 'apply its labels, queries, pack and options' },
  ],
  run: async (options, ctx) => (await import('./apply.js')).run(options, ctx),
});
