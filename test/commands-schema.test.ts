import { describe, expect, it } from 'vitest';
import { testIO } from '../src/io.js';
import { createContext } from '../src/context.js';
import { InputError, UsageError } from '../src/errors.js';
import { run, suggestions } from '../src/commands/schema.js';
import { editDistance as levenshtein } from '../src/edit-distance.js';
import type { SchemaOptions } from '../src/commands/schema.js';
import { allTables } from '../src/schema/index.js';
import type { TableSchema } from '../src/schema/index.js';

function setup(tty = false) {
  const io = testIO({ tty, columns: 120 });
  const ctx = createContext({ io, env: {}, globals: { debug: false, color: false }, signal: new AbortController().signal });
  return { io, ctx };
}

async function runIt(opts: SchemaOptions, tty = false) {
  const { io, ctx } = setup(tty);
  const code = await run(opts, ctx);
  return { code, out: io.stdoutText(), err: io.stderrText() };
}

describe('osfleet schema (no table)', () => {
  it('lists every table, aligned, when piped', async () => {
    const { code, out, err } = await runIt({});
    expect(code).toBe(0);
    expect(err).toBe('');
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^TABLE +PLATFORMS +COLUMNS +EVENTED$/);
    expect(lines.length).toBe(allTables().length + 1);
    expect(lines).toContain(`cups_jobs${' '.repeat(lines[0]!.indexOf('PLATFORMS') - 'cups_jobs'.length)}darwin${' '.repeat(lines[0]!.indexOf('COLUMNS') - lines[0]!.indexOf('PLATFORMS') - 'darwin'.length)}8`);
    const fileEvents = lines.find((l) => l.startsWith('file_events '))!;
    expect(fileEvents.split(/ +/)).toEqual(['file_events', 'darwin,linux', '18', 'evented']);
    // Same columns on every line: aligned, and no trailing blanks.
    const col = lines[0]!.indexOf('PLATFORMS');
    for (const l of lines) {
      expect(l).toBe(l.trimEnd());
      expect(l[col - 1]).toBe(' ');
    }
    expect(out).not.toContain('\u001b[');
  });

  it('filters by platform', async () => {
    const { out } = await runIt({ platform: 'windows' });
    const names = out.trimEnd().split('\n').slice(1).map((l) => l.split(' ')[0]);
    expect(names).toContain('bitlocker_info');
    expect(names).toContain('processes');
    expect(names).not.toContain('cups_jobs');
    expect(names).not.toContain('file_events');
    const linuxAndMac = (await runIt({ platform: 'posix' })).out;
    expect(linuxAndMac).toContain('file_events ');
    expect(linuxAndMac).not.toContain('cups_jobs ');
  });

  it('prints the schema as JSON', async () => {
    const { out } = await runIt({ json: true });
    const tables = JSON.parse(out) as TableSchema[];
    expect(tables.map((t) => t.name)).toEqual(allTables().map((t) => t.name));
    const cups = tables.find((t) => t.name === 'cups_jobs')!;
    expect(cups.columns.find((c) => c.name === 'processing_time')).toMatchObject({ type: 'INTEGER', time: 'unix_seconds' });
  });

  it('draws a table on a terminal', async () => {
    const { out } = await runIt({ platform: 'darwin' }, true);
    expect(out).toContain('┌');
    expect(out).toContain('cups_jobs');
    expect(out).not.toContain('bitlocker_info');
  });

  it('refuses an unknown platform', async () => {
    await expect(runIt({ platform: 'solaris' })).rejects.toThrow(UsageError);
    await expect(runIt({ platform: '' })).rejects.toThrow(UsageError);
  });
});

describe('osfleet schema TABLE', () => {
  it('shows the columns of a table, piped', async () => {
    const { code, out } = await runIt({ table: 'CUPS_JOBS' });
    expect(code).toBe(0);
    const lines = out.split('\n');
    expect(lines[0]).toBe('cups_jobs: Returns all completed print jobs from cups.');
    expect(lines[1]).toBe('platforms: darwin');
    expect(lines[2]).toBe('');
    expect(lines[3]).toMatch(/^COLUMN +TYPE +PLATFORMS +DATE +ID +FLAGS +DESCRIPTION$/);
    const row = (name: string) => lines.find((l) => l.startsWith(name + ' '))!.split(/ {2,}/);
    expect(row('processing_time').slice(0, 4)).toEqual(['processing_time', 'INTEGER', 'darwin', 'unix s']);
    expect(row('title')).toEqual(['title', 'TEXT', 'darwin', 'Title of the printed job']);
    expect(lines.filter((l) => l !== '').length).toBe(3 + 8);
  });

  it('shows uid/gid, hidden/required and evented/user-data facts', async () => {
    const fe = (await runIt({ table: 'file_events' })).out;
    expect(fe).toContain('platforms: darwin, linux; evented');
    expect(fe.split('\n').find((l) => l.startsWith('uid '))!.split(/ {2,}/).slice(0, 4)).toEqual(['uid', 'BIGINT', 'darwin,linux', 'uid']);
    expect(fe.split('\n').find((l) => l.startsWith('eid '))).toMatch(/ hidden/);
    const hash = (await runIt({ table: 'hash' })).out;
    expect(hash.split('\n').find((l) => l.startsWith('path '))).toMatch(/ required/);
    const sh = (await runIt({ table: 'shell_history' })).out;
    expect(sh).toContain('user data (JOIN users USING (uid)');
  });

  it('names the date kind of special columns', async () => {
    const line = (out: string, col: string) => out.split('\n').find((l) => l.startsWith(col + ' '))!;
    expect(line((await runIt({ table: 'shadow' })).out, 'last_change')).toContain('unix days');
    expect(line((await runIt({ table: 'time' })).out, 'win_timestamp')).toContain('FILETIME');
    expect(line((await runIt({ table: 'chrome_extensions' })).out, 'install_time')).toContain('WebKit µs');
    expect(line((await runIt({ table: 'processes' })).out, 'user_time')).not.toContain('unix');
  });

  it('keeps only the columns of a platform', async () => {
    const { out } = await runIt({ table: 'processes', platform: 'linux' });
    expect(out).toContain('cgroup_path');
    expect(out).not.toContain('elevated_token');
    expect(out).not.toContain('upid');
    const json = JSON.parse((await runIt({ table: 'processes', platform: 'windows', json: true })).out) as TableSchema;
    expect(json.columns.map((c) => c.name)).toContain('elevated_token');
    expect(json.columns.map((c) => c.name)).not.toContain('cgroup_path');
  });

  it('prints one table as JSON', async () => {
    const t = JSON.parse((await runIt({ table: 'users', json: true })).out) as TableSchema;
    expect(t.name).toBe('users');
    expect(t.columns[0]).toMatchObject({ name: 'uid', type: 'BIGINT', id: 'uid' });
  });

  it('draws a wrapped table on a terminal', async () => {
    const { out } = await runIt({ table: 'cups_jobs' }, true);
    expect(out).toContain('┌');
    expect(out).toContain('processing_time');
    for (const l of out.split('\n')) expect(l.replace(/\u001b\[[0-9;]*m/g, '').length).toBeLessThanOrEqual(120);
  });

  it('rejects an unknown table, suggesting close names', async () => {
    const err = await runIt({ table: 'proceses' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toBe('unknown osquery table "proceses"');
    expect((err as InputError).hint).toBe('did you mean "processes"?');
    expect((err as InputError).exitCode).toBe(1);
    const none = (await runIt({ table: 'zzzzzzzzzzzz' }).catch((e: unknown) => e)) as InputError;
    expect(none.hint).toMatch(/osfleet schema/);
  });

  it('says when a table does not exist on the platform asked for', async () => {
    const err = (await runIt({ table: 'cups_jobs', platform: 'linux' }).catch((e: unknown) => e)) as InputError;
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toBe('table "cups_jobs" does not exist on linux (only on darwin)');
  });
});

describe('suggestions', () => {
  it.each([
    ['proceses', ['processes']],
    ['usb_device', ['usb_devices']],
    ['cups_job', ['cups_jobs']],
    ['chrome_extension', ['chrome_extensions']],
  ])('%s → %j first', (name, expected) => {
    expect(suggestions(name).slice(0, expected.length)).toEqual(expected);
  });

  it('offers nothing for nonsense', () => {
    expect(suggestions('qqqqqqqqqqqqqqqq')).toEqual([]);
    expect(suggestions('')).toEqual([]);
  });

  it.each([
    ['', '', 0],
    ['abc', '', 3],
    ['kitten', 'sitting', 3],
    ['processes', 'proceses', 1],
    ['users', 'users', 0],
  ])('levenshtein(%s, %s) = %d', (a, b, d) => {
    expect(levenshtein(a, b)).toBe(d);
    expect(levenshtein(b, a)).toBe(d);
  });
});

describe('through the CLI', () => {
  it('maps the positional table and exits 1 on an unknown table', async () => {
    const { main } = await import('../src/cli.js');
    const io = testIO();
    const code = await main(['schema', 'usb_device'], { io, env: {}, signal: new AbortController().signal });
    expect(code).toBe(1);
    expect(io.stdoutText()).toBe('');
    expect(io.stderrText()).toContain('unknown osquery table "usb_device"');
    expect(io.stderrText()).toContain('did you mean "usb_devices"?');
    const ok = testIO();
    expect(await main(['schema', 'last', '--json'], { io: ok, env: {}, signal: new AbortController().signal })).toBe(0);
    expect((JSON.parse(ok.stdoutText()) as TableSchema).name).toBe('last');
  });
});
