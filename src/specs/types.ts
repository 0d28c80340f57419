/**
 * Spec documents (`apiVersion: v1`, `kind`, `spec`) as osfleet reads, checks, plans and writes them.
 * Field names are the JSON names of the Fleet API (fleet-api.md §3), so a spec converts to a request
 * body without renaming.
 */

/** 1-based line and column, as editors and compilers print them. */
export interface Pos {
  line: number;
  col: number;
}

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  /** A path as the user typed it, `<stdin>`, or a label such as a pack file name. */
  source: string;
  line: number;
  col: number;
  severity: Severity;
  /** Stable, machine-readable identifier of the check (e.g. `missing-field`, `sql-syntax`). */
  code: string;
  message: string;
}

export const SPEC_KINDS = ['query', 'pack', 'label', 'options', 'enroll_secret', 'config'] as const;
export type SpecKind = (typeof SPEC_KINDS)[number];

/** One input after loading: the name to report and its decoded text. */
export interface SourceText {
  source: string;
  text: string;
}

/** Where one field of a document sits in its file. */
export interface FieldLoc {
  /** The key (`name:`), when the field is a map entry. */
  key?: Pos;
  /** The start of the value. */
  value: Pos;
  /** Offsets of the value node in the file text: [start, end of value). */
  range: [number, number];
  /** YAML scalar style when the value is a scalar (PLAIN, QUOTE_DOUBLE, BLOCK_LITERAL, ...). */
  scalarType?: string;
}

/** A file's text with a way to turn offsets into positions (shared by the documents of one file). */
export interface SourceFile {
  source: string;
  text: string;
  posAt(offset: number): Pos;
}

export interface QuerySpec {
  name: string;
  description?: string;
  query: string;
  // FleetDM 4.35+ ("queries with schedules"); Kolide ignores them.
  interval?: number;
  platform?: string;
  logging?: 'snapshot' | 'differential' | 'differential_ignore_removals';
  observer_can_run?: boolean;
  min_osquery_version?: string;
  automations_enabled?: boolean;
  /** FleetDM: keep no results on the server (4.40+). */
  discard_data?: boolean;
  /** FleetDM: the team (4.82+: fleet) the query belongs to, by name; absent or empty = global. */
  team?: string;
}

/** Query fields only FleetDM (4.35+) keeps; Kolide drops them. */
export { FLEET_QUERY_FIELDS } from '../api/server.js';

export interface PackQuery {
  /** Name of a saved query. */
  query: string;
  /** Name of the scheduled entry; defaults to `query`. */
  name: string;
  description?: string;
  interval: number;
  snapshot?: boolean;
  removed?: boolean;
  shard?: number;
  platform?: string;
  version?: string;
  denylist?: boolean;
}

export interface PackSpec {
  name: string;
  description?: string;
  platform?: string;
  disabled?: boolean;
  targets?: { labels: string[] };
  queries: PackQuery[];
}

export interface LabelSpec {
  name: string;
  description?: string;
  query?: string;
  platform?: string;
  label_membership_type?: 'dynamic' | 'manual';
  hosts?: string[];
  /** `builtin` as fleetctl prints the server's own labels: such a label is left alone by apply. */
  label_type?: 'builtin' | 'regular';
}

/** osquery configuration JSON as Fleet passes it to agents (options, file_paths, decorators, ...). */
export type OsqueryConfig = Record<string, unknown>;

export interface OptionsSpec {
  config: OsqueryConfig;
  overrides?: { platforms?: Record<string, OsqueryConfig> };
}

export interface EnrollSecret {
  name?: string;
  secret: string;
  active?: boolean;
}

export interface EnrollSecretSpec {
  secrets: EnrollSecret[];
}

/** The app configuration as `get config` prints it; apply changes only the keys it gives. */
export type ConfigSpec = Record<string, unknown>;

export interface SpecByKind {
  query: QuerySpec;
  pack: PackSpec;
  label: LabelSpec;
  options: OptionsSpec;
  enroll_secret: EnrollSecretSpec;
  config: ConfigSpec;
}

interface DocBase<K extends SpecKind> {
  kind: K;
  spec: SpecByKind[K];
  file: SourceFile;
  /** 0-based index of the document in its file. */
  index: number;
  /** Where the document starts (its first key). */
  pos: Pos;
  /** Positions of fields by dotted path below `spec` (`name`, `queries.0.interval`, `config.file_paths`). */
  fields: Map<string, FieldLoc>;
  /**
   * False when the document had errors: its spec is a best effort (its name is still usable for
   * duplicate and reference checks, so one mistake does not cascade into several).
   */
  ok: boolean;
  /** Packs: the field path (`queries.<i>`) of each entry kept in `spec.queries`, in order. */
  entryPaths?: string[];
  /** The kind as written, lower-cased, when it differs from `kind` (`report` for a query). */
  word?: string;
}

export type QueryDoc = DocBase<'query'>;
export type PackDoc = DocBase<'pack'>;
export type LabelDoc = DocBase<'label'>;
export type OptionsDoc = DocBase<'options'>;
export type EnrollSecretDoc = DocBase<'enroll_secret'>;
export type ConfigDoc = DocBase<'config'>;
export type SpecDoc = QueryDoc | PackDoc | LabelDoc | OptionsDoc | EnrollSecretDoc | ConfigDoc;

/** What one side of a plan holds: the desired state (files) or the current one (server). */
export interface SpecSet {
  queries: QuerySpec[];
  packs: PackSpec[];
  labels: LabelSpec[];
  /** At most one options document (Kolide) or the agent options of FleetDM's config. */
  options?: OptionsSpec;
  enroll_secret?: EnrollSecretSpec;
  config?: ConfigSpec;
  /** Built-in labels the files list (as `get labels` prints them): left alone, named once in the plan. */
  builtinLabels?: string[];
}
