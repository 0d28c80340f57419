/** `osfleet version`: this client's version, and the server's when one is configured. */
import type { Ctx } from '../context.js';
import { clientVersion } from '../version.js';
import { serverVersion } from '../api/session.js';
import { CliError } from '../errors.js';

export async function run(opts: { json?: boolean }, ctx: Ctx): Promise<number> {
  const client = clientVersion();
  const conn = await ctx.connection();
  let server: import('../api/server.js').ServerProfile | undefined;
  let problem: string | undefined;
  if (conn.address) {
    try {
      server = await serverVersion(await ctx.api());
      const store = await ctx.config();
      if (store.get() && (conn.dialect !== server.generation || conn.serverVersion !== server.version || conn.naming !== server.naming)) {
        await store.update(store.contextName, { dialect: server.generation, naming: server.naming, ...(server.version ? { 'server-version': server.version } : {}) });
      }
    } catch (err) {
      if (!(err instanceof CliError)) throw err;
      problem = err.message;
    }
  }
  if (opts.json) {
    ctx.io.out(JSON.stringify({ client, server: server ? { address: conn.address, version: server.version ?? null, dialect: server.generation, naming: server.naming } : null, ...(problem ? { error: problem } : {}) }) + '\n');
  } else {
    ctx.io.out(`osfleet ${client} (node ${process.version})\n`);
    if (server) ctx.io.out(`server  ${conn.address}: Fleet ${server.version ?? 'unknown'} (${server.product} API ${server.prefix})\n`);
    else if (problem) ctx.io.err(`server  ${conn.address}: unreachable (${problem})\n`);
    else ctx.io.err('server  (no address configured)\n');
  }
  return problem ? 1 : 0;
}
