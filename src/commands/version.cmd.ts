/** `osfleet version` as data; the work is in ./version.js, loaded when the command runs. */
import { TIMEOUT_OPTION, defineCommand } from './define.js';

export const command = defineCommand<{ json?: boolean }>({
  name: 'version',
  summary: 'client and server versions',
  options: [{ flags: '--json', description: 'JSON output' }, TIMEOUT_OPTION],
  examples: [{ command: 'osfleet version', description: "this client's version and the server's, with its API generation" }],
  run: async (options, ctx) => (await import('./version.js')).run(options, ctx),
});
