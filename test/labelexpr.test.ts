import { describe, expect, it } from 'vitest';
import { evaluateLabelExpr, labelNames, parseLabelExpr } from '../src/labelexpr.js';
import { UsageError } from '../src/errors.js';

const members: Record<string, number[]> = { macOS: [1, 2], servers: [2, 3], 'All Hosts': [1, 2, 3, 4], 'Build Hosts': [4] };
const universe = new Set([1, 2, 3, 4]);
const run = (e: string) => [...evaluateLabelExpr(parseLabelExpr(e), (n) => new Set(members[n] ?? []), universe)].sort();

describe('label algebra', () => {
  it.each([
    ['macOS', [1, 2]],
    ['macOS AND NOT servers', [1]],
    ['macOS OR servers', [1, 2, 3]],
    ['NOT macOS', [3, 4]],
    ['All Hosts AND NOT macOS', [3, 4]],
    ['"Build Hosts" OR macOS AND servers', [2, 4]],
    ['("Build Hosts" OR macOS) AND servers', [2]],
    ["NOT NOT 'macOS'", [1, 2]],
    ['macos and not SERVERS', []], // names are matched by the caller; keywords are case-insensitive
  ])('%s → %j', (e, ids) => {
    expect(run(e)).toEqual(ids);
  });

  it('lists the names it needs', () => {
    expect([...labelNames(parseLabelExpr('(A OR "B c") AND NOT d e'))]).toEqual(['A', 'B c', 'd e']);
  });

  it.each([
    ['', 'empty expression at column 1'],
    ['macOS AND', 'expected a label name at column 10'],
    ['(macOS OR servers', 'expected ")" at column 18'],
    ['macOS )', 'unexpected ")" at column 7'],
    ['AND macOS', 'unexpected "AND" at column 1'],
    ['"unclosed', 'unclosed quote at column 1'],
  ])('%j fails: %s', (e, msg) => {
    expect(() => parseLabelExpr(e)).toThrow(UsageError);
    expect(() => parseLabelExpr(e)).toThrow(msg);
  });
});
