/**
 * Label algebra for `query --label-expr`: `macOS AND NOT servers`, `(A OR B) AND NOT "Build Hosts"`.
 * Fleet only takes the union of labels, so osfleet resolves the expression to hosts itself.
 * Precedence: NOT, then AND, then OR. Unquoted names may have several words (`All Hosts AND NOT macOS`).
 */
import { UsageError } from './errors.js';

export type LabelExpr =
  | { op: 'label'; name: string }
  | { op: 'not'; expr: LabelExpr }
  | { op: 'and' | 'or'; left: LabelExpr; right: LabelExpr };

type Token = { kind: 'name' | 'and' | 'or' | 'not' | 'lparen' | 'rparen'; text: string; col: number };

function fail(expr: string, col: number, what: string): never {
  throw new UsageError(`--label-expr: ${what} at column ${col}`, `in: ${expr}\n      ${' '.repeat(Math.max(0, col - 1))}^`);
}

function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  let bare: Token | undefined;
  let i = 0;
  while (i < expr.length) {
    const c = expr[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '(' || c === ')') {
      tokens.push({ kind: c === '(' ? 'lparen' : 'rparen', text: c, col: i + 1 });
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      const end = expr.indexOf(c, i + 1);
      if (end < 0) fail(expr, i + 1, 'unclosed quote');
      const name = expr.slice(i + 1, end);
      if (name.trim() === '') fail(expr, i + 1, 'empty label name');
      tokens.push({ kind: 'name', text: name, col: i + 1 });
      i = end + 1;
      continue;
    }
    let j = i;
    while (j < expr.length && !/[\s()"']/.test(expr[j]!)) j++;
    const word = expr.slice(i, j);
    const upper = word.toUpperCase();
    if (upper === 'AND' || upper === 'OR' || upper === 'NOT') {
      tokens.push({ kind: upper.toLowerCase() as 'and' | 'or' | 'not', text: word, col: i + 1 });
    } else {
      const prev = tokens[tokens.length - 1];
      // Consecutive bare words form one name: `All Hosts`. Tracking the bare token (rather than
      // re-reading the text since it began) keeps a long run of words linear.
      if (prev && prev === bare) {
        prev.text = `${prev.text} ${word}`;
      } else {
        bare = { kind: 'name', text: word, col: i + 1 };
        tokens.push(bare);
      }
    }
    i = j;
  }
  return tokens;
}

/** Deeper nesting is no real label expression, and unbounded recursion would overflow the stack. */
export const MAX_LABEL_EXPR_DEPTH = 64;
/** AND/OR chains build a tree as deep as they are long, which evaluation walks recursively. */
export const MAX_LABEL_EXPR_TOKENS = 1000;

export function parseLabelExpr(expr: string): LabelExpr {
  const tokens = tokenize(expr);
  if (tokens.length === 0) fail(expr, 1, 'empty expression');
  const over = tokens[MAX_LABEL_EXPR_TOKENS];
  if (over) fail(expr, over.col, `too long (more than ${MAX_LABEL_EXPR_TOKENS} names and operators)`);
  let pos = 0;
  let depth = 0;
  const enter = (t: Token) => {
    if (++depth > MAX_LABEL_EXPR_DEPTH) fail(expr, t.col, `nested more than ${MAX_LABEL_EXPR_DEPTH} levels deep`);
  };
  const peek = () => tokens[pos];
  const endCol = expr.length + 1;
  const parseOr = (): LabelExpr => {
    let left = parseAnd();
    while (peek()?.kind === 'or') {
      pos++;
      left = { op: 'or', left, right: parseAnd() };
    }
    return left;
  };
  const parseAnd = (): LabelExpr => {
    let left = parseNot();
    while (peek()?.kind === 'and') {
      pos++;
      left = { op: 'and', left, right: parseNot() };
    }
    return left;
  };
  const parseNot = (): LabelExpr => {
    const t = peek();
    if (t?.kind === 'not') {
      pos++;
      enter(t);
      const inner = parseNot();
      depth--;
      return { op: 'not', expr: inner };
    }
    return parseAtom();
  };
  const parseAtom = (): LabelExpr => {
    const t = peek();
    if (!t) fail(expr, endCol, 'expected a label name');
    if (t.kind === 'name') {
      pos++;
      return { op: 'label', name: t.text };
    }
    if (t.kind === 'lparen') {
      pos++;
      enter(t);
      const inner = parseOr();
      depth--;
      const close = peek();
      if (close?.kind !== 'rparen') fail(expr, close?.col ?? endCol, 'expected ")"');
      pos++;
      return inner;
    }
    fail(expr, t.col, `unexpected "${t.text}"`);
  };
  const tree = parseOr();
  const extra = peek();
  if (extra) fail(expr, extra.col, `unexpected "${extra.text}"`);
  return tree;
}

export function labelNames(e: LabelExpr, out = new Set<string>()): Set<string> {
  if (e.op === 'label') out.add(e.name);
  else if (e.op === 'not') labelNames(e.expr, out);
  else {
    labelNames(e.left, out);
    labelNames(e.right, out);
  }
  return out;
}

/** Evaluates to the set of host ids; `universe` is every host (for NOT). */
export function evaluateLabelExpr(e: LabelExpr, members: (name: string) => ReadonlySet<number>, universe: ReadonlySet<number>): Set<number> {
  switch (e.op) {
    case 'label':
      return new Set(members(e.name));
    case 'not': {
      const inner = evaluateLabelExpr(e.expr, members, universe);
      return new Set([...universe].filter((id) => !inner.has(id)));
    }
    case 'and': {
      const l = evaluateLabelExpr(e.left, members, universe);
      const r = evaluateLabelExpr(e.right, members, universe);
      return new Set([...l].filter((id) => r.has(id)));
    }
    case 'or':
      return new Set([...evaluateLabelExpr(e.left, members, universe), ...evaluateLabelExpr(e.right, members, universe)]);
  }
}
