/**
 * `osfleet export`'s usernames: from a users file (`--users`, the NDJSON output of the users query),
 * or from one users campaign on the input's hosts (`--usernames-from-server`); and the checks that
 * the users file answers for the input's hosts.
 */
import type { Ctx } from '../../context.js';
import { InputError } from '../../errors.js';
import { readHostResults, UserDirectory, USERS_SQL, type BadLine, type Manifest } from '../../results/index.js';
import { hashed, openInput, sourceName } from './inputs.js';

/** How long the users campaign of --usernames-from-server may take. */
const USERS_TIMEOUT_MS = 60_000;

type InputFile = NonNullable<Manifest['input_files']>[number];

/** Reads `--users FILE` into a directory; returns it with the file's digest for the manifest. */
export async function readUsersFile(path: string, ctx: Ctx, o: { strict: boolean | undefined; onBadLine: (b: BadLine) => void }): Promise<{ directory: UserDirectory; file: InputFile }> {
  const directory = new UserDirectory();
  const input = await openInput(path, ctx);
  for await (const r of readHostResults(hashed(input), { source: path, strict: o.strict, onBadLine: o.onBadLine, signal: ctx.signal })) {
    if (r.rows.length > 0 && !r.rows.some((row) => 'uid' in row && 'username' in row)) {
      throw new InputError(`${path}: the rows of ${r.host} have no uid and username columns`, {
        hint: 'the users file is the NDJSON output of `SELECT uid, username FROM users`',
      });
    }
    directory.add(r);
  }
  return { directory, file: { path: sourceName(path), role: 'users', sha256: input.hash.digest('hex'), bytes: input.bytes } };
}

/** Runs `SELECT uid, username FROM users` on the hosts in the input and fills a directory. */
export async function usersFromServer(ctx: Ctx, hosts: string[], warn: (line: string) => void): Promise<UserDirectory> {
  if (hosts.length === 0) return new UserDirectory();
  const directory = new UserDirectory();
  const [{ LiveQuery }, { resolveTargets }] = await Promise.all([import('../../api/campaigns.js'), import('../../api/targets.js')]);
  const client = await ctx.api();
  const resolved = await resolveTargets(client, { hosts, labels: [], all: false });
  // Named once, in the pipeline's warnings, with this reason.
  for (const h of resolved.unknownHosts) directory.fail(h, 'the server does not know this host');
  if (resolved.targets.length === 0) return directory;
  const spinner = await ctx.io.spinner(`asking ${resolved.targets.length} host(s) for their users…`);
  spinner.start();
  const live = new LiveQuery(client, {
    query: { sql: USERS_SQL },
    selection: resolved.selection,
    targets: resolved.targets,
    waitAll: false,
    timeoutMs: USERS_TIMEOUT_MS,
    transport: 'auto',
    signal: ctx.signal,
    debug: ctx.globals.debug ? (l) => ctx.debug(`[users] ${l}`) : undefined,
  });
  try {
    for await (const a of live) directory.add(a);
  } finally {
    spinner.stop();
  }
  if (live.problem) warn(`the users query did not complete: ${live.problem.message}`);
  for (const t of resolved.targets) {
    if (!directory.has(t.hostname)) directory.fail(t.hostname, t.online ? 'no answer to the users query' : 'offline');
  }
  return directory;
}

/** "a, b, c and 2 more": sorted, up to `max` named. */
export function hostList(hosts: readonly string[], max = 5, count = hosts.length): string {
  const sorted = [...hosts].sort();
  return count <= max ? sorted.join(', ') : `${sorted.slice(0, max).join(', ')} and ${count - max} more`;
}

/** A users file that answers for none of the input's hosts is the wrong file: an error naming both. */
export function checkUsersMatch(directory: UserDirectory, usersPath: string, inputHosts: readonly string[]): void {
  const known = directory.hosts();
  if (known.length > 0 && inputHosts.length > 0 && !inputHosts.some((h) => known.includes(h) || directory.failure(h) !== undefined)) {
    throw usersMismatch(directory, usersPath, { first: [...inputHosts].sort().slice(0, 5), count: inputHosts.length });
  }
}

/** The error of checkUsersMatch, from the input's first hosts in order and their count. */
export function usersMismatch(directory: UserDirectory, usersPath: string, input: { first: readonly string[]; count: number }): InputError {
  return new InputError(`${usersPath} answers for other hosts (${hostList(directory.hosts())}) than the input (${hostList(input.first, 5, input.count)})`, {
    hint: 'run the users query on the same hosts as the results',
  });
}

/** "FILE has hosts that are not in the input: …", or undefined. */
export function extraUsersLine(directory: UserDirectory, usersPath: string, isInput: (host: string) => boolean): string | undefined {
  const extra = directory.hosts().filter((h) => !isInput(h));
  return extra.length > 0 ? `${usersPath} has hosts that are not in the input: ${hostList(extra)}` : undefined;
}
