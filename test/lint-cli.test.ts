// End to end: the built CLI as a child process (`npm test` builds first), for wiring and exit codes.
import { spawn } from 'node:child_process';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileCacheHome } from './helpers/cli.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function osfleet(args: string[], stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin/osfleet.js'), ...args], {
      cwd: repoRoot,
      env: { PATH: process.env['PATH'] ?? '', NO_COLOR: '1', HOME: repoRoot, XDG_CACHE_HOME: compileCacheHome },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

describe('osfleet lint and convert, end to end', () => {
  it('lints packs/ clean under --strict, paths given as arguments and -f', async () => {
    const r = await osfleet(['lint', '--strict', 'packs/data-leak/labels.yml', '-f', 'packs/data-leak']);
    expect(r).toEqual({ code: 0, stdout: '', stderr: '0 errors, 0 warnings in 4 files (11 documents)\n' });
  });

  it('exits 1 with file:line:col for invalid SQL, as JSON on request', async () => {
    const r = await osfleet(['lint', '--format', 'json', '-f', 'test/fixtures/bad-specs/36-sql-syntax-in-block.yml']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).diagnostics).toEqual([
      {
        source: 'test/fixtures/bad-specs/36-sql-syntax-in-block.yml',
        line: 10,
        col: 36,
        severity: 'error',
        code: 'sql-syntax',
        message: 'query "copies": near "AND": syntax error',
      },
    ]);
    expect(r.stderr).toBe('');
  });

  it('reads stdin with -', async () => {
    const r = await osfleet(['lint', '-f', '-'], 'kind: query\nspec:\n  name: q\n');
    expect(r).toEqual({
      code: 1,
      stdout: '<stdin>:2:1: error: query "q": missing required field "query"\n',
      stderr: '1 error, 0 warnings in 1 file (1 document)\n',
    });
  });

  it('is a usage error (64) without a path', async () => {
    const r = await osfleet(['lint']);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/lint needs at least one file or folder/);
  });

  it('converts an official pack to its golden output', async () => {
    const r = await osfleet(['convert', '-f', 'test/fixtures/upstream/osquery-packs/osquery-monitoring.conf']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(await fsp.readFile(path.join(repoRoot, 'test/fixtures/convert/osquery-monitoring.yml'), 'utf8'));
    expect(r.stderr).toMatch(/^test\/fixtures\/upstream\/osquery-packs\/osquery-monitoring\.conf:1:1: warning: pack "osquery-monitoring" has no targets/);
  });
});
