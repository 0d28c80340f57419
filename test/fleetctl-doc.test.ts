/**
 * docs/fleetctl.md stays true (issue 22.9): every row of its table whose last column says `run` has
 * its osfleet command(s) run, in the table's order, through the built CLI against a FleetDM sandbox
 * with the story's hosts; each must exit 0, or the code the row names (`run, exit 64`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot, runCli } from './helpers/cli.js';
import { startCliFleet, type CliFleet } from './helpers/fleet.js';
import { shellWords } from './helpers/shell.js';

interface Row {
  fleetctl: string;
  commands: string[];
  exit: number;
}

function tableRows(markdown: string): Row[] {
  const section = markdown.slice(markdown.indexOf('## Commands and flags'), markdown.indexOf('## Deliberate differences'));
  const rows: Row[] = [];
  for (const line of section.split('\n')) {
    if (!line.startsWith('| ') || line.startsWith('| ---') || line.startsWith('| fleetctl |')) continue;
    const cells = line.slice(2, -2).split(' | ');
    expect(cells, line).toHaveLength(4);
    const [fleetctl, osfleet, checked] = [cells[0]!, cells[2]!, cells[3]!];
    // Every row says whether it is run, and if not, why.
    expect(checked, line).toMatch(/^(run(, exit \d+)?(: `osfleet [^`]+`)?|not run: .+)$/);
    if (!checked.startsWith('run')) continue;
    const own = /^run[^:]*: `(osfleet [^`]+)`/.exec(checked)?.[1];
    const commands = own ? [own] : [...osfleet.matchAll(/`(osfleet [^`]+)`/g)].map((m) => m[1]!);
    expect(commands.length, line).toBeGreaterThan(0);
    rows.push({ fleetctl, commands, exit: Number(/exit (\d+)/.exec(checked)?.[1] ?? 0) });
  }
  return rows;
}

const rows = tableRows(readFileSync(path.join(repoRoot, 'docs/fleetctl.md'), 'utf8'));

describe('docs/fleetctl.md: every osfleet command of its table works against the sandbox', () => {
  let fleet: CliFleet;
  beforeAll(async () => {
    fleet = await startCliFleet({ dialect: 'fleet', offline: 0 });
  });
  afterAll(async () => {
    await fleet?.stop();
  });

  it('the table has rows for both generations and most are run', () => {
    expect(rows.length).toBeGreaterThan(25);
  });

  it('shellWords splits as a shell does', () => {
    expect(shellWords(`osfleet query --query 'SELECT 1;' --x "a b" ''`)).toEqual(['osfleet', 'query', '--query', 'SELECT 1;', '--x', 'a b', '']);
  });

  // In order: later rows read what earlier ones applied.
  it.each(rows.flatMap((r) => r.commands.map((c) => [c, r.exit] as const)))('%s (exit %i)', async (command, exit) => {
    const [, ...args] = shellWords(command);
    const r = await runCli(args, { env: fleet.env, timeoutMs: 60_000 });
    expect(r.code, `${command}\n${r.stderr}`).toBe(exit);
  }, 90_000);
});
