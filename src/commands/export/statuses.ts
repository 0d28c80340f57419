/**
 * `osfleet export`'s hosts: each host's status from the results read (the same host in several
 * inputs, concatenated runs, adds up its rows, and an error sticks), and the lines that name the
 * hosts that answered with an error, as `query` reports them. The statuses live in a bounded
 * StatusTable (memory up to a bound, sorted runs on disk past it: issue 19.2), read back in host
 * order; what the --users checks need is kept apart, bounded by the users file.
 */
import { printable } from '../../terminal.js';
import { mergeStatus as mergeTwo, StatusTable, statusOf, type HostResult, type HostStatus, type UserDirectory } from '../../results/index.js';

/** A host's status after one more result of it. */
export function mergeStatus(prev: HostStatus | undefined, s: HostStatus): HostStatus {
  return prev ? mergeTwo(prev, s) : s;
}

export class HostTally {
  private readonly table = new StatusTable({ merge: true });
  /** Hosts of the users file seen in the input (bounded by that file, not by the input). */
  private readonly usersSeen = new Set<string>();
  private usersFailedSeen = false;
  private readonly usersKnown: ReadonlySet<string> | undefined;

  constructor(private readonly users?: UserDirectory | undefined) {
    this.usersKnown = users ? new Set(users.hosts()) : undefined;
  }

  async add(r: HostResult): Promise<void> {
    await this.table.add(statusOf(r));
    if (this.usersKnown) {
      if (this.usersKnown.has(r.host)) this.usersSeen.add(r.host);
      else if (!this.usersFailedSeen && this.users!.failure(r.host) !== undefined) this.usersFailedSeen = true;
    }
  }

  /** Whether any result was read. */
  get any(): boolean {
    return this.table.added > 0;
  }

  /** Whether a host of the users directory given to the constructor is in the input. */
  hasUsersHost(host: string): boolean {
    return this.usersSeen.has(host);
  }

  /** Whether any input host is in the users directory (named, or failed there). */
  matchesUsers(): boolean {
    return this.usersSeen.size > 0 || this.usersFailedSeen;
  }

  /** The first `max` hosts in order, and how many there are. */
  sample(max: number): Promise<{ first: string[]; count: number }> {
    return this.table.sample(max);
  }

  /** Every host's status, sorted by host, read as it goes (can be read again). */
  sorted(): AsyncGenerator<HostStatus> {
    return this.table.sorted();
  }

  /** How many hosts, and those that answered with an error (in host order). */
  async counts(): Promise<{ hosts: number; failed: HostStatus[] }> {
    let hosts = 0;
    const failed: HostStatus[] = [];
    for await (const s of this.table.sorted()) {
      hosts++;
      if (s.status === 'error') failed.push(s);
    }
    return { hosts, failed };
  }

  /** Removes what went to disk. */
  close(): Promise<void> {
    return this.table.close();
  }
}

/** "2 hosts answered with an error:", then one aligned line per host (escaped); none when none did. */
export function errorLines(failed: readonly HostStatus[]): string[] {
  if (failed.length === 0) return [];
  const width = Math.max(0, ...failed.map((s) => printable(s.host).length));
  return [`${failed.length} host${failed.length === 1 ? '' : 's'} answered with an error:`, ...failed.map((s) => `  ${printable(s.host).padEnd(width)}  error: ${printable(s.error ?? '')}`)];
}
