/**
 * The one place where HTTP statuses and socket failures become osfleet's typed errors.
 */
import { ApiError, AuthError, ExitCode, NetworkError, NotFoundError, CliError } from '../errors.js';
import { printable } from '../terminal.js';

export interface ServerErrorBody {
  message?: string;
  errors?: Array<{ name?: string; reason?: string }>;
  error?: string;
  uuid?: string;
}

// Server text is shown through terminal.ts's `printable`; re-exported for the api modules.
export { printable };

/**
 * Server text with anything that looks like a credential replaced by REDACTED, before it is parsed
 * or printed: the secrets sent (token, password) wherever they appear, escaped or not, and any
 * Authorization value, bearer token or `"token": "…"` pair (a proxy that echoes the request headers,
 * a debug page, a server that quotes the body back).
 */
export function redactSecrets(text: string, secrets: ReadonlyArray<string | undefined> = []): string {
  let out = text;
  for (const s of secrets) {
    if (!s || s.length < 4) continue;
    for (const form of new Set([s, JSON.stringify(s).slice(1, -1), encodeURIComponent(s)])) out = out.split(form).join('REDACTED');
  }
  return out
    .replace(/(authorization["']?\s*[:=]\s*["']?)(?:(bearer|basic|token)\s+)?[^\s"',;}[\]]+/gi, (_m, head: string, scheme: string | undefined) => `${head}${scheme ? `${scheme} ` : ''}REDACTED`)
    .replace(/\b(bearer)\s+(?!REDACTED)[A-Za-z0-9._~+/=-]{4,}/gi, '$1 REDACTED')
    .replace(/(["']?(?:api_?)?token["']?\s*[:=]\s*["']?)(?!REDACTED)[A-Za-z0-9._~+/=-]{8,}/gi, '$1REDACTED');
}

/** Reads Fleet's `{message, errors[{name, reason}]}` body (both generations), or a text/HTML body. */
export function describeErrorBody(status: number, contentType: string | undefined, text: string): { message: string; reasons: string[] } {
  const { message, reasons } = readErrorBody(status, contentType, text);
  return { message: printable(message), reasons: reasons.map((r) => printable(r)) };
}

function readErrorBody(status: number, contentType: string | undefined, text: string): { message: string; reasons: string[] } {
  const type = (contentType ?? '').toLowerCase();
  const trimmed = text.trim();
  if (type.includes('json') || trimmed.startsWith('{')) {
    try {
      const body = JSON.parse(trimmed) as ServerErrorBody;
      if (body && typeof body === 'object') {
        const reasons = (Array.isArray(body.errors) ? body.errors : [])
          .map((e) => (e && typeof e.reason === 'string' ? e.reason : ''))
          .filter((r) => r !== '' && r !== body.message);
        const message = typeof body.message === 'string' && body.message !== '' ? body.message : typeof body.error === 'string' ? body.error : `HTTP ${status}`;
        return { message, reasons };
      }
    } catch {
      // fall through: not JSON after all
    }
  }
  if (type.includes('html') || /^<(!doctype|html)/i.test(trimmed)) {
    const title = /<title>([^<]*)<\/title>/i.exec(trimmed)?.[1]?.trim();
    return { message: `an HTML page${title ? ` ("${title}")` : ''} instead of JSON, probably from a proxy in front of Fleet`, reasons: [] };
  }
  if (trimmed === '') return { message: `HTTP ${status} with an empty body`, reasons: [] };
  // Kolide answers decode and auth failures in text/plain.
  const firstLine = trimmed.split('\n')[0] ?? '';
  return { message: firstLine.length > 200 ? `${firstLine.slice(0, 200)}…` : firstLine, reasons: [] };
}

export function errorForStatus(args: {
  status: number;
  method: string;
  path: string;
  contentType: string | undefined;
  text: string;
}): CliError {
  const { message, reasons } = describeErrorBody(args.status, args.contentType, args.text);
  if (args.status === 401) {
    const detail = reasons.length ? `${message}: ${reasons.join('; ')}` : message;
    return new AuthError(`the server refused the credentials (${detail})`);
  }
  const base = { status: args.status, method: args.method, path: args.path, serverMessage: message, reasons };
  if (args.status === 404) return new NotFoundError(base);
  // Kolide answers a refused delete of something still in use (a foreign key) with 403 "Validation Failed": not a permission problem.
  if (args.status === 403 && message === 'Validation Failed') return new ApiError({ ...base, hint: 'something on the server still uses this object' });
  if (args.status === 403) return new ApiError({ ...base, exitCode: ExitCode.auth, hint: 'the user lacks the permission for this (check its role)' });
  if (args.status === 402) return new ApiError({ ...base, hint: 'this needs Fleet Premium' });
  if (args.status === 429) return new ApiError({ ...base, hint: 'the server is rate limiting; wait and try again' });
  if (args.status > 500) return new ApiError({ ...base, hint: 'the server or a proxy in front of it is failing; try again later' });
  return new ApiError(base);
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_UNTRUSTED',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

/** Maps a socket-level failure (by error.code, also on its cause) to a NetworkError with advice. */
export function networkError(err: unknown, origin: string): NetworkError {
  const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = e?.code && e.code !== 'UND_ERR_SOCKET' ? e.code : (e?.cause?.code ?? e?.code);
  const detail = e?.cause?.message ?? e?.message ?? String(err);
  switch (code) {
    case 'ECONNREFUSED':
      return new NetworkError(`cannot connect to ${origin}: connection refused`, {
        code,
        hint: 'is the Fleet server running at that address? (osfleet config get address)',
      });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new NetworkError(`cannot resolve the host of ${origin} (DNS lookup failed)`, { code, hint: 'check the address (osfleet config get address)' });
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return new NetworkError(`timed out connecting to ${origin}`, { code, hint: 'check the address and any firewall or VPN' });
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return new NetworkError(`${origin} stopped answering (timed out waiting for the response)`, { code });
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return new NetworkError(`the connection to ${origin} was cut (${code})`, { code });
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new NetworkError(`${origin} is unreachable (${code})`, { code });
  }
  if (code && TLS_CODES.has(code)) {
    return new NetworkError(`TLS verification of ${origin} failed: ${detail}`, {
      code,
      hint: 'pass the CA that signed the server certificate: osfleet config set --rootca ca.pem (or, only for testing, --tls-skip-verify)',
    });
  }
  return new NetworkError(`request to ${origin} failed: ${detail}`, { ...(code ? { code } : {}) });
}

/** Statuses worth another try for requests that are safe to repeat. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 500 || status === 502 || status === 503 || status === 504;
}

/** Socket failures worth another try. ECONNREFUSED is safe even for POST: nothing was sent. */
export function isRetryableNetworkCode(code: string | undefined): boolean {
  return (
    code === 'ECONNRESET' ||
    code === 'EPIPE' ||
    code === 'UND_ERR_SOCKET' ||
    code === 'UND_ERR_CLOSED' ||
    code === 'ECONNREFUSED' ||
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code === 'UND_ERR_CONNECT_TIMEOUT' ||
    code === 'EAI_AGAIN'
  );
}

/** Seconds or an HTTP date, as RFC 9110 allows; undefined when absent or unparseable. */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Capped exponential backoff with deterministic "full jitter" from a supplied random source. */
export function backoffDelay(attempt: number, opts: { baseMs: number; capMs: number; random: () => number }): number {
  const ceiling = Math.min(opts.capMs, opts.baseMs * 2 ** attempt);
  return Math.round(ceiling / 2 + (opts.random() * ceiling) / 2);
}
