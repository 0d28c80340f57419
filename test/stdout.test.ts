/**
 * stdout trouble: a reader that goes away (`| head`) ends the command quietly with exit 0; a stdout
 * that cannot take the output (/dev/full: ENOSPC) is one clear error and exit 1, never a stack trace.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { binPath, childEnv, repoRoot } from './helpers/cli.js';

const dir = mkdtempSync(path.join(tmpdir(), 'osfleet-stdout-'));
const input = path.join(dir, 'results.ndjson');
beforeAll(() => {
  writeFileSync(input, Array.from({ length: 5000 }, (_, i) => JSON.stringify({ host: `h${i}`, rows: [{ a: 'x'.repeat(50), time: '1600000000' }] })).join('\n') + '\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI with stdout on `fd` (a file descriptor) or on a pipe closed after the first chunk. */
function run(args: string[], stdout: number | 'close-early'): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [binPath, ...args], {
    cwd: repoRoot,
    env: childEnv(),
    stdio: ['ignore', stdout === 'close-early' ? 'pipe' : stdout, 'pipe'],
  });
  if (stdout === 'close-early') child.stdout!.once('data', () => child.stdout!.destroy());
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

const cases = (): string[][] => [
  ['schema', '--json'],
  ['schema', '--platform', 'darwin'],
  ['export', input, '--format', 'csv'],
  ['export', input, '--format', 'ndjson'],
  ['--help'],
  ['--version'],
  ['completion', 'bash'],
];

describe.runIf(existsSync('/dev/full'))('stdout on a full device (/dev/full)', () => {
  it.each(cases())('osfleet %s %s: exit 1, one line naming ENOSPC', async (...args) => {
    const fd = openSync('/dev/full', 'w');
    try {
      const r = await run(args, fd);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('cannot write the output to stdout: no space left on device (ENOSPC)');
      expect(r.stderr).not.toMatch(/\n\s+at |unexpected failure|ERR_STREAM/);
    } finally {
      closeSync(fd);
    }
  });
});

describe('a reader that goes away (`| head`)', () => {
  it.each([['schema', '--json'], ['export', input, '--format', 'csv']])('osfleet %s %s: exit 0, nothing on stderr', async (...args) => {
    const r = await run(args, 'close-early');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
