/**
 * Scheduled queries as osquery reads them from a config (osquery.md §2): the top-level
 * `schedule` and object-valued `packs`, filtered by platform, version, shard and pack
 * discovery; and the result-log items osquery writes for them (§1.6, event format).
 * Pure functions: the agent supplies the host facts and a way to run SQL.
 */
import { createHash } from 'node:crypto';
import type { AnswerRow } from './engine.js';
import type { SimPlatform } from './schema.js';

export interface ScheduledQuery {
  name: string;
  query: string;
  intervalS: number;
  snapshot: boolean;
  removed: boolean;
}

export interface ScheduleHost {
  hostname: string;
  platform: SimPlatform;
  osqueryVersion: string;
}

type Json = Record<string, unknown>;

/** osquery's substring platform rule: "any"/"all", linux/ubuntu/centos, posix, darwin, windows. */
export function platformMatches(value: unknown, platform: SimPlatform): boolean {
  if (value === undefined || value === null || value === '') return true;
  if (typeof value !== 'string') return false;
  const v = value.toLowerCase();
  if (v.includes('any') || v.includes('all')) return true;
  if (platform === 'linux' && (v.includes('linux') || v.includes('ubuntu') || v.includes('centos') || v.includes('posix'))) return true;
  if (platform === 'darwin' && (v.includes('darwin') || v.includes('posix'))) return true;
  if (platform === 'windows' && v.includes('windows')) return true;
  return false;
}

/** True when `have` is at least `need` (dotted numbers; missing parts are 0). */
export function versionAtLeast(have: string, need: unknown): boolean {
  if (need === undefined || need === null || need === '') return true;
  if (typeof need !== 'string') return false;
  const a = have.split('.').map((x) => parseInt(x, 10) || 0);
  const b = need.split('.').map((x) => parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}

/** The host's shard, 0–100: first byte of SHA-1(hostname) × 100 / 255, as osquery computes it. */
export function hostShard(hostname: string): number {
  const first = createHash('sha1').update(hostname).digest()[0] ?? 0;
  return Math.floor((first * 100) / 255);
}

function shardMatches(value: unknown, hostname: string): boolean {
  if (value === undefined || value === null) return true;
  const s = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  if (!Number.isFinite(s) || s <= 0) return true;
  return hostShard(hostname) <= s;
}

function truthy(v: unknown, dflt: boolean): boolean {
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v === 'true' || v === 't' || (v !== '' && Number(v) !== 0 && !Number.isNaN(Number(v)));
  return dflt;
}

function interval(v: unknown): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : v === undefined ? 3600 : NaN;
  if (!Number.isFinite(n) || n < 1 || n > 604800) return null;
  return Math.floor(n);
}

function reservedName(name: string): boolean {
  return /^(query\.|cache\.|config_views\.)/.test(name) || /(epoch|counter)$/.test(name);
}

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function addQueries(out: ScheduledQuery[], seen: Set<string>, queries: unknown, prefix: string, host: ScheduleHost): void {
  if (!isObject(queries)) return;
  for (const [qname, q] of Object.entries(queries)) {
    if (!isObject(q) || typeof q.query !== 'string' || q.query.trim() === '') continue;
    const name = `${prefix}${qname}`;
    if (reservedName(qname) || seen.has(name)) continue;
    if (!platformMatches(q.platform, host.platform)) continue;
    if (!versionAtLeast(host.osqueryVersion, q.version)) continue;
    if (!shardMatches(q.shard, host.hostname)) continue;
    const intervalS = interval(q.interval);
    if (intervalS === null) continue;
    seen.add(name);
    out.push({ name, query: q.query, intervalS, snapshot: truthy(q.snapshot, false), removed: truthy(q.removed, true) });
  }
}

/**
 * The queries this host runs under `config`. `runs(sql)` answers pack discovery: a pack is
 * active only if every discovery query returns at least one row.
 */
export function scheduledQueries(config: Json, host: ScheduleHost, runs: (sql: string) => boolean): ScheduledQuery[] {
  const out: ScheduledQuery[] = [];
  const seen = new Set<string>();
  addQueries(out, seen, config.schedule, '', host);
  const options = isObject(config.options) ? config.options : {};
  const delim = typeof options.pack_delimiter === 'string' ? options.pack_delimiter : '_';
  if (isObject(config.packs)) {
    for (const [pname, pack] of Object.entries(config.packs)) {
      if (!isObject(pack)) continue; // a pack given as a resource string is not resolved here
      if (!platformMatches(pack.platform, host.platform)) continue;
      if (!versionAtLeast(host.osqueryVersion, pack.version)) continue;
      if (!shardMatches(pack.shard, host.hostname)) continue;
      if (Array.isArray(pack.discovery)) {
        const sqls = pack.discovery.filter((d): d is string => typeof d === 'string');
        if (!sqls.every((sql) => runs(sql))) continue;
      }
      addQueries(out, seen, pack.queries, `pack${delim}${pname}${delim}`, host);
    }
  }
  return out;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** osquery's calendarTime: C asctime layout in UTC plus " UTC", day of month space-padded. */
export function calendarTime(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} ${d.getUTCFullYear()} UTC`;
}

/** Rows added and removed between two runs, as multisets of rows. */
export function diffRows(prev: readonly AnswerRow[], next: readonly AnswerRow[]): { added: AnswerRow[]; removed: AnswerRow[] } {
  const count = new Map<string, number>();
  for (const r of prev) {
    const k = JSON.stringify(r);
    count.set(k, (count.get(k) ?? 0) + 1);
  }
  const added: AnswerRow[] = [];
  for (const r of next) {
    const k = JSON.stringify(r);
    const c = count.get(k) ?? 0;
    if (c > 0) count.set(k, c - 1);
    else added.push(r);
  }
  const removed: AnswerRow[] = [];
  for (const r of prev) {
    const k = JSON.stringify(r);
    const c = count.get(k) ?? 0;
    if (c > 0) {
      removed.push(r);
      count.set(k, c - 1);
    }
  }
  return { added, removed };
}

export interface RunContext {
  hostIdentifier: string;
  unixTime: number;
  counter: number;
  decorations?: Record<string, string> | undefined;
}

/** Result-log items for one run: one per changed row (differential) or one snapshot item. */
export function logItems(q: ScheduledQuery, prev: readonly AnswerRow[] | undefined, rows: readonly AnswerRow[], ctx: RunContext): Json[] {
  const head: Json = {
    name: q.name, hostIdentifier: ctx.hostIdentifier, calendarTime: calendarTime(ctx.unixTime), unixTime: ctx.unixTime,
    epoch: 0, counter: ctx.counter, numerics: false,
  };
  if (ctx.decorations && Object.keys(ctx.decorations).length > 0) head.decorations = ctx.decorations;
  if (q.snapshot) return [{ ...head, snapshot: rows, action: 'snapshot' }];
  const { added, removed } = diffRows(prev ?? [], rows);
  const items: Json[] = added.map((columns) => ({ ...head, columns, action: 'added' }));
  if (q.removed) for (const columns of removed) items.push({ ...head, columns, action: 'removed' });
  return items;
}
