// packs/data-leak against the sandbox's simulated story hosts: each query, run as the host would run
// it, finds what the story planted (the confidential print job, the copies to USB and the share).
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { answerAs, CONFIDENTIAL_TITLE, STORY_HOSTNAMES } from '../src/sandbox/hosts/index.js';
import { parseDocuments } from '../src/specs/parse.js';
import { osqueryPlatforms } from '../src/specs/lint.js';
import type { LabelSpec, PackSpec, QuerySpec } from '../src/specs/types.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function load() {
  const docs = [];
  for (const f of ['labels.yml', 'queries.yml', 'pack.yml']) {
    const r = parseDocuments(await fsp.readFile(path.join(repoRoot, 'packs/data-leak', f), 'utf8'), f);
    docs.push(...r.docs);
  }
  return {
    labels: docs.filter((d) => d.kind === 'label').map((d) => d.spec as LabelSpec),
    queries: new Map(docs.filter((d) => d.kind === 'query').map((d) => [(d.spec as QuerySpec).name, d.spec as QuerySpec])),
    pack: docs.find((d) => d.kind === 'pack')!.spec as PackSpec,
  };
}

const HOSTS = [
  [STORY_HOSTNAMES.mac1014, 'darwin'],
  [STORY_HOSTNAMES.mac1015, 'darwin'],
  [STORY_HOSTNAMES.centos, 'linux'],
  [STORY_HOSTNAMES.windows, 'windows'],
] as const;

function run(host: string, sql: string) {
  const r = answerAs(host, sql);
  expect(r.status, `${host}: ${r.message}`).toBe(0);
  return r.rows;
}

describe('packs/data-leak on the sandbox story', async () => {
  const { labels, queries, pack } = await load();

  it.each(HOSTS)('%s is a member of exactly its platform label', (host, platform) => {
    const member = labels.filter((l) => run(host, l.query!).length > 0).map((l) => l.name);
    expect(member).toEqual([{ darwin: 'data-leak-macos', linux: 'data-leak-linux', windows: 'data-leak-windows' }[platform]]);
  });

  it.each(HOSTS)('%s answers every query the pack schedules on its platform', (host, platform) => {
    for (const entry of pack.queries) {
      const platforms = osqueryPlatforms(entry.platform);
      if (platforms && !platforms.includes(platform)) continue;
      run(host, queries.get(entry.query)!.query);
    }
  });

  it('finds the confidential print job on the Mac that printed it', () => {
    const rows = run(STORY_HOSTNAMES.mac1014, queries.get('data-leak-print-jobs')!.query);
    expect(rows.filter((r) => r['title'] === CONFIDENTIAL_TITLE)).toEqual([expect.objectContaining({ user: 'ryan', format: 'application/pdf' })]);
  });

  it('finds the copies to the USB drive and the share, with the owner by name', () => {
    const rows = run(STORY_HOSTNAMES.mac1014, queries.get('data-leak-file-copies')!.query);
    const confidential = rows.filter((r) => r['target_path']!.endsWith(CONFIDENTIAL_TITLE));
    expect(confidential.map((r) => `${r['action']} ${r['target_path']} ${r['owner']}`).sort()).toEqual([
      `CREATED /Volumes/KINGSTON/${CONFIDENTIAL_TITLE} ryan`,
      `CREATED /Volumes/share/Finance/${CONFIDENTIAL_TITLE} ryan`,
      `UPDATED /Volumes/KINGSTON/${CONFIDENTIAL_TITLE} ryan`,
    ]);
    const linux = run(STORY_HOSTNAMES.centos, queries.get('data-leak-file-copies')!.query);
    expect(linux.some((r) => r['target_path'] === '/run/media/creed/KINGSTON/payroll-2020-08.csv')).toBe(true);
  });

  it('sees the USB drive and the SMB share mounted', () => {
    const rows = run(STORY_HOSTNAMES.mac1014, queries.get('data-leak-removable-mounts')!.query);
    expect(rows.map((r) => `${r['path']} ${r['type']}`).sort()).toEqual(['/Volumes/KINGSTON msdos', '/Volumes/share smbfs']);
  });

  it('lists interactive sessions on every platform', () => {
    for (const [host] of HOSTS) expect(run(host, queries.get('data-leak-logged-in-users')!.query).length, host).toBeGreaterThan(0);
  });
});
