/** Setup, login, logout, me and version, in both generations' shapes (fleet-api.md §2, §8). */
import { SHAPES } from './shapes.js';
import type { FleetClient } from './client.js';
import type { ServerProfile } from './server.js';
import { AlreadySetUpError, ApiError, AuthError, CliError, NotFoundError } from '../errors.js';

export interface User {
  id: number;
  name?: string;
  username?: string;
  email: string;
  /** Kolide */
  admin?: boolean;
  /** FleetDM */
  global_role?: string | null;
  api_only?: boolean;
}

export interface SetupInput {
  email: string;
  password: string;
  name: string;
  username: string;
  orgName: string;
  serverUrl: string;
}

/**
 * Creates the first admin. One body works on both generations: Kolide reads `kolide_server_url`
 * and `admin.username`, FleetDM reads `server_url`; each ignores the other's keys.
 */
export async function setup(client: FleetClient, input: SetupInput): Promise<{ token: string | undefined; user: User | undefined }> {
  try {
    const res = await client.send<{ token?: string; admin?: User }>('POST', '/api/v1/setup', {
      shape: SHAPES.setup,
      root: true,
      auth: false,
      body: {
        admin: { admin: true, username: input.username, name: input.name, email: input.email, password: input.password },
        org_info: { org_name: input.orgName },
        server_url: input.serverUrl,
        kolide_server_url: input.serverUrl,
      },
    });
    return { token: res.body.token, user: res.body.admin };
  } catch (err) {
    if (err instanceof NotFoundError) {
      throw new AlreadySetUpError();
    }
    throw err;
  }
}

export async function login(client: FleetClient, email: string, password: string): Promise<{ token: string; user: User }> {
  await client.server();
  try {
    const body = await client.request<{ token?: string; user: User; message?: string }>('POST', '/login', {
      shape: SHAPES.login,
      auth: false,
      body: { username: email, email, password },
    });
    if (!body.token) {
      throw new CliError(body.message ?? 'the server accepted the credentials but sent no token (multi-factor authentication?)', {
        hint: 'create an API token in the Fleet UI and run: osfleet config set --token-stdin',
      });
    }
    return { token: body.token, user: body.user };
  } catch (err) {
    if (err instanceof NotFoundError) {
      throw new CliError('the Fleet server is not set up yet', { hint: 'run osfleet setup' });
    }
    if (err instanceof AuthError) {
      throw new AuthError('login failed: the email (or username) and password do not match', 'check them, or ask an admin to reset the password');
    }
    throw err;
  }
}

export async function logout(client: FleetClient): Promise<void> {
  await client.request('POST', '/logout', { body: {} });
}

export async function me(client: FleetClient): Promise<User> {
  const body = await client.request<{ user: User }>('GET', '/me', { shape: SHAPES.me });
  return body.user;
}

/** The server asked afresh (version, generation, naming), for `version` and `whoami`. */
export async function serverVersion(client: FleetClient): Promise<ServerProfile> {
  return client.server({ refresh: true });
}

export function isNotSetUp(err: unknown): boolean {
  return err instanceof ApiError && err.status === 404;
}
