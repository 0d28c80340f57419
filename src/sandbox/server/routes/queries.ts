/** Saved queries: specs, lists, FleetDM's query reports, deletes. */
import type { Req } from '../router.js';
import type { AppContext } from './context.js';
import { list, paginate } from './context.js';
import { queryJSON, querySpecJSON } from '../shapes.js';
import { errs, field, str } from '../wire.js';

export function queryRoutes(ctx: AppContext): void {
  const { core, d, store, r, now, requireAdmin, specList } = ctx;
  r.add('POST', '/spec/queries', (q) => {
    requireAdmin(q);
    const parsed = specList(q, 'Query').map((s) => {
      const name = str(field(s, 'name'));
      const sql = str(field(s, 'query'));
      if (name === '') throw errs.service(d, 'query name must not be empty', 'name');
      if (sql.trim() === '') throw errs.service(d, 'query body must not be empty', 'query');
      const { name: _n, description, query: _q, ...extra } = s;
      return { name, description: str(description), query: sql, extra: d === 'fleet' ? extra : {} };
    });
    store.transaction(() => {
      for (const p of parsed) store.upsertQuery({ ...p, authorId: q.viewer!.user.id }, now());
    });
    return {};
  }, { body: true });
  r.add('GET', '/spec/queries', () => ({ specs: store.savedQueries().map((x) => querySpecJSON(d, x)) }));
  r.add('GET', '/spec/queries/:name', (q) => {
    const found = store.savedQueryByName(q.params.name!);
    if (!found) throw errs.notFound(`Query ${q.params.name} was not found in the datastore`);
    return { specs: querySpecJSON(d, found) };
  });
  r.add('GET', '/queries', (q) => {
    const filter = (q.query.get('query') ?? '').toLowerCase();
    const all = store.savedQueries().filter((x) => filter === '' || x.name.toLowerCase().includes(filter));
    return { queries: paginate(all, q).map((x) => queryJSON(d, x, x.authorId === null ? undefined : store.userById(x.authorId))) };
  });
  r.add('GET', '/queries/:id', (q) => {
    const found = store.queryById(Number(q.params.id));
    if (!found || !found.saved) throw errs.notFound(`Query ${q.params.id} was not found in the datastore`);
    return { query: queryJSON(d, found, found.authorId === null ? undefined : store.userById(found.authorId)) };
  });
  if (d === 'fleet') {
    // The latest results of a scheduled query per host (FleetDM 4.35+ query reports).
    r.add('GET', '/queries/:id/report', (q) => {
      const id = Number(q.params.id);
      const found = store.queryById(id);
      if (!found || !found.saved) throw errs.notFound(`Query ${q.params.id} was not found in the datastore`);
      const rep = core.results.report(id);
      return {
        query_id: id,
        report_clipped: rep.clipped,
        results: rep.rows.map((x) => ({ host_id: x.hostId, host_name: x.hostName, last_fetched: new Date(x.lastFetched).toISOString(), columns: x.columns })),
      };
    });
  }
  const deleteQuery = (q: Req, found: ReturnType<typeof store.savedQueryByName>, what: string): unknown => {
    requireAdmin(q);
    if (!found) throw errs.notFound(d === 'kolide' ? `queries ${what} was not found in the datastore` : `Query ${what} was not found in the datastore`);
    const usedBy = (p: { spec: Record<string, unknown> }) =>
      (list(p.spec.queries) as Array<Record<string, unknown>>).some((x) => str(x.query).toLowerCase() === found.name.toLowerCase());
    // Kolide: scheduled_queries.query_name REFERENCES queries(name) without ON DELETE (migration
    // 20171219164727), so MySQL refuses the delete while a pack schedules the query.
    if (d === 'kolide' && store.packs().some(usedBy)) throw errs.foreignKey('queries', found.name);
    store.transaction(() => {
      store.deleteQuery(found.id);
      // FleetDM drops the query's schedule entries with it.
      for (const p of store.packs()) {
        const qs = list(p.spec.queries) as Array<Record<string, unknown>>;
        const kept = qs.filter((x) => str(x.query).toLowerCase() !== found.name.toLowerCase());
        if (kept.length !== qs.length) store.upsertPack(p.name, { ...p.spec, queries: kept }, now());
      }
    });
    return {};
  };
  r.add('DELETE', '/queries/:name', (q) => deleteQuery(q, store.savedQueryByName(q.params.name!), q.params.name!));
  r.add('DELETE', '/queries/id/:id', (q) => {
    const found = store.queryById(Number(q.params.id));
    return deleteQuery(q, found?.saved ? found : undefined, q.params.id!);
  });
}
