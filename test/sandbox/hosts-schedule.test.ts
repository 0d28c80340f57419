/** Scheduled-query selection and result-log lines of the simulated hosts (pure functions). */
import { describe, expect, it } from 'vitest';
import type { SimPlatform } from '../../src/sandbox/hosts/schema.js';
import {
  calendarTime, diffRows, hostShard, logItems, platformMatches, scheduledQueries, versionAtLeast,
} from '../../src/sandbox/hosts/schedule.js';

describe('platformMatches (osquery substring rule)', () => {
  it.each<[unknown, SimPlatform, boolean]>([
    [undefined, 'windows', true],
    ['', 'linux', true],
    ['all', 'windows', true],
    ['any', 'darwin', true],
    ['darwin', 'darwin', true],
    ['darwin', 'linux', false],
    ['linux', 'linux', true],
    ['ubuntu', 'linux', true],
    ['centos', 'linux', true],
    ['posix', 'linux', true],
    ['posix', 'darwin', true],
    ['posix', 'windows', false],
    ['windows,darwin', 'darwin', true],
    ['windows,darwin', 'linux', false],
    ['gentoo', 'linux', false],
    ['whatever', 'windows', false],
    [7, 'linux', false],
  ])('%j on %s → %s', (value, platform, expected) => {
    expect(platformMatches(value, platform)).toBe(expected);
  });
});

describe('versionAtLeast', () => {
  it.each<[string, unknown, boolean]>([
    ['4.4.0', undefined, true],
    ['4.4.0', '1.4.5', true],
    ['4.4.0', '4.4.0', true],
    ['4.4.0', '4.4.1', false],
    ['5.12.1', '5.9.1', true],
    ['4.3.0', '4.10', false],
    ['5.0', '5.0.0', true],
  ])('%s ≥ %j → %s', (have, need, expected) => {
    expect(versionAtLeast(have, need)).toBe(expected);
  });
});

describe('scheduledQueries', () => {
  const mac = { hostname: 'pam-macbook-1015', platform: 'darwin' as const, osqueryVersion: '4.4.0' };
  const win = { hostname: 'dwight-win10', platform: 'windows' as const, osqueryVersion: '4.4.0' };
  const yes = (): boolean => true;

  it('reads schedule and packs, names pack queries pack_<pack>_<query>, applies the filters', () => {
    const config = {
      schedule: {
        top: { query: 'SELECT 1', interval: 60 },
        quoted: { query: 'SELECT 2', interval: '3600', snapshot: 'true', removed: false },
        no_sql: { interval: 10 },
        zero: { query: 'SELECT 3', interval: 0 },
        too_long: { query: 'SELECT 3', interval: 604801 },
        'query.reserved': { query: 'SELECT 4' },
        ends_in_counter: { query: 'SELECT 4' },
      },
      packs: {
        dlp: { platform: 'darwin', queries: { cups: { query: 'SELECT * FROM cups_jobs', interval: 3600 }, newer: { query: 'SELECT 5', version: '9.0.0' } } },
        win_only: { platform: 'windows', queries: { w: { query: 'SELECT 6' } } },
        discovered: { discovery: ['SELECT 1 FROM os_version WHERE platform = "darwin"'], queries: { d: { query: 'SELECT 7' } } },
        as_string: '/etc/osquery/packs/x.conf',
      },
    };
    expect(scheduledQueries(config, mac, yes)).toEqual([
      { name: 'top', query: 'SELECT 1', intervalS: 60, snapshot: false, removed: true },
      { name: 'quoted', query: 'SELECT 2', intervalS: 3600, snapshot: true, removed: false },
      { name: 'pack_dlp_cups', query: 'SELECT * FROM cups_jobs', intervalS: 3600, snapshot: false, removed: true },
      { name: 'pack_discovered_d', query: 'SELECT 7', intervalS: 3600, snapshot: false, removed: true },
    ]);
    expect(scheduledQueries(config, win, () => false).map((q) => q.name)).toEqual(['top', 'quoted', 'pack_win_only_w']);
  });

  it('honours pack_delimiter and shards', () => {
    const config = {
      options: { pack_delimiter: '/' },
      packs: { p: { queries: { everywhere: { query: 'SELECT 1', shard: 100 }, nowhere: { query: 'SELECT 2', shard: '0.0001' } } } },
    };
    const names = scheduledQueries(config, mac, yes).map((q) => q.name);
    expect(names).toContain('pack/p/everywhere');
    expect(names.includes('pack/p/nowhere')).toBe(hostShard(mac.hostname) <= 0.0001);
  });

  it('hostShard is the first SHA-1 byte scaled to 0–100', () => {
    const shards = ['a', 'b', 'c', 'dwight-win10', 'centos-fileserver'].map(hostShard);
    for (const s of shards) expect(s).toBeGreaterThanOrEqual(0);
    for (const s of shards) expect(s).toBeLessThanOrEqual(100);
    // sha1("a") starts with 0x86 = 134 → 134 * 100 / 255 = 52.5 → 52
    expect(hostShard('a')).toBe(52);
  });
});

describe('result lines', () => {
  it.each<[number, string]>([
    [1412123850, 'Wed Oct  1 00:37:30 2014 UTC'],
    [1462228052, 'Mon May  2 22:27:32 2016 UTC'],
    [1598384396, 'Tue Aug 25 19:39:56 2020 UTC'],
  ])('calendarTime(%d) = %s', (t, s) => {
    expect(calendarTime(t)).toBe(s);
  });

  it('diffRows treats rows as a multiset', () => {
    const a = { x: '1' };
    const b = { x: '2' };
    expect(diffRows([a, a, b], [a, b, b])).toEqual({ added: [b], removed: [a] });
    expect(diffRows([], [a])).toEqual({ added: [a], removed: [] });
    expect(diffRows([a], [a])).toEqual({ added: [], removed: [] });
  });

  it('logItems writes event-format lines, honours removed: false and snapshot', () => {
    const ctx = { hostIdentifier: 'h', unixTime: 1598384396, counter: 3, decorations: { hostname: 'h' } };
    const q = { name: 'pack_dlp_cups', query: '', intervalS: 60, snapshot: false, removed: true };
    const lines = logItems(q, [{ t: 'old' }], [{ t: 'new' }], ctx);
    expect(lines).toEqual([
      { name: 'pack_dlp_cups', hostIdentifier: 'h', calendarTime: 'Tue Aug 25 19:39:56 2020 UTC', unixTime: 1598384396, epoch: 0, counter: 3, numerics: false, decorations: { hostname: 'h' }, columns: { t: 'new' }, action: 'added' },
      { name: 'pack_dlp_cups', hostIdentifier: 'h', calendarTime: 'Tue Aug 25 19:39:56 2020 UTC', unixTime: 1598384396, epoch: 0, counter: 3, numerics: false, decorations: { hostname: 'h' }, columns: { t: 'old' }, action: 'removed' },
    ]);
    expect(logItems({ ...q, removed: false }, [{ t: 'old' }], [{ t: 'new' }], ctx).map((l) => l.action)).toEqual(['added']);
    expect(logItems({ ...q, snapshot: true }, undefined, [{ t: 'new' }], { ...ctx, decorations: undefined })).toEqual([
      { name: 'pack_dlp_cups', hostIdentifier: 'h', calendarTime: 'Tue Aug 25 19:39:56 2020 UTC', unixTime: 1598384396, epoch: 0, counter: 3, numerics: false, snapshot: [{ t: 'new' }], action: 'snapshot' },
    ]);
  });
});
