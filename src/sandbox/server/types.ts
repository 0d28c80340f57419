/** Shapes shared by the sandbox server's modules (never by the client: see DESIGN.md). */

export type Dialect = 'fleet' | 'kolide';

export interface FaultRule {
  /** path: a prefix, or /regex/flags (a regex when the text between the slashes holds one of ^$\()[]{}*+?|), on the path without query. */
  match?: { method?: string; path?: string };
  fault: '500' | '502' | '503' | '429' | 'reset' | 'hang' | 'malformed-json' | 'html' | 'delay' | 'ws-block';
  /** Apply to the next N matching requests, then stop. */
  count?: number;
  /** Or: this share of matching requests (seeded PRNG). */
  rate?: number;
  /** Seconds, for 429/503. */
  retryAfter?: number;
  /** For 'delay'. */
  delayMs?: number;
}

export interface FaultPlan {
  seed?: number;
  rules?: FaultRule[];
  /** Close (drop, without a close frame) results websockets after K server messages; for the next `count` sockets (default all). */
  websocket?: { closeAfterMessages?: number; count?: number };
  /** Every successful campaign result gets this many extra rows (copies of its first row), to make big results. */
  resultRowsPad?: number;
  /**
   * Live-query campaigns also deliver answers from hosts they did not target, just before the first
   * real answer (a buggy or hostile server or proxy; Fleet itself publishes any enrolled host's answer
   * named after a campaign without checking that the campaign targets it). Over FleetDM's REST live
   * query, where a reply answers one host's request, the reply names the stray host instead.
   */
  strayAnswers?: StrayAnswers;
}

export interface StrayAnswers {
  /**
   * An existing host by hostname (skipped by a campaign that targets it), or an invented one by an id
   * no host has. Each sends a copy of the first real answer's rows.
   */
  hosts: Array<string | { id: number; hostname: string }>;
  /** For the next N campaigns (each REST host query is one), then stop; default every campaign. */
  campaigns?: number;
}

export interface ServerOptions {
  dialect: Dialect;
  /** The version the server reports (default: Kolide 3.2.0, FleetDM 4.95.0); FleetDM ≥ 4.82 speaks reports/fleets. */
  version?: string;
  /** Serve everything under this path (FleetDM's server.url_prefix, e.g. /fleet); anything else is 404. */
  urlPrefix?: string;
  /** Record this request header's value on every REST request and websocket upgrade (tests: custom headers). */
  recordHeader?: string;
  /** A line per notable event (each use of a deprecated path or key), for preview --debug. */
  log?: (line: string) => void;
  enrollSecret: string;
  /** ':memory:' or a file path. */
  dbPath: string;
  statusTickMs: number;
  /** Interval (seconds) told to agents through options.distributed_interval / config_refresh. */
  agentIntervalSec: number;
  tls: boolean;
  faults?: FaultPlan;
  /** FleetDM's REST live-query wait (FLEET_LIVE_QUERY_REST_PERIOD, 25 s). */
  restPeriodMs?: number;
  /** A campaign nobody selects on the websocket is closed after this long (Kolide ~5 s, FleetDM ~60 s). */
  campaignIdleMs?: number;
  /** How often hosts re-run label queries (Fleet: label_update_interval, 1 h). */
  labelUpdateIntervalMs?: number;
  /** How often hosts re-run detail queries (Fleet: 1 h). */
  detailUpdateIntervalMs?: number;
  now?: () => number;
  /** Append the hosts' result lines here, as Fleet's filesystem logger does (osquery_result). */
  resultLogPath?: string | undefined;
}
