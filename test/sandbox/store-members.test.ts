/**
 * The sandbox store's label members in id order (`membersInIdOrder`): kept between reads for a
 * label of 100,000 hosts read in 200 pages, and made anew after every change of a membership or of
 * the hosts, so a page never shows a host that left the label or misses one that joined.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/sandbox/server/store.js';
import { phantomHost } from '../../src/sandbox/server/stray.js';

const ids = (s: Store, label: number) => s.membersInIdOrder(label).map((h) => h.id);

describe('Store.membersInIdOrder', () => {
  let store: Store | undefined;
  afterEach(() => store?.db.close());

  it('orders by id whatever the order of joining, and follows joins, leaves, replaced members and deleted hosts', () => {
    const s = (store = new Store(':memory:'));
    const hosts = [1, 2, 3, 4].map((n) => s.saveHost({ ...phantomHost(0, `h${n}`), nodeKey: `k${n}`, osqueryHostId: `o${n}` }));
    const [a, b, c, d] = hosts.map((h) => h.id) as [number, number, number, number];
    for (const id of [d, b, a]) s.setMembership(7, id, true);
    const first = s.membersInIdOrder(7);
    expect(first.map((h) => h.id)).toEqual([a, b, d]);
    // Kept while nothing changes (and a membership set to what it is changes nothing).
    s.setMembership(7, a, true);
    expect(s.membersInIdOrder(7)).toBe(first);
    s.setMembership(7, c, true);
    expect(ids(s, 7)).toEqual([a, b, c, d]);
    s.setMembership(7, b, false);
    expect(ids(s, 7)).toEqual([a, c, d]);
    s.deleteHost(d);
    expect(ids(s, 7)).toEqual([a, c]);
    s.replaceMembers(7, [b]);
    expect(ids(s, 7)).toEqual([b]);
    // A host rewritten under its id is served as it is now.
    const renamed = s.saveHost({ ...hosts[1]!, hostname: 'renamed' });
    expect(s.membersInIdOrder(7)[0]).toBe(renamed);
    expect(ids(s, 99)).toEqual([]);
  });
});
