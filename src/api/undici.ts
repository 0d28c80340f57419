/**
 * The two parts of undici the client uses, an Agent and `request`, loaded on their own.
 *
 * `import 'undici'` evaluates all of undici (fetch, cookies, websocket, cache, mocks: 110 modules),
 * which cost every command that talks to a server about 70 ms of CPU at start (median of 15 runs of
 * `osfleet whoami`: 270 ms → 200 ms). undici has no `exports` map, so these files are reachable; the
 * version is pinned exactly in package.json because they are not its documented entry points, and
 * test/api-client.test.ts fails at once if an upgrade moves them.
 */
import { createRequire } from 'node:module';
import type { Agent as AgentClass, Dispatcher } from 'undici';

const require = createRequire(import.meta.url);

export type { Dispatcher };

/** undici's Agent (connection pools per origin, TLS options, timeouts). */
export const Agent = require('undici/lib/dispatcher/agent.js') as typeof AgentClass;

const requestOn = require('undici/lib/api/api-request.js') as (this: Dispatcher, opts: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>;

/** `undici.request(url, options)`: the same call, on the given dispatcher (never the global one). */
export function request(url: string, opts: Omit<Dispatcher.RequestOptions, 'origin' | 'path'> & { dispatcher: Dispatcher }): Promise<Dispatcher.ResponseData> {
  const { dispatcher, ...rest } = opts;
  const target = new URL(url);
  return requestOn.call(dispatcher, { ...rest, origin: target.origin, path: `${target.pathname}${target.search}` });
}
