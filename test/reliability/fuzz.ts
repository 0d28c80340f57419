/**
 * Input generators shared by the property tests: random text of several kinds, and mutations of
 * valid inputs (the typos people make: a deleted range, stray characters, a duplicated or swapped
 * line, a cut-off end). Mutating real files reaches deep into a parser, where random text only
 * scratches its first line.
 */
import fc from 'fast-check';

export type Mutation =
  | { op: 'delete'; at: number; len: number }
  | { op: 'insert'; at: number; text: string }
  | { op: 'replace'; at: number; text: string }
  | { op: 'dup-line'; at: number }
  | { op: 'swap-lines'; at: number; other: number }
  | { op: 'truncate'; at: number };

/** Characters that mean something to YAML, JSON, durations and label expressions. */
const NASTY = [
  '\t', '\n', '\r\n', ':', ': ', '- ', '{', '}', '[', ']', '"', "'", ',', '#', '&a ', '*a', '!', '|', '>', '%', '@', '`',
  '\\', '\u0000', '\uFEFF', '\u00a0', '\u2028', '\uD800', '💥', 'é', '---\n', '...\n', '? ', '<<: *a', 'null', 'true',
  '1e309', '-0', '0x1F', '(', ')', 'AND', 'OR', 'NOT', '5m', 'µs', '=', '+', '<html>',
];

export const nastyText = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom(...NASTY),
    fc.string({ maxLength: 8 }),
    fc.string({ unit: 'binary', maxLength: 8 }),
    fc.array(fc.constantFrom(...NASTY), { maxLength: 6 }).map((a) => a.join('')),
  );

/** Random text: ASCII, full Unicode (lone surrogates included), or a soup of significant tokens. */
export const randomText = (maxLength = 300): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: fc.constantFrom(...'{}[]:,"\'-#&*!|> \n\tabc019.'.split('')), maxLength }),
    fc.array(fc.constantFrom(...NASTY), { maxLength: 40 }).map((a) => a.join('')),
  );

export const mutation = (): fc.Arbitrary<Mutation> =>
  fc.oneof(
    fc.record({ op: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 40 }) }),
    fc.record({ op: fc.constant('insert' as const), at: fc.nat(), text: nastyText() }),
    fc.record({ op: fc.constant('replace' as const), at: fc.nat(), text: nastyText() }),
    fc.record({ op: fc.constant('dup-line' as const), at: fc.nat() }),
    fc.record({ op: fc.constant('swap-lines' as const), at: fc.nat(), other: fc.nat() }),
    fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  );

export function applyMutation(text: string, m: Mutation): string {
  const n = text.length;
  const at = n === 0 ? 0 : m.at % (n + 1);
  switch (m.op) {
    case 'delete':
      return text.slice(0, at) + text.slice(at + m.len);
    case 'insert':
      return text.slice(0, at) + m.text + text.slice(at);
    case 'replace':
      return text.slice(0, at) + m.text + text.slice(at + m.text.length);
    case 'truncate':
      return text.slice(0, at);
    case 'dup-line':
    case 'swap-lines': {
      const lines = text.split('\n');
      const i = m.at % lines.length;
      if (m.op === 'dup-line') lines.splice(i, 0, lines[i]!);
      else {
        const j = m.other % lines.length;
        [lines[i], lines[j]] = [lines[j]!, lines[i]!];
      }
      return lines.join('\n');
    }
  }
}

/** A valid seed with 1–5 mutations applied. */
export const mutated = (seeds: readonly string[]): fc.Arbitrary<string> =>
  fc
    .tuple(fc.constantFrom(...seeds), fc.array(mutation(), { minLength: 1, maxLength: 5 }))
    .map(([seed, ms]) => ms.reduce(applyMutation, seed));

/** Random text half the time, a mutated seed the other half. */
export const badInput = (seeds: readonly string[], maxLength?: number): fc.Arbitrary<string> =>
  fc.oneof(randomText(maxLength), mutated(seeds), mutated(seeds));
