/**
 * CSV through csv-stringify: `host` then the columns (SELECT order, else the sorted union of every
 * row's columns), RFC 4180 quoting (CRLF records; fields with comma, quote, CR, LF, `;` or tab quoted),
 * spreadsheet formulas neutralised unless asked not to, optional UTF-8 BOM for Excel.
 *
 * When the SQL does not fix the columns, the header is only known at the end: rows are kept in
 * memory up to a bound, then spooled to temporary files as CSV (already neutralised) and copied
 * under the header at the end. Memory stays flat either way.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { stringify, type Options as StringifyOptions } from 'csv-stringify/sync';
import type { HostResult, Row } from '../types.js';
import { describeFsError, OutputError } from '../atomic.js';
import { copyInto, FLEET_HOST_COLUMNS, headerOf, put, unionColumns, type ResultWriter, type WriterOptions } from './common.js';

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * OWASP CSV-injection defence: a cell starting with =, +, -, @, tab, CR or LF gets a leading `'`
 * so spreadsheets show it as text; real numbers (-1, +3.5, -2e3) stay numbers.
 */
export function neutraliseCell(v: string): string {
  if (v.length === 0) return v;
  const c = v.charCodeAt(0);
  if (c === 61 || c === 64 || c === 9 || c === 13 || c === 10) return `'${v}`;
  if (c === 43 || c === 45) return NUMBER.test(v) ? v : `'${v}`;
  return v;
}

/**
 * RFC 4180 quoting, and also fields holding `;` or a tab: spreadsheets in many European locales
 * split on `;`, and some importers on tabs, so such a field is quoted to stay one cell.
 */
const CSV_OPTIONS: StringifyOptions = { record_delimiter: '\r\n', quoted_match: /[\r\n;\t]/, eof: true };
const NEEDS_QUOTES = /[",\r\n;\t]/;

/**
 * CSV text of records, as csv-stringify writes them with CSV_OPTIONS. csv-stringify decides every
 * record that needs quoting; a record where no cell holds a comma, quote, CR, LF, `;` or tab is written as
 * the cells joined by commas, which is exactly what csv-stringify would produce (a property test
 * checks that), at a fraction of its per-field cost on the export hot path.
 */
export function csvText(records: readonly string[][]): string {
  let out = '';
  let pending: string[][] | undefined;
  for (const rec of records) {
    let plain = true;
    for (let i = 0; i < rec.length; i++) {
      if (NEEDS_QUOTES.test(rec[i]!)) {
        plain = false;
        break;
      }
    }
    if (plain) {
      if (pending) {
        out += stringify(pending, CSV_OPTIONS);
        pending = undefined;
      }
      out += `${rec.join(',')}\r\n`;
    } else (pending ??= []).push(rec);
  }
  if (pending) out += stringify(pending, CSV_OPTIONS);
  return out;
}
const BATCH = 256;
const DEFAULT_MEMORY_ROWS = 2000;

export function csvWriter(sink: Writable, opts: WriterOptions): ResultWriter {
  const neutralise = opts.csv?.neutralise ?? true;
  const cell = neutralise ? neutraliseCell : (v: string) => v;
  const fixed = opts.layout.fixed;
  const memoryRows = opts.memoryRows ?? DEFAULT_MEMORY_ROWS;
  let started = false;
  let buf = '';
  let buffered = 0;

  const start = async (columns: readonly string[]) => {
    started = true;
    const header = headerOf(columns).map(cell);
    await put(sink, (opts.csv?.bom ? '\ufeff' : '') + stringify([header], CSV_OPTIONS));
  };
  const flush = async () => {
    if (buffered === 0) return;
    const text = buf;
    buf = '';
    buffered = 0;
    await put(sink, text);
  };
  /** One CSV record with its CRLF, as csvText would write it, without building a cell array for plain rows. */
  const line = (host: string, row: Row, columns: readonly string[]): string => {
    let s = cell(host);
    let plain = !NEEDS_QUOTES.test(s);
    for (let i = 0; i < columns.length; i++) {
      const v = row[columns[i]!];
      if (v === undefined || v === '') {
        s += ',';
        continue;
      }
      const x = cell(v);
      if (plain && NEEDS_QUOTES.test(x)) plain = false;
      s += `,${x}`;
    }
    if (plain) return `${s}\r\n`;
    const cells = new Array<string>(columns.length + 1);
    cells[0] = cell(host);
    for (let i = 0; i < columns.length; i++) {
      const v = row[columns[i]!];
      cells[i + 1] = v === undefined ? '' : cell(v);
    }
    return stringify([cells], CSV_OPTIONS);
  };

  if (fixed) {
    // The header is the SQL's result columns; a key outside it would be a column left out: named.
    const inHeader = new Set<string>(fixed);
    const extra = new Set<string>();
    let lastChecked: Row | undefined;
    return {
      async write(r) {
        if (!started) await start(fixed);
        for (const row of r.rows) {
          if (lastChecked === undefined || !sameKeySet(row, lastChecked)) {
            lastChecked = row;
            for (const k in row) if (!inHeader.has(k) && !FLEET_HOST_COLUMNS.has(k) && !opts.layout.isGenerated(k)) extra.add(k);
          }
          buf += line(r.host, row, fixed);
          if (++buffered >= BATCH) await flush();
        }
        // Each host's rows go out as they come (a live query on stdout shows progress).
        await flush();
      },
      async end() {
        if (!started) await start(fixed);
        await flush();
      },
      async abort() {},
      notes() {
        return extra.size > 0 ? [`columns the hosts returned outside the query's result columns, not in the CSV: ${[...extra].sort().join(', ')}`] : [];
      },
    };
  }

  // Unknown header: memory first, then spool segments. A segment is CSV text under the column
  // union known when it started; a row with a new column starts a new segment. At the end, a
  // segment whose columns are the final header is copied byte for byte (the usual case: one
  // segment), others are re-read and their cells moved under the final header.
  // The SQL's result columns are columns even when no row carries them.
  const seen = new Set<string>(opts.layout.order ?? []);
  const memory: Array<[string, Row]> = [];
  let dir: string | undefined;
  const segments: Segment[] = [];
  let current: Segment | undefined;
  let pending = '';
  let pendingRows = 0;
  let lastKeys: string[] = [];

  const newSegment = async () => {
    if (current) await closeSegment(current, pending);
    pending = '';
    pendingRows = 0;
    if (dir === undefined) {
      const base = opts.tmpDir ?? tmpdir();
      dir = await mkdtemp(join(base, 'osfleet-csv-')).catch((err: unknown) => {
        throw spoolError(err, base);
      });
    }
    const file = join(dir, `segment-${segments.length}.csv`);
    const columns = unionColumns(seen, opts.layout);
    const stream = createWriteStream(file, { mode: 0o600 });
    // A failure (a full temporary folder) is reported by the next write, naming the folder.
    stream.on('error', () => {});
    current = { file, columns, known: new Set(seen), stream };
    segments.push(current);
  };
  const spill = async (text: string) => {
    pending += text;
    if (++pendingRows >= BATCH) {
      const chunk = pending;
      pending = '';
      pendingRows = 0;
      await spoolPut(current!.stream, chunk, dir!);
    }
  };
  const cleanup = async () => {
    for (const seg of segments) {
      // A write still in flight fails with ERR_STREAM_DESTROYED: the segment is being thrown away.
      seg.stream.on('error', () => {});
      seg.stream.destroy();
    }
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  };

  return {
    async write(r) {
      for (const row of r.rows) {
        let fresh = false;
        // Same keys as the previous row? Checked without allocating (the common case).
        let n = 0;
        let same = true;
        for (const k in row) {
          if (k !== lastKeys[n++]) {
            same = false;
            break;
          }
        }
        if (!same || n !== lastKeys.length) {
          lastKeys = Object.keys(row);
          for (const k of lastKeys) {
            if (!seen.has(k)) {
              seen.add(k);
              fresh = true;
            }
          }
        }
        if (!current) {
          memory.push([r.host, row]);
          if (memory.length > memoryRows) {
            await newSegment();
            for (const [h, m] of memory.splice(0)) await spill(line(h, m, current!.columns));
          }
          continue;
        }
        if (fresh && lastKeys.some((k) => !current!.known.has(k))) await newSegment();
        await spill(line(r.host, row, current.columns));
      }
    },
    async end() {
      const columns = unionColumns(seen, opts.layout);
      await start(columns);
      try {
        for (const [h, row] of memory) {
          buf += line(h, row, columns);
          if (++buffered >= BATCH) await flush();
        }
        memory.length = 0;
        await flush();
        if (current) await closeSegment(current, pending);
        pending = '';
        for (const seg of segments) {
          if (sameKeys(seg.columns, columns)) {
            await copyInto(sink, seg.file);
            continue;
          }
          const position = seg.columns.map((c) => columns.indexOf(c) + 1);
          let records: string[][] = [];
          for await (const cells of csvRecords(createReadStream(seg.file, { encoding: 'utf8', highWaterMark: 1 << 16 }))) {
            const out = new Array<string>(columns.length + 1).fill('');
            out[0] = cells[0] ?? '';
            for (let i = 0; i < position.length; i++) out[position[i]!] = cells[i + 1] ?? '';
            records.push(out);
            if (records.length >= BATCH) {
              await put(sink, csvText(records));
              records = [];
            }
          }
          if (records.length > 0) await put(sink, csvText(records));
        }
      } finally {
        await cleanup();
      }
    },
    abort: cleanup,
  };
}

interface Segment {
  file: string;
  /** The header this segment's records follow (without `host`). */
  columns: string[];
  /** Source columns seen when it started: a row with any other starts a new segment. */
  known: Set<string>;
  stream: WriteStream;
}

/** A write to a spool segment; a failure names the temporary folder and how to choose another. */
async function spoolPut(stream: WriteStream, chunk: string, dir: string): Promise<void> {
  try {
    await put(stream, chunk);
  } catch (err) {
    throw spoolError(err, dir);
  }
}

function spoolError(err: unknown, dir: string): Error {
  if (err instanceof OutputError) return err;
  return new OutputError(`cannot hold rows in the temporary folder ${dir}: ${describeFsError(err)}`, {
    hint: 'rows wait there until the CSV header is known; set TMPDIR to a folder with room',
    cause: err,
  });
}

async function closeSegment(seg: Segment, rest: string): Promise<void> {
  const dir = dirname(seg.file);
  if (rest.length > 0) await spoolPut(seg.stream, rest, dir);
  await new Promise<void>((resolve, reject) => seg.stream.end((err?: Error | null) => (err ? reject(spoolError(err, dir)) : resolve())));
}

/** Whether two rows have the same keys in the same order (rows of one answer nearly always do). */
function sameKeySet(a: Row, b: Row): boolean {
  const kb = Object.keys(b);
  let n = 0;
  for (const k in a) if (k !== kb[n++]) return false;
  return n === kb.length;
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Records of RFC 4180 text as csvText writes it (CRLF records, "" escapes), streamed. */
export async function* csvRecords(input: AsyncIterable<string | Buffer>): AsyncGenerator<string[]> {
  let field = '';
  let rec: string[] = [];
  let quoted = false;
  /** after a closing quote: the next char is a quote (escape) or a separator */
  let afterQuote = false;
  let fieldStarted = false;
  for await (const chunk of input) {
    const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    let i = 0;
    while (i < text.length) {
      if (quoted) {
        const q = text.indexOf('"', i);
        if (q === -1) {
          field += text.slice(i);
          i = text.length;
          continue;
        }
        field += text.slice(i, q);
        quoted = false;
        afterQuote = true;
        i = q + 1;
        continue;
      }
      const c = text.charCodeAt(i);
      if (afterQuote && c === 34) {
        field += '"';
        quoted = true;
        afterQuote = false;
        i++;
        continue;
      }
      afterQuote = false;
      if (c === 34 && !fieldStarted) {
        quoted = true;
        fieldStarted = true;
        i++;
      } else if (c === 44) {
        rec.push(field);
        field = '';
        fieldStarted = false;
        i++;
      } else if (c === 13) {
        i++;
      } else if (c === 10) {
        rec.push(field);
        yield rec;
        rec = [];
        field = '';
        fieldStarted = false;
        i++;
      } else {
        // A run of plain characters up to the next separator.
        let j = i + 1;
        while (j < text.length) {
          const d = text.charCodeAt(j);
          if (d === 44 || d === 10 || d === 13 || d === 34) break;
          j++;
        }
        field += text.slice(i, j);
        fieldStarted = true;
        i = j;
      }
    }
  }
  if (fieldStarted || rec.length > 0) {
    rec.push(field);
    yield rec;
  }
}
