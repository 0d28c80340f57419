/**
 * The Fleet API client: one undici Agent per process (custom CA, optional skip-verify, keep-alive,
 * CLI-sized timeouts), the bearer token, retries with capped backoff for requests that are safe to
 * repeat, `Retry-After`, typed errors, redacted --debug traces and abort on Ctrl-C. It never prints:
 * warnings go to the `warn` callback, traces to `debug`.
 */
import { Agent, request as undiciRequest, type Dispatcher } from './undici.js';
import { readRootCa } from './rootca.js';
import { checkAddress, isLoopbackHost } from './address.js';
import { ApiError, ConfigError, DeadlineError, InterruptedError, NetworkError, NotFoundError, AuthError, CliError } from '../errors.js';
import { LIMITS, limit, sizeText } from '../limits.js';
import {
  backoffDelay,
  errorForStatus,
  isRetryableNetworkCode,
  isRetryableStatus,
  networkError,
  parseRetryAfter,
  printable,
  redactSecrets,
} from './errors.js';
import { checkShape, type Shape } from './shapes.js';
import { API_PREFIX, describeProfile, generationOfVersion, namingOfVersion, profileFor, type Generation, type Naming, type ServerProfile } from './server.js';
import { parseDuration } from '../duration.js';
import type { ResolvedContext } from '../config/store.js';
import type { Env } from '../env.js';
import type { IO } from '../io.js';

/** What a client is built from: the part of the command context (src/context.ts) it reads. */
interface Ctx {
  io: IO;
  env: Env;
  signal: AbortSignal;
  globals: { debug: boolean };
  debug(line: string): void;
  connection(): Promise<ResolvedContext>;
}

export type { Generation, Naming, ServerProfile } from './server.js';

export interface ClientOptions {
  /** Origin (a path here is ignored: createClient turns an address's path into urlPrefix). */
  address: string;
  urlPrefix?: string;
  token?: string | undefined;
  tlsSkipVerify?: boolean;
  /** Plain http:// (and ws://) to an address that is not loopback was explicitly allowed. */
  allowInsecureHttp?: boolean;
  /** PEM text of the CA bundle to trust (in addition to nothing else: a custom CA replaces the defaults). */
  ca?: string | undefined;
  /** The server as cached in the context (skips detection when the generation is known). */
  dialect?: Generation | undefined;
  serverVersion?: string | undefined;
  naming?: Naming | undefined;
  /** Called once when the server was detected afresh (not when the cache was used), e.g. to cache it. */
  onResolved?: (profile: ServerProfile) => void | Promise<void>;
  signal?: AbortSignal;
  debug?: (line: string) => void;
  /** Sent on every REST and websocket request (an access proxy's headers); never shown in --debug. */
  customHeaders?: Record<string, string> | undefined;
  /** Attempts for retryable requests, including the first. */
  maxAttempts?: number;
  retryBaseMs?: number;
  retryCapMs?: number;
  /** The longest Retry-After honoured; a longer one ends the retries. */
  maxRetryAfterMs?: number;
  connectTimeoutMs?: number;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  /** The longest one request may take, connect to last byte (a body trickling a byte a second included). */
  requestTimeoutMs?: number;
  /** The largest answer body read (README "Limits"); a larger one is refused as it streams in. */
  maxResponseBytes?: number;
  random?: () => number;
  /** Injected dispatcher (tests: MockAgent). */
  dispatcher?: Dispatcher;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Safe to send twice. Defaults to true for GET/HEAD/PUT/DELETE, false for POST/PATCH. */
  idempotent?: boolean;
  /** Send the bearer token (default true). */
  auth?: boolean;
  /** Path is absolute from the server root (e.g. /version, /api/v1/setup) rather than under the app prefix. */
  root?: boolean;
  headersTimeoutMs?: number;
  signal?: AbortSignal;
  /** What the answer must look like (src/api/shapes.ts); a wrong shape is an ApiError naming the field. */
  shape?: Shape;
  /** The answer is not JSON (FleetDM's CSV host report): its body is returned as text, bounded like any. */
  text?: boolean;
  /**
   * With `text`: what the body's first line must be, tested as soon as it has arrived. An answer
   * that fails is refused without reading the rest: a FleetDM that ignores the host report's
   * `columns` sends every column of every host, up to the response ceiling.
   */
  firstLine?: (line: string) => boolean;
  /** One attempt, no retries: the caller has another way to the same answer. */
  once?: boolean;
}

export interface Response<T> {
  status: number;
  body: T;
  headers: Record<string, string | string[] | undefined>;
}

const DEFAULTS = {
  maxAttempts: 4,
  retryBaseMs: 250,
  retryCapMs: 4_000,
  maxRetryAfterMs: 30_000,
  connectTimeoutMs: 10_000,
  headersTimeoutMs: 60_000,
  bodyTimeoutMs: 60_000,
  requestTimeoutMs: 120_000,
  maxResponseBytes: LIMITS.responseBytes.value,
};

export class FleetClient {
  readonly origin: string;
  readonly urlPrefix: string;
  private token: string | undefined;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly opts: ClientOptions & typeof DEFAULTS;
  private resolved: ServerProfile | undefined;
  private resolving: Promise<ServerProfile> | undefined;
  /** How many HTTP requests went out (tests and benchmarks count them). */
  requestCount = 0;
  /** Things the user should know about this client (e.g. TLS verification off); the caller prints them. */
  readonly warnings: string[] = [];

  /**
   * This client (its connections, token and detected server) bound to another abort signal instead
   * of the command's: for a short, bounded read after Ctrl-C (naming the hosts that did not answer).
   */
  withSignal(signal: AbortSignal): FleetClient {
    // Its own connections when this client owns them: an abort destroys this client's pool.
    const { dispatcher: _own, ...rest } = this.opts;
    return new FleetClient({
      ...rest,
      token: this.token,
      ...(this.ownsDispatcher ? {} : { dispatcher: this.dispatcher }),
      signal,
      ...(this.resolved ? { dialect: this.resolved.generation, serverVersion: this.resolved.version, naming: this.resolved.naming } : {}),
    });
  }

  constructor(opts: ClientOptions) {
    this.opts = { ...DEFAULTS, ...opts };
    this.origin = originOf(opts.address);
    this.urlPrefix = normalisePrefix(opts.urlPrefix ?? '');
    this.token = opts.token;
    if (opts.dialect) {
      // Without a cached naming or a version that tells it, the old names: every server answers them.
      const naming = opts.naming ?? namingOfVersion(opts.serverVersion) ?? 'queries';
      this.resolved = profileFor(opts.dialect, opts.serverVersion, naming);
    }
    const { protocol, hostname } = new URL(this.origin);
    if (protocol === 'http:' && !isLoopbackHost(hostname)) {
      this.warnings.push(`plain http:// to ${new URL(this.origin).host} (allow-insecure-http): the token and every answer travel unencrypted, REST and websocket alike.`);
    }
    if (opts.tlsSkipVerify) {
      this.warnings.push('TLS certificate verification is OFF for this context (tls-skip-verify); anyone on the path can read the token.');
    }
    if (opts.dispatcher) {
      this.dispatcher = opts.dispatcher;
      this.ownsDispatcher = false;
    } else {
      this.dispatcher = new Agent({
        connect: {
          timeout: this.opts.connectTimeoutMs,
          rejectUnauthorized: !opts.tlsSkipVerify,
          ...(opts.ca ? { ca: opts.ca } : {}),
        },
        headersTimeout: this.opts.headersTimeoutMs,
        bodyTimeout: this.opts.bodyTimeoutMs,
        keepAliveTimeout: 10_000,
        connections: 16,
      });
      this.ownsDispatcher = true;
    }
  }

  get hasToken(): boolean {
    return this.token !== undefined && this.token !== '';
  }

  setToken(token: string | undefined): void {
    this.token = token;
  }

  /** For the websocket: same CA, same verification, same auth. */
  tlsOptions(): { ca?: string; rejectUnauthorized: boolean } {
    return { ...(this.opts.ca ? { ca: this.opts.ca } : {}), rejectUnauthorized: !this.opts.tlsSkipVerify };
  }

  /** The custom headers, for the websocket upgrade (the same as on every REST request). */
  customHeaders(): Record<string, string> {
    return { ...this.opts.customHeaders };
  }

  /** The token, for the websocket `auth` message only. */
  bearerToken(): string | undefined {
    return this.token;
  }

  /** The server, once resolved (by `server()` or the first app request). */
  get profile(): ServerProfile {
    if (!this.resolved) throw new Error('server not resolved yet: await client.server() first');
    return this.resolved;
  }

  get serverVersion(): string | undefined {
    return this.resolved?.version;
  }

  /** The app API path (under the generation's prefix, before the url-prefix). */
  appPath(path: string): string {
    return `${this.profile.prefix}${path}`;
  }

  /** ws(s):// URL of an app path: plain ws:// under the same rule as plain http:// (loopback or the opt-out). */
  websocketUrl(path: string): string {
    const url = new URL(this.origin);
    if (url.protocol === 'http:' && !isLoopbackHost(url.hostname) && !this.opts.allowInsecureHttp) {
      throw new ConfigError(`refusing plain ws:// to ${url.host}: the token would travel unencrypted`, {
        hint: 'use https://, or if you really mean it: osfleet config set --allow-insecure-http',
      });
    }
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.pathname = this.urlPrefix + this.appPath(path);
    return url.toString();
  }

  /**
   * The server this client talks to, decided once: the generation from `GET /version`
   * (unauthenticated on both; major < 4 → Kolide), or by probing the login paths when the version says
   * nothing (fleet-api.md §8); for FleetDM the naming from the version (≥ 4.82.0: reports/fleets) or
   * by probing `GET /reports?per_page=1` (404: the old naming). `refresh` ignores the cached answer.
   */
  async server(opts: { refresh?: boolean } = {}): Promise<ServerProfile> {
    if (this.resolved && !opts.refresh) return this.resolved;
    if (!opts.refresh && this.resolving) return this.resolving;
    const job = this.detectServer();
    this.resolving = job;
    try {
      this.resolved = await job;
    } finally {
      if (this.resolving === job) this.resolving = undefined;
    }
    this.opts.debug?.(`server: ${describeProfile(this.resolved)}`);
    if (!opts.refresh) await this.opts.onResolved?.(this.resolved);
    return this.resolved;
  }

  private async detectServer(): Promise<ServerProfile> {
    let version: string | undefined;
    try {
      const res = await this.send<{ version?: unknown }>('GET', '/version', { root: true, auth: false });
      if (res.body && typeof res.body.version === 'string') version = res.body.version;
    } catch (err) {
      // Some servers guard /version; the login probe below still tells the generations apart.
      if (!(err instanceof ApiError) && !(err instanceof AuthError)) throw err;
    }
    const generation = generationOfVersion(version) ?? (await this.probeGeneration());
    const naming = generation === 'kolide' ? 'queries' : (namingOfVersion(version) ?? (await this.probeNaming()));
    return profileFor(generation, version, naming);
  }

  private async probeGeneration(): Promise<Generation> {
    for (const generation of ['fleet', 'kolide'] as const) {
      try {
        await this.send('POST', `${API_PREFIX[generation]}/login`, { root: true, auth: false, body: { email: '', username: '', password: '' } });
        return generation;
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) continue;
        if (err instanceof AuthError || err instanceof ApiError) return generation;
        throw err;
      }
    }
    throw new CliError(`${this.origin} answers 404 on every API path: the Fleet server is not set up yet`, {
      hint: 'run `osfleet setup` to create the first admin',
    });
  }

  /** 404 on `/reports` means a FleetDM before 4.82; any other answer (200, 401, 403) the new naming. */
  private async probeNaming(): Promise<Naming> {
    try {
      await this.send('GET', `${API_PREFIX.fleet}/reports`, { root: true, auth: this.hasToken, query: { per_page: 1 } });
      return 'reports';
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return 'queries';
      if (err instanceof AuthError || err instanceof ApiError) return 'reports';
      throw err;
    }
  }

  /**
   * Whether an error means "no such object": 404 on both generations, and Kolide's 500 whose text
   * says so (`sql: no rows in result set`, `… was not found in the datastore`), fleet-api.md §1.1.
   */
  isNotFound(err: unknown): boolean {
    if (err instanceof NotFoundError) return true;
    if (!this.resolved?.traits.notFoundAs500 || !(err instanceof ApiError) || err.status !== 500) return false;
    return /no rows in result set|not found/i.test(err.message);
  }

  /** An app API request (under the generation's prefix) returning the parsed JSON body (with `text`, the body as text). */
  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    if (!opts.root && !this.resolved) await this.server();
    if (opts.auth !== false && !this.hasToken) {
      throw new AuthError('not logged in: this context has no API token');
    }
    const full = opts.root ? path : this.appPath(path);
    const res = await this.send<T>(method, full, opts);
    // Every app endpoint answers a JSON object (or, asked for, text); a list or a bare value is not Fleet talking.
    if (!opts.shape && !opts.text && (typeof res.body !== 'object' || res.body === null || Array.isArray(res.body))) {
      throw this.wrongShape(method, full, res.status, `the answer is ${Array.isArray(res.body) ? 'a list' : typeof res.body}, expected an object`);
    }
    return res.body;
  }

  private wrongShape(method: string, fullPath: string, status: number, problem: string): ApiError {
    return new ApiError({
      status,
      method,
      path: fullPath,
      serverMessage: `unexpected answer: ${printable(problem)}`,
      hint: 'is the address a Fleet server, and a version osfleet knows? (osfleet config get address; --debug shows the exchange)',
    });
  }

  /** Sends one request with retries; `fullPath` is from the server root, before the url-prefix. */
  async send<T>(method: string, fullPath: string, opts: RequestOptions = {}): Promise<Response<T>> {
    const idempotent = opts.idempotent ?? ['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS'].includes(method);
    const signal = anySignal(this.opts.signal, opts.signal);
    const random = this.opts.random ?? Math.random;
    for (let attempt = 0; ; attempt++) {
      const last = opts.once === true || attempt + 1 >= this.opts.maxAttempts;
      try {
        const res = await this.once<T>(method, fullPath, opts, signal);
        if (opts.shape) {
          const problem = checkShape(opts.shape, res.body, this.resolved?.generation);
          if (problem) throw new ShapeFailure(this.wrongShape(method, fullPath, res.status, problem));
        }
        return res;
      } catch (err) {
        if (signal?.aborted) throw signal.reason instanceof CliError ? signal.reason : new InterruptedError();
        const retry = this.retryDecision(err, idempotent);
        if (!retry || last) throw unwrap(err);
        const fallback = backoffDelay(attempt, { baseMs: this.opts.retryBaseMs, capMs: this.opts.retryCapMs, random });
        const wait = retry.retryAfterMs ?? fallback;
        if (wait > this.opts.maxRetryAfterMs) throw unwrap(err);
        this.opts.debug?.(`retrying ${method} ${this.redactPath(fullPath)} in ${wait} ms (${retry.reason}, attempt ${attempt + 2}/${this.opts.maxAttempts})`);
        await delay(wait, signal);
      }
    }
  }

  private retryDecision(err: unknown, idempotent: boolean): { reason: string; retryAfterMs?: number } | undefined {
    if (err instanceof StatusFailure) {
      const status = err.status;
      // 429 means the server did not process the request, so even a POST may be repeated.
      if (status === 429) return { reason: '429', ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}) };
      if (idempotent && isRetryableStatus(status)) return { reason: String(status), ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}) };
      return undefined;
    }
    if (err instanceof MalformedBody) return idempotent ? { reason: 'malformed body' } : undefined;
    if (err instanceof NetworkError) {
      if (err.code === 'ECONNREFUSED') return { reason: err.code };
      if (idempotent && isRetryableNetworkCode(err.code)) return { reason: err.code ?? 'network' };
    }
    return undefined;
  }

  private async once<T>(method: string, fullPath: string, opts: RequestOptions, signal: AbortSignal | undefined): Promise<Response<T>> {
    let path = this.urlPrefix + fullPath;
    const query = opts.query ? encodeQuery(opts.query) : '';
    if (query) path += `?${query}`;
    const headers: Record<string, string> = { ...this.opts.customHeaders, accept: opts.text ? 'text/csv, text/plain;q=0.9' : 'application/json', 'user-agent': 'osfleet' };
    if (opts.auth !== false && this.token) headers['authorization'] = `Bearer ${this.token}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] = 'application/json';
    }
    this.requestCount++;
    const started = performance.now();
    // One deadline for the whole request: undici's own timeouts are per silence, and a server that
    // sends a byte a second is never silent. Long polls (a higher headersTimeout) get theirs plus 30 s.
    const budget = opts.headersTimeoutMs ? Math.max(this.opts.requestTimeoutMs, opts.headersTimeoutMs + 30_000) : this.opts.requestTimeoutMs;
    const deadline = AbortSignal.timeout(budget);
    const both = signal ? AbortSignal.any([signal, deadline]) : deadline;
    const overdue = () =>
      new DeadlineError(`${this.origin} sent no complete answer to ${method} ${this.redactPath(fullPath)} within ${Math.round(budget / 1000)} s`, {
        hint: 'the server is stuck or very slow; OSFLEET_HTTP_TIMEOUT=2m waits longer per request, --timeout bounds the whole command',
      });
    let res: Dispatcher.ResponseData;
    try {
      res = await undiciRequest(this.origin + path, {
        method: method as Dispatcher.HttpMethod,
        headers,
        ...(body !== undefined ? { body } : {}),
        dispatcher: this.dispatcher,
        signal: both,
        ...(opts.headersTimeoutMs ? { headersTimeout: opts.headersTimeoutMs } : {}),
      });
    } catch (err) {
      if (signal?.aborted) throw signal.reason instanceof CliError ? signal.reason : new InterruptedError();
      if (deadline.aborted) throw overdue();
      this.opts.debug?.(`${method} ${this.redactPath(path)} → ${(err as NodeJS.ErrnoException).code ?? 'error'} (${ms(started)})`);
      throw networkError(err, this.origin);
    }
    let text: string;
    try {
      const tooLarge = () =>
        new ApiError({
          status: res.statusCode,
          method,
          path: fullPath,
          serverMessage: `the answer is larger than ${sizeText(this.opts.maxResponseBytes)}, the ceiling for ${LIMITS.responseBytes.what}`,
          hint: `raise it with ${LIMITS.responseBytes.env}=<bytes> if the server really sends that much`,
        });
      // An error status is read whole, for its message.
      const firstLine =
        opts.text && opts.firstLine && res.statusCode < 300
          ? {
              test: opts.firstLine,
              refused: (line: string) =>
                new ApiError({ status: res.statusCode, method, path: fullPath, serverMessage: `an answer whose first line is not the one asked for: ${JSON.stringify(line.slice(0, 80))}` }),
            }
          : undefined;
      text = await readBody(res.body, this.opts.maxResponseBytes, tooLarge, firstLine);
    } catch (err) {
      if (signal?.aborted) throw signal.reason instanceof CliError ? signal.reason : new InterruptedError();
      if (deadline.aborted) throw overdue();
      if (err instanceof CliError) throw err;
      this.opts.debug?.(`${method} ${this.redactPath(path)} → ${res.statusCode}, body cut (${ms(started)})`);
      throw networkError(err, this.origin);
    }
    this.opts.debug?.(`${method} ${this.redactPath(path)} → ${res.statusCode} (${ms(started)}, ${text.length} bytes)`);
    const contentType = headerValue(res.headers['content-type']);
    if (res.statusCode >= 300 && res.statusCode < 400) {
      throw this.redirectError(method, path, res.statusCode, headerValue(res.headers['location']));
    }
    if (res.statusCode < 200 || res.statusCode >= 300) {
      throw new StatusFailure(
        res.statusCode,
        errorForStatus({ status: res.statusCode, method, path: fullPath, contentType, text: redactSecrets(text, [this.token, secretOf(opts.body)]) }),
        parseRetryAfter(res.headers['retry-after'], Date.now()),
      );
    }
    if (opts.text) return { status: res.statusCode, body: text as T, headers: res.headers };
    if (text.trim() === '') return { status: res.statusCode, body: {} as T, headers: res.headers };
    try {
      return { status: res.statusCode, body: JSON.parse(text) as T, headers: res.headers };
    } catch {
      const looksHtml = /^\s*</.test(text);
      throw new MalformedBody(
        new ApiError({
          status: res.statusCode,
          method,
          path: fullPath,
          serverMessage: looksHtml ? 'an HTML page instead of JSON (a proxy or captive portal in the way?)' : `malformed JSON in the response (${text.length} bytes)`,
        }),
      );
    }
  }

  /**
   * Redirects are never followed: the token must not travel to another origin, and Fleet's API does
   * not redirect in normal operation (only `//` paths get a 301).
   */
  private redirectError(method: string, path: string, status: number, location: string | undefined): CliError {
    let target = location ?? '(no Location header)';
    let otherOrigin = false;
    try {
      const url = new URL(location ?? '', this.origin + path);
      otherOrigin = url.origin !== this.origin;
      target = otherOrigin ? url.origin + url.pathname : url.pathname;
    } catch {
      // keep the raw header
    }
    return new ApiError({
      status,
      method,
      path,
      serverMessage: `redirected to ${target}; osfleet does not follow redirects${otherOrigin ? ' (the token is never sent to another origin)' : ''}`,
      ...(otherOrigin ? { hint: `if the server moved, set its address: osfleet config set --address ${target.replace(/\/api\/.*$/, '')}` } : {}),
    });
  }

  private redactPath(path: string): string {
    // Query strings never carry tokens in osfleet, but be safe with anything that looks like one.
    return path.replace(/(token|password|secret)=[^&]*/gi, '$1=REDACTED');
  }

  async close(): Promise<void> {
    if (!this.ownsDispatcher) return;
    // After an abort nothing more is wanted: drop the sockets rather than wait for a stuck server.
    if (this.opts.signal?.aborted) await this.dispatcher.destroy().catch(() => undefined);
    else await this.dispatcher.close().catch(() => undefined);
  }
}

/** Wraps a status failure so the retry loop can see the status and Retry-After. */
class StatusFailure extends Error {
  constructor(
    readonly status: number,
    readonly error: CliError,
    readonly retryAfterMs: number | undefined,
  ) {
    super(error.message);
  }
}

/** An answer of the wrong shape: never retried (the server would send the same). */
class ShapeFailure extends Error {
  constructor(readonly error: CliError) {
    super(error.message);
  }
}

class MalformedBody extends Error {
  constructor(readonly error: CliError) {
    super(error.message);
  }
}

/** The password of a login or setup body, to be kept out of echoed error text. */
function secretOf(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const b = body as { password?: unknown; admin?: { password?: unknown } };
  const p = b.password ?? b.admin?.password;
  return typeof p === 'string' ? p : undefined;
}

function unwrap(err: unknown): unknown {
  if (err instanceof StatusFailure || err instanceof MalformedBody || err instanceof ShapeFailure) return err.error;
  return err;
}

/** How far a first line is looked for (RequestOptions.firstLine): a header of a few column names. */
const FIRST_LINE_BYTES = 64 * 1024;

/**
 * The body as text, refused (and the connection dropped) as soon as it passes `max` bytes, or as
 * soon as its first line, once arrived, fails `firstLine`.
 */
async function readBody(
  body: Dispatcher.ResponseData['body'],
  max: number,
  tooLarge: () => Error,
  firstLine?: { test: (line: string) => boolean; refused: (line: string) => Error },
): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  let lineChecked = !firstLine;
  const checkFirstLine = (ended: boolean) => {
    const head = Buffer.concat(chunks, total);
    const end = head.indexOf(0x0a);
    if (end < 0 && !ended && total < FIRST_LINE_BYTES) return;
    lineChecked = true;
    const line = head.subarray(0, end < 0 ? Math.min(total, FIRST_LINE_BYTES) : end).toString('utf8').replace(/\r$/, '');
    if (!firstLine!.test(line)) {
      body.destroy();
      throw firstLine!.refused(line);
    }
  };
  for await (const chunk of body) {
    const buf = chunk as Buffer;
    total += buf.length;
    if (total > max) {
      body.destroy();
      throw tooLarge();
    }
    chunks.push(buf);
    if (!lineChecked) checkFirstLine(false);
  }
  if (!lineChecked) checkFirstLine(true);
  return Buffer.concat(chunks, total).toString('utf8');
}

function anySignal(a: AbortSignal | undefined, b: AbortSignal | undefined): AbortSignal | undefined {
  if (a && b) return AbortSignal.any([a, b]);
  return a ?? b;
}

function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason instanceof CliError ? signal.reason : new InterruptedError());
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason instanceof CliError ? signal.reason : new InterruptedError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function ms(started: number): string {
  return `${Math.round(performance.now() - started)} ms`;
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

export function encodeQuery(query: Record<string, string | number | boolean | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  return params.toString();
}

function normalisePrefix(prefix: string): string {
  if (prefix === '' || prefix === '/') return '';
  return ('/' + prefix.replace(/^\/+|\/+$/g, '')).replace(/\/+/g, '/');
}

export function originOf(address: string): string {
  return new URL(address).origin;
}

/**
 * Builds the client for a context: address checked, CA read, token attached. Warnings (TLS
 * verification off) are in `client.warnings`, for the caller to show.
 */
export async function createClient(
  conn: ResolvedContext,
  ctx: Pick<Ctx, 'signal' | 'debug' | 'globals'> & { env?: Ctx['env'] },
  extra: Pick<ClientOptions, 'onResolved'> = {},
): Promise<FleetClient> {
  if (!conn.address) {
    throw new ConfigError(`no server address in context "${conn.name}"`, {
      hint: 'set it with: osfleet config set --address https://fleet.example.com:8080 (or FLEET_URL), or try `osfleet preview`',
    });
  }
  const url = checkAddress(conn.address, { allowInsecureHttp: conn.allowInsecureHttp });
  // A path in the address is the server's URL prefix (server.url_prefix), used on every REST and
  // websocket call; `url-prefix` says the same, so the two must agree when both are given.
  const fromAddress = normalisePrefix(url.pathname);
  const fromSetting = normalisePrefix(conn.urlPrefix);
  if (fromAddress !== '' && fromSetting !== '' && fromAddress !== fromSetting) {
    throw new ConfigError(`the address ${url.origin}${fromAddress} has the path ${fromAddress} but url-prefix is ${fromSetting}: the server has one prefix`, {
      hint: 'keep the prefix in one place: osfleet config set --address <origin + prefix> (or --url-prefix)',
    });
  }
  let ca: string | undefined;
  if (conn.rootca) ca = await readRootCa(conn.rootca);
  // OSFLEET_HTTP_TIMEOUT (a duration such as 30s, default 60 s) bounds a silence (a silent request is
  // retried when safe); twice it bounds each request, connect to last byte (a trickle ends there).
  const timeoutText = ctx.env?.['OSFLEET_HTTP_TIMEOUT'];
  const timeoutMs = timeoutText ? parseDuration(timeoutText, 'OSFLEET_HTTP_TIMEOUT') : undefined;
  const headerNames = Object.keys(conn.customHeaders ?? {});
  if (headerNames.length > 0 && ctx.globals.debug) ctx.debug(`custom headers on every request: ${headerNames.map((h) => `${h}: REDACTED`).join(', ')}`);
  const client = new FleetClient({
    ...(timeoutMs ? { headersTimeoutMs: timeoutMs, bodyTimeoutMs: timeoutMs, requestTimeoutMs: 2 * timeoutMs, connectTimeoutMs: Math.min(timeoutMs, 10_000) } : {}),
    maxResponseBytes: limit('responseBytes', ctx.env ?? {}),
    address: conn.address,
    urlPrefix: fromSetting || fromAddress,
    token: conn.token,
    tlsSkipVerify: conn.tlsSkipVerify,
    allowInsecureHttp: conn.allowInsecureHttp,
    ca,
    dialect: conn.dialect,
    serverVersion: conn.serverVersion,
    naming: conn.naming,
    customHeaders: conn.customHeaders,
    ...extra,
    signal: ctx.signal,
    debug: ctx.globals.debug ? (line) => ctx.debug(line) : undefined,
  } as ClientOptions);
  // The server as cached in the context: --debug says what osfleet assumes without asking.
  if (ctx.globals.debug && conn.dialect) ctx.debug(`server (cached in context "${conn.name}"): ${describeProfile(client.profile)}`);
  return client;
}
