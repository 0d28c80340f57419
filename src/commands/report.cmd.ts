/** `osfleet report` as data; the work is in ./report.js, loaded when the command runs. */
import type { ReportOptions } from './report.js';
import { defineCommand } from './define.js';
import { RESULT_OPTIONS } from './result-options.js';

export const command = defineCommand<ReportOptions>({
  name: 'report',
  summary: 'FleetDM: the results the server kept of a scheduled query (its query report), as table, CSV, JSON or YAML',
  arguments: [{ name: '<query>', key: 'query', description: 'the saved query' }],
  options: [...RESULT_OPTIONS],
  examples: [
    { command: 'osfleet --context preview report data-leak-print-jobs --tz UTC', description: "each host's latest print jobs, as the server kept them" },
    { command: 'osfleet --context preview report data-leak-usb-devices -o usb.csv', description: 'saved as CSV with an evidence manifest beside it' },
  ],
  run: async (options, ctx) => (await import('./report.js')).run(options, ctx),
});
