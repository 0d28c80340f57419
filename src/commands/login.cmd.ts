/** `osfleet login` as data; the work is in ./login.js, loaded when the command runs. */
import type { LoginOptions } from './login.js';
import { TIMEOUT_OPTION, defineCommand } from './define.js';

export const command = defineCommand<LoginOptions>({
  name: 'login',
  summary: 'log in and store the token in the context',
  options: [
    TIMEOUT_OPTION,
    { flags: '--email <email>', description: 'email (or Kolide username)' },
    { flags: '--password <password>', description: 'password (leaks into shell history; prefer --password-stdin)' },
    { flags: '--password-stdin', description: 'read the password from stdin' },
  ],
  examples: [
    { command: 'osfleet login --email admin@example.com', description: 'asks for the password without echo' },
    {
      command: 'jq -r .password ~/.local/state/osfleet/preview/admin.json | osfleet --context preview login --email admin@osfleet.local --password-stdin',
      description: 'log in to a sandbox started with `osfleet preview --detach` (its generated password is kept beside its data)',
    },
  ],
  run: async (options, ctx) => (await import('./login.js')).run(options, ctx),
});
