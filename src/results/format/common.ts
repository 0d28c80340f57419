import { open } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import type { ColumnLayout } from '../enrich.js';
import type { HostResult, HostStatus, Row } from '../types.js';

/** A host's status as every document writes it (JSON, YAML, the manifest): `host_id` and `error` only when known. */
export interface StatusRecord {
  host: string;
  host_id?: number;
  status: string;
  rows: number;
  error?: string;
}

export function statusRecord(s: HostStatus): StatusRecord {
  return {
    host: s.host,
    ...(s.hostId !== undefined ? { host_id: s.hostId } : {}),
    status: s.status,
    rows: s.rows,
    ...(s.error ? { error: s.error } : {}),
  };
}

/** Statuses either way: a list, or a StatusTable's sorted reading (statuses.ts). */
export type StatusSource = Iterable<HostStatus> | AsyncIterable<HostStatus>;

export type ResultFormat = 'table' | 'ndjson' | 'json' | 'yaml' | 'csv';
export const RESULT_FORMATS: readonly ResultFormat[] = ['table', 'ndjson', 'json', 'yaml', 'csv'];

export interface WriterOptions {
  layout: ColumnLayout;
  csv?: { neutralise: boolean; bom: boolean } | undefined;
  /** table: a terminal is watching (cli-table3, cut to width) */
  tty?: boolean | undefined;
  /** table: terminal width */
  width?: number | undefined;
  /** csv: where to spool rows when the header is not known up front (default: the OS temp folder) */
  tmpDir?: string | undefined;
  /** csv: rows kept in memory before spooling to disk */
  memoryRows?: number | undefined;
}

/** A streaming writer of one result set: results in, bytes out, statuses at the end. */
export interface ResultWriter {
  write(r: HostResult): Promise<void>;
  /**
   * One answer whose rows come in slices (enriched one slice at a time, so a large answer is not
   * held twice). Writers of whole documents per host implement it; others get write() per slice.
   */
  writeSlices?(head: Omit<HostResult, 'rows'>, slices: Iterable<readonly Row[]>): Promise<void>;
  /** Finishes the document (closing brackets, the CSV body of a spool, the table). Does not end the sink. */
  end(statuses: StatusSource): Promise<void>;
  /** Releases temporary files after a failure. */
  abort(): Promise<void>;
  /** Warnings about the document, once ended (columns it could not hold). */
  notes?(): string[];
}

/** Columns that Fleet adds to every row; `host` already says it in tables and CSV. */
export const FLEET_HOST_COLUMNS: ReadonlySet<string> = new Set(['host_hostname', 'host_display_name']);

/** Writes with backpressure: resolves at once when the sink has room, else on 'drain' (or fails with the sink). */
export function put(sink: Writable, chunk: string | Buffer): Promise<void> | undefined {
  // A sink that failed (a full disk) rejects with its own error, which names the file.
  if (sink.destroyed) return Promise.reject(sink.errored ?? new Error('output closed'));
  if (sink.write(chunk)) return undefined;
  return new Promise<void>((resolve, reject) => {
    const done = (err?: Error) => {
      sink.off('drain', onDrain);
      sink.off('error', onError);
      sink.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => done();
    const onError = (e: Error) => done(e);
    const onClose = () => done(sink.errored ?? new Error('output closed'));
    sink.on('drain', onDrain);
    sink.on('error', onError);
    sink.on('close', onClose);
  });
}

/** Resolves once the sink has taken `chunk` (its write callback), or fails with the sink. */
export function written(sink: Writable, chunk: Buffer): Promise<void> {
  if (sink.destroyed) return Promise.reject(sink.errored ?? new Error('output closed'));
  return new Promise<void>((resolve, reject) => {
    const done = (err?: Error | null) => {
      sink.off('error', onError);
      sink.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onError = (e: Error) => done(e);
    const onClose = () => done(sink.errored ?? new Error('output closed'));
    sink.on('error', onError);
    sink.on('close', onClose);
    sink.write(chunk, (err) => done(err));
  });
}

/** Bytes copied at a time by copyInto. */
const COPY_BYTES = 1 << 18;

/**
 * Copies a file into the sink through one buffer, reused once the sink has taken each piece: a
 * read stream would allocate a new buffer per piece, and a copy makes so little garbage on the
 * JavaScript heap that nothing collects those buffers until V8's external-memory limit (tens of
 * MiB) is reached (issue 19.3).
 */
export async function copyInto(sink: Writable, path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafeSlow(COPY_BYTES);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, COPY_BYTES, null);
      if (bytesRead === 0) return;
      await written(sink, buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
}

/**
 * Union of the row columns in display order: the SQL's result columns first, in its order (also
 * those no row carries), then the others sorted; generated columns beside their source; Fleet's host
 * columns dropped.
 */
export function unionColumns(seen: Iterable<string>, layout: ColumnLayout): string[] {
  const order = layout.order ?? [];
  const rank = new Map<string, number>();
  order.forEach((c, i) => rank.set(c, i));
  const first: string[] = [...order];
  const rest: string[] = [];
  for (const c of seen) if (!rank.has(c) && !layout.isGenerated(c) && !FLEET_HOST_COLUMNS.has(c)) rest.push(c);
  rest.sort(byCodePoint);
  return layout.expand([...first, ...rest]);
}

export const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function cellsOf(host: string, row: Row, columns: readonly string[]): string[] {
  const out = new Array<string>(columns.length + 1);
  out[0] = host;
  for (let i = 0; i < columns.length; i++) out[i + 1] = row[columns[i]!] ?? '';
  return out;
}

/**
 * The header of table and CSV output: `host` (the answering host) then the columns. A result column
 * that is itself called `host` (last.host, logged_in_users.host: a remote address) is labelled
 * `host.1`, the usual spelling of a repeated column name (pandas, R), so no header is ambiguous.
 */
export function headerOf(columns: readonly string[]): string[] {
  const out = new Array<string>(columns.length + 1);
  out[0] = 'host';
  for (let i = 0; i < columns.length; i++) out[i + 1] = columns[i] === 'host' ? 'host.1' : columns[i]!;
  return out;
}
