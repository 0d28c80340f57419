/** `osfleet preview` as data; the work is in ./preview.js, loaded when the command runs. */
import type { PreviewOptions } from './preview.js';
import { defineCommand } from './define.js';

const dataOption = { flags: '--data <dir>', description: 'its data folder', complete: 'directory' } as const;

export const status = defineCommand<{ data?: string }>({
  name: 'status',
  summary: 'is a detached sandbox running?',
  options: [dataOption],
  inherit: ['data'],
  examples: [{ command: 'osfleet preview status', description: 'exit 0 and its address when one runs, 1 otherwise' }],
  run: async (options, ctx) => (await import('./preview.js')).runStatus(options, ctx),
});

export const stop = defineCommand<{ data?: string }>({
  name: 'stop',
  summary: 'stop a detached sandbox',
  options: [dataOption],
  inherit: ['data'],
  examples: [{ command: 'osfleet preview stop', description: 'stop the sandbox started with --detach (its data stays)' }],
  run: async (options, ctx) => (await import('./preview.js')).runStop(options, ctx),
});

export const command = defineCommand<PreviewOptions>({
  name: 'preview',
  summary: 'start the embedded Fleet-compatible sandbox with simulated osquery hosts',
  options: [
    { flags: '--dialect <dialect>', description: 'API generation to speak', choices: ['fleet', 'kolide'], default: 'fleet' },
    { flags: '--server-version <version>', description: 'server version to play (default: FleetDM 4.95.0, Kolide 3.2.0); FleetDM 4.82+ speaks reports/fleets, older the queries/teams names' },
    { flags: '--port <port>', description: 'port on 127.0.0.1 (default: 8412, 0 = any free port)', default: '8412', integer: { min: 0, max: 65535 } },
    { flags: '--hosts <n>', description: 'extra generated hosts besides the four of the story', default: '0', integer: { min: 0, max: Number.MAX_SAFE_INTEGER } },
    { flags: '--offline <n>', description: 'hosts that enrolled but stopped checking in', default: '0', integer: { min: 0, max: Number.MAX_SAFE_INTEGER } },
    { flags: '--slow <n>', description: 'hosts that answer late', default: '0', integer: { min: 0, max: Number.MAX_SAFE_INTEGER } },
    { flags: '--check-in <ms>', description: 'hosts check-in interval in milliseconds', integer: { min: 50, max: 86_400_000 } },
    { flags: '--data <dir>', description: 'keep the server state in this folder (default: in memory)', complete: 'directory' },
    { flags: '--seed <n>', description: 'seed for the generated data', default: '1', integer: { min: 0, max: Number.MAX_SAFE_INTEGER } },
    { flags: '--detach', description: 'run in the background (see `preview status` and `preview stop`)' },
    { flags: '--use', description: 'make the preview context the current one' },
    { flags: '--result-log <file>', description: "append the hosts' scheduled results here, as Fleet's filesystem logger (default: <data>/osquery_result)", complete: 'file' },
    { flags: '--time-factor <n>', description: 'run schedules n times faster (60: an hourly query every minute)' },
  ],
  examples: [
    { command: 'osfleet preview', description: 'a sandbox on http://127.0.0.1:8412 with four hosts, until Ctrl-C' },
    { command: 'osfleet preview --detach --use --hosts 50', description: 'in the background, 54 hosts, and made the current context' },
    { command: 'osfleet preview --dialect kolide --port 0', description: 'speak the Kolide Fleet 3.x API on any free port' },
  ],
  subcommands: [status, stop],
  // The foreground sandbox runs until Ctrl-C: that is its normal end (exit 0).
  endsOnSignal: true,
  run: async (options, ctx) => (await import('./preview.js')).run(options, ctx),
});
