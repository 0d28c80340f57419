/**
 * `osfleet report QUERY` (FleetDM 4.35+): the results a server kept of a scheduled query (its query
 * report: each host's latest rows), through the result pipeline like a live answer: dates by the
 * query's SQL, usernames per host, every format, the manifest. Columns: host, when the host's rows
 * were fetched, then the row. Kolide Fleet keeps no reports: its result log is read with `export`.
 */
import type { Writable } from 'node:stream';
import type { Ctx } from '../context.js';
import { CliError, InputError, NotFoundError } from '../errors.js';
import { findQueryByName, getQueryReport } from '../api/queries.js';
import {
  ResultPipeline,
  atomicFile,
  hostsForManifest,
  planColumns,
  resolveResultOptions,
  safeAddress,
  writeManifest,
  type AtomicFile,
  type HostResult,
  type HostStatus,
  type ResultFlags,
  type Row,
} from '../results/index.js';
import { clientVersion } from '../version.js';

export interface ReportOptions extends ResultFlags {
  query: string;
}

/** The column a report adds before each row: when its host's results were fetched. */
export const FETCHED = 'last_fetched';

export async function run(opts: ReportOptions, ctx: Ctx): Promise<number> {
  const options = resolveResultOptions(opts, ctx.env, { format: ctx.io.stdoutIsTTY && !opts.output ? 'table' : 'csv' });
  const client = await ctx.api();
  const profile = await client.server();
  if (profile.generation === 'kolide') {
    throw new CliError('Kolide Fleet keeps no query reports: scheduled results are only in its result log (osquery_result); read it with `osfleet export --packs <pack files> osquery_result`');
  }
  const saved = await findQueryByName(client, opts.query);
  if (!saved || saved.id === undefined) throw new InputError(`query "${opts.query}" not found on the server`, { hint: 'list them with: osfleet get queries' });
  const startedAt = ctx.now();
  let report;
  try {
    report = await getQueryReport(client, saved.id);
  } catch (err) {
    // FleetDM before 4.35 has saved queries but no reports.
    if (err instanceof NotFoundError) throw new CliError(`this FleetDM${client.serverVersion ? ` (${client.serverVersion})` : ''} keeps no query reports (they came with 4.35): read its result log with \`osfleet export\``);
    throw err;
  }

  // One result per host, in the order the server gave them.
  const byHost = new Map<string, HostResult>();
  for (const r of report.results) {
    const host = typeof r.host_name === 'string' && r.host_name !== '' ? r.host_name : `host ${r.host_id}`;
    let hr = byHost.get(host);
    if (!hr) byHost.set(host, (hr = { host, ...(typeof r.host_id === 'number' ? { hostId: r.host_id } : {}), rows: [] }));
    const fetched = r.last_fetched ? Date.parse(r.last_fetched) : NaN;
    // As UNIX seconds, so the date follows --time-format and --tz like every other date; kept as sent when unreadable.
    const row: Row = { [FETCHED]: Number.isFinite(fetched) ? String(Math.floor(fetched / 1000)) : (r.last_fetched ?? '') };
    for (const [k, v] of Object.entries(r.columns ?? {})) row[k in row ? `${k}.1` : k] = typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v);
    hr.rows.push(row);
  }

  const plan = planColumns(saved.query, { timeColumns: options.timeColumns });
  plan.times.set(FETCHED, { kind: 'unix_seconds', guessed: false });
  plan.plain.delete(FETCHED);
  if (plan.select) plan.select = [FETCHED, ...plan.select.filter((c) => c !== FETCHED)];
  const first = (cols: readonly string[]) => [...cols.filter((c) => c === FETCHED || c === `${FETCHED}_epoch`), ...cols.filter((c) => c !== FETCHED && c !== `${FETCHED}_epoch`)];

  let file: AtomicFile | undefined;
  let sink: Writable = ctx.io.stdout;
  if (options.output && options.output !== '-') {
    file = await atomicFile(options.output);
    sink = file.stream;
  }
  const pipeline = new ResultPipeline({ options, sql: saved.query, plan, order: first, sink, tty: !file && ctx.io.stdoutIsTTY, width: ctx.io.columns, usersCampaign: true });
  const statuses: HostStatus[] = [];
  let summary;
  try {
    for (const r of byHost.values()) {
      await pipeline.write(r);
      statuses.push({ host: r.host, ...(r.hostId !== undefined ? { hostId: r.hostId } : {}), status: r.rows.length > 0 ? 'answered' : 'empty', rows: r.rows.length });
    }
    if (pipeline.wantsUsers) await usersFromLive(ctx, client, [...byHost.values()], pipeline);
    summary = await pipeline.finish(statuses);
    await file?.commit();
  } catch (err) {
    await pipeline.abort();
    await file?.abort();
    throw err;
  }
  const warnings = [...summary.warnings];
  if (report.report_clipped) warnings.unshift(`the server clipped the report of "${saved.name}" (FleetDM keeps at most query_report_cap rows, 1000 by default): rows are missing`);
  for (const w of warnings) ctx.io.err(`${ctx.io.errColor.yellow('Warning:')} ${w}\n`);
  if (file) {
    const conn = await ctx.connection();
    await writeManifest(options.manifest ?? `${options.output}.manifest.json`, {
      manifest_version: 1,
      osfleet_version: clientVersion(),
      command: 'report',
      server: { version: client.serverVersion, dialect: profile.generation, address: safeAddress(conn.address) },
      sql: saved.query,
      tables: pipeline.plan.tables,
      targets: null,
      started_at: startedAt.toISOString(),
      ended_at: ctx.now().toISOString(),
      ended_by: 'complete',
      time_zone: options.timeZone,
      time_format: options.times ? options.timeFormat : 'raw',
      enriched: options.enrich,
      hosts: hostsForManifest(statuses),
      rows: summary.rows,
      output: { path: file.path, format: options.format, sha256: file.sha256(), bytes: file.bytes },
      warnings,
    });
    ctx.io.err(`Wrote ${summary.rows} row${summary.rows === 1 ? '' : 's'} from ${statuses.length} host${statuses.length === 1 ? '' : 's'} to ${options.output}\n`);
  } else if (summary.rows === 0) ctx.io.err(`The report of "${saved.name}" is empty: no host has sent results for it yet.\n`);
  return report.report_clipped ? 3 : 0;
}

/** Usernames: one live users query on the report's hosts (those offline get none, named in warnings). */
async function usersFromLive(ctx: Ctx, client: Awaited<ReturnType<Ctx['api']>>, results: HostResult[], pipeline: ResultPipeline): Promise<void> {
  const [{ LiveQuery }, { resolveTargets }] = await Promise.all([import('../api/campaigns.js'), import('../api/targets.js')]);
  const hosts = results.map((r) => r.host);
  const resolved = await resolveTargets(client, { hosts, labels: [], all: false });
  for (const h of resolved.unknownHosts) await pipeline.usersFailed(h, 'the server does not know this host');
  const online = resolved.targets.filter((t) => t.online);
  for (const t of resolved.targets) if (!t.online) await pipeline.usersFailed(t.hostname, 'offline: no users query');
  if (online.length > 0) {
    const live = new LiveQuery(client, {
      query: { sql: 'SELECT uid, username FROM users' },
      selection: resolved.selection,
      targets: online,
      waitAll: false,
      timeoutMs: 60_000,
      transport: 'auto',
      signal: ctx.signal,
    });
    for await (const a of live) {
      if (a.error) await pipeline.usersFailed(a.host, a.error);
      else await pipeline.writeUsers(a);
    }
    await pipeline.endUsers(live.problem?.message);
  } else await pipeline.endUsers();
}
