/** `osfleet delete` as data; the work is in ./delete.js, loaded when the command runs. */
import type { DeleteOptions } from './delete.js';
import { TIMEOUT_OPTION, defineCommand } from './define.js';

export const command = defineCommand<DeleteOptions>({
  name: 'delete',
  summary: 'delete queries, packs or labels by name, or those in YAML files',
  arguments: [
    { name: '[kind]', key: 'kind', choices: ['query', 'pack', 'label'], description: 'query | pack | label' },
    { name: '[names...]', key: 'names', description: 'names to delete' },
  ],
  options: [
    TIMEOUT_OPTION,
    { flags: '-f, --file <path>', description: 'delete what these files define (repeatable)', repeatable: true, default: [], complete: 'file' },
    { flags: '-y, --yes', description: 'do not ask for confirmation' },
  ],
  examples: [
    { command: 'osfleet --context preview delete query data-leak-usb-devices --yes', description: 'one saved query, without asking' },
    { command: 'osfleet --context preview delete -f data-leak --yes', description: 'everything the bundled pack applied' },
  ],
  run: async (options, ctx) => (await import('./delete.js')).run(options, ctx),
});
