/** `osfleet setup`: the first admin on a fresh server (one body that both generations accept). */
import type { Ctx } from '../context.js';
import { UsageError } from '../errors.js';
import { ask, readAllStdin } from '../prompt.js';
import { setup } from '../api/session.js';
import { checkAddress } from '../api/address.js';
import type { FleetClient } from '../api/client.js';

export interface SetupOptions {
  address?: string;
  email?: string;
  name?: string;
  username?: string;
  orgName?: string;
  serverUrl?: string;
  passwordStdin?: boolean;
  /** fleetctl's `--password`: works, with a warning (shell history, `ps`); --password-stdin is the way. */
  password?: string;
}

export async function run(opts: SetupOptions, ctx: Ctx): Promise<number> {
  const store = await ctx.config();
  const name = store.contextName;
  let address: string | undefined;
  if (opts.address) {
    const stored = store.get(name);
    checkAddress(opts.address, { allowInsecureHttp: stored?.['allow-insecure-http'] ?? false });
    address = opts.address.replace(/\/+$/, '');
  }
  const email = opts.email ?? (await ask(ctx.io, 'Email: ', { flag: '--email' })).trim();
  if (!email) throw new UsageError('--email is required');
  let password: string;
  if (opts.password !== undefined && opts.passwordStdin) throw new UsageError('give --password or --password-stdin, not both');
  if (opts.password !== undefined) {
    ctx.io.err('Warning: --password lands in your shell history and in the process list; prefer --password-stdin\n');
    password = opts.password;
  } else if (opts.passwordStdin) {
    password = await readAllStdin(ctx.io, ctx.signal);
  } else {
    password = await ask(ctx.io, 'Password: ', { secret: true, flag: '--password-stdin' });
    const again = await ask(ctx.io, 'Confirm password: ', { secret: true, flag: '--password-stdin' });
    if (again !== password) throw new UsageError('the passwords do not match');
  }
  if (!password) throw new UsageError('the password is empty');
  const saved = store.resolve();
  // The context file is written only once the server said yes: a failed setup leaves it as it was.
  const conn = address
    ? { ...saved, address, token: undefined, dialect: undefined, serverVersion: undefined, naming: undefined, tokenSource: undefined }
    : saved;
  let client: FleetClient;
  let own = false;
  if (address) {
    const { createClient } = await import('../api/client.js');
    client = await createClient(conn, ctx);
    own = true;
    for (const w of client.warnings) ctx.io.err(ctx.io.errColor.yellow(`Warning: ${w}\n`));
  } else {
    client = await ctx.api();
  }
  try {
    const result = await setup(client, {
      email,
      password,
      name: opts.name ?? email.split('@')[0] ?? email,
      username: opts.username ?? email,
      orgName: opts.orgName ?? 'osfleet',
      serverUrl: opts.serverUrl ?? conn.address ?? '',
    });
    // The admin exists now: what the server said is saved even if asking its version fails.
    const server = await client.server({ refresh: true }).catch(() => undefined);
    await store.update(
      name,
      {
        ...(address ? { address } : {}),
        email,
        ...(server ? { dialect: server.generation, naming: server.naming, ...(server.version ? { 'server-version': server.version } : {}) } : {}),
        ...(result.token ? { token: result.token } : {}),
      },
      // A token of the old address, or a cached server, must not outlive the change of address.
      { remove: [...(address && !result.token ? (['token'] as const) : []), ...(address && !server ? (['dialect', 'server-version', 'naming'] as const) : [])] },
    );
    ctx.io.err(`[+] Fleet at ${conn.address} is set up; admin ${email}${result.token ? ' logged in' : ''} (context "${name}")\n`);
    if (!result.token) ctx.io.err('Now log in: osfleet login\n');
    return 0;
  } finally {
    if (own) await client.close();
  }
}
