import Database from 'better-sqlite3';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { run as runLint } from '../src/commands/lint.js';
import { createContext } from '../src/context.js';
import { testIO } from '../src/io.js';
import * as schema from '../src/schema/index.js';
import { formatDiagnostic, sortDiagnostics } from '../src/specs/diagnostics.js';
import { hasFilePaths, lint, lintSources, osqueryPlatforms, sqlPos } from '../src/specs/lint.js';
import { loadInputs, nodeLoadIO } from '../src/specs/load.js';
import { parseDocuments } from '../src/specs/parse.js';
import { createSqlChecker } from '../src/specs/sql-check.js';
import type { OptionsSpec } from '../src/specs/types.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = path.join(repoRoot, 'test/fixtures');
const sql = createSqlChecker(Database, schema);
afterAll(() => sql.close());
const env = { schema, sql };

function ctxFor(io = testIO(), cwd = repoRoot) {
  return createContext({ io, env: {}, globals: { debug: false, color: false }, signal: new AbortController().signal, cwd });
}

const lintText = (text: string, source = 'x.yml') => lintSources([{ source, text }], env).diagnostics.map(formatDiagnostic);

describe('bad-input corpus', async () => {
  const expected = JSON.parse(await fsp.readFile(path.join(fixtures, 'bad-specs/expected.json'), 'utf8')) as Record<string, string[]>;
  const entries = Object.entries(expected);

  it('has at least 25 inputs, each with at least one error', () => {
    expect(entries.length).toBeGreaterThanOrEqual(25);
    for (const [, lines] of entries) expect(lines.some((l) => l.includes(': error: '))).toBe(true);
  });

  it('lists every input in the folder', async () => {
    const onDisk = (await fsp.readdir(path.join(fixtures, 'bad-specs'))).filter((n) => n !== 'expected.json').map((n) => `bad-specs/${n}`);
    const listed = new Set(Object.keys(expected));
    for (const f of onDisk) expect(listed.has(f), f).toBe(true);
  });

  it.each(entries)('%s', async (input, lines) => {
    const loaded = await loadInputs([input], nodeLoadIO(fixtures, () => process.stdin, fsp));
    const report = lintSources(loaded.inputs, env);
    const got = sortDiagnostics([...loaded.diagnostics, ...report.diagnostics], loaded.sources).map(formatDiagnostic);
    expect(got).toEqual(lines);
  });

  it('the lint command exits 1 on every input and prints the diagnostics', async () => {
    for (const [input, lines] of entries) {
      const io = testIO();
      const code = await runLint({ file: [input], format: 'text' }, ctxFor(io, fixtures));
      expect(code, input).toBe(1);
      expect(io.stdoutText()).toBe(lines.map((l) => l + '\n').join(''));
    }
  });
});

describe('packs/', () => {
  it('lints clean, even under --strict', async () => {
    const io = testIO();
    const code = await runLint({ file: ['packs/'], strict: true, format: 'json' }, ctxFor(io));
    const out = JSON.parse(io.stdoutText());
    expect(out.diagnostics).toEqual([]);
    expect(out).toMatchObject({ files: 4, documents: 11, errors: 0, warnings: 0 });
    expect(code).toBe(0);
  });

  it('schedules every query it defines, on platforms that have their tables', async () => {
    const loaded = await loadInputs(['packs/data-leak'], nodeLoadIO(repoRoot, () => process.stdin, fsp));
    const docs = loaded.inputs.flatMap((i) => parseDocuments(i.text, i.source).docs);
    const queries = docs.filter((d) => d.kind === 'query').map((d) => d.spec.name as string);
    const pack = docs.find((d) => d.kind === 'pack');
    expect(pack?.kind).toBe('pack');
    if (pack?.kind !== 'pack') return;
    expect(pack.spec.queries.map((q) => q.query).sort()).toEqual([...queries].sort());
    expect(pack.spec.targets?.labels).toEqual(['data-leak-macos', 'data-leak-linux', 'data-leak-windows']);
    for (const q of pack.spec.queries) expect(q.interval).toBeGreaterThanOrEqual(60);
  });

  it('is warning-free about file events only because options.yml is there', async () => {
    const loaded = await loadInputs(['packs/data-leak/queries.yml'], nodeLoadIO(repoRoot, () => process.stdin, fsp));
    const lines = lintSources(loaded.inputs, env).diagnostics.map(formatDiagnostic);
    expect(lines.filter((l) => l.includes('file_events'))).toEqual([
      'packs/data-leak/queries.yml:22:10: warning: query "data-leak-file-copies" reads file_events, but no options document in these files configures file_paths: the table stays empty',
      'packs/data-leak/queries.yml:39:10: warning: query "data-leak-document-activity" reads file_events, but no options document in these files configures file_paths: the table stays empty',
    ]);
  });
});

describe('SQL checks', () => {
  it('names the file, line and column of a syntax error inside a block scalar', () => {
    const text = ['apiVersion: v1', 'kind: query', 'spec:', '  name: q', '  query: |', '    SELECT uid', '    FROM users', '    WHERE uid = = 1;', ''].join('\n');
    expect(lintText(text, 'dir/q.yml')).toEqual(['dir/q.yml:8:17: error: query "q": near "=": syntax error']);
  });

  it('keeps SQL positions right after a byte-order mark', () => {
    expect(lintText('\uFEFFkind: query\nspec:\n  name: q\n  query: SELECT nope FROM users\n')).toEqual(['x.yml:4:17: error: query "q": no such column: nope']);
  });

  it('finds a token in a folded, single- and double-quoted scalar', () => {
    const mk = (q: string) => `kind: query\nspec:\n  name: q\n  query: ${q}\n`;
    expect(lintText(mk("'SELECT nope FROM users'"))).toEqual(['x.yml:4:18: error: query "q": no such column: nope']);
    expect(lintText(mk('"SELECT uid FROM users WHERE nope = 1"'))).toEqual(['x.yml:4:39: error: query "q": no such column: nope']);
    expect(lintText('kind: query\nspec:\n  name: q\n  query: >\n    SELECT uid\n    FROM users u\n    JOIN users v USING (nope);\n')).toEqual([
      'x.yml:7:25: error: query "q": cannot join using column nope - column not present in both tables',
    ]);
  });

  it.each([
    ['SELECT * FROM users', [], ['users']],
    ['SELECT u.username FROM users u JOIN file_events f ON f.uid = u.uid', [], ['file_events', 'users']],
    ['WITH x AS (SELECT uid FROM users) SELECT * FROM x', [], ['users']],
    ['SELECT regex_match(path, "x", 0), split(path, "/", 1) FROM mounts', ['warning double-quoted-string', 'warning double-quoted-string'], ['mounts']],
    ['SELECT frobnicate(1) FROM users', ['warning unknown-function'], ['users']],
    ['SELECT * FROM my_extension_table', ['warning unknown-table'], []],
    ['SELECT whatever FROM my_extension_table', ['warning unknown-table'], []],
    ['SELECT nope FROM users', ['error unknown-column'], []],
    ['SELECT FROM users', ['error sql-syntax'], []],
    ['SELECT 1 FROM users WHERE', ['error sql-syntax'], []],
    ['UPDATE users SET uid = 0', ['error not-a-select'], []],
    ['SELECT 1; SELECT 2', ['warning multiple-statements'], []],
  ])('%s', (text, issues, tables) => {
    const r = sql.check(text);
    expect(r.issues.map((i) => `${i.severity} ${i.code}`)).toEqual(issues);
    expect([...r.reads.keys()].sort()).toEqual(tables);
  });

  it('reads the exact columns a statement uses, through aliases', () => {
    const r = sql.check('SELECT f.target_path, u.username AS who FROM file_events f LEFT JOIN users u ON u.uid = f.uid');
    expect([...(r.reads.get('file_events') ?? [])].sort()).toEqual(['target_path', 'uid']);
    expect([...(r.reads.get('users') ?? [])].sort()).toEqual(['uid', 'username']);
  });

  it('leaves no table behind after an unknown one', () => {
    sql.check('SELECT * FROM left_behind');
    expect(sql.check('SELECT * FROM left_behind').issues.map((i) => i.code)).toEqual(['unknown-table']);
  });

  // Issue 15.7: a missing table is named as missing, never as a JOIN problem; a table osquery
  // removed is told from one that never existed, with the release that removed it.
  it('names a missing table, not the JOIN that uses it', () => {
    const r = sql.check('SELECT e.name FROM users u JOIN no_such_thing e USING (uid)');
    expect(r.issues.map((i) => `${i.severity} ${i.code} ${i.message}`)).toEqual([
      'warning unknown-table unknown table "no_such_thing": osquery has no such table (not in osfleet\'s osquery schema; an extension table?)',
    ]);
  });

  it('knows removed tables, with the release that removed them', () => {
    const r = sql.check('SELECT e.name FROM users u JOIN opera_extensions e USING (uid)');
    expect(r.issues.map((i) => `${i.severity} ${i.code} ${i.message}`)).toEqual([
      "error removed-table table \"opera_extensions\" was removed from osquery in 4.7.0: use chrome_extensions (WHERE browser_type = 'opera'); the query fails on every later osquery",
    ]);
    expect(sql.check('SELECT * FROM alf_services').issues.map((i) => `${i.severity} ${i.code} ${i.message}`)).toEqual([
      'warning removed-table table "alf_services" was removed from osquery in 4.1.0: the name now reads sharing_preferences, whose columns differ (service, process and state are gone)',
    ]);
    expect(sql.check('SELECT * FROM lldp_neighbors').issues.map((i) => i.message)).toEqual([
      'table "lldp_neighbors" was removed from osquery in 5.4.0; the query fails on every later osquery',
    ]);
  });

  it('keeps warning about an unknown function on later queries', () => {
    sql.check('SELECT zork(1)');
    expect(sql.check('SELECT zork(2) FROM users').issues.map((i) => i.code)).toEqual(['unknown-function']);
  });
});

describe('lint checks beyond SQL', () => {
  const q = (name: string, sqlText: string, extra = '') => `---\nkind: query\nspec:\n  name: ${name}\n  query: ${sqlText}\n${extra}`;
  const pack = (entries: string, extra = '') => `---\nkind: pack\nspec:\n  name: p\n  targets: {labels: [All Hosts]}\n${extra}  queries:\n${entries}`;

  it.each([
    [
      'a table missing on one of the platforms',
      q('jobs', 'SELECT * FROM cups_jobs;') + pack('    - query: jobs\n      interval: 3600\n'),
      ['x.yml:12:14: warning: pack "p", query "jobs": table "cups_jobs" does not exist on linux, windows (only on darwin); set platform: darwin'],
    ],
    [
      'a table missing on every platform of the entry',
      q('jobs', 'SELECT * FROM cups_jobs;') + pack('    - query: jobs\n      interval: 3600\n      platform: windows\n'),
      ['x.yml:14:17: warning: pack "p", query "jobs": table "cups_jobs" does not exist on windows (only on darwin): the query always fails'],
    ],
    ['the pack platform narrows the entries', q('jobs', 'SELECT * FROM cups_jobs;') + pack('    - query: jobs\n      interval: 3600\n', '  platform: darwin\n'), []],
    [
      'an interval under 10 s',
      q('u', 'SELECT * FROM users;') + pack('    - query: u\n      interval: 5\n'),
      ['x.yml:13:17: warning: pack "p", query "u": interval 5 s is under 10 s (a heavy load on hosts and the server)'],
    ],
    [
      'a platform that matches no host',
      q('u', 'SELECT * FROM users;') + pack('    - query: u\n      interval: 60\n      platform: gentoo\n'),
      ['x.yml:14:17: warning: pack "p", query "u": platform "gentoo" matches no osquery host, so the query never runs'],
    ],
    [
      'a platform-specific column named on other platforms',
      q('u', 'SELECT username, type FROM users;') + q('all', 'SELECT * FROM users;') + pack('    - query: u\n      interval: 60\n    - query: all\n      interval: 60\n'),
      ['x.yml:17:14: warning: pack "p", query "u": column "users.type" exists only on windows: the query fails on darwin, linux'],
    ],
    [
      'a platform-specific column in a query with a platform',
      q('u', 'SELECT is_hidden FROM users;', '  platform: darwin,linux\n'),
      ['x.yml:5:10: warning: query "u" runs on darwin, linux, but column "users.is_hidden" exists only on darwin: the query fails on linux'],
    ],
    [
      'a table whose required column the SQL never names',
      q('h', 'SELECT md5 FROM hash;') + q('ok', "SELECT md5 FROM hash WHERE path = '/etc/hosts';"),
      ['x.yml:5:26: warning: query "h": table "hash" returns nothing unless the WHERE clause constrains path or directory'],
    ],
    [
      'a user-data table read without uid',
      q('sh', 'SELECT command FROM shell_history;') + q('ok', 'SELECT u.username, s.command FROM users u CROSS JOIN shell_history s USING (uid);'),
      [
        'x.yml:5:30: warning: query "sh": table "shell_history" returns only the data of the user osquery runs as unless uid is constrained (join users: ... FROM users CROSS JOIN shell_history USING (uid))',
      ],
    ],
    [
      'a query platform without the table',
      q('jobs', 'SELECT * FROM cups_jobs;', '  platform: windows\n'),
      ['x.yml:5:10: warning: query "jobs" runs on windows, but table "cups_jobs" exists only on darwin'],
    ],
    [
      'file_events with paths for Linux only',
      q('fe', 'SELECT * FROM file_events;') + '---\nkind: options\nspec:\n  config:\n    options: {}\n  overrides:\n    platforms:\n      ubuntu:\n        file_paths:\n          x: [/mnt/%%]\n',
      ['x.yml:5:10: warning: query "fe" reads file_events, but the options document configures no file_paths for darwin: the table stays empty'],
    ],
    [
      'file_events with paths in the base config, which macOS also gets',
      q('fe', 'SELECT * FROM file_events;') + '---\nkind: options\nspec:\n  config:\n    file_paths:\n      x: [/mnt/%%]\n',
      [],
    ],
    [
      'file_events with paths for both',
      q('fe', 'SELECT * FROM file_events;') + '---\nkind: options\nspec:\n  config:\n    file_paths:\n      x: [/mnt/%%]\n  overrides:\n    platforms:\n      darwin:\n        file_paths:\n          v: [/Volumes/%%]\n',
      [],
    ],
  ])('%s', (_name, text, lines) => {
    expect(lintText(text)).toEqual(lines);
  });

  it('checks decorator SQL of options, base and overrides, at its position', () => {
    const text = [
      'kind: options',
      'spec:',
      '  config:',
      '    decorators:',
      '      load:',
      '        - SELECT uuid AS host_uuid FROM system_info;',
      '        - SELECT nope FROM system_info;',
      '  overrides:',
      '    platforms:',
      '      darwin:',
      '        decorators:',
      '          interval:',
      '            3600: SELECT total_seconds FROM uptime WHERE;',
      '',
    ].join('\n');
    expect(lintText(text)).toEqual([
      'x.yml:7:18: error: options: decorator config.decorators.load.1: no such column: nope',
      'x.yml:13:57: error: options: decorator overrides.platforms.darwin.decorators.interval.3600: near ";": syntax error',
    ]);
  });

  it.each([
    [undefined, undefined],
    ['', undefined],
    ['all', undefined],
    ['darwin', ['darwin']],
    ['posix', ['darwin', 'linux']],
    ['windows,darwin', ['darwin', 'windows']],
    ['ubuntu', ['linux']],
    ['centos', ['linux']],
    ['gentoo', []],
  ])('osqueryPlatforms(%s)', (value, want) => {
    expect(osqueryPlatforms(value)?.sort()).toEqual(want);
  });

  it.each([
    [undefined, 'darwin', false],
    [{ config: { file_paths: { a: ['/x/%%'] } } }, 'darwin', true],
    [{ config: { file_paths: { a: [] } } }, 'linux', false],
    [{ config: { file_paths: { a: ['/x'] } }, overrides: { platforms: { darwin: { options: {} } } } }, 'darwin', false],
    [{ config: {}, overrides: { platforms: { ubuntu: { file_paths: { a: ['/x'] } } } } }, 'linux', true],
    [{ config: {}, overrides: { platforms: { darwin: { file_paths: { a: ['/x'] } } } } }, 'linux', false],
  ] as Array<[OptionsSpec | undefined, 'darwin' | 'linux', boolean]>)('hasFilePaths %#', (options, platform, want) => {
    expect(hasFilePaths(options, platform)).toBe(want);
  });

  it('maps an offset to the same token in the file, counting repeats', () => {
    const text = 'kind: query\nspec:\n  name: q\n  query: |\n    SELECT a, a\n    FROM t;\n';
    const doc = parseDocuments(text, 'f.yml').docs[0]!;
    const sqlText = 'SELECT a, a\nFROM t;\n';
    expect(sqlPos(doc, 'query', sqlText, 7)).toEqual({ line: 5, col: 12 });
    expect(sqlPos(doc, 'query', sqlText, 10)).toEqual({ line: 5, col: 15 });
    expect(sqlPos(doc, 'query', sqlText, 12)).toEqual({ line: 6, col: 5 });
    expect(sqlPos(doc, 'query', sqlText, sqlText.length)).toEqual({ line: 6, col: 12 });
  });

  it('does not report the same SQL problem twice', () => {
    const docs = parseDocuments(q('a', 'SELECT nope FROM users;'), 'x.yml').docs;
    expect(lint(docs, env)).toHaveLength(1);
  });
});

describe('lint command', () => {
  it('prints compiler-style lines on stdout and a summary on stderr', async () => {
    const io = testIO();
    const code = await runLint({ file: ['bad-specs/37-sql-unknown-column.yml', 'bad-specs/07-no-spec.yml'], format: 'text' }, ctxFor(io, fixtures));
    expect(code).toBe(1);
    expect(io.stdoutText()).toBe(
      [
        'bad-specs/37-sql-unknown-column.yml:5:24: error: query "print_jobs": no such column: printer',
        'bad-specs/07-no-spec.yml:1:1: error: no spec field on "query" document',
        'bad-specs/07-no-spec.yml:3:1: warning: unknown top-level field "metadata"',
        '',
      ].join('\n'),
    );
    expect(io.stderrText()).toBe('2 errors, 1 warning in 2 files (1 document)\n');
  });

  it('exits 0 on warnings, 1 under --strict, with the warnings turned into errors', async () => {
    const text = 'kind: query\nspec:\n  name: q\n  query: SELECT * FROM users;\n  descriptoin: typo\n';
    const ok = testIO({ stdin: text });
    expect(await runLint({ file: ['-'], format: 'text' }, ctxFor(ok))).toBe(0);
    expect(ok.stdoutText()).toBe('<stdin>:5:3: warning: query "q": unknown field "descriptoin" is ignored (did you mean "description"?)\n');
    const strict = testIO({ stdin: text });
    expect(await runLint({ file: ['-'], strict: true, format: 'json' }, ctxFor(strict))).toBe(1);
    const out = JSON.parse(strict.stdoutText());
    expect(out).toMatchObject({ errors: 1, warnings: 0, files: 1, documents: 1 });
    expect(out.diagnostics[0]).toEqual({
      source: '<stdin>',
      line: 5,
      col: 3,
      severity: 'error',
      code: 'unknown-field',
      message: 'query "q": unknown field "descriptoin" is ignored (did you mean "description"?)',
    });
  });

  it('refuses to run without a path', async () => {
    await expect(runLint({ file: [], format: 'text' }, ctxFor())).rejects.toMatchObject({ exitCode: 64 });
  });

  it("validates Kolide's example clean; lint finds the example's own SQL mistakes", async () => {
    const io = testIO();
    const code = await runLint({ file: ['test/fixtures/upstream/fleet/kolide-config-single-file.yml'], format: 'json' }, ctxFor(io));
    const out = JSON.parse(io.stdoutText()) as { diagnostics: Array<{ severity: string; code: string; line: number; message: string }> };
    const errors = out.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.line} ${d.code} ${d.message}`);
    // The labels' `query` holds a query *name*, not SQL, and system_info has no instance_id column.
    expect(errors).toEqual([
      '89 sql-syntax label "pending_updates": near "pending_updates": syntax error',
      '97 sql-syntax label "slack_not_running": near "slack_not_running": syntax error',
      '180 unknown-column query "instance_id": no such column: instance_id',
    ]);
    expect(code).toBe(1);
  });
});
