/**
 * Test helpers for the sandbox: start it, run setup and login over raw HTTP (never through
 * src/api: the sandbox must be checked independently of the client), and speak to it directly.
 */
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import { startSandbox } from '../../src/sandbox/index.js';
import type { Sandbox, SandboxOptions } from '../../src/sandbox/index.js';

export const ADMIN = { email: 'admin@example.com', username: 'admin', name: 'Sandbox Admin', password: 'sandbox-Pass1234!' } as const;

export interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The parsed body, or undefined when it is not JSON. */
  json: any;
}

export interface RawOptions {
  method?: string;
  token?: string;
  body?: unknown;
  /** Sent as is (bad JSON tests). */
  rawBody?: string;
  headers?: Record<string, string>;
  dispatcher?: Dispatcher;
}

/** One HTTP request with undici's request (a JSON body on GET is allowed). */
export async function raw(url: string, opts: RawOptions = {}): Promise<RawReply> {
  const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers };
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  let body: string | undefined = opts.rawBody;
  if (body === undefined && opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await request(url, {
    method: (opts.method ?? (body === undefined ? 'GET' : 'POST')) as Dispatcher.HttpMethod,
    headers,
    ...(body !== undefined ? { body } : {}),
    ...(opts.dispatcher ? { dispatcher: opts.dispatcher } : {}),
  });
  const text = await res.body.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers, text, json };
}

export function apiPrefix(dialect: 'fleet' | 'kolide'): string {
  return dialect === 'kolide' ? '/api/v1/kolide' : '/api/v1/fleet';
}

export interface TestSandbox {
  sandbox: Sandbox;
  url: string;
  /** `/api/v1/kolide` or `/api/v1/fleet`. */
  prefix: string;
  admin: { email: string; username: string; password: string; token: string };
  /** An undici Agent trusting the sandbox's certificate (https sandboxes), for raw(). */
  dispatcher: Dispatcher | undefined;
  stop(): Promise<void>;
}

/** Starts a sandbox (story fleet by default), runs setup, logs the admin in. */
export async function startTestSandbox(opts: SandboxOptions = {}): Promise<TestSandbox> {
  const sandbox = await startSandbox(opts);
  const dispatcher = opts.tls ? new Agent({ connect: { ca: opts.tls.ca ?? opts.tls.cert } }) : undefined;
  const dd = dispatcher ? { dispatcher } : {};
  try {
    const setup = await raw(`${sandbox.url}/api/v1/setup`, {
      ...dd,
      body: {
        admin: { admin: true, username: ADMIN.username, name: ADMIN.name, email: ADMIN.email, password: ADMIN.password },
        org_info: { org_name: 'Sandbox Org' },
        server_url: sandbox.url,
        kolide_server_url: sandbox.url,
      },
    });
    if (setup.status !== 200) throw new Error(`setup failed: ${setup.status} ${setup.text}`);
    const prefix = apiPrefix(sandbox.dialect);
    const login = await raw(`${sandbox.url}${prefix}/login`, {
      ...dd,
      body: { username: ADMIN.username, email: ADMIN.email, password: ADMIN.password },
    });
    if (login.status !== 200 || typeof login.json?.token !== 'string') throw new Error(`login failed: ${login.status} ${login.text}`);
    return {
      sandbox, url: sandbox.url, prefix, dispatcher,
      admin: { email: ADMIN.email, username: ADMIN.username, password: ADMIN.password, token: login.json.token as string },
      stop: async () => {
        await sandbox.stop();
        await dispatcher?.close();
      },
    };
  } catch (e) {
    await sandbox.stop();
    await dispatcher?.close();
    throw e;
  }
}
