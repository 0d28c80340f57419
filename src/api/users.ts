/** Users and the app configuration (fleet-api.md §2): `GET /users` (paged), `GET`/`PATCH /config`. */
import type { FleetClient } from './client.js';
import { SHAPES } from './shapes.js';

export type User = Record<string, unknown>;

const PAGE = 500;
const MAX_PAGES = 200;

/** Every user, page by page (at most 100,000). */
export async function listUsers(client: FleetClient): Promise<User[]> {
  const out: User[] = [];
  for (let page = 0; page < MAX_PAGES; page++) {
    const body = await client.request<{ users?: User[] | null }>('GET', '/users', { query: { page, per_page: PAGE }, shape: SHAPES.userList });
    const users = Array.isArray(body.users) ? body.users : [];
    out.push(...users);
    if (users.length < PAGE) return out;
  }
  return out;
}

export async function getAppConfig(client: FleetClient): Promise<Record<string, unknown>> {
  return await client.request<Record<string, unknown>>('GET', '/config', { shape: SHAPES.appConfig });
}

/** Changes only the keys given (the server merges), as `fleetctl apply` of a `kind: config` document. */
export async function patchAppConfig(client: FleetClient, patch: Record<string, unknown>): Promise<void> {
  await client.request('PATCH', '/config', { body: patch, idempotent: true });
}
