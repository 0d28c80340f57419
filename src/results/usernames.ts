/**
 * The per-host username join. uids are host-local, so each host's rows wait for that host's answer
 * to the companion `SELECT uid, username FROM users` campaign (or for that campaign to fail or end),
 * then go on. Only the rows of hosts still waiting are held.
 */
import type { HostResult } from './types.js';

/** (uid_t)-1: "not set" (auid of a process with no login session), never a real account. */
export const UNSET_UID = '4294967295';

/** Between the names of a uid that has several on one host (`alice|alice2`): no user name holds it. */
export const USERNAME_SEPARATOR = '|';

/** The companion query whose answers give each host's usernames (the same on every generation). */
export const USERS_SQL = 'SELECT uid, username FROM users';

export interface UsernameWarnings {
  /** uid values that no users row named, over all hosts */
  unknownUids: number;
  unknownByHost: Record<string, number>;
  /** Hosts whose rows needed names but whose users query failed or never answered. */
  failedHosts: Array<{ host: string; error: string }>;
  /** uids that have several usernames on one host (all are shown, joined by USERNAME_SEPARATOR). */
  multiNamed?: Array<{ host: string; uid: string; names: string[] }>;
}

/** uid -> username per host, built from users-query results. */
export class UserDirectory {
  private readonly byHost = new Map<string, Map<string, string>>();
  private readonly failures = new Map<string, string>();

  /** Adds one host's users answer; an answer with an error marks the host as failed. */
  add(r: HostResult): void {
    if (r.error) {
      this.failures.set(r.host, r.error);
      return;
    }
    let m = this.byHost.get(r.host);
    if (!m) this.byHost.set(r.host, (m = new Map()));
    for (const row of r.rows) {
      const uid = row['uid'];
      const name = row['username'];
      if (uid === undefined || name === undefined) continue;
      // Several accounts may share a uid (a toor beside root, a renamed account still listed):
      // every distinct name is kept, in the order the host sent them.
      const had = m.get(uid);
      if (had === undefined) m.set(uid, name);
      else if (!had.split(USERNAME_SEPARATOR).includes(name)) m.set(uid, `${had}${USERNAME_SEPARATOR}${name}`);
    }
    this.failures.delete(r.host);
  }

  fail(host: string, error: string): void {
    if (!this.byHost.has(host)) this.failures.set(host, error);
  }

  has(host: string): boolean {
    return this.byHost.has(host);
  }

  failure(host: string): string | undefined {
    return this.failures.get(host);
  }

  names(host: string): ReadonlyMap<string, string> | undefined {
    return this.byHost.get(host);
  }

  hosts(): string[] {
    return [...this.byHost.keys()];
  }
}

/**
 * Holds main results until their host's users answer is known. `main()` and `users()` return the
 * results that may go on now, in arrival order per host.
 */
export class UsernameJoin {
  readonly directory: UserDirectory;
  private readonly pending = new Map<string, HostResult[]>();
  private ended = false;

  constructor(directory = new UserDirectory(), opts: { usersComplete?: boolean } = {}) {
    this.directory = directory;
    this.ended = opts.usersComplete ?? false;
  }

  main(r: HostResult): HostResult[] {
    if (this.ended || r.rows.length === 0 || this.directory.has(r.host) || this.directory.failure(r.host) !== undefined) {
      const waiting = this.pending.get(r.host);
      if (waiting) {
        this.pending.delete(r.host);
        return [...waiting, r];
      }
      return [r];
    }
    const list = this.pending.get(r.host);
    if (list) list.push(r);
    else this.pending.set(r.host, [r]);
    return [];
  }

  users(r: HostResult): HostResult[] {
    this.directory.add(r);
    return this.release(r.host);
  }

  /** The users query failed for one host (or for all, when the campaign itself failed: call end()). */
  usersFailed(host: string, error: string): HostResult[] {
    this.directory.fail(host, error);
    return this.release(host);
  }

  /** The users campaign is over: everything still held goes on, without names where none came. */
  end(reason = 'no answer to the users query'): HostResult[] {
    this.ended = true;
    const out: HostResult[] = [];
    for (const [host, list] of this.pending) {
      if (!this.directory.has(host)) this.directory.fail(host, reason);
      out.push(...list);
    }
    this.pending.clear();
    return out;
  }

  /** Number of results held (for tests and memory accounting). */
  held(): number {
    let n = 0;
    for (const l of this.pending.values()) n += l.length;
    return n;
  }

  private release(host: string): HostResult[] {
    const list = this.pending.get(host);
    if (!list) return [];
    this.pending.delete(host);
    return list;
  }
}
