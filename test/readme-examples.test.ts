/**
 * The README's examples work as printed (issue 17.11): every `osfleet …` line of its ```sh blocks and
 * every example of its command table is run through the built CLI against a FleetDM sandbox with
 * the story's hosts (the README's host and label names are the sandbox's), from a scratch folder.
 * Examples that need something else (another server, a password, a file of yours) are listed here
 * with the reason, and each listed one must still be in the README.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot, runCli } from './helpers/cli.js';
import { startCliFleet, type CliFleet } from './helpers/fleet.js';
import { shellWords } from './helpers/shell.js';

const SKIP: Record<string, string> = {
  'osfleet config set --address https://fleet.example.com:8080 --rootca ca.pem': 'a server and CA of yours',
  'osfleet config set --token-stdin': 'reads a token from a pipe',
  'osfleet config get': 'the test context comes from FLEET_URL/FLEET_API_TOKEN, not a file',
  'osfleet config list': 'same',
  'osfleet config use-context prod': 'a context named prod of yours',
  'osfleet setup --address https://fleet:8080 --email admin@corp --password-stdin < pw': 'a fresh server and a password file',
  'osfleet login --email admin@corp': 'asks for a password',
  "osfleet export results.ndjson --sql 'SELECT * FROM cups_jobs' -o printed.csv --tz Europe/Paris": 'a results file of yours',
  'osfleet convert -f incident-response.conf -o ir.yml': 'an osquery pack file of yours',
  'osfleet preview --dialect kolide --hosts 100': 'starts a server in the foreground',
  'osfleet delete pack data-leak --yes': 'run last, below',
  'osfleet delete -f old.yml --yes': 'a file of yours',
  'osfleet apply -f data-leak --prune --yes': 'would delete what the sandbox was seeded with; its dry run is run',
  'osfleet preview --time-factor 3600 --data ./sandbox &': 'starts a server in the background; test/schedule-e2e.test.ts runs the same flow',
  'osfleet --context preview export --query data-leak-file-copies,data-leak-print-jobs --since 7d --usernames-from-server --tz UTC -o collected.csv ./sandbox/osquery_result':
    'reads the log the preview above writes; test/schedule-e2e.test.ts runs the same flow',
  'osfleet export --query data-leak-file-copies --since 7d -o copies.csv /var/log/fleet/osquery_result*': "a Fleet server's result log of yours",
};

/** `osfleet …` command lines of the README: ```sh blocks (continuations joined, comments cut) and the command table. */
function examples(readme: string): string[] {
  const out: string[] = [];
  for (const block of readme.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const lines = block[1]!.replace(/\\\n\s*/g, '').split('\n');
    for (const line of lines) {
      const m = /^(?:printf .*\| )?(osfleet .*?)(?:\s+#.*)?$/.exec(line.trim());
      if (m) out.push(m[1]!.replace(/^printf .*\| /, '').trim());
    }
  }
  const table = readme.slice(readme.indexOf('## Commands'), readme.indexOf('### Live queries'));
  for (const line of table.split('\n')) {
    if (!line.startsWith('| `')) continue;
    const cell = line.split(' | ')[2] ?? '';
    for (const m of cell.matchAll(/`(osfleet [^`]+)`/g)) out.push(m[1]!.replace(/ > \S+$/, ''));
  }
  return [...new Set(out)];
}

const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
const all = examples(readme);
const runnable = all.filter((c) => !(c in SKIP) && !/^osfleet config set --token-stdin/.test(c));

describe("the README's examples against the sandbox", () => {
  let fleet: CliFleet;
  let scratch: string;
  beforeAll(async () => {
    fleet = await startCliFleet({ dialect: 'fleet', offline: 0 });
    scratch = mkdtempSync(path.join(tmpdir(), 'osfleet-readme-'));
  });
  afterAll(async () => {
    await fleet?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('every skipped example is still in the README, with its reason', () => {
    for (const c of Object.keys(SKIP)) expect(all, c).toContain(c);
    expect(runnable.length).toBeGreaterThan(10);
  });

  // The apply examples first, so the queries and labels the others name exist.
  const ordered = [...runnable.filter((c) => c.startsWith('osfleet apply')), ...runnable.filter((c) => !c.startsWith('osfleet apply'))];
  it.each(ordered)('%s', async (command) => {
    const [, ...args] = shellWords(command);
    const r = await runCli(args, { env: fleet.env, cwd: scratch, timeoutMs: 90_000 });
    // A dry run with --detailed-exitcode says 2 when the sandbox differs from the files: both are the example working.
    const ok = command.includes('--detailed-exitcode') ? [0, 2] : [0];
    expect(ok, `${command}\n${r.stderr}`).toContain(r.code);
  }, 120_000);
});
