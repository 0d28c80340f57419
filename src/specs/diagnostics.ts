import { terminalCell } from '../terminal.js';
import type { Diagnostic, Pos, Severity } from './types.js';
import { editDistance } from '../edit-distance.js';

export function diag(source: string, pos: Pos, severity: Severity, code: string, message: string): Diagnostic {
  return { source, line: pos.line, col: pos.col, severity, code, message };
}

/**
 * `file:line:col: error: message`, the shape compilers print and editors jump to; one line for a
 * person, so names from files (queries, packs, paths) are escaped and cannot drive the terminal.
 */
export function formatDiagnostic(d: Diagnostic): string {
  return terminalCell(`${d.source}:${d.line}:${d.col}: ${d.severity}: ${d.message}`);
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

export function countBySeverity(diagnostics: readonly Diagnostic[]): { errors: number; warnings: number } {
  let errors = 0;
  let warnings = 0;
  for (const d of diagnostics) {
    if (d.severity === 'error') errors++;
    else warnings++;
  }
  return { errors, warnings };
}

/**
 * Sorted for reading: sources in the order they were given (not alphabetically: the user chose it),
 * then line and column; the sort is stable, so diagnostics at one position keep their check order.
 */
export function sortDiagnostics(diagnostics: readonly Diagnostic[], sourceOrder: readonly string[] = []): Diagnostic[] {
  const order = new Map<string, number>();
  for (const s of sourceOrder) if (!order.has(s)) order.set(s, order.size);
  for (const d of diagnostics) if (!order.has(d.source)) order.set(d.source, order.size);
  return [...diagnostics].sort(
    (a, b) => (order.get(a.source) ?? 0) - (order.get(b.source) ?? 0) || a.line - b.line || a.col - b.col,
  );
}

/** Drops exact repeats (the same check firing twice at one place, e.g. a query shared by two packs). */
export function dedupeDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const d of diagnostics) {
    const key = `${d.source}\0${d.line}\0${d.col}\0${d.severity}\0${d.code}\0${d.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(d);
  }
  return out;
}

export function suggest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(word.length / 4)) ? best : undefined;
}
