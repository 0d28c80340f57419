/**
 * The enrichment stage: dates for time columns (optionally keeping the raw value in `<col>_epoch`)
 * and a username beside each uid column, per host. Decisions are made once per column name and
 * cached. Rows are changed in place when the caller owns them and key order does not matter;
 * otherwise one object is built per row that has something to enrich.
 */
import type { ColumnPlan, TimeColumn } from './plan.js';
import { createDateFormatter, convertTimeValue, type DateFormatter, type TimeFormat } from './time.js';
import { isLikelyTimeColumnName, isLikelyUidColumnName } from '../schema/index.js';
import { UNSET_UID, type UserDirectory, type UsernameWarnings } from './usernames.js';
import type { HostResult, Row } from './types.js';

export interface TimeOptions {
  format: TimeFormat;
  zone: string;
  keepEpoch: boolean;
}

export interface EnrichOptions {
  /** null: dates are left alone */
  times: TimeOptions | null;
  /** null: no usernames */
  users: UserDirectory | null;
  /** Why a host without users rows has no names (default: no answer to the users query). */
  missingUsersReason?: string | undefined;
  /**
   * Change the rows given instead of copying them: for callers that own the rows and whose output
   * does not follow the rows' key order (added columns come last in the object). It spares an
   * object per row, the bulk of what an export of millions of rows allocates.
   */
  inPlace?: boolean | undefined;
}

interface Action {
  time: TimeColumn | undefined;
  epochColumn: string | undefined;
  userColumn: string | undefined;
}

/** The output columns (without the leading `host`), known up front or derived from the rows. */
export interface ColumnLayout {
  /**
   * Every output column in order, known before any row: only when the SQL was run as given (query),
   * so hosts return exactly its result columns; null when the rows tell (the union of their keys).
   */
  fixed: string[] | null;
  /** The SQL's result columns (without generated ones): first in the union, in this order, even when no row carries them. */
  order: readonly string[] | null;
  /** Puts generated columns right after their source column. */
  expand(base: readonly string[]): string[];
  isGenerated(name: string): boolean;
}

export const identityLayout = (select: string[] | null, trusted = true): ColumnLayout => ({
  fixed: trusted ? select : null,
  order: select,
  expand: (base) => [...base],
  isGenerated: () => false,
});

export class Enricher {
  private readonly actions = new Map<string, Action | null>();
  private readonly generated = new Set<string>();
  private readonly fmt: DateFormatter | undefined;
  private readonly unknownByHost = new Map<string, number>();
  private readonly failedHosts = new Map<string, string>();
  /** Source columns seen in rows, to check --time-columns names against the result. */
  readonly seen = new Set<string>();

  constructor(
    private readonly plan: ColumnPlan,
    private readonly opts: EnrichOptions,
  ) {
    this.fmt = opts.times && opts.times.format !== 'epoch' ? createDateFormatter(opts.times.format, opts.times.zone) : undefined;
    for (const name of plan.select ?? []) this.action(name);
  }

  private action(name: string): Action | null {
    let a = this.actions.get(name);
    if (a !== undefined) return a;
    let time: TimeColumn | undefined;
    let userColumn: string | undefined;
    if (this.opts.times) {
      time = this.plan.times.get(name);
      if (!time && this.plan.guess && !this.plan.plain.has(name) && !this.plan.uids.has(name) && isLikelyTimeColumnName(name)) {
        time = { kind: 'unix_seconds', guessed: true };
      }
    }
    if (this.opts.users && !time) {
      userColumn = this.plan.uids.get(name);
      if (!userColumn && this.plan.guess && !this.plan.plain.has(name) && !this.plan.times.has(name) && isLikelyUidColumnName(name)) {
        userColumn = name === 'uid' ? 'username' : `${name}_username`;
      }
    }
    const epochColumn = time && this.opts.times?.keepEpoch ? `${name}_epoch` : undefined;
    a = time || userColumn ? { time, epochColumn, userColumn } : null;
    if (epochColumn) this.generated.add(epochColumn);
    if (userColumn) this.generated.add(userColumn);
    this.actions.set(name, a);
    return a;
  }

  private lastRaw = '';
  private lastKind: TimeColumn['kind'] | undefined;
  private lastGuessed = false;
  private lastText = '';

  /** The actions for the last key set seen: rows of one result nearly always share their keys. */
  private lastKeys: string[] = [];
  private lastActions: Array<Action | null> = [];

  /** The enriched columns of the last key set, for rows changed in place. */
  private lastActive: Array<[string, Action]> = [];

  private compile(keys: string[]): void {
    this.lastKeys = keys;
    const present = new Set(keys);
    // A column the input already has is never overwritten by one this stage would add.
    this.lastActions = keys.map((k) => {
      const a = this.action(k);
      if (!a) return null;
      if ((a.epochColumn && present.has(a.epochColumn)) || (a.userColumn && present.has(a.userColumn))) {
        return {
          time: a.time,
          epochColumn: a.epochColumn && !present.has(a.epochColumn) ? a.epochColumn : undefined,
          userColumn: a.userColumn && !present.has(a.userColumn) ? a.userColumn : undefined,
        };
      }
      return a;
    });
    this.lastActive = [];
    for (let j = 0; j < keys.length; j++) if (this.lastActions[j]) this.lastActive.push([keys[j]!, this.lastActions[j]!]);
    for (const k of keys) this.seen.add(k);
  }

  private timeText(v: string, time: TimeColumn): string {
    // atime, mtime, ctime and time of one row are often the same instant: reuse the text.
    if (v !== this.lastRaw || time.kind !== this.lastKind || time.guessed !== this.lastGuessed) {
      this.lastRaw = v;
      this.lastKind = time.kind;
      this.lastGuessed = time.guessed;
      this.lastText = convertTimeValue(v, time.kind, this.fmt, time.guessed);
    }
    return this.lastText;
  }

  enrich(r: HostResult): HostResult {
    if (r.rows.length === 0) return r;
    const names = this.opts.users?.names(r.host);
    let rows: Row[] | undefined;
    for (let i = 0; i < r.rows.length; i++) {
      const row = r.rows[i]!;
      // Same keys as the previous row? Checked without allocating (the common case).
      let n = 0;
      let same = true;
      const lastKeys = this.lastKeys;
      for (const k in row) {
        if (k !== lastKeys[n++]) {
          same = false;
          break;
        }
      }
      if (!same || n !== lastKeys.length) this.compile(Object.keys(row));
      const keys = this.lastKeys;
      if (this.lastActive.length === 0) {
        if (rows) rows.push(row);
        continue;
      }
      if (this.opts.inPlace) {
        const active = this.lastActive;
        for (let j = 0; j < active.length; j++) {
          const [k, a] = active[j]!;
          const v = row[k]!;
          if (a.time) {
            row[k] = this.timeText(v, a.time);
            if (a.epochColumn) row[a.epochColumn] = v;
          }
          if (a.userColumn) row[a.userColumn] = this.username(r.host, names, v);
        }
        continue;
      }
      const actions = this.lastActions;
      const out: Row = {};
      for (let j = 0; j < keys.length; j++) {
        const k = keys[j]!;
        const v = row[k]!;
        const a = actions[j];
        if (!a) {
          out[k] = v;
          continue;
        }
        if (a.time) {
          out[k] = this.timeText(v, a.time);
          if (a.epochColumn) out[a.epochColumn] = v;
        } else out[k] = v;
        if (a.userColumn) out[a.userColumn] = this.username(r.host, names, v);
      }
      rows ??= r.rows.slice(0, i);
      rows.push(out);
    }
    return rows ? { ...r, rows } : r;
  }

  private username(host: string, names: ReadonlyMap<string, string> | undefined, uid: string): string {
    if (uid === '') return '';
    if (uid === UNSET_UID) return 'unset';
    if (!names) {
      if (!this.failedHosts.has(host)) this.failedHosts.set(host, this.opts.users?.failure(host) ?? this.opts.missingUsersReason ?? 'no answer to the users query');
      return '';
    }
    const n = names.get(uid);
    if (n !== undefined) return n;
    this.unknownByHost.set(host, (this.unknownByHost.get(host) ?? 0) + 1);
    return '';
  }

  warnings(): UsernameWarnings {
    let unknown = 0;
    const byHost: Record<string, number> = {};
    for (const [h, n] of [...this.unknownByHost].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      byHost[h] = n;
      unknown += n;
    }
    const failed = [...this.failedHosts].map(([host, error]) => ({ host, error })).sort((a, b) => (a.host < b.host ? -1 : 1));
    return { unknownUids: unknown, unknownByHost: byHost, failedHosts: failed };
  }

  /** `trusted`: the SQL was run as given, so its columns are the rows' (see ColumnLayout.fixed). */
  layout(trusted = true): ColumnLayout {
    const expand = (base: readonly string[]) => {
      const out: string[] = [];
      for (const c of base) {
        out.push(c);
        const a = this.action(c);
        if (a?.epochColumn) out.push(a.epochColumn);
        if (a?.userColumn) out.push(a.userColumn);
      }
      return out;
    };
    return {
      fixed: trusted && this.plan.select ? expand(this.plan.select) : null,
      order: this.plan.select,
      expand,
      isGenerated: (name) => this.generated.has(name),
    };
  }
}

/** One row with its time columns converted (a pure convenience over Enricher, for single rows). */
export function convertTimes(row: Row, plan: ColumnPlan, times: TimeOptions): Row {
  return new Enricher(plan, { times, users: null }).enrich({ host: '', rows: [row] }).rows[0]!;
}
