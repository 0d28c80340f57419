/**
 * Specs → multi-document YAML (what `get --yaml` prints and `convert` writes), in a fixed field
 * order so output is stable and diffs stay small; and the FleetDM mapping of Kolide's `options`.
 * Pure. What this writes, `parseDocuments` reads back to the same specs.
 */
import { stringify } from 'yaml';
import type { EnrollSecretSpec, LabelSpec, OptionsSpec, PackSpec, QuerySpec, SpecSet } from './types.js';

/** One `---`-led document; no line folding, so SQL stays on the lines it was written on. */
export function renderDoc(kind: string, spec: unknown): string {
  return '---\n' + stringify({ apiVersion: 'v1', kind, spec }, { lineWidth: 0, minContentWidth: 0 });
}

const pick = <T extends object>(o: T, keys: ReadonlyArray<keyof T>): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (o[k] !== undefined) out[k as string] = o[k];
  return out;
};

export function orderQuery(q: QuerySpec): Record<string, unknown> {
  return pick(q, ['name', 'description', 'query', 'interval', 'platform', 'logging', 'observer_can_run', 'min_osquery_version', 'automations_enabled']);
}

export function orderPack(p: PackSpec): Record<string, unknown> {
  return {
    ...pick(p, ['name', 'description', 'platform', 'disabled', 'targets']),
    queries: p.queries.map((q) => pick(q, ['query', 'name', 'description', 'interval', 'snapshot', 'removed', 'shard', 'platform', 'version', 'denylist'])),
  };
}

export function orderLabel(l: LabelSpec): Record<string, unknown> {
  return pick(l, ['name', 'description', 'query', 'platform', 'label_membership_type', 'hosts']);
}

export function orderSecrets(e: EnrollSecretSpec): Record<string, unknown> {
  return { secrets: e.secrets.map((s) => pick(s, ['name', 'secret', 'active'])) };
}

/** Every spec of a set, kinds in dependency order (queries, labels, packs, options, secrets). */
export function renderSpecSet(set: SpecSet): string {
  const out: string[] = [];
  for (const q of set.queries) out.push(renderDoc('query', orderQuery(q)));
  for (const l of set.labels) out.push(renderDoc('label', orderLabel(l)));
  for (const p of set.packs) out.push(renderDoc('pack', orderPack(p)));
  if (set.options) out.push(renderDoc('options', { config: set.options.config, ...(set.options.overrides ? { overrides: set.options.overrides } : {}) }));
  if (set.enroll_secret) out.push(renderDoc('enroll_secret', orderSecrets(set.enroll_secret)));
  return out.join('');
}

/**
 * FleetDM 4 has no `options` kind: osquery options live in the app config's `agent_options`
 * (fleet-api.md §3.6, §8 step 8). The body of `PATCH /config` that applies an options document.
 */
export function toAgentOptions(o: OptionsSpec): { agent_options: { config: Record<string, unknown>; overrides: { platforms: Record<string, unknown> } } } {
  return { agent_options: { config: o.config, overrides: { platforms: o.overrides?.platforms ?? {} } } };
}

/** The note apply prints when it maps an options document onto a FleetDM server. */
export const AGENT_OPTIONS_NOTE =
  'note: FleetDM has no "options" kind; the options document is applied as the agent options of the server configuration (config.agent_options)';

/** The options of a FleetDM app config (`GET /config`), as an options spec for planning. */
export function fromAgentOptions(appConfig: unknown): OptionsSpec | undefined {
  const ao = (appConfig as { agent_options?: unknown } | null)?.agent_options;
  if (typeof ao !== 'object' || ao === null) return undefined;
  const a = ao as { config?: unknown; overrides?: { platforms?: unknown } };
  const config = typeof a.config === 'object' && a.config !== null ? (a.config as Record<string, unknown>) : {};
  const platforms = a.overrides?.platforms;
  return typeof platforms === 'object' && platforms !== null
    ? { config, overrides: { platforms: platforms as Record<string, Record<string, unknown>> } }
    : { config };
}
