/** The unit of the result pipeline: one host's answer to one query. */

/** osquery sends every value as a string; enrichment may add columns, still strings. */
export type Row = Record<string, string>;

export interface HostResult {
  /** The host's display name (hostname), as fleetctl prints it. */
  host: string;
  hostId?: number | undefined;
  rows: Row[];
  /** osquery's error message when the query failed on this host. */
  error?: string | undefined;
}

export type HostState = 'answered' | 'empty' | 'error' | 'no-response' | 'offline';

export interface HostStatus {
  host: string;
  hostId?: number | undefined;
  status: HostState;
  rows: number;
  error?: string | undefined;
}
