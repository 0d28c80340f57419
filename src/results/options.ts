/** The result flags shared by query, get and export, checked and resolved once. */
import { extname } from 'node:path';
import { UsageError } from '../errors.js';
import { RESULT_FORMATS, type ResultFormat } from './format/common.js';
import { canonicalTimeZone, isTimeFormat, systemTimeZone, TimeZoneError, type TimeFormat } from './time.js';
import type { TimeOptions } from './enrich.js';

/** commander's camelCased options (see resultOptions in src/cli.ts). */
export interface ResultFlags {
  format?: string | undefined;
  output?: string | undefined;
  manifest?: string | undefined;
  timeFormat?: string | undefined;
  tz?: string | undefined;
  keepEpoch?: boolean | undefined;
  timeColumns?: string | undefined;
  /** false under --no-times */
  times?: boolean | undefined;
  /** false under --no-usernames */
  usernames?: boolean | undefined;
  enrich?: boolean | undefined;
  raw?: boolean | undefined;
  csvRaw?: boolean | undefined;
  bom?: boolean | undefined;
}

export interface ResultOptions {
  format: ResultFormat;
  output: string | undefined;
  manifest: string | undefined;
  /** Any enrichment at all (dates or usernames). */
  enrich: boolean;
  /** Date conversion settings; null when dates are left alone. */
  times: TimeOptions | null;
  /** Recorded in the manifest even when dates are off. */
  timeFormat: TimeFormat;
  /** Looked up on first read when dates are off (see resolveResultOptions). */
  readonly timeZone: string;
  timeColumns: string[];
  usernames: boolean;
  csv: { neutralise: boolean; bom: boolean };
}

const BY_EXTENSION: Record<string, ResultFormat> = {
  '.csv': 'csv',
  '.json': 'json',
  '.ndjson': 'ndjson',
  '.jsonl': 'ndjson',
  '.yaml': 'yaml',
  '.yml': 'yaml',
  '.txt': 'table',
};

export function formatFromPath(path: string | undefined): ResultFormat | undefined {
  return path ? BY_EXTENSION[extname(path).toLowerCase()] : undefined;
}

function isFormat(s: string): s is ResultFormat {
  return (RESULT_FORMATS as readonly string[]).includes(s);
}

/** Machine formats stay raw (fleetctl-compatible) unless --enrich. */
export function enrichesByDefault(format: ResultFormat): boolean {
  return format === 'table' || format === 'csv';
}

export function resolveResultOptions(
  flags: ResultFlags,
  env: Readonly<Record<string, string | undefined>>,
  defaults: { format: ResultFormat },
): ResultOptions {
  const formatName = flags.format ?? formatFromPath(flags.output) ?? defaults.format;
  if (!isFormat(formatName)) throw new UsageError(`unknown format "${formatName}"`, `use one of: ${RESULT_FORMATS.join(', ')}`);
  const timeFormat = flags.timeFormat ?? 'iso';
  if (!isTimeFormat(timeFormat)) throw new UsageError(`unknown time format "${timeFormat}"`, 'use one of: iso, long, utc, epoch');
  // --tz (an IANA name) wins over $TZ, which is read as the C library reads it (see parseTimeZone).
  const zoneOf = (): string => {
    if (flags.tz !== undefined) {
      const tz = canonicalTimeZone(flags.tz);
      if (!tz) throw new UsageError(`unknown time zone "${flags.tz}"`, 'use an IANA name such as Europe/Paris, America/Los_Angeles or UTC');
      return tz;
    }
    try {
      return systemTimeZone(env);
    } catch (err) {
      if (!(err instanceof TimeZoneError)) throw err;
      throw new UsageError(err.message, 'set TZ to an IANA name, or give --tz, which wins over TZ');
    }
  };
  if (flags.raw && flags.enrich) throw new UsageError('--raw and --enrich cannot be used together');
  const enrich = flags.raw ? false : flags.enrich ? true : enrichesByDefault(formatName);
  const timeColumns = (flags.timeColumns ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const timesOn = enrich && flags.times !== false;
  // The zone is looked up (and a bad one refused) before anything runs when dates are shown or
  // --tz is given; otherwise only when something asks for it (a manifest names it): the system
  // zone costs ICU's zone data, ~9 MiB of memory and ~25 ms, in runs that show no date.
  let timeZone: string | undefined = timesOn || flags.tz !== undefined ? zoneOf() : undefined;
  return {
    format: formatName,
    output: flags.output,
    manifest: flags.manifest,
    enrich,
    times: timesOn ? { format: timeFormat, zone: timeZone!, keepEpoch: Boolean(flags.keepEpoch) } : null,
    timeFormat,
    get timeZone(): string {
      return (timeZone ??= zoneOf());
    },
    timeColumns: timesOn ? timeColumns : [],
    usernames: enrich && flags.usernames !== false,
    csv: { neutralise: !flags.csvRaw, bom: Boolean(flags.bom) },
  };
}
