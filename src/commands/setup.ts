/** `osfleet setup`: the first admin on a fresh server (one body that both generations accept). */
import type { Ctx } from '../context.js';
import { UsageError } from '../errors.js';
import { ask, readAllStdin } from '../prompt.js';
import { setup } from '../api/session.js';
import { checkAddress } from '../api/client.js';

export interface SetupOptions {
  address?: string;
  email?: string;
  name?: string;
  username?: string;
  orgName?: string;
  serverUrl?: string;
  passwordStdin?: boolean;
}

export async function run(opts: SetupOptions, ctx: Ctx): Promise<number> {
  const store = await ctx.config();
  const name = store.contextName;
  if (opts.address) {
    const stored = store.get(name);
    checkAddress(opts.address, { allowInsecureHttp: stored?.['allow-insecure-http'] ?? false });
    await store.update(name, { address: opts.address.replace(/\/+$/, '') }, { remove: ['dialect', 'server-version', 'token'] });
  }
  const email = opts.email ?? (await ask(ctx.io, 'Email: ', { flag: '--email' })).trim();
  if (!email) throw new UsageError('--email is required');
  let password: string;
  if (opts.passwordStdin) {
    password = await readAllStdin(ctx.io, ctx.signal);
  } else {
    password = await ask(ctx.io, 'Password: ', { secret: true, flag: '--password-stdin' });
    const again = await ask(ctx.io, 'Confirm password: ', { secret: true, flag: '--password-stdin' });
    if (again !== password) throw new UsageError('the passwords do not match');
  }
  if (!password) throw new UsageError('the password is empty');
  const conn = store.resolve();
  const client = await ctx.api();
  const result = await setup(client, {
    email,
    password,
    name: opts.name ?? email.split('@')[0] ?? email,
    username: opts.username ?? email,
    orgName: opts.orgName ?? 'osfleet',
    serverUrl: opts.serverUrl ?? conn.address ?? '',
  });
  const { dialect, version } = await client.detect({ force: true });
  await store.update(name, {
    email,
    dialect,
    ...(version ? { 'server-version': version } : {}),
    ...(result.token ? { token: result.token } : {}),
  });
  ctx.io.err(`[+] Fleet at ${conn.address} is set up; admin ${email}${result.token ? ' logged in' : ''} (context "${name}")\n`);
  if (!result.token) ctx.io.err('Now log in: osfleet login\n');
  return 0;
}
