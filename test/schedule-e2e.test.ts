/**
 * Scheduled results end to end, through the real CLI against the sandbox: the data-leak pack applied,
 * the simulated hosts run it (3600× faster: an hourly query every second) and the sandbox writes
 * Fleet's result log; `export` turns the log into CSV with dates and usernames; `report` reads the
 * server's query report. Waits on the sandbox's result events, never on time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ResultEvent } from '../src/sandbox/index.js';
import { repoRoot, runCli } from './helpers/cli.js';
import { startCliFleet, type CliFleet } from './helpers/fleet.js';

let fleet: CliFleet;
let dir: string;
let log: string;
const cli = (args: string[]) => runCli(args, { env: fleet.env, timeoutMs: 90_000 });

/** Resolves once the result lines sent so far satisfy `done`. */
function resultsUntil(done: (seen: ResultEvent[]) => boolean): Promise<ResultEvent[]> {
  const seen: ResultEvent[] = [];
  return new Promise((resolve) => {
    const off = fleet.sandbox.onResults((e) => {
      seen.push(e);
      if (done(seen)) {
        off();
        resolve(seen);
      }
    });
  });
}

const names = (seen: ResultEvent[], host: string) => new Set(seen.filter((e) => e.host === host).flatMap((e) => e.items.map((i) => `${i['name']}:${i['action']}`)));

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'osfleet-sched-'));
  log = path.join(dir, 'osquery_result');
  fleet = await startCliFleet({ resultLog: log, timeFactor: 3600 });
  const applied = await cli(['apply', '-f', path.join(repoRoot, 'packs/data-leak')]);
  expect(applied.code, applied.stderr).toBe(0);
  // jim's Mac printed and copied the confidential PDF; the snapshot of sessions comes hourly (every second here).
  await resultsUntil((seen) => {
    const jim = names(seen, 'jim-macbook-1014');
    return jim.has('pack/data-leak/data-leak-print-jobs:added') && jim.has('pack/data-leak/data-leak-file-copies:added') && jim.has('pack/data-leak/data-leak-logged-in-users:snapshot');
  });
}, 120_000);

afterAll(async () => {
  await fleet?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the sandbox runs schedules and writes the result log', () => {
  it('writes one JSON object per line, named pack/<pack>/<query>, as the hosts sent them', () => {
    const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const jim = lines.filter((l) => l.hostIdentifier === 'jim-macbook-1014');
    expect(jim.some((l) => l.name === 'pack/data-leak/data-leak-print-jobs' && l.action === 'added' && typeof l.columns.title === 'string')).toBe(true);
    expect(jim.some((l) => l.name === 'pack/data-leak/data-leak-logged-in-users' && Array.isArray(l.snapshot))).toBe(true);
    for (const l of lines) expect(Object.keys(l)).toEqual(expect.arrayContaining(['name', 'hostIdentifier', 'calendarTime', 'unixTime']));
    // Windows hosts get only the sessions query of the pack (the others are darwin,linux).
    expect(lines.filter((l) => l.hostIdentifier === 'dwight-win10').every((l) => l.name === 'pack/data-leak/data-leak-logged-in-users')).toBe(true);
  });

  it('export reads it with the SQL from the server: dates, usernames, actions', async () => {
    const out = path.join(dir, 'copies.csv');
    const r = await cli(['export', '--query', 'data-leak-file-copies', '--usernames-from-server', '--tz', 'UTC', '-o', out, log]);
    expect(r.code, r.stderr).toBe(0);
    const [header, ...rows] = readFileSync(out, 'utf8').trim().split('\r\n');
    expect(header).toBe('host,log_query,log_action,log_time,time,action,category,target_path,size,sha256,uid,uid_username,owner');
    const cols = header!.split(',');
    const at = (row: string, c: string) => row.split(',')[cols.indexOf(c)];
    const kingston = rows.find((row) => row.startsWith('jim-macbook-1014,') && row.includes('/Volumes/KINGSTON/'));
    expect(kingston, rows.join('\n')).toBeDefined();
    expect(at(kingston!, 'log_action')).toBe('added');
    expect(at(kingston!, 'log_time')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
    expect(at(kingston!, 'time')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
    expect(at(kingston!, 'uid_username')).toBe(at(kingston!, 'owner'));
    expect(at(kingston!, 'uid_username')).not.toBe('');
    const manifest = JSON.parse(readFileSync(`${out}.manifest.json`, 'utf8'));
    expect(manifest.log.specs_from).toBe('server');
    expect(Object.keys(manifest.log.queries)).toEqual(['pack/data-leak/data-leak-file-copies']);
    // Counted once, though the log was read twice (hosts for the users query, then the rows).
    expect(manifest.log.queries['pack/data-leak/data-leak-file-copies']).toBe(manifest.rows);
    expect(manifest.usernames_from).toBe('server');
  });

  it('report reads the query report FleetDM keeps: each host\'s latest rows, with dates', async () => {
    const r = await cli(['report', 'data-leak-print-jobs', '--format', 'csv', '--tz', 'UTC']);
    expect(r.code, r.stderr).toBe(0);
    const [header, ...rows] = r.stdout.trim().split('\r\n');
    expect(header!.startsWith('host,last_fetched,title,')).toBe(true);
    const cols = header!.split(',');
    const jim = rows.filter((row) => row.startsWith('jim-macbook-1014,'));
    expect(jim.length).toBeGreaterThan(0);
    for (const row of jim) expect(row.split(',')[cols.indexOf('last_fetched')]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
    expect(rows.every((row) => row.startsWith('jim-macbook-1014,') || row.startsWith('pam-macbook-1015,'))).toBe(true);
    const missing = await cli(['report', 'no-such-query']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('query "no-such-query" not found');
  });
});

describe('query --resume', () => {
  it('asks again only the hosts that did not answer, appends to the output and records both campaigns', async () => {
    // Two hosts leave the network (the server sees them offline at once), then a run misses them.
    await fleet.sandbox.setHostOffline('dwight-win10', true);
    await fleet.sandbox.setHostOffline('pam-macbook-1015', true);
    const out = path.join(dir, 'users.csv');
    const first = await cli(['query', '--all', '--query', 'SELECT uid, username, directory FROM users WHERE uid IN (0, 501)', '--tz', 'UTC', '-o', out]);
    // Offline hosts are listed, not failures (exit 0); --offline-fails makes them count.
    expect(first.code, first.stderr).toBe(0);
    const before = readFileSync(out, 'utf8').trim().split('\r\n');
    expect(new Set(before.slice(1).map((l) => l.split(',')[0]))).toEqual(new Set(['centos-fileserver', 'jim-macbook-1014']));
    const m1 = JSON.parse(readFileSync(`${out}.manifest.json`, 'utf8'));
    expect(m1.hosts.filter((h: { status: string }) => h.status === 'offline').map((h: { host: string }) => h.host)).toEqual(['dwight-win10', 'pam-macbook-1015']);

    // They come back (each has checked in once when this resolves).
    await fleet.sandbox.setHostOffline('dwight-win10', false);
    await fleet.sandbox.setHostOffline('pam-macbook-1015', false);
    const again = await cli(['query', '--resume', `${out}.manifest.json`]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('asking 2 hosts again');
    const after = readFileSync(out, 'utf8').trim().split('\r\n');
    // The same header once, the earlier rows untouched and first, the new hosts' rows after them.
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.filter((l) => l.startsWith('host,')).length).toBe(1);
    expect(new Set(after.slice(before.length).map((l) => l.split(',')[0]))).toEqual(new Set(['dwight-win10', 'pam-macbook-1015']));
    const m2 = JSON.parse(readFileSync(`${out}.manifest.json`, 'utf8'));
    expect(m2.hosts.map((h: { status: string }) => h.status)).toEqual(['answered', 'answered', 'answered', 'answered']);
    expect(m2.campaigns.map((c: { hosts: string[] }) => c.hosts.length)).toEqual([4, 2]);
    expect(m2.rows).toBe(after.length - 1);
    expect(m2.output.sha256).toBe(createHash('sha256').update(readFileSync(out)).digest('hex'));
    // Nothing left to ask.
    const done = await cli(['query', '--resume', `${out}.manifest.json`]);
    expect(done.code).toBe(0);
    expect(done.stderr).toContain('Nothing to resume');
  });

  it('refuses output that changed since its manifest, and flags that would contradict it', async () => {
    const out = path.join(dir, 'r.ndjson');
    await fleet.sandbox.setHostOffline('dwight-win10', true);
    const first = await cli(['query', '--all', '--query', 'SELECT 1 AS one', '-o', out]);
    expect(first.code).toBe(0);
    await fleet.sandbox.setHostOffline('dwight-win10', false);
    writeFileSync(out, `${readFileSync(out, 'utf8')}{"host":"forged","rows":[]}\n`);
    const changed = await cli(['query', '--resume', `${out}.manifest.json`]);
    expect(changed.code).toBe(1);
    expect(changed.stderr).toContain('changed since');
    const flags = await cli(['query', '--resume', `${out}.manifest.json`, '--all']);
    expect(flags.code).toBe(64);
  });
});

describe('report on Kolide Fleet', () => {
  it('says in one line that the server keeps no reports and where the results are', async () => {
    const kolide = await startCliFleet({ dialect: 'kolide', hosts: false });
    try {
      const r = await runCli(['report', 'data-leak-print-jobs'], { env: kolide.env });
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/Kolide Fleet keeps no query reports: .*osquery_result.*osfleet export/);
      expect(r.stderr.trim().split('\n').length).toBe(1);
    } finally {
      await kolide.stop();
    }
  });
});
