/**
 * `osfleet demo` (`npm run demo`): the story end to end against a throw-away sandbox. It starts the
 * sandbox, sets it up in a temporary config (yours is untouched), applies packs/, runs the story's
 * two queries on the Macs through the real commands, prints readable tables and writes
 * leaks-printed.csv and leaks-copied.csv with dates and usernames, then stops the sandbox.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Ctx } from '../context.js';
import { CliError, ExitCode } from '../errors.js';
import { BUNDLED_PACKS_DIR } from '../paths.js';

export const PRINTED_SQL = 'SELECT * FROM cups_jobs;';
export const COPIED_SQL =
  "SELECT action, file_events.uid, users.username, SUBSTR(target_path, 1) AS path, SUBSTR(md5, 0, 8) AS hash, time FROM file_events INNER JOIN users ON file_events.uid=users.uid WHERE sha1 <> '' AND target_path NOT LIKE '%DS_Store';";

export async function run(_opts: unknown, ctx: Ctx): Promise<number> {
  await (await import('../sqlite.js')).loadSqlite('demo');
  const { startSandbox } = await import('../sandbox/index.js');
  const main = (args: string[], over: Parameters<Ctx['main']>[1]) => ctx.main(args, over);
  const packs = path.join(BUNDLED_PACKS_DIR, 'data-leak');
  const scratch = await mkdtemp(path.join(tmpdir(), 'osfleet-demo-'));
  const env = { ...ctx.env, OSFLEET_CONFIG: path.join(scratch, 'config.yml'), OSFLEET_CONTEXT: 'preview', FLEET_URL: undefined, FLEET_API_TOKEN: undefined };
  const say = (s: string) => ctx.io.err(`${ctx.io.errColor.bold(s)}\n`);
  const osfleet = async (args: string[]): Promise<number> => {
    ctx.io.err(ctx.io.errColor.cyan(`\n$ osfleet ${args.map((a) => (/[\s;'*%<>]/.test(a) ? `'${a.replace(/'/g, `'\\''`)}'` : a)).join(' ')}\n`));
    return main(args, { io: ctx.io, env, signal: ctx.signal, cwd: ctx.cwd });
  };

  say('Starting the sandbox: a Fleet-compatible server and four simulated osquery hosts…');
  const sandbox = await startSandbox({ dialect: 'fleet', port: 0, seed: 1 });
  try {
    const steps: Array<[string, string[], number[]]> = [
      ['Set up the server and log in (the admin password is generated)', ['setup', '--address', sandbox.url, '--email', 'admin@osfleet.local', '--name', 'Demo Admin', '--password-stdin'], [0]],
      ['The hosts', ['get', 'hosts', '--format', 'table'], [0]],
      ['Apply the data-leak pack (labels, queries, pack, options)', ['apply', '-f', packs], [0]],
      ['Who printed what? (cups_jobs exists on macOS only)', ['query', '--labels', 'macOS', '--query', PRINTED_SQL, '--format', 'table', '--tz', 'America/Los_Angeles'], [0, 3]],
      ['Save it for the analyst, with dates and usernames', ['query', '--labels', 'macOS', '--query', PRINTED_SQL, '-o', 'leaks-printed.csv', '--tz', 'America/Los_Angeles', '--quiet'], [0, 3]],
      ['Which files went to USB sticks and network shares?', ['query', '--all', '--query', COPIED_SQL, '--format', 'table', '--tz', 'America/Los_Angeles'], [0, 3]],
      ['Save it too', ['query', '--all', '--query', COPIED_SQL, '-o', 'leaks-copied.csv', '--tz', 'America/Los_Angeles', '--quiet'], [0, 3]],
    ];
    for (const [title, args, ok] of steps) {
      say(`\n# ${title}`);
      const code = args[0] === 'setup' ? await setupWithPassword(args) : await osfleet(args);
      if (!ok.includes(code)) throw new CliError(`demo step failed (exit ${code}): osfleet ${args.join(' ')}`);
    }
    say(`\nWrote ${path.join(ctx.cwd, 'leaks-printed.csv')} and ${path.join(ctx.cwd, 'leaks-copied.csv')} (each with a .manifest.json beside it).`);
    say('Next: `osfleet preview` keeps a sandbox running for you to explore.');
  } finally {
    await sandbox.stop();
    await rm(scratch, { recursive: true, force: true });
  }
  return ExitCode.ok;

  async function setupWithPassword(args: string[]): Promise<number> {
    const { randomBytes } = await import('node:crypto');
    const { Readable } = await import('node:stream');
    const password = `Demo-${randomBytes(9).toString('base64url')}#1`;
    ctx.io.err(ctx.io.errColor.cyan(`\n$ osfleet ${args.join(' ')} <<< '(generated)'\n`));
    return main(args, { io: { ...ctx.io, stdin: Readable.from([password]), stdinIsTTY: false }, env, signal: ctx.signal, cwd: ctx.cwd });
  }
}
