import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createContext } from '../src/context.js';
import { testIO, type TestIO } from '../src/io.js';
import { run, type ExportOptions } from '../src/commands/export.js';
import { CliError } from '../src/errors.js';
import { repoRoot, runCli, startCli } from './helpers/cli.js';
import { startCliFleet, type CliFleet } from './helpers/fleet.js';

const FIX = path.join(repoRoot, 'test/fixtures/results');
const EVENTS = path.join(FIX, 'file_events.ndjson');
const USERS = path.join(FIX, 'users.ndjson');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'osfleet-export-test-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function exportWith(opts: Partial<ExportOptions>, io: TestIO = testIO(), signal = new AbortController().signal) {
  const ctx = createContext({ io, env: {}, globals: { debug: false, color: false }, signal, now: () => new Date('2026-01-02T03:04:05Z') });
  const code = await run({ files: [EVENTS], ...opts } as ExportOptions, ctx);
  return { code, out: io.stdoutText(), err: io.stderrText() };
}

async function exportError(opts: Partial<ExportOptions>): Promise<CliError> {
  try {
    await exportWith(opts);
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    return err as CliError;
  }
  throw new Error('expected an error');
}

describe('osfleet export (run)', () => {
  it('an input that cannot be opened leaves none of the others open (no descriptor left to the garbage collector)', async () => {
    const openFiles = () => readdirSync('/proc/self/fd').length;
    const before = openFiles();
    const err = await exportError({ files: [EVENTS, EVENTS, path.join(dir, 'missing.ndjson')] });
    expect(err.message).toMatch(/cannot read .*missing\.ndjson: no such file/);
    expect(openFiles()).toBe(before);
  });

  it('a pipeline refused before any row (--time-columns not among --sql\'s columns) leaves no input open', async () => {
    const openFiles = () => readdirSync('/proc/self/fd').length;
    const before = openFiles();
    const err = await exportError({ files: [EVENTS, EVENTS], sql: 'SELECT target_path, mtime FROM file_events', timeColumns: 'size2' });
    expect(err.message).toContain('--time-columns: size2 not in the result');
    expect(openFiles()).toBe(before);
  });

  it('turns the story into a readable CSV: dates in the zone, usernames per host, formulas neutralised', async () => {
    const r = await exportWith({ sql: 'SELECT * FROM file_events', users: USERS, tz: 'America/Los_Angeles', format: 'csv' });
    expect(r.out.split('\r\n')).toEqual([
      'host,action,atime,ctime,gid,mtime,size,target_path,time,uid,username',
      'alice-mbp,CREATED,2020-08-25T12:39:56-07:00,2020-08-25T12:39:56-07:00,20,2020-08-25T12:39:56-07:00,48213,/Volumes/KINGSTON/Q3-forecast.xlsx,2020-08-25T12:39:56-07:00,501,alice',
      'bob-mbp,CREATED,2020-08-25T12:41:40-07:00,2020-08-25T12:41:40-07:00,20,0,1024,"/Volumes/share/=HYPERLINK(""http://x"")",2020-08-25T12:41:40-07:00,501,bob',
      'bob-mbp,UPDATED,2020-08-25T12:43:20-07:00,2020-08-25T12:43:20-07:00,20,2020-08-25T12:43:20-07:00,-1,"/Users/bob/notes, draft.txt",2020-08-25T12:43:20-07:00,777,',
      '',
    ]);
    expect(r.err).toContain(`${EVENTS}:4: skipped: not JSON`);
    expect(r.err).toContain('1 uid value matched no user on their host, left empty (bob-mbp: 1)');
    // A broken line was skipped: the output is partial.
    expect(r.code).toBe(3);
  });

  it('stops at the first broken line under --strict and leaves no file', async () => {
    const out = path.join(dir, 'x.csv');
    const err = await exportError({ strict: true, output: out });
    expect(err.message).toBe(`${EVENTS}:4: not JSON (Unexpected token 'h', "this line is broken" is not valid JSON)`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('writes -o atomically (0600) with a manifest that checks the file', async () => {
    const out = path.join(dir, 'leaks.csv');
    const manifest = path.join(dir, 'leaks.csv.manifest.json');
    const r = await exportWith({ table: 'file_events', users: USERS, tz: 'Europe/Paris', timeFormat: 'long', output: out, manifest });
    expect(r.out).toBe('');
    expect(r.err).toContain(`Wrote 3 rows from 4 hosts to ${out}`);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const csv = readFileSync(out, 'utf8');
    expect(csv).toContain('alice-mbp,CREATED,"Tuesday, August 25, 2020 9:39:56 PM GMT+02:00"');
    const m = JSON.parse(readFileSync(manifest, 'utf8'));
    expect(m).toMatchObject({
      command: 'export',
      sql: null,
      tables: ['file_events'],
      time_zone: 'Europe/Paris',
      time_format: 'long',
      rows: 3,
      started_at: '2026-01-02T03:04:05.000Z',
      ended_by: 'complete',
      output: { path: out, format: 'csv', sha256: createHash('sha256').update(readFileSync(out)).digest('hex'), bytes: statSync(out).size },
      inputs: [EVENTS],
    });
    expect(m.hosts).toEqual([
      { host: 'alice-mbp', status: 'answered', rows: 1 },
      { host: 'bob-mbp', status: 'answered', rows: 2 },
      { host: 'centos7', status: 'error', rows: 0, error: 'no such table: file_events' },
      { host: 'win10', status: 'empty', rows: 0 },
    ]);
    expect(m.osfleet_version).toMatch(/^\d+\.\d+\.\d+/);
    expect(statSync(manifest).mode & 0o777).toBe(0o600);
  });

  it('reads the SQL back from a manifest (--from-manifest)', async () => {
    const manifest = path.join(dir, 'm.json');
    writeFileSync(manifest, JSON.stringify({ sql: 'SELECT target_path, mtime FROM file_events', tables: ['file_events'] }));
    const r = await exportWith({ fromManifest: manifest, tz: 'UTC', timeFormat: 'utc', format: 'csv' });
    // Issue 15.2: the SQL's columns first, in its order; the other columns the rows carry after (they
    // were dropped before).
    expect(r.out.split('\r\n').slice(0, 3).map((l) => l.split(',').slice(0, 3).join(','))).toEqual([
      'host,target_path,mtime',
      'alice-mbp,/Volumes/KINGSTON/Q3-forecast.xlsx,2020-08-25T19:39:56Z',
      'bob-mbp,"/Volumes/share/=HYPERLINK(""http://x"")",0',
    ]);
    expect(r.out.split('\r\n')[0]).toBe('host,target_path,mtime,action,atime,ctime,gid,size,time,uid');
  });

  it('keeps ndjson raw and fleetctl-compatible: valid lines come out as they went in', async () => {
    const r = await exportWith({ format: 'ndjson' });
    const valid = readFileSync(EVENTS, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{'));
    expect(r.out).toBe(valid.map((l) => `${l}\n`).join(''));
  });

  it('enriches json with --enrich and --keep-epoch, and lists host statuses', async () => {
    const r = await exportWith({ format: 'json', enrich: true, keepEpoch: true, tz: 'UTC', table: 'file_events', users: USERS });
    const doc = JSON.parse(r.out);
    expect(doc.results[0].rows[0]).toMatchObject({ time: '2020-08-25T19:39:56+00:00', time_epoch: '1598384396', uid: '501', username: 'alice' });
    expect(doc.hosts.map((h: { status: string }) => h.status)).toEqual(['answered', 'answered', 'error', 'empty']);
  });

  it('says so when a table has no rows', async () => {
    const io = testIO({ stdin: '{"host":"h","rows":[]}\n' });
    const r = await exportWith({ files: [], format: 'table' }, io);
    expect(r.out).toBe('');
    expect(r.err).toBe('No rows from 1 host.\n');
  });

  it('reads stdin when no file is given', async () => {
    const io = testIO({ stdin: '{"host":"h","rows":[{"time":"1598384396","other":"=1+1"}]}\n' });
    const r = await exportWith({ files: [], format: 'csv', tz: 'UTC', table: 'last' }, io);
    expect(r.out).toBe("host,other,time\r\nh,'=1+1,2020-08-25T19:39:56+00:00\r\n");
    expect(r.code).toBe(0);
  });

  it('refuses a users file from other hosts, leaving no output file', async () => {
    const users = path.join(dir, 'users.ndjson');
    writeFileSync(users, '{"host":"elsewhere","rows":[{"uid":"501","username":"mallory"}]}\n');
    const out = path.join(dir, 'out.csv');
    const err = await exportError({ users, output: out, table: 'file_events' });
    expect(err.message).toBe(`${users} answers for other hosts (elsewhere) than the input (alice-mbp, bob-mbp, centos7, win10)`);
    expect(readdirSync(dir)).toEqual(['users.ndjson']);
  });

  it('refuses a users file without uid and username', async () => {
    const users = path.join(dir, 'users.ndjson');
    writeFileSync(users, '{"host":"alice-mbp","rows":[{"name":"x"}]}\n');
    expect((await exportError({ users })).message).toContain('have no uid and username columns');
  });

  it.each([
    [{ tz: 'Mars/Base' }, 64, 'unknown time zone "Mars/Base"'],
    [{ timeFormat: 'rfc822' }, 64, 'unknown time format "rfc822"'],
    [{ sql: 'SELECT target_path, mtime FROM file_events', timeColumns: 'size2' }, 64, '--time-columns: size2 not in the result'],
    [{ table: 'file_events', timeColumns: 'nope' }, 1, '--time-columns: nope not in the result'],
    [{ files: ['/nonexistent/x.ndjson'] }, 1, 'cannot read /nonexistent/x.ndjson: no such file'],
    [{ output: '/nonexistent-dir/out.csv' }, 1, 'cannot write /nonexistent-dir/out.csv: no such folder'],
    [{ usernamesFromServer: true, users: USERS }, 64, '--users and --usernames-from-server cannot be used together'],
    [{ raw: true, enrich: true }, 64, '--raw and --enrich cannot be used together'],
  ])('bad input %j -> exit %d', async (opts, code, message) => {
    const err = await exportError(opts as Partial<ExportOptions>);
    expect(err.exitCode).toBe(code);
    expect(err.message).toContain(message);
  });

  it('on interrupt, closes the document and keeps every result read', async () => {
    // highWaterMark 0: the reader asks for a second chunk only after it has handled the first.
    let asks = 0;
    let askedAgain!: () => void;
    const secondAsk = new Promise<void>((resolve) => (askedAgain = resolve));
    const stdin = new Readable({
      highWaterMark: 0,
      read() {
        asks++;
        if (asks === 1) this.push('{"host":"a","rows":[{"x":"1"}]}\n{"host":"b","rows":[]}\n');
        else askedAgain();
      },
    });
    const io = testIO();
    (io as { stdin: Readable }).stdin = stdin;
    const ac = new AbortController();
    const out = path.join(dir, 'partial.json');
    const done = exportWith({ files: [], format: 'json', output: out }, io, ac.signal).catch((e: unknown) => e);
    await secondAsk;
    ac.abort();
    const err = (await done) as CliError;
    expect(err.exitCode).toBe(130);
    const doc = JSON.parse(readFileSync(out, 'utf8'));
    expect(doc.results.map((r: { host: string }) => r.host)).toEqual(['a', 'b']);
    expect(doc.hosts).toHaveLength(2);
    expect(readdirSync(dir)).toEqual(['partial.json', 'partial.json.manifest.json']) // no temporary file left;
  });
});

describe('osfleet export (built CLI)', () => {
  it('converts the fixture end to end', async () => {
    const r = await runCli(['export', EVENTS, '--format', 'csv', '--table', 'file_events', '--users', USERS, '--tz', 'America/Los_Angeles', '--keep-epoch']);
    expect(r.code).toBe(3);
    const lines = r.stdout.split('\r\n');
    expect(lines[0]).toBe('host,action,atime,atime_epoch,ctime,ctime_epoch,gid,mtime,mtime_epoch,size,target_path,time,time_epoch,uid,username');
    expect(lines[1]).toContain('2020-08-25T12:39:56-07:00,1598384396,501,alice');
    expect(r.stderr).toContain(':4: skipped');
  });

  it('exits 64 for an unknown zone before writing anything', async () => {
    const out = path.join(dir, 'never.csv');
    const r = await runCli(['export', EVENTS, '--tz', 'Nowhere/Land', '-o', out]);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('Error: unknown time zone "Nowhere/Land"');
    expect(existsSync(out)).toBe(false);
  });

  it('on SIGINT exits 130 with a valid JSON document holding what was read', async () => {
    const c2 = startCli(['export', '--format', 'json']);
    let stdout = '';
    let stderr = '';
    c2.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    c2.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const closed = new Promise<number | null>((resolve) => c2.on('close', (code) => resolve(code)));
    c2.stdin!.write('{"host":"a","rows":[{"x":"1"}]}\n');
    await new Promise<void>((resolve) => {
      const check = () => (stdout.includes('"host":"a"') ? resolve() : c2.stdout!.once('data', check));
      check();
    });
    c2.kill('SIGINT');
    expect(await closed).toBe(130);
    expect(JSON.parse(stdout)).toEqual({ results: [{ host: 'a', rows: [{ x: '1' }] }], hosts: [{ host: 'a', status: 'answered', rows: 1 }] });
    expect(stderr).toContain('interrupted');
  });
});

describe('osfleet export --usernames-from-server (sandbox)', () => {
  let fleet: CliFleet;
  beforeAll(async () => {
    fleet = await startCliFleet({ dialect: 'fleet', offline: 0 });
  });
  afterAll(async () => fleet?.stop());

  it('runs one users campaign on the hosts of the input and joins per host', async () => {
    const input = [
      { host: 'jim-macbook-1014', rows: [{ path: '/a', uid: '0' }, { path: '/b', uid: '501' }] },
      { host: 'pam-macbook-1015', rows: [{ path: '/c', uid: '501' }] },
      { host: 'ghost', rows: [{ path: '/d', uid: '0' }] },
    ]
      .map((l) => JSON.stringify(l))
      .join('\n');
    const r = await runCli(['export', '--usernames-from-server', '--table', 'file', '--format', 'csv'], { env: fleet.env, stdin: `${input}\n` });
    expect(r.stderr).toBe('Warning: no usernames for ghost: the server does not know this host\n');
    expect(r.code).toBe(0);
    // uid 501 is a different person on each Mac.
    expect(r.stdout.split('\r\n')).toEqual([
      'host,path,uid,username',
      'jim-macbook-1014,/a,0,root',
      'jim-macbook-1014,/b,501,itadmin',
      'pam-macbook-1015,/c,501,pam',
      'ghost,/d,0,',
      '',
    ]);
  });
});

describe('export: only results, only the targets (issues 15.4, 21.6)', () => {
  it('input that is not result NDJSON: exit 1 naming file and line, no output file', async () => {
    const input = path.join(dir, 'notes.txt');
    writeFileSync(input, 'hello\n{"no":"host"}\n');
    const out = path.join(dir, 'out.csv');
    const r = await runCli(['export', input, '-o', out]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`${input}:1: not query results (not JSON`);
    expect(r.stderr).toContain('nor any of its other 1 line');
    expect(readdirSync(dir)).toEqual(['notes.txt']);
  });

  it('nothing at all to read: exit 1, no output file', async () => {
    const out = path.join(dir, 'out.csv');
    const r = await runCli(['export', '--table', 'file', '-o', out], { stdin: '' });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('no query results in stdin');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('an input that cannot be read (a folder): exit 1 naming it, no output file', async () => {
    const folder = path.join(dir, 'results');
    mkdirSync(folder);
    const out = path.join(dir, 'out.csv');
    const r = await runCli(['export', folder, '-o', out]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(folder);
    expect(r.stderr).not.toContain('unexpected failure');
    expect(readdirSync(dir)).toEqual(['results']);
  });

  it("rows of hosts outside the campaign's targets (--from-manifest) are dropped and counted", async () => {
    const manifest = path.join(dir, 'q.csv.manifest.json');
    writeFileSync(manifest, JSON.stringify({ sql: 'SELECT path FROM file', tables: ['file'], hosts: [{ host: 'a', status: 'answered', rows: 1 }] }));
    const input = [
      { host: 'a', rows: [{ path: '/a' }] },
      { host: 'intruder', rows: [{ path: '/x' }, { path: '/y' }] },
    ]
      .map((l) => JSON.stringify(l))
      .join('\n');
    const out = path.join(dir, 'out.csv');
    const r = await runCli(['export', '--from-manifest', manifest, '-o', out], { stdin: `${input}\n` });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe('host,path\r\na,/a\r\n');
    expect(r.stderr).toContain(`2 rows of 1 host outside the campaign's targets (${manifest}) dropped (intruder: 2)`);
    const m = JSON.parse(readFileSync(`${out}.manifest.json`, 'utf8'));
    expect(m.outside_targets).toEqual([{ host: 'intruder', rows: 2 }]);
    expect(m.hosts.map((h: { host: string }) => h.host)).toEqual(['a']);
  });

  it('error lines become per-host statuses on stderr, exit 3, as in query', async () => {
    const input = [
      { host: 'a', rows: [{ path: '/a' }] },
      { host: 'b', rows: [], error: 'no such table: file_events' },
    ]
      .map((l) => JSON.stringify(l))
      .join('\n');
    const r = await runCli(['export', '--table', 'file', '--format', 'csv'], { stdin: `${input}\n` });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toBe('host,path\r\na,/a\r\n');
    expect(r.stderr).toBe('1 host answered with an error:\n  b  error: no such table: file_events\n');
  });
});

describe('export: columns are what hosts returned (issue 15.2)', () => {
  const rows = [
    { host: 'a', rows: [{ pid: '1', name: 'launchd', extra_col: 'x' }] },
    { host: 'b', rows: [{ pid: '2', name: 'zsh' }] },
  ]
    .map((l) => JSON.stringify(l))
    .join('\n');

  it.each(['SELECT pid ,name FROM processes', 'SELECT pid, name FROM processes', 'select   pid,name   from processes'])('%s keeps extra_col, SQL order first', async (sql) => {
    const r = await runCli(['export', '--sql', sql, '--format', 'csv'], { stdin: `${rows}\n` });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('host,pid,name,extra_col\r\na,1,launchd,x\r\nb,2,zsh,\r\n');
  });

  it('a column of the SQL that no row carries stays a column', async () => {
    const r = await runCli(['export', '--sql', 'SELECT pid, name, path FROM processes', '--format', 'csv'], { stdin: `${rows}\n` });
    expect(r.stdout.split('\r\n')[0]).toBe('host,pid,name,path,extra_col');
    const t = await runCli(['export', '--sql', 'SELECT pid, name, path FROM processes', '--format', 'table'], { stdin: `${rows}\n` });
    expect(t.stdout.split('\n')[0]).toMatch(/^host\s+pid\s+name\s+path\s+extra_col$/);
  });
});
