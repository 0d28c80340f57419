/** Saved queries: finding one by name in each generation (fleet-api.md §5.3 step 2). */
import type { FleetClient } from './client.js';
import { getSpec } from './specs.js';

export interface SavedQuery {
  id?: number;
  name: string;
  query: string;
  description?: string;
}

/**
 * Kolide: the saved query's spec (its SQL is sent as ad-hoc SQL). FleetDM: `GET /queries?query=`,
 * exact name match, so the campaign can reference it by `query_id` (and observers' run rights apply).
 */
export async function findQueryByName(client: FleetClient, name: string): Promise<SavedQuery | undefined> {
  await client.detect();
  if (client.dialect === 'kolide') {
    const spec = await getSpec(client, 'queries', name);
    if (!spec || typeof spec['query'] !== 'string') return undefined;
    return { name: String(spec['name'] ?? name), query: spec['query'], ...(typeof spec['description'] === 'string' ? { description: spec['description'] } : {}) };
  }
  const body = await client.request<{ queries?: Array<SavedQuery & { id: number }> | null }>('GET', '/queries', {
    query: { query: name, per_page: 100, page: 0 },
  });
  const exact = (body.queries ?? []).find((q) => q.name === name) ?? (body.queries ?? []).find((q) => q.name.toLowerCase() === name.toLowerCase());
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
  const body = await client.request<Partial<QueryReport> | null>('GET', `/queries/${id}/report`);
  return {
    query_id: typeof body?.query_id === 'number' ? body.query_id : id,
    report_clipped: body?.report_clipped === true,
    results: Array.isArray(body?.results) ? body.results : [],
  };
}
