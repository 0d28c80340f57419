/**
 * CSV through csv-stringify: `host` then the columns (SELECT order, else the sorted union of every
 * row's columns), RFC 4180 quoting (CRLF records; fields with comma, quote, CR or LF quoted),
 * spreadsheet formulas neutralised unless asked not to, optional UTF-8 BOM for Excel.
 *
 * When the SQL does not fix the columns, the header is only known at the end: rows are kept in
 * memory up to a bound, then spooled to a temporary file (one JSON array per row, already
 * neutralised), and replayed under the header. Memory stays flat either way.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import { stringify, type Options as StringifyOptions } from 'csv-stringify/sync';
import type { HostResult, Row } from '../types.js';
import { put, unionColumns, type ResultWriter, type WriterOptions } from './common.js';

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

const CSV_OPTIONS: StringifyOptions = { record_delimiter: '\r\n', quoted_match: /[\r\n]/, eof: true };
const BATCH = 2000;
const DEFAULT_MEMORY_ROWS = 10_000;

export function csvWriter(sink: Writable, opts: WriterOptions): ResultWriter {
  const neutralise = opts.csv?.neutralise ?? true;
  const cell = neutralise ? neutraliseCell : (v: string) => v;
  const fixed = opts.layout.fixed;
  const memoryRows = opts.memoryRows ?? DEFAULT_MEMORY_ROWS;
  let started = false;
  let batch: string[][] = [];

  const start = async (columns: readonly string[]) => {
    started = true;
    const header = ['host', ...columns].map(cell);
    await put(sink, (opts.csv?.bom ? '\ufeff' : '') + stringify([header], CSV_OPTIONS));
  };
  const flush = async () => {
    if (batch.length === 0) return;
    const text = stringify(batch, CSV_OPTIONS);
    batch = [];
    await put(sink, text);
  };
  const record = (host: string, row: Row, columns: readonly string[]): string[] => {
    const out = new Array<string>(columns.length + 1);
    out[0] = cell(host);
    for (let i = 0; i < columns.length; i++) {
      const v = row[columns[i]!];
      out[i + 1] = v === undefined ? '' : cell(v);
    }
    return out;
  };

  if (fixed) {
    return {
      async write(r) {
        if (!started) await start(fixed);
        for (const row of r.rows) {
          batch.push(record(r.host, row, fixed));
          if (batch.length >= BATCH) await flush();
        }
      },
      async end() {
        if (!started) await start(fixed);
        await flush();
      },
      async abort() {},
    };
  }

  // Unknown header: memory first, then a spool. Key sets are numbered so each spooled row is an
  // array of its cells, not an object repeating every column name.
  const seen = new Set<string>();
  const keySets: string[][] = [];
  const keySetIds = new Map<string, number>();
  let lastKeys: string[] | undefined;
  let lastId = -1;
  const memory: Array<[number, string, Row]> = [];
  let spool: { dir: string; file: string; stream: WriteStream } | undefined;
  let spoolBuf = '';

  const keySetOf = (row: Row): number => {
    const keys = Object.keys(row);
    if (lastKeys && keys.length === lastKeys.length && keys.every((k, i) => k === lastKeys![i])) return lastId;
    const sig = keys.join('\u0000');
    let id = keySetIds.get(sig);
    if (id === undefined) {
      id = keySets.length;
      keySets.push(keys);
      keySetIds.set(sig, id);
      for (const k of keys) seen.add(k);
    }
    lastKeys = keys;
    lastId = id;
    return id;
  };
  const openSpool = async () => {
    const dir = await mkdtemp(join(opts.tmpDir ?? tmpdir(), 'osfleet-csv-'));
    const file = join(dir, 'rows.ndjson');
    const stream = createWriteStream(file, { mode: 0o600 });
    spool = { dir, file, stream };
    for (const [id, host, row] of memory) spoolBuf += spoolLine(id, host, row);
    memory.length = 0;
  };
  const spoolLine = (id: number, host: string, row: Row): string => {
    const keys = keySets[id]!;
    const cells = new Array<string>(keys.length + 2);
    cells[0] = id as unknown as string;
    cells[1] = cell(host);
    for (let i = 0; i < keys.length; i++) cells[i + 2] = cell(row[keys[i]!]!);
    return `${JSON.stringify(cells)}\n`;
  };
  const cleanup = async () => {
    if (!spool) return;
    spool.stream.destroy();
    await rm(spool.dir, { recursive: true, force: true });
    spool = undefined;
  };

  return {
    async write(r) {
      for (const row of r.rows) {
        const id = keySetOf(row);
        if (spool) {
          spoolBuf += spoolLine(id, r.host, row);
          if (spoolBuf.length > 1 << 16) {
            const chunk = spoolBuf;
            spoolBuf = '';
            await put(spool.stream, chunk);
          }
        } else {
          memory.push([id, r.host, row]);
          if (memory.length > memoryRows) await openSpool();
        }
      }
    },
    async end() {
      const columns = unionColumns(seen, opts.layout);
      const position = new Map(columns.map((c, i) => [c, i + 1]));
      // For each key set: where each of its cells goes in the output record (0 = dropped).
      const maps = keySets.map((keys) => keys.map((k) => position.get(k) ?? 0));
      const width = columns.length + 1;
      await start(columns);
      const place = (id: number, host: string, values: (i: number) => string, neutralised: boolean) => {
        const out = new Array<string>(width).fill('');
        out[0] = neutralised ? host : cell(host);
        const m = maps[id]!;
        for (let i = 0; i < m.length; i++) {
          const at = m[i]!;
          if (at !== 0) out[at] = values(i);
        }
        batch.push(out);
      };
      for (const [id, host, row] of memory) {
        const keys = keySets[id]!;
        place(id, host, (i) => cell(row[keys[i]!]!), false);
        if (batch.length >= BATCH) await flush();
      }
      memory.length = 0;
      if (spool) {
        const { stream, file } = spool;
        if (spoolBuf) await put(stream, spoolBuf);
        spoolBuf = '';
        await new Promise<void>((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
        const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 16 }), crlfDelay: Infinity });
        try {
          for await (const line of lines) {
            const cells = JSON.parse(line) as [number, string, ...string[]];
            place(cells[0], cells[1], (i) => cells[i + 2] as string, true);
            if (batch.length >= BATCH) await flush();
          }
        } finally {
          await cleanup();
        }
      }
      await flush();
    },
    abort: cleanup,
  };
}
