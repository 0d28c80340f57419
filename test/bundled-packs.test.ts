/** The packs shipped with osfleet are reachable by name from any folder (`-f data-leak`). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadInputs, type LoadIO } from '../src/specs/load.js';
import { repoRoot, runCli, scratchHome } from './helpers/cli.js';

describe('bundled packs by name', () => {
  it('lint -f data-leak works from a folder outside the repository and names the shipped files', async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'osfleet-elsewhere-'));
    const h = scratchHome();
    try {
      const r = await runCli(['lint', '--strict', '-f', 'data-leak'], { cwd, env: h.env });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('0 errors, 0 warnings in 4 files (11 documents)\n');
    } finally {
      rmSync(cwd, { recursive: true, force: true });
      h.cleanup();
    }
  });

  it('a path that exists wins over a bundled name; an unknown name is still "no such file"', async () => {
    const files: Record<string, string> = { 'data-leak/x.yml': 'apiVersion: v1\nkind: label\nspec:\n  name: a\n  query: select 1\n' };
    const io: LoadIO = {
      readFile: async (p) => new TextEncoder().encode(files[p] ?? ''),
      readdir: async (p) => Object.keys(files).filter((f) => f.startsWith(`${p}/`)).map((f) => f.slice(p.length + 1)),
      stat: async (p) => {
        const isDir = Object.keys(files).some((f) => f.startsWith(`${p}/`));
        if (!isDir && !(p in files)) throw Object.assign(new Error('nope'), { code: 'ENOENT' });
        return { isDirectory: () => isDir, isFile: () => !isDir };
      },
      readStdin: async () => new Uint8Array(),
      bundledPack: (name) => (name === 'data-leak' || name === 'only-bundled' ? path.join(repoRoot, 'packs/data-leak') : undefined),
    };
    const local = await loadInputs(['data-leak'], io);
    expect(local.sources).toEqual(['data-leak/x.yml']);
    const missing = await loadInputs(['no-such-pack'], io);
    expect(missing.diagnostics.map((d) => d.message)).toEqual(['cannot read: no such file or folder']);
  });
});
