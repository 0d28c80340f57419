/**
 * A table for people. It needs every row to size its columns and sorts hosts, so it holds the whole
 * result: it is the format for a terminal, not for a million rows (use csv or ndjson for those).
 * On a TTY: cli-table3 boxes cut to the terminal width; piped: plain columns, no width-dependence.
 */
import type { Writable } from 'node:stream';
import Table from 'cli-table3';
import type { HostResult } from '../types.js';
import { terminalCell } from '../../terminal.js';
import { byCodePoint, cellsOf, headerOf, put, unionColumns, type ResultWriter, type WriterOptions } from './common.js';

// The table is for a person's terminal: line breaks become spaces, and control characters (ESC
// sequences from a file name on a host could retitle the window or clear the screen) and bidi
// overrides are shown escaped, as \x1b and \u202e, in cells and column names alike. Machine formats
// keep the bytes.
const flat = terminalCell;

/**
 * Column widths (content only) that fit `total` characters of table. The widest columns shrink
 * first, and none below `soft` characters (an ISO date is 25) until that is not enough.
 */
export function fitWidths(natural: readonly number[], total: number, min = 3, soft = 25): number[] {
  const w = [...natural];
  // Each column costs its content, 2 padding and 1 border; plus the final border.
  let excess = w.reduce((a, b) => a + b + 3, 1) - total;
  for (const floor of [soft, min]) {
    while (excess > 0) {
      let widest = -1;
      for (let i = 0; i < w.length; i++) if (w[i]! > floor && (widest < 0 || w[i]! > w[widest]!)) widest = i;
      if (widest < 0) break;
      // Shrink the widest down to the next width (or the floor), not one character at a time.
      let next = floor;
      for (let i = 0; i < w.length; i++) if (i !== widest && w[i]! < w[widest]! && w[i]! > next) next = w[i]!;
      const cut = Math.min(excess, Math.max(1, w[widest]! - next));
      w[widest] = w[widest]! - cut;
      excess -= cut;
    }
  }
  return w;
}

export function renderTable(rawHeader: string[], rawBody: string[][], opts: { tty: boolean; width?: number | undefined }): string {
  // Every caller's cells pass here: escaping is idempotent (an escape has no control character).
  const header = rawHeader.map(flat);
  const body = rawBody.map((r) => r.map(flat));
  if (!opts.tty) {
    const widths = header.map((h, i) => body.reduce((m, r) => Math.max(m, r[i]!.length), h.length));
    const line = (cells: string[]) =>
      cells
        .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd();
    return [line(header), ...body.map(line)].join('\n') + '\n';
  }
  const natural = header.map((h, i) => body.reduce((m, r) => Math.max(m, r[i]!.length), h.length));
  const widths = opts.width ? fitWidths(natural, opts.width) : natural;
  const table = new Table({
    head: header,
    colWidths: widths.map((w) => w + 2),
    truncate: '…',
    wordWrap: false,
    style: { head: [], border: [], compact: true },
  });
  for (const r of body) table.push(r);
  return `${table.toString()}\n`;
}

export function tableWriter(sink: Writable, opts: WriterOptions): ResultWriter {
  const results: HostResult[] = [];
  const seen = new Set<string>();
  return {
    async write(r) {
      results.push(r);
      for (const row of r.rows) for (const k in row) seen.add(k);
    },
    async end() {
      // The union even under a fixed layout: a table is drawn at the end, and no column is left out.
      const columns = unionColumns(seen, opts.layout);
      const sorted = results.map((r, i) => [r, i] as const).sort(([a, i], [b, j]) => byCodePoint(a.host, b.host) || i - j);
      const body: string[][] = [];
      for (const [r] of sorted) for (const row of r.rows) body.push(cellsOf(r.host, row, columns));
      results.length = 0;
      if (body.length === 0) return;
      await put(sink, renderTable(headerOf(columns), body, { tty: opts.tty ?? false, width: opts.width }));
    },
    async abort() {
      results.length = 0;
    },
  };
}
