/** `osfleet lint` as data; the work is in ./lint.js, loaded when the command runs. */
import type { LintOptions } from './lint.js';
import { defineCommand } from './define.js';

export const command = defineCommand<LintOptions & { paths?: string[] }>({
  name: 'lint',
  summary: 'check spec files offline: structure, SQL syntax, tables and columns, platforms',
  arguments: [{ name: '[paths...]', key: 'paths', complete: 'file', description: 'files or folders' }],
  options: [
    { flags: '-f, --file <path>', description: 'file or folder (repeatable)', repeatable: true, default: [], complete: 'file' },
    { flags: '--strict', description: 'treat warnings as errors' },
    {
      flags: '--naming <naming>',
      description: 'FleetDM naming the files are for: queries (kind: query, team; before 4.82, Kolide) or reports (kind: report, fleet; 4.82+)',
      choices: ['queries', 'reports'],
      default: 'queries',
    },
    { flags: '--format <format>', description: 'output format', choices: ['text', 'json'], default: 'text' },
  ],
  examples: [
    { command: 'osfleet lint data-leak', description: 'check the bundled pack (no server needed)' },
    { command: 'osfleet lint --strict --format json -f data-leak', description: 'warnings fail too; one JSON object per finding' },
  ],
  run: async ({ paths = [], ...options }, ctx) => (await import('./lint.js')).run({ ...options, file: [...options.file, ...paths] }, ctx),
});
