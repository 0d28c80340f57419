/** `osfleet convert` as data; the work is in ./convert.js, loaded when the command runs. */
import type { ConvertOptions } from './convert.js';
import { defineCommand } from './define.js';

export const command = defineCommand<ConvertOptions>({
  name: 'convert',
  summary: 'convert an osquery pack (.conf/.json) to query and pack documents',
  options: [
    { flags: '-f, --file <path>', description: 'osquery pack file', complete: 'file' },
    { flags: '-o, --output <file>', description: 'write to this file instead of stdout (- is stdout)', complete: 'file' },
    {
      flags: '--schedule-as <kind>',
      description: "pack (Kolide, FleetDM before 4.35) or query (FleetDM 4.35+: scheduled query documents); default: from the context's server, else pack",
      choices: ['pack', 'query'],
    },
  ],
  examples: [
    {
      command: 'curl -sSO https://raw.githubusercontent.com/osquery/osquery/master/packs/incident-response.conf && osfleet convert -f incident-response.conf -o incident-response.yml',
      description: "one of osquery's packs as re-appliable YAML",
    },
    { command: 'osfleet convert -f incident-response.conf | osfleet --context preview apply -f - --dry-run', description: 'what it would add to the sandbox' },
  ],
  run: async (options, ctx) => (await import('./convert.js')).run(options, ctx),
});
