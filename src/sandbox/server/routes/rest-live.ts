/** FleetDM's REST live queries: a campaign without a websocket, answered when the online targets did or the REST period ran out. */
import type { Viewer } from '../core.js';
import type { CampaignResult } from '../campaigns.js';
import type { Req } from '../router.js';
import { checkLiveQueryAllowed } from './campaigns.js';
import type { AppContext } from './context.js';
import { list } from './context.js';
import { hostStatus } from '../shapes.js';
import type { HostRec } from '../store.js';
import { errs, field, str } from '../wire.js';

export function restLiveRoutes(ctx: AppContext): void {
  const { core, d, store, r, deps, now } = ctx;
  if (d !== 'fleet') return;
  const liveQueryAllowed = (): void => checkLiveQueryAllowed(ctx);

  /** Runs a campaign without a websocket and waits for the online targets (or the REST period). */
  const runSync = async (viewer: Viewer, sql: string, targets: Set<number>, savedId: number | undefined): Promise<Map<number, CampaignResult>> => {
    const c = core.createCampaign(viewer, sql, targets, savedId);
    const got = new Map<number, CampaignResult>();
    const onlineTargets = [...targets].filter((id) => {
      const h = store.hostById(id);
      return h !== undefined && hostStatus(d, h, now()) === 'online';
    });
    await new Promise<void>((resolve) => {
      let unsub: () => void = () => {};
      const timer = setTimeout(() => done(), deps.restPeriodMs);
      timer.unref();
      const done = (): void => {
        clearTimeout(timer);
        unsub();
        resolve();
      };
      unsub = core.campaigns.subscribe(c, (res) => {
        got.set(res.hostId, res);
        if (onlineTargets.every((id) => got.has(id))) done();
      });
      if (onlineTargets.length === 0) done();
    });
    return got;
  };
  const hostQuery = async (q: Req, h: HostRec | undefined, what: string): Promise<unknown> => {
    liveQueryAllowed();
    if (!h) throw errs.notFound(`Host ${what} was not found in the datastore`);
    const sql = str(field(q.body, 'query'));
    if (sql.trim() === '') throw errs.validation([{ name: 'query', reason: 'query cannot be empty' }]);
    if (hostStatus(d, h, now()) !== 'online') return { host_id: h.id, query: sql, status: 'offline', error: 'host is offline', rows: [] };
    const got = await runSync(q.viewer!, sql, new Set([h.id]), undefined);
    const res = got.get(h.id);
    // The strayAnswers fault: the reply names a host that was not asked (stray.ts).
    const stray = [...got.values()].find((x) => x.hostId !== h.id);
    if (stray) return { host_id: stray.hostId, query: sql, status: 'online', rows: stray.rows };
    if (!res) return { host_id: h.id, query: sql, status: 'online', error: 'timeout waiting for results', rows: [] };
    const out: Record<string, unknown> = { host_id: h.id, query: sql, status: 'online', rows: res.rows };
    if (res.error !== null) out.error = res.error;
    return out;
  };
  r.add('POST', '/hosts/identifier/:identifier/query', (q) => hostQuery(q, core.hostsByIdentifier(q.params.identifier!), q.params.identifier!), { body: true });
  r.add('POST', '/hosts/:id/query', (q) => hostQuery(q, store.hostById(Number(q.params.id)), q.params.id!), { body: true });
  const resultsList = (got: Map<number, CampaignResult>): unknown[] =>
    [...got.values()].map((x) => ({ host_id: x.hostId, rows: x.rows, error: x.error }));
  r.add('POST', '/queries/:id/run', async (q) => {
    liveQueryAllowed();
    const saved = store.queryById(Number(q.params.id));
    if (!saved || !saved.saved) throw errs.notFound(`Query ${q.params.id} was not found in the datastore`);
    const hostIds = list(field(q.body, 'host_ids')).map(Number).filter(Number.isFinite);
    if (hostIds.length === 0) throw errs.badRequest(d, 'no hosts targeted');
    const targets = core.resolveTargets(hostIds, []);
    const got = await runSync(q.viewer!, saved.query, targets, saved.id);
    return { query_id: saved.id, targeted_host_count: targets.size, responded_host_count: got.size, results: resultsList(got) };
  }, { body: true });
  r.add('GET', '/queries/run', async (q) => {
    liveQueryAllowed();
    const qids = list(field(q.body, 'query_ids')).map(Number).filter(Number.isFinite);
    const hids = list(field(q.body, 'host_ids')).map(Number).filter(Number.isFinite);
    if (qids.length === 0 || hids.length === 0) throw errs.badRequest(d, 'query_ids and host_ids are required');
    const targets = core.resolveTargets(hids, []);
    const runs = await Promise.all(qids.map(async (id) => {
      const saved = store.queryById(id);
      if (!saved) return { query_id: id, error: `Query ${id} was not found in the datastore`, results: [] };
      return { query_id: id, results: resultsList(await runSync(q.viewer!, saved.query, targets, saved.id)) };
    }));
    const responded = new Set(runs.flatMap((x) => (x.results as Array<{ host_id: number }>).map((y) => y.host_id)));
    return { summary: { targeted_host_count: targets.size, responded_host_count: responded.size }, live_query_results: runs };
  }, { body: true, allowEmpty: true });
}
