/**
 * Scheduled queries of packs as result logs name them: `pack/<pack>/<entry>` (Fleet's delimiter)
 * or `pack_<pack>_<entry>` (osquery's default), and FleetDM's own schedules `pack/Global/<query>`,
 * each with its SQL, so a log's rows can be read by the tables of the query that made them. From
 * spec files (YAML documents), osquery pack files (.conf, named after the file) or the server.
 */
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { InputError } from '../errors.js';
import type { FleetClient } from '../api/client.js';
import { listSpecs } from '../api/specs.js';
import { preprocessPack } from './pack-json.js';
import { loadInputs, nodeLoadIO } from './load.js';
import { parseDocuments } from './parse.js';
import { toSpecSet } from './validate.js';

export interface ScheduledEntry {
  /** The name as the log writes it: `pack/<pack>/<entry>`. */
  name: string;
  sql: string;
  /** The pack entry's name and the saved query it runs: what --query may say. */
  aliases: string[];
}

/** Log names of one pack entry: Fleet's `pack/<pack>/<entry>` and osquery's default `pack_<pack>_<entry>`. */
const logNames = (pack: string, entry: string) => [`pack/${pack}/${entry}`, `pack_${pack}_${entry}`];

type Spec = Record<string, unknown>;

/** Entries of packs and scheduled queries given as specs (YAML files or the server's). */
export function entriesOfSpecs(queries: Spec[], packs: Spec[]): ScheduledEntry[] {
  const sqlOf = new Map<string, string>();
  for (const q of queries) if (typeof q['name'] === 'string' && typeof q['query'] === 'string') sqlOf.set(q['name'], q['query']);
  const out: ScheduledEntry[] = [];
  for (const p of packs) {
    if (typeof p['name'] !== 'string' || !Array.isArray(p['queries'])) continue;
    for (const pq of p['queries'] as Spec[]) {
      const saved = String(pq['query'] ?? '');
      const entry = typeof pq['name'] === 'string' && pq['name'] !== '' ? pq['name'] : saved;
      const sql = sqlOf.get(saved);
      if (sql === undefined) continue;
      for (const name of logNames(p['name'], entry)) out.push({ name, sql, aliases: [entry, saved] });
    }
  }
  // FleetDM 4.35+ schedules queries themselves: `pack/Global/<name>`.
  for (const q of queries) {
    if (typeof q['name'] !== 'string' || typeof q['query'] !== 'string') continue;
    const interval = Number(q['interval'] ?? 0);
    if (interval > 0) out.push({ name: `pack/Global/${q['name']}`, sql: q['query'], aliases: [q['name']] });
  }
  return out;
}

/** osquery pack files (JSON, `.conf`): the pack is named after the file, as in `packs: {name: path}`. */
async function entriesOfOsqueryPack(path: string): Promise<ScheduledEntry[]> {
  const text = await readFile(path, 'utf8');
  let v: unknown;
  try {
    v = JSON.parse(preprocessPack(text).text);
  } catch (err) {
    throw new InputError(`--packs ${path}: not an osquery pack (${(err as Error).message})`);
  }
  const queries = (v as { queries?: unknown })?.queries;
  if (!queries || typeof queries !== 'object') throw new InputError(`--packs ${path}: no "queries" object`);
  const pack = basename(path, extname(path));
  const out: ScheduledEntry[] = [];
  for (const [entry, q] of Object.entries(queries as Record<string, Spec>)) {
    if (typeof q?.['query'] !== 'string') continue;
    for (const name of logNames(pack, entry)) out.push({ name, sql: q['query'], aliases: [entry] });
  }
  return out;
}

export async function entriesOfFiles(paths: string[], cwd: string, stdin: () => NodeJS.ReadableStream): Promise<ScheduledEntry[]> {
  const json = paths.filter((p) => /\.(conf|json)$/i.test(p));
  const yaml = paths.filter((p) => !json.includes(p));
  const out: ScheduledEntry[] = [];
  for (const p of json) out.push(...(await entriesOfOsqueryPack(p)));
  if (yaml.length > 0) {
    const fsp = await import('node:fs/promises');
    const loaded = await loadInputs(yaml, nodeLoadIO(cwd, stdin, fsp));
    const bad = loaded.diagnostics.find((d) => d.severity === 'error');
    if (bad) throw new InputError(`--packs: ${bad.source}: ${bad.message}`);
    const docs = loaded.inputs.flatMap((i) => parseDocuments(i.text, i.source).docs);
    const set = toSpecSet(docs);
    out.push(...entriesOfSpecs(set.queries as unknown as Spec[], set.packs as unknown as Spec[]));
  }
  return out;
}

/** The scheduled queries of the server's packs (and FleetDM's scheduled queries). */
export async function entriesOfServer(client: FleetClient): Promise<ScheduledEntry[]> {
  await client.server();
  const [queries, packs] = await Promise.all([listSpecs(client, 'queries'), listSpecs(client, 'packs')]);
  return entriesOfSpecs(queries, packs);
}
