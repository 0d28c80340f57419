/** `osfleet whoami`: the user behind the token, the server version and the API generation. */
import type { Ctx } from '../context.js';
import { me, serverVersion } from '../api/session.js';

export async function run(opts: { json?: boolean }, ctx: Ctx): Promise<number> {
  const conn = await ctx.connection();
  const client = await ctx.api();
  const version = await serverVersion(client);
  const user = await me(client);
  const role = user.global_role ?? (user.admin ? 'admin' : user.admin === false ? 'user' : undefined);
  if (opts.json) {
    ctx.io.out(
      JSON.stringify({
        email: user.email,
        name: user.name ?? user.username ?? null,
        role: role ?? null,
        api_only: user.api_only ?? false,
        context: conn.name,
        address: conn.address,
        server_version: version.version ?? null,
        dialect: version.generation,
        api_prefix: version.prefix,
        naming: version.naming,
      }) + '\n',
    );
    return 0;
  }
  ctx.io.out(`${user.email}${user.name ? ` (${user.name})` : ''}${role ? `, ${role}` : ''}\n`);
  ctx.io.out(`server: ${conn.address}, Fleet ${version.version ?? '(unknown version)'}, API ${version.prefix} (${version.product})\n`);
  // FleetDM 4.82 renamed queries to reports and teams to fleets; osfleet follows the server.
  ctx.io.out(`naming: ${version.naming === 'reports' ? 'reports/fleets (FleetDM 4.82 and later)' : 'queries/teams'}\n`);
  ctx.io.out(`context: ${conn.name}\n`);
  return 0;
}
