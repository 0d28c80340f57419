import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  canonicalTimeZone,
  convertTimes,
  convertTimeValue,
  createDateFormatter,
  Enricher,
  planColumns,
  systemTimeZone,
  UserDirectory,
  UsernameJoin,
  type HostResult,
  type TimeFormat,
} from '../src/results/index.js';
import { neutraliseCell } from '../src/results/format/csv.js';
import type { TimeKind } from '../src/schema/types.js';

const LA = 'America/Los_Angeles';

describe('dates', () => {
  it('renders the story timestamp in Los Angeles', () => {
    expect(createDateFormatter('iso', LA)(1598384396)).toBe('2020-08-25T12:39:56-07:00');
    expect(createDateFormatter('long', LA)(1598384396)).toBe('Tuesday, August 25, 2020 12:39:56 PM GMT-07:00');
    expect(createDateFormatter('utc', LA)(1598384396)).toBe('2020-08-25T19:39:56Z');
  });

  const S = 1598384396;
  const kinds: Array<[TimeKind, string, string]> = [
    ['unix_seconds', String(S), '2020-08-25T19:39:56Z'],
    ['unix_milliseconds', `${S}123`, '2020-08-25T19:39:56.123Z'],
    ['unix_microseconds', `${S}000000`, '2020-08-25T19:39:56Z'],
    ['unix_days', '18499', '2020-08-25'],
    ['windows_filetime', String((S + 11644473600) * 1e7), '2020-08-25T19:39:56Z'],
    ['webkit_microseconds', String((S + 11644473600) * 1e6), '2020-08-25T19:39:56Z'],
    ['cocoa_seconds', String(S - 978307200), '2020-08-25T19:39:56Z'],
  ];
  it.each(kinds)('converts %s', (kind, raw, utc) => {
    expect(convertTimeValue(raw, kind, createDateFormatter('utc', 'UTC'), false)).toBe(utc);
  });

  it.each([
    ['0', '0'],
    ['-1', '-1'],
    ['', ''],
    ['0.0', '0.0'],
    ['-0', '-0'],
    ['not a date', 'not a date'],
    ['2020-08-25 12:00:00', '2020-08-25 12:00:00'],
  ])('treats %j as %j', (raw, out) => {
    expect(convertTimeValue(raw, 'unix_seconds', createDateFormatter('iso', LA), false)).toBe(out);
  });

  it('leaves values alone in the epoch format', () => {
    expect(convertTimeValue('1598384396', 'unix_seconds', undefined, false)).toBe('1598384396');
    expect(convertTimeValue('0', 'unix_seconds', undefined, false)).toBe('0');
  });

  it('converts guessed columns only when the value is a plausible date (1990..2100)', () => {
    const f = createDateFormatter('utc', 'UTC');
    expect(convertTimeValue('1598384396', 'unix_seconds', f, true)).toBe('2020-08-25T19:39:56Z');
    expect(convertTimeValue('3600', 'unix_seconds', f, true)).toBe('3600');
    expect(convertTimeValue('4200000000', 'unix_seconds', f, true)).toBe('4200000000');
    expect(convertTimeValue('4200000000', 'unix_seconds', f, false)).toBe('2103-02-04T02:40:00Z');
  });

  it.each<[TimeFormat, string, number, string]>([
    ['iso', LA, 1577836800, '2019-12-31T16:00:00-08:00'],
    ['iso', LA, 1583661599, '2020-03-08T01:59:59-08:00'],
    ['iso', LA, 1583661600, '2020-03-08T03:00:00-07:00'],
    ['iso', 'Asia/Kathmandu', 1598384396, '2020-08-26T01:24:56+05:45'],
    ['iso', 'Australia/Lord_Howe', 1598384396, '2020-08-26T06:09:56+10:30'],
    ['iso', 'UTC', 1598384396, '2020-08-25T19:39:56+00:00'],
    ['long', LA, 1598338800, 'Tuesday, August 25, 2020 12:00:00 AM GMT-07:00'],
    ['long', 'UTC', 0.5, 'Thursday, January 1, 1970 12:00:00.500 AM GMT+00:00'],
    ['utc', 'Europe/Paris', 951782400, '2000-02-29T00:00:00Z'],
  ])('%s in %s of %d', (format, zone, seconds, out) => {
    expect(createDateFormatter(format as Exclude<TimeFormat, 'epoch'>, zone)(seconds)).toBe(out);
  });

  it('agrees with Intl for any instant in any of several zones (DST edges included)', () => {
    const zones = [LA, 'Europe/London', 'Australia/Lord_Howe', 'Asia/Kolkata', 'America/Sao_Paulo', 'Pacific/Chatham'];
    const fmts = new Map(zones.map((z) => [z, createDateFormatter('iso', z)]));
    const ref = new Map(
      zones.map((z) => [
        z,
        new Intl.DateTimeFormat('en-CA', { timeZone: z, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'longOffset' }),
      ]),
    );
    fc.assert(
      fc.property(fc.constantFrom(...zones), fc.integer({ min: 0, max: 4102444800 }), (zone, t) => {
        const parts = Object.fromEntries(ref.get(zone)!.formatToParts(t * 1000).map((p) => [p.type, p.value]));
        const off = parts['timeZoneName'] === 'GMT' ? '+00:00' : parts['timeZoneName']!.slice(3);
        const expected = `${parts['year']}-${parts['month']}-${parts['day']}T${parts['hour']}:${parts['minute']}:${parts['second']}${off}`;
        expect(fmts.get(zone)!(t)).toBe(expected);
      }),
      { numRuns: 3000, seed: 42 },
    );
  });

  it('renders runs of nearby instants (its per-hour cache) exactly as a fresh formatter does', () => {
    // Export feeds the formatter values that are seconds apart, so most calls reuse the text of
    // the hour: walks across hour, day and DST boundaries, fractions and negative steps included.
    const zones = [LA, 'Europe/London', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'UTC'];
    const formats: Array<Exclude<TimeFormat, 'epoch'>> = ['iso', 'long', 'utc'];
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.constantFrom(...formats),
        fc.constantFrom(1583661600 - 5000, 1604221200 - 5000, 1598384396, 951782400 - 3000, 0),
        fc.array(fc.oneof(fc.integer({ min: -700, max: 4000 }), fc.double({ min: -2, max: 2, noNaN: true })), { minLength: 1, maxLength: 60 }),
        (zone, format, start, steps) => {
          const shared = createDateFormatter(format, zone);
          let t = start;
          for (const step of steps) {
            t += step;
            expect(shared(t)).toBe(createDateFormatter(format, zone)(t));
          }
        },
      ),
      { numRuns: 400, seed: 7 },
    );
  });

  it('knows zone names and refuses others', () => {
    expect(canonicalTimeZone('America/Los_Angeles')).toBe('America/Los_Angeles');
    expect(canonicalTimeZone('UTC')).toBe('UTC');
    expect(canonicalTimeZone('Etc/GMT+5')).toBe('Etc/GMT+5');
    expect(canonicalTimeZone('Mars/Olympus_Mons')).toBeUndefined();
    expect(canonicalTimeZone('')).toBeUndefined();
  });

  it('UTC is answered without Intl, exactly as Intl answers it; every other name still asks Intl', () => {
    const intl = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC' }).resolvedOptions().timeZone;
    const Real = Intl.DateTimeFormat;
    let made = 0;
    Intl.DateTimeFormat = new Proxy(Real, { construct: (target, args) => (made++, Reflect.construct(target, args)) });
    try {
      expect(canonicalTimeZone('UTC')).toBe(intl);
      expect(systemTimeZone({ TZ: 'UTC' })).toBe(intl);
      expect(made).toBe(0);
      for (const [name, canonical] of [['Etc/UTC', 'UTC'], ['utc', 'UTC'], [LA, LA]] as const) {
        made = 0;
        expect(canonicalTimeZone(name), name).toBe(canonical);
        expect(made, name).toBe(1);
      }
    } finally {
      Intl.DateTimeFormat = Real;
    }
  });
});

describe('planColumns', () => {
  const timesOf = (sql: string | undefined, opts = {}) => Object.fromEntries([...planColumns(sql, opts).times].map(([k, v]) => [k, `${v.kind}${v.guessed ? '?' : ''}`]));

  it('finds dates by schema in explicit selects, with aliases and joins', () => {
    const p = planColumns("SELECT f.target_path, f.time AS t, f.uid, u.username, p.user_time FROM file_events f JOIN users u USING (uid) JOIN processes p ON p.uid = f.uid");
    expect(p.select).toEqual(['target_path', 't', 'uid', 'username', 'user_time']);
    expect(Object.fromEntries(p.times)).toMatchObject({ t: { kind: 'unix_seconds', guessed: false } });
    // username is already selected: the name of the uid goes in uid_username.
    expect(Object.fromEntries(p.uids)).toEqual({ uid: 'uid_username' });
    expect(p.guess).toBe(false);
  });

  // Columns that look like times but are durations, uptimes or calendar parts: never converted.
  it.each([
    ['SELECT user_time, system_time, elapsed_time FROM processes'],
    ['SELECT uptime FROM process_events'],
    ['SELECT total_seconds, days, hours FROM uptime'],
    ['SELECT start_time FROM docker_container_processes'],
    ['SELECT minute, hour FROM crontab'],
  ])('does not convert %s', (sql) => {
    expect(timesOf(sql)).toEqual({});
  });

  it.each([
    ['SELECT creation_time, completed_time, processing_time FROM cups_jobs', { creation_time: 'unix_seconds', completed_time: 'unix_seconds', processing_time: 'unix_seconds' }],
    ['SELECT start_time FROM processes', { start_time: 'unix_seconds' }],
    ['SELECT install_time, install_timestamp FROM chrome_extensions', { install_time: 'webkit_microseconds', install_timestamp: 'unix_seconds' }],
    ['SELECT time FROM last', { time: 'unix_seconds' }],
    ['SELECT atime, mtime, ctime, btime FROM file', { atime: 'unix_seconds', mtime: 'unix_seconds', ctime: 'unix_seconds', btime: 'unix_seconds' }],
  ])('converts by schema: %s', (sql, want) => {
    expect(timesOf(sql)).toEqual(want);
  });

  it('never guesses dates from names for unknown tables (issue 15.1): the time-like ones are named as undecided', () => {
    const sql = 'SELECT time, event_time, mtime, lifetime, timeout, duration FROM my_extension_table';
    expect(timesOf(sql)).toEqual({});
    expect([...planColumns(sql).undecided.keys()]).toEqual(['time', 'event_time', 'mtime']);
  });

  it('does not guess expressions, over known tables or unknown ones', () => {
    expect(timesOf('SELECT count(*) AS event_time, max(time) AS t FROM file_events')).toEqual({});
    expect(planColumns('SELECT count(*) AS uid FROM processes').uids.size).toBe(0);
    expect(timesOf('SELECT max(x) AS event_time FROM my_table')).toEqual({});
    expect(planColumns('SELECT max(x) AS event_time FROM my_table').undecided.has('event_time')).toBe(true);
  });

  it('plans SELECT * from the schema of every table and leaves the rest to the name rule', () => {
    const p = planColumns('SELECT * FROM file_events');
    expect(p.select).toBeNull();
    expect(p.times.get('time')).toMatchObject({ kind: 'unix_seconds', guessed: false });
    expect(p.uids.get('uid')).toBe('username');
    expect(p.plain.has('size')).toBe(true);
    expect(p.guess).toBe(true);
  });

  it('does not join users to itself', () => {
    expect(planColumns('SELECT * FROM users').uids.size).toBe(0);
    expect(planColumns('SELECT uid, username FROM users').uids.size).toBe(0);
    expect(planColumns('SELECT * FROM users JOIN processes USING (uid)').uids.has('uid')).toBe(false);
  });

  it('takes --table when there is no SQL and --time-columns always', () => {
    expect(timesOf(undefined, { tables: ['cups_jobs'] })['creation_time']).toBe('unix_seconds');
    expect(timesOf('SELECT duration FROM my_table', { timeColumns: ['duration'] })).toEqual({ duration: 'unix_seconds' });
  });
});

describe('enrichment', () => {
  const zone = LA;
  const users = (rows: Record<string, string[]>) => {
    const d = new UserDirectory();
    for (const [host, names] of Object.entries(rows)) d.add({ host, rows: names.map((n) => ({ uid: n.split('=')[0]!, username: n.split('=')[1]! })) });
    return d;
  };

  it('joins usernames per host: the same uid on two hosts gives two names', () => {
    const e = new Enricher(planColumns('SELECT path, uid FROM file'), {
      times: { format: 'iso', zone, keepEpoch: false },
      users: users({ 'alice-mbp': ['501=alice'], 'bob-mbp': ['501=bob'] }),
    });
    expect(e.enrich({ host: 'alice-mbp', rows: [{ path: '/a', uid: '501' }] }).rows).toEqual([{ path: '/a', uid: '501', username: 'alice' }]);
    expect(e.enrich({ host: 'bob-mbp', rows: [{ path: '/b', uid: '501' }] }).rows).toEqual([{ path: '/b', uid: '501', username: 'bob' }]);
    expect(e.layout().fixed).toEqual(['path', 'uid', 'username']);
  });

  it('leaves the name of auid 4294967295 ((uid_t)-1, no user) empty without counting it unknown, counts unknown uids and names hosts without users', () => {
    const e = new Enricher(planColumns('SELECT auid, uid FROM process_events'), {
      times: null,
      users: users({ h1: ['0=root'] }),
    });
    const out = e.enrich({ host: 'h1', rows: [{ auid: '4294967295', uid: '0' }, { auid: '1000', uid: '' }] });
    expect(out.rows).toEqual([
      { auid: '4294967295', auid_username: '', uid: '0', username: 'root' },
      { auid: '1000', auid_username: '', uid: '', username: '' },
    ]);
    e.enrich({ host: 'h2', rows: [{ auid: '0', uid: '0' }] });
    expect(e.warnings()).toEqual({ unknownUids: 1, unknownByHost: { h1: 1 }, failedHosts: [{ host: 'h2', error: 'no answer to the users query' }] });
  });

  it('keeps the raw value beside the date with keepEpoch', () => {
    const e = new Enricher(planColumns('SELECT title, creation_time FROM cups_jobs'), { times: { format: 'utc', zone, keepEpoch: true }, users: null });
    expect(e.enrich({ host: 'h', rows: [{ title: 'x', creation_time: '1598384396' }] }).rows[0]).toEqual({
      title: 'x',
      creation_time: '2020-08-25T19:39:56Z',
      creation_time_epoch: '1598384396',
    });
    expect(e.layout().fixed).toEqual(['title', 'creation_time', 'creation_time_epoch']);
  });

  it('convertTimes converts one row by plan, never durations', () => {
    const plan = planColumns('SELECT name, start_time, user_time FROM processes');
    expect(convertTimes({ name: 'zsh', start_time: '1598384396', user_time: '1598384396' }, plan, { format: 'iso', zone, keepEpoch: false })).toEqual({
      name: 'zsh',
      start_time: '2020-08-25T12:39:56-07:00',
      user_time: '1598384396',
    });
  });

  it('returns rows untouched (same objects) when nothing is to be enriched', () => {
    const e = new Enricher(planColumns('SELECT * FROM usb_devices'), { times: { format: 'iso', zone, keepEpoch: false }, users: null });
    const r: HostResult = { host: 'h', rows: [{ vendor: 'Kingston', model: 'DataTraveler' }] };
    expect(e.enrich(r)).toBe(r);
  });

  it('converts equal raw values by each column\'s own rule', () => {
    const e = new Enricher(planColumns('SELECT * FROM my_table', { timeColumns: ['a'] }), { times: { format: 'utc', zone, keepEpoch: false }, users: null });
    expect(e.enrich({ host: 'h', rows: [{ a: '17', time: '17', b: '17' }] }).rows[0]).toEqual({ a: '1970-01-01T00:00:17Z', time: '17', b: '17' });
    const c = new Enricher(planColumns('SELECT install_time, install_timestamp FROM chrome_extensions'), { times: { format: 'utc', zone, keepEpoch: false }, users: null });
    expect(c.enrich({ host: 'h', rows: [{ install_time: '13242857996000000', install_timestamp: '13242857996000000' }] }).rows[0]!['install_time']).toBe('2020-08-25T19:39:56Z');
  });

  it('in place gives the rows the same cells as a copy, on the same objects', () => {
    // What export does with the rows it owns; the copy is for YAML, whose keys follow the rows'.
    const sqls = ['SELECT * FROM file_events', 'SELECT target_path, uid, time, atime FROM file_events', 'SELECT * FROM my_table'];
    const cell = fc.oneof(fc.constantFrom('', '0', '-1', '501', '1598384396', '17', '4294967295'), fc.string({ maxLength: 6 }));
    const rowArb = fc.dictionary(fc.constantFrom('uid', 'time', 'atime', 'target_path', 'event_time', 'username', 'time_epoch', 'x'), cell, { minKeys: 1 });
    fc.assert(
      fc.property(fc.constantFrom(...sqls), fc.boolean(), fc.array(rowArb, { maxLength: 8 }), (sql, keepEpoch, rows) => {
        const make = (inPlace: boolean) =>
          new Enricher(planColumns(sql), { times: { format: 'iso', zone, keepEpoch }, users: users({ h: ['501=alice', '0=root'] }), inPlace });
        const copied = make(false).enrich({ host: 'h', rows: rows.map((r) => ({ ...r })) }).rows;
        const own = rows.map((r) => ({ ...r }));
        const changed = make(true).enrich({ host: 'h', rows: own }).rows;
        expect(changed).toHaveLength(own.length);
        changed.forEach((r, i) => expect(r).toBe(own[i]));
        expect(changed).toEqual(copied);
      }),
      { numRuns: 300, seed: 11 },
    );
  });

  it('never overwrites an input column with one it adds (it takes a free name instead)', () => {
    for (const inPlace of [false, true]) {
      const e = new Enricher(planColumns('SELECT * FROM my_table', { timeColumns: ['event_time'] }), { times: { format: 'utc', zone, keepEpoch: true }, users: users({ h: ['501=alice'] }), inPlace });
      expect(e.enrich({ host: 'h', rows: [{ username: 'from-input', event_time_epoch: 'kept', uid: '501', event_time: '1598384396' }] }).rows[0]).toEqual({
        uid: '501',
        username: 'from-input',
        uid_username: 'alice',
        event_time: '2020-08-25T19:39:56Z',
        event_time_epoch: 'kept',
        event_time_epoch_2: '1598384396',
      });
    }
  });

  it('leaves time-like columns of unknown tables as sent and names them once, with the way to convert them', () => {
    const e = new Enricher(planColumns('SELECT * FROM my_table'), { times: { format: 'utc', zone, keepEpoch: false }, users: null });
    expect(e.enrich({ host: 'h', rows: [{ event_time: '1598384396', time: '17' }] }).rows[0]).toEqual({ event_time: '1598384396', time: '17' });
    expect(e.undecidedLine()).toContain('event_time, time; to show them as dates add --time-columns event_time,time');
  });
});

describe('UsernameJoin', () => {
  const main = (host: string, uid = '501'): HostResult => ({ host, rows: [{ uid }] });

  it('holds a host until its users arrive, then releases only that host', () => {
    const j = new UsernameJoin();
    expect(j.main(main('a'))).toEqual([]);
    expect(j.main(main('b'))).toEqual([]);
    expect(j.held()).toBe(2);
    expect(j.users({ host: 'a', rows: [{ uid: '501', username: 'alice' }] })).toEqual([main('a')]);
    expect(j.held()).toBe(1);
    expect(j.main(main('a', '0'))).toEqual([main('a', '0')]);
    expect(j.directory.names('a')?.get('501')).toBe('alice');
  });

  it('lets a host through when its users query failed, and everything at the end', () => {
    const j = new UsernameJoin();
    j.main(main('a'));
    j.main(main('b'));
    expect(j.usersFailed('a', 'no such table: users')).toEqual([main('a')]);
    expect(j.directory.failure('a')).toBe('no such table: users');
    expect(j.end()).toEqual([main('b')]);
    expect(j.directory.failure('b')).toBe('no answer to the users query');
    expect(j.main(main('c'))).toEqual([main('c')]);
    expect(j.held()).toBe(0);
  });

  it('passes empty and error results straight on', () => {
    const j = new UsernameJoin();
    expect(j.main({ host: 'a', rows: [], error: 'x' })).toHaveLength(1);
  });
});

describe('CSV neutralisation', () => {
  it.each([
    ['=SUM(A1:A2)', "'=SUM(A1:A2)"],
    ['+cmd|/c calc', "'+cmd|/c calc"],
    ['-2+3', "'-2+3"],
    ['@SUM(1)', "'@SUM(1)"],
    ['\tx', "'\tx"],
    ['\rx', "'\rx"],
    ['\nx', "'\nx"],
    ['-1', '-1'],
    ['+3.5', '+3.5'],
    ['-2e3', '-2e3'],
    ['-.5', '-.5'],
    ['-', "'-"],
    ['1598384396', '1598384396'],
    ['a=b', 'a=b'],
    ['', ''],
    ['alice', 'alice'],
  ])('%j -> %j', (cell, out) => {
    expect(neutraliseCell(cell)).toBe(out);
  });
});
