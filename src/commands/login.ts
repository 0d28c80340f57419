/** `osfleet login`: email and password (prompted without echo, or from stdin) → token in the context. */
import type { Ctx } from '../context.js';
import { UsageError } from '../errors.js';
import { ask, readAllStdin } from '../prompt.js';
import { login } from '../api/session.js';

export interface LoginOptions {
  email?: string;
  password?: string;
  passwordStdin?: boolean;
}

export async function run(opts: LoginOptions, ctx: Ctx): Promise<number> {
  if (opts.password !== undefined && opts.passwordStdin) throw new UsageError('--password and --password-stdin must not be given together');
  const store = await ctx.config();
  const conn = store.resolve();
  let email = opts.email ?? conn.email;
  if (!email) {
    if (ctx.io.stdinIsTTY) ctx.io.err('Log in using the standard Fleet credentials.\n');
    email = (await ask(ctx.io, 'Email: ', { flag: '--email' })).trim();
  }
  if (!email) throw new UsageError('an email (or Kolide username) is required', 'pass --email');
  let password: string;
  if (opts.password !== undefined) {
    ctx.io.err(ctx.io.errColor.yellow('Warning: --password puts the password in your shell history and the process list; prefer --password-stdin.\n'));
    password = opts.password;
  } else if (opts.passwordStdin) {
    password = await readAllStdin(ctx.io, ctx.signal);
  } else {
    password = await ask(ctx.io, 'Password: ', { secret: true, flag: '--password-stdin' });
  }
  if (!password) throw new UsageError('the password is empty');

  const client = await ctx.api();
  client.setToken(undefined);
  const server = await client.server({ refresh: true });
  const { token, user } = await login(client, email, password);
  await store.update(store.contextName, {
    email,
    token,
    dialect: server.generation,
    naming: server.naming,
    ...(server.version ? { 'server-version': server.version } : {}),
  });
  ctx.io.err(`[+] Logged in to ${conn.address} as ${user?.email ?? email}; token saved in context "${store.contextName}" (${store.path})\n`);
  if (conn.tokenSource === 'FLEET_API_TOKEN') {
    ctx.io.err('Note: FLEET_API_TOKEN is set and overrides the saved token.\n');
  }
  return 0;
}
