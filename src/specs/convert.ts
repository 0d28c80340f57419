/**
 * osquery pack files (`*.conf`) → Fleet `pack` and `query` documents. Pure.
 *
 * The file is read as the agent reads it (`pack-json.ts`: continuations and comment lines removed,
 * then strict JSON); positions in diagnostics are those of the original file.
 */
import { diag, sortDiagnostics } from './diagnostics.js';
import { makeSourceFile } from './yaml-doc.js';
import { findJsonError, keyPositions, preprocessPack } from './pack-json.js';
import { mapOsqueryPlatform, reportPlatform } from './platforms.js';
import { orderPack, orderQuery, renderDoc } from './render.js';
import type { Diagnostic, PackQuery, PackSpec, Pos, QuerySpec } from './types.js';

export interface ConvertResult {
  /** Multi-document YAML: the pack(s) first, then one query document per query, sorted by name. */
  docs: string;
  warnings: Diagnostic[];
  /** Non-empty when the file could not be converted; `docs` is then empty. */
  errors: Diagnostic[];
}

/** osquery's own reserved query names (osquery.md §2.2): such queries are skipped by the agent. */
function reservedName(name: string): boolean {
  return /^(query\.|cache\.|config_views\.)/.test(name) || /(epoch|counter)$/.test(name);
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function toBool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v === 'true' || v === 't';
  return undefined;
}

function toUint(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return Math.trunc(v);
  if (typeof v === 'string' && /^\s*\d+\s*$/.test(v)) return Number.parseInt(v, 10);
  return undefined;
}

export interface ConvertOptions {
  /**
   * What the target server applies: `pack` (Kolide, FleetDM before 4.35) or `query` (FleetDM 4.35
   * and later, where packs are deprecated: one `kind: query` document per scheduled query, carrying
   * its interval, platform, logging and minimum osquery version).
   */
  scheduleAs?: 'pack' | 'query' | undefined;
}

/** Keys of an osquery pack query that are converted (each other key is reported as not carried). */
const QUERY_KEYS = new Set(['query', 'interval', 'description', 'value', 'snapshot', 'removed', 'shard', 'platform', 'version', 'denylist']);

/** What converting one file shares: where warnings go, how a path or offset becomes a position. */
interface Conversion {
  scheduleAs: 'pack' | 'query';
  warn(path: string, code: string, message: string): void;
  warnAt(offset: number, code: string, message: string): void;
  orig(offset: number): Pos;
  posOf(path: string): Pos;
  /** Queries whose `value` went into the description (said once, at the first). */
  values: number;
  firstValue: string | undefined;
  /** Each query document by name, with the path of its first definition. */
  querySpecs: Map<string, { spec: QuerySpec; path: string }>;
}

/** Why a file cannot be converted. */
interface Failure {
  pos: Pos;
  code: string;
  message: string;
}

/** A query of a pack under the name it is converted as, with the path and offset of its key. */
interface NamedQuery {
  qname: string;
  q: unknown;
  qp: string;
  offset: number;
}

export function convertPack(text: string, packName: string, source = packName, options: ConvertOptions = {}): ConvertResult {
  const scheduleAs = options.scheduleAs ?? 'pack';
  const warnings: Diagnostic[] = [];
  const errors: Diagnostic[] = [];
  const file = makeSourceFile(source, text);
  const fail = (pos: Pos, code: string, message: string): ConvertResult => {
    errors.push(diag(source, pos, 'error', code, message));
    return { docs: '', warnings, errors };
  };

  if (text.includes('\u0000')) return fail(file.posAt(text.indexOf('\u0000')), 'binary-input', 'binary input (NUL byte): expected an osquery pack (JSON)');
  const pre = preprocessPack(text.startsWith('\uFEFF') ? ' ' + text.slice(1) : text);
  const orig = (offset: number) => file.posAt(pre.origin[Math.min(offset, pre.origin.length - 1)] ?? 0);
  const jsonErr = findJsonError(pre.text);
  if (jsonErr) return fail(orig(jsonErr.offset), 'json-syntax', `invalid JSON: ${jsonErr.message}`);
  const root: unknown = JSON.parse(pre.text);
  if (!isRecord(root)) return fail(orig(0), 'not-a-pack', 'an osquery pack must be a JSON object with "queries"');

  // Positions of keys: JSON is YAML, so yaml's parser gives node ranges without a second grammar.
  const { positions: keyPos, entries: mapEntries } = keyPositions(pre.text);
  const posOf = (path: string): Pos => {
    if (path.startsWith('\u0001')) return orig(Number(path.slice(1).split('\0')[0]));
    const off = keyPos.get(path);
    return off === undefined ? { line: 1, col: 1 } : orig(off);
  };
  const c: Conversion = {
    scheduleAs,
    warn: (path, code, message) => warnings.push(diag(source, posOf(path), 'warning', code, message)),
    warnAt: (offset, code, message) => warnings.push(diag(source, orig(offset), 'warning', code, message)),
    orig,
    posOf,
    values: 0,
    firstValue: undefined,
    querySpecs: new Map(),
  };
  const { warn } = c;

  // A pack file has "queries"; an osquery config has "packs" (each inline pack is converted).
  let packs: Array<{ name: string; body: Record<string, unknown>; path: string }>;
  if ('queries' in root || !('packs' in root)) {
    packs = [{ name: packName, body: root, path: '' }];
  } else {
    packs = [];
    if (!isRecord(root['packs'])) return fail(posOf('packs'), 'not-a-pack', '"packs" must be an object of pack name → pack');
    for (const [name, body] of Object.entries(root['packs'])) {
      if (isRecord(body)) packs.push({ name, body, path: `packs\0${name}` });
      else warn(`packs\0${name}`, 'pack-resource', `pack "${name}" refers to a resource (${JSON.stringify(body)}); convert that file on its own`);
    }
    for (const key of Object.keys(root)) {
      if (key !== 'packs') warn(key, 'dropped-key', `top-level "${key}" is osquery configuration, not a pack; it is not converted`);
    }
  }

  const packSpecs: PackSpec[] = [];
  for (const pack of packs) {
    const spec = convertOnePack(c, pack, mapEntries);
    if ('code' in spec) return fail(spec.pos, spec.code, spec.message);
    packSpecs.push(spec);
  }
  if (c.values > 0) {
    warn(
      c.firstValue!,
      'value-in-description',
      `osquery's "value" has no field in Fleet's query spec: ${c.values === 1 ? 'the value text is' : `the ${c.values} value texts are`} kept, each at the end of its query's description, after "Value:"`,
    );
  }

  const out: string[] = [];
  if (scheduleAs === 'pack') for (const pack of packSpecs) out.push(renderDoc('pack', orderPack(pack)));
  for (const name of [...c.querySpecs.keys()].sort()) out.push(renderDoc('query', orderQuery(c.querySpecs.get(name)!.spec)));
  return { docs: out.join(''), warnings: sortDiagnostics(warnings), errors };
}

/** One pack of the file: its fields, each of its queries, and what cannot be carried. */
function convertOnePack(
  c: Conversion,
  { name, body, path }: { name: string; body: Record<string, unknown>; path: string },
  mapEntries: Map<string, Array<{ key: string; value: unknown; offset: number }>>,
): PackSpec | Failure {
  const { warn, posOf } = c;
  const p = (k: string) => (path === '' ? k : `${path}\0${k}`);
  const spec: PackSpec = { name, queries: [] };
  const packPlatform = body['platform'];
  if (typeof packPlatform === 'string' && packPlatform !== '') {
    const m = mapOsqueryPlatform(packPlatform);
    reportPlatform(m, packPlatform, (msg) => warn(p('platform'), 'platform', `pack "${name}": ${msg}`));
    if (m.value !== '') spec.platform = m.value;
  }
  const packVersion = typeof body['version'] === 'string' ? body['version'] : undefined;
  const packShard = toUint(body['shard']);
  for (const key of Object.keys(body)) {
    if (['queries', 'platform', 'version', 'shard'].includes(key)) continue;
    if (key === 'oncall') {
      warn(p(key), 'dropped-key', `pack "${name}": "oncall" (${JSON.stringify(body[key])}) has no Fleet equivalent; not carried`);
      continue;
    }
    if (key === 'discovery') {
      warn(p(key), 'dropped-key', `pack "${name}": discovery queries have no Fleet equivalent (target a label instead); dropped`);
    } else {
      warn(p(key), 'dropped-key', `pack "${name}": "${key}" is osquery configuration, not part of a Fleet pack (put it in an options document); dropped`);
    }
  }
  const queries = body['queries'];
  if (queries !== undefined && !isRecord(queries)) return { pos: posOf(p('queries')), code: 'not-a-pack', message: `pack "${name}": "queries" must be an object of query name → query` };
  // Every entry as written: a name given twice keeps both (JSON.parse would keep only the last).
  const parsed = (queries ?? {}) as Record<string, unknown>;
  const asWritten = mapEntries.get(p('queries'));
  const written = asWritten
    ? // JSON.parse's value for a name's last occurrence (exact JSON semantics), the YAML reading for earlier ones.
      asWritten.map((e, i) => ({ ...e, value: asWritten.slice(i + 1).some((x) => x.key === e.key) ? e.value : parsed[e.key] }))
    : Object.entries(parsed).map(([key, value]) => ({ key, value, offset: -1 }));
  for (const named of namedQueries(c, written, name, p)) {
    const failure = convertQuery(c, spec, named, { version: packVersion, shard: packShard });
    if (failure) return failure;
  }
  if (!spec.targets && c.scheduleAs === 'pack') {
    warn(path === '' ? '' : path, 'no-targets', `pack "${name}" has no targets: add targets.labels (for example "All Hosts") or it runs on no host`);
  }
  return spec;
}

/**
 * The queries of one pack as written, sorted by name: a name given twice keeps both, the second
 * renamed `<name>_<n>` with a warning.
 */
function namedQueries(
  c: Conversion,
  written: Array<{ key: string; value: unknown; offset: number }>,
  name: string,
  p: (k: string) => string,
): NamedQuery[] {
  const { orig, warn, warnAt } = c;
  const taken = new Set(written.map((e) => e.key));
  const seenNames = new Map<string, number>();
  const named: NamedQuery[] = [];
  for (const e of written) {
    let qname = e.key;
    const before = seenNames.get(e.key);
    if (before !== undefined) {
      let n = 2;
      while (taken.has(`${e.key}_${n}`)) n++;
      qname = `${e.key}_${n}`;
      taken.add(qname);
      const at = (off: number) => (off >= 0 ? `${orig(off).line}:${orig(off).col}` : 'earlier');
      const message = `pack "${name}": query "${e.key}" is defined twice (at ${at(before)} and ${at(e.offset)}); both are kept, the second renamed "${qname}"`;
      if (e.offset >= 0) warnAt(e.offset, 'duplicate-query', message);
      else warn(p(`queries\0${e.key}`), 'duplicate-query', message);
    } else seenNames.set(e.key, e.offset);
    named.push({ qname, q: e.value, qp: p(`queries\0${e.key}`), offset: e.offset });
  }
  named.sort((a, b) => (a.qname < b.qname ? -1 : a.qname > b.qname ? 1 : 0));
  return named;
}

/**
 * One scheduled query into the pack's entry and its query document; undefined when converted or
 * skipped (with a warning), a failure when it conflicts with a query of another pack.
 */
function convertQuery(
  c: Conversion,
  spec: PackSpec,
  { qname, q, qp: keyPath, offset }: NamedQuery,
  pack: { version: string | undefined; shard: number | undefined },
): Failure | undefined {
  const { warn, posOf } = c;
  // A renamed duplicate is placed by its own offset; others by their key path.
  const qp = offset >= 0 && qname !== keyPath.slice(keyPath.lastIndexOf('\0') + 1) ? `\u0001${offset}` : keyPath;
  const where = `query "${qname}"`;
  if (!isRecord(q)) {
    warn(qp, 'skipped-query', `${where} is not an object; osquery skips it`);
    return undefined;
  }
  if (typeof q['query'] !== 'string' || q['query'].trim() === '') {
    warn(qp, 'skipped-query', `${where} has no "query" SQL; osquery skips it`);
    return undefined;
  }
  if (reservedName(qname)) warn(qp, 'reserved-name', `${where}: osquery skips names starting with query., cache. or config_views. or ending with epoch or counter`);
  let interval = 3600;
  if (q['interval'] === undefined) {
    warn(qp, 'default-interval', `${where} has no interval; osquery's default of 3600 s is written`);
  } else {
    const n = toUint(q['interval']);
    if (n === undefined || n === 0 || n > 604_800) {
      warn(`${qp}\0interval`, 'skipped-query', `${where}: interval ${JSON.stringify(q['interval'])} is not 1 to 604800 seconds; osquery drops this query, so it is not converted`);
      return undefined;
    }
    interval = n;
  }
  const entry: PackQuery = { query: qname, name: qname, interval };
  if (typeof q['description'] === 'string' && q['description'] !== '') entry.description = q['description'];
  // osquery's `value` (why the result matters) has no field in Fleet's specs: it ends the description.
  if (typeof q['value'] === 'string' && q['value'].trim() !== '') {
    entry.description = `${entry.description ? `${entry.description}\n\n` : ''}Value: ${q['value']}`;
    c.values++;
    c.firstValue ??= `${qp}\0value`;
  }
  for (const key of Object.keys(q)) {
    if (QUERY_KEYS.has(key) || key === 'startup_priority') continue;
    warn(`${qp}\0${key}`, 'dropped-key', `${where}: "${key}" (${JSON.stringify(q[key])}) has no Fleet equivalent; not carried`);
  }
  const snapshot = toBool(q['snapshot']);
  if (snapshot !== undefined) entry.snapshot = snapshot;
  const removed = toBool(q['removed']);
  if (removed !== undefined) entry.removed = removed;
  const shard = toUint(q['shard']) ?? pack.shard;
  if (shard !== undefined && shard > 0 && shard <= 100) entry.shard = shard;
  if (typeof q['platform'] === 'string' && q['platform'] !== '') {
    const m = mapOsqueryPlatform(q['platform']);
    reportPlatform(m, q['platform'], (msg) => warn(`${qp}\0platform`, 'platform', `${where}: ${msg}`));
    if (m.value !== '') entry.platform = m.value;
  }
  const version = typeof q['version'] === 'string' && q['version'] !== '' ? q['version'] : pack.version;
  if (version !== undefined) entry.version = version;
  const denylist = toBool(q['denylist']);
  if (denylist !== undefined) entry.denylist = denylist;
  if (q['startup_priority'] !== undefined) warn(`${qp}\0startup_priority`, 'dropped-key', `${where}: startup_priority has no Fleet equivalent; dropped`);
  spec.queries.push(entry);

  const qspec: QuerySpec = { name: qname, query: q['query'] };
  if (entry.description !== undefined) qspec.description = entry.description;
  if (c.scheduleAs === 'query') {
    // The schedule goes in the query document itself (FleetDM 4.35+).
    qspec.interval = entry.interval;
    // No pack carries the pack's platform: each query does.
    const platform = entry.platform ?? spec.platform;
    if (platform !== undefined) qspec.platform = platform;
    qspec.logging = entry.snapshot ? 'snapshot' : entry.removed === false ? 'differential_ignore_removals' : 'differential';
    if (entry.version !== undefined) qspec.min_osquery_version = entry.version;
    if (entry.shard !== undefined) warn(`${qp}\0shard`, 'dropped-key', `${where}: shard ${entry.shard} has no field in a FleetDM query document; not carried (the query runs on every host)`);
    if (entry.denylist !== undefined) warn(`${qp}\0denylist`, 'dropped-key', `${where}: denylist ${entry.denylist} has no field in a FleetDM query document; not carried`);
  }
  const prior = c.querySpecs.get(qname);
  if (prior && (prior.spec.query !== qspec.query || (c.scheduleAs === 'query' && JSON.stringify(prior.spec) !== JSON.stringify(qspec)))) {
    return {
      pos: posOf(qp),
      code: 'conflicting-query',
      message: `${where} is defined ${prior.spec.query !== qspec.query ? 'with different SQL' : 'with a different schedule'} in two packs; rename one before converting`,
    };
  }
  if (!prior) c.querySpecs.set(qname, { spec: qspec, path: qp });
  return undefined;
}

export { renderDoc } from './render.js';

