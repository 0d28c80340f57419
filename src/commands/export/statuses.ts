/**
 * `osfleet export`'s hosts: each host's status from the results read (the same host in several
 * inputs, concatenated runs, adds up its rows, and an error sticks), and the lines that name the
 * hosts that answered with an error, as `query` reports them.
 */
import { printable } from '../../terminal.js';
import { statusOf, type HostResult, type HostStatus } from '../../results/index.js';

/** A host's status after one more result of it. */
export function mergeStatus(prev: HostStatus | undefined, s: HostStatus): HostStatus {
  if (!prev) return s;
  const rows = prev.rows + s.rows;
  return { ...prev, rows, status: prev.status === 'error' || s.status === 'error' ? 'error' : rows > 0 ? 'answered' : 'empty', ...(s.error ? { error: s.error } : {}) };
}

export class HostTally {
  private readonly byHost = new Map<string, HostStatus>();

  add(r: HostResult): void {
    this.byHost.set(r.host, mergeStatus(this.byHost.get(r.host), statusOf(r)));
  }

  get size(): number {
    return this.byHost.size;
  }

  has(host: string): boolean {
    return this.byHost.has(host);
  }

  /** The hosts, in the order they were first read. */
  hosts(): string[] {
    return [...this.byHost.keys()];
  }

  /** Every host's status, sorted by host. */
  sorted(): HostStatus[] {
    return [...this.byHost.values()].sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
  }
}

/** "2 hosts answered with an error:", then one aligned line per host (escaped); none when none did. */
export function errorLines(failed: readonly HostStatus[]): string[] {
  if (failed.length === 0) return [];
  const width = Math.max(0, ...failed.map((s) => printable(s.host).length));
  return [`${failed.length} host${failed.length === 1 ? '' : 's'} answered with an error:`, ...failed.map((s) => `  ${printable(s.host).padEnd(width)}  error: ${printable(s.error ?? '')}`)];
}
