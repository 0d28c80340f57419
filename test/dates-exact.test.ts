/**
 * Issue 24.1–24.4: dates exact to what they print. The oracle below is written here, apart from
 * src/results/time.ts: BigInt nanoseconds from the raw digits, the zone's offset from Intl's
 * `longOffset` name (a different ICU path from the formatter's field differences), and the civil
 * date from Date.UTC's own calendar. Then the real CLI (`export --table … --format csv`) for each point.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { convertTime, createDateFormatter, parseTimeZone, toInstant } from '../src/results/time.js';
import type { TimeKind } from '../src/schema/types.js';
import { repoRoot, runCli } from './helpers/cli.js';

// ---------------------------------------------------------------------------------------------
// The oracle

const NS = 1_000_000_000n;
const EPOCH_1601 = 11_644_473_600n;
const EPOCH_2001 = 978_307_200n;

/** Every unit osquery uses for a point in time: ticks per second and the epoch's offset from 1970. */
const UNITS: Record<Exclude<TimeKind, 'unix_days'>, { perSecond: bigint; epoch: bigint; digits: number }> = {
  unix_seconds: { perSecond: 1n, epoch: 0n, digits: 0 },
  unix_milliseconds: { perSecond: 1000n, epoch: 0n, digits: 3 },
  unix_microseconds: { perSecond: 1_000_000n, epoch: 0n, digits: 6 },
  windows_filetime: { perSecond: 10_000_000n, epoch: -EPOCH_1601, digits: 7 },
  webkit_microseconds: { perSecond: 1_000_000n, epoch: -EPOCH_1601, digits: 6 },
  cocoa_seconds: { perSecond: 1n, epoch: EPOCH_2001, digits: 0 },
};

const floorDiv = (a: bigint, b: bigint) => (a >= 0n ? a / b : -((-a + b - 1n) / b));

/** The raw text a host would send for the instant `ns` (nanoseconds since 1970) in a unit, cut to it. */
function encode(kind: keyof typeof UNITS, ns: bigint, extraDigits: number): string {
  const u = UNITS[kind];
  const ticks = floorDiv(ns * u.perSecond, NS) - u.epoch * u.perSecond;
  if (extraDigits === 0 || u.digits > 0) return ticks.toString();
  // seconds with a decimal fraction of `extraDigits` digits (cut, as a host would print it)
  const scale = 10n ** BigInt(extraDigits);
  const scaled = floorDiv(ns * scale, NS) - u.epoch * scale;
  const neg = scaled < 0n;
  const a = neg ? -scaled : scaled;
  return `${neg ? '-' : ''}${a / scale}.${(a % scale).toString().padStart(extraDigits, '0')}`;
}

/** Exact instant of a raw decimal text in a unit: [numerator nanoseconds * den, den]. */
function decodeNs(kind: keyof typeof UNITS, raw: string): { ns: bigint; digits: number } {
  const u = UNITS[kind];
  const neg = raw.startsWith('-');
  const [i, f = ''] = raw.replace(/^-/, '').split('.');
  const scale = 10n ** BigInt(f.length);
  let v = BigInt(i!) * scale + BigInt(f === '' ? '0' : f);
  if (neg) v = -v;
  // v / (scale * perSecond) seconds since the unit's epoch; to 1970 nanoseconds, floor (never round)
  const ns = floorDiv(v * NS, scale * u.perSecond) + u.epoch * NS;
  return { ns, digits: f.length + u.digits };
}

const offsetFmt = new Map<string, Intl.DateTimeFormat>();
function oracleOffset(zone: string, seconds: bigint): { text: string; seconds: bigint } {
  let f = offsetFmt.get(zone);
  if (!f) offsetFmt.set(zone, (f = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' })));
  const name = f.formatToParts(Number(seconds) * 1000).find((p) => p.type === 'timeZoneName')!.value;
  if (name === 'GMT') return { text: '+00:00', seconds: 0n };
  const m = /^GMT([+-])(\d\d):(\d\d)(?::(\d\d))?$/.exec(name)!;
  const s = BigInt(Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4] ?? 0));
  return { text: name.slice(3), seconds: m[1] === '-' ? -s : s };
}

/** The ISO 8601 text the rules say: local time cut to the source's digits, offset to the second. */
function oracleIso(zone: string, ns: bigint, digits: number): string | undefined {
  const sec = floorDiv(ns, NS);
  const off = oracleOffset(zone, sec);
  const local = sec + off.seconds;
  const d = new Date(0);
  d.setTime(Number(local) * 1000);
  const y = d.getUTCFullYear();
  if (y < 0 || y > 9999) return undefined;
  const p2 = (n: number) => String(n).padStart(2, '0');
  let frac = (ns - sec * NS).toString().padStart(9, '0').slice(0, Math.min(digits, 9));
  if (!/[1-9]/.test(frac)) frac = '';
  while (frac.endsWith('000')) frac = frac.slice(0, -3);
  return (
    `${String(y).padStart(4, '0')}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())}T${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}` +
    (frac ? `.${frac}` : '') +
    off.text
  );
}

// Zones with DST, half-hour and 45-minute offsets, local mean time with seconds, and changes of rules.
const ZONES = [
  'UTC',
  'America/Los_Angeles',
  'Europe/Paris',
  'Europe/London',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'Australia/Lord_Howe',
  'Pacific/Chatham',
  'Australia/Eucla',
  'Africa/Monrovia',
  'America/St_Johns',
  'Europe/Dublin',
  'Asia/Tehran',
  'America/Sao_Paulo',
  'Pacific/Apia',
  'Europe/Moscow',
];
const Y1800 = -5_364_662_400n;
const Y2200 = 7_258_118_400n;

describe('dates against an independent oracle (exact decimal arithmetic)', () => {
  const nsArb = fc.bigInt({ min: Y1800 * NS, max: Y2200 * NS - 1n });

  it('every unit, 1800–2200, in 16 zones: the printed text is the instant cut to its printed precision', () => {
    const fmts = new Map(ZONES.map((z) => [z, createDateFormatter('iso', z)]));
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), fc.constantFrom(...(Object.keys(UNITS) as Array<keyof typeof UNITS>)), nsArb, fc.integer({ min: 0, max: 12 }), (zone, kind, ns, extra) => {
        const raw = encode(kind, ns, extra);
        const { ns: exact, digits } = decodeNs(kind, raw);
        const want = oracleIso(zone, exact, digits) ?? raw;
        const got = convertTime(raw, kind, fmts.get(zone)!);
        // 0 and -1 in the unit are sentinels, kept as sent
        if (/^-?0+(\.0*)?$/.test(raw) || /^-1(\.0*)?$/.test(raw)) expect(got.text).toBe(raw);
        else expect(got.text).toBe(want);
      }),
      { numRuns: 4000, seed: 2407 },
    );
  });

  it('runs of nearby instants (the formatter caches per hour) match the oracle too', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), nsArb, fc.array(fc.bigInt({ min: -4000n * NS, max: 4000n * NS }), { minLength: 1, maxLength: 40 }), (zone, start, steps) => {
        const fmt = createDateFormatter('iso', zone);
        let ns = start;
        for (const step of steps) {
          ns += step;
          const raw = encode('unix_microseconds', ns, 0);
          if (raw === '0' || raw === '-1') continue;
          expect(convertTime(raw, 'unix_microseconds', fmt).text).toBe(oracleIso(zone, decodeNs('unix_microseconds', raw).ns, 6));
        }
      }),
      { numRuns: 300, seed: 99 },
    );
  });

  it('every zone transition 1800–2200 of the DST zones: the second before and the second of it', () => {
    for (const zone of ['America/Los_Angeles', 'Australia/Lord_Howe', 'Pacific/Chatham', 'Europe/Dublin', 'Africa/Monrovia']) {
      const fmt = createDateFormatter('iso', zone);
      // Find transitions by bisection on the oracle's offset, one per 30 days scanned.
      let prev = oracleOffset(zone, Y1800).seconds;
      for (let t = Y1800; t < Y2200; t += 30n * 86400n) {
        const next = t + 30n * 86400n;
        const o = oracleOffset(zone, next).seconds;
        if (o === prev) continue;
        let lo = t, hi = next;
        while (hi - lo > 1n) {
          const mid = (lo + hi) / 2n;
          if (oracleOffset(zone, mid).seconds === prev) lo = mid;
          else hi = mid;
        }
        for (const s of [lo, hi]) expect(fmt(Number(s), ''), `${zone} ${s}`).toBe(oracleIso(zone, s * NS, 0));
        prev = o;
      }
    }
  });

  it('day counts (shadow.last_change, expire) are calendar dates, whatever the zone', () => {
    const fmt = createDateFormatter('iso', 'America/Los_Angeles');
    fc.assert(
      fc.property(fc.integer({ min: -62_000, max: 84_000 }), (days) => {
        fc.pre(days !== 0 && days !== -1);
        const d = new Date(days * 86_400_000);
        expect(convertTime(String(days), 'unix_days', fmt).text).toBe(d.toISOString().slice(0, 10));
      }),
      { numRuns: 500, seed: 5 },
    );
    expect(convertTime('0', 'unix_days', fmt)).toEqual({ text: '0', kept: 'zero' });
    expect(convertTime('-1', 'unix_days', fmt)).toEqual({ text: '-1', kept: 'minus one' });
  });

  it('cuts, never rounds: the cases of the issue', () => {
    const utc = createDateFormatter('iso', 'UTC');
    expect(convertTime('1609459199.9999', 'unix_seconds', utc).text).toBe('2020-12-31T23:59:59.9999+00:00');
    expect(convertTime('1598384396.987654321', 'unix_seconds', utc).text).toBe('2020-08-25T19:39:56.987654321+00:00');
    expect(convertTime('1598384396.9876543219', 'unix_seconds', utc).text).toBe('2020-08-25T19:39:56.987654321+00:00');
    expect(convertTime('1609459199999', 'unix_milliseconds', utc).text).toBe('2020-12-31T23:59:59.999+00:00');
    expect(convertTime('132539327999999999', 'windows_filetime', utc).text).toBe('2020-12-31T23:59:59.9999999+00:00');
    expect(convertTime('13253932799999999', 'webkit_microseconds', utc).text).toBe('2020-12-31T23:59:59.999999+00:00');
    expect(convertTime('-0.5', 'unix_seconds', utc).text).toBe('1969-12-31T23:59:59.5+00:00');
    expect(toInstant('unix_seconds', '1.6e9')).toEqual({ whole: 1.6e9, fraction: '' });
  });

  it('keeps what is no instant exactly as sent, with the reason', () => {
    const utc = createDateFormatter('iso', 'UTC');
    for (const [raw, kept] of [
      ['0', 'zero'],
      ['-0', 'zero'],
      ['0.000', 'zero'],
      ['-1', 'minus one'],
      ['-1.0', 'minus one'],
      ['4294967295', 'all-ones'],
      ['18446744073709551615', 'all-ones'],
      ['never', 'text'],
      [' 12', 'text'],
      ['253402300800', 'out of range'],
      ['-62167219201', 'out of range'],
      ['1e20', 'out of range'],
    ] as const) {
      expect(convertTime(raw, 'unix_seconds', utc), raw).toEqual({ text: raw, kept });
    }
    expect(convertTime('', 'unix_seconds', utc)).toEqual({ text: '', kept: undefined });
    expect(convertTime('253402300799', 'unix_seconds', utc).text).toBe('9999-12-31T23:59:59+00:00');
    expect(convertTime('-62167219200', 'unix_seconds', utc).text).toBe('0000-01-01T00:00:00+00:00');
  });

  it('writes offsets to the second where the zone has seconds', () => {
    expect(createDateFormatter('iso', 'America/Los_Angeles')(-3000000000, '')).toBe('1874-12-07T10:47:02-07:52:58');
    expect(createDateFormatter('long', 'America/Los_Angeles')(-3000000000, '')).toBe('Monday, December 7, 1874 10:47:02 AM GMT-07:52:58');
    expect(createDateFormatter('iso', 'Africa/Monrovia')(0, '')).toBe('1969-12-31T23:15:30-00:44:30');
  });

  it('reads TZ as the C library does', () => {
    expect(parseTimeZone('', 'TZ')).toBe('UTC');
    expect(parseTimeZone(':Europe/Paris', 'TZ')).toBe('Europe/Paris');
    expect(parseTimeZone('GMT+3', 'TZ')).toBe('UTC-03:00');
    expect(parseTimeZone('JST-9', 'TZ')).toBe('UTC+09:00');
    expect(parseTimeZone('<+0530>-5:30', 'TZ')).toBe('UTC+05:30');
    expect(parseTimeZone('UTC0', 'TZ')).toBe('UTC');
    expect(parseTimeZone('EST5EDT', 'TZ')).toBe('America/New_York');
    expect(() => parseTimeZone('CET-1CEST,M3.5.0,M10.5.0/3', 'TZ')).toThrow(/^TZ=CET-1CEST,M3\.5\.0,M10\.5\.0\/3: POSIX daylight-saving rules/);
    expect(() => parseTimeZone('Mars/Olympus', 'TZ')).toThrow(/^TZ=Mars\/Olympus: unknown time zone/);
    expect(createDateFormatter('iso', 'UTC-03:00')(0, '')).toBe('1969-12-31T21:00:00-03:00');
  });
});

// ---------------------------------------------------------------------------------------------
// Through the real CLI

describe('export --table … --format csv (the real CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'osfleet-dates-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const input = (name: string, rows: object[]) => {
    const p = join(dir, name);
    writeFileSync(p, `${JSON.stringify({ host: 'mac1', rows })}\n`);
    return p;
  };

  it('cuts instead of rounding, keeps sentinels and text, names them on stderr and in the manifest', async () => {
    const p = input('cups.ndjson', [
      { title: 'a', creation_time: '1609459199.9999', completed_time: '0', processing_time: '-1' },
      { title: 'b', creation_time: '1598384396.987654321', completed_time: '-0', processing_time: 'n/a' },
    ]);
    const out = join(dir, 'cups.csv');
    const r = await runCli(['export', p, '--table', 'cups_jobs', '--format', 'csv', '--tz', 'UTC', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    const csv = readFileSync(out, 'utf8');
    expect(csv).toContain('2020-12-31T23:59:59.9999+00:00');
    expect(csv).toContain('2020-08-25T19:39:56.987654321+00:00');
    expect(csv).toMatch(/^mac1,0,.*,-1,a\r$/m);
    expect(csv).toMatch(/^mac1,-0,.*,n\/a,b\r$/m);
    const kept = r.stderr.split('\n').filter((l) => l.includes('kept as sent'));
    expect(kept).toHaveLength(1);
    expect(kept[0]).toContain('completed_time (2 × 0');
    expect(kept[0]).toContain('processing_time (1 × -1 (osquery: unknown); 1 × not a decimal number)');
    const m = JSON.parse(readFileSync(`${out}.manifest.json`, 'utf8')) as { columns: Array<{ column: string; kept_raw?: Record<string, number>; because: string }> };
    const completed = m.columns.find((c) => c.column === 'completed_time')!;
    expect(completed.because).toBe('schema: cups_jobs.completed_time');
    expect(Object.values(completed.kept_raw!)).toEqual([2]);
  });

  it('FILETIME and WebKit columns cut too; offsets keep their seconds; years past 9999 stay raw', async () => {
    const p = input('mixed.ndjson', [{ win_timestamp: '132539327999999999', unix_time: '-3000000000' }]);
    const r = await runCli(['export', p, '--table', 'time', '--format', 'csv', '--tz', 'America/Los_Angeles']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('2020-12-31T15:59:59.9999999-08:00');
    expect(r.stdout).toContain('1874-12-07T10:47:02-07:52:58');
    const c = input('chrome.ndjson', [{ name: 'x', install_time: '13253932799999999' }, { name: 'y', install_time: '265046774400000000' }]);
    const r2 = await runCli(['export', c, '--table', 'chrome_extensions', '--format', 'csv', '--tz', 'UTC']);
    expect(r2.stdout).toContain('2020-12-31T23:59:59.999999+00:00');
    expect(r2.stdout).toContain(',265046774400000000');
    expect(r2.stderr).toContain('outside years 0000..9999');
  });

  it('TZ like the C library: empty is UTC, GMT+3 is UTC-3, rules it cannot apply are a usage error naming TZ; --tz wins', async () => {
    const p = input('tz.ndjson', [{ title: 'a', creation_time: '1598384396' }]);
    const run = (tz: string, extra: string[] = []) => runCli(['export', p, '--table', 'cups_jobs', '--format', 'csv', ...extra], { env: { TZ: tz } });
    const empty = await run('');
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stdout).toContain('2020-08-25T19:39:56+00:00');
    const gmt3 = await run('GMT+3');
    expect(gmt3.code, gmt3.stderr).toBe(0);
    expect(gmt3.stdout).toContain('2020-08-25T16:39:56-03:00');
    const rules = await run('CET-1CEST,M3.5.0,M10.5.0/3');
    expect(rules.code).toBe(64);
    expect(rules.stderr).toContain('TZ=CET-1CEST,M3.5.0,M10.5.0/3');
    expect(rules.stderr).not.toMatch(/unexpected/i);
    const wins = await run('CET-1CEST,M3.5.0,M10.5.0/3', ['--tz', 'Asia/Kathmandu']);
    expect(wins.code, wins.stderr).toBe(0);
    expect(wins.stdout).toContain('2020-08-26T01:24:56+05:45');
  });
});

describe('names checked, usernames honest (issue 24.5, 24.6)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'osfleet-names-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('an unknown --table is a usage error naming the closest tables', async () => {
    const p = join(dir, 'x.ndjson');
    writeFileSync(p, `${JSON.stringify({ host: 'h', rows: [{ creation_time: '1598384396' }] })}\n`);
    const r = await runCli(['export', p, '--table', 'cups_job', '--format', 'csv']);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('--table cups_job: no such osquery table');
    expect(r.stderr).toContain('did you mean cups_jobs');
    expect(r.stdout).toBe('');
  });

  it('--keep-epoch picks a free column name and says which', async () => {
    const p = join(dir, 'k.ndjson');
    writeFileSync(p, `${JSON.stringify({ host: 'h', rows: [{ title: 't', creation_time: '1598384396', creation_time_epoch: 'theirs' }] })}\n`);
    const r = await runCli(['export', p, '--table', 'cups_jobs', '--format', 'csv', '--tz', 'UTC', '--keep-epoch']);
    expect(r.code, r.stderr).toBe(0);
    const [head, row] = r.stdout.split('\r\n');
    const cells = Object.fromEntries(head!.split(',').map((h, i) => [h, row!.split(',')[i]]));
    expect(cells).toMatchObject({ creation_time: '2020-08-25T19:39:56+00:00', creation_time_epoch: 'theirs', creation_time_epoch_2: '1598384396' });
    expect(r.stderr).toContain('--keep-epoch: the raw values of creation_time are in creation_time_epoch_2');
  });

  it('a uid with two usernames on one host shows both, joined by |, with a warning naming host and uid; uid 4294967295 gets no invented name', async () => {
    const p = join(dir, 'ev.ndjson');
    const users = join(dir, 'users.ndjson');
    writeFileSync(p, `${JSON.stringify({ host: 'mac1', rows: [{ target_path: '/a', uid: '0', time: '1598384396' }, { target_path: '/b', uid: '4294967295', time: '1598384396' }] })}\n`);
    writeFileSync(users, `${JSON.stringify({ host: 'mac1', rows: [{ uid: '0', username: 'root' }, { uid: '0', username: 'toor' }] })}\n`);
    const r = await runCli(['export', p, '--table', 'file_events', '--format', 'csv', '--tz', 'UTC', '--users', users]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('mac1,/a,2020-08-25T19:39:56+00:00,0,root|toor\r\n');
    expect(r.stdout).toContain('mac1,/b,2020-08-25T19:39:56+00:00,4294967295,\r\n');
    expect(r.stdout).not.toContain('unset');
    expect(r.stderr).toContain('mac1: uid 0 has 2 usernames (root, toor)');
    expect(r.stderr).not.toMatch(/matched no user/);
  });
});

describe('docs agree with the code (issue 24.8)', () => {
  it('the README documents each conversion rule', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    for (const s of ['cut to the precision it prints', 'never rounded', 'kept as sent', '-07:52:58', 'GMT+3', '--tz ZONE', 'joined by `|`', '4294967295', '--keep-epoch', 'Column order', 'Formula neutralisation', 'YYYY-MM-DD', 'FILETIME', 'WebKit', 'osquery **5.23.1**']) {
      expect(readme, s).toContain(s);
    }
  });

  it('export --raw --users does not suggest --enrich, which --raw refuses', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'osfleet-raw-'));
    try {
      const p = join(dir, 'x.ndjson');
      writeFileSync(p, `${JSON.stringify({ host: 'h', rows: [{ uid: '0' }] })}\n`);
      const r = await runCli(['export', p, '--raw', '--users', p, '--format', 'csv']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('usernames are off (--raw)');
      expect(r.stderr).not.toContain('--enrich');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
