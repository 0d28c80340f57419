import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import Database from 'better-sqlite3';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeOutputWith, tablesInSql, tokenize } from '../src/schema/sql.js';
import { describeOutput, getTable } from '../src/schema/index.js';
import type { TableSchema } from '../src/schema/types.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const fixtures = path.resolve(repoRoot, 'test/fixtures/upstream');

/** Every "query" of the official packs (after osquery's whole-line comment and continuation rules). */
function packQueries(): Array<{ pack: string; name: string; sql: string }> {
  const dir = path.join(fixtures, 'osquery-packs');
  const out: Array<{ pack: string; name: string; sql: string }> = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.conf')).sort()) {
    const text = readFileSync(path.join(dir, file), 'utf8')
      .replace(/\\\n/g, '')
      .split('\n')
      .filter((l) => !/^\s*(#|\/\/)/.test(l))
      .join('\n');
    const pack = JSON.parse(text) as { queries: Record<string, { query: string }> };
    for (const [name, q] of Object.entries(pack.queries)) out.push({ pack: file, name, sql: q.query });
  }
  return out;
}

const names = (sql: string) => tablesInSql(sql).map((t) => (t.alias ? `${t.name} ${t.alias}` : t.name));

describe('tablesInSql', () => {
  it.each([
    ['SELECT * FROM processes', ['processes']],
    ['select * from Processes;', ['processes']],
    ['SELECT * FROM main.processes', ['processes']],
    ['SELECT * FROM "users" u', ['users u']],
    ['SELECT * FROM `users` AS u', ['users u']],
    ['SELECT * FROM [users] AS "U"', ['users U']],
    ['SELECT * FROM users, groups', ['users', 'groups']],
    ['SELECT * FROM users u, groups AS g WHERE u.gid = g.gid', ['users u', 'groups g']],
    ['SELECT * FROM users JOIN shell_history USING (uid)', ['users', 'shell_history']],
    ['SELECT * FROM users CROSS JOIN shell_history USING (uid)', ['users', 'shell_history']],
    ['SELECT * FROM users NATURAL JOIN user_groups', ['users', 'user_groups']],
    ['SELECT * FROM a LEFT OUTER JOIN b ON a.x = b.x INNER JOIN c ON c.y = b.y, d', ['a', 'b', 'c', 'd']],
    ['SELECT * FROM file_events fe LEFT JOIN users u ON fe.uid = u.uid', ['file_events fe', 'users u']],
    ['SELECT * FROM (SELECT * FROM users) u JOIN shell_history h USING (uid)', ['users', 'shell_history h']],
    ['SELECT * FROM users WHERE uid IN (SELECT uid FROM logged_in_users)', ['users', 'logged_in_users']],
    ['SELECT (SELECT count(*) FROM groups) AS n FROM users', ['groups', 'users']],
    ['WITH recent AS (SELECT * FROM file_events) SELECT * FROM recent', ['file_events']],
    ['WITH a(x) AS (SELECT uid FROM users), b AS MATERIALIZED (SELECT * FROM a) SELECT * FROM b JOIN processes p ON p.uid = b.x', ['users', 'processes p']],
    ['WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3) SELECT i FROM n', []],
    ["SELECT 'FROM evil' AS s FROM users -- FROM comments\n/* JOIN hidden */", ['users']],
    ["SELECT * FROM users WHERE username = 'x FROM y JOIN z'", ['users']],
    ['SELECT * FROM processes UNION SELECT * FROM processes', ['processes']],
    ['SELECT uid FROM users UNION ALL SELECT gid FROM groups EXCEPT SELECT uid FROM logged_in_users INTERSECT SELECT 1 FROM last ORDER BY 1 LIMIT 3', ['users', 'groups', 'logged_in_users', 'last']],
    ['SELECT * FROM processes p1 JOIN processes p2 ON p1.parent = p2.pid', ['processes p1', 'processes p2']],
    ['SELECT * FROM json_each(\'[1]\') j, users', ['users']],
    ['SELECT * FROM users INDEXED BY idx, groups NOT INDEXED', ['users', 'groups']],
    ['SELECT * FROM (users JOIN groups USING (gid))', ['users', 'groups']],
    ['SELECT 1', []],
    ['', []],
    ['not sql at all', []],
    ['SELECT * FROM', []],
    ['SELECT * FROM users WHERE (', ['users']],
    ["SELECT * FROM users WHERE name = 'unterminated", ['users']],
    ['SELECT * FROM users; SELECT * FROM groups', ['users', 'groups']],
  ])('%s', (sql, expected) => {
    expect(names(sql)).toEqual(expected);
  });

  it('finds every table of the official packs', () => {
    const found = new Set(packQueries().flatMap((q) => tablesInSql(q.sql).map((t) => t.name)));
    expect([...found].sort()).toEqual(
      [
        'ad_config', 'alf', 'alf_exceptions', 'alf_explicit_auths', 'alf_services', 'app_schemes', 'apps', 'apt_sources',
        'arp_cache', 'block_devices', 'browser_plugins', 'chrome_extensions', 'crontab', 'deb_packages', 'disk_encryption',
        'drivers', 'etc_hosts', 'firefox_addons', 'homebrew_packages', 'iptables', 'kernel_extensions', 'kernel_info',
        'kernel_modules', 'keychain_items', 'last', 'launchd', 'listening_ports', 'logged_in_users', 'mounts', 'nfs_shares',
        'os_version', 'osquery_events', 'osquery_info', 'osquery_schedule', 'package_receipts', 'patches', 'plist',
        'portage_use', 'process_envs', 'process_memory_map', 'process_open_files', 'process_open_sockets', 'processes',
        'programs', 'rpm_packages', 'safari_extensions', 'sandboxes', 'shared_resources', 'shell_history', 'sip_config',
        'startup_items', 'suid_bin', 'system_controls', 'time', 'usb_devices', 'users', 'wifi_networks',
      ].sort(),
    );
  });

  it('never throws and returns lower-case names, whatever the input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        const r = tablesInSql(s);
        expect(Array.isArray(r)).toBe(true);
        for (const t of r) expect(t.name).toBe(t.name.toLowerCase());
      }),
      { numRuns: 300 },
    );
    const words = fc.constantFrom('SELECT', 'FROM', 'JOIN', 'WITH', 'AS', '(', ')', ',', 'users', 'u', ';', 'ON', 'USING', "'", '"', '*', '.', 'UNION', '--', '/*');
    fc.assert(
      fc.property(fc.array(words, { maxLength: 40 }), (ws) => {
        const sql = ws.join(' ');
        expect(() => tablesInSql(sql)).not.toThrow();
        expect(() => describeOutput(sql)).not.toThrow();
      }),
      { numRuns: 500 },
    );
  });

  it('copes with deep nesting without blowing the stack', () => {
    const deep = 'SELECT * FROM ' + '(SELECT * FROM '.repeat(500) + 'users' + ')'.repeat(500);
    expect(() => tablesInSql(deep)).not.toThrow();
    const parens = 'SELECT ' + '('.repeat(5000) + '1' + ')'.repeat(5000) + ' FROM users';
    expect(() => tablesInSql(parens)).not.toThrow();
  });
});

describe('tokenize', () => {
  it('drops comments and keeps strings and quoted identifiers whole', () => {
    const toks = tokenize("select \"a\"\"b\", 'it''s' -- x\n/* y */ from [t s] `u`");
    expect(toks.map((t) => [t.kind, t.text])).toEqual([
      ['id', 'select'],
      ['qid', 'a"b'],
      ['op', ','],
      ['str', "it's"],
      ['id', 'from'],
      ['qid', 't s'],
      ['qid', 'u'],
    ]);
  });
});

describe('describeOutput', () => {
  const story =
    "SELECT action, file_events.uid, users.username, SUBSTR(target_path, 1) AS path, SUBSTR(md5, 0, 8) AS hash, time FROM file_events INNER JOIN users ON file_events.uid=users.uid WHERE target_path LIKE '/Volumes/%' AND action = 'CREATED'";

  it("resolves the story's query column by column", () => {
    expect(describeOutput(story)).toEqual({
      columns: [
        { name: 'action', table: 'file_events', column: 'action' },
        { name: 'uid', table: 'file_events', column: 'uid' },
        { name: 'username', table: 'users', column: 'username' },
        { name: 'path' },
        { name: 'hash' },
        { name: 'time', table: 'file_events', column: 'time' },
      ],
      tables: [{ name: 'file_events' }, { name: 'users' }],
    });
  });

  it.each<[string, Array<[string, string?, string?]> | null]>([
    ['SELECT * FROM cups_jobs', null],
    ['SELECT u.* , h.command FROM users u JOIN shell_history h USING (uid)', null],
    ['SELECT title, creation_time AS created FROM cups_jobs', [['title', 'cups_jobs', 'title'], ['created', 'cups_jobs', 'creation_time']]],
    ['SELECT u.username user, h.time FROM users u JOIN shell_history h USING (uid)', [['user', 'users', 'username'], ['time', 'shell_history', 'time']]],
    // USING makes the shared column unambiguous (the left one); without it SQLite would refuse.
    ['SELECT uid, command FROM users JOIN shell_history USING (uid)', [['uid', 'users', 'uid'], ['command', 'shell_history', 'command']]],
    ['SELECT uid FROM users, shell_history', [['uid']]],
    ['SELECT UID, Username FROM USERS', [['uid', 'users', 'uid'], ['username', 'users', 'username']]],
    ['SELECT "time", (uid) FROM shell_history', [['time', 'shell_history', 'time'], ['uid', 'shell_history', 'uid']]],
    ['SELECT count(*), max(time) AS newest, uid + 1 FROM shell_history', [['count(*)'], ['newest'], ['uid + 1']]],
    ['SELECT datetime(time, \'unixepoch\') FROM shell_history', [["datetime(time, 'unixepoch')"]]],
    ['SELECT CASE WHEN uid = 0 THEN \'root\' ELSE \'user\' END kind FROM users', [['kind']]],
    ['SELECT no_such_column FROM users', [['no_such_column']]],
    ['SELECT x.uid FROM users', [['uid']]],
    ['SELECT custom_col FROM my_extension_table', [['custom_col']]],
    ['SELECT t FROM (SELECT time AS t FROM last)', [['t', 'last', 'time']]],
    ['SELECT s.t FROM (SELECT time AS t FROM last) s', [['t', 'last', 'time']]],
    ['SELECT username, time FROM (SELECT * FROM last)', [['username', 'last', 'username'], ['time', 'last', 'time']]],
    ['WITH j AS (SELECT creation_time FROM cups_jobs) SELECT creation_time FROM j', [['creation_time', 'cups_jobs', 'creation_time']]],
    ['SELECT time FROM shell_history UNION SELECT time FROM last', [['time', 'shell_history', 'time']]],
    ['SELECT 1', [['1']]],
    ['SELECT  1 +  2 ', [['1 +  2']]],
    // SQLite reads these keywords as names where a name is expected.
    ['SELECT start, end, offset FROM process_memory_map', [['start', 'process_memory_map', 'start'], ['end', 'process_memory_map', 'end'], ['offset', 'process_memory_map', 'offset']]],
    ['SELECT m.end, m.offset AS o FROM process_memory_map m LIMIT 2 OFFSET 1', [['end', 'process_memory_map', 'end'], ['o', 'process_memory_map', 'offset']]],
    ['SELECT match, target filter FROM iptables', [['match', 'iptables', 'match'], ['filter', 'iptables', 'target']]],
    ['SELECT CASE WHEN pid > 1 THEN 1 END FROM processes', [['CASE WHEN pid > 1 THEN 1 END']]],
    ['SELECT CASE WHEN pid > 1 THEN 1 END end FROM processes', [['end']]],
    ['SELECT DISTINCT pid, path FROM process_open_files', [['pid', 'process_open_files', 'pid'], ['path', 'process_open_files', 'path']]],
  ])('%s', (sql, expected) => {
    const out = describeOutput(sql).columns;
    if (expected === null) {
      expect(out).toBeNull();
      return;
    }
    expect(out).toEqual(
      expected.map(([name, table, column]) => ({ name, ...(table ? { table } : {}), ...(column ? { column } : {}) })),
    );
  });

  it('lists the tables the outer query reads, through subqueries and CTEs but not WHERE subqueries', () => {
    expect(describeOutput('WITH x AS (SELECT * FROM file_events) SELECT * FROM x JOIN users u USING (uid) WHERE uid IN (SELECT uid FROM groups)').tables).toEqual([
      { name: 'file_events' },
      { name: 'users', alias: 'u' },
    ]);
  });

  it('reads every arm of a compound query for its tables, and the first arm for its names', () => {
    const out = describeOutput('SELECT time AS t FROM shell_history UNION ALL SELECT time FROM last');
    expect(out.columns).toEqual([{ name: 't', table: 'shell_history', column: 'time' }]);
    expect(out.tables).toEqual([{ name: 'shell_history' }, { name: 'last' }]);
  });

  it('takes the schema as a parameter', () => {
    const custom: TableSchema = { name: 'mine', platforms: ['linux'], columns: [{ name: 'when_it_was', type: 'BIGINT' }] };
    const out = describeOutputWith('SELECT when_it_was FROM mine', (n) => (n === 'mine' ? custom : undefined));
    expect(out.columns).toEqual([{ name: 'when_it_was', table: 'mine', column: 'when_it_was' }]);
  });

  it('is empty, not an exception, for what is not a query', () => {
    expect(describeOutput('')).toEqual({ columns: null, tables: [] });
    expect(describeOutput('PRAGMA table_info(users)')).toEqual({ columns: null, tables: [] });
  });
});

/**
 * describeOutput's answer checked against SQLite's columns. With `*` somewhere, every column SQLite
 * names must come from a table we report; otherwise the names match one for one, and so do the
 * sources. Without `exactSources`, a column we give no source may be one SQLite traces to no
 * table, or to a table the schema does not know.
 */
function expectSameAsSqlite(sql: string, sqlite: Database.ColumnDefinition[], exactSources: boolean): void {
  const ours = describeOutput(sql);
  if (ours.columns === null) {
    const reported = new Set(ours.tables.map((t) => t.name));
    for (const c of sqlite) if (c.table) expect(reported).toContain(c.table);
    return;
  }
  expect(ours.columns.map((c) => c.name)).toEqual(sqlite.map((c) => c.name));
  ours.columns.forEach((c, i) => {
    const s = sqlite[i]!;
    if (exactSources) expect([c.table ?? null, c.column ?? null]).toEqual([s.table, s.column]);
    else if (c.table) expect([c.table, c.column]).toEqual([s.table, s.column]);
    else expect(s.column === null || s.table === null || !getTable(s.table)).toBe(true);
  });
}

/**
 * SQLite itself is the oracle: build the known tables in an in-memory database, prepare the query,
 * and compare SQLite's column names and origins with describeOutput's.
 */
describe('describeOutput agrees with SQLite', () => {
  const db = new Database(':memory:');
  const created = new Set<string>();
  const ensure = (sql: string) => {
    for (const t of tablesInSql(sql)) {
      const schema = getTable(t.name);
      if (!schema || created.has(schema.name)) continue;
      const cols = schema.columns.map((c) => `"${c.name}" ${c.type === 'TEXT' ? 'TEXT' : 'INTEGER'}`).join(', ');
      db.exec(`CREATE TABLE "${schema.name}" (${cols})`);
      created.add(schema.name);
    }
  };
  const extra = [
    "SELECT action, file_events.uid, users.username, SUBSTR(target_path, 1) AS path, SUBSTR(md5, 0, 8) AS hash, time FROM file_events INNER JOIN users ON file_events.uid=users.uid WHERE target_path LIKE '/Volumes/%'",
    'SELECT u.username, h.command, h.time FROM users u CROSS JOIN shell_history h USING (uid)',
    'SELECT title, user, datetime(completed_time, \'unixepoch\') AS done, creation_time FROM cups_jobs',
    'SELECT p.name, p.start_time, lp.port FROM listening_ports lp JOIN processes p ON p.pid = lp.pid',
    'WITH x AS (SELECT uid AS owner, target_path FROM file_events) SELECT owner, target_path FROM x',
    'SELECT s.t FROM (SELECT time AS t FROM last) s',
    'SELECT Username, UID FROM users',
    'SELECT uid, username FROM users JOIN user_groups USING (uid)',
    'SELECT start, end, offset, m.path FROM process_memory_map m',
    'SELECT match, target filter, CASE WHEN packets > 0 THEN 1 END end FROM iptables',
  ];
  const all = [...packQueries().map((q) => q.sql), ...extra];

  it.each(all)('%s', (sql) => {
    ensure(sql);
    expectSameAsSqlite(sql, db.prepare(sql).columns(), false);
  });
});

describe('describeOutput agrees with SQLite on generated queries', () => {
  const pool = ['processes', 'users', 'file_events', 'shell_history', 'cups_jobs', 'listening_ports', 'process_memory_map', 'time'];
  const db = new Database(':memory:');
  for (const name of pool) {
    const t = getTable(name)!;
    db.exec(`CREATE TABLE "${t.name}" (${t.columns.map((c) => `"${c.name}"`).join(', ')})`);
  }
  const quote = (n: string) => (/^[a-z_][a-z0-9_]*$/.test(n) && !['end', 'offset', 'match', 'filter', 'time'].includes(n) ? n : `"${n}"`);

  it('names and sources match for random select lists, joins, aliases and subqueries', () => {
    const table = fc.constantFrom(...pool);
    const query = fc
      .record({
        tables: fc.uniqueArray(table, { minLength: 1, maxLength: 2 }),
        aliased: fc.boolean(),
        sub: fc.boolean(),
        picks: fc.array(fc.record({ t: fc.nat(), c: fc.nat(), form: fc.constantFrom('bare', 'qualified', 'alias', 'expr', 'paren') }), { minLength: 1, maxLength: 6 }),
      })
      .map(({ tables, aliased, sub, picks }) => {
        const refs = tables.map((name, i) => ({ name, q: aliased ? `t${i}` : name }));
        const cols = picks.map(({ t, c, form }, i) => {
          const ref = refs[t % refs.length]!;
          const schema = getTable(ref.name)!;
          const col = schema.columns[c % schema.columns.length]!.name;
          const qualified = `${quote(ref.q)}.${quote(col)}`;
          switch (form) {
            case 'bare':
              return quote(col);
            case 'qualified':
              return qualified;
            case 'alias':
              return `${qualified} AS a${i}`;
            case 'paren':
              return `(${qualified})`;
            default:
              return `upper(${qualified})`;
          }
        });
        const from = refs.map((r) => (aliased ? `${quote(r.name)} ${r.q}` : quote(r.name))).join(' CROSS JOIN ');
        const inner = `SELECT ${cols.join(', ')} FROM ${from}`;
        const aliases = picks.flatMap((p, i) => (p.form === 'alias' ? [`s.a${i}`] : []));
        return sub ? `SELECT ${aliases.length > 0 ? aliases.join(', ') : '*'} FROM (${inner}) s` : inner;
      });
    fc.assert(
      fc.property(query, (sql) => {
        let sqlite: Database.ColumnDefinition[];
        try {
          sqlite = db.prepare(sql).columns();
        } catch {
          return; // ambiguous column names: SQLite refuses, nothing to compare
        }
        expectSameAsSqlite(sql, sqlite, true);
      }),
      { numRuns: 400, seed: 20261128 },
    );
  });
});
