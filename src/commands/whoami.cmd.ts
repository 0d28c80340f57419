/** `osfleet whoami` as data; the work is in ./whoami.js, loaded when the command runs. */
import { TIMEOUT_OPTION, defineCommand } from './define.js';

export const command = defineCommand<{ json?: boolean }>({
  name: 'whoami',
  summary: 'the logged-in user, the server version and API dialect',
  options: [{ flags: '--json', description: 'JSON output' }, TIMEOUT_OPTION],
  examples: [
    { command: 'osfleet whoami', description: 'who the current context logs in as, and where' },
    { command: 'osfleet --context preview whoami --json', description: 'the same as one JSON object' },
  ],
  run: async (options, ctx) => (await import('./whoami.js')).run(options, ctx),
});
