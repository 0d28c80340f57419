/** What a live query asks for and what comes back, shared by the campaign driver and its two transports. */

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
