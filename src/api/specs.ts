/**
 * Spec endpoints of both generations (fleet-api.md §3.2, §8, §11): one request per kind, names
 * URL-path-escaped, the singular-under-plural `{"specs": X}` quirk and FleetDM's `{"spec": ...}` for
 * enroll secrets absorbed here, so callers see plain arrays and objects. Queries live under
 * `/spec/reports` and `/reports` on FleetDM 4.82 and later, under the old names elsewhere.
 */
import type { FleetClient } from './client.js';
import { ApiError, InUseError } from '../errors.js';
import { pick } from './server.js';
import { SHAPES } from './shapes.js';

export type Spec = Record<string, unknown>;
export type ListKind = 'queries' | 'packs' | 'labels';

/** The path segment of a kind on this server (`queries` is `reports` on new FleetDM). */
async function segment(client: FleetClient, kind: ListKind): Promise<string> {
  if (kind !== 'queries') return kind;
  return (await client.server()).words.queries;
}

/**
 * Every spec of a kind; `[]` when the server has none (it may send null). FleetDM: one team's
 * (fleet's) queries with `teamId`, sent as `team_id` or `fleet_id` as the server names it.
 */
export async function listSpecs(client: FleetClient, kind: ListKind, teamId?: number): Promise<Spec[]> {
  const { words } = await client.server();
  const body = await client.request<{ specs?: Spec[] | null }>('GET', `/spec/${await segment(client, kind)}`, {
    shape: SHAPES.specList,
    ...(teamId === undefined ? {} : { query: { [words.team_id]: teamId } }),
  });
  return Array.isArray(body.specs) ? body.specs : [];
}

/** FleetDM: the team (fleet, 4.82+) of that exact name (names match without regard to case), or undefined. */
export async function findTeam(client: FleetClient, name: string): Promise<{ id: number; name: string } | undefined> {
  const { words } = await client.server();
  const body = await client.request<Record<string, unknown>>('GET', `/${words.teams}`, { query: { query: name }, shape: SHAPES.teamList(words.teams) });
  const teams = pick<Array<{ id?: unknown; name?: unknown }> | null>(body, 'teams') ?? [];
  const found = teams.find((t) => typeof t.name === 'string' && t.name.toLowerCase() === name.toLowerCase());
  return found && typeof found.id === 'number' ? { id: found.id, name: found.name as string } : undefined;
}

/** One spec by name, or undefined. Kolide answers 500 for a missing object, so 404 and that both mean "none". */
export async function getSpec(client: FleetClient, kind: ListKind, name: string): Promise<Spec | undefined> {
  try {
    const body = await client.request<{ specs?: Spec | Spec[] | null }>('GET', `/spec/${await segment(client, kind)}/${encodeURIComponent(name)}`, { shape: SHAPES.specOne });
    const spec = Array.isArray(body.specs) ? body.specs[0] : body.specs;
    return spec ?? undefined;
  } catch (err) {
    if (client.isNotFound(err)) return undefined;
    throw err;
  }
}

/** Upserts specs by name. Spec apply is an upsert, so repeating it is safe. */
export async function applySpecs(client: FleetClient, kind: ListKind, specs: Spec[]): Promise<void> {
  await client.request('POST', `/spec/${await segment(client, kind)}`, { body: { specs }, idempotent: true });
}

export type DeletableKind = 'queries' | 'packs' | 'labels';

/**
 * Deletes one object by name. A delete the server refuses because something still uses the object
 * (Kolide: 403 "Validation Failed", a foreign key) is an InUseError naming the packs that use it.
 */
export async function deleteByName(client: FleetClient, kind: DeletableKind, name: string): Promise<'deleted' | 'missing'> {
  try {
    await client.request('DELETE', `/${await segment(client, kind)}/${encodeURIComponent(name)}`);
    return 'deleted';
  } catch (err) {
    if (client.isNotFound(err)) return 'missing';
    if (err instanceof ApiError && err.status === 403 && /foreign key/i.test(err.message)) {
      const users = kind === 'queries' ? await packsScheduling(client, name).catch(() => []) : [];
      const what = kind === 'queries' ? 'query' : kind === 'packs' ? 'pack' : 'label';
      throw new InUseError(
        `the server refuses to delete ${what} "${name}": ${users.length > 0 ? `still used by ${users.length === 1 ? 'pack' : 'packs'} ${users.map((u) => `"${u}"`).join(', ')}` : 'something still uses it'}`,
        { hint: users.length > 0 ? `remove it from ${users.length === 1 ? 'that pack' : 'those packs'} (or delete them) first` : 'find what refers to it and remove that first', cause: err },
      );
    }
    throw err;
  }
}

/** Names of the packs whose schedule names a query (case-insensitively, as the servers match). */
async function packsScheduling(client: FleetClient, query: string): Promise<string[]> {
  const want = query.toLowerCase();
  return (await listSpecs(client, 'packs'))
    .filter((p) => Array.isArray(p['queries']) && (p['queries'] as Spec[]).some((q) => typeof q?.['query'] === 'string' && q['query'].toLowerCase() === want))
    .map((p) => String(p['name']))
    .sort();
}

/**
 * osquery options. Kolide: `/spec/osquery_options`. FleetDM 4.x moved them into the app config's
 * `agent_options` (the `options` kind is gone), which is where they are read and written there.
 */
export async function getOptions(client: FleetClient): Promise<Spec | undefined> {
  if ((await client.server()).traits.options === 'spec') {
    const body = await client.request<{ spec?: Spec | null }>('GET', '/spec/osquery_options', { shape: SHAPES.optionsSpec });
    return body.spec ?? undefined;
  }
  const config = await client.request<{ agent_options?: Spec | null }>('GET', '/config', { shape: SHAPES.appConfig });
  return config.agent_options ?? undefined;
}

/**
 * Writes the options. `current` is what `getOptions` read: FleetDM's agent_options hold more than
 * config/overrides (command_line_flags, extensions), which are kept; an absent overrides means none
 * (as Kolide's replace does), not "keep the server's".
 */
export async function applyOptions(client: FleetClient, spec: Spec, current?: Spec): Promise<void> {
  if ((await client.server()).traits.options === 'spec') {
    await client.request('POST', '/spec/osquery_options', { body: { spec }, idempotent: true });
    return;
  }
  const body = current ? { ...current, config: spec['config'], overrides: spec['overrides'] ?? {} } : spec;
  await client.request('PATCH', '/config', { body: { agent_options: body }, idempotent: true });
}

export interface EnrollSecret {
  secret: string;
  name?: string;
  active?: boolean;
  created_at?: string;
}

export async function getEnrollSecrets(client: FleetClient): Promise<EnrollSecret[]> {
  const body = await client.request<{ specs?: { secrets?: EnrollSecret[] | null }; spec?: { secrets?: EnrollSecret[] | null } }>('GET', '/spec/enroll_secret', { shape: SHAPES.enrollSecrets });
  return (body.spec ?? body.specs)?.secrets ?? [];
}

/** Kolide upserts by name and keeps the rest; FleetDM replaces the global set. Name/active go only to Kolide. */
export async function applyEnrollSecrets(client: FleetClient, secrets: EnrollSecret[]): Promise<void> {
  const byName = (await client.server()).traits.enrollSecrets === 'by-name';
  const shaped = byName ? secrets : secrets.map((s) => ({ secret: s.secret }));
  await client.request('POST', '/spec/enroll_secret', { body: { spec: { secrets: shaped } }, idempotent: true });
}
