/** Hosts: the list and count, the summary, one host by id or identifier, deletes. */
import type { Req } from '../router.js';
import type { AppContext } from './context.js';
import { paginate } from './context.js';
import { hostJSON, hostStatus, isNew, labelJSON } from '../shapes.js';
import type { HostRec } from '../store.js';
import { errs } from '../wire.js';

/** Hosts filtered (`status`, `query`), ordered (`order_key`, `order_direction`) and paged as the list endpoints do. */
export function listHosts(ctx: AppContext, q: Req, hosts: HostRec[]): HostRec[] {
  const { d, now } = ctx;
  const t = now();
  const status = q.query.get('status') ?? '';
  const search = (q.query.get('query') ?? '').toLowerCase();
  let out = hosts.filter((h) => {
    if (status !== '') {
      const s = hostStatus(d, h, t);
      if (status === 'new' && !isNew(h, t)) return false;
      if (status === 'online' && s !== 'online') return false;
      if (status === 'offline' && s !== 'offline') return false;
      if ((status === 'mia' || status === 'missing') && s !== 'mia') return false;
    }
    if (search !== '') {
      const hay = [h.hostname, h.uuid, h.hardwareSerial, h.computerName, h.primaryIp].map((x) => x.toLowerCase());
      if (!hay.some((x) => x.includes(search))) return false;
    }
    return true;
  });
  const key = q.query.get('order_key');
  if (key) {
    const dir = q.query.get('order_direction') === 'desc' ? -1 : 1;
    // One sort key per host, computed once (not per comparison); numbers compare as numbers, as
    // the real server's SQL ORDER BY does ("9" before "10").
    const keyed = out.map((h) => ({ h, v: key === 'id' ? h.id : (hostJSON(d, h, t) as Record<string, unknown>)[key] }));
    keyed.sort((a, b) => {
      if (a.v === b.v) return a.h.id - b.h.id;
      const cmp = typeof a.v === 'number' && typeof b.v === 'number' ? a.v - b.v : String(a.v ?? '') < String(b.v ?? '') ? -1 : 1;
      return cmp * dir;
    });
    out = keyed.map((k) => k.h);
  } else out = out.slice().sort((a, b) => a.id - b.id);
  return paginate(out, q);
}

export function hostRoutes(ctx: AppContext): void {
  const { core, d, store, r, now, requireAdmin, host, noRows } = ctx;
  r.add('GET', '/hosts', (q) => ({ hosts: listHosts(ctx, q, [...store.allHosts()]).map(host) }));
  if (d === 'fleet') {
    r.add('GET', '/hosts/count', (q) => {
      const q2 = { ...q, query: new URLSearchParams(q.query) };
      q2.query.delete('page');
      q2.query.delete('per_page');
      return { count: listHosts(ctx, q2, [...store.allHosts()]).length };
    });
  }
  r.add('GET', '/host_summary', () => {
    const t = now();
    let online = 0, offline = 0, mia = 0, fresh = 0;
    const platforms = new Map<string, number>();
    for (const h of store.allHosts()) {
      const s = hostStatus(d, h, t);
      if (s === 'online') online++;
      else if (s === 'mia') mia++;
      else offline++;
      if (isNew(h, t)) fresh++;
      platforms.set(h.platform, (platforms.get(h.platform) ?? 0) + 1);
    }
    if (d === 'kolide') return { online_count: online, offline_count: offline, mia_count: mia, new_count: fresh };
    return {
      totals_hosts_count: store.hostCount(), online_count: online, offline_count: offline + mia, mia_count: mia, missing_30_days_count: mia,
      new_count: fresh, all_linux_count: [...platforms].filter(([p]) => !['darwin', 'windows', 'chrome', 'ios', 'ipados'].includes(p)).reduce((a, [, n]) => a + n, 0),
      platforms: [...platforms].map(([platform, hosts_count]) => ({ platform, hosts_count })),
      builtin_labels: store.labels().filter((l) => l.builtin).map((l) => ({ id: l.id, name: l.name, description: l.description, label_type: 'builtin' })),
    };
  });
  const hostDetail = (h: HostRec): Record<string, unknown> => {
    const labels = store.labelsOfHost(h.id).map((l) => labelJSON(d, l, store.labelMembers(l.id).size));
    if (d === 'kolide') return { ...host(h), labels };
    return { ...host(h), labels, packs: [], policies: [], users: [], batteries: null, end_users: [] };
  };
  r.add('GET', '/hosts/identifier/:identifier', (q) => {
    const h = core.hostsByIdentifier(q.params.identifier!);
    if (!h) throw d === 'kolide' ? noRows('get host by identifier') : errs.notFound(`Host ${q.params.identifier} was not found in the datastore`);
    return { host: hostDetail(h) };
  });
  const hostOr404 = (id: string): HostRec => {
    const h = store.hostById(Number(id));
    if (!h) throw d === 'kolide' ? noRows('getting host by id') : errs.notFound(`Host ${id} was not found in the datastore`);
    return h;
  };
  r.add('GET', '/hosts/:id', (q) => ({ host: d === 'kolide' ? host(hostOr404(q.params.id!)) : hostDetail(hostOr404(q.params.id!)) }));
  r.add('DELETE', '/hosts/:id', (q) => {
    requireAdmin(q);
    const h = hostOr404(q.params.id!);
    store.deleteHost(h.id);
    core.forgetHost(h.id);
    return {};
  });
}
