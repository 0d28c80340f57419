/** Wire encodings per dialect: error bodies, JSON replies, times, Go-like decode errors. */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Dialect } from './types.js';

export interface FieldError {
  name: string;
  reason: string;
}

/** An API error as the server's encodeError would write it. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly errors: FieldError[] | undefined,
    readonly headers: Record<string, string> = {},
  ) {
    super(errors?.[0]?.reason ?? title);
  }
}

const base = (reason: string): FieldError[] => [{ name: 'base', reason }];

/** Error constructors that know each dialect's status codes and wording (fleet-api.md §1.1). */
export const errs = {
  validation: (errors: FieldError[]) => new HttpError(422, 'Validation Failed', errors),
  notFound: (reason: string) => new HttpError(404, 'Resource Not Found', base(reason)),
  exists: (reason: string) => new HttpError(409, 'Resource Already Exists', base(reason)),
  permission: (d: Dialect, reason = 'forbidden') =>
    new HttpError(403, 'Permission Denied', d === 'kolide' ? base(reason) : undefined),
  /** Login refused (FleetDM's AuthFailedError). */
  authFailed: (d: Dialect, reason: string) =>
    d === 'kolide' ? new HttpError(401, 'Authentication Failed', base(reason)) : new HttpError(401, 'Authentication failed', base('Authentication failed')),
  /** A token that names no session (FleetDM's AuthRequiredError). */
  badToken: (d: Dialect, reason: string) =>
    d === 'kolide' ? new HttpError(401, 'Authentication Failed', base(reason)) : new HttpError(401, 'Authentication required', base('Authentication required')),
  /** No bearer token at all (FleetDM's AuthHeaderRequiredError). */
  authRequired: (d: Dialect) =>
    d === 'kolide'
      ? new HttpError(401, 'Authentication Failed', base('no auth token'))
      : new HttpError(401, 'Authorization header required', base('Authorization header required')),
  /** FleetDM's 400 class; Kolide has none, so its decode and request errors fall into 500 Unknown Error. */
  badRequest: (d: Dialect, reason: string) =>
    d === 'kolide' ? new HttpError(500, 'Unknown Error', base(reason)) : new HttpError(400, 'Bad request', base(reason)),
  /** A plain service error: Kolide 500 `Unknown Error`; FleetDM 422 for validation-like failures. */
  service: (d: Dialect, reason: string, field = 'base') =>
    d === 'kolide' ? new HttpError(500, 'Unknown Error', base(reason)) : new HttpError(422, 'Validation Failed', [{ name: field, reason }]),
  /** Kolide's foreign-key refusal (a delete of something still referenced): 403 "Validation Failed". */
  foreignKey: (kind: string, name: string) => new HttpError(403, 'Validation Failed', base(`the operation violates a foreign key constraint on ${kind}: ${name}`)),
  unknown: (d: Dialect, reason: string) =>
    d === 'kolide' ? new HttpError(500, 'Unknown Error', base(reason)) : new HttpError(500, reason, base(reason)),
};

/** Go's json.Encoder with SetIndent("", "  "): two-space indent and a trailing newline. */
export function goJSON(v: unknown): string {
  return JSON.stringify(v, null, 2) + '\n';
}

export function sendJSON(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = goJSON(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * Kolide's encodeError never sets Content-Type, so Go sniffs the JSON body as text/plain; FleetDM
 * sends application/json and a request uuid.
 */
export function sendError(res: ServerResponse, d: Dialect, e: HttpError): void {
  const body: Record<string, unknown> = { message: e.title };
  if (e.errors && e.errors.length > 0) body.errors = e.errors;
  if (d === 'fleet') body.uuid = randomUUID();
  const text = goJSON(body);
  res.writeHead(e.status, {
    'Content-Type': d === 'kolide' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    ...e.headers,
  });
  res.end(text);
}

/** Go's http.NotFound. */
export function sendGoNotFound(res: ServerResponse): void {
  const text = '404 page not found\n';
  res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** The message encoding/json would give for a body JSON.parse rejected (close enough to read alike). */
export function goDecodeError(text: string): string {
  const t = text.trim();
  if (t === '') return 'EOF';
  const c = t[0]!;
  if (!'{["tfn-0123456789'.includes(c)) return `invalid character '${c}' looking for beginning of value`;
  try {
    JSON.parse(t);
  } catch (e) {
    const m = /position (\d+)/.exec(String((e as Error).message));
    if (m) {
      const ch = t[Number(m[1])];
      if (ch !== undefined) return `invalid character '${ch}' after object key:value pair`;
    }
  }
  return 'unexpected EOF';
}

/** Go's time.Time JSON for second-precision datetimes (MySQL DATETIME columns). */
export function goTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Decoded body: parsed JSON object, or an error message in the dialect's shape. */
export function decodeBody(d: Dialect, raw: Buffer, opts: { allowEmpty?: boolean } = {}): Record<string, unknown> {
  const text = raw.toString('utf8');
  if (text.trim() === '') {
    if (opts.allowEmpty) return {};
    throw d === 'kolide' ? errs.badRequest(d, 'EOF') : errs.badRequest(d, 'Expected JSON Body');
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw d === 'kolide' ? errs.badRequest(d, goDecodeError(text)) : errs.badRequest(d, 'json decoder error');
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    const kind = v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'string' ? 'string' : typeof v === 'number' ? 'number' : 'bool';
    if (v === null) return {};
    throw d === 'kolide' ? errs.badRequest(d, `json: cannot unmarshal ${kind} into Go value of type struct`) : errs.badRequest(d, 'json decoder error');
  }
  return v as Record<string, unknown>;
}

/** Go decodes JSON keys case-insensitively (Kolide relies on it): find a key by any case. */
export function field(obj: Record<string, unknown>, name: string): unknown {
  if (name in obj) return obj[name];
  const n = name.toLowerCase();
  for (const k of Object.keys(obj)) if (k.toLowerCase() === n) return obj[k];
  return undefined;
}

export function str(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
}
