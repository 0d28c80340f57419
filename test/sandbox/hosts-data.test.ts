/**
 * What the simulated hosts answer, without the network (answerAs): the story's two queries,
 * osquery's errors, read-only data, schema conformance and determinism.
 */
import { describe, expect, it } from 'vitest';
import { CONFIDENTIAL_PRINTED_AT, CONFIDENTIAL_TITLE, STORY_HOSTNAMES, answerAs, assignFlags } from '../../src/sandbox/hosts/index.js';
import { parseBody } from '../../src/sandbox/hosts/agent.js';
import { stringifyValue } from '../../src/sandbox/hosts/engine.js';
import { buildModel } from '../../src/sandbox/hosts/model.js';
import { createRng } from '../../src/sandbox/hosts/prng.js';
import type { SimPlatform } from '../../src/sandbox/hosts/schema.js';
import { TABLES, columnsOn } from '../../src/sandbox/hosts/schema.js';

const { windows: WIN, centos: LINUX, mac1015: PAM, mac1014: JIM } = STORY_HOSTNAMES;
const STORY: [string, SimPlatform][] = [[WIN, 'windows'], [LINUX, 'linux'], [PAM, 'darwin'], [JIM, 'darwin']];

const CUPS = 'SELECT * FROM cups_jobs;';
const COPIES =
  "SELECT action, file_events.uid, users.username, SUBSTR(target_path, 1) AS path, SUBSTR(md5, 0, 8) AS hash, time FROM file_events INNER JOIN users ON file_events.uid=users.uid WHERE sha1 <> '' AND target_path NOT LIKE '%DS_Store';";

describe("the story's two queries", () => {
  it('cups_jobs: rows on both Macs, osquery\'s "no such table" on Linux and Windows', () => {
    for (const h of [WIN, LINUX]) expect(answerAs(h, CUPS)).toEqual({ status: 1, rows: [], message: 'no such table: cups_jobs' });
    for (const h of [PAM, JIM]) {
      const a = answerAs(h, CUPS);
      expect(a.status).toBe(0);
      expect(a.message).toBe('');
      expect(a.rows.length).toBeGreaterThanOrEqual(3);
      expect(Object.keys(a.rows[0]!)).toEqual(['title', 'destination', 'user', 'format', 'size', 'completed_time', 'processing_time', 'creation_time']);
      // Every print job belongs to a real user of that host, and 2020 is the story's year.
      const users = new Set(answerAs(h, 'SELECT username FROM users').rows.map((r) => r.username));
      for (const r of a.rows) {
        expect(users.has(r.user!)).toBe(true);
        expect(new Date(Number(r.creation_time) * 1000).getUTCFullYear()).toBe(2020);
      }
    }
  });

  it('the confidential PDF was printed at 1598384396 by a real user of exactly one Mac', () => {
    const hits = [PAM, JIM].flatMap((h) => answerAs(h, CUPS).rows.filter((r) => r.title === CONFIDENTIAL_TITLE).map((r) => ({ h, r })));
    expect(hits).toHaveLength(1);
    const { h, r } = hits[0]!;
    expect(r.creation_time).toBe(String(CONFIDENTIAL_PRINTED_AT));
    expect(CONFIDENTIAL_TITLE).toBe('Financial Data \u2013 Confidential.pdf');
    expect(Number(r.processing_time)).toBeGreaterThanOrEqual(CONFIDENTIAL_PRINTED_AT);
    expect(Number(r.completed_time)).toBeGreaterThan(Number(r.processing_time));
    const user = answerAs(h, `SELECT uid FROM users WHERE username = '${r.user}'`).rows;
    expect(user).toHaveLength(1);
    expect(Number(user[0]!.uid)).toBeGreaterThanOrEqual(500);
  });

  it('file copies: joined to usernames on the Macs and the Linux server, no .DS_Store, no unhashed rows; Windows has no file_events', () => {
    expect(answerAs(WIN, COPIES)).toEqual({ status: 1, rows: [], message: 'no such table: file_events' });
    const all = new Map([LINUX, PAM, JIM].map((h) => [h, answerAs(h, COPIES)]));
    for (const [h, a] of all) {
      expect(a.status, h).toBe(0);
      expect(a.rows.length, h).toBeGreaterThanOrEqual(3);
      const users = new Map(answerAs(h, 'SELECT uid, username FROM users').rows.map((u) => [u.uid, u.username]));
      for (const r of a.rows) {
        expect(Object.keys(r)).toEqual(['action', 'uid', 'username', 'path', 'hash', 'time']);
        expect(users.get(r.uid!)).toBe(r.username);
        expect(r.path).not.toMatch(/DS_Store$/);
        expect(r.hash).toMatch(/^[0-9a-f]{7}$/);
        expect(['CREATED', 'UPDATED']).toContain(r.action);
      }
    }
    const jim = all.get(JIM)!.rows;
    const usb = jim.filter((r) => r.path === `/Volumes/KINGSTON/${CONFIDENTIAL_TITLE}`);
    const share = jim.filter((r) => r.path === `/Volumes/share/Finance/${CONFIDENTIAL_TITLE}`);
    expect(usb.length).toBeGreaterThan(0);
    expect(share).toHaveLength(1);
    // A copy carries the same content hash as the original, and follows the print job closely.
    expect(new Set([...usb, ...share].map((r) => r.hash)).size).toBe(1);
    for (const r of [...usb, ...share]) {
      expect(Number(r.time) - CONFIDENTIAL_PRINTED_AT).toBeGreaterThan(0);
      expect(Number(r.time) - CONFIDENTIAL_PRINTED_AT).toBeLessThan(3600);
    }
    expect(all.get(PAM)!.rows.some((r) => r.path!.startsWith('/Volumes/KINGSTON/'))).toBe(true);
    expect(all.get(PAM)!.rows.some((r) => r.path!.startsWith('/Volumes/share/'))).toBe(true);
    expect(all.get(LINUX)!.rows.some((r) => r.path!.startsWith('/mnt/share/'))).toBe(true);
    // The noise exists underneath and is what the WHERE clause removes.
    for (const h of [LINUX, PAM, JIM]) {
      expect(answerAs(h, "SELECT COUNT(*) AS n FROM file_events WHERE target_path LIKE '%DS_Store'").rows[0]!.n).not.toBe('0');
      expect(answerAs(h, "SELECT COUNT(*) AS n FROM file_events WHERE sha1 = '' AND hashed = 0").rows[0]!.n).not.toBe('0');
    }
  });
});

describe('osquery-shaped tables', () => {
  it.each(STORY)('%s has exactly the tables and columns of its platform', (host, platform) => {
    for (const t of TABLES) {
      const a = answerAs(host, `SELECT name FROM pragma_table_info('${t.name}')`);
      const present = t.platforms.includes(platform);
      const expected = present ? columnsOn(t, platform).map((c) => c.name) : [];
      if (['system_info', 'osquery_info', 'uptime'].includes(t.name)) {
        // Identity tables are virtual: check them through SELECT * instead.
        const row = answerAs(host, `SELECT * FROM ${t.name}`).rows[0]!;
        expect(Object.keys(row), t.name).toEqual(expected);
        continue;
      }
      expect(a.rows.map((r) => r.name), `${host} ${t.name}`).toEqual(expected);
      if (present) expect(answerAs(host, `SELECT COUNT(*) AS n FROM ${t.name}`).rows[0]!.n, `${host} ${t.name} rows`).not.toBe('0');
      else expect(answerAs(host, `SELECT * FROM ${t.name}`).message).toBe(`no such table: ${t.name}`);
    }
  });

  it('uids differ between hosts: the same uid is a different person on each Mac', () => {
    const who = (h: string, uid: number): string | undefined => answerAs(h, `SELECT username FROM users WHERE uid = ${uid}`).rows[0]?.username;
    expect(who(PAM, 501)).not.toBe(who(JIM, 501));
    expect(who(PAM, 501)).toBeDefined();
    expect(who(JIM, 501)).toBeDefined();
    const linuxUids = answerAs(LINUX, 'SELECT uid FROM users WHERE uid >= 1000 AND uid < 60000').rows.map((r) => Number(r.uid));
    expect(linuxUids.length).toBeGreaterThanOrEqual(3);
    const winUids = answerAs(WIN, "SELECT uid FROM users WHERE type = 'local' AND uid > 1000").rows.map((r) => Number(r.uid));
    expect(winUids.length).toBeGreaterThanOrEqual(2);
    // root and system accounts are there too.
    expect(who(LINUX, 0)).toBe('root');
    expect(who(PAM, 0)).toBe('root');
    expect(who(WIN, 18)).toBe('SYSTEM');
  });

  it('processes.user_time and system_time are CPU milliseconds, start_time is a date', () => {
    for (const [h] of STORY) {
      const rows = answerAs(h, 'SELECT user_time, system_time, start_time FROM processes').rows;
      expect(rows.length).toBeGreaterThanOrEqual(5);
      for (const r of rows) {
        expect(Number(r.user_time)).toBeLessThan(100_000_000);
        expect(Number(r.system_time)).toBeLessThan(100_000_000);
        expect(Number(r.start_time)).toBeGreaterThan(1_500_000_000);
      }
    }
  });

  it('label-style queries on os_version tell the platforms apart', () => {
    const darwin = "SELECT 1 FROM os_version WHERE platform = 'darwin';";
    expect(STORY.map(([h]) => answerAs(h, darwin).rows.length)).toEqual([0, 0, 1, 1]);
    expect(answerAs(LINUX, "SELECT 1 FROM os_version WHERE platform = 'centos' OR name LIKE '%centos%'").rows).toHaveLength(1);
    expect(answerAs(WIN, 'SELECT version, major FROM os_version').rows).toEqual([{ version: '10.0.19041', major: '10' }]);
  });

  it('a Kingston USB stick and the share are mounted on the Macs and the server', () => {
    for (const h of [LINUX, PAM, JIM]) {
      expect(answerAs(h, "SELECT model FROM usb_devices WHERE vendor = 'Kingston' AND removable = 1").rows).toEqual([{ model: 'DataTraveler 3.0' }]);
      const types = answerAs(h, 'SELECT type FROM mounts').rows.map((r) => r.type);
      expect(types.some((t) => ['smbfs', 'cifs', 'nfs'].includes(t!))).toBe(true);
      expect(types.some((t) => ['msdos', 'vfat', 'exfat'].includes(t!))).toBe(true);
    }
  });
});

describe('errors and read-only data', () => {
  it.each([
    ['SELEC * FROM users', 'near "SELEC": syntax error'],
    ['SELECT * FROM users WHERE', 'incomplete input'],
    ['SELECT nope FROM users', 'no such column: nope'],
    ['SELECT * FROM does_not_exist', 'no such table: does_not_exist'],
    ['SELECT 1; SELECT 2', 'The supplied SQL string contains more than one statement'],
  ])('%s → status 1, %s', (sql, message) => {
    expect(answerAs(JIM, sql)).toEqual({ status: 1, rows: [], message });
  });

  it.each([
    'DELETE FROM users',
    "INSERT INTO users (uid, username) VALUES (0, 'mallory')",
    "UPDATE cups_jobs SET title = 'x'",
    'DROP TABLE file_events',
    'CREATE TABLE t (a)',
    'PRAGMA query_only = OFF',
    "ATTACH DATABASE ':memory:' AS other",
    'BEGIN',
  ])('%s is refused and changes nothing', (sql) => {
    const before = [answerAs(JIM, 'SELECT COUNT(*) AS n FROM users'), answerAs(JIM, CUPS), answerAs(JIM, COPIES)];
    const a = answerAs(JIM, sql);
    expect(a.status).toBe(1);
    expect(a.message).toBe('attempt to write a readonly database');
    expect([answerAs(JIM, 'SELECT COUNT(*) AS n FROM users'), answerAs(JIM, CUPS), answerAs(JIM, COPIES)]).toEqual(before);
  });

  it('a runaway query is cut off by the simulated watchdog instead of hanging the sandbox', () => {
    const a = answerAs(JIM, 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c');
    expect(a).toEqual({ status: 1, rows: [], message: 'query stopped by the simulated watchdog after 100000 rows' });
    expect(answerAs(JIM, 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 5) SELECT x FROM c').rows).toHaveLength(5);
  });

  it('NULL becomes "" and numbers become their decimal text', () => {
    expect(answerAs(JIM, 'SELECT NULL AS a, 1.5 AS b, 4294967294 AS c, 9007199254740993 AS d, -2 AS e').rows).toEqual([
      { a: '', b: '1.5', c: '4294967294', d: '9007199254740993', e: '-2' },
    ]);
  });

  it('an unknown host is an error for answerAs', () => {
    expect(() => answerAs('no-such-host', 'SELECT 1')).toThrow(/no simulated host/);
  });
});

describe('determinism', () => {
  const queries = ['SELECT * FROM users', 'SELECT * FROM system_info', 'SELECT * FROM osquery_info', 'SELECT * FROM processes', 'SELECT * FROM file_events'];

  it('the same seed gives identical answers; another seed changes ids but not the story', () => {
    const a = buildModel({ seed: 42, story: true, extraHosts: 30, cacheMs: 0 });
    const b = buildModel({ seed: 42, story: true, extraHosts: 30, cacheMs: 0 });
    const c = buildModel({ seed: 43, story: true, extraHosts: 30, cacheMs: 0 });
    try {
      expect(a.hosts.map((h) => h.identity)).toEqual(b.hosts.map((h) => h.identity));
      for (let i = 0; i < a.hosts.length; i += 3) {
        for (const q of queries) expect(a.answer(a.hosts[i]!, q), `${a.hosts[i]!.identity.hostname} ${q}`).toEqual(b.answer(b.hosts[i]!, q));
      }
      expect(c.hosts[0]!.identity.hostname).toBe(a.hosts[0]!.identity.hostname);
      expect(c.hosts[0]!.identity.uuid).not.toBe(a.hosts[0]!.identity.uuid);
      const jimA = a.byName.get(JIM)!;
      const jimC = c.byName.get(JIM)!;
      expect(c.answer(jimC, CUPS)).toEqual(a.answer(jimA, CUPS));
      expect(c.answer(jimC, COPIES).rows.map((r) => r.path)).toEqual(a.answer(jimA, COPIES).rows.map((r) => r.path));
    } finally {
      a.close();
      b.close();
      c.close();
    }
  });

  it('answerAs reaches generated hosts with the same seed and size', () => {
    const m = buildModel({ seed: 5, story: true, extraHosts: 12, cacheMs: 0 });
    try {
      const h = m.hosts[10]!;
      expect(answerAs(h.identity.hostname, 'SELECT hostname FROM system_info', { seed: 5, extraHosts: 12 }).rows).toEqual([{ hostname: h.identity.hostname }]);
    } finally {
      m.close();
    }
  });

  it('the seeded PRNG repeats itself and differs between seeds', () => {
    const draw = (seed: number): number[] => {
      const r = createRng(seed);
      return Array.from({ length: 8 }, () => r.int(0, 1_000_000));
    };
    expect(draw(1)).toEqual(draw(1));
    expect(draw(1)).not.toEqual(draw(2));
    expect(createRng(3).uuid()).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/);
  });
});

describe('shared template answers', () => {
  it('caches identity-free answers per template and never caches identity tables', () => {
    let t = 1_000_000;
    const m = buildModel({ seed: 9, story: false, extraHosts: 60, cacheMs: 1000, now: () => t });
    try {
      const [x, y] = m.hosts.filter((h) => h.template === m.hosts[0]!.template);
      expect(y).toBeDefined();
      const first = m.answer(x!, 'SELECT * FROM users');
      expect(m.answer(y!, 'SELECT * FROM users')).toBe(first);
      expect(m.answer(x!, 'SELECT hostname FROM system_info').rows).toEqual([{ hostname: x!.identity.hostname }]);
      expect(m.answer(y!, 'SELECT hostname FROM system_info').rows).toEqual([{ hostname: y!.identity.hostname }]);
      t += 1001;
      const again = m.answer(y!, 'SELECT * FROM users');
      expect(again).not.toBe(first);
      expect(again).toEqual(first);
    } finally {
      m.close();
    }
  });
});

describe('pure helpers', () => {
  it.each([
    ['', {}],
    ['   ', {}],
    ['{"node_key":"k"}', { node_key: 'k' }],
    ['[1]', null],
    ['null', null],
    ['"x"', null],
    ['not json', null],
    ['{"error":"x"}', { error: 'x' }],
  ])('parseBody(%j)', (text, expected) => {
    expect(parseBody(text)).toEqual(expected);
  });

  it.each([
    [1n, '1'],
    [null, ''],
    [undefined, ''],
    [0, '0'],
    [-1.25, '-1.25'],
    ['x', 'x'],
    [Buffer.from('ab'), 'ab'],
  ])('stringifyValue(%o) = %j', (v, s) => {
    expect(stringifyValue(v)).toBe(s);
  });

  it('assignFlags: generated hosts first (from the end), then the story with the Windows desktop first', () => {
    const m = buildModel({ seed: 1, story: true, extraHosts: 3, cacheMs: 0 });
    try {
      const names = (flags: { offline: boolean; slow: boolean }[], k: 'offline' | 'slow'): string[] =>
        m.hosts.filter((_, i) => flags[i]![k]).map((h) => h.identity.hostname);
      const gen = m.hosts.slice(4).map((h) => h.identity.hostname);
      expect(names(assignFlags(m.hosts, 1, 0), 'offline')).toEqual([gen[2]]);
      expect(names(assignFlags(m.hosts, 4, 0), 'offline')).toEqual([WIN, ...gen]);
      expect(names(assignFlags(m.hosts, 5, 0), 'offline')).toEqual([WIN, LINUX, ...gen]);
      const both = assignFlags(m.hosts, 2, 2);
      expect(names(both, 'offline')).toEqual(gen.slice(1));
      expect(names(both, 'slow')).toEqual([LINUX, gen[0]]);
      expect(both.every((f) => !(f.offline && f.slow))).toBe(true);
      const story = assignFlags(m.hosts.slice(0, 4), 9, 9);
      expect(story.filter((f) => f.offline)).toHaveLength(4);
      expect(story.filter((f) => f.slow)).toHaveLength(0);
    } finally {
      m.close();
    }
  });
});
