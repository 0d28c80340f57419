/**
 * What happens to the result lines hosts send to `/log` (log_type result): written to the result
 * log as Fleet's filesystem logger does (each item as received, one JSON object per line, appended
 * to `osquery_result`, mode 0600), kept per saved query and host for FleetDM's query reports
 * (`GET /queries/{id}/report`: the latest rows of each host), and announced to listeners (tests
 * wait on the event, never on time).
 */
import { EventEmitter } from 'node:events';
import { closeSync, openSync, writeSync } from 'node:fs';
import type { HostRec, Store } from './store.js';

type Json = Record<string, unknown>;
type Row = Record<string, string>;

export interface ReportRow {
  hostId: number;
  hostName: string;
  lastFetched: number;
  columns: Row;
}

/** FleetDM keeps at most this many rows per query report (query_report_cap, default 1000). */
export const REPORT_CAP = 1000;

export interface ResultEvent {
  host: string;
  items: Json[];
  /** Lines in the log so far. */
  total: number;
}

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

function stringRow(v: unknown): Row {
  const out: Row = {};
  if (!isObject(v)) return out;
  for (const [k, x] of Object.entries(v)) out[k] = typeof x === 'string' ? x : x === null || x === undefined ? '' : String(x);
  return out;
}

export class ResultLog extends EventEmitter {
  private fd: number | null = null;
  lines = 0;
  /** saved query id -> host id -> the host's current rows (by JSON text, a multiset) and when they came. */
  private readonly reports = new Map<number, Map<number, { rows: Map<string, number>; at: number; host: string }>>();

  constructor(
    private readonly store: Store,
    readonly path: string | undefined,
  ) {
    super();
    if (path) this.fd = openSync(path, 'a', 0o600);
  }

  /** The saved query a scheduled name (`pack/<pack>/<entry>`, `pack/Global/<query>`) runs. */
  private savedQueryOf(name: string): number | undefined {
    const m = /^pack[/_](.+)$/.exec(name);
    if (!m) return undefined;
    const rest = m[1]!;
    if (rest.startsWith('Global/')) return this.store.savedQueryByName(rest.slice('Global/'.length))?.id;
    for (const p of this.store.packs()) {
      for (const sep of ['/', '_']) {
        if (!rest.startsWith(`${p.name}${sep}`)) continue;
        const entry = rest.slice(p.name.length + 1);
        const qs = (Array.isArray(p.spec.queries) ? p.spec.queries : []) as Json[];
        const q = qs.find((x) => String(x.name ?? x.query) === entry);
        if (q) return this.store.savedQueryByName(String(q.query ?? ''))?.id;
      }
    }
    return undefined;
  }

  /** One `/log` request's result items from a host. */
  add(h: HostRec, items: unknown[], now: number): void {
    const objects = items.filter(isObject);
    if (objects.length === 0) return;
    if (this.fd !== null) {
      // One write per request: lines of one batch are never interleaved with another's.
      writeSync(this.fd, objects.map((o) => `${JSON.stringify(o)}\n`).join(''));
    }
    this.lines += objects.length;
    for (const o of objects) this.track(h, o, now);
    this.emit('results', { host: h.hostname, items: objects, total: this.lines } satisfies ResultEvent);
  }

  private track(h: HostRec, o: Json, now: number): void {
    if (typeof o.name !== 'string') return;
    const id = this.savedQueryOf(o.name);
    if (id === undefined) return;
    let byHost = this.reports.get(id);
    if (!byHost) this.reports.set(id, (byHost = new Map()));
    let cur = byHost.get(h.id);
    const change = (row: unknown, d: number) => {
      const k = JSON.stringify(stringRow(row));
      const n = (cur!.rows.get(k) ?? 0) + d;
      if (n > 0) cur!.rows.set(k, n);
      else cur!.rows.delete(k);
    };
    if (Array.isArray(o.snapshot)) {
      cur = { rows: new Map(), at: now, host: h.hostname };
      byHost.set(h.id, cur);
      for (const r of o.snapshot) change(r, 1);
      return;
    }
    if (!cur) byHost.set(h.id, (cur = { rows: new Map(), at: now, host: h.hostname }));
    cur.at = now;
    if (isObject(o.diffResults)) {
      for (const r of Array.isArray(o.diffResults.added) ? o.diffResults.added : []) change(r, 1);
      for (const r of Array.isArray(o.diffResults.removed) ? o.diffResults.removed : []) change(r, -1);
    } else if (o.action === 'added') change(o.columns, 1);
    else if (o.action === 'removed') change(o.columns, -1);
  }

  /** The report of a saved query: each host's latest rows, hosts by id, at most REPORT_CAP rows. */
  report(queryId: number): { rows: ReportRow[]; clipped: boolean } {
    const out: ReportRow[] = [];
    const byHost = this.reports.get(queryId);
    if (!byHost) return { rows: out, clipped: false };
    for (const [hostId, cur] of [...byHost.entries()].sort((a, b) => a[0] - b[0])) {
      const name = this.store.hostById(hostId)?.hostname ?? cur.host;
      for (const [k, n] of cur.rows) for (let i = 0; i < n; i++) out.push({ hostId, hostName: name, lastFetched: cur.at, columns: JSON.parse(k) as Row });
    }
    return { rows: out.slice(0, REPORT_CAP), clipped: out.length > REPORT_CAP };
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    this.removeAllListeners();
  }
}
