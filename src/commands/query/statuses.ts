/**
 * `osfleet query`'s bookkeeping of hosts after a campaign: each target's status from the answers
 * (answered, empty, error, no response, offline), the per-host summary on stderr, and the exit code
 * it gives. Pure: no server, no output of its own beyond `say`.
 */
import { ExitCode } from '../../errors.js';
import { printable } from '../../terminal.js';
import { answerKeyOf, type AnswerKey, type AnswerRecord, type EndReason, type TargetHost } from '../../api/campaigns.js';
import { answerStatus, StatusTable, type HostStatus } from '../../results/index.js';

/**
 * Every target's status, then (with `answeredToo`, when there was no preflight and `targets` holds
 * only the silent hosts) the hosts named by their answers. Answers from hosts outside the targets
 * are not the campaign's results.
 */
function* targetStatuses(targets: readonly TargetHost[], answered: ReadonlyMap<AnswerKey, AnswerRecord>, answeredToo: boolean): Generator<HostStatus> {
  const used = new Set<AnswerKey>();
  for (const t of targets) {
    const key = answerKeyOf(answered, t);
    const a = key ? answered.get(key) : undefined;
    if (a && key) {
      used.add(key);
      yield answerStatus(a);
    } else {
      yield { host: t.hostname, hostId: t.id, status: t.online ? 'no-response' : 'offline', rows: 0 };
    }
  }
  if (answeredToo) for (const [key, a] of answered) if (!used.has(key)) yield answerStatus(a);
}

const byHost = (a: HostStatus, b: HostStatus) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0);

/** Every target's status, sorted by host. */
export function hostStatuses(targets: readonly TargetHost[], answered: ReadonlyMap<AnswerKey, AnswerRecord>, opts: { answeredToo?: boolean } = {}): HostStatus[] {
  return [...targetStatuses(targets, answered, opts.answeredToo ?? false)].sort(byHost);
}

/**
 * Every target's status in a bounded table (memory up to a bound, sorted runs on disk past it:
 * issue 19.2), read back sorted by host as the manifest and the JSON/YAML documents are written.
 */
export function statusTable(targets: readonly TargetHost[], answered: ReadonlyMap<AnswerKey, AnswerRecord>, opts: { answeredToo?: boolean } = {}): Promise<StatusTable> {
  return StatusTable.of(targetStatuses(targets, answered, opts.answeredToo ?? false));
}

/** Hosts that answered without error, counted rather than listed. */
export interface Settled {
  answered: number;
  empty: number;
  rows: number;
}

/**
 * hostStatuses' statuses of the hosts that errored or did not answer, sorted; the others counted.
 */
export function problemStatuses(targets: readonly TargetHost[], answered: ReadonlyMap<AnswerKey, AnswerRecord>, opts: { answeredToo?: boolean } = {}): { problems: HostStatus[]; settled: Settled } {
  const problems: HostStatus[] = [];
  const settled: Settled = { answered: 0, empty: 0, rows: 0 };
  for (const s of targetStatuses(targets, answered, opts.answeredToo ?? false)) {
    if (s.status === 'answered' || s.status === 'empty') {
      settled[s.status]++;
      settled.rows += s.rows;
    } else problems.push(s);
  }
  problems.sort(byHost);
  return { problems, settled };
}

/** "5 hosts: 1 answered (3 rows), 1 empty, …", then one line per host that errored or did not answer. */
export function reportStatuses(statuses: readonly HostStatus[], live: { readonly endReason: EndReason }, say: (l: string) => void, settled?: Settled): void {
  // One pass, and the column width from the lines printed only: 100,000 statuses cost a loop.
  const counts: Record<HostStatus['status'], number> = { answered: settled?.answered ?? 0, empty: settled?.empty ?? 0, error: 0, 'no-response': 0, offline: 0 };
  let rows = settled?.rows ?? 0;
  let width = 0;
  for (const s of statuses) {
    counts[s.status] = (counts[s.status] ?? 0) + 1;
    rows += s.rows;
    if (s.status !== 'answered' && s.status !== 'empty' && s.host.length > width) width = s.host.length;
  }
  const count = (s: HostStatus['status']) => counts[s] ?? 0;
  const total = statuses.length + (settled ? settled.answered + settled.empty : 0);
  const ended = live.endReason === 'timeout' ? ' (stopped by the timeout)' : '';
  say(
    `${total} host${total === 1 ? '' : 's'}: ${count('answered')} answered (${rows} row${rows === 1 ? '' : 's'}), ${count('empty')} empty, ${count('error')} error, ${count('no-response')} no response, ${count('offline')} offline${ended}`,
  );
  for (const s of statuses) {
    if (s.status === 'answered' || s.status === 'empty') continue;
    // Host names and errors come from the hosts: escaped, so they cannot drive the terminal.
    say(`  ${printable(s.host).padEnd(width)}  ${s.status}${s.error ? `: ${printable(s.error)}` : ''}`);
  }
}

/**
 * 0 when every online target answered (offline hosts are reported, not failures); 3 when a target
 * answered with an error or did not answer. With --offline-fails (or --wait-all, which asked for
 * them), offline hosts count as missing too.
 */
export function queryExitCode(statuses: ReadonlyArray<Pick<HostStatus, 'status'>>, opts: { offlineFails: boolean }): number {
  const ok = (s: HostStatus['status']) => s === 'answered' || s === 'empty' || (s === 'offline' && !opts.offlineFails);
  return statuses.every((s) => ok(s.status)) ? ExitCode.ok : ExitCode.partial;
}
