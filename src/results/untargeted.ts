/**
 * Answers from hosts a campaign did not target (issue 15.4). Fleet publishes any enrolled host's
 * answer named after a campaign without checking the campaign's targets, and a proxy or a buggy
 * server can add or mislabel answers too, so every answer is checked against the targets before it
 * is written: one from outside them is dropped and counted (stderr, manifest `outside_targets`).
 *
 * The targets are known in advance (--hosts, label expressions) or read from the server once the
 * campaign exists (labels, --all: the members of what the campaign targets). When they cannot be
 * read, or the hosts read do not add up to the server's count of the campaign's targets (membership
 * changed while the campaign started), nothing is dropped on a guess: the answers that cannot be
 * checked are kept and marked in the manifest (`targets_unverified`), and said on stderr.
 */
import { printable } from '../terminal.js';

/** Who a campaign targets: host ids, and hostnames for answers that carry no id. */
export interface TargetSet {
  ids: ReadonlySet<number>;
  names: ReadonlySet<string>;
  /** Some targets are known by id alone (FleetDM's host report): an answer without a host id cannot be judged. */
  idsOnly?: boolean;
}

/** A host's answers kept out of the output (or kept, unverified), counted. */
export interface CountedHost {
  host: string;
  host_id?: number;
  answers: number;
  rows: number;
}

export interface TargetsUnverified {
  /** Why the answers could not be checked against the campaign's targets. */
  reason: string;
  /** Answers kept without a check, and their rows. */
  answers: number;
  rows: number;
  /** When only the answers from outside the hosts read are in doubt: those hosts. */
  hosts?: CountedHost[];
}

/** What an answer needs to be judged. */
export interface AnswerHost {
  host: string;
  hostId?: number | undefined;
  rows: readonly unknown[];
}

type State = { kind: 'known'; set: TargetSet; doubt?: string } | { kind: 'unreadable'; reason: string };

/** Why an answer without a host id was kept unchecked when the targets were read as ids. */
const NO_HOST_ID = 'answers that name no host id cannot be checked against targets read as host ids';

/** Hosts named on the stderr line; the manifest lists them all. */
const NAMED = 5;

export class TargetCheck {
  private state: State | undefined;
  private pending: Promise<void> | undefined;
  private readonly dropped = new Map<string, CountedHost>();
  private readonly doubtful = new Map<string, CountedHost>();
  private unchecked = { answers: 0, rows: 0 };

  /** Targets known before the campaign (explicit hosts). */
  static of(set: TargetSet): TargetCheck {
    const c = new TargetCheck();
    c.state = { kind: 'known', set };
    return c;
  }

  /** Targets read once the campaign exists: `supply` them; answers judged before then wait for them. */
  static later(): TargetCheck {
    return new TargetCheck();
  }

  get supplied(): boolean {
    return this.state !== undefined || this.pending !== undefined;
  }

  /**
   * The campaign's targets, being read. `expected` is the server's count of the campaign's targets
   * (its Metrics at creation), when it gave one: a set of another size is in doubt.
   */
  supply(read: Promise<TargetSet>, expected: () => number | undefined): void {
    if (this.supplied) return;
    this.pending = read.then(
      (set) => {
        const want = expected();
        const size = set.ids.size > 0 ? set.ids.size : set.names.size;
        this.state =
          want !== undefined && want !== size
            ? { kind: 'known', set, doubt: `the server counted ${want} targeted host${want === 1 ? '' : 's'} but its host lists name ${size} (membership changed as the campaign started)` }
            : { kind: 'known', set };
      },
      (err: unknown) => {
        this.state = { kind: 'unreadable', reason: `the campaign's targets could not be read (${err instanceof Error ? err.message : String(err)})` };
      },
    );
  }

  /** Whether the host is targeted; undefined when the set cannot say (no host id, targets known by id). */
  private inSet(set: TargetSet, a: AnswerHost): boolean | undefined {
    if (a.hostId !== undefined && set.ids.size > 0) return set.ids.has(a.hostId);
    return set.names.has(a.host) || (set.idsOnly ? undefined : false);
  }

  /**
   * True when the answer belongs in the output. With `count` (the campaign whose rows are written),
   * an answer from outside the targets is counted as dropped, one that cannot be checked as kept
   * unverified. `asked`: the answer replies to a request for this one host (REST live queries), so
   * it is targeted only if it is that host's.
   */
  async admit(a: AnswerHost, opts: { count: boolean; asked?: number | undefined }): Promise<boolean> {
    if (opts.asked !== undefined && a.hostId !== opts.asked) return this.drop(a, opts.count);
    if (!this.state) {
      if (!this.pending) throw new Error('TargetCheck: targets never supplied');
      await this.pending;
    }
    const state = this.state!;
    if (state.kind === 'unreadable') {
      if (opts.count) {
        this.unchecked.answers++;
        this.unchecked.rows += a.rows.length;
      }
      return true;
    }
    const targeted = this.inSet(state.set, a);
    if (targeted === true) return true;
    if (targeted === undefined || state.doubt !== undefined) {
      if (opts.count) add(this.doubtful, a);
      return true;
    }
    return this.drop(a, opts.count);
  }

  private drop(a: AnswerHost, count: boolean): false {
    if (count) add(this.dropped, a);
    return false;
  }

  /** The answers dropped, per host, sorted by host. */
  outside(): CountedHost[] {
    return sorted(this.dropped);
  }

  unverified(): TargetsUnverified | undefined {
    const state = this.state;
    if (state?.kind === 'unreadable' && this.unchecked.answers > 0) return { reason: state.reason, ...this.unchecked };
    if (state?.kind === 'known' && this.doubtful.size > 0) {
      const hosts = sorted(this.doubtful);
      return { reason: state.doubt ?? NO_HOST_ID, answers: hosts.reduce((n, h) => n + h.answers, 0), rows: hosts.reduce((n, h) => n + h.rows, 0), hosts };
    }
    return undefined;
  }

  /** The manifest's fields: `outside_targets`, `targets_unverified` (each only when there is something to say). */
  manifestFields(): { outside_targets?: CountedHost[]; targets_unverified?: TargetsUnverified } {
    const out = this.outside();
    const unverified = this.unverified();
    return { ...(out.length > 0 ? { outside_targets: out } : {}), ...(unverified ? { targets_unverified: unverified } : {}) };
  }

  /** One line each for stderr and the manifest's warnings (printable: host names come from the server). */
  lines(): string[] {
    const out: string[] = [];
    const dropped = this.outside();
    if (dropped.length > 0) {
      const answers = dropped.reduce((n, h) => n + h.answers, 0);
      const rows = dropped.reduce((n, h) => n + h.rows, 0);
      out.push(
        `${plural(answers, 'answer')} (${plural(rows, 'row')}) from ${plural(dropped.length, 'host')} the campaign did not target dropped: ${named(dropped)}`,
      );
    }
    const u = this.unverified();
    if (u) {
      const where = u.reason === NO_HOST_ID ? '' : ' outside the hosts read';
      const which = u.hosts ? ` from ${plural(u.hosts.length, 'host')}${where}: ${named(u.hosts)}` : '';
      out.push(`${u.reason}: ${plural(u.answers, 'answer')} (${plural(u.rows, 'row')}) kept without that check${which}`);
    }
    return out;
  }
}

function add(m: Map<string, CountedHost>, a: AnswerHost): void {
  const key = a.hostId !== undefined ? `id:${a.hostId}` : `name:${a.host}`;
  const c = m.get(key);
  if (c) {
    c.answers++;
    c.rows += a.rows.length;
  } else m.set(key, { host: a.host, ...(a.hostId !== undefined ? { host_id: a.hostId } : {}), answers: 1, rows: a.rows.length });
}

function sorted(m: Map<string, CountedHost>): CountedHost[] {
  return [...m.values()].sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : (a.host_id ?? 0) - (b.host_id ?? 0)));
}

function named(hosts: readonly CountedHost[]): string {
  const shown = hosts
    .slice(0, NAMED)
    .map((h) => `${printable(h.host)}${h.host_id !== undefined && h.host !== `host id ${h.host_id}` ? ` (id ${h.host_id})` : ''}: ${plural(h.rows, 'row')}`)
    .join(', ');
  return hosts.length > NAMED ? `${shown} and ${hosts.length - NAMED} more` : shown;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
