/** `query` through main() with a test IO: what a person at a terminal sees versus a pipe. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli.js';
import { testIO } from '../src/io.js';
import { startCliFleet, type CliFleet } from './helpers/fleet.js';

let fleet: CliFleet;
beforeAll(async () => {
  fleet = await startCliFleet({ dialect: 'fleet' });
});
afterAll(async () => fleet?.stop());

const SQL = "SELECT title, user, creation_time FROM cups_jobs WHERE title LIKE 'Financial%'";

describe('query output follows where it goes', () => {
  it('on a terminal: a table with hosts first and readable dates, status on stderr', async () => {
    const io = testIO({ tty: true, columns: 120 });
    const code = await main(['query', '--labels', 'macOS', '--query', SQL, '--tz', 'America/Los_Angeles'], { io, env: { ...fleet.env, TZ: 'UTC' } });
    expect(code).toBe(0);
    const out = io.stdoutText();
    expect(out).not.toContain('{"host"');
    expect(out).toMatch(/host\s.*title\s.*user\s.*creation_time/);
    expect(out).toContain('jim-macbook-1014');
    expect(out).toContain('Financial Data – Confidential.pdf');
    expect(out).toContain('2020-08-25T12:39:56-07:00');
    expect(io.stderrText()).toContain('2 hosts: 1 answered (1 row), 1 empty');
  });

  it('piped: fleetctl JSON lines, raw epochs, no colour', async () => {
    const io = testIO({ tty: false });
    const code = await main(['query', '--labels', 'macOS', '--query', SQL], { io, env: fleet.env });
    expect(code).toBe(0);
    const lines = io.stdoutText().trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines.join('\n')).toContain('"creation_time":"1598384396"');
    expect(io.stdoutText() + io.stderrText()).not.toMatch(/\u001b\[/);
  });

  it('--quiet leaves stderr empty on success', async () => {
    const io = testIO({ tty: false });
    const code = await main(['query', '--labels', 'macOS', '--query', SQL, '--quiet'], { io, env: fleet.env });
    expect(code).toBe(0);
    expect(io.stderrText()).toBe('');
  });

  it('flag mistakes are usage errors (64) with one line and a hint', async () => {
    for (const args of [
      ['query', '--query', 'SELECT 1'],
      ['query', '--all'],
      ['query', '--all', '--query', 'SELECT 1', '--query-name', 'x'],
      ['query', '--all', '--query', 'SELECT 1', '--timeout', '5'],
      ['query', '--all', '--query', 'SELECT 1', '--tz', 'Mars/Olympus'],
      ['query', '--label-expr', 'macOS AND', '--query', 'SELECT 1'],
    ]) {
      const io = testIO();
      expect(await main(args, { io, env: fleet.env }), args.join(' ')).toBe(64);
      expect(io.stderrText()).toMatch(/^Error: .+\n(Hint: .+\n)?/);
    }
  });
});
