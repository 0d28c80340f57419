/**
 * The embedded Fleet-compatible sandbox: a server speaking one dialect (Kolide 3.x or FleetDM 4.x)
 * over HTTP(S) and a websocket, with simulated osquery hosts enrolled over the real agent protocol.
 *
 * Enroll secret: `sandboxEnrollSecret(seed)`, created as the `default` secret when the server first
 * starts (before setup, like a server whose operator pre-provisioned agents), so hosts enroll before
 * anyone runs setup. A secret given to setup is added beside it.
 */
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { SandboxServer } from './server/http.js';
import type { Dialect, FaultPlan } from './server/types.js';
import type { HostRec } from './server/store.js';

export type { Dialect, FaultPlan, FaultRule, StrayAnswers } from './server/types.js';
export { validatePlan } from './server/faults.js';
import type { ResultEvent } from './server/results.js';
export type { ResultEvent };

// The simulated hosts' contract, from their module (loaded lazily below: a server without hosts
// does not pay for it).
import type { FleetOptions, SimulatedFleet, SimulatedHostInfo } from './hosts/index.js';
export type { FleetOptions, SimulatedFleet, SimulatedHostInfo };

export interface SandboxOptions {
  dialect?: Dialect;
  /** Serve under this URL prefix (FleetDM's server.url_prefix, e.g. /fleet); `url` then ends with it. */
  urlPrefix?: string;
  /** Record this request header on every REST request and websocket upgrade (in `headerLog`). */
  recordHeader?: string;
  /** The server version to play (default: Kolide 3.2.0, FleetDM 4.95.0); FleetDM 4.82+ speaks reports/fleets. */
  version?: string;
  /** Notable events (each use of a deprecated path or key), for preview --debug. */
  log?: (line: string) => void;
  port?: number;
  host?: string;
  dataDir?: string;
  seed?: number;
  story?: boolean;
  extraHosts?: number;
  offline?: number;
  slow?: number;
  slowDelayMs?: number;
  /** Hosts' check-in interval; default 1000 ms up to 100 hosts, then 1 ms per host up to 10 s (10,000 hosts ≈ 1,000 polls/s). */
  checkInMs?: number;
  /** Websocket totals/status timer, default 5000 (Fleet's). */
  statusTickMs?: number;
  tls?: { key: string | Buffer; cert: string | Buffer; ca?: string | Buffer };
  faults?: FaultPlan;
  /**
   * How many hosts speak the agent protocol over HTTP; the others check in through the server
   * in-process. Default: all of them up to DIRECT_ABOVE hosts, then HTTP_HOSTS.
   */
  httpHosts?: number;
  /** Start the simulated fleet (default true). */
  hosts?: boolean;
  /** FleetDM REST live-query wait, default 25 s. */
  restPeriodMs?: number;
  /** Close campaigns nobody selects after this long (default: Kolide 5 s, FleetDM 60 s). */
  campaignIdleMs?: number;
  /** Append the hosts' scheduled results here, as Fleet's filesystem logger (default: `<dataDir>/osquery_result`, none in memory). */
  resultLog?: string;
  /** Scheduled queries run this many times faster than their interval (60: an hourly query every minute). */
  timeFactor?: number;
}

export interface Sandbox {
  url: string;
  port: number;
  dialect: Dialect;
  /** The version `/version` reports. */
  version: string;
  /** `reports` (FleetDM 4.82+) or `queries`. */
  naming: 'queries' | 'reports';
  /** Each use of an old path or key against a new-naming sandbox. */
  readonly deprecated: ReadonlyArray<{ method: string; path: string; kind: 'path' | 'key'; name: string }>;
  /** Values of `recordHeader` per REST request and websocket upgrade. */
  readonly headerLog: ReadonlyArray<{ via: 'rest' | 'ws'; path: string; value: string | undefined }>;
  /** Each new key (fleet_id, report_id…) sent to an old-naming FleetDM, which ignores it. */
  readonly ignoredNewKeys: ReadonlyArray<{ method: string; path: string; kind: 'path' | 'key'; name: string }>;
  enrollSecret: string;
  fleet: SimulatedFleet | undefined;
  setFaults(plan: FaultPlan): void;
  /** Where the result log is written, if anywhere. */
  resultLog: string | undefined;
  /** Calls back with each batch of result lines hosts send (tests wait on it instead of sleeping). */
  onResults(listener: (e: ResultEvent) => void): () => void;
  /**
   * Takes a simulated host off the network (the server sees it offline at once, as after a long
   * absence) or brings it back (resolves after its first check-in).
   */
  setHostOffline(hostname: string, offline: boolean): Promise<void>;
  stop(): Promise<void>;
  /** Internal, for tests: the server object (store, campaigns). */
  readonly server: SandboxServer;
}

/** The fixed enroll secret of a sandbox started with this seed. */
export function sandboxEnrollSecret(seed: number): string {
  return `osfleet-sandbox-${createHash('sha256').update(`osfleet-sandbox-enroll:${seed}`).digest('hex').slice(0, 24)}`;
}

export function defaultCheckInMs(hostCount: number): number {
  return hostCount <= 100 ? 1000 : Math.min(10_000, Math.max(1000, hostCount));
}

/**
 * Up to this many hosts, every simulated host speaks the agent protocol over HTTP; beyond it (one
 * process cannot poll itself 10,000 times a second), the first HTTP_HOSTS do, the rest in-process.
 * An HTTP host costs ~25 times the CPU of an in-process one (start-up at 100,000 hosts: 2,000 of
 * them were 40 % of it), so a few hundred keep the real protocol exercised.
 */
export const DIRECT_ABOVE = 10_000;
export const HTTP_HOSTS = 500;

/** How long ago the sandbox's offline hosts were last seen. */
export const OFFLINE_SEEN_AGO_MS = 3 * 3600 * 1000;

/**
 * The data folder holds the session tokens (in SQLite) and the generated admin password: 0700, and
 * every file in it 0600. The database is created 0600 before SQLite opens it, as SQLite gives its
 * -wal and -shm files the mode of the database; files left by an older run are tightened too.
 */
function privateDataDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const db = path.join(dir, 'sandbox.sqlite');
  if (!existsSync(db)) closeSync(openSync(db, 'a', 0o600));
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    try {
      chmodSync(path.join(dir, entry.name), 0o600);
    } catch {
      // a file of someone else's: left alone
    }
  }
}

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const dialect = opts.dialect ?? 'fleet';
  const seed = opts.seed ?? 1;
  const story = opts.story ?? true;
  const extraHosts = opts.extraHosts ?? 0;
  const total = (story ? 4 : 0) + extraHosts;
  const checkInMs = opts.checkInMs ?? defaultCheckInMs(total);
  const host = opts.host ?? '127.0.0.1';
  const enrollSecret = sandboxEnrollSecret(seed);
  if (opts.dataDir) privateDataDir(opts.dataDir);
  const resultLog = opts.resultLog ?? (opts.dataDir ? path.join(opts.dataDir, 'osquery_result') : undefined);
  const server = new SandboxServer(
    {
      dialect, enrollSecret, ...(opts.version ? { version: opts.version } : {}), ...(opts.log ? { log: opts.log } : {}), ...(opts.urlPrefix ? { urlPrefix: opts.urlPrefix } : {}), ...(opts.recordHeader ? { recordHeader: opts.recordHeader } : {}), dbPath: opts.dataDir ? path.join(opts.dataDir, 'sandbox.sqlite') : ':memory:',
      statusTickMs: opts.statusTickMs ?? 5000, agentIntervalSec: Math.max(1, Math.ceil(checkInMs / 1000)), tls: Boolean(opts.tls),
      ...(opts.faults ? { faults: opts.faults } : {}),
      ...(opts.restPeriodMs !== undefined ? { restPeriodMs: opts.restPeriodMs } : {}),
      ...(opts.campaignIdleMs !== undefined ? { campaignIdleMs: opts.campaignIdleMs } : {}),
      ...(resultLog ? { resultLogPath: resultLog } : {}),
    },
    opts.tls,
  );
  let fleet: SimulatedFleet | undefined;
  try {
    const port = await server.listen(opts.port ?? 0, host);
    const origin = `${opts.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
    const url = origin + (opts.urlPrefix ?? '');
    if (opts.hosts !== false && total > 0) {
      const mod = await import('./hosts/index.js');
      const core = server.core;
      const secretName = core.store.secrets().find((x) => x.active && x.secret === enrollSecret)?.name ?? 'default';
      fleet = await mod.startFleet({
        // Past DIRECT_ABOVE hosts, all but the first HTTP_HOSTS check in through the server in-process.
        ...((opts.httpHosts !== undefined ? opts.httpHosts < total : total > DIRECT_ABOVE)
          ? {
              httpHosts: opts.httpHosts ?? HTTP_HOSTS,
              direct: {
                enroll: (identifier, details) => core.enroll(identifier, secretName, details),
                queriesFor: (h) => core.queriesFor(h as HostRec),
                ingest: (h, queries, statuses, messages, stats) => core.ingest(h as HostRec, queries, statuses, messages, stats),
                batch: (fn) => core.store.transaction(fn),
              },
            }
          : {}),
        serverUrl: origin, osqueryPrefix: (opts.urlPrefix ?? '') + (dialect === 'kolide' ? '/api/v1/osquery' : '/api/osquery'), enrollSecret, seed, story, extraHosts,
        offline: opts.offline ?? 0, slow: opts.slow ?? 0, checkInMs,
        ...(opts.slowDelayMs !== undefined ? { slowDelayMs: opts.slowDelayMs } : {}),
        ...(opts.timeFactor !== undefined ? { timeFactor: opts.timeFactor } : {}),
        ...(opts.tls?.ca !== undefined ? { ca: opts.tls.ca } : opts.tls ? { ca: opts.tls.cert } : {}),
      });
      await fleet.ready;
      // Hosts enroll with their hostname as identifier: one map lookup each, not a scan of the fleet.
      const ids = fleet.hosts
        .filter((h) => h.offline)
        .map((h) => (core.store.hostByOsqueryId(h.hostname) ?? core.hostsByIdentifier(h.uuid))?.id)
        .filter((id): id is number => id !== undefined);
      core.store.backdateSeen(ids, core.now() - OFFLINE_SEEN_AGO_MS);
    }
    let stopped: Promise<void> | undefined;
    const f = fleet;
    return {
      url, port, dialect, enrollSecret, fleet, server,
      version: server.versionInfo['version']!, naming: server.naming, deprecated: server.deprecated, ignoredNewKeys: server.ignoredNewKeys, headerLog: server.headerLog,
      setFaults: (plan) => server.setFaults(plan),
      resultLog,
      onResults(listener) {
        server.core.results.on('results', listener);
        return () => server.core.results.off('results', listener);
      },
      async setHostOffline(hostname, offline) {
        if (!f) throw new Error('the sandbox runs no simulated hosts');
        await f.setOffline(hostname, offline);
        const info = f.hosts.find((h) => h.hostname === hostname);
        const id = info ? server.core.hostsByIdentifier(info.uuid)?.id : undefined;
        if (offline && id !== undefined) server.core.store.backdateSeen([id], server.core.now() - OFFLINE_SEEN_AGO_MS);
      },
      stop: () => (stopped ??= (async () => {
        try {
          await f?.stop();
        } finally {
          await server.close();
        }
      })()),
    };
  } catch (e) {
    await fleet?.stop().catch(() => {});
    await server.close();
    throw e;
  }
}
