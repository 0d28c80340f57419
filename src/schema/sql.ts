/**
 * Just enough SQLite to know which tables a query reads and where its output columns come from.
 *
 * osquery SQL is SQLite; users paste anything into `osfleet query`, so this never throws: on input it
 * does not understand it returns what it found so far. It is a tolerant recursive-descent reader over
 * tokens, not a validator — SQLite on the host is the judge of what is valid.
 */
import type { TableSchema } from './types.js';

export interface TableRef {
  /** Lower-cased table name as osquery knows it (schema prefix such as `main.` dropped). */
  name: string;
  /** The alias as written, if any. */
  alias?: string;
}

export interface OutputColumn {
  /** The name SQLite gives the column: the alias, else the column name, else the expression text. */
  name: string;
  /** Source table when the expression is a bare (optionally qualified) column of a known table. */
  table?: string;
  /** Source column (the schema's spelling). */
  column?: string;
}

export interface OutputDescription {
  /** null when the select list has `*` or `t.*`: the caller then reads the row's keys. */
  columns: OutputColumn[] | null;
  /** Tables the outermost SELECT reads (through subqueries and CTEs in its FROM), in order. */
  tables: TableRef[];
}

export type SchemaLookup = (table: string) => TableSchema | undefined;

// ---------------------------------------------------------------------------------------------
// Tokens

export type TokKind = 'id' | 'qid' | 'str' | 'num' | 'op' | 'param';
/** A SQL token; comments and whitespace are dropped. */
export interface Tok {
  kind: TokKind;
  /** For id: upper-cased; for qid: the unquoted name; otherwise the raw text. */
  v: string;
  /** The identifier's text with quotes removed (id and qid); raw text otherwise. */
  text: string;
  start: number;
  end: number;
}

const isIdStart = (c: string) => /[A-Za-z_\u0080-\uffff]/.test(c);
const isIdPart = (c: string) => /[A-Za-z0-9_$\u0080-\uffff]/.test(c);

/** SQLite-style tokens; never throws (unterminated strings and comments run to the end). */
export function tokenize(sql: string): Tok[] {
  const toks: Tok[] = [];
  const n = sql.length;
  let i = 0;
  const push = (kind: TokKind, v: string, text: string, start: number) => toks.push({ kind, v, text, start, end: i });
  while (i < n) {
    const c = sql[i]!;
    const start = i;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '-' && sql[i + 1] === '-') {
      while (i < n && sql[i] !== '\n') i++;
    } else if (c === '/' && sql[i + 1] === '*') {
      const close = sql.indexOf('*/', i + 2);
      i = close < 0 ? n : close + 2;
    } else if (c === "'" || c === '"' || c === '`' || c === '[') {
      const q = c === '[' ? ']' : c;
      let val = '';
      i++;
      for (;;) {
        if (i >= n) break;
        const d = sql[i]!;
        if (d === q) {
          if (q !== ']' && sql[i + 1] === q) {
            val += q;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        val += d;
        i++;
      }
      if (c === "'") push('str', sql.slice(start, i), val, start);
      else push('qid', val, val, start);
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(sql[i + 1] ?? ''))) {
      if (c === '0' && (sql[i + 1] === 'x' || sql[i + 1] === 'X')) {
        i += 2;
        while (i < n && /[0-9A-Fa-f]/.test(sql[i]!)) i++;
      } else {
        while (i < n && /[0-9.]/.test(sql[i]!)) i++;
        if ((sql[i] === 'e' || sql[i] === 'E') && /[-+0-9]/.test(sql[i + 1] ?? '')) {
          i += 2;
          while (i < n && /[0-9]/.test(sql[i]!)) i++;
        }
      }
      const raw = sql.slice(start, i);
      push('num', raw, raw, start);
    } else if (isIdStart(c)) {
      while (i < n && isIdPart(sql[i]!)) i++;
      const raw = sql.slice(start, i);
      // x'0A' is a blob literal, not an identifier followed by a string.
      if ((raw === 'x' || raw === 'X') && sql[i] === "'") {
        const close = sql.indexOf("'", i + 1);
        i = close < 0 ? n : close + 1;
        push('str', sql.slice(start, i), sql.slice(start, i), start);
      } else push('id', raw.toUpperCase(), raw, start);
    } else if (c === '?' || ((c === ':' || c === '@' || c === '$') && isIdStart(sql[i + 1] ?? ''))) {
      i++;
      while (i < n && isIdPart(sql[i]!)) i++;
      push('param', sql.slice(start, i), sql.slice(start, i), start);
    } else {
      const two = sql.slice(i, i + 2);
      if (['||', '<=', '>=', '<>', '!=', '==', '<<', '>>', '->'].includes(two)) {
        i += two === '->' && sql[i + 2] === '>' ? 3 : 2;
      } else i++;
      const raw = sql.slice(start, i);
      push('op', raw, raw, start);
    }
  }
  return toks;
}

// ---------------------------------------------------------------------------------------------
// Parse tree

interface ResultCol {
  star: boolean;
  /** Qualifier of `t.*` or `t.col`. */
  qualifier?: string;
  /** Set when the expression is a bare column reference. */
  column?: string;
  alias?: string;
  text: string;
}

type FromItem =
  | { kind: 'table'; name: string; alias?: string }
  | { kind: 'sub'; alias?: string; select: Compound | null };

interface Core {
  columns: ResultCol[];
  from: FromItem[];
  /** Columns named in USING (...) or shared by a NATURAL join: unqualified use is not ambiguous. */
  using: Set<string>;
  natural: boolean;
}

interface Compound {
  cores: Core[];
  ctes: Map<string, Compound | null>;
}

// Words that end an expression, a FROM item or an alias position.
const CLAUSE = new Set([
  'FROM', 'WHERE', 'GROUP', 'HAVING', 'ORDER', 'LIMIT', 'OFFSET', 'WINDOW', 'UNION', 'INTERSECT', 'EXCEPT',
  'RETURNING', 'ON', 'USING', 'JOIN', 'NATURAL', 'LEFT', 'RIGHT', 'FULL', 'INNER', 'CROSS', 'OUTER',
  'INDEXED', 'NOT', 'AS', 'SELECT', 'VALUES', 'WITH', 'BY', 'AND', 'OR', 'IS', 'IN', 'LIKE', 'GLOB',
  'MATCH', 'REGEXP', 'BETWEEN', 'ESCAPE', 'COLLATE', 'CASE', 'WHEN', 'THEN', 'ELSE', 'END', 'NULL',
  'ISNULL', 'NOTNULL', 'DISTINCT', 'ALL', 'FILTER', 'OVER', 'ASC', 'DESC', 'LATERAL',
]);
const SET_OPS = new Set(['UNION', 'INTERSECT', 'EXCEPT']);

class Parser {
  private i = 0;
  /** Every table in a FROM or JOIN anywhere, in order of appearance. */
  readonly allTables: TableRef[] = [];
  readonly cteNames = new Set<string>();
  private depthGuard = 0;

  constructor(private readonly toks: Tok[], private readonly sql: string) {}

  private peek(o = 0): Tok | undefined {
    return this.toks[this.i + o];
  }
  private isKw(t: Tok | undefined, ...words: string[]): boolean {
    return t !== undefined && t.kind === 'id' && words.includes(t.v);
  }
  private isOp(t: Tok | undefined, op: string): boolean {
    return t !== undefined && t.kind === 'op' && t.v === op;
  }
  private eof(): boolean {
    return this.i >= this.toks.length;
  }

  /** All statements; the first one that is a query is the one described. */
  statements(): Array<Compound | null> {
    const out: Array<Compound | null> = [];
    while (!this.eof()) {
      const before = this.i;
      if (this.isOp(this.peek(), ';')) {
        this.i++;
        continue;
      }
      out.push(this.statement());
      // Whatever follows that we did not understand: skip to the next statement.
      while (!this.eof() && !this.isOp(this.peek(), ';')) {
        if (this.isOp(this.peek(), '(')) this.paren();
        else this.i++;
      }
      if (this.i === before) this.i++;
    }
    return out;
  }

  /** [WITH ...] select-core (set-op select-core)* [ORDER BY ...] [LIMIT ...] */
  private statement(): Compound | null {
    if (++this.depthGuard > 200) return null;
    try {
      const ctes = new Map<string, Compound | null>();
      if (this.isKw(this.peek(), 'WITH')) {
        this.i++;
        if (this.isKw(this.peek(), 'RECURSIVE')) this.i++;
        for (;;) {
          const name = this.peek();
          if (!name || (name.kind !== 'id' && name.kind !== 'qid')) break;
          this.i++;
          const cteName = name.text.toLowerCase();
          this.cteNames.add(cteName);
          if (this.isOp(this.peek(), '(')) this.paren();
          if (this.isKw(this.peek(), 'AS')) this.i++;
          if (this.isKw(this.peek(), 'NOT')) this.i++;
          if (this.isKw(this.peek(), 'MATERIALIZED')) this.i++;
          if (this.isOp(this.peek(), '(')) {
            this.i++;
            ctes.set(cteName, this.statement());
            this.skipTo(')');
            if (this.isOp(this.peek(), ')')) this.i++;
          }
          if (this.isOp(this.peek(), ',')) {
            this.i++;
            continue;
          }
          break;
        }
      }
      const cores: Core[] = [];
      for (;;) {
        const core = this.core();
        if (core) cores.push(core);
        if (SET_OPS.has(this.peekKw())) {
          this.i++;
          if (this.isKw(this.peek(), 'ALL')) this.i++;
          continue;
        }
        break;
      }
      // ORDER BY / LIMIT: expressions that may hold subqueries.
      while (this.isKw(this.peek(), 'ORDER', 'LIMIT', 'OFFSET')) {
        this.i++;
        if (this.isKw(this.peek(), 'BY')) this.i++;
        this.exprList();
      }
      return cores.length > 0 ? { cores, ctes } : null;
    } finally {
      this.depthGuard--;
    }
  }

  private peekKw(): string {
    const t = this.peek();
    return t && t.kind === 'id' ? t.v : '';
  }

  private core(): Core | null {
    if (this.isKw(this.peek(), 'VALUES')) {
      this.i++;
      this.exprList();
      return null;
    }
    if (!this.isKw(this.peek(), 'SELECT')) return null;
    this.i++;
    if (this.isKw(this.peek(), 'DISTINCT', 'ALL')) this.i++;
    const core: Core = { columns: [], from: [], using: new Set(), natural: false };
    for (;;) {
      const start = this.i;
      this.expr();
      if (this.i > start) core.columns.push(this.resultCol(start, this.i));
      if (this.isOp(this.peek(), ',')) {
        this.i++;
        continue;
      }
      break;
    }
    if (this.isKw(this.peek(), 'FROM')) {
      this.i++;
      this.fromList(core);
    }
    // WHERE / GROUP BY / HAVING / WINDOW: skip, but read the subqueries inside.
    while (this.isKw(this.peek(), 'WHERE', 'GROUP', 'HAVING', 'WINDOW')) {
      this.i++;
      if (this.isKw(this.peek(), 'BY')) this.i++;
      this.exprList();
    }
    return core;
  }

  private fromList(core: Core): void {
    for (;;) {
      const item = this.fromItem();
      if (item) core.from.push(item);
      // Join constraint.
      if (this.isKw(this.peek(), 'ON')) {
        this.i++;
        this.expr();
      } else if (this.isKw(this.peek(), 'USING')) {
        this.i++;
        if (this.isOp(this.peek(), '(')) {
          this.i++;
          while (!this.eof() && !this.isOp(this.peek(), ')')) {
            const t = this.peek()!;
            if (t.kind === 'id' || t.kind === 'qid') core.using.add(t.text.toLowerCase());
            this.i++;
          }
          if (this.isOp(this.peek(), ')')) this.i++;
        }
      }
      // Join operator.
      if (this.isOp(this.peek(), ',')) {
        this.i++;
        continue;
      }
      let sawJoinWord = false;
      while (this.isKw(this.peek(), 'NATURAL', 'LEFT', 'RIGHT', 'FULL', 'INNER', 'CROSS', 'OUTER')) {
        if (this.isKw(this.peek(), 'NATURAL')) core.natural = true;
        this.i++;
        sawJoinWord = true;
      }
      if (this.isKw(this.peek(), 'JOIN')) {
        this.i++;
        continue;
      }
      if (sawJoinWord) continue;
      break;
    }
  }

  private fromItem(): FromItem | null {
    const t = this.peek();
    if (!t) return null;
    if (this.isOp(t, '(')) {
      this.i++;
      let item: FromItem;
      if (this.isKw(this.peek(), 'SELECT', 'WITH', 'VALUES')) {
        item = { kind: 'sub', select: this.statement() };
      } else {
        // A parenthesised join: its tables belong to this FROM.
        const inner: Core = { columns: [], from: [], using: new Set(), natural: false };
        this.fromList(inner);
        const select: Compound = { cores: [{ ...inner, columns: [{ star: true, text: '*' }] }], ctes: new Map() };
        item = { kind: 'sub', select };
      }
      this.skipTo(')');
      if (this.isOp(this.peek(), ')')) this.i++;
      const alias = this.alias();
      if (alias !== undefined) item.alias = alias;
      return item;
    }
    if (t.kind !== 'id' && t.kind !== 'qid') return null;
    if (t.kind === 'id' && CLAUSE.has(t.v)) return null;
    this.i++;
    let name = t.text;
    // schema.table
    while (this.isOp(this.peek(), '.') && this.peek(1) && (this.peek(1)!.kind === 'id' || this.peek(1)!.kind === 'qid')) {
      name = this.peek(1)!.text;
      this.i += 2;
    }
    if (this.isOp(this.peek(), '(')) {
      // A table-valued function such as json_each(...): not an osquery table, but read its arguments.
      this.i++;
      this.exprList();
      this.skipTo(')');
      if (this.isOp(this.peek(), ')')) this.i++;
      const alias = this.alias();
      return { kind: 'sub', select: null, ...(alias !== undefined ? { alias } : {}) };
    }
    const alias = this.alias();
    if (this.isKw(this.peek(), 'INDEXED')) {
      this.i += 2;
      this.i++;
    } else if (this.isKw(this.peek(), 'NOT') && this.isKw(this.peek(1), 'INDEXED')) this.i += 2;
    const ref: TableRef = { name: name.toLowerCase() };
    if (alias !== undefined) ref.alias = alias;
    this.allTables.push(ref);
    return { kind: 'table', ...ref };
  }

  private alias(): string | undefined {
    if (this.isKw(this.peek(), 'AS')) {
      const a = this.peek(1);
      if (a && (a.kind === 'id' || a.kind === 'qid' || a.kind === 'str')) {
        this.i += 2;
        return a.text;
      }
      this.i++;
      return undefined;
    }
    const a = this.peek();
    if (a && (a.kind === 'qid' || (a.kind === 'id' && !CLAUSE.has(a.v)))) {
      this.i++;
      return a.text;
    }
    return undefined;
  }

  private exprList(): void {
    for (;;) {
      this.expr();
      if (this.isOp(this.peek(), ',')) {
        this.i++;
        continue;
      }
      return;
    }
  }

  /**
   * Skips one expression: up to a ',' ')' ';' or clause word at this depth, reading the subqueries
   * it contains. An alias after a result column is part of the skipped range (resultCol splits it).
   */
  private expr(): void {
    let caseDepth = 0;
    const start = this.i;
    while (!this.eof()) {
      const t = this.peek()!;
      // A soft keyword where an operand is expected is a column name (`SELECT offset, t.end`).
      if (t.kind === 'id' && SOFT.has(t.v) && (this.i === start || this.isOp(this.toks[this.i - 1], '.'))) {
        this.i++;
        continue;
      }
      if (t.kind === 'op') {
        if (t.v === ',' || t.v === ')' || t.v === ';') return;
        if (t.v === '(') {
          this.paren();
          continue;
        }
        this.i++;
        continue;
      }
      if (t.kind === 'id') {
        if (t.v === 'CASE') caseDepth++;
        else if (t.v === 'END' && caseDepth > 0) caseDepth--;
        else if (
          caseDepth === 0 &&
          ['FROM', 'WHERE', 'GROUP', 'HAVING', 'ORDER', 'LIMIT', 'WINDOW', 'UNION', 'INTERSECT', 'EXCEPT', 'ON', 'USING', 'JOIN', 'NATURAL', 'INNER', 'CROSS', 'LEFT', 'RIGHT', 'FULL', 'RETURNING', 'OFFSET', 'SELECT', 'VALUES'].includes(t.v)
        ) {
          // `ORDER BY` inside window functions is within parentheses, so never reaches here.
          return;
        }
      }
      this.i++;
    }
  }

  /** At '(': a subquery, or a nested expression list. */
  private paren(): void {
    this.i++;
    if (this.isKw(this.peek(), 'SELECT', 'WITH', 'VALUES')) {
      this.statement();
    } else {
      // Function arguments, IN lists, window definitions (which may hold ORDER BY).
      while (!this.eof() && !this.isOp(this.peek(), ')')) {
        const before = this.i;
        this.expr();
        if (this.isOp(this.peek(), ',') || (this.i === before && !this.isOp(this.peek(), ')'))) this.i++;
      }
    }
    this.skipTo(')');
    if (this.isOp(this.peek(), ')')) this.i++;
  }

  /** Skips balanced tokens up to (not over) the ')' closing the current level, reading subqueries. */
  private skipTo(close: ')'): void {
    while (!this.eof() && !this.isOp(this.peek(), close)) {
      if (this.isOp(this.peek(), '(')) this.paren();
      else this.i++;
    }
  }

  private resultCol(start: number, end: number): ResultCol {
    let toks = this.toks.slice(start, end);
    let alias: string | undefined;
    const last = toks[toks.length - 1];
    const prev = toks[toks.length - 2];
    if (toks.length >= 3 && prev && prev.kind === 'id' && prev.v === 'AS' && last && last.kind !== 'op') {
      alias = last.text;
      toks = toks.slice(0, -2);
    } else if (toks.length >= 2 && last && prev && (last.kind === 'qid' || (last.kind === 'id' && (!CLAUSE.has(last.v) || softAlias(toks)) && !NON_ALIAS_TAIL.has(last.v)))) {
      // `expr alias`: the alias follows an operand, never an operator or a dot.
      const prevEndsOperand =
        prev.kind === 'id'
          ? !CLAUSE.has(prev.v) || prev.v === 'END' || prev.v === 'NULL' || (toks.length === 2 && SOFT.has(prev.v))
          : prev.kind !== 'op' || prev.v === ')';
      if (prevEndsOperand) {
        alias = last.text;
        toks = toks.slice(0, -1);
      }
    }
    const fullFirst = toks[0];
    const fullLast = toks[toks.length - 1];
    const text = fullFirst && fullLast ? this.sql.slice(fullFirst.start, fullLast.end) : '';
    // SQLite sees through parentheses: `(abc)` is still the column abc.
    while (toks.length >= 3 && this.isOp(toks[0], '(') && this.isOp(toks[toks.length - 1], ')') && closesAtEnd(toks)) toks = toks.slice(1, -1);
    const first = toks[0];
    const lastTok = toks[toks.length - 1];
        const col: ResultCol = { star: false, text };
    if (alias !== undefined) col.alias = alias;
    const isName = (t: Tok | undefined) => t !== undefined && (t.kind === 'qid' || (t.kind === 'id' && (!CLAUSE.has(t.v) || SOFT.has(t.v))));
    if (toks.length === 1 && this.isOp(first, '*')) col.star = true;
    else if (toks.length === 1 && isName(first)) col.column = first!.text;
    else if (toks.length >= 3 && toks.length % 2 === 1 && toks.every((t, k) => (k % 2 === 1 ? this.isOp(t, '.') : k === toks.length - 1 ? isName(t) || this.isOp(t, '*') : isName(t)))) {
      // [schema.]table.column or table.*
      col.qualifier = toks[toks.length - 3]!.text;
      if (this.isOp(lastTok, '*')) col.star = true;
      else col.column = lastTok!.text;
    }
    return col;
  }
}

/**
 * SQLite keywords that also name osquery columns (process_memory_map.end/offset, iptables.match,
 * wmi_filter_consumer_binding.filter): SQLite's parser falls back to reading them as identifiers.
 */
const SOFT = new Set(['END', 'OFFSET', 'MATCH', 'FILTER']);

/** The last token is a soft keyword used as an alias (`x filter`, `x end` with no CASE open). */
function softAlias(toks: Tok[]): boolean {
  const last = toks[toks.length - 1];
  if (!last || last.kind !== 'id' || !SOFT.has(last.v)) return false;
  if (last.v !== 'END') return true;
  const count = (w: string) => toks.filter((t) => t.kind === 'id' && t.v === w).length;
  return count('END') > count('CASE');
}

/** True when the '(' at toks[0] closes at the last token (so the parentheses wrap everything). */
function closesAtEnd(toks: Tok[]): boolean {
  let depth = 0;
  for (let k = 0; k < toks.length; k++) {
    const t = toks[k]!;
    if (t.kind === 'op' && t.v === '(') depth++;
    else if (t.kind === 'op' && t.v === ')') {
      depth--;
      if (depth === 0) return k === toks.length - 1;
    }
  }
  return false;
}

// Tokens that end an expression but cannot be an alias after it.
const NON_ALIAS_TAIL = new Set(['TRUE', 'FALSE', 'CURRENT_TIME', 'CURRENT_DATE', 'CURRENT_TIMESTAMP', 'NOCASE', 'BINARY', 'RTRIM']);

function parse(sql: string): Parser & { stmts: Array<Compound | null> } {
  const p = new Parser(tokenize(typeof sql === 'string' ? sql : ''), typeof sql === 'string' ? sql : '') as Parser & {
    stmts: Array<Compound | null>;
  };
  try {
    p.stmts = p.statements();
  } catch {
    // A bug here must not take a query down: keep what was read.
    p.stmts ??= [];
  }
  return p;
}

const dedupe = (refs: TableRef[]): TableRef[] => {
  const seen = new Set<string>();
  return refs.filter((r) => {
    const key = `${r.name}\u0000${r.alias?.toLowerCase() ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
};

/** Tables in FROM and JOIN clauses anywhere in the SQL (CTE names excluded), each name/alias pair once. */
export function tablesInSql(sql: string): TableRef[] {
  const p = parse(sql);
  return dedupe(p.allTables.filter((t) => !p.cteNames.has(t.name)));
}

/** Distinct lower-case table names of tablesInSql. */
export function tableNamesInSql(sql: string): string[] {
  return [...new Set(tablesInSql(sql).map((t) => t.name))];
}

// ---------------------------------------------------------------------------------------------
// Output columns

interface Source {
  table: string;
  column: string;
}

/** A column found in a FROM item: the name it has there, and its source table column when known. */
interface Hit {
  name: string;
  source?: Source;
}
type Found = Hit | 'unknown' | null;

interface Scope {
  ctes: Map<string, Compound | null>;
  lookup: SchemaLookup;
  depth: number;
}

/** Where a column named `name` of one FROM item comes from: a Hit, 'unknown' when it may exist but we cannot tell, or null when it surely is not there. */
function findInItem(item: FromItem, name: string, scope: Scope): Found {
  if (scope.depth > 20) return 'unknown';
  if (item.kind === 'table') {
    const cte = scope.ctes.get(item.name);
    if (cte !== undefined) return cte ? findInCompound(cte, name, scope) : 'unknown';
    const schema = scope.lookup(item.name);
    if (!schema) return 'unknown';
    const col = schema.columns.find((c) => c.name.toLowerCase() === name.toLowerCase());
    return col ? { name: col.name, source: { table: schema.name, column: col.name } } : null;
  }
  return item.select ? findInCompound(item.select, name, scope) : 'unknown';
}

function findInCompound(c: Compound, name: string, outer: Scope): Found {
  const scope: Scope = { ...outer, ctes: new Map([...outer.ctes, ...c.ctes]), depth: outer.depth + 1 };
  const core = c.cores[0];
  if (!core) return 'unknown';
  const out = outputOf(core, scope);
  if (out === null) {
    // SELECT *: the column is whichever FROM item has it.
    return resolveUnqualified(core, name, scope);
  }
  const hit = out.find((o) => o.name.toLowerCase() === name.toLowerCase());
  if (!hit) return null;
  return hit.table && hit.column ? { name: hit.name, source: { table: hit.table, column: hit.column } } : { name: hit.name };
}

function resolveUnqualified(core: Core, name: string, scope: Scope): Found {
  const hits: Hit[] = [];
  let unknown = false;
  for (const item of core.from) {
    const r = findInItem(item, name, scope);
    if (r === 'unknown') unknown = true;
    else if (r) hits.push(r);
  }
  if (hits.length === 1) return hits[0]!;
  if (hits.length > 1) {
    // USING/NATURAL merge same-named columns, so the left one is meant; otherwise SQLite itself
    // would reject the query as ambiguous.
    return core.using.has(name.toLowerCase()) || core.natural ? hits[0]! : 'unknown';
  }
  return unknown ? 'unknown' : null;
}

function resolve(core: Core, col: ResultCol, scope: Scope): Found {
  if (col.column === undefined) return null;
  if (col.qualifier !== undefined) {
    const q = col.qualifier.toLowerCase();
    const item =
      core.from.find((it) => it.alias?.toLowerCase() === q) ??
      core.from.find((it) => it.alias === undefined && it.kind === 'table' && it.name === q);
    return item ? findInItem(item, col.column, scope) : null;
  }
  return resolveUnqualified(core, col.column, scope);
}

function outputOf(core: Core, scope: Scope): OutputColumn[] | null {
  if (core.columns.some((c) => c.star)) return null;
  return core.columns.map((c) => {
    const found = resolve(core, c, scope);
    const hit = found && found !== 'unknown' ? found : undefined;
    // SQLite names a column reference by its name where it is defined (the declared name of a
    // table column, the output name of a subquery's), an aliased one by its alias, and anything
    // else by the expression's text as written.
    const name = c.alias ?? hit?.name ?? c.column ?? c.text;
    const out: OutputColumn = { name };
    if (hit?.source) {
      out.table = hit.source.table;
      out.column = hit.source.column;
    }
    return out;
  });
}

function tablesOfItem(item: FromItem, scope: Scope, acc: TableRef[]): void {
  if (scope.depth > 20) return;
  if (item.kind === 'table') {
    const cte = scope.ctes.get(item.name);
    if (cte !== undefined) {
      if (cte) tablesOfCompound(cte, { ...scope, depth: scope.depth + 1 }, acc);
      return;
    }
    const ref: TableRef = { name: item.name };
    if (item.alias !== undefined) ref.alias = item.alias;
    acc.push(ref);
  } else if (item.select) tablesOfCompound(item.select, { ...scope, depth: scope.depth + 1 }, acc);
}

function tablesOfCompound(c: Compound, outer: Scope, acc: TableRef[]): void {
  const scope: Scope = { ...outer, ctes: new Map([...outer.ctes, ...c.ctes]) };
  for (const core of c.cores) for (const item of core.from) tablesOfItem(item, scope, acc);
}

/**
 * The output columns of the first query in `sql`, in order, with the table and column each bare
 * column reference comes from, resolved against `lookup` (the osquery schema by default, passed by
 * index.ts). Never throws.
 */
export function describeOutputWith(sql: string, lookup: SchemaLookup): OutputDescription {
  try {
    const p = parse(sql);
    const stmt = p.stmts.find((s) => s !== null);
    if (!stmt) return { columns: null, tables: [] };
    const scope: Scope = { ctes: stmt.ctes, lookup, depth: 0 };
    const tables: TableRef[] = [];
    tablesOfCompound(stmt, { ...scope, ctes: new Map() }, tables);
    const core = stmt.cores[0]!;
    return { columns: outputOf(core, scope), tables: dedupe(tables) };
  } catch {
    return { columns: null, tables: [] };
  }
}

