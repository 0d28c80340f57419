/** What a live query asks for and what comes back, shared by the campaign driver (its options and records too) and its two transports. */

export interface Selection {
  hosts: string[];
  labels: string[];
}

export interface QueryRef {
  sql?: string | undefined;
  /** FleetDM saved query id (run with the saved query's permissions). */
  queryId?: number | undefined;
}

export interface CampaignInfo {
  id: number;
  metrics: { TotalHosts?: number; OnlineHosts?: number; OfflineHosts?: number; MissingInActionHosts?: number; NewHosts?: number } | undefined;
}

export interface Totals {
  count: number;
  online: number;
  offline: number;
  missing_in_action: number;
}

export interface CampaignStatus {
  expected_results: number;
  actual_results: number;
  status: string;
}

/** One host's answer; the same shape as the result pipeline's HostResult. */
export interface HostAnswer {
  host: string;
  hostId: number | undefined;
  rows: Array<Record<string, string>>;
  error?: string | undefined;
}

/** A host the query targets, as resolved before dispatch. */
export interface TargetHost {
  id: number;
  hostname: string;
  displayName?: string | undefined;
  uuid?: string | undefined;
  online: boolean;
}

export interface LiveQueryProgress {
  targeted: number;
  online: number;
  responded: number;
  errors: number;
  elapsedMs: number;
  transport: 'ws' | 'rest';
}

export interface LiveQueryOptions {
  query: QueryRef;
  /** What the first campaign asks for (the user's hosts and labels). */
  selection: Selection;
  /**
   * Every host the selection resolves to, from the preflight; undefined when the selection went to
   * the server unexpanded (labels): then the server's totals say how many hosts to wait for.
   */
  targets: TargetHost[] | undefined;
  /** With no targets: every targeted host, listed only when needed (REST live queries need ids). */
  listTargets?: () => Promise<TargetHost[]>;
  /** The campaign exists (the first one): the server's count of targeted and online hosts. */
  onCampaign?: (totals: { count: number; online: number } | undefined) => void;
  /**
   * Whether an answer is the campaign's (its host targeted): false drops it before it counts.
   * `asked`: the one host a REST request asked. Without it, an answer from outside known targets,
   * or not from the host asked, is dropped (src/results/untargeted.ts judges and counts).
   */
  admit?: (a: HostAnswer, asked: number | undefined) => boolean | Promise<boolean>;
  /** Wait for offline hosts too, until the timeout. */
  waitAll: boolean;
  /** 0 or undefined: no timeout. */
  timeoutMs: number | undefined;
  transport: 'auto' | 'ws' | 'rest';
  signal: AbortSignal;
  onProgress?: (p: LiveQueryProgress) => void;
  /** A note for the user (fallbacks, reconnects); never printed here. */
  onNotice?: (message: string) => void;
  debug?: ((line: string) => void) | undefined;
  maxReconnects?: number;
  restConcurrency?: number;
  now?: () => number;
}

export type EndReason = 'complete' | 'timeout' | 'interrupted' | 'failed';

/** What is kept of an answer once yielded: enough for the statuses, never the rows, so memory stays flat. */
export interface AnswerRecord {
  host: string;
  hostId: number | undefined;
  rowCount: number;
  error?: string | undefined;
}
