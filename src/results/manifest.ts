/**
 * The evidence manifest written beside an output file: what was asked of which hosts, when, how
 * dates were written, and the SHA-256 of the output and of every input, so a finding can be handed
 * over and checked. It is written only once the output is complete (committed).
 * It never carries a token or any other secret: only the fields below.
 */
import { readFile } from 'node:fs/promises';
import { InputError } from '../errors.js';
import { openOutput } from './atomic.js';
import { put, statusRecord, type StatusRecord } from './format/common.js';
import type { StatusSource } from './statuses.js';
import type { HostStatus } from './types.js';

export const MANIFEST_VERSION = 1;

export interface Manifest {
  manifest_version: number;
  osfleet_version: string;
  /** The command that produced the output: query, export, get. */
  command: string;
  server: { version?: string | undefined; dialect?: string | undefined; address?: string | undefined } | null;
  sql: string | null;
  tables: string[];
  targets: { hosts?: string[]; labels?: string[]; all?: boolean; label_expr?: string } | null;
  started_at: string;
  ended_at: string;
  /** How the run ended: complete, timeout, interrupted. */
  ended_by: string;
  time_zone: string;
  time_format: string;
  enriched: boolean;
  hosts: StatusRecord[];
  rows: number;
  output: { path: string | null; format: string; sha256: string | null; bytes: number | null };
  warnings: string[];
  /** export: the input files (`stdin` for standard input) */
  inputs?: string[];
  /** export: every file read (results, and the --users file), with the SHA-256 and size of the bytes read */
  input_files?: Array<{ path: string; role?: string; sha256: string; bytes: number }>;
  /** Hosts that answered but were not targeted: their rows are not in the output (query: with id and answers). */
  outside_targets?: Array<{ host: string; host_id?: number; answers?: number; rows: number }>;
  /** query: answers kept without checking them against the campaign's targets, and why (src/results/untargeted.ts). */
  targets_unverified?: { reason: string; answers: number; rows: number; hosts?: Array<{ host: string; host_id?: number; answers: number; rows: number }> };
  /** export: where usernames came from (`server`, or the --users file) */
  usernames_from?: string;
  /** export of a result log: rows per scheduled query, the time range, where the SQL came from */
  log?: Record<string, unknown>;
  /** Per converted column: the conversion applied, why, and the values kept as sent. */
  columns?: Array<{ column: string; conversion: string; because: string; raw_in?: string; kept_raw?: Record<string, number> }>;
}

export function hostsForManifest(statuses: readonly HostStatus[]): Manifest['hosts'] {
  return [...statuses].sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0)).map(manifestHost);
}

/** One host of the manifest's `hosts` list: the same record as the JSON and YAML documents'. */
export const manifestHost: (s: HostStatus) => StatusRecord = statusRecord;

/** Where the streamed host list goes in the manifest's text (a string JSON cannot otherwise hold there). */
const HOSTS_MARK = '\u0000osfleet-hosts\u0000';

/**
 * The manifest's `hosts`, written status by status as they are read (already in host order: a
 * StatusTable's sorted()), never held as one list or one string: at 100,000 hosts the list and
 * its text would be tens of MiB. The manifest's text is the same as with a list.
 */
export class StreamedHosts {
  constructor(readonly statuses: StatusSource) {}
  toJSON(): string {
    return HOSTS_MARK;
  }
}

/** A manifest to write: its host list given whole, or streamed. */
export type ManifestOut = Omit<Manifest, 'hosts'> & { hosts: Manifest['hosts'] | StreamedHosts };

/** Strips credentials from an address (user:password@, query strings) before it goes in a manifest. */
export function safeAddress(address: string | undefined): string | undefined {
  if (!address) return undefined;
  try {
    const u = new URL(address);
    u.username = '';
    u.password = '';
    u.search = '';
    u.hash = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return undefined;
  }
}

export async function writeManifest(path: string, manifest: ManifestOut): Promise<void> {
  const f = await openOutput(path);
  try {
    const text = `${JSON.stringify(manifest, null, 2)}\n`;
    const hosts = manifest.hosts;
    if (!(hosts instanceof StreamedHosts)) f.stream.write(text);
    else {
      const mark = JSON.stringify(HOSTS_MARK);
      const at = text.indexOf(mark);
      // The list as JSON.stringify(…, null, 2) writes it at this depth: items indented by 4.
      let out = `${text.slice(0, at)}[`;
      let n = 0;
      for await (const s of hosts.statuses) {
        out += `${n++ === 0 ? '\n    ' : ',\n    '}${JSON.stringify(manifestHost(s), null, 2).replace(/\n/g, '\n    ')}`;
        if (out.length >= 1 << 16) {
          await put(f.stream, out);
          out = '';
        }
      }
      await put(f.stream, `${out}${n === 0 ? ']' : '\n  ]'}${text.slice(at + mark.length)}`);
    }
    await f.commit();
  } catch (err) {
    await f.abort();
    throw err;
  }
}

/** Reads the parts of a manifest `export --from-manifest` uses. */
export async function readManifest(path: string): Promise<Pick<Manifest, 'sql' | 'tables' | 'targets' | 'hosts'> & Partial<Manifest>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read manifest ${path}: ${(err as Error).message}`);
  }
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${path}: not a JSON manifest: ${(err as Error).message}`);
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new InputError(`${path}: not an osfleet manifest`);
  const o = m as Record<string, unknown>;
  const sql = typeof o['sql'] === 'string' ? o['sql'] : null;
  const tables = Array.isArray(o['tables']) ? o['tables'].filter((t): t is string => typeof t === 'string') : [];
  if (sql === null && tables.length === 0) throw new InputError(`${path}: the manifest names neither SQL nor tables`);
  return {
    ...(o as Partial<Manifest>),
    sql,
    tables,
    targets: (o['targets'] as Manifest['targets']) ?? null,
    hosts: Array.isArray(o['hosts']) ? (o['hosts'] as Manifest['hosts']) : [],
  };
}
