/** Go-style durations as fleetctl takes them: `90s`, `5m`, `1h30m`, `250ms`, `0` (none). */
import { UsageError } from './errors.js';

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds; 0 means "no limit". Throws a UsageError that names the flag and the bad part. */
export function parseDuration(text: string, flag = '--timeout'): number {
  const s = text.trim();
  if (s === '0') return 0;
  if (s === '') throw new UsageError(`${flag}: empty duration`, 'use a number with a unit, e.g. 90s, 5m, 1h30m');
  if (/^\d+(\.\d+)?$/.test(s)) {
    throw new UsageError(`${flag}: "${text}" has no unit`, `did you mean ${s}s? Units: ms, s, m, h`);
  }
  const re = /(\d+(?:\.\d+)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) throw new UsageError(`${flag}: cannot read "${text}" at "${s.slice(pos)}"`, 'use a number with a unit, e.g. 90s, 5m, 1h30m');
    total += Number(m[1]) * (UNITS[m[2]!] ?? 0);
    pos = re.lastIndex;
  }
  if (!Number.isFinite(total) || total > 7 * 24 * 3_600_000) throw new UsageError(`${flag}: "${text}" is too long (at most a week)`);
  return Math.round(total);
}
