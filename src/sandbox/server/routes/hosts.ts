/** Hosts: the list and count, FleetDM's CSV report, the summary, one host by id or identifier, deletes. */
import { stringify } from 'csv-stringify/sync';
import { HANDLED, type Req } from '../router.js';
import type { AppContext } from './context.js';
import { paginate } from './context.js';
import { hostJSON, hostStatus, isNew, labelJSON } from '../shapes.js';
import { errs, HttpError } from '../wire.js';
import type { HostRec } from '../store.js';

/**
 * Hosts filtered (`status`, `query`), ordered (`order_key`, `order_direction`) and paged as the list
 * endpoints do. `hosts` is not changed; `inIdOrder`: it is already in id order (not sorted again).
 */
export function listHosts(ctx: AppContext, q: Req, hosts: readonly HostRec[], inIdOrder = false): HostRec[] {
  const { d, now } = ctx;
  const t = now();
  const status = q.query.get('status') ?? '';
  const search = (q.query.get('query') ?? '').toLowerCase();
  let out: readonly HostRec[] = status === '' && search === '' ? hosts : hosts.filter((h) => {
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
  if (key === 'id' || !key) {
    // By id (the primary key, what the real server's index gives in order): no per-host sort key.
    // A label of 100,000 hosts is read in 200 pages, each sorting it anew.
    const dir = key && q.query.get('order_direction') === 'desc' ? -1 : 1;
    if (!inIdOrder || dir === -1) out = (out === hosts ? out.slice() : (out as HostRec[])).sort((a, b) => (a.id - b.id) * dir);
  } else {
    const dir = q.query.get('order_direction') === 'desc' ? -1 : 1;
    // One sort key per host, computed once (not per comparison); numbers compare as numbers, as
    // the real server's SQL ORDER BY does ("9" before "10").
    const keyed = out.map((h) => ({ h, v: (hostJSON(d, h, t) as Record<string, unknown>)[key] }));
    keyed.sort((a, b) => {
      if (a.v === b.v) return a.h.id - b.h.id;
      const cmp = typeof a.v === 'number' && typeof b.v === 'number' ? a.v - b.v : String(a.v ?? '') < String(b.v ?? '') ? -1 : 1;
      return cmp * dir;
    });
    out = keyed.map((k) => k.h);
  }
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
    r.add('GET', '/hosts/report', (q) => hostsReport(ctx, q));
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

/**
 * FleetDM's `GET /hosts/report?format=csv`: every matching host (no pages; `label_id` for a label's
 * members, the list's filters otherwise), as CSV with a header row, `columns` choosing and ordering
 * the columns (an unknown one is a 400), Go's csv.Writer line ends (`\n`). Any other format is a 415.
 */
function hostsReport(ctx: AppContext, q: Req): typeof HANDLED {
  const { store, now, d } = ctx;
  if (q.query.get('format') !== 'csv') {
    throw new HttpError(415, 'Validation Failed', [{ name: 'format', reason: 'unsupported or unspecified report format' }]);
  }
  const labelId = q.query.get('label_id');
  const hosts = labelId !== null ? store.membersInIdOrder(Number(labelId)) : [...store.allHosts()];
  const params = new URLSearchParams(q.query);
  params.delete('page');
  params.delete('per_page');
  const t = now();
  const rows = listHosts(ctx, { ...q, query: params }, hosts, labelId !== null).map((h) => hostJSON(d, h, t) as Record<string, unknown>);
  const all = rows.length > 0 ? Object.keys(rows[0]!).filter((k) => isCell(rows[0]![k])) : ['id', 'hostname'];
  const asked = (q.query.get('columns') ?? '').split(',').map((c) => c.trim()).filter((c) => c !== '');
  const columns = asked.length > 0 ? asked : all;
  const bad = columns.find((c) => !all.includes(c));
  if (bad !== undefined) throw errs.badRequest(d, `invalid column name: ${JSON.stringify(bad)}`);
  const text = stringify([columns, ...rows.map((r) => columns.map((c) => cellText(r[c])))], { record_delimiter: 'unix' });
  q.res.writeHead(200, {
    'Content-Type': 'text/csv',
    'Content-Disposition': `attachment; filename="Hosts ${new Date(t).toISOString().slice(0, 10)}.csv"`,
    'X-Content-Type-Options': 'nosniff',
    'Content-Length': Buffer.byteLength(text),
  });
  q.res.end(text);
  return HANDLED;
}

const isCell = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);
const cellText = (v: unknown) => (v === null || v === undefined ? '' : String(v));
