/** `osfleet version`: this client's version, and the server's when one is configured. */
import type { Ctx } from '../context.js';
import { clientVersion } from '../version.js';
import { serverVersion } from '../api/session.js';
import { CliError } from '../errors.js';

export async function run(opts: { json?: boolean }, ctx: Ctx): Promise<number> {
  const client = clientVersion();
  const conn = await ctx.connection();
  let server: { version: string | undefined; dialect: string } | undefined;
  let problem: string | undefined;
  if (conn.address) {
    try {
      server = await serverVersion(await ctx.api());
      const store = await ctx.config();
      if (store.get() && (conn.dialect !== server.dialect || conn.serverVersion !== server.version)) {
        await store.update(store.contextName, { dialect: server.dialect as 'kolide' | 'fleet', ...(server.version ? { 'server-version': server.version } : {}) });
      }
    } catch (err) {
      if (!(err instanceof CliError)) throw err;
      problem = err.message;
    }
  }
  if (opts.json) {
    ctx.io.out(JSON.stringify({ client, server: server ? { address: conn.address, version: server.version ?? null, dialect: server.dialect } : null, ...(problem ? { error: problem } : {}) }) + '\n');
  } else {
    ctx.io.out(`osfleet ${client} (node ${process.version})\n`);
    if (server) ctx.io.out(`server  ${conn.address}: Fleet ${server.version ?? 'unknown'} (${server.dialect === 'kolide' ? 'Kolide API /api/v1/kolide' : 'FleetDM API /api/v1/fleet'})\n`);
    else if (problem) ctx.io.err(`server  ${conn.address}: unreachable (${problem})\n`);
    else ctx.io.err('server  (no address configured)\n');
  }
  return problem ? 1 : 0;
}
