import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  allTables,
  columnKinds,
  columnsMissingOnEach,
  columnOf,
  columnPlatforms,
  getTable,
  idKind,
  idKindInTables,
  isIdColumn,
  isLikelyGidColumnName,
  isLikelyTimeColumnName,
  isLikelyUidColumnName,
  isUidColumn,
  platformsOf,
  tablePlatforms,
  tablesMissingOn,
  tablesMissingOnEach,
  timeKind,
  timeKindInTables,
  toUnixSeconds,
  unknownTablesIn,
  unconstrainedRequired,
} from '../src/schema/index.js';
import type { Platform, TimeKind } from '../src/schema/index.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const osqueryMd = readFileSync(path.resolve(repoRoot, 'test/fixtures/upstream/osquery.md'), 'utf8');

describe('lookups', () => {
  it('finds tables case-insensitively and nothing else', () => {
    expect(getTable('processes')?.name).toBe('processes');
    expect(getTable('PROCESSES')?.name).toBe('processes');
    expect(getTable(' Users ')?.name).toBe('users');
    expect(getTable('no_such_table')).toBeUndefined();
    expect(getTable('constructor')).toBeUndefined();
    expect(getTable('__proto__')).toBeUndefined();
    expect(getTable(undefined as unknown as string)).toBeUndefined();
  });

  it('parses a table once, at its first lookup: every lookup and the list hand out the same object', () => {
    const first = getTable('cups_jobs');
    expect(first?.columns.map((c) => c.name)).toContain('completed_time');
    expect(getTable('CUPS_JOBS')).toBe(first);
    expect(allTables().find((t) => t.name === 'cups_jobs')).toBe(first);
  });

  it('lists every table once, sorted, and hands out copies', () => {
    const names = allTables().map((t) => t.name);
    expect(names).toEqual([...names].sort());
    expect(new Set(names).size).toBe(names.length);
    expect(names.length).toBeGreaterThanOrEqual(285);
    allTables().pop();
    expect(allTables().length).toBe(names.length);
  });

  it('knows platforms of tables and columns', () => {
    expect(tablePlatforms('cups_jobs')).toEqual(['darwin']);
    expect(tablePlatforms('file_events')).toEqual(['darwin', 'linux']);
    expect(tablePlatforms('processes')).toEqual(['darwin', 'linux', 'windows']);
    expect(tablePlatforms('bitlocker_info')).toEqual(['windows']);
    expect(tablePlatforms('nope')).toBeUndefined();
    expect(columnPlatforms('processes', 'elapsed_time')).toEqual(['windows']);
    expect(columnPlatforms('processes', 'pid')).toEqual(['darwin', 'linux', 'windows']);
    expect(columnPlatforms('processes', 'nope')).toBeUndefined();
  });

  it('marks every *_events table evented, and only those (osquery_events is a status table)', () => {
    for (const t of allTables()) {
      const expected = t.name.endsWith('_events') && t.name !== 'osquery_events';
      expect(`${t.name}:${Boolean(t.evented)}`).toBe(`${t.name}:${expected}`);
    }
  });

  it('has at least the tables osquery.md names in §4 and the brief asks for', () => {
    for (const name of [
      'processes', 'users', 'groups', 'listening_ports', 'process_open_sockets', 'system_info', 'os_version', 'osquery_info',
      'apps', 'programs', 'deb_packages', 'rpm_packages', 'kernel_info', 'uptime', 'crontab', 'startup_items', 'launchd',
      'services', 'scheduled_tasks', 'certificates', 'chrome_extensions', 'firefox_addons', 'browser_plugins', 'etc_hosts',
      'interface_addresses', 'routes', 'arp_cache', 'dns_resolvers', 'mounts', 'block_devices', 'disk_encryption',
      'bitlocker_info', 'logical_drives', 'usb_devices', 'file', 'hash', 'file_events', 'process_events', 'socket_events',
      'user_events', 'shell_history', 'last', 'logged_in_users', 'logon_sessions', 'sudoers', 'authorized_keys', 'ssh_configs',
      'known_hosts', 'kernel_extensions', 'kernel_modules', 'sip_config', 'gatekeeper', 'alf', 'windows_security_center',
      'patches', 'windows_update_history', 'time', 'osquery_schedule', 'osquery_packs', 'osquery_flags', 'system_controls',
      'shadow', 'docker_containers', 'docker_images', 'cups_jobs', 'vscode_extensions', 'prometheus_metrics', 'unified_log',
      'prefetch', 'dns_lookup_events', 'process_etw_events', 'asl', 'quicklook_cache', 'secureboot_certificates',
      'gatekeeper_approved_apps', 'docker_container_processes', 'es_process_file_events', 'process_file_events',
      'ntfs_journal_events', 'powershell_events', 'disk_events',
    ]) {
      expect(getTable(name), name).toBeDefined();
    }
  });

  it('finds columns case-insensitively', () => {
    expect(columnOf('Processes', 'START_TIME')?.name).toBe('start_time');
    expect(columnOf('system_extensions', 'uuid')?.name).toBe('UUID');
    expect(columnOf('processes', 'nope')).toBeUndefined();
    expect(columnOf('nope', 'pid')).toBeUndefined();
  });
});

describe('time kinds (osquery.md §4.2 and the corrections of §4.4)', () => {
  it.each<[string, string, TimeKind | undefined]>([
    ['cups_jobs', 'processing_time', 'unix_seconds'],
    ['cups_jobs', 'completed_time', 'unix_seconds'],
    ['cups_jobs', 'creation_time', 'unix_seconds'],
    ['processes', 'start_time', 'unix_seconds'],
    ['processes', 'user_time', undefined],
    ['processes', 'system_time', undefined],
    ['processes', 'elapsed_time', undefined],
    ['processes', 'percent_processor_time', undefined],
    ['docker_container_processes', 'start_time', undefined],
    ['process_events', 'uptime', undefined],
    ['process_events', 'time', 'unix_seconds'],
    ['user_events', 'uptime', undefined],
    ['shadow', 'last_change', 'unix_days'],
    ['shadow', 'expire', 'unix_days'],
    ['shadow', 'max', undefined],
    ['chrome_extensions', 'install_time', 'webkit_microseconds'],
    ['chrome_extensions', 'install_timestamp', 'unix_seconds'],
    ['time', 'win_timestamp', 'windows_filetime'],
    ['time', 'unix_time', 'unix_seconds'],
    ['time', 'minutes', undefined],
    ['prometheus_metrics', 'timestamp_ms', 'unix_milliseconds'],
    ['vscode_extensions', 'installed_at', 'unix_milliseconds'],
    ['dns_lookup_events', 'time_windows', 'windows_filetime'],
    ['process_etw_events', 'time_windows', 'windows_filetime'],
    ['process_etw_events', 'datetime', 'unix_seconds'],
    ['secureboot_certificates', 'not_valid_after', 'unix_seconds'],
    ['unified_log', 'timestamp_double', 'unix_seconds'],
    ['certificates', 'not_valid_before', 'unix_seconds'],
    ['certificates', 'not_valid_after', 'unix_seconds'],
    ['quicklook_cache', 'last_hit_date', 'unix_seconds'],
    ['platform_info', 'date', undefined],
    ['rpm_packages', 'epoch', undefined],
    ['rpm_packages', 'install_time', 'unix_seconds'],
    ['authorizations', 'created', undefined],
    ['asl', 'time_nano_sec', undefined],
    ['gatekeeper_approved_apps', 'ctime', undefined],
    ['osquery_schedule', 'wall_time', undefined],
    ['osquery_schedule', 'last_executed', 'unix_seconds'],
    ['battery', 'minutes_until_empty', undefined],
    ['crontab', 'minute', undefined],
    ['file', 'btime', 'unix_seconds'],
    ['file_events', 'time', 'unix_seconds'],
    ['last', 'time', 'unix_seconds'],
    ['logged_in_users', 'time', 'unix_seconds'],
    ['os_version', 'install_date', 'unix_seconds'],
    ['osquery_info', 'start_time', 'unix_seconds'],
    ['shell_history', 'time', 'unix_seconds'],
    ['kernel_panics', 'time', undefined],
    ['users', 'uid', undefined],
    ['nope', 'time', undefined],
  ])('%s.%s → %s', (table, column, kind) => {
    expect(timeKind(table, column)).toBe(kind);
  });

  it('marks only numeric columns as points in time (two known text exceptions)', () => {
    for (const t of allTables()) {
      for (const c of t.columns) {
        if (!c.time) continue;
        // Chrome's WebKit text and unified_log's fractional-seconds text are the two text dates.
        if (c.time === 'webkit_microseconds' || `${t.name}.${c.name}` === 'unified_log.timestamp_double') expect(c.type).toBe('TEXT');
        else expect(['INTEGER', 'BIGINT', 'UNSIGNED_BIGINT', 'DOUBLE', 'DATETIME']).toContain(c.type);
      }
    }
  });

  it('never marks a duration, uptime or calendar part', () => {
    for (const t of allTables()) {
      for (const c of t.columns) {
        // The one column whose spec text says "how long" for what is really a timestamp (§4.4).
        if (!c.time || `${t.name}.${c.name}` === 'cups_jobs.processing_time') continue;
        const d = (c.description ?? '').toLowerCase();
        expect(`${t.name}.${c.name}: ${d}`).not.toMatch(/uptime|since boot|how long|spent|elapsed|duration|number of days between/);
      }
    }
  });
});

describe('id columns (osquery.md §4.3)', () => {
  it('follows the name rule everywhere', () => {
    for (const t of allTables()) {
      for (const c of t.columns) {
        const expected = isLikelyUidColumnName(c.name) ? 'uid' : isLikelyGidColumnName(c.name) ? 'gid' : undefined;
        expect(`${t.name}.${c.name}=${c.id}`).toBe(`${t.name}.${c.name}=${expected}`);
      }
    }
  });

  it.each([
    ['process_events', 'auid', 'uid'],
    ['process_events', 'owner_gid', 'gid'],
    ['process_file_events', 'fsuid', 'uid'],
    ['disk_encryption', 'uid', 'uid'],
    ['users', 'uid_signed', 'uid'],
    ['shared_memory', 'creator_uid', 'uid'],
    ['users', 'username', undefined],
    ['cups_jobs', 'user', undefined],
  ])('%s.%s → %s', (table, column, kind) => {
    expect(idKind(table, column)).toBe(kind);
    expect(isIdColumn(table, column)).toBe(kind !== undefined);
    expect(isUidColumn(table, column)).toBe(kind === 'uid');
  });
});

describe('name rules for tables osfleet does not know', () => {
  it.each([
    ['time', true],
    ['TIME', true],
    ['start_time', true],
    ['atime', true],
    ['mtime', true],
    ['ctime', true],
    ['btime', true],
    ['_time', false],
    ['timestamp', false],
    ['uptime', false],
    ['runtime', false],
    ['time_zone', false],
    ['dtime', false],
    ['', false],
  ])('time: %s → %s', (name, expected) => {
    expect(isLikelyTimeColumnName(name)).toBe(expected);
  });

  it.each([
    ['uid', true],
    ['auid', true],
    ['euid', true],
    ['suid', true],
    ['fsuid', true],
    ['ouid', true],
    ['uid_signed', true],
    ['owner_uid', true],
    ['creator_uid', true],
    ['UID', true],
    ['gid', false],
    ['uuid', false],
    ['user_uuid', false],
    ['pid', false],
  ])('uid: %s → %s', (name, expected) => {
    expect(isLikelyUidColumnName(name)).toBe(expected);
  });
});

describe('toUnixSeconds', () => {
  const T = 1714045203; // 2024-04-25T11:40:03Z
  it.each<[TimeKind, string, number | undefined]>([
    ['unix_seconds', '1714045203', T],
    ['unix_seconds', ' 1714045203 ', T],
    ['unix_seconds', '1714045203.5', T + 0.5],
    ['unix_seconds', '+1714045203', T],
    ['unix_seconds', '1.714045203e9', T],
    ['unix_milliseconds', '1714045203250', T + 0.25],
    ['unix_microseconds', '1714045203000000', T],
    ['unix_days', '19838', 19838 * 86400],
    ['windows_filetime', '133585188030000000', T],
    ['webkit_microseconds', '13358518803000000', T],
    ['cocoa_seconds', '735738003', T],
    ['cocoa_seconds', '735738003.25', T + 0.25],
    ['unix_seconds', '', undefined],
    ['unix_seconds', '   ', undefined],
    ['unix_seconds', '0', undefined],
    ['unix_seconds', '-1', undefined],
    ['unix_seconds', '-1.0', undefined],
    ['unix_milliseconds', '0', undefined],
    ['windows_filetime', '0', undefined],
    ['webkit_microseconds', '-1', undefined],
    ['unix_days', '-1', undefined],
    ['unix_seconds', 'abc', undefined],
    ['unix_seconds', '12abc', undefined],
    ['unix_seconds', '0x10', undefined],
    ['unix_seconds', 'NaN', undefined],
    ['unix_seconds', 'Infinity', undefined],
    ['unix_seconds', '1e999', undefined],
    ['unix_seconds', '2024-04-25', undefined],
    ['unix_seconds', '-86400', -86400],
  ])('%s %j → %s', (kind, raw, expected) => {
    const got = toUnixSeconds(kind, raw);
    if (expected === undefined) expect(got).toBeUndefined();
    else expect(got).toBeCloseTo(expected, 3);
  });

  it('round-trips any date between 1971 and 2100 through every kind', () => {
    const encode: Record<TimeKind, (s: number) => string> = {
      unix_seconds: (s) => String(s),
      unix_milliseconds: (s) => String(s * 1e3),
      unix_microseconds: (s) => String(s * 1e6),
      unix_days: (s) => String(s / 86400),
      windows_filetime: (s) => String((s + 11644473600) * 1e7),
      webkit_microseconds: (s) => String((s + 11644473600) * 1e6),
      cocoa_seconds: (s) => String(s - 978307200),
    };
    fc.assert(
      fc.property(fc.integer({ min: 31536000, max: 4102444800 }), fc.constantFrom(...(Object.keys(encode) as TimeKind[])), (secs, kind) => {
        const s = kind === 'unix_days' ? Math.floor(secs / 86400) * 86400 : secs;
        expect(toUnixSeconds(kind, encode[kind](s))).toBeCloseTo(s, 3);
      }),
      { numRuns: 500, seed: 1128 },
    );
  });

  it('gives undefined for an unknown kind or a non-string', () => {
    expect(toUnixSeconds('fortnights' as TimeKind, '12')).toBeUndefined();
    expect(toUnixSeconds('unix_seconds', null as unknown as string)).toBeUndefined();
  });
});

describe('platforms', () => {
  it.each<[string | undefined, 'fleet' | 'osquery' | undefined, Platform[]]>([
    ['darwin', undefined, ['darwin']],
    ['linux', undefined, ['linux']],
    ['windows', undefined, ['windows']],
    ['ubuntu', undefined, ['linux']],
    ['centos', undefined, ['linux']],
    ['rhel', undefined, ['linux']],
    ['rhel', 'osquery', []],
    ['debian', undefined, ['linux']],
    ['opensuse-leap', undefined, ['linux']],
    ['amzn', undefined, ['linux']],
    ['almalinux', 'osquery', ['linux']],
    ['ios', undefined, []],
    ['posix', undefined, ['darwin', 'linux']],
    ['any', undefined, ['darwin', 'linux', 'windows']],
    ['all', undefined, ['darwin', 'linux', 'windows']],
    ['', undefined, ['darwin', 'linux', 'windows']],
    [undefined, undefined, ['darwin', 'linux', 'windows']],
    ['windows,darwin', undefined, ['darwin', 'windows']],
    ['Darwin, Linux', undefined, ['darwin', 'linux']],
    ['linux,windows', 'osquery', ['linux', 'windows']],
    ['gentoo', 'osquery', []],
    ['whatever', undefined, []],
    ['freebsd', undefined, ['freebsd']],
    ['chrome', undefined, ['chrome']],
  ])('%j (%s) → %j', (s, mode, expected) => {
    expect(platformsOf(s, mode)).toEqual(expected);
  });

  it('reports tables missing on the targeted platforms', () => {
    expect(tablesMissingOn('SELECT * FROM cups_jobs', 'linux')).toEqual(['cups_jobs']);
    expect(tablesMissingOn('SELECT * FROM cups_jobs', 'darwin')).toEqual([]);
    expect(tablesMissingOn('SELECT * FROM cups_jobs c JOIN users u ON u.username = c.user', 'windows,darwin')).toEqual(['cups_jobs']);
    expect(tablesMissingOn('SELECT * FROM file_events JOIN users USING (uid)', 'windows')).toEqual(['file_events']);
    expect(tablesMissingOn('SELECT * FROM my_extension_table', 'linux')).toEqual([]);
    expect(tablesMissingOn('SELECT * FROM bitlocker_info', 'all')).toEqual(['bitlocker_info']);
    expect(tablesMissingOnEach('SELECT * FROM file_events, cups_jobs, processes', ['darwin', 'linux', 'windows'])).toEqual([
      { table: 'file_events', missing: ['windows'] },
      { table: 'cups_jobs', missing: ['linux', 'windows'] },
    ]);
  });

  it('reports tables it does not know', () => {
    expect(unknownTablesIn('WITH x AS (SELECT 1) SELECT * FROM x, users, procesess')).toEqual(['procesess']);
  });
});

describe('kinds for SELECT * results', () => {
  it('uses the kind the FROM tables agree on', () => {
    expect(timeKindInTables([{ name: 'users' }, { name: 'shell_history' }], 'time')).toBe('unix_seconds');
    expect(idKindInTables([{ name: 'users' }, { name: 'shell_history' }], 'uid')).toBe('uid');
    expect(timeKindInTables([{ name: 'processes' }, { name: 'docker_container_processes' }], 'start_time')).toBeUndefined();
    expect(timeKindInTables([{ name: 'processes' }], 'user_time')).toBeUndefined();
    expect(timeKindInTables([{ name: 'nope' }], 'time')).toBeUndefined();
  });
});

/** The tables of osquery.md §3 must be in the schema exactly as the note lists them. */
describe('osquery.md §3 is in the schema', () => {
  const sec = osqueryMd.slice(osqueryMd.indexOf('#### `users`'), osqueryMd.indexOf('## 4. Recognising'));
  const blocks = sec.split(/^#### /m).filter(Boolean);
  const plat = (s: string) => s.split(/,\s*/).map((p) => p.trim());
  it('has the 23 tables', () => expect(blocks.length).toBe(23));

  it.each(blocks.map((b) => [b.match(/^`([^`]+)`/)![1]!, b]))('%s', (name, block) => {
    const t = getTable(name)!;
    expect(t).toBeDefined();
    const meta = block.match(/^Platforms: \*\*([^*]+)\*\*(.*)$/m)!;
    expect([...t.platforms].sort()).toEqual(plat(meta[1]!).sort());
    expect(Boolean(t.evented)).toBe(/evented/.test(meta[2]!));
    expect(Boolean(t.userData)).toBe(/user_data/.test(meta[2]!));
    const rows = [...block.matchAll(/^\| `([^`]+)` \| (\w+) \| ([^|]+) \| ([^|]*) \| ([^|]*) \|$/gm)];
    expect(t.columns.map((c) => c.name)).toEqual(rows.map((r) => r[1]));
    for (const [, col, type, plats, kind, notes] of rows) {
      const c = columnOf(name, col!)!;
      expect(c.type).toBe(type);
      expect([...(c.platforms ?? t.platforms)].sort()).toEqual(plats!.trim() === 'all' ? [...t.platforms].sort() : plat(plats!).sort());
      const k = kind!.trim();
      expect(c.time).toBe(k === 'UNIX seconds' ? 'unix_seconds' : k.startsWith('text, WebKit') ? 'webkit_microseconds' : undefined);
      expect(c.id).toBe(k.startsWith('uid') ? 'uid' : k.startsWith('gid') ? 'gid' : undefined);
      expect(Boolean(c.hidden)).toBe(/\bhidden\b/.test(notes!));
      expect(Boolean(c.required)).toBe(/\brequired\b/.test(notes!));
    }
  });
});

describe('generated data', () => {
  it('is what the table files under src/schema/data produce', async () => {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(process.execPath, ['src/schema/data/generate.mjs', '--check'], { cwd: repoRoot, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('columnKinds', () => {
  it.each<[string, string, Record<string, unknown>]>([
    ["SELECT action, file_events.uid, users.username, SUBSTR(md5, 0, 8) AS hash, time FROM file_events JOIN users ON file_events.uid = users.uid", 'time', { table: 'file_events', column: 'time', time: 'unix_seconds' }],
    ["SELECT action, file_events.uid, users.username, time FROM file_events JOIN users ON file_events.uid = users.uid", 'uid', { table: 'file_events', column: 'uid', id: 'uid' }],
    ['SELECT action, file_events.uid, users.username FROM file_events JOIN users ON file_events.uid = users.uid', 'username', { table: 'users', column: 'username' }],
    ['SELECT creation_time AS printed FROM cups_jobs', 'printed', { table: 'cups_jobs', column: 'creation_time', time: 'unix_seconds' }],
    ['SELECT user_time FROM processes', 'user_time', { table: 'processes', column: 'user_time' }],
    ['SELECT * FROM users JOIN shell_history USING (uid)', 'time', { time: 'unix_seconds' }],
    ['SELECT * FROM users JOIN shell_history USING (uid)', 'uid', { id: 'uid' }],
    ['SELECT * FROM users JOIN shell_history USING (uid)', 'command', {}],
    ['SELECT * FROM shadow', 'last_change', { time: 'unix_days' }],
    ['SELECT * FROM docker_container_processes', 'start_time', {}],
    ['SELECT count(*) AS uid FROM users', 'uid', {}],
    ['SELECT max(time) AS newest FROM shell_history', 'newest', {}],
    ['SELECT * FROM my_extension_table', 'start_time', { time: 'unix_seconds', guessed: true }],
    ['SELECT * FROM my_extension_table', 'owner_uid', { id: 'uid', guessed: true }],
    ['SELECT * FROM my_extension_table', 'egid', { id: 'gid', guessed: true }],
    ['SELECT * FROM my_extension_table', 'name', {}],
    ['SELECT * FROM my_extension_table JOIN users USING (uid)', 'uid', { id: 'uid' }],
    ['SELECT x.time FROM my_extension_table x', 'time', { time: 'unix_seconds', guessed: true }],
    ['SELECT * FROM processes', 'uptime', {}],
  ])('%s: %s', (sql, name, expected) => {
    expect(columnKinds(sql)(name)).toEqual(expected);
  });

  it('matches row keys case-insensitively and remembers answers', () => {
    const kinds = columnKinds('SELECT Time FROM last');
    expect(kinds('time')).toEqual({ table: 'last', column: 'time', time: 'unix_seconds' });
    expect(kinds('time')).toBe(kinds('time'));
  });
});

describe('columnsMissingOnEach', () => {
  it.each<[string, Platform[], Array<{ table: string; column: string; missing: Platform[] }>]>([
    ['SELECT pid, elapsed_time FROM processes', ['linux', 'windows'], [{ table: 'processes', column: 'elapsed_time', missing: ['linux'] }]],
    ['SELECT pid FROM processes WHERE cgroup_path LIKE \'/docker%\' ORDER BY upid', ['darwin', 'linux', 'windows'], [
      { table: 'processes', column: 'cgroup_path', missing: ['darwin', 'windows'] },
      { table: 'processes', column: 'upid', missing: ['linux', 'windows'] },
    ]],
    ['SELECT p.elevated_token FROM processes p', ['windows'], []],
    ['SELECT p.elevated_token, u.type FROM processes p JOIN users u USING (uid)', ['darwin'], [
      { table: 'processes', column: 'elevated_token', missing: ['darwin'] },
      { table: 'users', column: 'type', missing: ['darwin'] },
    ]],
    // `type` is in both tables; unqualified it cannot be attributed.
    ['SELECT type FROM users, file', ['linux'], []],
    ['SELECT count(*) AS elapsed_time FROM file_events', ['linux'], []],
    ['SELECT * FROM processes', ['linux'], []],
    ['SELECT x.elapsed_time FROM my_table x', ['linux'], []],
    ['SELECT elapsed_time FROM processes', [], []],
    ['SELECT pid AS upid FROM processes', ['linux'], []],
  ])('%s %j', (sql, platforms, expected) => {
    expect(columnsMissingOnEach(sql, platforms)).toEqual(expected);
  });
});

describe('unconstrainedRequired', () => {
  it.each<[string, Array<{ table: string; alias?: string; required: string[] }>]>([
    ['SELECT * FROM file', [{ table: 'file', required: ['path', 'directory'] }]],
    ["SELECT * FROM file WHERE path = '/etc/passwd'", []],
    ["SELECT * FROM file WHERE directory LIKE '/Users/%/Downloads/%'", []],
    ["SELECT * FROM file f WHERE f.path = '/etc/hosts'", []],
    ["SELECT h.sha256 FROM processes p JOIN hash h ON h.path = p.path", []],
    ['SELECT h.sha256, path FROM processes p JOIN hash h', [{ table: 'hash', alias: 'h', required: ['path', 'directory'] }]],
    ["SELECT key, value FROM plist p, (SELECT * FROM users) u WHERE p.path = u.directory || '/Library/x.plist'", []],
    ['SELECT * FROM curl', [{ table: 'curl', required: ['url'] }]],
    ["SELECT * FROM curl WHERE url = 'https://example.com'", []],
    ['SELECT * FROM processes', []],
    ['SELECT * FROM my_table', []],
  ])('%s', (sql, expected) => {
    expect(unconstrainedRequired(sql)).toEqual(expected);
  });

  it('finds nothing to complain about in the official packs', () => {
    for (const file of ['incident-response.conf', 'it-compliance.conf', 'osquery-monitoring.conf']) {
      const text = readFileSync(path.resolve(repoRoot, 'test/fixtures/upstream/osquery-packs', file), 'utf8')
        .split('\n')
        .filter((l) => !/^\s*(#|\/\/)/.test(l))
        .join('\n');
      const pack = JSON.parse(text) as { queries: Record<string, { query: string }> };
      for (const q of Object.values(pack.queries)) expect([q.query, unconstrainedRequired(q.query)]).toEqual([q.query, []]);
    }
  });
});
