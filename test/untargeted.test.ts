/**
 * TargetCheck (src/results/untargeted.ts): which answers belong to a campaign, what is dropped and
 * counted, and what is kept unverified when the targets cannot be trusted (issue 15.4).
 */
import { describe, expect, it } from 'vitest';
import { TargetCheck, type TargetSet } from '../src/results/untargeted.js';
import { idsOfReport } from '../src/api/hosts.js';

const set = (hosts: Array<[number, string]>): TargetSet => ({ ids: new Set(hosts.map(([id]) => id)), names: new Set(hosts.map(([, n]) => n)) });
const answer = (host: string, hostId: number | undefined, rows = 1) => ({ host, hostId, rows: Array.from({ length: rows }, () => ({})) });

describe('TargetCheck', () => {
  it('known targets: an answer from outside is dropped and counted per host; an id decides over a name', async () => {
    const c = TargetCheck.of(set([[1, 'a'], [2, 'b']]));
    expect(await c.admit(answer('a', 1), { count: true })).toBe(true);
    // A host that borrows a target's hostname under another id is not that target.
    expect(await c.admit(answer('a', 7, 2), { count: true })).toBe(false);
    expect(await c.admit(answer('a', 7, 3), { count: true })).toBe(false);
    // Not counted: the users campaign's answers.
    expect(await c.admit(answer('z', 9), { count: false })).toBe(false);
    expect(c.outside()).toEqual([{ host: 'a', host_id: 7, answers: 2, rows: 5 }]);
    expect(c.lines()).toEqual(['2 answers (5 rows) from 1 host the campaign did not target dropped: a (id 7): 5 rows']);
    expect(c.unverified()).toBeUndefined();
  });

  it('a REST reply for one host that names another is dropped, even when that other host is a target', async () => {
    const c = TargetCheck.of(set([[1, 'a'], [2, 'b']]));
    expect(await c.admit(answer('b', 2), { count: true, asked: 1 })).toBe(false);
    expect(await c.admit(answer('a', 1), { count: true, asked: 1 })).toBe(true);
    expect(c.manifestFields()).toEqual({ outside_targets: [{ host: 'b', host_id: 2, answers: 1, rows: 1 }] });
  });

  it('targets read later: answers wait for them; six strays are named five at a time', async () => {
    const c = TargetCheck.later();
    let release!: (s: TargetSet) => void;
    c.supply(new Promise((resolve) => (release = resolve)), () => 1);
    const judged = Promise.all([c.admit(answer('a', 1), { count: true }), ...[3, 4, 5, 6, 7, 8].map((id) => c.admit(answer(`s${id}`, id), { count: true }))]);
    release(set([[1, 'a']]));
    expect(await judged).toEqual([true, false, false, false, false, false, false]);
    expect(c.lines()[0]).toBe('6 answers (6 rows) from 6 hosts the campaign did not target dropped: s3 (id 3): 1 row, s4 (id 4): 1 row, s5 (id 5): 1 row, s6 (id 6): 1 row, s7 (id 7): 1 row and 1 more');
  });

  it('targets that cannot be read: every answer kept, counted as unverified with the reason', async () => {
    const c = TargetCheck.later();
    c.supply(Promise.reject(new Error('GET /labels/2/hosts: 500')), () => 2);
    expect(await c.admit(answer('a', 1, 2), { count: true })).toBe(true);
    expect(await c.admit(answer('ghost', 99), { count: true })).toBe(true);
    expect(c.outside()).toEqual([]);
    expect(c.manifestFields()).toEqual({ targets_unverified: { reason: "the campaign's targets could not be read (GET /labels/2/hosts: 500)", answers: 2, rows: 3 } });
  });

  it("hosts read that do not add up to the server's count: answers from outside them are kept, unverified, never dropped on a guess", async () => {
    const c = TargetCheck.later();
    c.supply(Promise.resolve(set([[1, 'a']])), () => 2);
    expect(await c.admit(answer('a', 1), { count: true })).toBe(true);
    expect(await c.admit(answer('b', 2, 4), { count: true })).toBe(true);
    expect(c.outside()).toEqual([]);
    expect(c.unverified()).toEqual({
      reason: 'the server counted 2 targeted hosts but its host lists name 1 (membership changed as the campaign started)',
      answers: 1,
      rows: 4,
      hosts: [{ host: 'b', host_id: 2, answers: 1, rows: 4 }],
    });
    expect(c.lines()).toEqual(['the server counted 2 targeted hosts but its host lists name 1 (membership changed as the campaign started): 1 answer (4 rows) kept without that check from 1 host outside the hosts read: b (id 2): 4 rows']);
  });

  it('targets read as ids (a host report): an answer without a host id is kept, unverified, not dropped; one with an id is judged', async () => {
    const c = TargetCheck.later();
    c.supply(Promise.resolve({ ids: new Set([1, 2]), names: new Set<string>(), idsOnly: true }), () => 2);
    expect(await c.admit(answer('a', 1), { count: true })).toBe(true);
    expect(await c.admit(answer('z', 9), { count: true })).toBe(false);
    expect(await c.admit(answer('b', undefined, 3), { count: true })).toBe(true);
    expect(c.outside()).toEqual([{ host: 'z', host_id: 9, answers: 1, rows: 1 }]);
    expect(c.unverified()).toEqual({ reason: 'answers that name no host id cannot be checked against targets read as host ids', answers: 1, rows: 3, hosts: [{ host: 'b', answers: 1, rows: 3 }] });
    expect(c.lines()[1]).toBe('answers that name no host id cannot be checked against targets read as host ids: 1 answer (3 rows) kept without that check from 1 host: b: 3 rows');
  });
});

describe('idsOfReport (FleetDM GET /hosts/report?format=csv&columns=id)', () => {
  it('reads the one column of ids, with Go line ends or CRLF, and an empty report', () => {
    expect(idsOfReport('id\n1\n2\n100000\n')).toEqual(new Set([1, 2, 100000]));
    expect(idsOfReport('id\r\n7\r\n')).toEqual(new Set([7]));
    expect(idsOfReport('id\n')).toEqual(new Set());
  });
  it('anything else is not an answer it can use: another header (a server that ignored columns), a value that is not an id, a cut text', () => {
    expect(idsOfReport('id,hostname\n1,a\n')).toBeUndefined();
    expect(idsOfReport('created_at,id\n')).toBeUndefined();
    expect(idsOfReport('id\n1\nx\n')).toBeUndefined();
    expect(idsOfReport('id\n1\n\n2\n')).toBeUndefined();
    expect(idsOfReport('id\n0\n')).toBeUndefined();
    expect(idsOfReport('id\n-3\n')).toBeUndefined();
    expect(idsOfReport('id\n1\n2')).toBeUndefined();
    expect(idsOfReport('<html>')).toBeUndefined();
    expect(idsOfReport('')).toBeUndefined();
  });
});
