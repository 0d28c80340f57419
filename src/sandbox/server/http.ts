/**
 * The sandbox's HTTP(S) server: classifies each request (agent, control, setup, app), applies the
 * fault plan to app traffic, gates everything on setup, and dispatches to the routers.
 */
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { AgentError, agentRouter } from './agent.js';
import { appRouter, fleetPasswordOk } from './app.js';
import { Core, VERSIONS } from './core.js';
import { validatePlan } from './faults.js';
import { HANDLED } from './router.js';
import type { Req, Router } from './router.js';
import { userJSON } from './shapes.js';
import { serveResultsSocket } from './ws.js';
import type { FaultPlan, FaultRule, ServerOptions } from './types.js';
import { decodeBody, errs, field, goJSON, HttpError, sendError, sendGoNotFound, sendJSON, str } from './wire.js';
import { BothNamesError, namingOf, newKeysIn, requestKeys, requestQuery, responseKeys, routePath, type DeprecatedUse, type SandboxNaming } from './naming.js';

const MAX_BODY = 64 * 1024 * 1024;

export interface TlsMaterial {
  key: string | Buffer;
  cert: string | Buffer;
}

export class SandboxServer {
  readonly core: Core;
  readonly server: Server;
  private readonly wss: WebSocketServer;
  private readonly app: Router;
  private readonly agent: Router;
  private readonly appPrefixes: string[];
  private readonly osqueryPrefixes: string[];
  private readonly sockets = new Set<Duplex>();
  private readonly flushTimer: NodeJS.Timeout;
  private readonly pingTimer: NodeJS.Timeout;
  private closed = false;
  /** FleetDM 4.82+ names (reports/fleets) or the old ones; Kolide: the old ones. */
  readonly naming: SandboxNaming;
  readonly versionInfo: Record<string, string>;
  /** Every use of an old path or key on a new-naming server (the real one logs them as deprecated). */
  readonly deprecated: DeprecatedUse[] = [];
  /** Each new key sent to an old-naming FleetDM, which ignores it (an object meant for a fleet becomes global). */
  readonly ignoredNewKeys: DeprecatedUse[] = [];
  /** Values of `recordHeader` seen, per request (REST) and upgrade (ws). */
  readonly headerLog: Array<{ via: 'rest' | 'ws'; path: string; value: string | undefined }> = [];

  constructor(private readonly opts: ServerOptions, tls?: TlsMaterial) {
    this.core = new Core(opts);
    const d = opts.dialect;
    this.versionInfo = { ...VERSIONS[d], ...(opts.version ? { version: opts.version } : {}) };
    this.naming = d === 'fleet' ? namingOf(this.versionInfo['version']!) : 'queries';
    this.appPrefixes = d === 'kolide' ? ['/api/v1/kolide'] : ['/api/v1/fleet', '/api/latest/fleet', '/api/2022-04/fleet'];
    this.osqueryPrefixes = d === 'kolide' ? ['/api/v1/osquery'] : ['/api/osquery', '/api/v1/osquery'];
    this.app = appRouter({ core: this.core, restPeriodMs: opts.restPeriodMs ?? 25_000, version: this.versionInfo });
    this.agent = agentRouter(this.core);
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      this.handle(req, res).catch((e: unknown) => this.crash(res, e));
    };
    this.server = tls ? createHttpsServer({ key: tls.key, cert: tls.cert }, handler) : createHttpServer(handler);
    this.server.keepAliveTimeout = 65_000;
    this.server.on('connection', (s: Duplex) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server.on('secureConnection', (s: Duplex) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
    this.flushTimer = setInterval(() => this.core.store.flush(), 1000);
    this.flushTimer.unref();
    // sockjs-go pings raw websocket clients about every 25 s.
    this.pingTimer = setInterval(() => {
      for (const ws of this.wss.clients) if (ws.readyState === ws.OPEN) ws.ping();
    }, 25_000);
    this.pingTimer.unref();
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const addr = this.server.address();
        resolve(typeof addr === 'object' && addr ? addr.port : port);
      });
    });
  }

  setFaults(plan: FaultPlan): void {
    this.core.faults.set(plan);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.flushTimer);
    clearInterval(this.pingTimer);
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
    const done = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await done;
    this.core.close();
  }

  // -------------------------------------------------------------------------------------------------
  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const method = (req.method ?? 'GET').toUpperCase();
    const rawPath = url.pathname;
    // Go's ServeMux cleans paths with `//` by redirecting (fleet-api.md §9b).
    if (rawPath.includes('//')) {
      const clean = rawPath.replace(/\/{2,}/g, '/') + url.search;
      res.writeHead(301, { Location: clean, 'Content-Type': 'text/html; charset=utf-8' });
      res.end(`<a href="${clean}">Moved Permanently</a>.\n\n`);
      return;
    }
    const path = this.unprefixed(rawPath);
    this.recordHeader('rest', rawPath, req);
    if (path === undefined) return sendGoNotFound(res);
    const d = this.opts.dialect;

    const osq = this.osqueryPrefixes.find((p) => path === p || path.startsWith(p + '/'));
    if (osq !== undefined) return this.dispatch(this.agent, req, res, method, path.slice(osq.length), url, true);
    if (path === '/api/_sandbox/faults') return this.control(req, res, method);
    if (path === '/api/_sandbox/deprecated') return this.control(req, res, method, () => ({ count: this.deprecated.length, uses: this.deprecated }));

    const rule = this.core.faults.pick(method, path);
    if (rule && (await this.applyFault(rule, req, res))) return;

    if (path === '/version' && method === 'GET') return sendJSON(res, 200, this.versionInfo);
    if (path === '/healthz') {
      res.writeHead(200, { 'Content-Length': 0 });
      res.end();
      return;
    }
    const isSetupPath = path === '/api/v1/setup' || (d === 'fleet' && path === '/api/setup');
    if (!this.core.isSetup) {
      if (isSetupPath && method === 'POST') return this.setup(req, res);
      return sendGoNotFound(res);
    }
    if (isSetupPath) return sendGoNotFound(res);
    const prefix = this.appPrefixes.find((p) => path === p || path.startsWith(p + '/'));
    if (prefix === undefined) return sendGoNotFound(res);
    return this.dispatch(this.app, req, res, method, path.slice(prefix.length), url, false);
  }

  private recordHeader(via: 'rest' | 'ws', path: string, req: IncomingMessage): void {
    const name = this.opts.recordHeader;
    if (!name) return;
    const v = req.headers[name.toLowerCase()];
    this.headerLog.push({ via, path, value: Array.isArray(v) ? v.join(', ') : v });
  }

  /** The path without the server's URL prefix; undefined when it lies outside the prefix. */
  private unprefixed(path: string): string | undefined {
    const p = this.opts.urlPrefix;
    if (!p) return path;
    if (path === p) return '/';
    return path.startsWith(p + '/') ? path.slice(p.length) : undefined;
  }

  private async dispatch(router: Router, req: IncomingMessage, res: ServerResponse, method: string, asked: string, url: URL, agent: boolean): Promise<void> {
    const d = this.opts.dialect;
    const renamed = !agent && this.naming === 'reports';
    const oldFleet = !agent && d === 'fleet' && this.naming === 'queries';
    const used = (kind: DeprecatedUse['kind']) => (name: string): void => {
      this.deprecated.push({ method, path: asked, kind, name });
      this.opts.log?.(`deprecated ${kind} "${name}" in ${method} ${asked}`);
    };
    const ignored = (name: string): void => {
      this.ignoredNewKeys.push({ method, path: asked, kind: 'key', name });
      this.opts.log?.(`unknown key "${name}" ignored in ${method} ${asked} (this server predates the reports/fleets names)`);
    };
    const sub = renamed ? routePath(asked, this.naming, used('path')) : asked;
    const m = router.match(method, sub);
    if (!('route' in m)) {
      if (m.methodMismatch) {
        res.writeHead(405, { 'Content-Length': 0 });
        res.end();
        return;
      }
      return sendGoNotFound(res);
    }
    let raw: Buffer;
    try {
      raw = await readBody(req);
    } catch (e) {
      return this.errorReply(res, agent, errs.badRequest(d, (e as Error).message));
    }
    const q: Req = {
      method, path: sub, params: m.params, query: url.searchParams, body: {}, raw, viewer: undefined,
      addr: req.socket.remoteAddress ?? '', req, res,
    };
    try {
      if (renamed) q.query = requestQuery(url.searchParams, used('key'));
      if (oldFleet) newKeysIn(Object.fromEntries(url.searchParams), ignored);
      if (m.route.opts.body) {
        const empty = m.route.opts.allowEmpty || (method === 'GET' && raw.length === 0);
        q.body = decodeBody(d, raw, { allowEmpty: empty });
        if (renamed) q.body = requestKeys(q.body, used('key')) as Record<string, unknown>;
        if (oldFleet) newKeysIn(q.body, ignored);
      }
      if (m.route.opts.auth !== false) q.viewer = this.core.authenticate(bearer(req));
      const out = await m.route.handler(q);
      if (out === HANDLED) return;
      sendJSON(res, 200, renamed ? responseKeys(out) : out);
    } catch (e) {
      if (e instanceof BothNamesError) return this.errorReply(res, agent, errs.badRequest(d, e.message));
      if (e instanceof HttpError) return this.errorReply(res, agent, e);
      this.crash(res, e);
    }
  }

  private errorReply(res: ServerResponse, agent: boolean, e: HttpError): void {
    if (agent && e instanceof AgentError) {
      const body: Record<string, unknown> = { error: e.text, node_invalid: true };
      if (this.opts.dialect === 'fleet') body.uuid = randomUUID();
      return sendJSON(res, 401, body);
    }
    sendError(res, this.opts.dialect, e);
  }

  private crash(res: ServerResponse, e: unknown): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendError(res, this.opts.dialect, errs.unknown(this.opts.dialect, e instanceof Error ? e.message : String(e)));
  }

  // --- setup ---------------------------------------------------------------------------------------
  private async setup(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const d = this.opts.dialect;
    const core = this.core;
    try {
      const body = decodeBody(d, await readBody(req));
      const admin = field(body, 'admin');
      const a = admin !== null && typeof admin === 'object' ? (admin as Record<string, unknown>) : undefined;
      const email = str(a && field(a, 'email'));
      const password = str(a && field(a, 'password'));
      const username = str(a && field(a, 'username'));
      const name = str(a && field(a, 'name'));
      let serverUrl: string;
      if (d === 'kolide') {
        // Kolide dereferences admin.username and friends: a body without them drops the connection unanswered.
        if (!a || field(a, 'username') === undefined || field(a, 'password') === undefined || field(a, 'email') === undefined) {
          req.socket.destroy();
          return;
        }
        serverUrl = str(field(body, 'kolide_server_url'));
        // Deliberate deviation: real Kolide requires https; a plain-http sandbox accepts http too, so it is usable without a certificate.
        if (serverUrl !== '') {
          const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(serverUrl)?.[1]?.toLowerCase();
          if (scheme !== 'https' && !(scheme === 'http' && !this.opts.tls)) throw errs.validation([{ name: 'kolide_server_url', reason: 'url scheme must be https' }]);
        }
      } else {
        const bad: Array<{ name: string; reason: string }> = [];
        if (!a) bad.push({ name: 'admin', reason: 'missing required argument' });
        else {
          if (email === '') bad.push({ name: 'email', reason: 'missing required argument' });
          if (password === '') bad.push({ name: 'password', reason: 'missing required argument' });
          else if (!fleetPasswordOk(password)) bad.push({ name: 'password', reason: 'Password must include at least 12 characters, at least 1 number (e.g. 0 - 9), and at least 1 symbol (e.g. &*#)' });
        }
        serverUrl = str(field(body, 'server_url'));
        if (serverUrl !== '' && !/^https?:\/\//i.test(serverUrl)) bad.push({ name: 'server_url', reason: 'Fleet server URL must use “https” or “http”.' });
        if (bad.length > 0) throw errs.validation(bad);
      }
      if (core.isSetup) return sendGoNotFound(res);
      const now = core.now();
      const user = core.store.createUser({
        username: (username || email).toLowerCase(), name: name || username || email, email, password: core.hashPassword(password),
        admin: true, globalRole: 'admin', apiOnly: false,
      }, now);
      const org = field(body, 'org_info');
      const orgInfo = { org_name: '', org_logo_url: '', ...(org !== null && typeof org === 'object' ? (org as Record<string, unknown>) : {}) };
      core.store.setMetaJSON('org_info', orgInfo);
      core.store.setMeta('server_url', serverUrl);
      // A secret given at setup is added beside the sandbox's own, which the simulated hosts keep using.
      const given = str(field(body, 'osquery_enroll_secret'));
      if (given !== '' && given !== this.opts.enrollSecret) core.store.upsertSecretByName({ name: 'setup', secret: given, active: true, createdAt: now });
      core.store.setMeta('setup', '1');
      const token = core.newSessionToken(user.id);
      const reply: Record<string, unknown> = { admin: userJSON(d, user), org_info: orgInfo };
      reply[d === 'kolide' ? 'kolide_server_url' : 'server_url'] = serverUrl;
      reply.osquery_enroll_secret = given || this.opts.enrollSecret;
      reply.token = token;
      sendJSON(res, 200, reply);
    } catch (e) {
      if (e instanceof HttpError) return sendError(res, d, e);
      this.crash(res, e);
    }
  }

  // --- control endpoint (tests): POST/DELETE /api/_sandbox/faults with the admin's token --------------
  private async control(req: IncomingMessage, res: ServerResponse, method: string, read?: () => unknown): Promise<void> {
    const d = this.opts.dialect;
    try {
      const raw = await readBody(req);
      if (!this.core.isSetup) return sendGoNotFound(res);
      const viewer = this.core.authenticate(bearer(req));
      if (!this.core.isAdmin(viewer.user)) throw errs.permission(d, 'forbidden');
      if (read) {
        if (method !== 'GET') {
          res.writeHead(405, { 'Content-Length': 0 });
          res.end();
          return;
        }
        return sendJSON(res, 200, read());
      }
      if (method === 'GET') return sendJSON(res, 200, this.core.faults.current);
      if (method === 'DELETE') {
        this.core.faults.set({});
        return sendJSON(res, 200, {});
      }
      if (method !== 'POST') {
        res.writeHead(405, { 'Content-Length': 0 });
        res.end();
        return;
      }
      const plan = decodeBody(d, raw);
      const problem = validatePlan(plan);
      if (problem) throw errs.validation([{ name: 'plan', reason: problem }]);
      this.core.faults.set(plan as FaultPlan);
      sendJSON(res, 200, {});
    } catch (e) {
      if (e instanceof HttpError) return sendError(res, d, e);
      this.crash(res, e);
    }
  }

  // --- faults --------------------------------------------------------------------------------------
  /** Applies a fault; false when the request should then be served normally (delay). */
  private async applyFault(rule: FaultRule, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const d = this.opts.dialect;
    const retry: Record<string, string> = rule.retryAfter !== undefined ? { 'Retry-After': String(rule.retryAfter) } : {};
    switch (rule.fault) {
      case 'delay':
        await new Promise((r) => setTimeout(r, rule.delayMs ?? 1000));
        return false;
      case '500':
        sendError(res, d, errs.unknown(d, 'injected fault'));
        return true;
      case '502':
        plain(res, 502, 'Bad Gateway\n', 'text/plain; charset=utf-8', {});
        return true;
      case '503':
        plain(res, 503, 'Service Unavailable\n', 'text/plain; charset=utf-8', retry);
        return true;
      case '429':
        sendError(res, d, new HttpError(429, 'Too many requests', [{ name: 'base', reason: 'rate limit exceeded' }], { 'Retry-After': String(rule.retryAfter ?? 1) }));
        return true;
      case 'html':
        plain(res, 502, '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n', 'text/html', {});
        return true;
      case 'malformed-json':
        plain(res, 200, '{\n  "hosts": [\n    {\n      "id": 1,\n      "hostname": "trunc', 'application/json; charset=utf-8', {});
        return true;
      case 'reset': {
        const body = goJSON({ message: 'this reply is cut in half by an injected fault', padding: 'x'.repeat(512) });
        res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
        res.write(body.slice(0, Math.floor(body.length / 2)), () => req.socket.destroy());
        return true;
      }
      case 'hang':
        // Never answered; the socket is destroyed when the sandbox stops.
        req.resume();
        return true;
      case 'ws-block':
        return false;
    }
    return false;
  }

  // --- websocket -----------------------------------------------------------------------------------
  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const refuse = (status: number, text: string): void => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text) + 1}\r\nConnection: close\r\n\r\n${text}\n`);
    };
    const path = this.unprefixed(url.pathname);
    this.recordHeader('ws', url.pathname, req);
    if (path === undefined) return refuse(404, '404 page not found');
    const prefix = this.appPrefixes.find((p) => path === `${p}/results/websocket`);
    if (prefix === undefined || !this.core.isSetup) return refuse(404, '404 page not found');
    const rule = this.core.faults.pick('GET', path, true);
    if (rule?.fault === 'ws-block') return refuse(403, 'Forbidden');
    this.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      serveResultsSocket(this.core, ws, this.opts.statusTickMs, this.core.faults.wsCloseAfter());
    });
  }
}



function plain(res: ServerResponse, status: number, text: string, type: string, headers: Record<string, string>): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const i = h.indexOf(' ');
  if (i < 0 || h.slice(0, i).toLowerCase() !== 'bearer') return undefined;
  return h.slice(i + 1).trim();
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      let buf = Buffer.concat(chunks);
      if ((req.headers['content-encoding'] ?? '').toLowerCase() === 'gzip' && buf.length > 0) {
        try {
          buf = gunzipSync(buf);
        } catch {
          reject(new Error('gzip: invalid header'));
          return;
        }
      }
      resolve(buf);
    });
    req.on('error', reject);
  });
}
