/**
 * The pure pieces of `query` and `export` that live in their own modules (src/commands/query/,
 * src/commands/export/): no server, no child process.
 */
import { describe, expect, it } from 'vitest';
import { progressText, serialQueue, waitLeft, writeAnswers } from '../src/commands/query/campaign.js';
import { platformWarnings, reportUnknown } from '../src/commands/query/targets.js';
import { errorLines, HostTally, mergeStatus } from '../src/commands/export/statuses.js';
import { checkUsersMatch, extraUsersLine, hostList } from '../src/commands/export/users.js';
import { UserDirectory, type ResultPipeline } from '../src/results/index.js';
import type { HostAnswer, LiveQuery } from '../src/api/campaigns.js';
import type { ResolvedTargets } from '../src/api/targets.js';

describe('query: the campaign', () => {
  it("--timeout counts from the command's start, as the hard deadline does, not from the campaign's creation", () => {
    // 1.2 s of start-up (a slow server, a loaded machine) leave 2.3 s of a 3.5 s timeout to wait.
    expect(waitLeft({ timeoutMs: 3500, startedAt: 100 }, 1300)).toBe(2300);
    // Past it already: the wait ends at once (and still before the hard deadline's half-second grace).
    expect(waitLeft({ timeoutMs: 1000, startedAt: 0 }, 4000)).toBe(1);
    expect(waitLeft({ timeoutMs: 0, startedAt: 0 }, 4000)).toBeUndefined();
  });

  it('draws progress as percent, hosts, errors, seconds and the transport', () => {
    expect(progressText({ targeted: 4, online: 3, responded: 2, errors: 1, elapsedMs: 1500, transport: 'rest' })).toBe('50% responded | 2/4 hosts (3 online) | 1 error | 1.5s (REST)');
    expect(progressText({ targeted: 0, online: 0, responded: 0, errors: 2, elapsedMs: 0, transport: 'ws' })).toBe('0% responded | 0/0 hosts (0 online) | 2 errors | 0.0s');
  });

  it('runs the writers one after another, and goes on after one fails', async () => {
    const serial = serialQueue();
    const order: string[] = [];
    let release!: () => void;
    const first = serial(() => new Promise<void>((r) => (release = r)).then(() => void order.push('first')));
    const failing = serial(async () => {
      order.push('second');
      throw new Error('boom');
    });
    const third = serial(async () => void order.push('third'));
    await Promise.resolve();
    expect(order).toEqual([]);
    release();
    await first;
    await expect(failing).rejects.toThrow('boom');
    await third;
    expect(order).toEqual(['first', 'second', 'third']);
  });

  it('writes the targets\' answers, drops the others, and returns what ended the reading', async () => {
    const answers: HostAnswer[] = [
      { host: 'a', hostId: 1, rows: [{ x: '1' }] },
      { host: 'stray', hostId: 9, rows: [{ x: '2' }, { x: '3' }] },
    ];
    const live = {
      async *[Symbol.asyncIterator]() {
        yield* answers;
        throw new Error('socket lost');
      },
    } as unknown as LiveQuery;
    const written: string[] = [];
    const dropped: string[] = [];
    const pipeline = { write: async (a: HostAnswer) => void written.push(a.host) } as unknown as ResultPipeline;
    const failure = await writeAnswers(live, pipeline, serialQueue(), { keep: (a) => a.hostId === 1, drop: (a) => dropped.push(`${a.host}:${a.rows.length}`) });
    expect(written).toEqual(['a']);
    expect(dropped).toEqual(['stray:2']);
    expect((failure as Error).message).toBe('socket lost');
  });
});

describe('query: the targets', () => {
  const resolved = (over: Partial<ResolvedTargets>): ResolvedTargets =>
    ({ targets: [], hosts: new Map(), selection: { hosts: [], labels: [] }, unknownHosts: [], unknownLabels: [], complete: false, listed: { all: false, labels: [] }, labels: [], ...over }) as unknown as ResolvedTargets;

  it('warns of a table missing on the platforms of --all, from the platform labels\' counts', () => {
    const labels = [
      { id: 1, name: 'All Hosts', count: 6 },
      { id: 2, name: 'macOS', count: 2 },
      { id: 3, name: 'MS Windows', count: 1 },
      { id: 4, name: 'All Linux', count: 3 },
    ];
    const r = resolved({ listed: { all: true, labels: [] }, labels } as unknown as Partial<ResolvedTargets>);
    expect(platformWarnings('SELECT * FROM cups_jobs', r)).toEqual(['cups_jobs does not exist on linux, windows: 4 of 6 targeted hosts will answer with an error']);
    // Without the All Hosts label nothing is known, and nothing is said.
    expect(platformWarnings('SELECT * FROM cups_jobs', resolved({ listed: { all: true, labels: [] }, labels: labels.slice(1) } as unknown as Partial<ResolvedTargets>))).toEqual([]);
  });

  it('counts platform labels, and says nothing once a label that is not a platform is targeted too', () => {
    const mac = { id: 2, name: 'macOS', count: 2 };
    const servers = { id: 7, name: 'servers', count: 3 };
    expect(platformWarnings('SELECT * FROM programs', resolved({ listed: { all: false, labels: [mac] } } as unknown as Partial<ResolvedTargets>))).toEqual([
      'programs does not exist on darwin: 2 of 2 targeted hosts will answer with an error',
    ]);
    expect(platformWarnings('SELECT * FROM programs', resolved({ listed: { all: false, labels: [mac, servers] } } as unknown as Partial<ResolvedTargets>))).toEqual([]);
  });

  it('names unknown hosts and labels: an error, or a warning with --ignore-unknown', () => {
    const r = resolved({ unknownHosts: ['nope'], unknownLabels: ['x', 'y'] });
    expect(() => reportUnknown(r, false, () => {})).toThrow('unknown host: nope; unknown labels: x, y');
    const said: string[] = [];
    reportUnknown(r, true, (l) => said.push(l));
    expect(said).toEqual(['Warning: skipping unknown host: nope; unknown labels: x, y']);
    reportUnknown(resolved({}), false, (l) => said.push(l));
    expect(said).toHaveLength(1);
  });
});

describe('export: host statuses', () => {
  it('adds up a host seen in several inputs; an error sticks', () => {
    const answered = { host: 'h', status: 'answered' as const, rows: 2 };
    expect(mergeStatus(undefined, answered)).toBe(answered);
    expect(mergeStatus({ host: 'h', status: 'empty', rows: 0 }, answered)).toEqual({ host: 'h', status: 'answered', rows: 2 });
    expect(mergeStatus({ host: 'h', status: 'error', rows: 0, error: 'e1' }, answered)).toEqual({ host: 'h', status: 'error', rows: 2, error: 'e1' });
    expect(mergeStatus(answered, { host: 'h', status: 'error', rows: 0, error: 'e2' })).toEqual({ host: 'h', status: 'error', rows: 2, error: 'e2' });
    expect(mergeStatus({ host: 'h', status: 'empty', rows: 0 }, { host: 'h', status: 'empty', rows: 0 })).toEqual({ host: 'h', status: 'empty', rows: 0 });
  });

  it('tallies results by host, sorted; knows which hosts of the users file it read', async () => {
    const users = new UserDirectory();
    users.add({ host: 'a', rows: [{ uid: '0', username: 'root' }] });
    users.add({ host: 'x', rows: [{ uid: '0', username: 'root' }] });
    const t = new HostTally(users);
    expect(t.any).toBe(false);
    await t.add({ host: 'b', rows: [{ x: '1' }] });
    expect(t.matchesUsers()).toBe(false);
    await t.add({ host: 'a', rows: [] });
    await t.add({ host: 'b', rows: [{ x: '2' }] });
    expect(t.any).toBe(true);
    expect(t.matchesUsers()).toBe(true);
    expect(t.hasUsersHost('a')).toBe(true);
    expect(t.hasUsersHost('x')).toBe(false);
    const sorted = [{ host: 'a', status: 'empty', rows: 0 }, { host: 'b', status: 'answered', rows: 2 }];
    const read: unknown[] = [];
    for await (const s of t.sorted()) read.push(s);
    expect(read).toEqual(sorted);
    expect(await t.counts()).toEqual({ hosts: 2, failed: [] });
    expect(await t.sample(1)).toEqual({ first: ['a'], count: 2 });
    await t.close();
  });

  it('names the hosts that answered with an error, aligned and escaped', () => {
    expect(errorLines([])).toEqual([]);
    expect(errorLines([{ host: 'a', status: 'error', rows: 0, error: 'no such table' }, { host: 'long\u001b', status: 'error', rows: 0 }])).toEqual([
      '2 hosts answered with an error:',
      `  a${' '.repeat(9)}  error: no such table`,
      '  long\\u001b  error: ',
    ]);
  });
});

describe('export: the users file against the input', () => {
  const directory = (...hosts: string[]) => {
    const d = new UserDirectory();
    for (const h of hosts) d.add({ host: h, rows: [{ uid: '0', username: 'root' }] });
    return d;
  };

  it('lists five hosts and counts the rest', () => {
    expect(hostList(['f', 'e', 'd', 'c', 'b', 'a', 'g'])).toBe('a, b, c, d, e and 2 more');
    expect(hostList(['b', 'a'])).toBe('a, b');
  });

  it('refuses a users file that answers for none of the input\'s hosts', () => {
    expect(() => checkUsersMatch(directory('x', 'y'), 'users.ndjson', ['a'])).toThrow('users.ndjson answers for other hosts (x, y) than the input (a)');
    expect(() => checkUsersMatch(directory('x', 'a'), 'users.ndjson', ['a'])).not.toThrow();
    expect(() => checkUsersMatch(directory(), 'users.ndjson', ['a'])).not.toThrow();
  });

  it('names the hosts of the users file that are not in the input', () => {
    expect(extraUsersLine(directory('a', 'x'), 'users.ndjson', (h) => h === 'a')).toBe('users.ndjson has hosts that are not in the input: x');
    expect(extraUsersLine(directory('a'), 'users.ndjson', (h) => h === 'a')).toBeUndefined();
  });
});
