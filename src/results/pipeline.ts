/**
 * The whole result path for one query: HostResults in (main query and, optionally, the companion
 * users query), enrichment, a streaming formatter out. Commands own the sink and the file; this
 * owns the order of things and the warnings, which come back as data.
 */
import type { Writable } from 'node:stream';
import { InputError, UsageError } from '../errors.js';
import { Enricher, identityLayout, type ColumnLayout, type ColumnReport } from './enrich.js';
import { createResultWriter, type ResultWriter, type StatusSource } from './format/index.js';
import type { ResultOptions } from './options.js';
import { planColumns, type ColumnPlan } from './plan.js';
import type { HostResult, HostStatus, Row } from './types.js';
import { UserDirectory, UsernameJoin, type UsernameWarnings } from './usernames.js';
import { boundHeap } from './memory.js';

export interface PipelineInit {
  options: ResultOptions;
  /** The SQL the rows answer (finds time and uid columns by schema). */
  sql?: string | undefined;
  /** Tables the rows came from when there is no SQL. */
  tables?: string[] | undefined;
  sink: Writable;
  /** table format: a terminal is watching, and its width */
  tty?: boolean | undefined;
  width?: number | undefined;
  /** Names known up front (export --users): rows are not held. */
  users?: UserDirectory | undefined;
  /** A users campaign runs beside the main one (query): each host's rows wait for its names. */
  usersCampaign?: boolean | undefined;
  /** Why a host without users rows has no names, in warnings. */
  missingUsersReason?: string | undefined;
  tmpDir?: string | undefined;
  memoryRows?: number | undefined;
  /** A plan made by the caller (result logs: one per scheduled query, merged) instead of one from sql/tables. */
  plan?: ColumnPlan | undefined;
  /** Orders columns known only from the rows (result logs: their own columns first). */
  order?: ((columns: readonly string[]) => string[]) | undefined;
  /**
   * The SQL was run as given (query; the default): hosts return exactly its result columns, so CSV
   * streams under a header known up front. false (export: --sql is a claim about rows made
   * elsewhere): the columns are the union of the rows' keys, the SQL's first.
   */
  sqlRan?: boolean | undefined;
  /**
   * A long run of many rows (export): the young generation is held at a fixed size once reached
   * (see memory.ts), so peak memory does not grow with the input.
   */
  boundMemory?: boolean | undefined;
}

export interface PipelineSummary {
  /** Rows written. */
  rows: number;
  /** Host results written. */
  results: number;
  usernames: UsernameWarnings | null;
  /** One line each, for stderr. */
  warnings: string[];
  /** Per converted column: what was done and why (the manifest's `columns`). */
  columns: ColumnReport[];
}

/** The status a host's answer gives it. */
export function statusOf(r: HostResult): HostStatus {
  return answerStatus({ host: r.host, hostId: r.hostId, rowCount: r.rows.length, error: r.error });
}

/** The status of a host that answered with `rowCount` rows (or an error): error, empty or answered. */
export function answerStatus(a: { host: string; hostId?: number | undefined; rowCount: number; error?: string | undefined }): HostStatus {
  return {
    host: a.host,
    ...(a.hostId !== undefined ? { hostId: a.hostId } : {}),
    status: a.error ? 'error' : a.rowCount === 0 ? 'empty' : 'answered',
    rows: a.rowCount,
    ...(a.error ? { error: a.error } : {}),
  };
}

/** Rows between two looks at the young generation's size (boundMemory). */
const MEMORY_CHECK_ROWS = 1000;

/** Rows per slice when a row-wise format writes a large answer. */
const SLICE = 256;

export class ResultPipeline {
  readonly plan: ColumnPlan;
  private readonly rowWise: boolean;
  readonly layout: ColumnLayout;
  private readonly enricher: Enricher | null;
  private readonly join: UsernameJoin | null;
  private readonly writer: ResultWriter;
  private rows = 0;
  private results = 0;
  /** Rows at the last look at the young generation (boundMemory). */
  private checkedAt = 0;
  private boundMemory: boolean;

  constructor(private readonly init: PipelineInit) {
    const o = init.options;
    this.boundMemory = init.boundMemory ?? false;
    this.rowWise = o.format === 'csv' || o.format === 'table';
    this.plan = init.plan ?? planColumns(init.sql, { tables: init.tables, timeColumns: o.timeColumns });
    if (this.plan.select) {
      const missing = o.timeColumns.filter((c) => !this.plan.select!.includes(c));
      if (missing.length > 0) throw new UsageError(`--time-columns: ${missing.join(', ')} not in the result`, `the query returns: ${this.plan.select.join(', ')}`);
    }
    const directory = o.usernames ? (init.users ?? new UserDirectory()) : null;
    this.enricher = o.enrich
      ? new Enricher(this.plan, {
          times: o.times,
          users: directory,
          missingUsersReason: init.missingUsersReason,
          // The pipeline owns the rows it is given. CSV and tables follow the layout and JSON sorts
          // keys, so rows can be changed in place; YAML writes keys in the rows' order.
          inPlace: o.format !== 'yaml',
        })
      : null;
    this.join = directory && init.usersCampaign && this.wantsUsers ? new UsernameJoin(directory) : null;
    const trusted = init.sqlRan !== false;
    const layout = this.enricher ? this.enricher.layout(trusted) : identityLayout(this.plan.select, trusted);
    const order = init.order;
    this.layout = order ? { ...layout, expand: (base) => order(layout.expand(base)) } : layout;
    this.writer = createResultWriter(o.format, init.sink, {
      layout: this.layout,
      csv: o.csv,
      tty: init.tty,
      width: init.width,
      tmpDir: init.tmpDir,
      memoryRows: init.memoryRows,
    });
  }

  /** Whether usernames are wanted and the result may have uid columns: then run the users campaign. */
  get wantsUsers(): boolean {
    return this.init.options.usernames && (this.plan.uids.size > 0 || this.plan.guess);
  }

  async write(r: HostResult): Promise<void> {
    await this.emit(this.join ? this.join.main(r) : [r]);
  }

  /** One host's answer to the users query. */
  async writeUsers(r: HostResult): Promise<void> {
    if (this.join) await this.emit(this.join.users(r));
    else this.init.users?.add(r);
  }

  async usersFailed(host: string, error: string): Promise<void> {
    if (this.join) await this.emit(this.join.usersFailed(host, error));
  }

  /** The users campaign ended (or failed as a whole, with that reason). */
  async endUsers(reason?: string): Promise<void> {
    if (this.join) await this.emit(this.join.end(reason));
  }

  private async emit(list: HostResult[]): Promise<void> {
    for (const r of list) {
      this.results++;
      this.rows += r.rows.length;
      if (this.boundMemory && this.rows - this.checkedAt >= MEMORY_CHECK_ROWS) {
        this.checkedAt = this.rows;
        boundHeap();
      }
      const enricher = this.enricher;
      // CSV and table take the rows of a big answer whole: they are enriched in place, not copied.
      if (!enricher || r.rows.length <= SLICE || this.rowWise) {
        await this.writer.write(enricher ? enricher.enrich(r) : r);
      } else if (this.writer.writeSlices) {
        // One document per host (ndjson, json): the writer renders slice after slice into one line.
        const { rows, ...head } = r;
        await this.writer.writeSlices(head, slicesOf(rows, (part) => enricher.enrich({ ...head, rows: part }).rows));
      } else await this.writer.write(enricher.enrich(r));
    }
  }

  /**
   * Releases held rows, closes the document and reports. Throws InputError when a --time-columns
   * name never appeared (the caller aborts the output file then).
   */
  async finish(statuses: StatusSource): Promise<PipelineSummary> {
    if (this.join) await this.emit(this.join.end());
    if (this.enricher && !this.plan.select && this.results > 0) {
      const missing = this.init.options.timeColumns.filter((c) => !this.enricher!.seen.has(c));
      if (missing.length > 0) throw new InputError(`--time-columns: ${missing.join(', ')} not in the result`);
    }
    await this.writer.end(statuses);
    const usernames = this.enricher && this.init.options.usernames ? this.enricher.warnings() : null;
    const kept = this.enricher?.keptRawLine();
    const undecided = this.enricher?.undecidedLine();
    return {
      rows: this.rows,
      results: this.results,
      usernames,
      warnings: [
        ...(undecided ? [undecided] : []),
        ...(kept ? [kept] : []),
        ...(this.enricher?.renamedLines() ?? []),
        ...usernameWarningLines(usernames),
        ...(this.writer.notes?.() ?? []),
      ],
      columns: this.enricher?.columnReport() ?? [],
    };
  }

  async abort(): Promise<void> {
    await this.writer.abort();
  }
}

function* slicesOf(rows: readonly Row[], map: (part: Row[]) => Row[]): Generator<Row[]> {
  for (let i = 0; i < rows.length; i += SLICE) yield map(rows.slice(i, i + SLICE));
}

/**
 * Hosts named one by one in a username warning; past it they are counted, so 100,000 hosts without
 * names make a few lines on stderr and in the manifest, not 100,000 (issue 19.3).
 */
export const HOSTS_NAMED = 10;

const andMore = (n: number) => (n > 0 ? ` and ${n} more host${n === 1 ? '' : 's'}` : '');

export function usernameWarningLines(w: UsernameWarnings | null): string[] {
  if (!w) return [];
  const out: string[] = [];
  if (w.unknownUids > 0) {
    const hosts = Object.entries(w.unknownByHost);
    const per = hosts
      .slice(0, HOSTS_NAMED)
      .map(([h, n]) => `${h}: ${n}`)
      .join(', ');
    out.push(`${w.unknownUids} uid value${w.unknownUids === 1 ? '' : 's'} matched no user on their host, left empty (${per}${andMore(hosts.length - HOSTS_NAMED)})`);
  }
  if (w.failedHosts.length <= HOSTS_NAMED) for (const f of w.failedHosts) out.push(`no usernames for ${f.host}: ${f.error}`);
  else {
    // One line per reason, its first hosts named (the list is in host order).
    const byReason = new Map<string, { count: number; named: string[] }>();
    for (const f of w.failedHosts) {
      const g = byReason.get(f.error) ?? { count: 0, named: [] };
      if (g.named.length < HOSTS_NAMED) g.named.push(f.host);
      g.count++;
      byReason.set(f.error, g);
    }
    for (const [error, g] of byReason) out.push(`no usernames for ${g.count} host${g.count === 1 ? '' : 's'}: ${error} (${g.named.join(', ')}${andMore(g.count - g.named.length)})`);
  }
  for (const m of w.multiNamed ?? []) out.push(`${m.host}: uid ${m.uid} has ${m.names.length} usernames (${m.names.join(', ')}): all are shown, joined by "|"`);
  return out;
}
