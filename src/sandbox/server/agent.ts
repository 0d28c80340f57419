/** osquery's TLS remote API (osquery.md §1): enroll, config, distributed read/write, log, carve. */
import type { Core } from './core.js';
import { Router } from './router.js';
import type { Req } from './router.js';
import type { HostRec } from './store.js';
import { field, HttpError, str } from './wire.js';

/** An agent-endpoint error: `{"error", "node_invalid": true}` with 401 (osquery reads only the body). */
export class AgentError extends HttpError {
  constructor(readonly text: string) {
    super(401, text, undefined);
  }
}

function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

export function agentRouter(core: Core): Router {
  const r = new Router();
  const store = core.store;

  /** node_key from the body, or from `Authorization: NodeKey` (osquery 5.23+ sends both). */
  const authHost = (q: Req): HostRec => {
    let key = str(field(q.body, 'node_key'));
    if (key === '') {
      const m = /^NodeKey\s+(.+)$/i.exec(q.req.headers.authorization ?? '');
      if (m) key = m[1]!.trim();
    }
    const h = key === '' ? undefined : store.hostByNodeKey(key);
    if (!h) throw new AgentError(`authentication error: invalid node key: ${key}`);
    store.touchSeen(h, core.now());
    return h;
  };

  r.add('POST', '/enroll', (q) => {
    const secret = str(field(q.body, 'enroll_secret'));
    const match = store.secrets().find((s) => s.active && s.secret === secret);
    if (!match) throw new AgentError('enroll failed: no matching secret found');
    const identifier = str(field(q.body, 'host_identifier'));
    if (identifier === '') throw new AgentError('enroll failed: missing host identifier');
    const details = obj(field(q.body, 'host_details')) as Record<string, Record<string, unknown>>;
    const h = core.enroll(identifier, match.name, details);
    return { node_key: h.nodeKey };
  }, { auth: false, body: true });

  r.add('POST', '/config', (q) => {
    const h = authHost(q);
    const before = `${h.distributedInterval}/${h.configTlsRefresh}/${h.loggerTlsPeriod}`;
    const config = core.agentConfig(h);
    if (`${h.distributedInterval}/${h.configTlsRefresh}/${h.loggerTlsPeriod}` !== before) store.markDirty(h);
    return config;
  }, { auth: false, body: true });

  r.add('POST', '/distributed/read', (q) => {
    const h = authHost(q);
    return { queries: core.queriesFor(h) };
  }, { auth: false, body: true });

  r.add('POST', '/distributed/write', (q) => {
    const h = authHost(q);
    core.ingest(h, obj(field(q.body, 'queries')), obj(field(q.body, 'statuses')), obj(field(q.body, 'messages')), obj(field(q.body, 'stats')));
    return {};
  }, { auth: false, body: true });

  r.add('POST', '/log', (q) => {
    const h = authHost(q);
    const data = field(q.body, 'data');
    if (Array.isArray(data)) {
      core.logLines += data.length;
      if (str(field(q.body, 'log_type')) === 'result') core.results.add(h, data, core.now());
    }
    return {};
  }, { auth: false, body: true });

  if (core.d === 'fleet') {
    r.add('POST', '/carve/begin', (q) => {
      authHost(q);
      return { session_id: `carve-${Date.now()}`, success: true };
    }, { auth: false, body: true });
    r.add('POST', '/carve/block', () => ({ success: true }), { auth: false, body: true });
  }
  return r;
}
