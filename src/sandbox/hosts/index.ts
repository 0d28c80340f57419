/**
 * Simulated osquery hosts for the sandbox: each one enrolls over the osquery TLS remote API,
 * fetches its config, polls distributed queries and answers them from its own SQLite
 * database of osquery-shaped tables. See agent.ts (protocol), model.ts (fleet),
 * engine.ts (SQL), schedule.ts (scheduled queries and result logs), story.ts and
 * templates.ts (data).
 *
 * The story's hosts, in this order: dwight-win10 (Windows 10 Pro), centos-fileserver
 * (CentOS 7.2), pam-macbook-1015 (macOS 10.15.6), jim-macbook-1014 (macOS 10.14.6; ryan
 * printed the confidential PDF there and copied it to a Kingston stick and the share).
 */
import { AgentFleet } from './agent.js';
import { DirectFleet, type DirectServer } from './direct.js';
import type { AgentHostFlags } from './agent.js';
import type { SimHost } from './model.js';
import { buildModel } from './model.js';

export { answerAs } from './answer.js';
export type { DirectServer, DirectHostRec } from './direct.js';
export { CONFIDENTIAL_PRINTED_AT, CONFIDENTIAL_TITLE, STORY_HOSTNAMES } from './story.js';

export interface FleetOptions {
  serverUrl: string;
  osqueryPrefix: string;
  enrollSecret: string;
  seed: number;
  /** The story's four hosts (default true). */
  story?: boolean;
  extraHosts: number;
  offline: number;
  slow: number;
  slowDelayMs?: number;
  checkInMs: number;
  ca?: string | Buffer;
  /** Scheduled queries run this many times faster than their interval. */
  timeFactor?: number;
  /**
   * The server in-process: hosts beyond the first `httpHosts` then check in through it directly
   * (direct.ts) instead of over HTTP. Without it, every host uses HTTP.
   */
  direct?: DirectServer;
  /** How many hosts (the story's first) use the real protocol over HTTP when `direct` is given. */
  httpHosts?: number;
}

export interface SimulatedHostInfo {
  hostname: string;
  uuid: string;
  hardwareSerial: string;
  platform: 'darwin' | 'linux' | 'windows';
  osVersion: string;
  offline: boolean;
  slow: boolean;
}

export interface SimulatedFleet {
  hosts: SimulatedHostInfo[];
  ready: Promise<void>;
  /** Takes a host off the network or brings it back; resolves once it is parked or has checked in. */
  setOffline(hostname: string, offline: boolean): Promise<void>;
  stop(): Promise<void>;
}

/** Story hosts in the order they are taken for --offline: the Windows desktop first. */
const STORY_OFFLINE_ORDER = [0, 1, 3, 2];
/** ... and for --slow: the file server, then the Macs, the desktop last. */
const STORY_SLOW_ORDER = [1, 3, 2, 0];

/**
 * Which hosts are offline and which slow. Generated hosts are taken first, from the end of
 * the list (offline ones last, slow ones just before them), then the story's.
 */
export function assignFlags(hosts: readonly SimHost[], offline: number, slow: number): AgentHostFlags[] {
  const flags = hosts.map(() => ({ offline: false, slow: false }));
  const generated = hosts.filter((h) => !h.story).map((h) => h.index).reverse();
  const story = hosts.filter((h) => h.story).map((h) => h.index);
  const order = (pref: number[]): number[] => [...generated, ...pref.filter((i) => story.includes(i))];
  let n = 0;
  for (const i of order(STORY_OFFLINE_ORDER)) {
    if (n >= offline) break;
    (flags[i] as AgentHostFlags).offline = true;
    n++;
  }
  n = 0;
  for (const i of order(STORY_SLOW_ORDER)) {
    if (n >= slow) break;
    const f = flags[i] as AgentHostFlags;
    if (f.offline) continue;
    f.slow = true;
    n++;
  }
  return flags;
}

function checkCount(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative integer, got ${v}`);
}

export async function startFleet(opts: FleetOptions): Promise<SimulatedFleet> {
  checkCount('extraHosts', opts.extraHosts);
  checkCount('offline', opts.offline);
  checkCount('slow', opts.slow);
  if (!(opts.checkInMs > 0)) throw new RangeError(`checkInMs must be positive, got ${opts.checkInMs}`);
  const slowDelayMs = opts.slowDelayMs ?? 3 * opts.checkInMs;
  const model = buildModel({
    seed: opts.seed,
    story: opts.story ?? true,
    extraHosts: opts.extraHosts,
    // Long enough for every host of a template to answer one campaign from the cache.
    cacheMs: 2 * opts.checkInMs + 1000,
  });
  const flags = assignFlags(model.hosts, opts.offline, opts.slow);
  const httpCount = opts.direct ? Math.min(model.hosts.length, Math.max(0, opts.httpHosts ?? model.hosts.length)) : model.hosts.length;
  const direct = opts.direct && httpCount < model.hosts.length
    ? new DirectFleet(model, model.hosts.slice(httpCount), flags, opts.direct, { checkInMs: opts.checkInMs, slowDelayMs })
    : undefined;
  const fleet = new AgentFleet(model, flags, {
    hosts: model.hosts.slice(0, httpCount),
    serverUrl: opts.serverUrl,
    osqueryPrefix: opts.osqueryPrefix,
    enrollSecret: opts.enrollSecret,
    checkInMs: opts.checkInMs,
    slowDelayMs,
    ca: opts.ca,
    ...(opts.timeFactor !== undefined ? { timeFactor: opts.timeFactor } : {}),
  });
  const hosts: SimulatedHostInfo[] = model.hosts.map((h, i) => ({
    hostname: h.identity.hostname,
    uuid: h.identity.uuid,
    hardwareSerial: h.identity.hardwareSerial,
    platform: h.template.platform,
    osVersion: h.template.data.osDisplay,
    offline: flags[i]?.offline ?? false,
    slow: flags[i]?.slow ?? false,
  }));
  let stopping: Promise<void> | undefined;
  const ready = direct ? Promise.all([fleet.ready, direct.ready]).then(() => undefined) : fleet.ready;
  ready.catch(() => undefined);
  return {
    hosts,
    ready,
    async setOffline(hostname, offline) {
      await fleet.setOffline(hostname, offline);
      const h = hosts.find((x) => x.hostname === hostname);
      if (h) h.offline = offline;
    },
    stop() {
      direct?.stop();
      stopping ??= fleet.stop().finally(() => model.close());
      return stopping;
    },
  };
}
