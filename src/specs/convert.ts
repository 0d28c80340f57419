/**
 * osquery pack files (`*.conf`) → Fleet `pack` and `query` documents. Pure.
 *
 * Pre-processing is exactly the agent's (osquery.md §2.1): delete backslash-newline continuations,
 * drop whole lines whose trimmed text starts with `#` or `//`, then strict JSON. Positions in
 * diagnostics are those of the original file: every character of the processed text remembers
 * where it came from.
 */
import { isMap, isPair, isScalar, parseDocument, type Node } from 'yaml';
import { diag, sortDiagnostics } from './diagnostics.js';
import { makeSourceFile } from './yaml-doc.js';
import { orderPack, orderQuery, renderDoc } from './render.js';
import type { Diagnostic, PackQuery, PackSpec, Pos, QuerySpec } from './types.js';

export interface ConvertResult {
  /** Multi-document YAML: the pack(s) first, then one query document per query, sorted by name. */
  docs: string;
  warnings: Diagnostic[];
  /** Non-empty when the file could not be converted; `docs` is then empty. */
  errors: Diagnostic[];
}

/** Pre-processed text and, for each of its characters, the offset it had in the original. */
export interface Preprocessed {
  text: string;
  origin: Int32Array;
}

export function preprocessPack(original: string): Preprocessed {
  // Step 1: backslash-newline continuations (a CR before the LF goes too, for files edited on Windows).
  const chars: string[] = [];
  const origin: number[] = [];
  for (let i = 0; i < original.length; i++) {
    const c = original[i]!;
    if (c === '\\') {
      if (original[i + 1] === '\n') {
        i += 1;
        continue;
      }
      if (original[i + 1] === '\r' && original[i + 2] === '\n') {
        i += 2;
        continue;
      }
    }
    chars.push(c);
    origin.push(i);
  }
  // Step 2: whole-line comments. A dropped line keeps its newline, so JSON errors keep their line.
  const outChars: string[] = [];
  const outOrigin: number[] = [];
  let start = 0;
  while (start <= chars.length) {
    let end = start;
    while (end < chars.length && chars[end] !== '\n') end++;
    const line = chars.slice(start, end).join('');
    const trimmed = line.trim();
    const drop = trimmed.startsWith('#') || trimmed.startsWith('//');
    if (!drop) {
      for (let k = start; k < end; k++) {
        outChars.push(chars[k]!);
        outOrigin.push(origin[k]!);
      }
    }
    if (end < chars.length) {
      outChars.push('\n');
      outOrigin.push(origin[end]!);
    }
    start = end + 1;
  }
  const result = new Int32Array(outOrigin.length + 1);
  result.set(outOrigin);
  result[outOrigin.length] = original.length;
  return { text: outChars.join(''), origin: result };
}

/** Strict JSON syntax check with the offset of the first error (JSON.parse does not always say where). */
export function findJsonError(text: string): { offset: number; message: string } | undefined {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const fail = (message: string, at = i): never => {
    throw { offset: at, message };
  };
  const str = () => {
    const begin = i;
    i++; // opening quote
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) fail(c === 10 ? 'unterminated string (a string cannot span lines)' : 'control character in string');
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('bad \\u escape in string');
          i += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) fail(`bad escape "\\${e ?? ''}" in string`);
        i += 2;
        continue;
      }
      i++;
    }
    fail('unterminated string', begin);
  };
  const value = (): void => {
    ws();
    const c = text[i];
    let comma = -1;
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] === '}' && comma >= 0) fail('trailing comma is not allowed in JSON', comma);
        if (text[i] !== '"') fail('expected a double-quoted key');
        str();
        ws();
        if (text[i] !== ':') fail("expected ':' after the key");
        i++;
        value();
        ws();
        if (text[i] === ',') {
          comma = i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] === ']' && comma >= 0) fail('trailing comma is not allowed in JSON', comma);
        value();
        ws();
        if (text[i] === ',') {
          comma = i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    const m = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 400));
    if (m) {
      i += m[0].length;
      return;
    }
    fail(i >= text.length ? 'unexpected end of input' : 'expected a JSON value');
  };
  try {
    value();
    ws();
    if (i < text.length) fail('unexpected text after the JSON value');
    return undefined;
  } catch (e) {
    return e as { offset: number; message: string };
  }
}

/**
 * osquery platform names → Fleet's (darwin, linux, windows, chrome). fleetctl's own convert maps
 * `posix`, `any` and `all` the same way (fleetdm/fleet cmd/fleetctl/convert.go, platformMapping) and
 * rejects the rest; osquery matches by substring, so `ubuntu` and `centos` select every Linux host
 * (osquery.md §2.2) and become `linux` here, with a warning. Anything else matches no host at all.
 */
const PLATFORM_MAP: Record<string, string[] | 'all'> = {
  darwin: ['darwin'],
  linux: ['linux'],
  windows: ['windows'],
  chrome: ['chrome'],
  posix: ['darwin', 'linux'],
  any: 'all',
  all: 'all',
};
const LINUX_ALIASES = ['ubuntu', 'centos'];

export interface MappedPlatform {
  /** Fleet platform list ("" = every platform), or the original text when nothing could be mapped. */
  value: string;
  unknown: string[];
  aliased: string[];
}

export function mapOsqueryPlatform(raw: string): MappedPlatform {
  const parts = raw
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const out = new Set<string>();
  const unknown: string[] = [];
  const aliased: string[] = [];
  let all = false;
  for (const p of parts) {
    const lower = p.toLowerCase();
    const m = PLATFORM_MAP[lower];
    if (m === 'all') all = true;
    else if (m) m.forEach((x) => out.add(x));
    else if (LINUX_ALIASES.includes(lower)) {
      out.add('linux');
      aliased.push(p);
    } else unknown.push(p);
  }
  if (all || parts.length === 0) return { value: '', unknown, aliased };
  if (out.size === 0) return { value: raw, unknown, aliased };
  return { value: [...out].sort().join(','), unknown, aliased };
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
  const warn = (path: string, code: string, message: string) => warnings.push(diag(source, posOf(path), 'warning', code, message));
  const warnAt = (offset: number, code: string, message: string) => warnings.push(diag(source, orig(offset), 'warning', code, message));
  /** Queries whose `value` went into the description (said once, at the first). */
  let values = 0;
  let firstValue: string | undefined;

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

  const querySpecs = new Map<string, { spec: QuerySpec; path: string }>();
  const packSpecs: PackSpec[] = [];
  for (const { name, body, path } of packs) {
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
    if (queries !== undefined && !isRecord(queries)) return fail(posOf(p('queries')), 'not-a-pack', `pack "${name}": "queries" must be an object of query name → query`);
    // Every entry as written: a name given twice keeps both (JSON.parse would keep only the last).
    const parsed = (queries ?? {}) as Record<string, unknown>;
    const asWritten = mapEntries.get(p('queries'));
    const written = asWritten
      ? // JSON.parse's value for a name's last occurrence (exact JSON semantics), the YAML reading for earlier ones.
        asWritten.map((e, i) => ({ ...e, value: asWritten.slice(i + 1).some((x) => x.key === e.key) ? e.value : parsed[e.key] }))
      : Object.entries(parsed).map(([key, value]) => ({ key, value, offset: -1 }));
    const taken = new Set(written.map((e) => e.key));
    const seenNames = new Map<string, number>();
    const named: Array<{ qname: string; q: unknown; qp: string; offset: number }> = [];
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
    for (const { qname, q, qp: keyPath, offset } of named) {
      // A renamed duplicate is placed by its own offset; others by their key path.
      const qp = offset >= 0 && qname !== keyPath.slice(keyPath.lastIndexOf('\0') + 1) ? `\u0001${offset}` : keyPath;
      const where = `query "${qname}"`;
      if (!isRecord(q)) {
        warn(qp, 'skipped-query', `${where} is not an object; osquery skips it`);
        continue;
      }
      if (typeof q['query'] !== 'string' || q['query'].trim() === '') {
        warn(qp, 'skipped-query', `${where} has no "query" SQL; osquery skips it`);
        continue;
      }
      if (reservedName(qname)) warn(qp, 'reserved-name', `${where}: osquery skips names starting with query., cache. or config_views. or ending with epoch or counter`);
      let interval = 3600;
      if (q['interval'] === undefined) {
        warn(qp, 'default-interval', `${where} has no interval; osquery's default of 3600 s is written`);
      } else {
        const n = toUint(q['interval']);
        if (n === undefined || n === 0 || n > 604_800) {
          warn(`${qp}\0interval`, 'skipped-query', `${where}: interval ${JSON.stringify(q['interval'])} is not 1 to 604800 seconds; osquery drops this query, so it is not converted`);
          continue;
        }
        interval = n;
      }
      const entry: PackQuery = { query: qname, name: qname, interval };
      if (typeof q['description'] === 'string' && q['description'] !== '') entry.description = q['description'];
      // osquery's `value` (why the result matters) has no field in Fleet's specs: it ends the description.
      if (typeof q['value'] === 'string' && q['value'].trim() !== '') {
        entry.description = `${entry.description ? `${entry.description}\n\n` : ''}Value: ${q['value']}`;
        values++;
        firstValue ??= `${qp}\0value`;
      }
      for (const key of Object.keys(q)) {
        if (QUERY_KEYS.has(key) || key === 'startup_priority') continue;
        warn(`${qp}\0${key}`, 'dropped-key', `${where}: "${key}" (${JSON.stringify(q[key])}) has no Fleet equivalent; not carried`);
      }
      const snapshot = toBool(q['snapshot']);
      if (snapshot !== undefined) entry.snapshot = snapshot;
      const removed = toBool(q['removed']);
      if (removed !== undefined) entry.removed = removed;
      const shard = toUint(q['shard']) ?? packShard;
      if (shard !== undefined && shard > 0 && shard <= 100) entry.shard = shard;
      if (typeof q['platform'] === 'string' && q['platform'] !== '') {
        const m = mapOsqueryPlatform(q['platform']);
        reportPlatform(m, q['platform'], (msg) => warn(`${qp}\0platform`, 'platform', `${where}: ${msg}`));
        if (m.value !== '') entry.platform = m.value;
      }
      const version = typeof q['version'] === 'string' && q['version'] !== '' ? q['version'] : packVersion;
      if (version !== undefined) entry.version = version;
      const denylist = toBool(q['denylist']);
      if (denylist !== undefined) entry.denylist = denylist;
      if (q['startup_priority'] !== undefined) warn(`${qp}\0startup_priority`, 'dropped-key', `${where}: startup_priority has no Fleet equivalent; dropped`);
      spec.queries.push(entry);

      const qspec: QuerySpec = { name: qname, query: q['query'] };
      if (entry.description !== undefined) qspec.description = entry.description;
      if (scheduleAs === 'query') {
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
      const prior = querySpecs.get(qname);
      if (prior && (prior.spec.query !== qspec.query || (scheduleAs === 'query' && JSON.stringify(prior.spec) !== JSON.stringify(qspec)))) {
        return fail(
          posOf(qp),
          'conflicting-query',
          `${where} is defined ${prior.spec.query !== qspec.query ? 'with different SQL' : 'with a different schedule'} in two packs; rename one before converting`,
        );
      }
      if (!prior) querySpecs.set(qname, { spec: qspec, path: qp });
    }
    if (!spec.targets && scheduleAs === 'pack') {
      warn(path === '' ? '' : path, 'no-targets', `pack "${name}" has no targets: add targets.labels (for example "All Hosts") or it runs on no host`);
    }
    packSpecs.push(spec);
  }
  if (values > 0) {
    warn(
      firstValue!,
      'value-in-description',
      `osquery's "value" has no field in Fleet's query spec: ${values === 1 ? 'the value text is' : `the ${values} value texts are`} kept, each at the end of its query's description, after "Value:"`,
    );
  }

  const out: string[] = [];
  if (scheduleAs === 'pack') for (const pack of packSpecs) out.push(renderDoc('pack', orderPack(pack)));
  for (const name of [...querySpecs.keys()].sort()) out.push(renderDoc('query', orderQuery(querySpecs.get(name)!.spec)));
  return { docs: out.join(''), warnings: sortDiagnostics(warnings), errors };
}

function reportPlatform(m: MappedPlatform, raw: string, warn: (msg: string) => void): void {
  for (const a of m.aliased) warn(`platform "${a}" is not a Fleet platform; osquery runs it on every Linux host, so it is written as "linux"`);
  for (const u of m.unknown) {
    warn(
      m.value === raw
        ? `platform "${u}" is unknown to Fleet and matches no osquery host; kept as is, so the query never runs`
        : `platform "${u}" is unknown to Fleet and matches no osquery host; dropped from "${raw}"`,
    );
  }
}

/**
 * Offsets of object keys by NUL-joined path (`queries\0name\0interval`), and the entries of each
 * `queries` object as written, duplicates included (JSON.parse keeps only the last of a name).
 */
function keyPositions(json: string): { positions: Map<string, number>; entries: Map<string, Array<{ key: string; value: unknown; offset: number }>> } {
  const positions = new Map<string, number>();
  const entries = new Map<string, Array<{ key: string; value: unknown; offset: number }>>();
  const doc = parseDocument(json, { uniqueKeys: false });
  if (doc.errors.length > 0) return { positions, entries };
  const walk = (node: Node | null | undefined, path: string) => {
    if (!node || !isMap(node)) return;
    const list: Array<{ key: string; value: unknown; offset: number }> = [];
    for (const pair of node.items) {
      if (!isPair(pair) || !isScalar(pair.key)) continue;
      const k = String(pair.key.value);
      const p = path === '' ? k : `${path}\0${k}`;
      // The first occurrence names the path (a duplicate is placed by its own offset).
      if (pair.key.range && !positions.has(p)) positions.set(p, pair.key.range[0]);
      if (path === 'queries' || path.endsWith('\0queries')) {
        const v = pair.value as Node | null;
        list.push({ key: k, value: v && typeof (v as { toJSON?: unknown }).toJSON === 'function' ? (v as unknown as { toJSON(): unknown }).toJSON() : null, offset: pair.key.range?.[0] ?? -1 });
      }
      walk(pair.value as Node | null, p);
    }
    if (list.length > 0) entries.set(path, list);
  };
  walk(doc.contents as Node | null, '');
  return { positions, entries };
}
export { renderDoc } from './render.js';
