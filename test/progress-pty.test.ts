/**
 * Progress and colour under a real pseudo-terminal (test/helpers/pty-run.py): the spinner only where
 * it can be drawn (a known, non-zero width; not CI, NO_COLOR, --quiet or machine output to the
 * terminal), colour off under NO_COLOR, CI and off a terminal. A pty of 0 columns once sent the
 * spinner into an endless loop (MBs of frames, deaf to SIGTERM): each run here ends within its own
 * timeout and a ceiling on what it may draw.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { binPath, childEnv, repoRoot, runCli, scratchHome } from './helpers/cli.js';
import { startCliFleet, type CliFleet } from './helpers/fleet.js';

const PTY_RUN = path.join(repoRoot, 'test/helpers/pty-run.py');
/** What one run may draw before it counts as a runaway (exit 125). */
const MAX_BYTES = 200_000;
const HIDE_CURSOR = '\x1b[?25l'; // ora hides the cursor while it spins
const COLOUR = /\x1b\[(3\d|9\d|1)m/; // any foreground colour or bold

interface PtyResult {
  code: number | null;
  screen: string;
}

/** Runs the CLI on a pty of `columns` (stdin, stdout and stderr all on it). */
function onPty(columns: number, args: string[], env: Record<string, string | undefined>): Promise<PtyResult> {
  const child = spawn('python3', [PTY_RUN, String(columns), '20', String(MAX_BYTES), process.execPath, binPath, ...args], {
    cwd: repoRoot,
    env: childEnv({ TERM: 'xterm-256color', CI: undefined, ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let screen = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (screen += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (screen += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, screen })));
}

const QUERY = ['query', '--all', '--query', 'SELECT 1 AS one;'];

describe.concurrent('progress on a terminal', () => {
  let fleet: CliFleet;
  beforeAll(async () => {
    // One host answers 0.8 s late: long enough for a spinner to draw frames.
    fleet = await startCliFleet({ slow: 1, slowDelayMs: 800 });
  });
  afterAll(async () => fleet?.stop());

  it('a pty of 80 columns gets the spinner (and the table)', async () => {
    const r = await onPty(80, QUERY, fleet.env);
    expect(r.code, r.screen.slice(-2000)).toBe(0);
    expect(r.screen).toContain(HIDE_CURSOR);
    expect(r.screen).toContain('centos-fileserver');
  });

  it('a pty of 0 columns: no spinner, the run ends with its table', async () => {
    const r = await onPty(0, QUERY, fleet.env);
    expect(r.code, r.screen.slice(-2000)).toBe(0);
    expect(r.screen).not.toContain(HIDE_CURSOR);
    expect(r.screen).toContain('4 hosts: 4 answered (4 rows)');
    expect(r.screen.length).toBeLessThan(5000);
  });

  it.each([
    ['CI=true', { CI: 'true' }, [], false],
    ['NO_COLOR=1', { NO_COLOR: '1' }, [], false],
    ['--quiet', {}, ['--quiet'], true],
    ['--format json to the terminal', {}, ['--format', 'json'], true],
  ])('no spinner with %s', async (_name, env: Record<string, string>, extra: string[], coloured: boolean) => {
    const r = await onPty(80, [...QUERY, ...extra], { ...fleet.env, ...env });
    expect(r.code, r.screen.slice(-2000)).toBe(0);
    expect(r.screen).not.toContain(HIDE_CURSOR);
    expect(r.screen).toContain('centos-fileserver');
    // The table's and the status lines' colour follows the same rules (JSON has none).
    if (!coloured) expect(r.screen).not.toMatch(COLOUR);
  });
});

describe('colour', () => {
  const home = scratchHome();
  afterAll(() => home.cleanup());
  // `whoami` with no address configured: one red "Error:" line.
  const args = ['whoami'];

  it('on a terminal: red', async () => {
    const r = await onPty(80, args, home.env);
    expect(r.code).toBe(1);
    expect(r.screen).toMatch(COLOUR);
    expect(r.screen).toContain('no server address');
  });

  it('on a terminal with CI=true: none', async () => {
    const r = await onPty(80, args, { ...home.env, CI: 'true' });
    expect(r.code).toBe(1);
    expect(r.screen).toContain('no server address');
    expect(r.screen).not.toMatch(COLOUR);
  });

  it('off a terminal (CI unset): none', async () => {
    const r = await runCli(args, { env: { ...home.env, CI: undefined, TERM: 'xterm-256color' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no server address');
    expect(r.stderr).not.toMatch(COLOUR);
  });
});
