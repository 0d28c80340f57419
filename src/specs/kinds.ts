/**
 * The fields of each kind of spec (query, pack, label, options, enroll_secret, config), read into
 * typed specs as fleetctl's YAML and `get --yaml` write them, with the checks the server would make
 * later or not at all.
 */
import { describe, isRecord, type FieldReader } from './fields.js';
import type { EnrollSecret, EnrollSecretSpec, LabelSpec, OptionsSpec, PackQuery, PackSpec, QuerySpec, SpecKind } from './types.js';

/** Platforms FleetDM accepts in a query's `platform` (fleetdm/fleet server/fleet/queries.go, verifyQueryPlatforms). */
export const FLEET_QUERY_PLATFORMS = ['darwin', 'linux', 'windows', 'chrome'] as const;

/** osquery refuses to schedule intervals above a week (osquery.md §2.2). */
export const MAX_INTERVAL = 604_800;

const LOGGING = ['snapshot', 'differential', 'differential_ignore_removals'] as const;

/** The typed spec of one document's `spec` mapping, by kind. */
export function readSpec(kind: SpecKind, r: FieldReader): unknown {
  switch (kind) {
    case 'query':
      return readQuery(r);
    case 'pack':
      return readPack(r);
    case 'label':
      return readLabel(r);
    case 'options':
      return readOptions(r);
    case 'enroll_secret':
      return readEnrollSecret(r);
    case 'config':
      // The server's own shape (fleet-api.md §2): checked by the server; apply sends only the keys given.
      return r.spec;
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
