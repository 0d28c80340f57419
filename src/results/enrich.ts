/**
 * The enrichment stage: dates for time columns (optionally keeping the raw value in `<col>_epoch`)
 * and a username beside each uid column, per host. Decisions are made once per column name and
 * cached. Rows are changed in place when the caller owns them and key order does not matter;
 * otherwise one object is built per row that has something to enrich.
 */
import type { ColumnPlan, TimeColumn } from './plan.js';
import { createDateFormatter, convertTime, plainSecondsText, isPlausibleDate, toInstant, RAW_REASONS, type DateFormatter, type RawReason, type TimeFormat } from './time.js';
import { inferTimeKinds, isLikelyUidColumnName, looksLikeTime, type InferredTime } from '../schema/index.js';
import { UNSET_UID, USERNAME_SEPARATOR, type UserDirectory, type UsernameWarnings } from './usernames.js';
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

/** One converted column, as the manifest records it. */
export interface ColumnReport {
  column: string;
  conversion: string;
  because: string;
  /** --keep-epoch: the column holding the value as sent */
  raw_in?: string;
  /** reason -> count of values left exactly as sent */
  kept_raw?: Record<string, number>;
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
  /** Time-like columns left as numbers because their meaning is unknown, with why. */
  private readonly undecided = new Map<string, string>();
  /** Time-like names the schema says are not points in time here (durations…), with why. */
  private readonly notTimes = new Map<string, string>();
  private inferredKeys = '';
  private inferredMap = new Map<string, InferredTime>();

  private inferred(keys: readonly string[]): Map<string, InferredTime> {
    const sig = keys.join('\u0000');
    if (sig !== this.inferredKeys) {
      this.inferredKeys = sig;
      this.inferredMap = inferTimeKinds(keys);
    }
    return this.inferredMap;
  }
  /** host NUL uid NUL names, for uids with several names on one host */
  private readonly multiNamed = new Set<string>();
  /** Source columns seen in rows, to check --time-columns names against the result. */
  readonly seen = new Set<string>();

  constructor(
    private readonly plan: ColumnPlan,
    private readonly opts: EnrichOptions,
  ) {
    this.fmt = opts.times && opts.times.format !== 'epoch' ? createDateFormatter(opts.times.format, opts.times.zone) : undefined;
    this.taken = new Set(plan.select ?? []);
    if (opts.times) for (const [k, why] of plan.undecided) this.undecided.set(k, why);
    for (const name of plan.select ?? []) this.action(name);
  }

  /** Column names in use (the SELECT's, rows' keys seen, names this stage added): never given twice. */
  private readonly taken: Set<string>;
  /** Generated columns that could not take their usual name: `creation_time_epoch_2`. */
  private readonly renamed: Array<{ column: string; wanted: string; got: string }> = [];

  /** `wanted`, or `wanted_2`, `wanted_3`… when a column of that name exists already. */
  private freeName(source: string, wanted: string): string {
    let got = wanted;
    for (let i = 2; this.taken.has(got); i++) got = `${wanted}_${i}`;
    this.taken.add(got);
    if (got !== wanted) this.renamed.push({ column: source, wanted, got });
    return got;
  }

  private action(name: string, keys?: readonly string[]): Action | null {
    let a = this.actions.get(name);
    if (a !== undefined) return a;
    this.taken.add(name);
    if (keys) for (const k of keys) this.taken.add(k);
    let time: TimeColumn | undefined;
    let userColumn: string | undefined;
    if (this.opts.times) {
      time = this.plan.times.get(name);
      if (!time && !this.plan.plain.has(name) && !this.plan.uids.has(name)) {
        const inferred = this.plan.infer && keys ? this.inferred(keys).get(name) : undefined;
        if (inferred?.kind) time = { kind: inferred.kind, guessed: false, because: inferred.because };
        else if (inferred?.decided) {
          if (looksLikeTime(name)) this.notTimes.set(name, inferred.because);
        } else if (looksLikeTime(name)) {
          this.undecided.set(name, inferred?.because ?? this.plan.undecided.get(name) ?? (this.plan.tables.length > 0 ? `not a column of ${this.plan.tables.join(', ')} in osquery's schema` : "the schema does not give this column's meaning"));
        }
      }
    }
    if (this.opts.users && !time) {
      userColumn = this.plan.uids.get(name);
      if (!userColumn && this.plan.guess && !this.plan.plain.has(name) && !this.plan.times.has(name) && isLikelyUidColumnName(name)) {
        userColumn = name === 'uid' ? 'username' : `${name}_username`;
      }
    }
    const epochColumn = time && this.opts.times?.keepEpoch ? this.freeName(name, `${name}_epoch`) : undefined;
    if (userColumn) userColumn = this.freeName(name, userColumn === 'username' && this.taken.has('username') ? `${name}_username` : userColumn);
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
  private lastKept: RawReason | undefined;
  /** column -> reason -> how many values of it were kept as sent */
  private readonly kept = new Map<string, Map<RawReason, number>>();

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
      const a = this.action(k, keys);
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

  private timeText(column: string, v: string, time: TimeColumn): string {
    // atime, mtime, ctime and time of one row are often the same instant: reuse the text.
    if (v !== this.lastRaw || time.kind !== this.lastKind || time.guessed !== this.lastGuessed) {
      this.lastRaw = v;
      this.lastKind = time.kind;
      this.lastGuessed = time.guessed;
      if (time.guessed && this.fmt) {
        const i = toInstant(time.kind, v);
        if (typeof i === 'string' || !isPlausibleDate(i.whole)) {
          this.lastText = v;
          this.lastKept = undefined;
          return v;
        }
      }
      const fast = time.kind === 'unix_seconds' && this.fmt ? plainSecondsText(v, this.fmt) : undefined;
      if (fast !== undefined) {
        this.lastText = fast;
        this.lastKept = undefined;
      } else {
        const c = convertTime(v, time.kind, this.fmt);
        this.lastText = c.text;
        this.lastKept = c.kept;
      }
    }
    if (this.lastKept !== undefined) this.keep(column, this.lastKept);
    return this.lastText;
  }

  private keep(column: string, reason: RawReason): void {
    let m = this.kept.get(column);
    if (!m) this.kept.set(column, (m = new Map()));
    m.set(reason, (m.get(reason) ?? 0) + 1);
  }

  /** Per time column, how many values were kept as sent and why (empty when none were). */
  keptRaw(): Array<{ column: string; reasons: Array<{ reason: RawReason; count: number }> }> {
    return [...this.kept]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([column, m]) => ({ column, reasons: [...m].map(([reason, count]) => ({ reason, count })) }));
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
            row[k] = this.timeText(k, v, a.time);
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
          out[k] = this.timeText(k, v, a.time);
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
    // (uid_t)-1 is "no user" (auid of a process without a login session): no name, and not unknown.
    if (uid === '' || uid === UNSET_UID || uid === '-1') return '';
    if (!names) {
      if (!this.failedHosts.has(host)) this.failedHosts.set(host, this.opts.users?.failure(host) ?? this.opts.missingUsersReason ?? 'no answer to the users query');
      return '';
    }
    const n = names.get(uid);
    if (n !== undefined) {
      if (n.includes(USERNAME_SEPARATOR)) this.multiNamed.add(`${host}\u0000${uid}\u0000${n}`);
      return n;
    }
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
    const multi = [...this.multiNamed].sort().map((k) => {
      const [host, uid, names] = k.split('\u0000') as [string, string, string];
      return { host, uid, names: names.split(USERNAME_SEPARATOR) };
    });
    return { unknownUids: unknown, unknownByHost: byHost, failedHosts: failed, ...(multi.length > 0 ? { multiNamed: multi } : {}) };
  }

  /** Lines naming generated columns that took another name because theirs was taken. */
  renamedLines(): string[] {
    return this.renamed.map((r) =>
      r.wanted.endsWith('_epoch')
        ? `--keep-epoch: the raw values of ${r.column} are in ${r.got} (${r.wanted} is a column of the result)`
        : `the usernames of ${r.column} are in ${r.got} (${r.wanted} is a column of the result)`,
    );
  }

  /**
   * What was done to each converted column, for the manifest: the conversion, why, and the values
   * kept as sent. Columns in the order first seen.
   */
  columnReport(): ColumnReport[] {
    const out: ColumnReport[] = [];
    const kept = new Map(this.keptRaw().map((k) => [k.column, k.reasons]));
    const times = this.opts.times;
    for (const [name, a] of this.actions) {
      if (!a) continue;
      if (a.time && times) {
        const to = times.format === 'epoch' ? 'left as sent (--time-format epoch)' : a.time.kind === 'unix_days' ? 'date YYYY-MM-DD' : `${times.format} date in ${times.format === 'utc' ? 'UTC' : times.zone}`;
        const k = kept.get(name);
        out.push({
          column: name,
          conversion: `${a.time.kind} -> ${to}`,
          because: a.time.because ?? (a.time.guessed ? 'name rule' : 'schema'),
          ...(a.epochColumn ? { raw_in: a.epochColumn } : {}),
          ...(k ? { kept_raw: Object.fromEntries(k.map((r) => [RAW_REASONS[r.reason], r.count])) } : {}),
        });
      }
      if (a.userColumn) out.push({ column: name, conversion: `username added in ${a.userColumn}`, because: 'uid column' });
    }
    if (times) {
      for (const [name, why] of this.notTimes) out.push({ column: name, conversion: 'none: left as sent', because: why });
      for (const [name, why] of this.undecided) out.push({ column: name, conversion: 'none: left as sent', because: `meaning unknown: ${why}` });
    }
    return out;
  }

  /** One stderr line naming the time-like columns left as numbers for want of a known meaning, and how to convert them. */
  undecidedLine(): string | undefined {
    if (!this.opts.times || this.opts.times.format === 'epoch' || this.undecided.size === 0) return undefined;
    const names = [...this.undecided.keys()];
    return `left as numbers, their meaning unknown to osquery's schema: ${names.join(', ')}; to show them as dates add --time-columns ${names.join(',')} (UNIX seconds) or name the table (--sql or --table)`;
  }

  /** One stderr line naming the time columns that kept raw values, and why; undefined when none did. */
  keptRawLine(): string | undefined {
    const k = this.keptRaw();
    if (k.length === 0) return undefined;
    const parts = k.map((c) => `${c.column} (${c.reasons.map((r) => `${r.count} × ${RAW_REASONS[r.reason]}`).join('; ')})`);
    return `values kept as sent in ${k.length} date column${k.length === 1 ? '' : 's'}, not instants: ${parts.join(', ')}`;
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
