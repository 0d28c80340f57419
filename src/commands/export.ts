/**
 * `osfleet export`: NDJSON query results (osfleet's or fleetctl's `query` output) from files or
 * stdin, written as table, CSV, JSON, NDJSON or YAML with the same enrichment as `query`: dates
 * found by the schema of the tables named by --sql, --table or --from-manifest (else by a cautious
 * name rule), usernames per host from --users.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { addAbortSignal, type Readable } from 'node:stream';
import { CliError, ExitCode, InputError, InterruptedError, UsageError } from '../errors.js';
import type { Ctx } from '../context.js';
import {
  atomicFile,
  hostsForManifest,
  MANIFEST_VERSION,
  readHostResults,
  readManifest,
  ResultPipeline,
  resolveResultOptions,
  sha256File,
  statusOf,
  UserDirectory,
  writeManifest,
  type AtomicFile,
  type BadLine,
  type HostStatus,
  type ResultFlags,
} from '../results/index.js';
import { clientVersion } from '../cli.js';

export interface ExportOptions extends ResultFlags {
  files: string[];
  sql?: string | undefined;
  table?: string | undefined;
  fromManifest?: string | undefined;
  users?: string | undefined;
  usernamesFromServer?: boolean | undefined;
  strict?: boolean | undefined;
}

/** Broken lines named one by one up to this many; the rest are counted. */
const BAD_LINES_SHOWN = 10;

async function openInput(path: string, ctx: Ctx): Promise<Readable> {
  if (path === '-') return ctx.io.stdin;
  // Opened up front so a missing file fails before any output exists.
  try {
    const fh = await open(path, 'r');
    return createReadStream('', { fd: fh, autoClose: true, highWaterMark: 1 << 16 });
  } catch (err) {
    throw new InputError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
}

const sourceName = (path: string) => (path === '-' ? 'stdin' : path);

export async function run(opts: ExportOptions, ctx: Ctx): Promise<number> {
  const options = resolveResultOptions(opts, ctx.env, { format: ctx.io.stdoutIsTTY ? 'table' : 'csv' });
  const files = opts.files ?? [];
  if (files.filter((f) => f === '-').length > 1) throw new UsageError('stdin (-) can be read only once');
  if (opts.users && opts.usernamesFromServer) throw new UsageError('--users and --usernames-from-server cannot be used together');
  if (options.output && options.output !== '-' && files.includes(options.output)) throw new UsageError(`-o ${options.output} is also an input`);

  let sql = opts.sql;
  const tables = (opts.table ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  if (opts.fromManifest) {
    const m = await readManifest(opts.fromManifest);
    sql ??= m.sql ?? undefined;
    for (const t of m.tables) if (!tables.includes(t)) tables.push(t);
  }

  const warn = (line: string) => ctx.io.err(`${ctx.io.errColor.yellow('Warning:')} ${line}\n`);
  const badLines: BadLine[] = [];
  const onBadLine = (b: BadLine) => badLines.push(b);

  if (opts.usernamesFromServer && options.usernames) {
    throw new CliError('--usernames-from-server is not available yet: it needs the live-query client (src/api/campaigns.ts)', {
      hint: 'run `osfleet query --query "SELECT uid, username FROM users" --hosts ... --format ndjson > users.ndjson` and pass --users users.ndjson',
    });
  }

  let directory: UserDirectory | undefined;
  if (opts.users) {
    if (!options.usernames) warn(`--users ${opts.users} ignored: usernames are off (${options.enrich ? '--no-usernames' : `not enriching ${options.format}; add --enrich`})`);
    else {
      directory = new UserDirectory();
      const input = await openInput(opts.users, ctx);
      for await (const r of readHostResults(input, { source: opts.users, strict: opts.strict, onBadLine, signal: ctx.signal })) {
        if (r.rows.length > 0 && !r.rows.some((row) => 'uid' in row && 'username' in row)) {
          throw new InputError(`${opts.users}: the rows of ${r.host} have no uid and username columns`, {
            hint: 'the users file is the NDJSON output of `SELECT uid, username FROM users`',
          });
        }
        directory.add(r);
      }
    }
  }

  const inputs: Array<[string, Readable]> = [];
  for (const f of files.length > 0 ? files : ['-']) inputs.push([f, await openInput(f, ctx)]);

  const toFile = options.output !== undefined && options.output !== '-';
  let file: AtomicFile | undefined;
  if (toFile) file = await atomicFile(options.output!);
  const startedAt = ctx.now();
  const statuses = new Map<string, HostStatus>();
  let pipeline: ResultPipeline;
  try {
    pipeline = new ResultPipeline({
      options,
      sql,
      tables,
      sink: file ? file.stream : ctx.io.stdout,
      tty: !file && ctx.io.stdoutIsTTY,
      width: ctx.io.columns,
      users: directory,
      missingUsersReason: `not in ${opts.users ?? 'the users file'}`,
    });
  } catch (err) {
    await file?.abort();
    throw err;
  }

  let interrupted = false;
  let summary;
  try {
    for (const [path, stream] of inputs) {
      if (ctx.signal.aborted) break;
      addAbortSignal(ctx.signal, stream);
      try {
        for await (const r of readHostResults(stream, { source: sourceName(path), strict: opts.strict, onBadLine, signal: ctx.signal })) {
          await pipeline.write(r);
          const s = statusOf(r);
          const prev = statuses.get(r.host);
          // The same host in several inputs (concatenated runs): its rows add up, an error sticks.
          statuses.set(
            r.host,
            prev
              ? { ...prev, rows: prev.rows + s.rows, status: prev.status === 'error' || s.status === 'error' ? 'error' : prev.rows + s.rows > 0 ? 'answered' : 'empty', ...(s.error ? { error: s.error } : {}) }
              : s,
          );
        }
      } catch (err) {
        if (!ctx.signal.aborted) throw err;
      }
    }
    interrupted = ctx.signal.aborted;
    if (directory) {
      const inputHosts = [...statuses.keys()];
      const known = directory.hosts();
      if (known.length > 0 && inputHosts.length > 0 && !inputHosts.some((h) => known.includes(h) || directory!.failure(h) !== undefined)) {
        throw new InputError(`${opts.users} answers for other hosts (${list(known)}) than the input (${list(inputHosts)})`, {
          hint: 'run the users query on the same hosts as the results',
        });
      }
    }
    summary = await pipeline.finish(sortedStatuses(statuses));
    if (file) await file.commit();
  } catch (err) {
    await pipeline.abort();
    await file?.abort();
    throw err;
  }
  const endedAt = ctx.now();

  for (const b of badLines.slice(0, BAD_LINES_SHOWN)) warn(`${b.source}:${b.line}: skipped: ${b.message}`);
  if (badLines.length > BAD_LINES_SHOWN) warn(`${badLines.length - BAD_LINES_SHOWN} more broken lines skipped`);
  if (directory) {
    const extra = directory.hosts().filter((h) => !statuses.has(h));
    if (extra.length > 0) warn(`${opts.users} has hosts that are not in the input: ${list(extra)}`);
  }
  for (const w of summary.warnings) warn(w);

  const manifestWarnings = [
    ...badLines.map((b) => `${b.source}:${b.line}: skipped: ${b.message}`),
    ...summary.warnings,
  ];
  if (options.manifest) {
    const outPath = file ? file.path : null;
    await writeManifest(options.manifest, {
      manifest_version: MANIFEST_VERSION,
      osfleet_version: clientVersion(),
      command: 'export',
      server: null,
      sql: sql ?? null,
      tables: pipeline.plan.tables,
      targets: null,
      started_at: startedAt.toISOString(),
      ended_at: endedAt.toISOString(),
      ended_by: interrupted ? 'interrupted' : 'complete',
      time_zone: options.timeZone,
      time_format: options.times ? options.timeFormat : 'raw',
      enriched: options.enrich,
      hosts: hostsForManifest(sortedStatuses(statuses)),
      rows: summary.rows,
      output: {
        path: outPath,
        format: options.format,
        sha256: outPath ? await sha256File(outPath) : null,
        bytes: file ? file.stream.bytesWritten : null,
      },
      warnings: manifestWarnings,
      inputs: (files.length > 0 ? files : ['-']).map(sourceName),
    });
  }
  if (file) ctx.io.err(`Wrote ${summary.rows} row${summary.rows === 1 ? '' : 's'} from ${statuses.size} host${statuses.size === 1 ? '' : 's'} to ${options.output}\n`);
  if (interrupted) throw new InterruptedError('interrupted: the output holds every result read before the interrupt');
  return badLines.length > 0 ? ExitCode.partial : ExitCode.ok;
}

function sortedStatuses(m: Map<string, HostStatus>): HostStatus[] {
  return [...m.values()].sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
}

function list(hosts: string[], max = 5): string {
  const sorted = [...hosts].sort();
  return sorted.length <= max ? sorted.join(', ') : `${sorted.slice(0, max).join(', ')} and ${sorted.length - max} more`;
}
