/** `osfleet login` as data; the work is in ./login.js, loaded when the command runs. */
import type { LoginOptions } from './login.js';
import { defineCommand } from './define.js';

export const command = defineCommand<LoginOptions>({
  name: 'login',
  summary: 'log in and store the token in the context',
  options: [
    { flags: '--email <email>', description: 'email (or Kolide username)' },
    { flags: '--password <password>', description: 'password (leaks into shell history; prefer --password-stdin)' },
    { flags: '--password-stdin', description: 'read the password from stdin' },
  ],
  examples: [
    { command: 'osfleet login --email admin@osfleet.local', description: 'asks for the password without echo (the sandbox prints it at start)' },
    { command: 'osfleet login --email admin@osfleet.local --password-stdin < password.txt', description: 'from a script' },
  ],
  run: async (options, ctx) => (await import('./login.js')).run(options, ctx),
});
