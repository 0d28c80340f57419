/** Hosts and labels (fleet-api.md §4): paged listing as an async iterator, lookups, label members. */
import { SHAPES } from './shapes.js';
import type { FleetClient } from './client.js';
import { InterruptedError } from '../errors.js';

/** The fields osfleet reads; servers send many more (kept in `raw` order by the caller if needed). */
export interface Host {
  id: number;
  hostname: string;
  display_name?: string;
  uuid: string;
  platform: string;
  os_version?: string;
  osquery_version?: string;
  status?: string;
  seen_time?: string;
  hardware_serial?: string;
  primary_ip?: string;
  [key: string]: unknown;
}

export interface Label {
  id: number;
  name: string;
  description?: string;
  query?: string;
  platform?: string;
  label_type?: string | number;
  label_membership_type?: string | number;
  count?: number;
  host_count?: number;
  [key: string]: unknown;
}

export interface HostFilter {
  /** online, offline, new, or missing (sent as `mia` to Kolide). */
  status?: string | undefined;
  /** Search text: FleetDM filters on the server; Kolide has no search, so it is applied here. */
  search?: string | undefined;
  labelId?: number | undefined;
  perPage?: number;
}

/** Pages through the hosts; memory holds one page at a time. */
export async function* listHosts(client: FleetClient, filter: HostFilter = {}): AsyncGenerator<Host[]> {
  const { traits } = await client.server();
  const perPage = filter.perPage ?? 500;
  const path = filter.labelId !== undefined ? `/labels/${filter.labelId}/hosts` : '/hosts';
  const serverSearch = traits.hostSearch === 'server' ? filter.search : undefined;
  const needle = traits.hostSearch === 'client' && filter.search ? filter.search.toLowerCase() : undefined;
  // Kolide knows `mia`, FleetDM `missing` (and still `mia`).
  const status = filter.status === 'missing' || filter.status === 'mia' ? traits.missingStatus : filter.status;
  for (let page = 0; ; page++) {
    const body = await client.request<{ hosts?: Host[] | null }>('GET', path, {
      shape: SHAPES.hostList,
      query: {
        page,
        per_page: perPage,
        order_key: 'id',
        order_direction: 'asc',
        ...(status ? { status } : {}),
        ...(serverSearch ? { query: serverSearch } : {}),
      },
    });
    const hosts = body.hosts ?? [];
    const shown = needle ? hosts.filter((h) => matchesSearch(h, needle)) : hosts;
    if (shown.length > 0) yield shown;
    if (hosts.length < perPage) return;
  }
}

function matchesSearch(h: Host, needle: string): boolean {
  return [h.hostname, h.uuid, h.hardware_serial, h.primary_ip, h.display_name].some((v) => typeof v === 'string' && v.toLowerCase().includes(needle));
}

export async function getHost(client: FleetClient, id: number): Promise<Host | undefined> {
  try {
    return (await client.request<{ host: Host }>('GET', `/hosts/${id}`, { shape: SHAPES.host })).host;
  } catch (err) {
    if (client.isNotFound(err)) return undefined;
    throw err;
  }
}

/** Hostname, uuid, osquery identifier, node key or (newer FleetDM) serial. */
export async function getHostByIdentifier(client: FleetClient, identifier: string): Promise<Host | undefined> {
  try {
    return (await client.request<{ host: Host }>('GET', `/hosts/identifier/${encodeURIComponent(identifier)}`, { shape: SHAPES.host })).host;
  } catch (err) {
    // Kolide answers a missing host (or serial) with 500 "sql: no rows in result set".
    if (client.isNotFound(err)) return undefined;
    throw err;
  }
}

export async function listLabels(client: FleetClient): Promise<Label[]> {
  const body = await client.request<{ labels?: Label[] | null }>('GET', '/labels', { query: { per_page: 10000, page: 0 }, shape: SHAPES.labelList });
  return body.labels ?? [];
}

/**
 * The ids of a label's members in one request: FleetDM's CSV host report with the one column `id`
 * (about 7 bytes a host, where the host list sends ~2 KB of JSON a host in pages of 500: a label of
 * 100,000 hosts is one 0.7 MB answer instead of 200 answers of 1.1 MB). Undefined when the server
 * cannot answer so (Kolide; a FleetDM without the report, or one that ignores `columns`) or the
 * answer is not that one column of ids: the caller reads the pages instead.
 */
export async function labelMemberIds(client: FleetClient, labelId: number, debug?: (line: string) => void): Promise<Set<number> | undefined> {
  if (!(await client.server()).traits.hostReport) return undefined;
  let text: string;
  let header: string | undefined;
  try {
    // Not retried: on any failure the pages are read, with their own retries. A server that ignores
    // `columns` sends every column of every host: refused at its header, not read to the end.
    text = await client.request<string>('GET', '/hosts/report', {
      query: { format: 'csv', columns: 'id', label_id: labelId },
      text: true,
      firstLine: (line) => (header = line) === 'id',
      once: true,
    });
  } catch (err) {
    if (err instanceof InterruptedError) throw err;
    const why = header !== undefined && header !== 'id' ? `is not one column of ids (its header: ${JSON.stringify(header.slice(0, 80))})` : `could not be read (${err instanceof Error ? err.message : String(err)})`;
    debug?.(`the host report of label ${labelId} ${why}: reading its host list instead`);
    return undefined;
  }
  const ids = idsOfReport(text);
  if (!ids) debug?.(`the host report of label ${labelId} is not one column of ids: reading its host list instead`);
  return ids;
}

/** `id\n1\n2\n…` (Go's csv.Writer; `\r\n` accepted too) → the ids; undefined for any other header or value. */
export function idsOfReport(text: string): Set<number> | undefined {
  const lines = text.split('\n');
  const line = (i: number) => (lines[i]!.endsWith('\r') ? lines[i]!.slice(0, -1) : lines[i]!);
  if (line(0) !== 'id') return undefined;
  // The text ends with a line end: its last piece is empty.
  const last = lines.length - 1;
  if (lines[last] !== '') return undefined;
  const ids = new Set<number>();
  for (let i = 1; i < last; i++) {
    const v = line(i);
    if (!/^[1-9][0-9]{0,14}$/.test(v)) return undefined;
    ids.add(Number(v));
  }
  return ids;
}

/** Every member of a label, all pages. */
export async function labelMembers(client: FleetClient, labelId: number): Promise<Host[]> {
  const all: Host[] = [];
  for await (const page of listHosts(client, { labelId })) all.push(...page);
  return all;
}
