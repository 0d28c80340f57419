/**
 * Checks across documents: duplicate names over all inputs, single options and enroll_secret
 * documents, and packs that schedule queries or target labels nobody defines. Pure.
 */
import { diag } from './diagnostics.js';
import type { Diagnostic, FieldLoc, PackDoc, Pos, SpecDoc, SpecSet } from './types.js';

/**
 * Labels every Fleet server creates and refuses to change. Kolide: the first five (older servers
 * named macOS "Mac OS X"); FleetDM adds the rest (fleetdm/fleet server/fleet/labels.go
 * ReservedLabelNames, seen in server/datastore/mysql testing utils' AddBuiltinLabels).
 */
export const BUILTIN_LABELS: readonly string[] = [
  'All Hosts',
  'macOS',
  'Mac OS X',
  'Ubuntu Linux',
  'CentOS Linux',
  'MS Windows',
  'Red Hat Linux',
  'All Linux',
  'chrome',
  'macOS 14+',
  'iOS',
  'iPadOS',
  'Fedora Linux',
  'Android',
];

export const isBuiltinLabel = (name: string): boolean => BUILTIN_LABELS.some((b) => b.toLowerCase() === name.toLowerCase());

export interface ValidateOptions {
  /** Names of queries on the server (apply); undefined offline (lint), where only the files count. */
  knownQueries?: Set<string>;
  /** Names of labels on the server (apply); built-in labels always count. */
  knownLabels?: Set<string>;
}

const where = (d: SpecDoc, p: Pos) => `${d.file.source}:${p.line}:${p.col}`;

function fieldPos(d: SpecDoc, path: string): Pos {
  const loc: FieldLoc | undefined = d.fields.get(path);
  return loc?.value ?? d.pos;
}

function nameOf(d: SpecDoc): string | undefined {
  if (d.kind === 'query' || d.kind === 'pack' || d.kind === 'label') return d.spec.name === '' ? undefined : d.spec.name;
  return undefined;
}

/** Case-insensitive sets: Fleet's MySQL and Kolide's both match names without regard to case. */
const lowerSet = (names: Iterable<string>) => new Set([...names].map((n) => n.toLowerCase()));

export function validate(docs: readonly SpecDoc[], opts: ValidateOptions = {}): Diagnostic[] {
  const out: Diagnostic[] = [];

  // Duplicate names across all inputs: fleetctl would upsert both and keep the last one silently.
  const firstByKey = new Map<string, SpecDoc>();
  const singletons = new Map<string, SpecDoc>();
  for (const d of docs) {
    if (d.kind === 'options' || d.kind === 'enroll_secret' || d.kind === 'config') {
      const first = singletons.get(d.kind);
      if (first) {
        out.push(
          diag(d.file.source, d.pos, 'error', 'duplicate-document', `${d.kind} is defined more than once (first at ${where(first, first.pos)})`),
        );
      } else singletons.set(d.kind, d);
      continue;
    }
    const name = nameOf(d);
    if (name === undefined) continue;
    const key = `${d.kind}\0${name.toLowerCase()}`;
    const first = firstByKey.get(key);
    if (first) {
      const p = fieldPos(first, 'name');
      if (JSON.stringify(first.spec) === JSON.stringify(d.spec)) {
        // Converted osquery packs share queries (alf, crontab...): the same document twice is harmless.
        out.push(diag(d.file.source, fieldPos(d, 'name'), 'warning', 'duplicate-identical', `${d.kind} "${name}" is defined twice, identically (first at ${where(first, p)}); the copy is ignored`));
      } else {
        out.push(diag(d.file.source, fieldPos(d, 'name'), 'error', 'duplicate-name', `duplicate ${d.kind} "${name}" (first defined at ${where(first, p)})`));
      }
    } else firstByKey.set(key, d);
    if (d.kind === 'label' && isBuiltinLabel(name) && d.spec.label_type !== 'builtin') {
      out.push(diag(d.file.source, fieldPos(d, 'name'), 'error', 'builtin-label', `label "${name}" is a built-in label and cannot be changed`));
    }
  }

  const fileQueries = lowerSet(docs.filter((d) => d.kind === 'query').map((d) => d.spec.name as string));
  const fileLabels = lowerSet(docs.filter((d) => d.kind === 'label').map((d) => d.spec.name as string));
  const serverQueries = lowerSet(opts.knownQueries ?? []);
  const serverLabels = lowerSet(opts.knownLabels ?? []);
  const online = opts.knownQueries !== undefined;
  const scope = online ? 'in neither these files nor the server' : 'not in these files';

  for (const d of docs) {
    if (d.kind !== 'pack') continue;
    const pack = d as PackDoc;
    pack.spec.queries.forEach((q, n) => {
      const path = pack.entryPaths?.[n] ?? `queries.${n}`;
      const lname = q.query.toLowerCase();
      if (q.query !== '' && !fileQueries.has(lname) && !serverQueries.has(lname)) {
        out.push(
          diag(
            d.file.source,
            fieldPos(d, `${path}.query`),
            'error',
            'unknown-query',
            `pack "${pack.spec.name}" schedules unknown query "${q.query}" (${scope})`,
          ),
        );
      }
    });
    (pack.spec.targets?.labels ?? []).forEach((label, i) => {
      const l = label.toLowerCase();
      if (fileLabels.has(l) || serverLabels.has(l) || isBuiltinLabel(label)) return;
      out.push(
        diag(
          d.file.source,
          fieldPos(d, `targets.labels.${i}`),
          'error',
          'unknown-label',
          `pack "${pack.spec.name}" targets unknown label "${label}" (${online ? scope : 'not in these files nor built in'})`,
        ),
      );
    });
  }
  return out;
}

/** Typed specs of valid documents grouped by kind, in input order: the desired side of a plan. */
export function toSpecSet(docs: readonly SpecDoc[]): SpecSet {
  const set: SpecSet = { queries: [], packs: [], labels: [] };
  const seen = new Set<string>();
  for (const d of docs) {
    const name = nameOf(d);
    if (name !== undefined) {
      // validate() has refused differing duplicates; identical ones are sent once.
      const key = `${d.kind}\0${name.toLowerCase()}`;
      if (seen.has(key)) continue;
      seen.add(key);
    }
    switch (d.kind) {
      case 'query':
        set.queries.push(d.spec);
        break;
      case 'pack':
        set.packs.push(d.spec);
        break;
      case 'label':
        // As `get labels` prints the server's own labels: left alone (and named once in the plan).
        if (d.spec.label_type === 'builtin') (set.builtinLabels ??= []).push(d.spec.name);
        else set.labels.push(d.spec);
        break;
      case 'options':
        set.options = d.spec;
        break;
      case 'enroll_secret':
        set.enroll_secret = d.spec;
        break;
      case 'config':
        set.config = d.spec;
        break;
    }
  }
  return set;
}
