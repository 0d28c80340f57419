/** `osfleet demo` as data; the work is in ./demo.js, loaded when the command runs. */
import { defineCommand } from './define.js';

export const command = defineCommand({
  name: 'demo',
  summary: 'the story: sandbox, packs, who printed and copied what (writes leaks-*.csv)',
  examples: [{ command: 'osfleet demo', description: 'the whole story in a throw-away sandbox; writes leaks-printed.csv and leaks-copied.csv here' }],
  run: async (options, ctx) => (await import('./demo.js')).run(options, ctx),
});
