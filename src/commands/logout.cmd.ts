/** `osfleet logout` as data; the work is in ./logout.js, loaded when the command runs. */
import { TIMEOUT_OPTION, defineCommand } from './define.js';

export const command = defineCommand({
  name: 'logout',
  summary: 'log out on the server and remove the stored token',
  examples: [{ command: 'osfleet --context preview logout', description: 'end the session with the sandbox' }],
  options: [TIMEOUT_OPTION],
  run: async (options, ctx) => (await import('./logout.js')).run(options, ctx),
});
