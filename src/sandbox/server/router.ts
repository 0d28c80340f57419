/** A small method + path-pattern router (`:name` matches one URL-decoded segment). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Viewer } from './core.js';

export interface Req {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  /** The decoded JSON body (routes with `body: true`), else {}. */
  body: Record<string, unknown>;
  raw: Buffer;
  viewer: Viewer | undefined;
  addr: string;
  req: IncomingMessage;
  res: ServerResponse;
}

/** A handler that wrote its own reply returns this. */
export const HANDLED = Symbol('handled');
export type Handler = (r: Req) => unknown;

export interface RouteOpts {
  /** Needs a bearer token (default true). */
  auth?: boolean;
  /** Decodes a JSON body before the auth check, as go-kit decodes before the endpoint runs. */
  body?: boolean;
  /** An empty body is {} (GET with an optional body). */
  allowEmpty?: boolean;
}

interface Route {
  method: string;
  segs: string[];
  handler: Handler;
  opts: RouteOpts;
}

export class Router {
  private readonly routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler, opts: RouteOpts = {}): void {
    this.routes.push({ method, segs: pattern.split('/').filter((s) => s !== ''), handler, opts });
  }

  /** The route and its params; `methodMismatch` when the path exists under another method. */
  match(method: string, path: string): { route: Route; params: Record<string, string> } | { methodMismatch: boolean } {
    const segs = path.split('/').filter((s) => s !== '');
    let mismatch = false;
    for (const r of this.routes) {
      if (r.segs.length !== segs.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < segs.length; i++) {
        const p = r.segs[i]!;
        const s = segs[i]!;
        if (p.startsWith(':')) {
          try {
            params[p.slice(1)] = decodeURIComponent(s);
          } catch {
            params[p.slice(1)] = s;
          }
        } else if (p !== s) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      if (r.method !== method) {
        mismatch = true;
        continue;
      }
      return { route: r, params };
    }
    return { methodMismatch: mismatch };
  }
}
