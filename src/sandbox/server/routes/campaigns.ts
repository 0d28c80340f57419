/** Live-query campaigns read over the results websocket: the target picker and the campaign runs. */
import type { Campaign } from '../campaigns.js';
import type { Req } from '../router.js';
import type { AppContext } from './context.js';
import { list, obj } from './context.js';
import { labelJSON } from '../shapes.js';
import { errs, field, str } from '../wire.js';

/** Live queries switched off in the app config: Kolide's 500, FleetDM's 403. */
export function checkLiveQueryAllowed(ctx: AppContext): void {
  const { core, d } = ctx;
  if (core.liveQueryDisabled()) throw d === 'kolide' ? errs.unknown(d, 'disabled by administrator') : errs.permission(d, 'disabled by administrator');
}

export function campaignRoutes(ctx: AppContext): void {
  const { core, d, store, r, host, isObserver } = ctx;
  // The target picker (the UI's; a client may use it to preflight).
  const selectedIds = (q: Req): { hostIds: number[]; labelIds: number[] } => {
    const sel = obj(field(q.body, 'selected'));
    return {
      hostIds: list(field(sel, 'hosts')).map(Number).filter(Number.isFinite),
      labelIds: list(field(sel, 'labels')).map(Number).filter(Number.isFinite),
    };
  };
  r.add('POST', '/targets', (q) => {
    const search = str(field(q.body, 'query')).toLowerCase();
    const { hostIds, labelIds } = selectedIds(q);
    const m = core.metrics(core.resolveTargets(hostIds, labelIds));
    const hosts = [...store.allHosts()].filter((h) => search === '' || h.hostname.toLowerCase().includes(search)).slice(0, 100);
    const labels = store.labels().filter((l) => search === '' || l.name.toLowerCase().includes(search));
    const targets: Record<string, unknown> = {
      hosts: hosts.map((h) => ({ ...host(h), display_text: h.hostname })),
      labels: labels.map((l) => labelJSON(d, l, store.labelMembers(l.id).size)),
    };
    if (d === 'fleet') targets.teams = [];
    return {
      targets, targets_count: m.TotalHosts, targets_online: m.OnlineHosts, targets_offline: m.OfflineHosts,
      targets_missing_in_action: m.MissingInActionHosts,
    };
  }, { body: true });
  if (d === 'fleet') {
    r.add('POST', '/targets/count', (q) => {
      const { hostIds, labelIds } = selectedIds(q);
      const m = core.metrics(core.resolveTargets(hostIds, labelIds));
      return { targets_count: m.TotalHosts, targets_online: m.OnlineHosts, targets_offline: m.OfflineHosts + m.MissingInActionHosts };
    }, { body: true });
  }

  // Live queries.
  const campaignSql = (q: Req): { sql: string; savedId: number | undefined } => {
    const sqlRaw = field(q.body, 'query');
    const idRaw = field(q.body, 'query_id');
    if (d === 'fleet' && idRaw !== undefined && idRaw !== null) {
      if (typeof sqlRaw === 'string' && sqlRaw !== '') throw errs.badRequest(d, 'cannot specify both query and query_id');
      const saved = store.queryById(Number(idRaw));
      if (!saved) throw errs.notFound(`Query ${String(idRaw)} was not found in the datastore`);
      if (isObserver(q) && saved.extra.observer_can_run !== true) throw errs.permission(d, 'forbidden');
      return { sql: saved.query, savedId: saved.id };
    }
    // FleetDM observers may only run saved queries marked observer_can_run.
    if (isObserver(q)) throw errs.permission(d, 'forbidden');
    const sql = str(sqlRaw);
    if (sql.trim() === '') throw errs.service(d, 'query cannot be empty', 'query');
    return { sql, savedId: undefined };
  };
  const liveQueryAllowed = (): void => checkLiveQueryAllowed(ctx);
  const reply = (c: Campaign): unknown => ({ campaign: core.campaignJSON(c) });

  r.add('POST', '/queries/run', (q) => {
    liveQueryAllowed();
    const { sql, savedId } = campaignSql(q);
    const sel = obj(field(q.body, 'selected'));
    const hostIds = list(field(sel, 'hosts')).map(Number).filter(Number.isFinite);
    const labelIds = list(field(sel, 'labels')).map(Number).filter(Number.isFinite);
    if (d === 'fleet' && hostIds.length === 0 && labelIds.length === 0) throw errs.badRequest(d, 'no hosts targeted');
    return reply(core.createCampaign(q.viewer!, sql, core.resolveTargets(hostIds, labelIds), savedId));
  }, { body: true });

  const byNames = (kind: 'hostname' | 'identifier') => (q: Req): unknown => {
    liveQueryAllowed();
    const { sql, savedId } = campaignSql(q);
    const sel = obj(field(q.body, 'selected'));
    const hostNames = list(field(sel, 'hosts')).map(str);
    const labelNames = list(field(sel, 'labels')).map(str);
    const labelIds: number[] = [];
    const unknown: string[] = [];
    for (const n of labelNames) {
      const l = store.labelByName(n);
      if (l) labelIds.push(l.id);
      else unknown.push(n);
    }
    if (d === 'fleet' && unknown.length > 0) throw errs.badRequest(d, `Invalid label name(s): ${unknown.join(', ')}.`);
    const idx = core.identifierIndex(kind);
    const hostIds = hostNames.flatMap((n) => (idx.get(n.toLowerCase()) ?? []).map((h) => h.id));
    if (d === 'fleet' && hostIds.length === 0 && labelIds.length === 0) throw errs.badRequest(d, 'no hosts targeted');
    return reply(core.createCampaign(q.viewer!, sql, core.resolveTargets(hostIds, labelIds), savedId));
  };
  r.add('POST', '/queries/run_by_names', byNames(d === 'kolide' ? 'hostname' : 'identifier'), { body: true });
  if (d === 'fleet') r.add('POST', '/queries/run_by_identifiers', byNames('identifier'), { body: true });
}
