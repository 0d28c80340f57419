/** The result flags `query` and `export` share (see src/results/options.ts for what they mean). */
import type { OptionSpec } from './define.js';

export const RESULT_OPTIONS: readonly OptionSpec[] = [
  { flags: '--format <format>', description: 'output format', choices: ['table', 'ndjson', 'json', 'yaml', 'csv'] },
  { flags: '-o, --output <file>', description: 'write the results to this file (atomically, new files 0600, an existing file keeps its owner and mode; a device, FIFO or /dev/stdout is written in place; - is stdout)', complete: 'file' },
  { flags: '--manifest <file>', description: 'write the evidence manifest here (default: <output>.manifest.json)', complete: 'file' },
  { flags: '--time-format <format>', description: 'how dates are written', choices: ['iso', 'long', 'utc', 'epoch'], default: 'iso' },
  { flags: '--tz <zone>', description: 'time zone for dates (IANA name; wins over $TZ, which is read as the C library reads it)' },
  { flags: '--keep-epoch', description: 'keep the raw value in <column>_epoch (or the next free name) beside each date' },
  { flags: '--time-columns <columns>', description: 'also convert these columns (comma-separated)' },
  { flags: '--no-times', description: 'do not convert epoch columns to dates' },
  { flags: '--no-usernames', description: 'do not add usernames for uid columns' },
  { flags: '--enrich', description: 'enrich machine formats (json, ndjson, yaml) too' },
  { flags: '--raw', description: 'no enrichment at all' },
  { flags: '--csv-raw', description: 'CSV: do not neutralise spreadsheet formulas' },
  { flags: '--bom', description: 'CSV: start with a UTF-8 byte-order mark (Excel)' },
];
