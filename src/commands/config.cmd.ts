/** `osfleet config` as data; the work is in ./config.js, loaded when the command runs. */
import type { SetOptions } from './config.js';
import { defineCommand } from './define.js';

export const set = defineCommand<SetOptions>({
  name: 'set',
  summary: 'set keys of a context (created when missing)',
  options: [
    { flags: '--address <url>', description: 'Fleet server address, e.g. https://fleet.example.com:8080' },
    { flags: '--email <email>', description: 'email of the user' },
    { flags: '--token <token>', description: 'API token (leaks into shell history; prefer --token-stdin)' },
    { flags: '--token-stdin', description: 'read the API token from stdin' },
    { flags: '--rootca <file>', description: 'PEM file with the CA certificate(s) to trust', complete: 'file' },
    { flags: '--tls-skip-verify', description: 'do not verify the server certificate (dangerous)' },
    { flags: '--no-tls-skip-verify', description: 'verify the server certificate again' },
    { flags: '--url-prefix <prefix>', description: 'path prefix the server is mounted under' },
    { flags: '--allow-insecure-http', description: 'allow http:// to a non-loopback address' },
    { flags: '--custom-header <name:value>', description: 'a header sent on every request, e.g. an access proxy\'s (repeatable; replaces the saved ones; "" clears them)', repeatable: true },
  ],
  examples: [
    { command: 'osfleet --context lab config set --address http://127.0.0.1:8412', description: 'a context named "lab" for a sandbox on this machine' },
    { command: 'osfleet config set --email admin@osfleet.local', description: 'the email `osfleet login` proposes' },
  ],
  run: async (options, ctx) => (await import('./config.js')).runSet(options, ctx),
});

export const get = defineCommand<{ key?: string }>({
  name: 'get',
  summary: 'print a key (or every key) of the current context',
  arguments: [{ name: '[key]', key: 'key' }],
  examples: [
    { command: 'osfleet config get', description: 'every key of the current context (the token redacted)' },
    { command: 'osfleet config get address', description: 'one key' },
  ],
  run: async (options, ctx) => (await import('./config.js')).runGet(options, ctx),
});

export const useContext = defineCommand<{ name: string }>({
  name: 'use-context',
  summary: 'make a context the current one',
  arguments: [{ name: '<name>', key: 'name' }],
  examples: [{ command: 'osfleet config use-context preview', description: 'talk to the sandbox that `osfleet preview` set up' }],
  run: async (options, ctx) => (await import('./config.js')).runUseContext(options, ctx),
});

export const list = defineCommand<{ json?: boolean }>({
  name: 'list',
  summary: 'list the contexts',
  options: [{ flags: '--json', description: 'JSON output' }],
  examples: [{ command: 'osfleet config list', description: 'the contexts, the current one marked with *' }],
  run: async (options, ctx) => (await import('./config.js')).runList(options, ctx),
});

export const command = defineCommand({
  name: 'config',
  summary: 'read and change connection contexts',
  subcommands: [set, get, useContext, list],
  examples: [
    { command: 'osfleet config list', description: 'the contexts (`osfleet preview` makes one named "preview")' },
    { command: 'osfleet --context preview config get address', description: "the sandbox's address" },
  ],
});
