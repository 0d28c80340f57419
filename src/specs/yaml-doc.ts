/**
 * YAML text → plain values, with the position of every field kept for later diagnostics: the
 * source file's line index, the stream cut into documents, and the converter that turns one
 * document's nodes into values within bounds. Pure: text in, values and positions out.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, parseAllDocuments, type Document, type Node } from 'yaml';
import type { FieldLoc, Pos, SourceFile } from './types.js';

/** Caps on converted values and nesting, so aliases or deep flows cannot exhaust memory or stack. */
const MAX_NODES = 100_000;
const MAX_DEPTH = 200;

export function makeSourceFile(source: string, text: string): SourceFile {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return {
    source,
    text,
    posAt(offset: number): Pos {
      let lo = 0;
      let hi = starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (starts[mid]! <= offset) lo = mid;
        else hi = mid - 1;
      }
      return { line: lo + 1, col: offset - starts[lo]! + 1 };
    },
  };
}

/** The first NUL, or undefined: NUL never occurs in YAML text, so it marks binary input. */
export function findBinary(text: string): number | undefined {
  const i = text.indexOf('\u0000');
  return i < 0 ? undefined : i;
}

/**
 * The documents of a stream, each with the offset its positions are relative to. yaml's
 * parseAllDocuments slows down quadratically with the number of documents (2000 documents: 1.3 s),
 * so the text is cut at document markers first, as fleetctl does: YAML forbids a `---` at the start
 * of a line inside any scalar, so such a line always starts a document. Directives (`%YAML`) need
 * the whole stream, so text with them is parsed in one go.
 */
export function yamlDocuments(body: string): Array<{ ydoc: Document.Parsed; base: number }> {
  const opts = { uniqueKeys: true, strict: true } as const;
  const all = (text: string, base: number) => {
    const parsed = parseAllDocuments(text, opts);
    return (Array.isArray(parsed) ? parsed : []).map((ydoc) => ({ ydoc, base }));
  };
  if (/^%/m.test(body)) return all(body, 0);
  const starts: number[] = [];
  // `get --json` prints one compact JSON document per line (fleetctl's too): each line starting
  // with `{` is a document of its own (JSON is YAML, but several on one stream are not one document).
  const marker = /^\s*\{/.test(body) ? /^\{/gm : /^---(?=[ \t\r\n]|$)/gm;
  for (let m = marker.exec(body); m; m = marker.exec(body)) starts.push(m.index);
  if (starts[0] !== 0) starts.unshift(0);
  const out: Array<{ ydoc: Document.Parsed; base: number }> = [];
  starts.forEach((start, i) => {
    const chunk = body.slice(start, starts[i + 1] ?? body.length);
    // Comments and blank lines before the first marker are no document.
    if (start === 0 && !chunk.startsWith('---') && !chunk.startsWith('{') && /^(?:\s*(?:#.*)?(?:\r?\n|$))*$/.test(chunk)) return;
    out.push(...all(chunk, start));
  });
  return out;
}

/** yaml's messages end with " at line L, column C:" and a code excerpt; the position is printed separately. */
export function yamlMessage(message: string): string {
  const first = message.split('\n')[0] ?? message;
  return first.replace(/ at line \d+, column \d+:?$/, '').replace(/\.$/, '');
}

export class Converter {
  readonly locs = new Map<string, FieldLoc>();
  failure: { pos: Pos; message: string } | undefined;
  private nodes = 0;
  /** Alias.resolve walks the whole document: resolve each alias node once. */
  private readonly resolved = new Map<unknown, Node | undefined>();

  constructor(
    private readonly doc: Document.Parsed,
    private readonly at: (offset: number) => Pos,
    /** Added to the document's offsets to make them offsets in the file. */
    private readonly base = 0,
  ) {}

  private resolve(alias: Node): Node | undefined {
    if (!this.resolved.has(alias)) this.resolved.set(alias, (alias as unknown as { resolve(d: Document.Parsed): Node | undefined }).resolve(this.doc));
    return this.resolved.get(alias);
  }

  /**
   * The plain value of a node, recording field positions by path. Inside an alias nothing is
   * recorded: those fields are reported at the alias, and an expanded alias tree can be huge.
   */
  convert(node: unknown, path: string, key?: Pos, depth = 0, inAlias = false): unknown {
    if (this.failure) return undefined;
    const here = (): Pos => {
      const start = (node as Node | null)?.range?.[0];
      return start !== undefined ? this.at(start) : (key ?? { line: 1, col: 1 });
    };
    if (++this.nodes > MAX_NODES) {
      this.failure = { pos: here(), message: `document too large (more than ${MAX_NODES} values once aliases are expanded)` };
      return undefined;
    }
    if (depth > MAX_DEPTH) {
      this.failure = { pos: here(), message: `nested more than ${MAX_DEPTH} levels deep` };
      return undefined;
    }
    if (node === null || node === undefined) {
      if (key && !inAlias) this.locs.set(path, { key, value: key, range: [0, 0] });
      return null;
    }
    let n = node as Node;
    const record = (target: Node) => {
      if (inAlias) return;
      const range = target.range ?? [0, 0, 0];
      const loc: FieldLoc = { value: this.at(range[0]), range: [range[0] + this.base, range[1] + this.base] };
      if (key) loc.key = key;
      if (isScalar(target)) loc.scalarType = String(target.type ?? 'PLAIN');
      this.locs.set(path, loc);
    };
    if (isAlias(n)) {
      record(n);
      const target = this.resolve(n);
      if (!target) return null;
      return this.convert(target, path, key, depth + 1, true);
    }
    record(n);
    const range = n.range ?? [0, 0, 0];

    if (isScalar(n)) return n.value;
    if (isSeq(n)) return n.items.map((item, i) => this.convert(item, join(path, String(i)), undefined, depth + 1, inAlias));
    if (isMap(n)) {
      const out: Record<string, unknown> = {};
      for (const pair of n.items) {
        if (!isPair(pair)) continue;
        let k = pair.key as Node | null;
        if (k !== null && isAlias(k)) k = this.resolve(k) ?? null;
        if (k !== null && !isScalar(k)) {
          this.failure = { pos: this.at((pair.key as Node).range?.[0] ?? 0), message: 'a mapping key must be a plain value, not a list or mapping' };
          return undefined;
        }
        const name = String(k === null ? '' : (k.value ?? ''));
        const keyPos = this.at((pair.key as Node | null)?.range?.[0] ?? range[0]);
        // defineProperty: a key named __proto__ must stay data, not change the object's prototype.
        Object.defineProperty(out, name, {
          value: this.convert(pair.value, join(path, name), keyPos, depth + 1, inAlias),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    return null;
  }
}

const join = (path: string, part: string) => (path === '' ? part : `${path}.${part}`);
