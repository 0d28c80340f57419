/**
 * The REST transport of a live query: FleetDM's synchronous `POST /hosts/{id}/query`, for where
 * websockets are blocked. One host per request with bounded concurrency; a host not answered yet is
 * asked again while time remains.
 */
import { SHAPES } from './shapes.js';
import type { FleetClient } from './client.js';
import type { HostAnswer, TargetHost } from './campaign-types.js';
import { CliError, NotFoundError, ApiError } from '../errors.js';
import { sleep, wakeOrAbort } from '../sleep.js';

export interface RestOptions {
  /** Ends the run: an interrupt or the deadline. */
  stop: AbortSignal;
  /** Offline hosts are asked again too (--wait-all). */
  waitAll: boolean;
  /** Requests at once (default 8). */
  concurrency?: number | undefined;
}

/** A REST answer, and the one host its request asked (the reply says whose answer it is). */
export type RestAnswer = HostAnswer & { asked: number };

/**
 * Each host's answer as it comes (at most once per request that answered); returns the error that
 * stopped the run early, if any.
 */
export async function* restAnswers(
  client: FleetClient,
  hosts: readonly TargetHost[],
  sql: string,
  opts: RestOptions,
): AsyncGenerator<RestAnswer, CliError | undefined> {
  const { stop } = opts;
  const ready: RestAnswer[] = [];
  let wake: (() => void) | undefined;
  const concurrency = opts.concurrency ?? 8;
  const queue = [...hosts];
  let active = 0;
  let fatal: CliError | undefined;
  const worker = async () => {
    for (;;) {
      const t = queue.shift();
      if (!t || stop.aborted || fatal) return;
      active++;
      try {
        const res = await client.request<{ host_id: number; status?: string; error?: string | null; rows?: Array<Record<string, string>> | null }>(
          'POST',
          `/hosts/${t.id}/query`,
          // Safe to repeat: it runs a read-only query on one host and keeps no state on the server,
          // so a 503 burst from a proxy need not sink the whole run.
          { body: { query: sql }, headersTimeoutMs: 90_000, signal: stop, idempotent: true, shape: SHAPES.restLiveQuery },
        );
        if (res.status === 'offline' || res.error === 'timeout waiting for results') {
          // Not answered yet: try again while time remains, without hammering the server.
          if (opts.waitAll || res.status !== 'offline') {
            await sleep(1000, stop);
            queue.push(t);
          }
        } else {
          // A reply naming another host is not the answer of the host asked: named as the reply says.
          const id = res.host_id;
          ready.push({ host: id === t.id ? t.hostname : `host id ${id}`, hostId: id, rows: res.rows ?? [], ...(res.error ? { error: res.error } : {}), asked: t.id });
        }
      } catch (err) {
        if (stop.aborted) return;
        if (err instanceof NotFoundError && err.path.endsWith('/query')) {
          fatal = new CliError('this Fleet server has no REST live queries (POST /hosts/{id}/query is missing); use the websocket transport');
        } else if (err instanceof ApiError || err instanceof CliError) {
          fatal = err;
        } else throw err;
      } finally {
        active--;
        const w = wake;
        wake = undefined;
        w?.();
      }
      if (queue.length > 0) await sleep(0, stop);
    }
  };
  const workers = Array.from({ length: Math.min(concurrency, Math.max(1, queue.length)) }, () => worker());
  const all = Promise.all(workers);
  for (;;) {
    while (ready.length > 0) yield ready.shift()!;
    if (fatal) break;
    if ((queue.length === 0 && active === 0) || stop.aborted) break;
    await wakeOrAbort(stop, (w) => (wake = w));
  }
  await all.catch(() => undefined);
  return fatal;
}
