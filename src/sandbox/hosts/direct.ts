/**
 * Simulated hosts that talk to the server in-process instead of over HTTP, for fleets too large
 * for one process to poll itself over loopback (100,000 hosts checking in every 10 s would be 10,000
 * requests a second). Each host does what an osquery agent does, through the same server calls as
 * the agent endpoints: it enrolls with its details, answers the detail and label queries of its
 * first check-in, and then checks in once per interval at a fixed phase of its own, where it is
 * handed the distributed queries due (campaigns, label and detail refreshes) and answers them. So a
 * live query over all hosts is answered at the pace real hosts would answer it: spread over one
 * check-in interval, not all at once. The story's hosts and the first generated ones always use the
 * real protocol over HTTP (agent.ts); scheduled queries and result logs are theirs alone.
 *
 * Per host: its model entry, the server's record, a phase, and two flags. One timer serves the fleet.
 */
import type { FleetModel, SimHost, Template } from './model.js';
import { identityRows } from './model.js';
import { stringifyValue, type QueryAnswer } from './engine.js';
import { hashString } from './prng.js';
import type { AgentHostFlags } from './agent.js';

/** The server's record of a host, as far as this module touches it. */
export interface DirectHostRec {
  id: number;
  seenTime: number;
}

/** The server side of the agent endpoints, called in-process (sandbox/index.ts adapts the core). */
export interface DirectServer {
  enroll(identifier: string, details: Record<string, Record<string, string>>): DirectHostRec;
  /** distributed/read: the queries handed to this host now (name → SQL). */
  queriesFor(h: DirectHostRec): Record<string, string>;
  /** distributed/write. */
  ingest(h: DirectHostRec, queries: Record<string, unknown>, statuses: Record<string, unknown>, messages: Record<string, unknown>, stats: Record<string, unknown>): void;
  /** Runs many check-ins as one unit (one database transaction), if the server has such a thing. */
  batch?(fn: () => void): void;
}

interface DirectHost {
  sim: SimHost;
  rec: DirectHostRec | undefined;
  offline: boolean;
  slow: boolean;
}

const IDENTITY_SQL = /^SELECT \* FROM (system_info|osquery_info|uptime) LIMIT 1;?$/i;
const LABEL_QUERY = /_label_query_\d+$/;

/** Check-ins are processed this often, a slice of the interval each time. */
const TICK_MS = 50;
/** Hosts enrolled per turn of the event loop during start-up, so the server keeps answering. */
const ENROLL_BATCH = 1000;

export class DirectFleet {
  private readonly hosts: DirectHost[];
  /** Hosts by check-in slot: slot k checks in at phase k × TICK_MS within each interval. */
  private readonly slots: DirectHost[][];
  private readonly delayed: Array<{ at: number; h: DirectHost; queries: Record<string, string> }> = [];
  private readonly identityColumns = new Map<string, string[]>();
  /** Label answers per template (labels select on what templates share), by SQL. */
  private readonly labelAnswers = new Map<Template, Map<string, QueryAnswer>>();
  /** SQL text → the identity table it reads (`''`: none), parsed once per distinct text. */
  private readonly identitySql = new Map<string, string>();
  private timer: NodeJS.Timeout | null = null;
  private lastSlotTime = 0;
  private stopped = false;
  readonly ready: Promise<void>;

  constructor(
    private readonly model: FleetModel,
    hosts: readonly SimHost[],
    flags: readonly AgentHostFlags[],
    private readonly server: DirectServer,
    private readonly opts: { checkInMs: number; slowDelayMs: number; now?: () => number },
  ) {
    this.hosts = hosts.map((sim) => ({ sim, rec: undefined, offline: flags[sim.index]?.offline ?? false, slow: flags[sim.index]?.slow ?? false }));
    const count = Math.max(1, Math.floor(opts.checkInMs / TICK_MS));
    this.slots = Array.from({ length: count }, () => []);
    for (const h of this.hosts) this.slots[hashString(`${h.sim.identity.uuid}/phase`) % count]!.push(h);
    this.ready = this.enrollAll();
    this.ready.catch(() => undefined);
  }

  private now(): number {
    return this.opts.now ? this.opts.now() : Date.now();
  }

  private async enrollAll(): Promise<void> {
    for (let i = 0; i < this.hosts.length; i += ENROLL_BATCH) {
      if (this.stopped) throw new Error('simulated fleet stopped before every host checked in');
      this.batch(() => {
        for (let j = i; j < Math.min(i + ENROLL_BATCH, this.hosts.length); j++) {
          const h = this.hosts[j]!;
          h.rec = this.server.enroll(h.sim.identity.hostname, this.details(h.sim));
          // The first check-in: detail and label queries, answered at once.
          this.checkIn(h, true);
        }
      });
      await new Promise((r) => setImmediate(r));
    }
    if (this.stopped) throw new Error('simulated fleet stopped before every host checked in');
    this.lastSlotTime = this.now();
    this.timer = setInterval(this.tick, TICK_MS);
    this.timer.unref?.();
  }

  private batch(fn: () => void): void {
    if (this.server.batch) this.server.batch(fn);
    else fn();
  }

  private details(sim: SimHost): Record<string, Record<string, string>> {
    const out: Record<string, Record<string, string>> = {};
    for (const t of ['os_version', 'osquery_info', 'system_info', 'platform_info']) {
      const row = this.run(sim, `SELECT * FROM ${t} LIMIT 1`, false).rows[0];
      if (row) out[t] = row as Record<string, string>;
    }
    return out;
  }

  /** One check-in: seen now, handed what is due, answers written (slow hosts: later). */
  private checkIn(h: DirectHost, first: boolean): void {
    const rec = h.rec;
    if (!rec) return;
    if (h.offline && !first) return;
    rec.seenTime = this.now();
    const queries = this.server.queriesFor(rec);
    if (Object.keys(queries).length === 0) return;
    if (h.slow && !first) {
      this.delayed.push({ at: this.now() + this.opts.slowDelayMs, h, queries });
      return;
    }
    this.answer(h, queries);
  }

  /**
   * The answer of one host. Two shortcuts keep 100,000 first check-ins fast, both giving what the
   * SQL would: `SELECT * FROM system_info|osquery_info LIMIT 1` (enrollment details, detail queries)
   * is the host's identity row, in the columns the engine returned for its template; and a label
   * query is answered once per template (labels select on platform and software, which templates
   * share; a label on a generated host's own hostname or uuid is not simulated for these hosts).
   */
  private run(sim: SimHost, sql: string, label: boolean): QueryAnswer {
    let table = this.identitySql.get(sql);
    if (table === undefined) {
      table = IDENTITY_SQL.exec(sql.trim())?.[1]?.toLowerCase() ?? '';
      if (this.identitySql.size < 1024) this.identitySql.set(sql, table);
    }
    if (table !== '') {
      const key = `${sim.template.key}\u0000${table}`;
      let cols = this.identityColumns.get(key);
      if (!cols) {
        const a = this.model.answer(sim, sql);
        if (a.status !== 0 || a.rows.length !== 1) return a;
        cols = Object.keys(a.rows[0]!);
        this.identityColumns.set(key, cols);
        return a;
      }
      // The same row object for the enrollment details and the first check-in's detail query: rows
      // are read, never changed, once handed to the server.
      const ident = this.identity(sim);
      let row = ident.answered.get(key);
      if (!row) {
        const rows = ident.rows;
        let src: Record<string, unknown>;
        if (table === 'system_info') src = rows.systemInfo;
        else if (table === 'osquery_info') src = rows.osqueryInfo;
        else {
          // uptime, as the engine computes it for a host whose clock started now
          const total = rows.uptimeBase;
          src = { days: Math.floor(total / 86400), hours: Math.floor((total % 86400) / 3600), minutes: Math.floor((total % 3600) / 60), seconds: total % 60, total_seconds: total };
        }
        row = {};
        for (const c of cols) row[c] = stringifyValue(src[c] ?? null);
        ident.answered.set(key, row);
      }
      return { status: 0, rows: [row], message: '' };
    }
    if (!label) return this.model.answer(sim, sql);
    let answers = this.labelAnswers.get(sim.template);
    if (!answers) this.labelAnswers.set(sim.template, (answers = new Map()));
    let a = answers.get(sql);
    if (!a) {
      a = this.model.answer(sim, sql);
      answers.set(sql, a);
    }
    return a;
  }

  /** A host's identity rows (and the rows answered from them), computed once while it enrolls and answers its first check-in. */
  private lastIdentity: { sim: SimHost; rows: ReturnType<typeof identityRows>; answered: Map<string, Record<string, string>> } | undefined;
  private identity(sim: SimHost): { rows: ReturnType<typeof identityRows>; answered: Map<string, Record<string, string>> } {
    if (this.lastIdentity?.sim !== sim) this.lastIdentity = { sim, rows: identityRows(sim, Math.floor(this.now() / 1000)), answered: new Map() };
    return this.lastIdentity;
  }

  private answer(h: DirectHost, queries: Record<string, string>): void {
    const out = { queries: {} as Record<string, unknown>, statuses: {} as Record<string, unknown>, messages: {} as Record<string, unknown>, stats: {} as Record<string, unknown> };
    for (const [name, sql] of Object.entries(queries)) {
      const a = this.run(h.sim, sql, LABEL_QUERY.test(name));
      out.queries[name] = a.rows;
      out.statuses[name] = a.status;
      out.messages[name] = a.message;
      out.stats[name] = { wall_time_ms: 0, user_time: 0, system_time: 0, memory: 0 };
    }
    if (h.rec) this.server.ingest(h.rec, out.queries, out.statuses, out.messages, out.stats);
  }

  /** The slots whose phase passed since the last tick check in; delayed answers that are due go out. */
  private tick = (): void => {
    if (this.stopped) return;
    const now = this.now();
    const interval = this.slots.length * TICK_MS;
    // Never more than one interval's worth at once (after a stall, each host checks in once).
    const from = Math.max(this.lastSlotTime, now - interval);
    this.batch(() => {
      for (let t = Math.floor(from / TICK_MS) + 1; t <= Math.floor(now / TICK_MS); t++) {
        for (const h of this.slots[t % this.slots.length]!) this.checkIn(h, false);
      }
    });
    this.lastSlotTime = now;
    if (this.delayed.length > 0) {
      const due = this.delayed.filter((d) => d.at <= now);
      if (due.length > 0) {
        const keep = this.delayed.filter((d) => d.at > now);
        this.delayed.length = 0;
        this.delayed.push(...keep);
        for (const d of due) this.answer(d.h, d.queries);
      }
    }
  };

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
