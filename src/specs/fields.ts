/**
 * Reading one spec's fields: typed values out of a plain mapping, each wrong type, missing field or
 * unknown key reported as a diagnostic at the field's position, prefixed with the document's kind
 * and name.
 */
import { diag, suggest } from './diagnostics.js';
import type { Diagnostic, FieldLoc, Pos, SpecKind } from './types.js';

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? v.slice(0, 37) + '...' : v)}`;
  if (typeof v === 'number') return Number.isInteger(v) ? `number ${v}` : `number ${v}`;
  if (typeof v === 'boolean') return `boolean ${v}`;
  return typeof v;
}

/** Reads typed fields from a spec mapping, reporting wrong types and missing fields with positions. */
export class FieldReader {
  name: string | undefined;
  readonly entryPaths: string[] = [];

  constructor(
    readonly kind: SpecKind,
    readonly spec: Record<string, unknown>,
    readonly fields: Map<string, FieldLoc>,
    readonly specPos: Pos,
    readonly source: string,
    readonly out: Diagnostic[],
  ) {}

  get prefix(): string {
    const label = this.kind === 'enroll_secret' ? 'enroll_secret' : this.kind;
    return this.name !== undefined ? `${label} "${this.name}"` : label;
  }

  pos(path: string, which: 'key' | 'value' = 'value'): Pos {
    const loc = this.fields.get(path);
    if (!loc) {
      // A missing field is reported where its parent is.
      const parent = path.includes('.') ? path.slice(0, path.lastIndexOf('.')) : '';
      return parent === '' ? this.specPos : this.pos(parent, 'key');
    }
    return which === 'key' ? (loc.key ?? loc.value) : loc.value;
  }

  error(path: string, code: string, message: string, which: 'key' | 'value' = 'value'): void {
    this.out.push(diag(this.source, this.pos(path, which), 'error', code, `${this.prefix}: ${message}`));
  }

  warn(path: string, code: string, message: string, which: 'key' | 'value' = 'value'): void {
    this.out.push(diag(this.source, this.pos(path, which), 'warning', code, `${this.prefix}: ${message}`));
  }

  get(obj: Record<string, unknown>, path: string): unknown {
    const key = path.includes('.') ? path.slice(path.lastIndexOf('.') + 1) : path;
    return obj[key];
  }

  missing(path: string): void {
    this.error(path, 'missing-field', `missing required field "${path}"`);
  }

  wrongType(path: string, want: string, got: unknown, hint = ''): void {
    this.error(path, 'wrong-type', `field "${path}" must be ${want}, got ${describe(got)}${hint}`);
  }

  str(obj: Record<string, unknown>, path: string, opts: { required?: boolean; nonEmpty?: boolean } = {}): string | undefined {
    const v = this.get(obj, path);
    if (v === undefined || v === null) {
      if (opts.required) this.missing(path);
      return undefined;
    }
    if (typeof v !== 'string') {
      // YAML turns `name: 2021` into a number; the server wants a string. Say so rather than coerce.
      this.wrongType(path, 'a string', v);
      return undefined;
    }
    if (opts.nonEmpty && v.trim() === '') {
      this.error(path, 'empty-field', `field "${path}" must not be empty`);
      return undefined;
    }
    return v;
  }

  bool(obj: Record<string, unknown>, path: string): boolean | undefined {
    const v = this.get(obj, path);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') {
      this.wrongType(path, 'true or false', v);
      return undefined;
    }
    return v;
  }

  uint(obj: Record<string, unknown>, path: string, opts: { required?: boolean; min?: number; max?: number; what?: string } = {}): number | undefined {
    const v = this.get(obj, path);
    if (v === undefined || v === null) {
      if (opts.required) this.missing(path);
      return undefined;
    }
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      const quoted = typeof v === 'string' && /^\s*\d+\s*$/.test(v);
      this.wrongType(path, 'an integer', v, quoted ? ' (write it without quotes)' : '');
      return undefined;
    }
    const min = opts.min ?? 0;
    if (v < min || (opts.max !== undefined && v > opts.max)) {
      const range = opts.max !== undefined ? `between ${min} and ${opts.max}` : `at least ${min}`;
      this.error(path, 'out-of-range', `field "${path}" must be ${range}${opts.what ? ` ${opts.what}` : ''}, got ${v}`);
      return undefined;
    }
    return v;
  }

  strList(obj: Record<string, unknown>, path: string, opts: { required?: boolean } = {}): string[] | undefined {
    const v = this.get(obj, path);
    if (v === undefined || v === null) {
      if (opts.required) this.missing(path);
      return undefined;
    }
    if (!Array.isArray(v)) {
      this.wrongType(path, 'a list of strings', v);
      return undefined;
    }
    const out: string[] = [];
    v.forEach((item, i) => {
      if (typeof item !== 'string') this.wrongType(`${path}.${i}`, 'a string', item);
      else out.push(item);
    });
    return out;
  }

  map(obj: Record<string, unknown>, path: string, opts: { required?: boolean } = {}): Record<string, unknown> | undefined {
    const v = this.get(obj, path);
    if (v === undefined || v === null) {
      if (opts.required) this.missing(path);
      return undefined;
    }
    if (!isRecord(v)) {
      this.wrongType(path, 'a mapping', v);
      return undefined;
    }
    return v;
  }

  list(obj: Record<string, unknown>, path: string, opts: { required?: boolean } = {}): unknown[] | undefined {
    const v = this.get(obj, path);
    if (v === undefined || v === null) {
      if (opts.required) this.missing(path);
      return undefined;
    }
    if (!Array.isArray(v)) {
      this.wrongType(path, 'a list', v);
      return undefined;
    }
    return v;
  }

  /** Fields the server does not know are dropped by its JSON decoder: warn, since it is often a typo. */
  unknownKeys(obj: Record<string, unknown>, base: string, allowed: readonly string[]): void {
    for (const k of Object.keys(obj)) {
      if (allowed.includes(k)) continue;
      const path = base === '' ? k : `${base}.${k}`;
      const hint = suggest(k, allowed) ?? (k.endsWith('s') && allowed.includes(k.slice(0, -1)) ? k.slice(0, -1) : undefined);
      this.warn(path, 'unknown-field', `unknown field "${k}" is ignored` + (hint ? ` (did you mean "${hint}"?)` : ''), 'key');
    }
  }
}
