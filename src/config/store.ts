// Interface of the configuration store; the implementation lands with the foundation.
import type { Env } from '../context.js';

/** A context as stored in the file (fleetctl's keys). */
export interface StoredContext {
  address?: string;
  email?: string;
  token?: string;
  'tls-skip-verify'?: boolean;
  rootca?: string;
  'url-prefix'?: string;
  'allow-insecure-http'?: boolean;
  /** Detected API generation and server version, cached. */
  dialect?: 'kolide' | 'fleet';
  'server-version'?: string;
}

/** The effective connection settings: file + environment overrides. */
export interface ResolvedContext {
  name: string;
  address: string | undefined;
  token: string | undefined;
  email: string | undefined;
  tlsSkipVerify: boolean;
  rootca: string | undefined;
  urlPrefix: string;
  allowInsecureHttp: boolean;
  dialect: 'kolide' | 'fleet' | undefined;
  serverVersion: string | undefined;
}

export interface ConfigStore {
  /** The file read (or to be written). */
  readonly path: string;
  /** The context in use: --context, $OSFLEET_CONTEXT, the file's current-context, or "default". */
  readonly contextName: string;
  readonly currentContext: string | undefined;
  contexts(): Record<string, StoredContext>;
  get(name?: string): StoredContext | undefined;
  /** Merge fields into a context (creating it) and write the file atomically, mode 0600. */
  update(name: string, fields: Partial<StoredContext>, opts?: { remove?: Array<keyof StoredContext> }): Promise<void>;
  setCurrent(name: string): Promise<void>;
  resolve(): ResolvedContext;
}

export async function loadConfig(_o: { env: Env; configPath?: string | undefined; contextName?: string | undefined }): Promise<ConfigStore> {
  throw new Error('configuration store not implemented yet');
}
