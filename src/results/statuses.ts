/**
 * The per-host status table of a run (issue 19.2/19.3): every host's status, read back sorted by
 * host for the JSON/YAML `hosts` list and the manifest, without holding 100,000 of them. Statuses
 * are kept in memory up to a bound; past it they are sorted and written to a private temporary
 * file (one "run"), and reading merges the runs and what is in memory, in host order. A small run
 * never touches the disk.
 *
 * With `merge` (export: the same host in several inputs), statuses of one host become one: rows
 * add up, an error sticks (its message the latest), the first host id stays. Without it (query),
 * two statuses of one name (two hosts with the same hostname) both stay, in the order they came.
 */
import { createReadStream, createWriteStream, rmSync, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OutputError, describeFsError } from './atomic.js';
import { put, type StatusSource } from './format/common.js';
import { lines } from './read.js';
import type { HostStatus } from './types.js';

export type { StatusSource };

/** Statuses held in memory before a sorted run goes to disk (~200 bytes each). */
export const STATUSES_IN_MEMORY = 20_000;

export const byHost = (a: HostStatus, b: HostStatus): number => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0);

/** Two statuses of one host, `prev` read first: rows add up, an error sticks, the first id stays. */
export function mergeStatus(prev: HostStatus, s: HostStatus): HostStatus {
  const rows = prev.rows + s.rows;
  return {
    ...prev,
    rows,
    status: prev.status === 'error' || s.status === 'error' ? 'error' : rows > 0 ? 'answered' : 'empty',
    ...(s.error ? { error: s.error } : {}),
  };
}

export interface StatusTableOptions {
  /** One status per host (export); otherwise every status stays (query). */
  merge?: boolean | undefined;
  /** Statuses held in memory before a run is written (default STATUSES_IN_MEMORY). */
  memory?: number | undefined;
  /** Where runs are written (default: the OS temporary folder). */
  tmpDir?: string | undefined;
}

export class StatusTable {
  private readonly merge: boolean;
  private readonly limit: number;
  /** merge: by host; else in arrival order (sorted stably when read or spilled). */
  private byName = new Map<string, HostStatus>();
  private list: HostStatus[] = [];
  private dir: string | undefined;
  private readonly runs: string[] = [];
  private onExit: (() => void) | undefined;
  /** Statuses added (before merging). */
  added = 0;

  constructor(private readonly opts: StatusTableOptions = {}) {
    this.merge = opts.merge ?? false;
    this.limit = Math.max(1, opts.memory ?? STATUSES_IN_MEMORY);
  }

  /** Statuses held in memory now (bounded by the `memory` option). */
  get held(): number {
    return this.merge ? this.byName.size : this.list.length;
  }

  /** Runs written to disk so far. */
  get spilled(): number {
    return this.runs.length;
  }

  /** A table of every status a source gives (unmerged). */
  static async of(source: StatusSource, opts: StatusTableOptions = {}): Promise<StatusTable> {
    const table = new StatusTable(opts);
    try {
      for await (const s of source) await table.add(s);
    } catch (err) {
      await table.close();
      throw err;
    }
    return table;
  }

  async add(s: HostStatus): Promise<void> {
    this.added++;
    if (this.merge) {
      const prev = this.byName.get(s.host);
      this.byName.set(s.host, prev ? mergeStatus(prev, s) : s);
    } else this.list.push(s);
    if (this.held >= this.limit) await this.spill();
  }

  /** Every status, sorted by host (merged per host with `merge`). Can be read more than once. */
  async *sorted(): AsyncGenerator<HostStatus> {
    const inMemory = this.memorySorted();
    if (this.runs.length === 0) {
      yield* inMemory;
      return;
    }
    // A k-way merge: the earlier run first on equal hosts (arrival order), memory last.
    const sources: Array<Iterator<HostStatus> | AsyncIterator<HostStatus>> = [...this.runs.map((f) => readRun(f)), inMemory[Symbol.iterator]()];
    const heads: Array<HostStatus | undefined> = await Promise.all(sources.map(async (it) => (await it.next()).value as HostStatus | undefined));
    let pending: HostStatus | undefined;
    for (;;) {
      let min = -1;
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i];
        if (h !== undefined && (min === -1 || byHost(h, heads[min]!) < 0)) min = i;
      }
      if (min === -1) break;
      const next = heads[min]!;
      heads[min] = (await sources[min]!.next()).value as HostStatus | undefined;
      if (this.merge && pending && pending.host === next.host) {
        pending = mergeStatus(pending, next);
        continue;
      }
      if (pending) yield pending;
      pending = next;
    }
    if (pending) yield pending;
  }

  /** The first `max` hosts in order, and how many hosts there are (after merging). */
  async sample(max: number): Promise<{ first: string[]; count: number }> {
    const first: string[] = [];
    let count = 0;
    for await (const s of this.sorted()) if (count++ < max) first.push(s.host);
    return { first, count };
  }

  /** Removes the runs written to disk. */
  async close(): Promise<void> {
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
    if (this.onExit) process.off('exit', this.onExit);
    this.onExit = undefined;
    this.dir = undefined;
    this.runs.length = 0;
  }

  private memorySorted(): HostStatus[] {
    return (this.merge ? [...this.byName.values()] : [...this.list]).sort(byHost);
  }

  private async spill(): Promise<void> {
    const sorted = this.memorySorted();
    this.byName = new Map();
    this.list = [];
    const base = this.opts.tmpDir ?? tmpdir();
    try {
      if (!this.dir) {
        const dir = await mkdtemp(join(base, 'osfleet-statuses-'));
        this.dir = dir;
        // A run that ends on an error or a second Ctrl-C does not leave the statuses behind.
        this.onExit = () => rmSync(dir, { recursive: true, force: true });
        process.once('exit', this.onExit);
      }
      const file = join(this.dir, `run-${this.runs.length}.ndjson`);
      const out = createWriteStream(file, { mode: 0o600 });
      let failed: Error | undefined;
      out.on('error', (e) => (failed ??= e));
      let text = '';
      for (const s of sorted) {
        text += `${JSON.stringify(s)}\n`;
        if (text.length >= 1 << 16) {
          await put(out, text);
          text = '';
        }
      }
      if (text !== '') await put(out, text);
      await endStream(out);
      if (failed) throw failed;
      this.runs.push(file);
    } catch (err) {
      throw new OutputError(`cannot hold host statuses in the temporary folder ${this.dir ?? base}: ${describeFsError(err)}`, {
        hint: 'statuses of many hosts wait there until they are written in host order; set TMPDIR to a folder with room',
        cause: err,
      });
    }
  }
}

function endStream(out: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

async function* readRun(file: string): AsyncGenerator<HostStatus> {
  for await (const [text] of lines(createReadStream(file, { highWaterMark: 1 << 16 }))) {
    if (text !== '') yield JSON.parse(text) as HostStatus;
  }
}
