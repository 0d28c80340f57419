/**
 * Bounded input (issues 16.3, 21.2): every reader has a ceiling checked before the memory is spent.
 * Each stdin reader gets /dev/zero in a child whose heap is capped at 256 MB: it must refuse the
 * input, name the ceiling, and end by itself (the collect timeout is the only clock here).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { binPath, childEnv, collect, repoRoot, runCli, scratchHome } from '../helpers/cli.js';
import { startCliFleet, type CliFleet } from '../helpers/fleet.js';

let dir: string;
const home = scratchHome();
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'osfleet-limits-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  home.cleanup();
});

/** Runs the CLI with /dev/zero as stdin and a 256 MB heap. */
async function fromDevZero(args: string[]) {
  const fd = openSync('/dev/zero', 'r');
  try {
    const child = spawn(process.execPath, ['--max-old-space-size=256', binPath, ...args], {
      cwd: repoRoot,
      env: childEnv({ ...home.env, FLEET_URL: 'http://127.0.0.1:9' }),
      stdio: [fd, 'pipe', 'pipe'],
    });
    return await collect(child, { writesStdin: true, timeoutMs: 30_000 });
  } finally {
    closeSync(fd);
  }
}

describe('/dev/zero into each stdin reader, 256 MB heap: refused with the ceiling named', () => {
  it.each([
    [['lint', '-f', '-'], /larger than 8 MiB, the ceiling for spec input \(raise it with OSFLEET_MAX_SPEC_BYTES/],
    [['apply', '-f', '-', '--dry-run'], /larger than 8 MiB, the ceiling for spec input/],
    [['delete', '-f', '-', '--yes'], /larger than 8 MiB, the ceiling for spec input/],
    [['convert', '-f', '-'], /stdin: more than 8 MiB, the ceiling for spec input[\s\S]*OSFLEET_MAX_SPEC_BYTES/],
    [['config', 'set', '--token-stdin'], /stdin: more than 4 KiB, the ceiling for a secret on stdin/],
    [['login', '--email', 'a@example.com', '--password-stdin'], /stdin: more than 4 KiB, the ceiling for a secret on stdin/],
    [['setup', '--address', 'http://127.0.0.1:9', '--email', 'a@example.com', '--name', 'A', '--password-stdin'], /stdin: more than 4 KiB/],
    [['export'], /more than 64 MiB without a newline: not query results[\s\S]*64 MiB is the ceiling for one NDJSON line; raise it with OSFLEET_MAX_LINE_BYTES/],
  ])('%j', async (args, message) => {
    const r = await fromDevZero(args);
    expect(r.stdout + r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/heap|please report/i);
    expect(r.code).toBe(1);
  });
});

describe('ceilings on files and flags', () => {
  it('a spec file over the size ceiling is refused before it is read (the variable raises it)', async () => {
    const big = path.join(dir, 'big.yml');
    writeFileSync(big, `# ${'x'.repeat(2048)}\n`);
    const r = await runCli(['lint', big], { env: { ...home.env, OSFLEET_MAX_SPEC_BYTES: '1024' } });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain(`${big}:1:1: error: cannot read: larger than 1 KiB, the ceiling for spec input (raise it with OSFLEET_MAX_SPEC_BYTES=<bytes>)`);
    const ok = await runCli(['lint', big], { env: { ...home.env, OSFLEET_MAX_SPEC_BYTES: '4096' } });
    expect(ok.stdout + ok.stderr).not.toContain('ceiling');
  });

  it('more documents than the ceiling in one file: one error, nothing parsed', async () => {
    const many = path.join(dir, 'many.yml');
    writeFileSync(many, 'apiVersion: v1\nkind: query\nspec:\n  name: q\n  query: SELECT 1;\n---\n'.repeat(11));
    const r = await runCli(['lint', many], { env: { ...home.env, OSFLEET_MAX_SPEC_DOCUMENTS: '10' } });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain('more than 10 documents, the ceiling for documents in one spec file (raise it with OSFLEET_MAX_SPEC_DOCUMENTS=<number>)');
  });

  it('preview --hosts past the ceiling is a usage error, not a heap crash', async () => {
    const r = await runCli(['preview', '--hosts', '1000000000', '--port', '0'], { env: home.env });
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('--hosts: 1000000000 is more than 200,000, the ceiling for generated hosts in preview');
  });

  it('a bad ceiling variable is named', async () => {
    const r = await runCli(['lint', '-f', '-'], { env: { ...home.env, OSFLEET_MAX_SPEC_BYTES: 'lots' }, stdin: '' });
    expect(r.stderr).toContain('OSFLEET_MAX_SPEC_BYTES="lots" is not a positive whole number');
  });
});

describe('query --hosts', () => {
  let fleet: CliFleet;
  beforeAll(async () => {
    fleet = await startCliFleet({ dialect: 'fleet' });
  });
  afterAll(async () => fleet?.stop());

  it('thousands of unknown names: the first five and a count, not the whole list', async () => {
    const names = Array.from({ length: 3000 }, (_, i) => `nosuch-${i}`);
    const r = await runCli(['query', '--hosts', names.join(','), '--query', 'SELECT 1'], { env: fleet.env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('unknown hosts: nosuch-0, nosuch-1, nosuch-2, nosuch-3, nosuch-4 and 2,995 more');
    expect(r.stderr.length).toBeLessThan(1000);
  });

  it('more names than the ceiling: refused before any request', async () => {
    const names = Array.from({ length: 11 }, (_, i) => `h${i}`);
    const r = await runCli(['query', '--hosts', names.join(','), '--query', 'SELECT 1'], { env: { ...fleet.env, OSFLEET_MAX_HOSTS_FLAG: '10' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--hosts: more than 10, the ceiling for names in --hosts');
    expect(r.stderr).toContain('OSFLEET_MAX_HOSTS_FLAG');
  });
});
