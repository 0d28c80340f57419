/**
 * Dates for people: epoch values rendered in a chosen IANA zone. This is the hot path of `export`
 * (millions of values), so the zone offset comes from Intl once per day (or per value on the rare
 * days with a transition) and the fields from integer arithmetic, not one Intl call per value.
 */
import type { TimeKind } from '../schema/types.js';

export type TimeFormat = 'iso' | 'long' | 'utc' | 'epoch';
export const TIME_FORMATS: readonly TimeFormat[] = ['iso', 'long', 'utc', 'epoch'];

export function isTimeFormat(s: string): s is TimeFormat {
  return (TIME_FORMATS as readonly string[]).includes(s);
}

/** The canonical name of an IANA zone (or UTC/Etc alias), or undefined when the runtime does not know it. */
export function canonicalTimeZone(tz: string): string | undefined {
  if (typeof tz !== 'string' || tz.trim() === '') return undefined;
  // `UTC` (TZ=UTC in containers, CI and the tests' children) is its own canonical name: the first
  // Intl.DateTimeFormat loads ICU's zone data, about 25 ms of CPU, for a date shown in UTC anyway.
  // test/results.test.ts checks that Intl says the same.
  if (tz === 'UTC') return 'UTC';
  if (FIXED_ZONE.test(tz)) return tz;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/**
 * osfleet's name for a zone with one fixed offset and no rules (what a POSIX TZ such as `GMT+3` or
 * `<+0530>-5:30` means): `UTC±HH:MM[:SS]`, east of UTC positive as in ISO 8601.
 */
const FIXED_ZONE = /^UTC([+-])(\d\d):(\d\d)(?::(\d\d))?$/;

function fixedZoneOffset(zone: string): number | undefined {
  const m = FIXED_ZONE.exec(zone);
  if (!m) return undefined;
  const off = Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4] ?? 0);
  return m[1] === '-' ? -off : off;
}

function fixedZoneName(offsetEast: number): string {
  return offsetEast === 0 ? 'UTC' : `UTC${offsetText(offsetEast)}`;
}

/** POSIX `std offset [dst …]` (IEEE 1003.1 §8.3): the name may be <quoted>; the offset is west of UTC. */
const POSIX_TZ = /^(?:<[A-Za-z0-9+-]{3,}>|[A-Za-z]{3,})([+-]?)(\d{1,2})(?::(\d{1,2})(?::(\d{1,2}))?)?(.*)$/;

/** A zone setting that is neither an IANA name nor a POSIX form osfleet applies. */
export class TimeZoneError extends Error {}

/**
 * The zone a `TZ` value (or `--tz`, named by `source`) means, read as the C library reads TZ:
 * empty → UTC; `:NAME` and IANA names (Europe/Paris, EST5EDT, UTC) → that zone; a POSIX
 * `std offset` without daylight-saving part (`GMT+3`, `<+0530>-5:30`, `JST-9`) → a fixed offset,
 * west of UTC positive as POSIX has it (`GMT+3` is three hours behind UTC). A POSIX string with
 * daylight-saving rules that is not also an IANA name (`CET-1CEST,M3.5.0,M10.5.0/3`) and any
 * other text throw TimeZoneError naming the source: osfleet never falls back to UTC silently.
 */
export function parseTimeZone(value: string, source: string): string {
  if (value === '' || value === ':') return 'UTC';
  const name = value.startsWith(':') ? value.slice(1) : value;
  const known = canonicalTimeZone(name);
  if (known) return known;
  const m = value.startsWith(':') ? null : POSIX_TZ.exec(value);
  if (m) {
    const [, sign, hh, mm, ss, rest] = m;
    if (rest !== '') {
      throw new TimeZoneError(
        `${source}=${value}: POSIX daylight-saving rules are not applied by osfleet; give an IANA zone name (e.g. America/New_York, Europe/Paris) instead`,
      );
    }
    const h = Number(hh), mi = Number(mm ?? 0), s = Number(ss ?? 0);
    if (h > 24 || mi > 59 || s > 59) throw new TimeZoneError(`${source}=${value}: unknown time zone (a POSIX offset is at most 24:59:59)`);
    const west = h * 3600 + mi * 60 + s;
    return fixedZoneName(sign === '-' ? west : -west);
  }
  throw new TimeZoneError(`${source}=${value}: unknown time zone (neither an IANA name such as Europe/Paris or UTC nor a POSIX form such as GMT+3)`);
}

/**
 * The zone a date is shown in when --tz is not given: $TZ read as the C library does (see
 * parseTimeZone; throws TimeZoneError for a value it cannot apply), else the system's zone, else UTC.
 */
export function systemTimeZone(env: Readonly<Record<string, string | undefined>>): string {
  const fromEnv = env['TZ'];
  if (fromEnv !== undefined) return parseTimeZone(fromEnv, 'TZ');
  let sys: string | undefined;
  try {
    sys = new Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch {
    sys = undefined;
  }
  return (sys && canonicalTimeZone(sys)) || 'UTC';
}

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const PAD2 = Array.from({ length: 100 }, (_, i) => (i < 10 ? `0${i}` : String(i)));
const pad3 = (n: number) => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : String(n));
const pad4 = (n: number) => (n < 10 ? `000${n}` : n < 100 ? `00${n}` : n < 1000 ? `0${n}` : String(n));

/** Seconds range this module renders: UTC years 0000 to 9999 (the local year is checked too). */
const MIN_SECONDS = -62167219200 - 86400;
const MAX_SECONDS = 253402300799 + 86400;

/** Offsets (seconds east of UTC) of one zone, cached per UTC day. */
class ZoneOffsets {
  private readonly dtf: Intl.DateTimeFormat | undefined;
  private readonly fixed: number;
  /** day -> offset, or NaN when the offset changes during that day */
  private readonly byDay = new Map<number, number>();

  constructor(readonly zone: string) {
    const fixed = fixedZoneOffset(zone);
    const fixedZero = /^(UTC|Etc\/UTC|Etc\/GMT|GMT|Etc\/Universal|Etc\/Zulu|Universal|Zulu|Etc\/UCT|UCT)$/.test(zone);
    this.fixed = fixed ?? 0;
    this.dtf =
      fixedZero || fixed !== undefined
        ? undefined
        : new Intl.DateTimeFormat('en-US', {
            timeZone: zone,
            hourCycle: 'h23',
            year: 'numeric',
            month: 'numeric',
            day: 'numeric',
            hour: 'numeric',
            minute: 'numeric',
            second: 'numeric',
            era: 'short',
          });
  }

  /** The offset at one whole second, from Intl's local fields (to the second: LMT offsets keep theirs). */
  private exact(seconds: number): number {
    if (!this.dtf) return this.fixed;
    const ms = seconds * 1000;
    let y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, bc = false;
    for (const p of this.dtf.formatToParts(ms)) {
      switch (p.type) {
        case 'year': y = Number(p.value); break;
        case 'month': mo = Number(p.value); break;
        case 'day': d = Number(p.value); break;
        case 'hour': h = Number(p.value); break;
        case 'minute': mi = Number(p.value); break;
        case 'second': s = Number(p.value); break;
        case 'era': bc = p.value.startsWith('B'); break;
        default: break;
      }
    }
    const utc = new Date(0);
    utc.setUTCFullYear(bc ? 1 - y : y, mo - 1, d);
    utc.setUTCHours(h, mi, s, 0);
    return Math.round((utc.getTime() - ms) / 1000);
  }

  private lastDay = NaN;
  private lastOff = NaN;

  /** The offset at a whole second. */
  offset(seconds: number): number {
    if (!this.dtf) return this.fixed;
    const day = Math.floor(seconds / 86400);
    // Most values fall on the same day as the one before: skip the map for them.
    if (day === this.lastDay && !Number.isNaN(this.lastOff)) return this.lastOff;
    let off = this.byDay.get(day);
    if (off === undefined) {
      const a = this.exact(day * 86400);
      const b = this.exact(day * 86400 + 86399);
      off = a === b ? a : NaN;
      // A bounded cache: real data clusters in a few thousand days; a pathological spread just recomputes.
      if (this.byDay.size > 100_000) this.byDay.clear();
      this.byDay.set(day, off);
    }
    this.lastDay = day;
    this.lastOff = off;
    return Number.isNaN(off) ? this.exact(seconds) : off;
  }
}

/** `±HH:MM`, or `±HH:MM:SS` when the offset has seconds (local mean time before standard zones). */
export function offsetText(off: number): string {
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  const hm = `${sign}${PAD2[Math.floor(a / 3600)]}:${PAD2[Math.floor((a % 3600) / 60)]}`;
  return a % 60 === 0 ? hm : `${hm}:${PAD2[a % 60]}`;
}

/**
 * Renders an instant as text: `whole` epoch seconds (an integer) plus `fraction`, the decimal
 * digits after the point (printed as given: the caller has already cut them to what the source
 * carries). Returns undefined when the local year is outside 0000..9999.
 * For convenience a fractional `whole` with no `fraction` is cut to milliseconds.
 */
export type DateFormatter = (whole: number, fraction?: string) => string | undefined;

/** "MM:SS" for each second of an hour, built on first use. */
let minuteSecond: string[] | undefined;
function minuteSecondTexts(): string[] {
  if (!minuteSecond) {
    minuteSecond = new Array<string>(3600);
    for (let i = 0; i < 3600; i++) minuteSecond[i] = `${PAD2[Math.floor(i / 60)]!}:${PAD2[i % 60]!}`;
  }
  return minuteSecond;
}

/** Days since 1970-01-01 to a proleptic Gregorian civil date (H. Hinnant's algorithm). */
function civil(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

/** `YYYY-MM-DD` for a count of days since 1970-01-01; undefined outside years 0000..9999. */
export function dayText(days: number): string | undefined {
  if (!Number.isSafeInteger(days)) return undefined;
  const [y, m, d] = civil(days);
  if (y < 0 || y > 9999) return undefined;
  return `${pad4(y)}-${PAD2[m]!}-${PAD2[d]!}`;
}

export function createDateFormatter(format: Exclude<TimeFormat, 'epoch'>, zone: string): DateFormatter {
  const offsets = new ZoneOffsets(format === 'utc' ? 'UTC' : zone);
  const mmss = minuteSecondTexts();
  // This runs once per time cell of an export (millions): values come in runs within the same
  // hours, so the text up to the hour (and the offset's) is built once per local hour and offset,
  // and most values only add "MM:SS". A row's time columns often lie in different hours (mtime
  // long before atime), hence a few slots, by hour. Integer arithmetic throughout: epoch seconds
  // are beyond V8's small integers, where `%` on doubles is a library call.
  const SLOTS = 16;
  const slotHour = new Array<number>(SLOTS).fill(NaN);
  const slotOff = new Array<number>(SLOTS).fill(NaN);
  const slotHead = new Array<string>(SLOTS).fill('');
  const slotTail = new Array<string>(SLOTS).fill('');
  const slotOk = new Array<boolean>(SLOTS).fill(false);
  return (whole: number, fraction?: string) => {
    if (!(whole >= MIN_SECONDS && whole <= MAX_SECONDS)) return undefined;
    let frac = fraction ?? '';
    if (fraction === undefined && !Number.isInteger(whole)) {
      // A double from a caller: cut (never round) to milliseconds.
      const w = Math.floor(whole);
      frac = pad3(Math.min(999, Math.floor((whole - w) * 1000)));
      whole = w;
    }
    const off = offsets.offset(whole);
    const local = whole + off;
    const hours = Math.floor(local / 3600);
    const sinceHour = local - hours * 3600;
    const slot = hours & (SLOTS - 1);
    if (slotHour[slot] !== hours || slotOff[slot] !== off) {
      slotHour[slot] = hours;
      slotOff[slot] = off;
      let head: string;
      let tail: string;
      const days = Math.floor(hours / 24);
      const hh = hours - days * 24;
      const [y, m, d] = civil(days);
      slotOk[slot] = y >= 0 && y <= 9999;
      if (format === 'long') {
        const wd = WEEKDAYS[(((days + 4) % 7) + 7) % 7]!;
        head = `${wd}, ${MONTHS[m - 1]!} ${d}, ${y} ${hh % 12 === 0 ? 12 : hh % 12}:`;
        tail = ` ${hh < 12 ? 'AM' : 'PM'} GMT${offsetText(off)}`;
      } else {
        head = `${pad4(y)}-${PAD2[m]!}-${PAD2[d]!}T${PAD2[hh]!}:`;
        tail = format === 'utc' ? 'Z' : offsetText(off);
      }
      slotHead[slot] = head;
      slotTail[slot] = tail;
    }
    if (!slotOk[slot]) return undefined;
    const head = slotHead[slot]!;
    const tail = slotTail[slot]!;
    return frac === '' ? head + mmss[sinceHour]! + tail : `${head}${mmss[sinceHour]!}.${frac}${tail}`;
  };
}

// ---------------------------------------------------------------------------------------------
// Raw values to instants, exactly

/** Why a value of a time column was kept as sent instead of becoming a date. */
export type RawReason = 'empty' | 'text' | 'zero' | 'minus one' | 'all-ones' | 'not whole days' | 'out of range';

/** What each reason means, for stderr and the manifest. */
export const RAW_REASONS: Record<RawReason, string> = {
  empty: 'empty value',
  text: 'not a decimal number',
  zero: '0 (osquery: not set, never; shadow: change at next login)',
  'minus one': '-1 (osquery: unknown)',
  'all-ones': '4294967295 or 2^63-1/2^64-1: an unsigned "not set"',
  'not whole days': 'a day count with a fraction',
  'out of range': 'outside years 0000..9999',
};

/** One raw value read exactly: whole epoch seconds (floor) and the decimal digits after the point. */
export interface Instant {
  whole: number;
  fraction: string;
}

/** Seconds between the kind's epoch and 1970 (added), and its unit as a power of ten of a second. */
const KIND_EPOCH: Record<TimeKind, number> = {
  unix_seconds: 0,
  unix_milliseconds: 0,
  unix_microseconds: 0,
  unix_days: 0,
  windows_filetime: -11_644_473_600,
  webkit_microseconds: -11_644_473_600,
  cocoa_seconds: 978_307_200,
};
const KIND_SCALE: Record<TimeKind, number> = {
  unix_seconds: 0,
  unix_milliseconds: 3,
  unix_microseconds: 6,
  unix_days: 0,
  windows_filetime: 7,
  webkit_microseconds: 6,
  cocoa_seconds: 0,
};

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,6}))?$/;
const ALL_ONES = new Set(['4294967295', '18446744073709551615', '9223372036854775807']);
/** Fraction digits shown at most (nanoseconds): anything finer is cut, never rounded. */
const MAX_FRACTION = 9;

/**
 * The instant a raw value of the given kind stands for, computed on its decimal digits (no
 * floating point, so nothing rounds): whole seconds are the floor, and the fraction keeps the
 * digits the value carries once expressed in seconds (milliseconds: 3, microseconds: 6,
 * FILETIME: 7, seconds with a fraction: as sent), cut at 9, less trailing groups of three zeros;
 * or the reason it is no instant.
 * Day counts are handled by convertTimeValue (they are dates, not instants).
 */
export function toInstant(kind: TimeKind, raw: string): Instant | RawReason {
  if (raw === '') return 'empty';
  const m = DECIMAL.exec(raw);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return 'text';
  const neg = m[1] === '-';
  const intDigits = m[2]!;
  const fracDigits = m[3] ?? '';
  let digits = (intDigits + fracDigits).replace(/^0+/, '');
  // Position of the decimal point in `digits` (counted from its start), in seconds.
  let point = intDigits.length - (intDigits.length + fracDigits.length - digits.length) + Number(m[4] ?? 0) - KIND_SCALE[kind];
  if (/^0*$/.test(digits)) return 'zero';
  // -1 in the column's own unit, and unsigned "all ones".
  const unitPoint = point + KIND_SCALE[kind];
  const trimmed = digits.replace(/0+$/, '');
  if (neg && trimmed === '1' && unitPoint === 1) return 'minus one';
  if (!neg && m[3] === undefined && m[4] === undefined && ALL_ONES.has(intDigits.replace(/^0+/, ''))) return 'all-ones';
  if (point > 13) return 'out of range';
  if (point < -MAX_FRACTION - 1) {
    // Less than a nanosecond from the epoch: nothing of it can be shown.
    digits = '';
    point = 0;
  }
  const intPart = point <= 0 ? '' : digits.length >= point ? digits.slice(0, point) : digits + '0'.repeat(point - digits.length);
  let frac = point >= digits.length ? '' : point < 0 ? '0'.repeat(-point) + digits : digits.slice(point);
  // The digits the source carries in seconds: its own fraction digits plus the unit's.
  const carried = Math.max(0, fracDigits.length - Number(m[4] ?? 0) + KIND_SCALE[kind]);
  frac = frac.padEnd(Math.min(carried, MAX_FRACTION), '0');
  let whole = intPart === '' ? 0 : Number(intPart);
  if (neg) {
    whole = -whole;
    if (/[1-9]/.test(frac)) {
      // floor: -12.25 is 12.25 before the epoch, shown as second -13 plus .75.
      whole -= 1;
      const complement = (10n ** BigInt(frac.length) - BigInt(frac)).toString();
      frac = complement.padStart(frac.length, '0');
    }
  }
  frac = frac.slice(0, Math.min(carried, MAX_FRACTION));
  // Whole groups of zeros at the end say nothing: .120 stays, .000 and .123000 lose them.
  if (!/[1-9]/.test(frac)) frac = '';
  else while (frac.endsWith('000')) frac = frac.slice(0, -3);
  whole += KIND_EPOCH[kind];
  return { whole, fraction: frac };
}

const DIGITS = /^[1-9][0-9]{0,11}$/;

/** What became of one raw value: its text, and the reason when it was kept as sent. */
export interface Converted {
  text: string;
  kept: RawReason | undefined;
}

/**
 * One cell: the text to show for a raw time value. Values that are no instant (empty, text, 0,
 * -1, unsigned all-ones, outside years 0000..9999) stay exactly as sent, with the reason. Day counts
 * (`unix_days`) become `YYYY-MM-DD` whatever the format and zone. `fmt` undefined means the epoch
 * format: values are left untouched.
 */
export function convertTime(raw: string, kind: TimeKind, fmt: DateFormatter | undefined): Converted {
  if (fmt === undefined) return { text: raw, kept: undefined };
  // Plain decimal UNIX seconds are most of what osquery sends: skip the general parser for them.
  if (kind === 'unix_seconds' && DIGITS.test(raw)) {
    if (raw === '4294967295') return { text: raw, kept: 'all-ones' };
    const t = fmt(Number(raw), '');
    return t === undefined ? { text: raw, kept: 'out of range' } : { text: t, kept: undefined };
  }
  const i = toInstant(kind, raw);
  // An empty cell stays empty: nothing was sent, nothing is kept.
  if (typeof i === 'string') return { text: raw, kept: i === 'empty' ? undefined : i };
  if (kind === 'unix_days') {
    if (/[1-9]/.test(i.fraction)) return { text: raw, kept: 'not whole days' };
    const t = dayText(i.whole);
    return t === undefined ? { text: raw, kept: 'out of range' } : { text: t, kept: undefined };
  }
  const t = fmt(i.whole, i.fraction);
  return t === undefined ? { text: raw, kept: 'out of range' } : { text: t, kept: undefined };
}

/**
 * The hot path of convertTime without its result object: the date for plain decimal UNIX seconds
 * (most of what osquery sends), or undefined when convertTime must decide.
 */
export function plainSecondsText(raw: string, fmt: DateFormatter): string | undefined {
  return DIGITS.test(raw) && raw !== '4294967295' ? fmt(Number(raw), '') : undefined;
}

/** convertTime's text alone. */
export function convertTimeValue(raw: string, kind: TimeKind, fmt: DateFormatter | undefined, guessed = false): string {
  if (guessed && fmt !== undefined) {
    const i = toInstant(kind, raw);
    if (typeof i === 'string' || !isPlausibleDate(i.whole)) return raw;
  }
  return convertTime(raw, kind, fmt).text;
}

/** 1990-01-01 .. 2100-01-01: what a column guessed from its name must hold to count as a date. */
const PLAUSIBLE_MIN = 631152000;
const PLAUSIBLE_MAX = 4102444800;

export function isPlausibleDate(seconds: number): boolean {
  return seconds >= PLAUSIBLE_MIN && seconds < PLAUSIBLE_MAX;
}
