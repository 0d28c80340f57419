/**
 * Live-query campaigns, held in memory with their resolved target set (as Fleet's live query store
 * does), so a host's distributed read costs a lookup per active campaign, not a database query.
 */
import type { Dialect } from './types.js';

export type Row = Record<string, string>;

export interface CampaignResult {
  hostId: number;
  rows: Row[];
  error: string | null;
  stats: Record<string, number> | null;
  /** A stray answer (fault injection) from a host the store does not have: how it names itself. */
  phantom?: { hostname: string };
}

export type CampaignState = 'waiting' | 'running' | 'completed';

export interface Campaign {
  id: number;
  queryId: number;
  sql: string;
  userId: number;
  createdAt: number;
  state: CampaignState;
  /** Host ids resolved from the selected hosts and labels when the campaign was created. */
  targets: Set<number>;
  answered: Set<number>;
  /** Results kept for subscribers that attach later (or twice). */
  results: CampaignResult[];
  subscribers: Set<(r: CampaignResult) => void>;
  everSubscribed: boolean;
  /** When each host was last handed the query, so a slow host is not handed it on every poll. */
  sentAt: Map<number, number>;
  idleTimer: NodeJS.Timeout | undefined;
}

/** osquery re-runs a query it was handed again only if it has not answered within this long. */
const RESEND_AFTER_MS = 30_000;

export class Campaigns {
  private readonly byId = new Map<number, Campaign>();
  /** Campaigns hosts are being handed (running); small, so scanning it per check-in is cheap. */
  private readonly active = new Set<Campaign>();

  constructor(
    private readonly dialect: Dialect,
    private readonly idleMs: number,
    private readonly now: () => number,
  ) {}

  get prefix(): string {
    return `${this.dialect}_distributed_query_`;
  }

  create(c: { id: number; queryId: number; sql: string; userId: number; targets: Set<number>; start: boolean }): Campaign {
    const camp: Campaign = {
      id: c.id, queryId: c.queryId, sql: c.sql, userId: c.userId, createdAt: this.now(), state: 'waiting', targets: c.targets,
      answered: new Set(), results: [], subscribers: new Set(), everSubscribed: false, sentAt: new Map(), idleTimer: undefined,
    };
    this.byId.set(camp.id, camp);
    if (c.start) this.start(camp);
    // Fleet closes a campaign nobody reads: Kolide after ~5 s, FleetDM after ~1 min.
    camp.idleTimer = setTimeout(() => {
      if (!camp.everSubscribed) this.complete(camp);
    }, this.idleMs);
    camp.idleTimer.unref();
    return camp;
  }

  get(id: number): Campaign | undefined {
    return this.byId.get(id);
  }

  start(c: Campaign): void {
    if (c.state === 'running') return;
    c.state = 'running';
    this.active.add(c);
  }

  /** Stops handing the query to hosts (when the last reader leaves); results already kept stay readable. */
  complete(c: Campaign): void {
    c.state = 'completed';
    this.active.delete(c);
    if (c.idleTimer) clearTimeout(c.idleTimer);
    // Nobody reads a completed campaign's backlog again; forget it so long sessions do not grow.
    if (c.subscribers.size === 0) c.results = [];
    c.sentAt.clear();
  }

  subscribe(c: Campaign, fn: (r: CampaignResult) => void): () => void {
    c.everSubscribed = true;
    c.subscribers.add(fn);
    return () => {
      c.subscribers.delete(fn);
      if (c.subscribers.size === 0 && c.state !== 'completed') this.complete(c);
    };
  }

  /** The distributed queries to hand this host now: name -> SQL. */
  queriesFor(hostId: number, out: Record<string, string>): void {
    if (this.active.size === 0) return;
    const now = this.now();
    for (const c of this.active) {
      if (!c.targets.has(hostId) || c.answered.has(hostId)) continue;
      const sent = c.sentAt.get(hostId);
      if (sent !== undefined && now - sent < RESEND_AFTER_MS) continue;
      c.sentAt.set(hostId, now);
      out[this.prefix + c.id] = c.sql;
    }
  }

  /** A host's answer; ignored for unknown or finished campaigns and for hosts not targeted, as Fleet does. */
  ingest(id: number, r: CampaignResult): boolean {
    const c = this.byId.get(id);
    if (!c || c.state === 'completed' || !c.targets.has(r.hostId) || c.answered.has(r.hostId)) return false;
    c.answered.add(r.hostId);
    c.results.push(r);
    for (const fn of c.subscribers) fn(r);
    return true;
  }

  /**
   * An answer from a host the campaign does not target (fault injection, see stray.ts): kept and
   * delivered like a real one, but it answers nothing (the host is not marked as answered).
   */
  deliverStray(c: Campaign, r: CampaignResult): void {
    if (c.state === 'completed') return;
    c.results.push(r);
    for (const fn of c.subscribers) fn(r);
  }

  /** Hosts were deleted: drop them from every campaign. */
  forgetHost(hostId: number): void {
    for (const c of this.byId.values()) c.targets.delete(hostId);
  }

  closeAll(): void {
    for (const c of this.byId.values()) {
      if (c.idleTimer) clearTimeout(c.idleTimer);
      c.subscribers.clear();
    }
    this.active.clear();
  }
}
