/**
 * Multi-document YAML → typed spec documents, with the position of every field kept for later
 * diagnostics. Pure: text in, documents and diagnostics out.
 *
 * The rules follow fleetctl (fleet-api.md §3): `kind` is case-insensitive, a document without
 * `spec` is an error, unknown kinds are errors, YAML keys are the API's JSON names. osfleet is
 * stricter where fleetctl silently does the wrong thing: it checks types and required fields before
 * anything is sent, and warns about fields the server would ignore.
 */
import { LIMITS, limit } from '../limits.js';
import { isAlias, isMap, isPair, isScalar, isSeq, parseAllDocuments, type Document, type Node } from 'yaml';
import { diag, sortDiagnostics, suggest } from './diagnostics.js';
import {
  SPEC_KINDS,
  type Diagnostic,
  type EnrollSecret,
  type EnrollSecretSpec,
  type FieldLoc,
  type LabelSpec,
  type OptionsSpec,
  type PackQuery,
  type PackSpec,
  type Pos,
  type QuerySpec,
  type SourceFile,
  type SpecDoc,
  type SpecKind,
} from './types.js';

/** Platforms FleetDM accepts in a query's `platform` (fleetdm/fleet server/fleet/queries.go, verifyQueryPlatforms). */
export const FLEET_QUERY_PLATFORMS = ['darwin', 'linux', 'windows', 'chrome'] as const;

/** osquery refuses to schedule intervals above a week (osquery.md §2.2). */
export const MAX_INTERVAL = 604_800;

const LOGGING = ['snapshot', 'differential', 'differential_ignore_removals'] as const;

/** Caps on converted values and nesting, so aliases or deep flows cannot exhaust memory or stack. */
const MAX_NODES = 100_000;
const MAX_DEPTH = 200;

export interface ParseResult {
  docs: SpecDoc[];
  diagnostics: Diagnostic[];
}

export function makeSourceFile(source: string, text: string): SourceFile {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return {
    source,
    text,
    posAt(offset: number): Pos {
      let lo = 0;
      let hi = starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (starts[mid]! <= offset) lo = mid;
        else hi = mid - 1;
      }
      return { line: lo + 1, col: offset - starts[lo]! + 1 };
    },
  };
}

/** The first NUL, or undefined: NUL never occurs in YAML text, so it marks binary input. */
export function findBinary(text: string): number | undefined {
  const i = text.indexOf('\u0000');
  return i < 0 ? undefined : i;
}

export function parseDocuments(text: string, source: string): ParseResult {
  const file = makeSourceFile(source, text);
  const diagnostics: Diagnostic[] = [];
  const docs: SpecDoc[] = [];

  const nul = findBinary(text);
  if (nul !== undefined) {
    diagnostics.push(diag(source, file.posAt(nul), 'error', 'binary-input', 'binary input (NUL byte): expected YAML text'));
    return { docs, diagnostics };
  }

  // `posAt` works on the original text; a BOM, when present, shifts every offset by one.
  const bom = text.startsWith('\uFEFF') ? 1 : 0;
  const body = text.slice(bom);

  // Counted before anything is parsed: 100,000 documents would fill the heap with YAML trees.
  const maxDocs = limit('specDocuments');
  const marker = /^---(?=[ \t\r\n]|$)/gm;
  let markers = 0;
  while (marker.exec(body) && ++markers <= maxDocs);
  if (markers > maxDocs) {
    const l = LIMITS.specDocuments;
    diagnostics.push(diag(source, { line: 1, col: 1 }, 'error', 'too-many-documents', `more than ${maxDocs} documents, the ceiling for ${l.what} (raise it with ${l.env}=<number>)`));
    return { docs, diagnostics };
  }

  let index = -1;
  let sawAny = false;
  for (const { ydoc, base } of yamlDocuments(body)) {
    index++;
    const at = (n: number) => file.posAt(n + base + bom);
    if (ydoc.errors.length > 0) {
      // The first error only: yaml's later ones are mostly echoes of it (a tab gives three).
      const e = ydoc.errors[0]!;
      const message = e.code === 'RESOURCE_EXHAUSTION' ? 'nested too deeply for the YAML parser' : yamlMessage(e.message);
      diagnostics.push(diag(source, at(e.pos[0]), 'error', 'yaml-syntax', message));
      sawAny = true;
      continue;
    }
    for (const w of ydoc.warnings) {
      diagnostics.push(diag(source, at(w.pos[0]), 'warning', 'yaml-warning', yamlMessage(w.message)));
    }
    const contents = ydoc.contents;
    if (contents === null || (isScalar(contents) && (contents.value === null || contents.value === ''))) continue;
    sawAny = true;
    const conv = new Converter(ydoc, at, base + bom);
    const docPos = at(contents.range?.[0] ?? 0);
    if (!isMap(contents)) {
      diagnostics.push(
        diag(source, docPos, 'error', 'not-a-mapping', 'a spec document must be a mapping with apiVersion, kind and spec'),
      );
      continue;
    }
    const top = conv.convert(contents, '');
    if (conv.failure) {
      diagnostics.push(diag(source, conv.failure.pos, 'error', 'yaml-syntax', conv.failure.message));
      continue;
    }
    const doc = buildDoc(top as Record<string, unknown>, conv.locs, docPos, file, index, diagnostics);
    if (doc) docs.push(doc);
  }
  if (!sawAny && diagnostics.length === 0) {
    diagnostics.push(diag(source, { line: 1, col: 1 }, 'warning', 'no-documents', 'no spec documents in this input'));
  }
  return { docs, diagnostics: sortDiagnostics(diagnostics) };
}

/**
 * The documents of a stream, each with the offset its positions are relative to. yaml's
 * parseAllDocuments slows down quadratically with the number of documents (2000 documents: 1.3 s),
 * so the text is cut at document markers first, as fleetctl does: YAML forbids a `---` at the start
 * of a line inside any scalar, so such a line always starts a document. Directives (`%YAML`) need
 * the whole stream, so text with them is parsed in one go.
 */
function yamlDocuments(body: string): Array<{ ydoc: Document.Parsed; base: number }> {
  const opts = { uniqueKeys: true, strict: true } as const;
  const all = (text: string, base: number) => {
    const parsed = parseAllDocuments(text, opts);
    return (Array.isArray(parsed) ? parsed : []).map((ydoc) => ({ ydoc, base }));
  };
  if (/^%/m.test(body)) return all(body, 0);
  const starts: number[] = [];
  // `get --json` prints one compact JSON document per line (fleetctl's too): each line starting
  // with `{` is a document of its own (JSON is YAML, but several on one stream are not one document).
  const marker = /^\s*\{/.test(body) ? /^\{/gm : /^---(?=[ \t\r\n]|$)/gm;
  for (let m = marker.exec(body); m; m = marker.exec(body)) starts.push(m.index);
  if (starts[0] !== 0) starts.unshift(0);
  const out: Array<{ ydoc: Document.Parsed; base: number }> = [];
  starts.forEach((start, i) => {
    const chunk = body.slice(start, starts[i + 1] ?? body.length);
    // Comments and blank lines before the first marker are no document.
    if (start === 0 && !chunk.startsWith('---') && !chunk.startsWith('{') && /^(?:\s*(?:#.*)?(?:\r?\n|$))*$/.test(chunk)) return;
    out.push(...all(chunk, start));
  });
  return out;
}

/** yaml's messages end with " at line L, column C:" and a code excerpt; the position is printed separately. */
function yamlMessage(message: string): string {
  const first = message.split('\n')[0] ?? message;
  return first.replace(/ at line \d+, column \d+:?$/, '').replace(/\.$/, '');
}

class Converter {
  readonly locs = new Map<string, FieldLoc>();
  failure: { pos: Pos; message: string } | undefined;
  private nodes = 0;
  /** Alias.resolve walks the whole document: resolve each alias node once. */
  private readonly resolved = new Map<unknown, Node | undefined>();

  constructor(
    private readonly doc: Document.Parsed,
    private readonly at: (offset: number) => Pos,
    /** Added to the document's offsets to make them offsets in the file. */
    private readonly base = 0,
  ) {}

  private resolve(alias: Node): Node | undefined {
    if (!this.resolved.has(alias)) this.resolved.set(alias, (alias as unknown as { resolve(d: Document.Parsed): Node | undefined }).resolve(this.doc));
    return this.resolved.get(alias);
  }

  /**
   * The plain value of a node, recording field positions by path. Inside an alias nothing is
   * recorded: those fields are reported at the alias, and an expanded alias tree can be huge.
   */
  convert(node: unknown, path: string, key?: Pos, depth = 0, inAlias = false): unknown {
    if (this.failure) return undefined;
    const here = (): Pos => {
      const start = (node as Node | null)?.range?.[0];
      return start !== undefined ? this.at(start) : (key ?? { line: 1, col: 1 });
    };
    if (++this.nodes > MAX_NODES) {
      this.failure = { pos: here(), message: `document too large (more than ${MAX_NODES} values once aliases are expanded)` };
      return undefined;
    }
    if (depth > MAX_DEPTH) {
      this.failure = { pos: here(), message: `nested more than ${MAX_DEPTH} levels deep` };
      return undefined;
    }
    if (node === null || node === undefined) {
      if (key && !inAlias) this.locs.set(path, { key, value: key, range: [0, 0] });
      return null;
    }
    let n = node as Node;
    const record = (target: Node) => {
      if (inAlias) return;
      const range = target.range ?? [0, 0, 0];
      const loc: FieldLoc = { value: this.at(range[0]), range: [range[0] + this.base, range[1] + this.base] };
      if (key) loc.key = key;
      if (isScalar(target)) loc.scalarType = String(target.type ?? 'PLAIN');
      this.locs.set(path, loc);
    };
    if (isAlias(n)) {
      record(n);
      const target = this.resolve(n);
      if (!target) return null;
      return this.convert(target, path, key, depth + 1, true);
    }
    record(n);
    const range = n.range ?? [0, 0, 0];

    if (isScalar(n)) return n.value;
    if (isSeq(n)) return n.items.map((item, i) => this.convert(item, join(path, String(i)), undefined, depth + 1, inAlias));
    if (isMap(n)) {
      const out: Record<string, unknown> = {};
      for (const pair of n.items) {
        if (!isPair(pair)) continue;
        let k = pair.key as Node | null;
        if (k !== null && isAlias(k)) k = this.resolve(k) ?? null;
        if (k !== null && !isScalar(k)) {
          this.failure = { pos: this.at((pair.key as Node).range?.[0] ?? 0), message: 'a mapping key must be a plain value, not a list or mapping' };
          return undefined;
        }
        const name = String(k === null ? '' : (k.value ?? ''));
        const keyPos = this.at((pair.key as Node | null)?.range?.[0] ?? range[0]);
        // defineProperty: a key named __proto__ must stay data, not change the object's prototype.
        Object.defineProperty(out, name, {
          value: this.convert(pair.value, join(path, name), keyPos, depth + 1, inAlias),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    return null;
  }
}

const join = (path: string, part: string) => (path === '' ? part : `${path}.${part}`);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? v.slice(0, 37) + '...' : v)}`;
  if (typeof v === 'number') return Number.isInteger(v) ? `number ${v}` : `number ${v}`;
  if (typeof v === 'boolean') return `boolean ${v}`;
  return typeof v;
}

const TOP_KEYS = ['apiVersion', 'kind', 'spec'];

/** Kinds fleetctl knows that osfleet does not apply, with what they are. */
const OTHER_KINDS: Record<string, string> = {
  policy: 'a FleetDM policy',
  team: 'a FleetDM team',
  fleet: 'a FleetDM fleet, the name FleetDM 4.82+ gives a team',
  user_roles: 'FleetDM user roles',
};

/** Kinds FleetDM 4.82+ renamed: the new word is read as the old one (fleet-api.md §11). */
const KIND_SYNONYMS: Record<string, SpecKind> = { report: 'query' };

function buildDoc(
  top: Record<string, unknown>,
  allLocs: Map<string, FieldLoc>,
  docPos: Pos,
  file: SourceFile,
  index: number,
  out: Diagnostic[],
): SpecDoc | undefined {
  const source = file.source;
  const locOf = (path: string) => allLocs.get(path);
  const kindRaw = top['kind'];
  if (kindRaw === undefined || kindRaw === null || kindRaw === '') {
    out.push(diag(source, docPos, 'error', 'missing-kind', `document has no kind (expected one of: ${SPEC_KINDS.join(', ')})`));
    return undefined;
  }
  if (typeof kindRaw !== 'string') {
    out.push(diag(source, locOf('kind')!.value, 'error', 'wrong-type', `kind must be a string, got ${describe(kindRaw)}`));
    return undefined;
  }
  const kind = KIND_SYNONYMS[kindRaw.toLowerCase()] ?? kindRaw.toLowerCase();
  const other = OTHER_KINDS[kind];
  if (other !== undefined) {
    out.push(
      diag(source, locOf('kind')!.value, 'error', 'unsupported-kind', `kind "${kindRaw}" is not supported by osfleet (${other}; it applies ${SPEC_KINDS.join(', ')})`),
    );
    return undefined;
  }
  if (!(SPEC_KINDS as readonly string[]).includes(kind)) {
    const hint = suggest(kind, SPEC_KINDS);
    out.push(
      diag(
        source,
        locOf('kind')!.value,
        'error',
        'unknown-kind',
        `unknown kind "${kindRaw}"` + (hint ? ` (did you mean "${hint}"?)` : ` (expected one of: ${SPEC_KINDS.join(', ')})`),
      ),
    );
    return undefined;
  }
  const api = top['apiVersion'];
  if (api !== undefined && api !== 'v1') {
    out.push(diag(source, locOf('apiVersion')!.value, 'warning', 'api-version', `apiVersion ${describe(api)} is not "v1"`));
  }
  for (const k of Object.keys(top)) {
    if (!TOP_KEYS.includes(k)) {
      const hint = suggest(k, TOP_KEYS);
      out.push(
        diag(source, locOf(k)!.key ?? docPos, 'warning', 'unknown-field', `unknown top-level field "${k}"` + (hint ? ` (did you mean "${hint}"?)` : '')),
      );
    }
  }
  const specLoc = locOf('spec');
  const spec = top['spec'];
  if (spec === undefined || spec === null) {
    out.push(diag(source, specLoc?.key ?? docPos, 'error', 'missing-spec', `no spec field on "${kind}" document`));
    return undefined;
  }
  if (!isRecord(spec)) {
    out.push(diag(source, specLoc!.value, 'error', 'wrong-type', `spec of "${kind}" document must be a mapping, got ${describe(spec)}`));
    return undefined;
  }
  // Field positions relative to spec, for the checks that come later.
  const fields = new Map<string, FieldLoc>();
  for (const [path, loc] of allLocs) {
    if (path === 'spec') fields.set('', loc);
    else if (path.startsWith('spec.')) fields.set(path.slice(5), loc);
  }
  const specPos = specLoc!.key ?? docPos;
  const r = new FieldReader(kind as SpecKind, spec, fields, specPos, source, out);
  const before = out.filter((d) => d.severity === 'error').length;
  let typed: unknown;
  switch (kind as SpecKind) {
    case 'query':
      typed = readQuery(r);
      break;
    case 'pack':
      typed = readPack(r);
      break;
    case 'label':
      typed = readLabel(r);
      break;
    case 'options':
      typed = readOptions(r);
      break;
    case 'enroll_secret':
      typed = readEnrollSecret(r);
      break;
    case 'config':
      // The server's own shape (fleet-api.md §2): checked by the server; apply sends only the keys given.
      typed = r.spec;
      break;
  }
  const ok = out.filter((d) => d.severity === 'error').length === before;
  const doc = { kind, spec: typed, file, index, pos: docPos, fields, ok } as SpecDoc;
  if (kind === 'pack') doc.entryPaths = r.entryPaths;
  if (kindRaw.toLowerCase() !== kind) doc.word = kindRaw.toLowerCase();
  return doc;
}

/** Reads typed fields from a spec mapping, reporting wrong types and missing fields with positions. */
class FieldReader {
  name: string | undefined;
  readonly entryPaths: string[] = [];

  constructor(
    readonly kind: SpecKind,
    readonly spec: Record<string, unknown>,
    readonly fields: Map<string, FieldLoc>,
    readonly specPos: Pos,
    readonly source: string,
    readonly out: Diagnostic[],
  ) {}

  get prefix(): string {
    const label = this.kind === 'enroll_secret' ? 'enroll_secret' : this.kind;
    return this.name !== undefined ? `${label} "${this.name}"` : label;
  }

  pos(path: string, which: 'key' | 'value' = 'value'): Pos {
    const loc = this.fields.get(path);
    if (!loc) {
      // A missing field is reported where its parent is.
      const parent = path.includes('.') ? path.slice(0, path.lastIndexOf('.')) : '';
      return parent === '' ? this.specPos : this.pos(parent, 'key');
    }
    return which === 'key' ? (loc.key ?? loc.value) : loc.value;
  }

  error(path: string, code: string, message: string, which: 'key' | 'value' = 'value'): void {
    this.out.push(diag(this.source, this.pos(path, which), 'error', code, `${this.prefix}: ${message}`));
  }

  warn(path: string, code: string, message: string, which: 'key' | 'value' = 'value'): void {
    this.out.push(diag(this.source, this.pos(path, which), 'warning', code, `${this.prefix}: ${message}`));
  }

  get(obj: Record<string, unknown>, path: string): unknown {
    const key = path.includes('.') ? path.slice(path.lastIndexOf('.') + 1) : path;
    return obj[key];
  }

  missing(path: string): void {
    this.error(path, 'missing-field', `missing required field "${path}"`);
  }

  wrongType(path: string, want: string, got: unknown, hint = ''): void {
    this.error(path, 'wrong-type', `field "${path}" must be ${want}, got ${describe(got)}${hint}`);
  }

  str(obj: Record<string, unknown>, path: string, opts: { required?: boolean; nonEmpty?: boolean } = {}): string | undefined {
    const v = this.get(obj, path);
    if (v === undefined || v === null) {
      if (opts.required) this.missing(path);
      return undefined;
    }
    if (typeof v !== 'string') {
      // YAML turns `name: 2021` into a number; the server wants a string. Say so rather than coerce.
      this.wrongType(path, 'a string', v);
      return undefined;
    }
    if (opts.nonEmpty && v.trim() === '') {
      this.error(path, 'empty-field', `field "${path}" must not be empty`);
      return undefined;
    }
    return v;
  }

  bool(obj: Record<string, unknown>, path: string): boolean | undefined {
    const v = this.get(obj, path);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') {
      this.wrongType(path, 'true or false', v);
      return undefined;
    }
    return v;
  }

  uint(obj: Record<string, unknown>, path: string, opts: { required?: boolean; min?: number; max?: number; what?: string } = {}): number | undefined {
    const v = this.get(obj, path);
    if (v === undefined || v === null) {
      if (opts.required) this.missing(path);
      return undefined;
    }
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      const quoted = typeof v === 'string' && /^\s*\d+\s*$/.test(v);
      this.wrongType(path, 'an integer', v, quoted ? ' (write it without quotes)' : '');
      return undefined;
    }
    const min = opts.min ?? 0;
    if (v < min || (opts.max !== undefined && v > opts.max)) {
      const range = opts.max !== undefined ? `between ${min} and ${opts.max}` : `at least ${min}`;
      this.error(path, 'out-of-range', `field "${path}" must be ${range}${opts.what ? ` ${opts.what}` : ''}, got ${v}`);
      return undefined;
    }
    return v;
  }

  strList(obj: Record<string, unknown>, path: string, opts: { required?: boolean } = {}): string[] | undefined {
    const v = this.get(obj, path);
    if (v === undefined || v === null) {
      if (opts.required) this.missing(path);
      return undefined;
    }
    if (!Array.isArray(v)) {
      this.wrongType(path, 'a list of strings', v);
      return undefined;
    }
    const out: string[] = [];
    v.forEach((item, i) => {
      if (typeof item !== 'string') this.wrongType(`${path}.${i}`, 'a string', item);
      else out.push(item);
    });
    return out;
  }

  map(obj: Record<string, unknown>, path: string, opts: { required?: boolean } = {}): Record<string, unknown> | undefined {
    const v = this.get(obj, path);
    if (v === undefined || v === null) {
      if (opts.required) this.missing(path);
      return undefined;
    }
    if (!isRecord(v)) {
      this.wrongType(path, 'a mapping', v);
      return undefined;
    }
    return v;
  }

  list(obj: Record<string, unknown>, path: string, opts: { required?: boolean } = {}): unknown[] | undefined {
    const v = this.get(obj, path);
    if (v === undefined || v === null) {
      if (opts.required) this.missing(path);
      return undefined;
    }
    if (!Array.isArray(v)) {
      this.wrongType(path, 'a list', v);
      return undefined;
    }
    return v;
  }

  /** Fields the server does not know are dropped by its JSON decoder: warn, since it is often a typo. */
  unknownKeys(obj: Record<string, unknown>, base: string, allowed: readonly string[]): void {
    for (const k of Object.keys(obj)) {
      if (allowed.includes(k)) continue;
      const path = base === '' ? k : `${base}.${k}`;
      const hint = suggest(k, allowed) ?? (k.endsWith('s') && allowed.includes(k.slice(0, -1)) ? k.slice(0, -1) : undefined);
      this.warn(path, 'unknown-field', `unknown field "${k}" is ignored` + (hint ? ` (did you mean "${hint}"?)` : ''), 'key');
    }
  }
}

/** Output-only or server-managed fields that `get --yaml` may print; accepted silently on input. */
const OUTPUT_ONLY = ['id', 'ID', 'team_id', 'fleet_id', 'created_at', 'updated_at', 'label_type', 'author_id', 'author_name', 'author_email', 'saved', 'stats', 'packs'];

function checkFleetPlatforms(r: FieldReader, path: string, value: string): void {
  if (value.trim() === '') return;
  for (const p of value.split(',')) {
    const name = p.trim();
    if (!(FLEET_QUERY_PLATFORMS as readonly string[]).includes(name)) {
      r.error(
        path,
        'invalid-platform',
        `platform "${name}" is not one of ${FLEET_QUERY_PLATFORMS.join(', ')} (a comma-separated list, or empty for all)`,
      );
      return;
    }
  }
}

function readName(r: FieldReader): string | undefined {
  const name = r.str(r.spec, 'name', { required: true, nonEmpty: true });
  if (name !== undefined) r.name = name;
  return name;
}

function readQuery(r: FieldReader): QuerySpec {
  const s = r.spec;
  const name = readName(r);
  const spec: QuerySpec = { name: name ?? '', query: '' };
  const description = r.str(s, 'description');
  if (description !== undefined) spec.description = description;
  const query = r.str(s, 'query', { required: true, nonEmpty: true });
  if (query !== undefined) spec.query = query;
  const interval = r.uint(s, 'interval', { max: MAX_INTERVAL, what: 'seconds (0 = not scheduled)' });
  if (interval !== undefined) spec.interval = interval;
  const platform = r.str(s, 'platform');
  if (platform !== undefined) {
    checkFleetPlatforms(r, 'platform', platform);
    spec.platform = platform;
  }
  const logging = r.str(s, 'logging');
  // fleetctl prints `logging: ""` for a query without logging, and the server takes it: not set.
  if (logging !== undefined && logging !== '') {
    if ((LOGGING as readonly string[]).includes(logging)) spec.logging = logging as QuerySpec['logging'];
    else r.error('logging', 'invalid-value', `logging "${logging}" is not one of ${LOGGING.join(', ')}`);
  }
  const ocr = r.bool(s, 'observer_can_run');
  if (ocr !== undefined) spec.observer_can_run = ocr;
  const mov = r.str(s, 'min_osquery_version');
  if (mov !== undefined) spec.min_osquery_version = mov;
  const ae = r.bool(s, 'automations_enabled');
  if (ae !== undefined) spec.automations_enabled = ae;
  const dd = r.bool(s, 'discard_data');
  if (dd !== undefined) spec.discard_data = dd;
  const team = readTeam(r);
  if (team !== undefined) spec.team = team;
  r.unknownKeys(s, '', [
    'team',
    'fleet',
    'name',
    'description',
    'query',
    'interval',
    'platform',
    'logging',
    'min_osquery_version',
    'observer_can_run',
    'automations_enabled',
    'discard_data',
    ...OUTPUT_ONLY,
  ]);
  return spec;
}

/**
 * `team` and `fleet` (FleetDM 4.82+'s word) are one field: the newest fleetctl prints both with the
 * same value. Different values are an error; an empty value means global.
 */
function readTeam(r: FieldReader): string | undefined {
  const team = r.str(r.spec, 'team');
  const fleet = r.str(r.spec, 'fleet');
  if (team !== undefined && fleet !== undefined && team !== fleet) {
    r.error('fleet', 'conflicting-fields', `"team" (${JSON.stringify(team)}) and "fleet" (${JSON.stringify(fleet)}) name the same field with different values: keep one`);
    return undefined;
  }
  return team ?? fleet;
}

function readPack(r: FieldReader): PackSpec {
  const s = r.spec;
  const name = readName(r);
  const spec: PackSpec = { name: name ?? '', queries: [] };
  const description = r.str(s, 'description');
  if (description !== undefined) spec.description = description;
  const platform = r.str(s, 'platform');
  if (platform !== undefined) spec.platform = platform;
  const disabled = r.bool(s, 'disabled');
  if (disabled !== undefined) spec.disabled = disabled;
  const targets = r.map(s, 'targets');
  if (targets) {
    const labels = r.strList(targets, 'targets.labels');
    spec.targets = { labels: labels ?? [] };
    r.unknownKeys(targets, 'targets', ['labels', 'teams']);
    // fleetctl prints `teams: null`; a list of teams is a target osfleet does not send: say so.
    const teams = targets['teams'];
    if (Array.isArray(teams) && teams.length > 0) r.warn('targets.teams', 'ignored-field', 'targets.teams is not applied by osfleet (FleetDM team targets): the pack targets its labels only', 'key');
  }
  const queries = r.list(s, 'queries');
  if (queries) {
    const seen = new Map<string, number>();
    queries.forEach((entry, i) => {
      const path = `queries.${i}`;
      if (!isRecord(entry)) {
        r.wrongType(path, 'a mapping (query, interval, ...)', entry);
        return;
      }
      const pq = readPackQuery(r, entry, path);
      if (!pq) return;
      const key = pq.name.toLowerCase();
      const first = seen.get(key);
      if (first !== undefined) {
        const p = r.pos(`queries.${first}`);
        r.error(
          `${path}.${entry['name'] === undefined ? 'query' : 'name'}`,
          'duplicate-name',
          `scheduled query name "${pq.name}" is used twice in this pack (first at line ${p.line}); osquery drops the second`,
        );
        return;
      }
      seen.set(key, i);
      spec.queries.push(pq);
      r.entryPaths.push(path);
    });
  }
  if (s['targets'] === undefined || s['targets'] === null || (spec.targets && Array.isArray(targets?.['labels']) && spec.targets.labels.length === 0)) {
    // Applying a pack replaces its targets (fleet-api.md §3.2): none in the file means none after.
    r.warn('name', 'no-targets', 'the pack targets no label, so after apply it runs on no host (add targets.labels, e.g. All Hosts)');
  }
  if (s['queries'] === undefined || s['queries'] === null || (Array.isArray(queries) && queries.length === 0)) {
    r.warn('', 'empty-pack', 'the pack schedules no queries', 'key');
  }
  r.unknownKeys(s, '', ['name', 'description', 'platform', 'disabled', 'targets', 'queries', ...OUTPUT_ONLY]);
  return spec;
}

function readPackQuery(r: FieldReader, e: Record<string, unknown>, base: string): PackQuery | undefined {
  const query = r.str(e, `${base}.query`, { required: true, nonEmpty: true });
  const name = r.str(e, `${base}.name`, { nonEmpty: true });
  const interval = r.uint(e, `${base}.interval`, { required: true, min: 1, max: MAX_INTERVAL, what: 'seconds' });
  const pq: PackQuery = { query: query ?? '', name: name ?? query ?? '', interval: interval ?? 0 };
  const description = r.str(e, `${base}.description`);
  if (description !== undefined) pq.description = description;
  for (const flag of ['snapshot', 'removed', 'denylist'] as const) {
    const v = r.bool(e, `${base}.${flag}`);
    if (v !== undefined) pq[flag] = v;
  }
  const shard = r.uint(e, `${base}.shard`, { max: 100, what: '(percent of hosts)' });
  if (shard !== undefined) pq.shard = shard;
  const platform = r.str(e, `${base}.platform`);
  if (platform !== undefined) pq.platform = platform;
  const version = r.str(e, `${base}.version`);
  if (version !== undefined) pq.version = version;
  r.unknownKeys(e, base, ['query', 'name', 'description', 'interval', 'snapshot', 'removed', 'shard', 'platform', 'version', 'denylist', 'id', 'pack_id', 'query_id']);
  return query === undefined ? undefined : pq;
}

function readLabel(r: FieldReader): LabelSpec {
  const s = r.spec;
  const name = readName(r);
  const spec: LabelSpec = { name: name ?? '' };
  const description = r.str(s, 'description');
  if (description !== undefined) spec.description = description;
  const platform = r.str(s, 'platform');
  if (platform !== undefined) spec.platform = platform;
  const typeRaw = r.str(s, 'label_membership_type');
  let type: 'dynamic' | 'manual' = 'dynamic';
  if (typeRaw !== undefined) {
    if (typeRaw === 'dynamic' || typeRaw === 'manual') {
      type = typeRaw;
      spec.label_membership_type = typeRaw;
    } else {
      r.error('label_membership_type', 'invalid-value', `label_membership_type "${typeRaw}" is not "dynamic" or "manual"`);
    }
  }
  const query = r.str(s, 'query');
  const hosts = r.strList(s, 'hosts');
  if (type === 'dynamic') {
    if (query === undefined && s['query'] === undefined) r.missing('query');
    else if (query !== undefined && query.trim() === '') r.error('query', 'empty-field', 'field "query" must not be empty');
    if (s['hosts'] !== undefined && s['hosts'] !== null) {
      r.error('hosts', 'manual-only', 'a dynamic label cannot list hosts (set label_membership_type: manual)', 'key');
    }
  } else {
    if (s['hosts'] === undefined) r.error('', 'missing-field', 'a manual label needs a hosts list (it may be empty)', 'key');
    if (query !== undefined && query.trim() !== '') r.warn('query', 'ignored-field', 'the query of a manual label is ignored', 'key');
  }
  if (query !== undefined) spec.query = query;
  if (hosts !== undefined) spec.hosts = hosts;
  // What `get labels` prints for the server's own labels (Kolide 3.x, FleetDM): `builtin` or `regular`.
  const labelType = s['label_type'];
  if (labelType === 'builtin' || labelType === 1) spec.label_type = 'builtin';
  else if (labelType !== undefined && labelType !== null && labelType !== 'regular' && labelType !== 0 && labelType !== '') {
    r.error('label_type', 'invalid-value', `label_type ${describe(labelType)} is not "regular" or "builtin"`);
  }
  r.unknownKeys(s, '', ['name', 'description', 'query', 'platform', 'label_membership_type', 'hosts', ...OUTPUT_ONLY]);
  return spec;
}

function readOptions(r: FieldReader): OptionsSpec {
  const s = r.spec;
  const config = r.map(s, 'config', { required: true });
  const spec: OptionsSpec = { config: config ?? {} };
  const overrides = r.map(s, 'overrides');
  if (overrides) {
    spec.overrides = {};
    const platforms = r.map(overrides, 'overrides.platforms');
    if (platforms) {
      const out: Record<string, Record<string, unknown>> = {};
      for (const [p, cfg] of Object.entries(platforms)) {
        if (!isRecord(cfg)) r.wrongType(`overrides.platforms.${p}`, 'a mapping (an osquery config)', cfg);
        else out[p] = cfg;
      }
      spec.overrides.platforms = out;
    }
    r.unknownKeys(overrides, 'overrides', ['platforms']);
  }
  r.unknownKeys(s, '', ['config', 'overrides', 'command_line_flags', 'extensions']);
  return spec;
}

function readEnrollSecret(r: FieldReader): EnrollSecretSpec {
  const s = r.spec;
  const list = r.list(s, 'secrets', { required: true });
  const spec: EnrollSecretSpec = { secrets: [] };
  const seenSecret = new Set<string>();
  const seenName = new Set<string>();
  (list ?? []).forEach((entry, i) => {
    const base = `secrets.${i}`;
    if (!isRecord(entry)) {
      r.wrongType(base, 'a mapping (secret, name, active)', entry);
      return;
    }
    const secret = r.str(entry, `${base}.secret`, { required: true, nonEmpty: true });
    const name = r.str(entry, `${base}.name`);
    const active = r.bool(entry, `${base}.active`);
    r.unknownKeys(entry, base, ['secret', 'name', 'active', 'created_at', 'team_id']);
    if (secret === undefined) return;
    if (seenSecret.has(secret)) {
      r.error(`${base}.secret`, 'duplicate-secret', 'the same secret is listed twice');
      return;
    }
    seenSecret.add(secret);
    if (name !== undefined) {
      if (seenName.has(name)) {
        r.error(`${base}.name`, 'duplicate-name', `secret name "${name}" is used twice`);
        return;
      }
      seenName.add(name);
    }
    const item: EnrollSecret = { secret };
    if (name !== undefined) item.name = name;
    if (active !== undefined) item.active = active;
    spec.secrets.push(item);
  });
  r.unknownKeys(s, '', ['secrets']);
  return spec;
}
