/** Saved queries (FleetDM 4.82+: reports): finding one by name in each generation (fleet-api.md §5.3 step 2). */
import { SHAPES } from './shapes.js';
import type { FleetClient } from './client.js';
import { getSpec } from './specs.js';
import { pick } from './server.js';

export interface SavedQuery {
  /** Set when a campaign can name the saved query by id (FleetDM: run with the saved query's permissions). */
  id?: number;
  name: string;
  query: string;
  description?: string;
}

/**
 * Kolide: the saved query's spec (its SQL is sent as ad-hoc SQL; no id). FleetDM: `GET /queries?query=`
 * (`/reports` on 4.82+), exact name match, so the campaign can reference it by id.
 */
export async function findQueryByName(client: FleetClient, name: string): Promise<SavedQuery | undefined> {
  const server = await client.server();
  if (server.traits.savedQueryLookup === 'spec') {
    const spec = await getSpec(client, 'queries', name);
    if (!spec || typeof spec['query'] !== 'string') return undefined;
    return { name: String(spec['name'] ?? name), query: spec['query'], ...(typeof spec['description'] === 'string' ? { description: spec['description'] } : {}) };
  }
  const body = await client.request<Record<string, unknown>>('GET', `/${server.words.queries}`, {
    query: { query: name, per_page: 100, page: 0 },
    shape: SHAPES.queryList,
  });
  const list = (pick<Array<SavedQuery & { id: number }> | null>(body, 'queries') ?? []).filter((q) => q && typeof q.name === 'string');
  const exact = list.find((q) => q.name === name) ?? list.find((q) => q.name.toLowerCase() === name.toLowerCase());
  return exact;
}

export interface QueryReportRow {
  host_id: number;
  host_name: string;
  last_fetched: string | null;
  columns: Record<string, unknown> | null;
}

export interface QueryReport {
  query_id: number;
  report_clipped: boolean;
  results: QueryReportRow[];
}

/** FleetDM 4.35+: the latest results of a scheduled query on each host (`GET /queries/{id}/report`). */
export async function getQueryReport(client: FleetClient, id: number): Promise<QueryReport> {
  // FleetDM 4.82+ says /reports/{id}/report and report_id; older ones /queries/{id}/report and query_id.
  const profile = await client.server();
  const body = await client.request<(Partial<QueryReport> & Record<string, unknown>) | null>('GET', `/${profile.words.queries}/${id}/report`, { shape: SHAPES.queryReport });
  const reportId = pick<number>(body, 'query_id');
  return {
    query_id: typeof reportId === 'number' ? reportId : id,
    report_clipped: body?.report_clipped === true,
    results: Array.isArray(body?.results) ? body.results : [],
  };
}
