/**
 * An osquery pack file's text as the agent reads it (osquery.md §2.1): delete backslash-newline
 * continuations, drop whole lines whose trimmed text starts with `#` or `//`, then strict JSON.
 * Every character of the processed text remembers where it came from, so diagnostics point into the
 * original file; keys are placed by offset, duplicates included.
 */
import { isMap, isPair, isScalar, parseDocument, type Node } from 'yaml';

/** Pre-processed text and, for each of its characters, the offset it had in the original. */
export interface Preprocessed {
  text: string;
  origin: Int32Array;
}

export function preprocessPack(original: string): Preprocessed {
  // Step 1: backslash-newline continuations (a CR before the LF goes too, for files edited on Windows).
  const chars: string[] = [];
  const origin: number[] = [];
  for (let i = 0; i < original.length; i++) {
    const c = original[i]!;
    if (c === '\\') {
      if (original[i + 1] === '\n') {
        i += 1;
        continue;
      }
      if (original[i + 1] === '\r' && original[i + 2] === '\n') {
        i += 2;
        continue;
      }
    }
    chars.push(c);
    origin.push(i);
  }
  // Step 2: whole-line comments. A dropped line keeps its newline, so JSON errors keep their line.
  const outChars: string[] = [];
  const outOrigin: number[] = [];
  let start = 0;
  while (start <= chars.length) {
    let end = start;
    while (end < chars.length && chars[end] !== '\n') end++;
    const line = chars.slice(start, end).join('');
    const trimmed = line.trim();
    const drop = trimmed.startsWith('#') || trimmed.startsWith('//');
    if (!drop) {
      for (let k = start; k < end; k++) {
        outChars.push(chars[k]!);
        outOrigin.push(origin[k]!);
      }
    }
    if (end < chars.length) {
      outChars.push('\n');
      outOrigin.push(origin[end]!);
    }
    start = end + 1;
  }
  const result = new Int32Array(outOrigin.length + 1);
  result.set(outOrigin);
  result[outOrigin.length] = original.length;
  return { text: outChars.join(''), origin: result };
}

/** Strict JSON syntax check with the offset of the first error (JSON.parse does not always say where). */
export function findJsonError(text: string): { offset: number; message: string } | undefined {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const fail = (message: string, at = i): never => {
    throw { offset: at, message };
  };
  const str = () => {
    const begin = i;
    i++; // opening quote
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) fail(c === 10 ? 'unterminated string (a string cannot span lines)' : 'control character in string');
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('bad \\u escape in string');
          i += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) fail(`bad escape "\\${e ?? ''}" in string`);
        i += 2;
        continue;
      }
      i++;
    }
    fail('unterminated string', begin);
  };
  const value = (): void => {
    ws();
    const c = text[i];
    let comma = -1;
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] === '}' && comma >= 0) fail('trailing comma is not allowed in JSON', comma);
        if (text[i] !== '"') fail('expected a double-quoted key');
        str();
        ws();
        if (text[i] !== ':') fail("expected ':' after the key");
        i++;
        value();
        ws();
        if (text[i] === ',') {
          comma = i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] === ']' && comma >= 0) fail('trailing comma is not allowed in JSON', comma);
        value();
        ws();
        if (text[i] === ',') {
          comma = i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    const m = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 400));
    if (m) {
      i += m[0].length;
      return;
    }
    fail(i >= text.length ? 'unexpected end of input' : 'expected a JSON value');
  };
  try {
    value();
    ws();
    if (i < text.length) fail('unexpected text after the JSON value');
    return undefined;
  } catch (e) {
    return e as { offset: number; message: string };
  }
}

/**
 * Offsets of object keys by NUL-joined path (`queries\0name\0interval`), and the entries of each
 * `queries` object as written, duplicates included (JSON.parse keeps only the last of a name).
 */
export function keyPositions(json: string): { positions: Map<string, number>; entries: Map<string, Array<{ key: string; value: unknown; offset: number }>> } {
  const positions = new Map<string, number>();
  const entries = new Map<string, Array<{ key: string; value: unknown; offset: number }>>();
  const doc = parseDocument(json, { uniqueKeys: false });
  if (doc.errors.length > 0) return { positions, entries };
  const walk = (node: Node | null | undefined, path: string) => {
    if (!node || !isMap(node)) return;
    const list: Array<{ key: string; value: unknown; offset: number }> = [];
    for (const pair of node.items) {
      if (!isPair(pair) || !isScalar(pair.key)) continue;
      const k = String(pair.key.value);
      const p = path === '' ? k : `${path}\0${k}`;
      // The first occurrence names the path (a duplicate is placed by its own offset).
      if (pair.key.range && !positions.has(p)) positions.set(p, pair.key.range[0]);
      if (path === 'queries' || path.endsWith('\0queries')) {
        const v = pair.value as Node | null;
        list.push({ key: k, value: v && typeof (v as { toJSON?: unknown }).toJSON === 'function' ? (v as unknown as { toJSON(): unknown }).toJSON() : null, offset: pair.key.range?.[0] ?? -1 });
      }
      walk(pair.value as Node | null, p);
    }
    if (list.length > 0) entries.set(path, list);
  };
  walk(doc.contents as Node | null, '');
  return { positions, entries };
}
