// src/launch.ts: the launcher's V8 code cache, one per command, keyed by the build.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildIdOf, cacheSlot, codeCacheFile, osfleetCacheHome, readOwnCache } from '../src/launch.js';
import { repoRoot, runCli, scratchHome } from './helpers/cli.js';

describe('which cache a run uses', () => {
  it('is named by the command words before the first option or argument', () => {
    expect(cacheSlot(['lint', '-f', 'packs'])).toBe('lint');
    expect(cacheSlot(['get', 'hosts', '--json'])).toBe('get-hosts');
    expect(cacheSlot(['config', 'set', 'address'])).toBe('config-set');
    expect(cacheSlot(['query', 'SELECT 1'])).toBe('query');
    expect(cacheSlot(['export', 'results.ndjson'])).toBe('export');
    expect(cacheSlot(['--debug', 'lint'])).toBe('lint');
    expect(cacheSlot(['--context', 'preview', 'query', '--all'])).toBe('query');
    expect(cacheSlot(['--config=x.yml', '--no-color', 'get', 'hosts'])).toBe('get-hosts');
    expect(cacheSlot(['--frob', 'lint'])).toBe('none');
    expect(cacheSlot([])).toBe('none');
    expect(cacheSlot(['../../etc'])).toBe('none');
  });
  it('is kept per build, Node and architecture, under XDG_CACHE_HOME, else ~/.cache, else nowhere', () => {
    expect(buildIdOf('// osfleet build 0123456789abcdef\nvar x;')).toBe('0123456789abcdef');
    expect(buildIdOf('var x;')).toBe('unknown');
    expect(osfleetCacheHome({ XDG_CACHE_HOME: '/c', HOME: '/h' })).toBe('/c/osfleet');
    expect(osfleetCacheHome({ XDG_CACHE_HOME: 'relative', HOME: '/h' })).toBe('/h/.cache/osfleet');
    expect(osfleetCacheHome({})).toBeUndefined();
    expect(codeCacheFile('/c/osfleet', 'abc', 'lint')).toBe(`/c/osfleet/code/abc-${process.version}-${process.arch}/lint.v8`);
  });
});

describe('V8 flags', () => {
  it('are set through src/v8-flags.ts alone, which the launcher undoes before it makes its cache', () => {
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(file);
        else if (file.endsWith('.ts') && !file.endsWith('v8-flags.ts') && readFileSync(file, 'utf8').includes('setFlagsFromString')) offenders.push(file);
      }
    };
    walk(path.join(repoRoot, 'src'));
    expect(offenders).toEqual([]);
  });
});

describe('the code cache, from the real launcher', () => {
  let scratch: ReturnType<typeof scratchHome>;
  let cacheHome: string;
  let lintCache: string;
  const lint = () => runCli(['lint', '-f', path.join(repoRoot, 'packs')], { env: { ...scratch.env, XDG_CACHE_HOME: cacheHome } });
  beforeAll(() => {
    scratch = scratchHome();
    cacheHome = path.join(scratch.home, 'cache');
    const buildId = buildIdOf(readFileSync(path.join(repoRoot, 'bundle/cli.cjs'), 'latin1').slice(0, 64));
    lintCache = codeCacheFile(path.join(cacheHome, 'osfleet'), buildId, 'lint');
  });
  afterAll(() => scratch.cleanup());

  it('is written, private, by the first run of a command, used by the next, and replaces other builds', async () => {
    const stale = path.join(cacheHome, 'osfleet', 'code', `0000000000000000-${process.version}-${process.arch}`);
    mkdirSync(stale, { recursive: true });
    writeFileSync(path.join(stale, 'lint.v8'), 'old');
    const first = await lint();
    expect(first.code, first.stderr).toBe(0);
    const written = statSync(lintCache);
    expect(written.size).toBeGreaterThan(100_000); // the functions lint ran, not only the top level
    expect(written.mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(lintCache)).mode & 0o777).toBe(0o700);
    expect(existsSync(stale)).toBe(false);
    // V8 took it: a refused cache is written again.
    const second = await lint();
    expect({ code: second.code, stdout: second.stdout, stderr: second.stderr }).toEqual({ code: 0, stdout: first.stdout, stderr: first.stderr });
    expect(statSync(lintCache).mtimeMs).toBe(written.mtimeMs);
    expect(statSync(lintCache).ino).toBe(written.ino);
  });

  it('one that another user could have written is not run but replaced (V8 runs what a cache holds)', async () => {
    chmodSync(lintCache, 0o664);
    expect(readOwnCache(lintCache)).toBeUndefined();
    const before = statSync(lintCache);
    const r = await lint();
    expect(r.code, r.stderr).toBe(0);
    const after = statSync(lintCache);
    expect(after.ino).not.toBe(before.ino);
    expect(after.mode & 0o777).toBe(0o600);
    expect(readOwnCache(lintCache)?.length).toBe(after.size);
    expect(readOwnCache(path.dirname(lintCache))).toBeUndefined(); // a folder is no cache
    expect(readOwnCache(path.join(path.dirname(lintCache), 'none-such.v8'))).toBeUndefined();
  });

  it('one V8 refuses (corrupt, from another Node) is replaced, and the command runs as before', async () => {
    writeFileSync(lintCache, Buffer.alloc(4096, 7));
    const r = await lint();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('0 errors');
    expect(statSync(lintCache).size).toBeGreaterThan(100_000);
    expect(readdirSync(path.dirname(lintCache)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('made after a run that changed V8 flags (export bounds its heap) is still taken by the next run', async () => {
    const input = path.join(scratch.home, 'rows.ndjson');
    writeFileSync(input, Array.from({ length: 3000 }, (_, i) => JSON.stringify({ host: `h${i}`, rows: [{ a: 'x'.repeat(50) }] })).join('\n') + '\n');
    const exportCsv = () => runCli(['export', input, '--format', 'csv'], { env: { ...scratch.env, XDG_CACHE_HOME: cacheHome } });
    const first = await exportCsv();
    expect(first.code, first.stderr).toBe(0);
    const written = statSync(path.join(path.dirname(lintCache), 'export.v8'));
    const second = await exportCsv();
    expect(second.stdout).toBe(first.stdout);
    // A cache stamped with the flags the run had set would be refused, and written again.
    expect(statSync(path.join(path.dirname(lintCache), 'export.v8')).ino).toBe(written.ino);
  });

  it('is not output: a cache that cannot be written changes nothing, and NODE_DISABLE_COMPILE_CACHE=1 writes none', async () => {
    const notADir = path.join(scratch.home, 'file');
    writeFileSync(notADir, '');
    const blocked = await runCli(['lint', '-f', path.join(repoRoot, 'packs')], { env: { ...scratch.env, XDG_CACHE_HOME: notADir } });
    expect({ code: blocked.code, stderr: blocked.stderr }).toEqual({ code: 0, stderr: expect.stringMatching(/^0 errors, 0 warnings/) });
    const off = path.join(scratch.home, 'off');
    const disabled = await runCli(['lint', '-f', path.join(repoRoot, 'packs')], { env: { ...scratch.env, XDG_CACHE_HOME: off, NODE_DISABLE_COMPILE_CACHE: '1' } });
    expect(disabled.code, disabled.stderr).toBe(0);
    expect(existsSync(off)).toBe(false);
  });
});
