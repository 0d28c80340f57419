// Placeholder: replaced by the real configuration store.
import type { Env } from '../context.js';
export interface ResolvedContext {
  name: string;
  address: string;
  token?: string | undefined;
  email?: string | undefined;
  tlsSkipVerify: boolean;
  rootca?: string | undefined;
  urlPrefix: string;
  allowInsecureHttp: boolean;
  dialect?: 'kolide' | 'fleet' | undefined;
  serverVersion?: string | undefined;
}
export interface ConfigStore {
  resolve(): ResolvedContext;
}
export async function loadConfig(_o: { env: Env; configPath?: string | undefined; contextName?: string | undefined }): Promise<ConfigStore> {
  throw new Error('not yet');
}
