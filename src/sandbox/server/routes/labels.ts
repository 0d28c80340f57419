/** Labels: specs (dynamic and manual), the list, a label's hosts, deletes. */
import type { Req } from '../router.js';
import type { AppContext } from './context.js';
import { list, paginate } from './context.js';
import { listHosts } from './hosts.js';
import { labelJSON, labelSpecJSON } from '../shapes.js';
import type { HostRec, LabelRec } from '../store.js';
import { errs, field, str } from '../wire.js';

export function labelRoutes(ctx: AppContext): void {
  const { core, d, store, r, now, requireAdmin, specList, host, noRows } = ctx;
  r.add('POST', '/spec/labels', (q) => {
    requireAdmin(q);
    const specs = specList(q, 'Label');
    const byHost = d === 'kolide' ? core.identifierIndex('hostname') : core.identifierIndex('identifier');
    const plans = specs.map((s) => {
      const name = str(field(s, 'name'));
      if (name === '') throw errs.service(d, 'label name must not be empty', 'name');
      const existing = store.labelByName(name);
      if (existing?.builtin) throw errs.service(d, `cannot modify built-in label '${existing.name}'`);
      const mtRaw = field(s, 'label_membership_type');
      const mt = mtRaw === undefined || mtRaw === null || mtRaw === '' ? 'dynamic' : str(mtRaw);
      if (mt !== 'dynamic' && mt !== 'manual') throw errs.badRequest(d, `invalid label membership type: ${mt}`);
      const hosts = field(s, 'hosts');
      if (mt === 'dynamic' && Array.isArray(hosts) && hosts.length > 0) throw errs.service(d, `label ${name} is declared as dynamic but contains \`hosts\` key`);
      if (mt === 'manual' && !Array.isArray(hosts) && d === 'kolide') throw errs.service(d, `label ${name} is declared as manual but contains no \`hosts key\``);
      const sql = str(field(s, 'query'));
      if (mt === 'dynamic' && sql.trim() === '') throw errs.service(d, `label ${name}: query must not be empty`, 'query');
      const hostIds = list(hosts).flatMap((x) => (byHost.get(str(x).toLowerCase()) ?? []).map((h) => h.id));
      return { name, description: str(field(s, 'description')), query: sql, platform: str(field(s, 'platform')), mt, hostIds, existing };
    });
    store.transaction(() => {
      for (const p of plans) {
        const changed = !p.existing || p.existing.query !== p.query || p.existing.platform !== p.platform || p.existing.membershipType !== p.mt;
        const l = p.existing && !changed
          ? store.upsertLabel({ ...p.existing, description: p.description }, p.existing.updatedAt)
          : store.upsertLabel({ name: p.name, description: p.description, query: p.query, platform: p.platform, builtin: false, membershipType: p.mt as 'dynamic' | 'manual' }, Math.max(now(), (p.existing?.updatedAt ?? 0) + 1));
        if (p.mt === 'manual') store.replaceMembers(l.id, p.hostIds);
        else if (p.existing?.membershipType === 'manual') store.replaceMembers(l.id, []);
      }
    });
    return {};
  }, { body: true });
  r.add('GET', '/spec/labels', () => ({ specs: store.labels().map((l) => labelSpecJSON(d, l, core.labelHostNames(l))) }));
  r.add('GET', '/spec/labels/:name', (q) => {
    const l = store.labelByName(q.params.name!);
    if (!l) throw errs.notFound(`Label ${q.params.name} was not found in the datastore`);
    return { specs: labelSpecJSON(d, l, core.labelHostNames(l)) };
  });
  r.add('GET', '/labels', (q) => ({ labels: paginate(store.labels(), q).map((l) => labelJSON(d, l, store.labelMembers(l.id).size)) }));
  const labelOr404 = (id: string): LabelRec => {
    const l = store.labelById(Number(id));
    if (!l) throw d === 'kolide' ? noRows('selecting label') : errs.notFound(`Label ${id} was not found in the datastore`);
    return l;
  };
  r.add('GET', '/labels/:id', (q) => {
    const l = labelOr404(q.params.id!);
    return { label: labelJSON(d, l, store.labelMembers(l.id).size) };
  });
  r.add('GET', '/labels/:id/hosts', (q) => {
    const l = labelOr404(q.params.id!);
    return { hosts: listHosts(ctx, q, store.membersInIdOrder(l.id), true).map(host) };
  });
  const deleteLabel = (q: Req, l: LabelRec | undefined, what: string): unknown => {
    requireAdmin(q);
    if (!l) throw errs.notFound(d === 'kolide' ? `labels ${what} was not found in the datastore` : `Label ${what} was not found in the datastore`);
    if (l.builtin) throw errs.service(d, `cannot delete built-in label '${l.name}'`);
    store.deleteLabel(l.id);
    return {};
  };
  r.add('DELETE', '/labels/:name', (q) => deleteLabel(q, store.labelByName(q.params.name!), q.params.name!));
  r.add('DELETE', '/labels/id/:id', (q) => deleteLabel(q, store.labelById(Number(q.params.id)), q.params.id!));
}
