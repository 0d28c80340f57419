/** `npm run demo`'s command: the story end to end, leaving two readable CSVs and their manifests. */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli, scratchHome } from './helpers/cli.js';

const cwd = mkdtempSync(path.join(tmpdir(), 'osfleet-demo-'));
const home = scratchHome();
afterAll(() => {
  rmSync(cwd, { recursive: true, force: true });
  home.cleanup();
});

describe('osfleet demo', () => {
  it('prints the story and writes leaks-printed.csv and leaks-copied.csv with dates and usernames', async () => {
    const r = await runCli(['demo'], { cwd, env: home.env, timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Financial Data – Confidential.pdf');

    const printed = readFileSync(path.join(cwd, 'leaks-printed.csv'), 'utf8');
    // Printed by ryan on Jim's Mac at 1598384396 = 12:39:56 in Los Angeles.
    expect(printed).toMatch(/^jim-macbook-1014,.*,2020-08-25T12:39:56-07:00,HP_LaserJet_Pro_M404_Accounting,application\/pdf,.*,Financial Data – Confidential\.pdf,ryan\r?$/m);
    const copied = readFileSync(path.join(cwd, 'leaks-copied.csv'), 'utf8');
    expect(copied).toContain('jim-macbook-1014,CREATED,503,ryan,ryan,/Volumes/KINGSTON/Financial Data – Confidential.pdf');

    for (const f of ['leaks-printed.csv', 'leaks-copied.csv']) {
      const file = path.join(cwd, f);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const manifest = JSON.parse(readFileSync(`${file}.manifest.json`, 'utf8')) as { output: { sha256: string }; time_zone: string };
      expect(manifest.time_zone).toBe('America/Los_Angeles');
      expect(manifest.output.sha256).toBe(createHash('sha256').update(readFileSync(file)).digest('hex'));
    }
    // The user's own configuration is left alone.
    expect(() => statSync(home.configPath)).toThrow();
  });
});
