/**
 * Multi-document YAML → typed spec documents, with the position of every field kept for later
 * diagnostics. Pure: text in, documents and diagnostics out. This file holds the rules of a spec
 * stream and of a document's top level; YAML reading with positions is `yaml-doc.ts`, each kind's
 * fields `kinds.ts`, and the field reader they share `fields.ts`.
 *
 * The rules follow fleetctl (fleet-api.md §3): `kind` is case-insensitive, a document without
 * `spec` is an error, unknown kinds are errors, YAML keys are the API's JSON names. osfleet is
 * stricter where fleetctl silently does the wrong thing: it checks types and required fields before
 * anything is sent, and warns about fields the server would ignore.
 */
import { LIMITS, limit } from '../limits.js';
import { isMap, isScalar } from 'yaml';
import { diag, sortDiagnostics, suggest } from './diagnostics.js';
import { FieldReader, describe, isRecord } from './fields.js';
import { readSpec } from './kinds.js';
import { SPEC_KINDS, type Diagnostic, type FieldLoc, type Pos, type SourceFile, type SpecDoc, type SpecKind } from './types.js';
import { Converter, findBinary, makeSourceFile, yamlDocuments, yamlMessage } from './yaml-doc.js';

export interface ParseResult {
  docs: SpecDoc[];
  diagnostics: Diagnostic[];
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

/**
 * The document's kind: case-insensitive, FleetDM 4.82+'s words read as the old ones. Undefined, with
 * a diagnostic, when it is missing or not a kind osfleet applies.
 */
function readKind(
  top: Record<string, unknown>,
  locOf: (path: string) => FieldLoc | undefined,
  docPos: Pos,
  source: string,
  out: Diagnostic[],
): { kind: SpecKind; raw: string } | undefined {
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
  return { kind: kind as SpecKind, raw: kindRaw };
}

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
  const known = readKind(top, locOf, docPos, source, out);
  if (!known) return undefined;
  const { kind, raw: kindRaw } = known;
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
  const r = new FieldReader(kind, spec, fields, specPos, source, out);
  const before = out.filter((d) => d.severity === 'error').length;
  const typed = readSpec(kind, r);
  const ok = out.filter((d) => d.severity === 'error').length === before;
  const doc = { kind, spec: typed, file, index, pos: docPos, fields, ok } as SpecDoc;
  if (kind === 'pack') doc.entryPaths = r.entryPaths;
  if (kindRaw.toLowerCase() !== kind) doc.word = kindRaw.toLowerCase();
  return doc;
}
