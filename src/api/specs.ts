/**
 * Spec endpoints of both generations (fleet-api.md §3.2, §8): one request per kind, names
 * URL-path-escaped, the singular-under-plural `{"specs": X}` quirk and FleetDM's `{"spec": ...}` for
 * enroll secrets absorbed here, so callers see plain arrays and objects.
 */
import type { FleetClient } from './client.js';
import { NotFoundError, ApiError } from '../errors.js';

export type Spec = Record<string, unknown>;
export type ListKind = 'queries' | 'packs' | 'labels';

/** Every spec of a kind; `[]` when the server has none (it may send null). FleetDM: one team's queries with `teamId`. */
export async function listSpecs(client: FleetClient, kind: ListKind, teamId?: number): Promise<Spec[]> {
  const body = await client.request<{ specs?: Spec[] | null }>('GET', `/spec/${kind}`, teamId === undefined ? {} : { query: { team_id: teamId } });
  return Array.isArray(body.specs) ? body.specs : [];
}

/** FleetDM: the team of that exact name (names match without regard to case), or undefined. */
export async function findTeam(client: FleetClient, name: string): Promise<{ id: number; name: string } | undefined> {
  const body = await client.request<{ teams?: Array<{ id?: unknown; name?: unknown }> | null }>('GET', '/teams', { query: { query: name } });
  const found = (body.teams ?? []).find((t) => typeof t.name === 'string' && t.name.toLowerCase() === name.toLowerCase());
  return found && typeof found.id === 'number' ? { id: found.id, name: found.name as string } : undefined;
}

/** One spec by name, or undefined. Kolide answers 500 for a missing pack, so 404 and that both mean "none". */
export async function getSpec(client: FleetClient, kind: ListKind, name: string): Promise<Spec | undefined> {
  try {
    const body = await client.request<{ specs?: Spec | Spec[] | null }>('GET', `/spec/${kind}/${encodeURIComponent(name)}`);
    const spec = Array.isArray(body.specs) ? body.specs[0] : body.specs;
    return spec ?? undefined;
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    if (client.dialect === 'kolide' && err instanceof ApiError && err.status === 500 && /not found/i.test(err.message)) return undefined;
    throw err;
  }
}

/** Upserts specs by name. Spec apply is an upsert, so repeating it is safe. */
export async function applySpecs(client: FleetClient, kind: ListKind, specs: Spec[]): Promise<void> {
  await client.request('POST', `/spec/${kind}`, { body: { specs }, idempotent: true });
}

export type DeletableKind = 'queries' | 'packs' | 'labels';

export async function deleteByName(client: FleetClient, kind: DeletableKind, name: string): Promise<'deleted' | 'missing'> {
  try {
    await client.request('DELETE', `/${kind}/${encodeURIComponent(name)}`);
    return 'deleted';
  } catch (err) {
    if (err instanceof NotFoundError) return 'missing';
    throw err;
  }
}

/**
 * osquery options. Kolide: `/spec/osquery_options`. FleetDM 4.x moved them into the app config's
 * `agent_options` (the `options` kind is gone), which is where they are read and written there.
 */
export async function getOptions(client: FleetClient): Promise<Spec | undefined> {
  await client.detect();
  if (client.dialect === 'kolide') {
    const body = await client.request<{ spec?: Spec | null }>('GET', '/spec/osquery_options');
    return body.spec ?? undefined;
  }
  const config = await client.request<{ agent_options?: Spec | null }>('GET', '/config');
  return config.agent_options ?? undefined;
}

export async function applyOptions(client: FleetClient, spec: Spec): Promise<void> {
  await client.detect();
  if (client.dialect === 'kolide') {
    await client.request('POST', '/spec/osquery_options', { body: { spec }, idempotent: true });
    return;
  }
  await client.request('PATCH', '/config', { body: { agent_options: spec }, idempotent: true });
}

export interface EnrollSecret {
  secret: string;
  name?: string;
  active?: boolean;
  created_at?: string;
}

export async function getEnrollSecrets(client: FleetClient): Promise<EnrollSecret[]> {
  const body = await client.request<{ specs?: { secrets?: EnrollSecret[] | null }; spec?: { secrets?: EnrollSecret[] | null } }>('GET', '/spec/enroll_secret');
  return (body.spec ?? body.specs)?.secrets ?? [];
}

/** Kolide upserts by name and keeps the rest; FleetDM replaces the global set. Name/active go only to Kolide. */
export async function applyEnrollSecrets(client: FleetClient, secrets: EnrollSecret[]): Promise<void> {
  await client.detect();
  const shaped = client.dialect === 'kolide' ? secrets : secrets.map((s) => ({ secret: s.secret }));
  await client.request('POST', '/spec/enroll_secret', { body: { spec: { secrets: shaped } }, idempotent: true });
}
