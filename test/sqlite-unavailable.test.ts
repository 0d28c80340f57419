/** Where SQLite cannot load, the commands that need it say so in one line; the others work. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSqlite, SqliteUnavailableError } from '../src/sqlite.js';
import { repoRoot, runCli, scratchHome } from './helpers/cli.js';

const noSqlite = ['--import', path.join(repoRoot, 'test/helpers/no-sqlite.mjs')];

describe('SQLite binding that cannot load', () => {
  it('lint, preview and demo exit 1 with one line saying what to do', async () => {
    const h = scratchHome();
    try {
      for (const [args, needer] of [
        [['lint', '-f', 'packs'], 'lint'],
        [['preview', '--port', '0'], 'preview'],
        [['demo'], 'demo'],
      ] as const) {
        const r = await runCli([...args], { env: h.env, nodeArgs: noSqlite });
        expect(r.code, r.stderr).toBe(1);
        const lines = r.stderr.trim().split('\n');
        expect(lines[0]).toMatch(new RegExp(`^Error: ${needer} needs SQLite, but its binding \\(better-sqlite3\\) could not be loaded: Could not locate the bindings file\\.$`, 'm'));
        expect(r.stderr).toMatch(/reinstall osfleet/);
        expect(r.stderr).not.toMatch(/please report|\n\s+at /);
      }
    } finally {
      h.cleanup();
    }
  });

  it('commands that need no SQLite work as they are', async () => {
    const h = scratchHome();
    try {
      const conv = await runCli(['convert', '-f', 'test/fixtures/upstream/osquery-packs/osquery-monitoring.conf'], { env: h.env, nodeArgs: noSqlite });
      expect(conv.code, conv.stderr).toBe(0);
      expect(conv.stdout).toMatch(/^---\napiVersion: v1\nkind: pack\n/m);
      const list = await runCli(['config', 'list'], { env: h.env, nodeArgs: noSqlite });
      expect(list.code, list.stderr).toBe(0);
    } finally {
      h.cleanup();
    }
  });
});

describe('loadSqlite', () => {
  it('refuses a Node.js older than 22 before touching the binding (13 crashes on 20)', async () => {
    await expect(loadSqlite('lint', 'use X', '20.20.2')).rejects.toThrow(SqliteUnavailableError);
    await expect(loadSqlite('lint', 'use X', '20.20.2')).rejects.toThrow(/lint needs SQLite, which needs Node.js 22 or later; this is Node.js 20\.20\.2/);
  });

  it('loads the real binding here', async () => {
    const Database = await loadSqlite('test');
    const db = new Database(':memory:');
    expect(db.prepare('select 1 as one').get()).toEqual({ one: 1 });
    db.close();
  });
});
