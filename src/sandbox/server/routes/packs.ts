/** Packs: specs, the list, deletes. */
import type { Req } from '../router.js';
import type { AppContext } from './context.js';
import { list, obj } from './context.js';
import { errs, field, str } from '../wire.js';

export function packRoutes(ctx: AppContext): void {
  const { d, store, r, now, requireAdmin, specList } = ctx;
  r.add('POST', '/spec/packs', (q) => {
    requireAdmin(q);
    const normalized = specList(q, 'Pack').map((s) => {
      const name = str(field(s, 'name'));
      if (name === '') throw errs.service(d, 'pack name must not be empty', 'name');
      const queries = list(field(s, 'queries')).map((x) => {
        const e = obj(x);
        const qn = str(field(e, 'query'));
        if (!store.savedQueryByName(qn)) throw errs.service(d, `applying pack '${name}': cannot schedule unknown query '${qn}'`);
        const out: Record<string, unknown> = { query: qn, name: str(field(e, 'name')) || qn };
        const desc = field(e, 'description');
        if (desc !== undefined) out.description = str(desc);
        out.interval = Number(field(e, 'interval') ?? 0) || 0;
        for (const k of ['snapshot', 'removed', 'shard', 'platform', 'version', ...(d === 'fleet' ? ['denylist'] : [])]) {
          const v = field(e, k);
          if (v !== undefined && v !== null) out[k] = v;
        }
        return out;
      });
      const targets = obj(field(s, 'targets'));
      const spec: Record<string, unknown> = { name };
      const desc = str(field(s, 'description'));
      if (desc !== '') spec.description = desc;
      const platform = str(field(s, 'platform'));
      if (platform !== '') spec.platform = platform;
      spec.disabled = field(s, 'disabled') === true;
      spec.targets = { labels: list(targets.labels).map(str) };
      spec.queries = queries;
      return spec;
    });
    store.transaction(() => {
      for (const s of normalized) store.upsertPack(s.name as string, s, now());
    });
    return {};
  }, { body: true });
  const packSpec = (p: { id: number; spec: Record<string, unknown> }): Record<string, unknown> => ({ id: p.id, ...p.spec });
  r.add('GET', '/spec/packs', () => ({ specs: store.packs().map(packSpec) }));
  r.add('GET', '/spec/packs/:name', (q) => {
    const p = store.packByName(q.params.name!);
    // Kolide answers a missing pack spec with 500, not 404 (fleet-api.md §9b).
    if (!p) throw d === 'kolide' ? errs.unknown(d, `get pack: Pack ${q.params.name} was not found in the datastore`) : errs.notFound(`Pack ${q.params.name} was not found in the datastore`);
    return { specs: packSpec(p) };
  });
  r.add('GET', '/packs', () => ({
    packs: store.packs().map((p) => ({ id: p.id, name: p.name, description: p.spec.description ?? '', platform: p.spec.platform ?? '', disabled: p.spec.disabled === true, query_count: list(p.spec.queries).length })),
  }));
  const deletePack = (q: Req, p: ReturnType<typeof store.packByName>, what: string): unknown => {
    requireAdmin(q);
    if (!p) throw errs.notFound(d === 'kolide' ? `packs ${what} was not found in the datastore` : `Pack ${what} was not found in the datastore`);
    store.deletePack(p.id);
    return {};
  };
  r.add('DELETE', '/packs/:name', (q) => deletePack(q, store.packByName(q.params.name!), q.params.name!));
  r.add('DELETE', '/packs/id/:id', (q) => deletePack(q, store.packs().find((p) => p.id === Number(q.params.id)), q.params.id!));
}
