/** `osfleet setup` as data; the work is in ./setup.js, loaded when the command runs. */
import type { SetupOptions } from './setup.js';
import { TIMEOUT_OPTION, defineCommand } from './define.js';

export const command = defineCommand<SetupOptions>({
  name: 'setup',
  summary: 'create the first admin on a fresh Fleet server',
  options: [
    TIMEOUT_OPTION,
    { flags: '--address <url>', description: 'server address (default: the context address)' },
    { flags: '--email <email>', description: 'admin email' },
    { flags: '--name <name>', description: 'admin full name' },
    { flags: '--username <name>', description: 'admin username (Kolide; defaults to the email)' },
    { flags: '--org-name <name>', description: 'organisation name' },
    { flags: '--server-url <url>', description: 'the URL agents use to reach Fleet (default: the address; Kolide requires https)' },
    { flags: '--password-stdin', description: 'read the password from stdin (the recommended way)' },
    { flags: '--password <password>', description: "fleetctl's flag: works, with a warning (it lands in shell history; prefer --password-stdin)" },
  ],
  examples: [
    { command: 'osfleet setup --address https://fleet.example.com:8080 --email admin@example.com', description: 'a fresh server (asks for the password twice); `osfleet preview` sets its sandbox up by itself' },
    {
      command: 'printf %s "$ADMIN_PASSWORD" | osfleet setup --address https://fleet.example.com:8080 --email admin@example.com --org-name Acme --password-stdin',
      description: 'from a script',
    },
  ],
  run: async (options, ctx) => (await import('./setup.js')).run(options, ctx),
});
