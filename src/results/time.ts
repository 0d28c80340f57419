/**
 * Dates for people: epoch values rendered in a chosen IANA zone. This is the hot path of `export`
 * (millions of values), so the zone offset comes from Intl once per day (or per value on the rare
 * days with a transition) and the fields from integer arithmetic, not one Intl call per value.
 */
import type { TimeKind } from '../schema/types.js';
import { toUnixSeconds } from '../schema/index.js';

export type TimeFormat = 'iso' | 'long' | 'utc' | 'epoch';
export const TIME_FORMATS: readonly TimeFormat[] = ['iso', 'long', 'utc', 'epoch'];

export function isTimeFormat(s: string): s is TimeFormat {
  return (TIME_FORMATS as readonly string[]).includes(s);
}

/** The canonical name of an IANA zone (or UTC/Etc alias), or undefined when the runtime does not know it. */
export function canonicalTimeZone(tz: string): string | undefined {
  if (tz.trim() === '') return undefined;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/** The zone a date should be shown in when none is asked for: $TZ when valid, else the system's. */
export function systemTimeZone(env: Readonly<Record<string, string | undefined>>): string {
  const fromEnv = env['TZ'];
  if (fromEnv) {
    const tz = canonicalTimeZone(fromEnv.replace(/^:/, ''));
    if (tz) return tz;
  }
  return new Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const PAD2 = Array.from({ length: 100 }, (_, i) => (i < 10 ? `0${i}` : String(i)));
const pad3 = (n: number) => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : String(n));
const pad4 = (n: number) => (n < 10 ? `000${n}` : n < 100 ? `00${n}` : n < 1000 ? `0${n}` : String(n));

/** Seconds range this module renders: years 1 to 9999 (anything else stays as it came). */
const MIN_SECONDS = -62135596800;
const MAX_SECONDS = 253402300799;


/** Offsets (seconds east of UTC) of one zone, cached per UTC day. */
class ZoneOffsets {
  private readonly dtf: Intl.DateTimeFormat | undefined;
  /** day -> offset, or NaN when the offset changes during that day */
  private readonly byDay = new Map<number, number>();

  constructor(readonly zone: string) {
    const fixedZero = /^(UTC|Etc\/UTC|Etc\/GMT|GMT|Etc\/Universal|Etc\/Zulu|Universal|Zulu|Etc\/UCT|UCT)$/.test(zone);
    this.dtf = fixedZero
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

  private exact(seconds: number): number {
    if (!this.dtf) return 0;
    const ms = Math.floor(seconds) * 1000;
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

  offset(seconds: number): number {
    if (!this.dtf) return 0;
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

function offsetText(off: number): string {
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  return `${sign}${PAD2[Math.floor(a / 3600)]}:${PAD2[Math.floor((a % 3600) / 60)]}`;
}

/** Renders epoch seconds (possibly fractional) as text; returns undefined outside years 1..9999. */
export type DateFormatter = (seconds: number) => string | undefined;

/** "MM:SS" for each second of an hour, built on first use. */
let minuteSecond: string[] | undefined;
function minuteSecondTexts(): string[] {
  if (!minuteSecond) {
    minuteSecond = new Array<string>(3600);
    for (let i = 0; i < 3600; i++) minuteSecond[i] = `${PAD2[Math.floor(i / 60)]!}:${PAD2[i % 60]!}`;
  }
  return minuteSecond;
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
  return (seconds: number) => {
    if (!(seconds >= MIN_SECONDS && seconds <= MAX_SECONDS)) return undefined;
    let whole = Math.floor(seconds);
    let ms = 0;
    if (whole !== seconds) {
      const totalMs = Math.round(seconds * 1000);
      whole = Math.floor(totalMs / 1000);
      ms = totalMs - whole * 1000;
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
      // Days since 1970-01-01 to a civil date (H. Hinnant's algorithm, proleptic Gregorian).
      const z = days + 719468;
      const era = Math.floor(z / 146097);
      const doe = z - era * 146097;
      const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
      const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
      const mp = Math.floor((5 * doy + 2) / 153);
      const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
      const m = mp < 10 ? mp + 3 : mp - 9;
      const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
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
    const head = slotHead[slot]!;
    const tail = slotTail[slot]!;
    return ms === 0 ? head + mmss[sinceHour]! + tail : `${head}${mmss[sinceHour]!}.${pad3(ms)}${tail}`;
  };
}

const DIGITS = /^[1-9][0-9]{0,11}$/;

/** 1990-01-01 .. 2100-01-01: what a column guessed from its name must hold to count as a date. */
const PLAUSIBLE_MIN = 631152000;
const PLAUSIBLE_MAX = 4102444800;

export function isPlausibleDate(seconds: number): boolean {
  return seconds >= PLAUSIBLE_MIN && seconds < PLAUSIBLE_MAX;
}

/**
 * One cell: the text to show for a raw time value. 0 and -1 mean "unknown" in osquery and become
 * empty; values that are not numbers (or, for guessed columns, not plausible dates) stay as they are.
 * `fmt` undefined means the epoch format: values are left untouched.
 */
export function convertTimeValue(raw: string, kind: TimeKind, fmt: DateFormatter | undefined, guessed: boolean): string {
  if (fmt === undefined) return raw;
  if (raw === '0' || raw === '-1' || raw === '') return '';
  // Plain decimal UNIX seconds are most of what osquery sends: skip the general parser for them.
  const seconds = kind === 'unix_seconds' && DIGITS.test(raw) ? Number(raw) : toUnixSeconds(kind, raw);
  if (seconds === undefined) {
    const n = Number(raw);
    return raw.trim() !== '' && (n === 0 || n === -1) ? '' : raw;
  }
  if (guessed && !isPlausibleDate(seconds)) return raw;
  return fmt(seconds) ?? raw;
}
