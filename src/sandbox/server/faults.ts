/**
 * Seeded, reproducible fault injection for the app API and the results websocket. The agent and
 * control endpoints are never faulted: the simulated fleet must stay healthy while a client is tested.
 */
import type { FaultPlan, FaultRule, StrayAnswers } from './types.js';

/** mulberry32: tiny, fast and good enough to make "a share of requests" reproducible per seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A rule's path matcher: a plain prefix, or `/regex/flags` when the text between the slashes holds a
 * regex metacharacter (`^$\\()[]{}*+?|`), so a prefix such as `/api/v1/fleet/` stays a prefix.
 */
export function pathMatches(pattern: string | undefined, path: string): boolean {
  if (pattern === undefined || pattern === '') return true;
  const m = /^\/(.+)\/([dgimsuy]*)$/s.exec(pattern);
  if (m && /[\^$\\()[\]{}*+?|]/.test(m[1]!)) {
    try {
      return new RegExp(m[1]!, m[2]).test(path);
    } catch {
      return false;
    }
  }
  return path.startsWith(pattern);
}

export function ruleMatches(rule: FaultRule, method: string, path: string): boolean {
  const mm = rule.match?.method;
  if (mm !== undefined && mm !== '' && mm.toUpperCase() !== method.toUpperCase()) return false;
  return pathMatches(rule.match?.path, path);
}

const FAULTS = new Set(['500', '502', '503', '429', 'reset', 'hang', 'malformed-json', 'html', 'delay', 'ws-block']);

/** Returns an error text for a plan the engine cannot apply, or undefined when it is valid. */
export function validatePlan(plan: unknown): string | undefined {
  if (plan === null || typeof plan !== 'object' || Array.isArray(plan)) return 'fault plan must be an object';
  const p = plan as FaultPlan;
  if (p.seed !== undefined && !Number.isFinite(p.seed)) return 'seed must be a number';
  if (p.rules !== undefined) {
    if (!Array.isArray(p.rules)) return 'rules must be an array';
    for (const [i, r] of p.rules.entries()) {
      if (r === null || typeof r !== 'object') return `rules[${i}] must be an object`;
      if (!FAULTS.has(String(r.fault))) return `rules[${i}].fault: unknown fault ${JSON.stringify(r.fault)}`;
      if (r.rate !== undefined && !(typeof r.rate === 'number' && r.rate >= 0 && r.rate <= 1)) return `rules[${i}].rate must be between 0 and 1`;
      if (r.count !== undefined && !(Number.isInteger(r.count) && r.count >= 0)) return `rules[${i}].count must be a non-negative integer`;
    }
  }
  if (p.strayAnswers !== undefined) {
    const s = p.strayAnswers as Partial<StrayAnswers> | null;
    if (s === null || typeof s !== 'object' || !Array.isArray(s.hosts)) return 'strayAnswers.hosts must be an array';
    for (const [i, h] of s.hosts.entries()) {
      const ok = (typeof h === 'string' && h !== '') || (h !== null && typeof h === 'object' && Number.isInteger(h.id) && typeof h.hostname === 'string');
      if (!ok) return `strayAnswers.hosts[${i}] must be a hostname or { id, hostname }`;
    }
    if (s.campaigns !== undefined && !(Number.isInteger(s.campaigns) && s.campaigns >= 0)) return 'strayAnswers.campaigns must be a non-negative integer';
  }
  return undefined;
}

export class FaultEngine {
  private plan: FaultPlan = {};
  private rand: () => number = prng(1);
  private remaining: Array<number | undefined> = [];
  private wsRemaining: number | undefined;
  private strayRemaining: number | undefined;

  constructor(plan?: FaultPlan) {
    this.set(plan ?? {});
  }

  set(plan: FaultPlan): void {
    this.plan = plan;
    this.rand = prng(plan.seed ?? 1);
    this.remaining = (plan.rules ?? []).map((r) => r.count);
    this.wsRemaining = plan.websocket?.count;
    this.strayRemaining = plan.strayAnswers?.campaigns;
  }

  get current(): FaultPlan {
    return this.plan;
  }

  /** The fault to apply to this request, consuming counts and PRNG draws in request order. */
  pick(method: string, path: string, upgrade = false): FaultRule | undefined {
    const rules = this.plan.rules ?? [];
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i]!;
      // A ws-block rule only concerns upgrades, and HTTP faults never hit an upgrade (it has no HTTP reply to spoil but the 403).
      if ((r.fault === 'ws-block') !== upgrade) continue;
      if (!ruleMatches(r, method, path)) continue;
      const left = this.remaining[i];
      if (left !== undefined) {
        if (left <= 0) continue;
        if (r.rate !== undefined && this.rand() >= r.rate) continue;
        this.remaining[i] = left - 1;
        return r;
      }
      if (r.rate !== undefined && this.rand() >= r.rate) continue;
      return r;
    }
    return undefined;
  }

  /** For a newly selected websocket: after how many server messages to drop it (undefined = never). */
  wsCloseAfter(): number | undefined {
    const k = this.plan.websocket?.closeAfterMessages;
    if (k === undefined) return undefined;
    if (this.wsRemaining !== undefined) {
      if (this.wsRemaining <= 0) return undefined;
      this.wsRemaining--;
    }
    return k;
  }

  /** For a campaign about to get its first real answer: the stray hosts to answer first (consumes a campaign). */
  strayHosts(): StrayAnswers['hosts'] {
    const s = this.plan.strayAnswers;
    if (!s || s.hosts.length === 0) return [];
    if (this.strayRemaining !== undefined) {
      if (this.strayRemaining <= 0) return [];
      this.strayRemaining--;
    }
    return s.hosts;
  }

  get resultRowsPad(): number {
    return Math.max(0, Math.floor(this.plan.resultRowsPad ?? 0));
  }
}
