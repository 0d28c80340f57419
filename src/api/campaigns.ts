/**
 * Live queries (fleet-api.md §5): create the campaign, read its raw results websocket, count answers
 * per host so the run ends as soon as the last expected host answered (not on the server's 5-second
 * status tick), drop duplicate answers, survive a lost socket by asking the hosts still missing in a
 * new campaign, and fall back to FleetDM's REST live queries where websockets are blocked.
 *
 * This file is the driver and its retry policy; the transports are `campaign-ws.ts` (the results
 * websocket) and `campaign-rest.ts` (REST live queries), the shapes they share `campaign-types.ts`.
 */
import { SHAPES } from './shapes.js';
import type { FleetClient } from './client.js';
import type { AnswerRecord, CampaignInfo, EndReason, HostAnswer, LiveQueryOptions, QueryRef, Selection, TargetHost } from './campaign-types.js';
import { ResultStream, type StreamEnd } from './campaign-ws.js';
import { restAnswers } from './campaign-rest.js';
import { AuthError, CliError, NotFoundError } from '../errors.js';
import { sleep } from '../sleep.js';
import { printable } from './errors.js';

export type {
  AnswerRecord,
  CampaignInfo,
  CampaignStatus,
  EndReason,
  HostAnswer,
  LiveQueryOptions,
  LiveQueryProgress,
  QueryRef,
  Selection,
  TargetHost,
  Totals,
} from './campaign-types.js';

export async function createCampaign(client: FleetClient, query: QueryRef, selection: Selection): Promise<CampaignInfo> {
  const { traits, words } = await client.server();
  const body = {
    // `query` holds SQL here and is not renamed; the saved query's id is `report_id` on 4.82+.
    ...(query.queryId !== undefined ? { [words.query_id]: query.queryId } : { query: query.sql }),
    selected: { hosts: selection.hosts, labels: selection.labels },
  };
  const run = (path: string) => client.request<{ campaign: CampaignInfo & { Metrics?: CampaignInfo['metrics'] } }>('POST', path, { body, shape: SHAPES.campaign });
  let res;
  if (traits.campaignHosts === 'hostname') {
    res = await run(`/${words.queries}/run_by_names`);
  } else {
    try {
      res = await run(`/${words.queries}/run_by_identifiers`);
    } catch (err) {
      // Older 4.x servers only know run_by_names.
      if (!(err instanceof NotFoundError)) throw err;
      res = await run(`/${words.queries}/run_by_names`);
    }
  }
  return { id: res.campaign.id, metrics: res.campaign.Metrics ?? res.campaign.metrics };
}

/** The spinner's text is recomputed at most this often. */
const PROGRESS_EVERY_MS = 100;

/**
 * Where `answered` holds a host's answer: its id (a number: no string per host, and 100,000 hosts
 * answer), else `name:` and its hostname (an answer without an id).
 */
export type AnswerKey = number | `name:${string}`;

/** The key under which `answered` holds a target's answer (by id, else by name); undefined if it did not answer. */
export function answerKeyOf(answered: ReadonlyMap<AnswerKey, AnswerRecord>, t: { id: number; hostname: string }): AnswerKey | undefined {
  return answered.has(t.id) ? t.id : answered.has(`name:${t.hostname}`) ? `name:${t.hostname}` : undefined;
}

/**
 * Runs one live query to its end. Iterate it for the answers (each host at most once); afterwards
 * `endReason`, `problem` and `answered` say how it ended.
 */
export class LiveQuery implements AsyncIterable<HostAnswer> {
  endReason: EndReason = 'complete';
  /** Why it could not complete (server error, lost socket beyond retries). */
  problem: CliError | undefined;
  readonly answered = new Map<AnswerKey, AnswerRecord>();
  campaignIds: number[] = [];
  transportUsed: 'ws' | 'rest' = 'ws';
  /** The server's count of targeted hosts: the first campaign's Metrics, then its `totals` messages. */
  totals: { count: number; online: number } | undefined;
  private readonly started: number;
  private readonly now: () => number;
  private readonly deadline: number | undefined;

  constructor(
    private readonly client: FleetClient,
    private readonly opts: LiveQueryOptions,
  ) {
    this.now = opts.now ?? (() => Date.now());
    this.started = this.now();
    this.deadline = opts.timeoutMs ? this.started + opts.timeoutMs : undefined;
    this.counted = opts.targets === undefined;
    for (const t of opts.targets ?? []) this.addTarget(t);
  }

  private addTarget(t: TargetHost): void {
    this.byId.set(t.id, t);
    this.byName.set(t.hostname, t);
    if (answerKeyOf(this.answered, t) !== undefined) return;
    if (this.opts.waitAll || t.online) this.outstanding.add(t.id);
  }

  /** No preflight: the run ends on the server's counts, not on a set of known hosts. */
  private counted: boolean;

  /** Hosts still awaited: known targets not answered, or, counted, the server's number minus the answers. */
  private get awaited(): number {
    if (!this.counted) return this.outstanding.size;
    if (!this.totals) return 1; // unknown until the server says
    const want = this.opts.waitAll ? this.totals.count : this.totals.online;
    return Math.max(0, want - this.answered.size);
  }

  /** Ids of the hosts still awaited: online targets, or all targets with --wait-all. */
  private readonly outstanding = new Set<number>();
  private readonly byId = new Map<number, TargetHost>();
  private readonly byName = new Map<string, TargetHost>();
  private errors = 0;

  private missing(): TargetHost[] {
    return [...this.outstanding].map((id) => this.byId.get(id)!);
  }

  private lastProgress = -Infinity;

  /** Progress for the spinner: at most every PROGRESS_EVERY_MS (100,000 answers are not 100,000 redraws). */
  private progress(force = false): void {
    if (!this.opts.onProgress) return;
    const now = this.now();
    if (!force && now - this.lastProgress < PROGRESS_EVERY_MS) return;
    this.lastProgress = now;
    this.opts.onProgress({
      targeted: this.totals?.count ?? this.opts.targets?.length ?? 0,
      online: this.totals?.online ?? this.onlineCount,
      responded: this.answered.size,
      errors: this.errors,
      elapsedMs: this.now() - this.started,
      transport: this.transportUsed,
    });
  }

  private get onlineCount(): number {
    let n = 0;
    for (const t of this.opts.targets ?? []) if (t.online) n++;
    return n;
  }

  /** Records an answer unless the host already answered; returns it when new. O(1): 10,000 hosts answer. */
  private accept(a: HostAnswer): HostAnswer | undefined {
    const target = (a.hostId !== undefined ? this.byId.get(a.hostId) : undefined) ?? this.byName.get(a.host);
    const key: AnswerKey = target ? target.id : a.hostId !== undefined ? a.hostId : `name:${a.host}`;
    if (this.answered.has(key)) return undefined;
    this.answered.set(key, { host: a.host, hostId: a.hostId, rowCount: a.rows.length, ...(a.error !== undefined ? { error: a.error } : {}) });
    if (target) this.outstanding.delete(target.id);
    if (a.error !== undefined) this.errors++;
    return a;
  }

  /** Whether an answer is the campaign's: the admit hook's say, or, without one, the known targets'. */
  private async admitted(a: HostAnswer, asked?: number): Promise<boolean> {
    const ok = this.opts.admit ? await this.opts.admit(a, asked) : asked !== undefined ? a.hostId === asked : this.counted || (a.hostId !== undefined ? this.byId.has(a.hostId) : this.byName.has(a.host));
    if (!ok) this.opts.debug?.(`answer from ${a.host}${a.hostId !== undefined ? ` (id ${a.hostId})` : ''} dropped: not a host the campaign targets`);
    return ok;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<HostAnswer> {
    const { signal } = this.opts;
    if (!this.counted && this.outstanding.size === 0 && !this.opts.waitAll) {
      // Nobody online: nothing will answer; do not create a campaign that only waits.
      this.endReason = 'complete';
      return;
    }
    const timeout = this.deadline !== undefined ? AbortSignal.timeout(Math.max(0, this.deadline - this.now())) : undefined;
    const stop = timeout ? AbortSignal.any([signal, timeout]) : signal;
    try {
      if (this.opts.transport === 'rest') {
        yield* this.viaRest(stop);
      } else {
        yield* this.viaWebsocket(stop);
      }
    } finally {
      if (signal.aborted) this.endReason = 'interrupted';
      else if (timeout?.aborted && this.awaited > 0) this.endReason = 'timeout';
    }
  }

  private async *viaWebsocket(stop: AbortSignal): AsyncGenerator<HostAnswer> {
    const maxReconnects = this.opts.maxReconnects ?? 5;
    let selection = this.opts.selection;
    for (let attempt = 0; ; attempt++) {
      if (stop.aborted) return;
      const campaign = await createCampaign(this.client, this.opts.query, selection);
      this.campaignIds.push(campaign.id);
      this.opts.debug?.(`campaign ${campaign.id} created`);
      if (attempt === 0) {
        const m = campaign.metrics;
        if (m && typeof m.TotalHosts === 'number' && typeof m.OnlineHosts === 'number') this.totals = { count: m.TotalHosts, online: m.OnlineHosts };
        this.opts.onCampaign?.(this.totals);
        this.progress(true);
        // Nobody online and nobody to wait for: nothing will answer.
        if (this.counted && this.totals && this.awaited === 0) return;
      }
      const stream = new ResultStream(this.client, campaign.id, { debug: this.opts.debug });
      let end: StreamEnd | undefined;
      try {
        for (;;) {
          const ev = await stream.next(stop);
          if (!ev) {
            end = stream.ended;
            break;
          }
          if (ev.type === 'result') {
            const fresh = (await this.admitted(ev.answer)) ? this.accept(ev.answer) : undefined;
            if (fresh) {
              yield fresh;
              this.progress();
            }
          } else if (ev.type === 'totals') {
            // Counted, every campaign asks the same selection, so each one's totals hold.
            if (attempt === 0 || this.counted) this.totals = { count: ev.totals.count, online: ev.totals.online };
            this.progress(true);
          } else if (ev.type === 'status') {
            this.opts.debug?.(`status ${ev.status.actual_results}/${ev.status.expected_results} ${ev.status.status}`);
            // A campaign that targets no host gets no totals at all, only a finished status.
            if (this.counted && !this.totals && ev.status.expected_results === 0 && ev.status.status === 'finished') this.totals = { count: 0, online: 0 };
          }
          if (this.awaited === 0) {
            this.endReason = 'complete';
            return;
          }
        }
      } finally {
        stream.close();
      }
      if (stop.aborted || !end || end.kind === 'closed') return;
      if (end.kind === 'server-error') {
        this.endReason = 'failed';
        this.problem =
          end.message === 'unauthorized'
            ? new AuthError('the server refused the token on the results websocket (unauthorized)')
            : new CliError(`the server reported an error on the results websocket: ${printable(end.message)}`);
        return;
      }
      if (end.kind === 'blocked' || (attempt === 0 && stream.messages === 0 && /TLS/.test(end.reason))) {
        if (this.opts.transport === 'auto' && this.client.profile.traits.restLiveQueries && end.kind === 'blocked') {
          this.opts.onNotice?.(`${end.reason}; falling back to REST live queries (polling)`);
          yield* this.viaRest(stop);
          return;
        }
        this.endReason = 'failed';
        this.problem = new CliError(`cannot open the results websocket: ${end.reason}`, {
          hint: this.client.profile.traits.restLiveQueries
            ? 'allow websocket upgrades on the proxy, or use --transport rest'
            : `${this.client.profile.product} has no REST live queries; allow websocket upgrades to ${this.client.profile.prefix}/results/websocket on the proxy`,
        });
        return;
      }
      // Lost: answers sent while we were away are gone, so ask the hosts still missing again
      // (counted: the same selection again; answers already received are dropped as duplicates).
      const missing = this.counted ? [] : this.missing();
      if (this.awaited === 0) return;
      if (attempt >= maxReconnects) {
        this.endReason = 'failed';
        this.problem = new CliError(`lost the results websocket ${attempt + 1} times (${end.reason}); giving up`);
        return;
      }
      const wait = Math.min(4000, 200 * 2 ** attempt);
      this.opts.onNotice?.(`${end.reason}; asking the ${this.awaited} host(s) still missing again in ${wait} ms`);
      await sleep(wait, stop);
      if (!this.counted) selection = { hosts: missing.map((t) => this.identifierOf(t)), labels: [] };
    }
  }

  /** What a new campaign names a host by: Kolide matches hostnames; FleetDM's identifiers take the uuid. */
  private identifierOf(t: TargetHost): string {
    return this.client.profile.traits.campaignHosts === 'identifier' && t.uuid ? t.uuid : t.hostname;
  }

  /** FleetDM's synchronous REST live query, one host per request with bounded concurrency. */
  private async *viaRest(stop: AbortSignal): AsyncGenerator<HostAnswer> {
    this.transportUsed = 'rest';
    if (!(await this.client.server()).traits.restLiveQueries) {
      this.endReason = 'failed';
      this.problem = new CliError(`${this.client.profile.product} has no REST live queries; use the websocket transport`);
      return;
    }
    if (this.opts.query.sql === undefined) {
      this.endReason = 'failed';
      this.problem = new CliError('REST live queries need the SQL; --query-name works only over the websocket here');
      return;
    }
    const sql = this.opts.query.sql;
    if (this.counted) {
      // REST asks host by host: the hosts must be known by id now.
      if (!this.opts.listTargets) {
        this.endReason = 'failed';
        this.problem = new CliError('REST live queries need the targeted hosts listed, and none were');
        return;
      }
      const all = await this.opts.listTargets();
      this.counted = false;
      for (const t of all) this.addTarget(t);
      this.totals = { count: all.length, online: all.filter((t) => t.online).length };
      this.opts.onCampaign?.(this.totals);
    }
    const answers = restAnswers(this.client, this.missing(), sql, { stop, waitAll: this.opts.waitAll, concurrency: this.opts.restConcurrency });
    for (;;) {
      const next = await answers.next();
      if (next.done) {
        if (next.value) {
          this.endReason = 'failed';
          this.problem = next.value;
        }
        return;
      }
      const { asked, ...answer } = next.value;
      const fresh = (await this.admitted(answer, asked)) ? this.accept(answer) : undefined;
      if (fresh) {
        yield fresh;
        this.progress();
      }
    }
  }
}
