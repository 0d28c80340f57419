/** The per-host status report of `osfleet query` at fleet scale (pure: no server). */
import { describe, expect, it } from 'vitest';
import { reportStatuses } from '../src/commands/query/statuses.js';
import type { AnswerRecord, LiveQuery } from '../src/api/campaigns.js';
import type { HostStatus } from '../src/results/types.js';

describe('reportStatuses', () => {
  it('reports 200,000 hosts in one summary line plus one line per host that did not answer', () => {
    const statuses: HostStatus[] = [];
    for (let i = 0; i < 200_000; i++) statuses.push({ host: `host-${String(i).padStart(6, '0')}`, hostId: i + 1, status: i % 50_000 === 7 ? 'offline' : 'answered', rows: i % 50_000 === 7 ? 0 : 1 });
    const lines: string[] = [];
    reportStatuses(statuses, { endReason: 'complete' } as LiveQuery, (l) => lines.push(l));
    expect(lines[0]).toBe('200000 hosts: 199996 answered (199996 rows), 0 empty, 0 error, 0 no response, 4 offline');
    expect(lines.slice(1)).toEqual(['  host-000007  offline', '  host-050007  offline', '  host-100007  offline', '  host-150007  offline']);
  });
});

describe('problemStatuses', () => {
  it('lists only the hosts that errored or did not answer, sorted, and counts the rest; the report adds them up', async () => {
    const { problemStatuses } = await import('../src/commands/query/statuses.js');
    const answered = new Map<number, AnswerRecord>([
      [1, { host: 'b-host', hostId: 1, rowCount: 3 }],
      [2, { host: 'a-host', hostId: 2, rowCount: 0 }],
      [3, { host: 'c-host', hostId: 3, rowCount: 0, error: 'no such table: x' }],
    ]);
    const silent = [{ id: 9, hostname: 'z-host', online: false }, { id: 8, hostname: 'y-host', online: true }];
    const { problems, settled } = problemStatuses(silent, answered, { answeredToo: true });
    expect(problems.map((p) => [p.host, p.status])).toEqual([['c-host', 'error'], ['y-host', 'no-response'], ['z-host', 'offline']]);
    expect(settled).toEqual({ answered: 1, empty: 1, rows: 3 });
    const lines: string[] = [];
    reportStatuses(problems, { endReason: 'complete' } as LiveQuery, (l) => lines.push(l), settled);
    expect(lines[0]).toBe('5 hosts: 1 answered (3 rows), 1 empty, 1 error, 1 no response, 1 offline');
  });
});
