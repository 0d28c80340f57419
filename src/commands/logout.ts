/** `osfleet logout`: ends the session on the server, then forgets the token locally. */
import type { Ctx } from '../context.js';
import { AuthError } from '../errors.js';
import { logout } from '../api/session.js';

export async function run(_opts: unknown, ctx: Ctx): Promise<number> {
  const store = await ctx.config();
  const conn = store.resolve();
  if (!store.get()?.token) {
    ctx.io.err(`[!] Context "${store.contextName}" has no saved token; nothing to do.\n`);
    return 0;
  }
  const client = await ctx.api();
  try {
    await logout(client);
  } catch (err) {
    // An expired or revoked token is as logged out as it gets; still forget it.
    if (!(err instanceof AuthError)) throw err;
  }
  await store.update(store.contextName, {}, { remove: ['token'] });
  ctx.io.err(`[+] Logged out of ${conn.address}; token removed from context "${store.contextName}"\n`);
  return 0;
}
