/**
 * `osfleet get queries|packs|labels|options|enroll_secret|hosts [NAME]`.
 *
 * Output: a table on a terminal (plain columns when piped), `--yaml` multi-document `apiVersion/kind/
 * spec` envelopes that `apply` takes back, `--json` one compact envelope per line as fleetctl prints,
 * `--format csv` the table's columns, `--format json|ndjson` the full objects (raw, as the server
 * sends them for hosts). Single objects (`get query NAME`, `get options`) default to YAML, as fleetctl.
 *
 * The server's specs are read into the same typed specs `apply` plans with (`readState`), so what
 * `get --yaml` prints plans no change when applied back. Built-in labels are listed in tables but not
 * in YAML/JSON: no server accepts them back.
 *
 * Enroll secrets are credentials: the table and CSV show them redacted (first four characters); the
 * full secrets appear only when asked for explicitly (`--yaml`, `--json`, `--format json|ndjson|yaml`,
 * or `get enroll_secret NAME`, which prints that one secret alone, as Kolide's fleetctl).
 */
import { terminalSafe } from '../terminal.js';
import type { Ctx } from '../context.js';
import { CliError, UsageError } from '../errors.js';
import type { FleetClient, Dialect } from '../api/client.js';
import type { Host } from '../api/hosts.js';
import type { Spec } from '../api/specs.js';
import type { EnrollSecretSpec, LabelSpec, OptionsSpec, PackQuery, PackSpec, QuerySpec, SpecSet } from '../specs/types.js';
import type { PlanKind } from '../specs/plan.js';

export interface GetOptions {
  kind?: string;
  name?: string | undefined;
  yaml?: boolean;
  json?: boolean;
  format?: 'table' | 'json' | 'yaml' | 'csv' | 'ndjson';
  withQueries?: boolean;
  status?: string;
  label?: string;
  search?: string;
  tz?: string;
  timeFormat?: string;
}

export type GetKind = 'queries' | 'packs' | 'labels' | 'options' | 'enroll_secret' | 'hosts' | 'all';

const KIND_ALIASES: Record<string, GetKind> = {
  queries: 'queries',
  query: 'queries',
  q: 'queries',
  packs: 'packs',
  pack: 'packs',
  p: 'packs',
  labels: 'labels',
  label: 'labels',
  l: 'labels',
  options: 'options',
  option: 'options',
  osquery_options: 'options',
  enroll_secret: 'enroll_secret',
  enroll_secrets: 'enroll_secret',
  'enroll-secret': 'enroll_secret',
  'enroll-secrets': 'enroll_secret',
  secrets: 'enroll_secret',
  hosts: 'hosts',
  host: 'hosts',
  h: 'hosts',
  all: 'all',
};

export function resolveKind(kind: string | undefined): GetKind {
  const k = kind === undefined ? undefined : KIND_ALIASES[kind.toLowerCase()];
  if (!k) {
    throw new UsageError(
      kind === undefined ? 'get needs a kind' : `unknown kind "${kind}"`,
      'use one of: queries, packs, labels, options, enroll_secret, hosts, all',
    );
  }
  return k;
}

/** How a `get` prints: fleetctl envelopes (yaml, json lines), full objects (json array, ndjson) or columns. */
export type OutputMode = 'table' | 'csv' | 'yaml' | 'envelope-json' | 'json' | 'ndjson';

export function outputMode(opts: Pick<GetOptions, 'yaml' | 'json' | 'format'>, single: boolean): OutputMode {
  const chosen = [opts.yaml ? '--yaml' : '', opts.json ? '--json' : '', opts.format ? `--format ${opts.format}` : ''].filter((s) => s !== '');
  if (chosen.length > 1) throw new UsageError(`${chosen.join(' and ')} cannot be used together`);
  if (opts.yaml || opts.format === 'yaml') return 'yaml';
  if (opts.json) return 'envelope-json';
  if (opts.format === 'json') return 'json';
  if (opts.format === 'ndjson') return 'ndjson';
  if (opts.format === 'csv') return 'csv';
  if (opts.format === 'table') return 'table';
  return single ? 'yaml' : 'table';
}

// --- server specs → typed specs ---------------------------------------------------------------

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const bool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined);


/** Query fields only FleetDM (4.35+) keeps; Kolide drops them. */
export const FLEET_QUERY_FIELDS = ['interval', 'platform', 'logging', 'observer_can_run', 'min_osquery_version', 'automations_enabled'] as const;

export function fromServerQuery(raw: Spec, dialect: Dialect): QuerySpec {
  const description = str(raw['description']);
  // Key order is the YAML's: name, description, query, then the rest.
  const q: QuerySpec = { name: str(raw['name']) ?? '', ...(description ? { description } : {}), query: str(raw['query']) ?? '' };
  if (dialect === 'fleet') {
    // Only what differs from FleetDM's defaults: the YAML stays what a person would write.
    const interval = num(raw['interval']);
    if (interval) q.interval = interval;
    const platform = str(raw['platform']);
    if (platform) q.platform = platform;
    const logging = str(raw['logging']);
    if (logging === 'differential' || logging === 'differential_ignore_removals') q.logging = logging;
    if (raw['observer_can_run'] === true) q.observer_can_run = true;
    const mov = str(raw['min_osquery_version']);
    if (mov) q.min_osquery_version = mov;
    if (raw['automations_enabled'] === true) q.automations_enabled = true;
  }
  return q;
}

export function fromServerPack(raw: Spec): PackSpec {
  const p: PackSpec = { name: str(raw['name']) ?? '', queries: [] };
  const description = str(raw['description']);
  if (description) p.description = description;
  const platform = str(raw['platform']);
  if (platform) p.platform = platform;
  p.disabled = raw['disabled'] === true;
  const targets = raw['targets'] as { labels?: unknown } | null | undefined;
  p.targets = { labels: Array.isArray(targets?.labels) ? targets.labels.filter((l): l is string => typeof l === 'string') : [] };
  const queries = Array.isArray(raw['queries']) ? (raw['queries'] as Spec[]) : [];
  for (const e of queries) {
    if (e === null || typeof e !== 'object') continue;
    const query = str(e['query']) ?? '';
    const pq: PackQuery = { query, name: str(e['name']) || query, interval: num(e['interval']) ?? 0 };
    const d = str(e['description']);
    if (d) pq.description = d;
    for (const k of ['snapshot', 'removed', 'denylist'] as const) {
      const v = bool(e[k]);
      if (v !== undefined) pq[k] = v;
    }
    const shard = num(e['shard']);
    if (shard !== undefined) pq.shard = shard;
    const pf = str(e['platform']);
    if (pf !== undefined) pq.platform = pf;
    const version = str(e['version']);
    if (version !== undefined) pq.version = version;
    p.queries.push(pq);
  }
  return p;
}

export function isBuiltinLabelSpec(raw: Spec): boolean {
  return raw['label_type'] === 'builtin' || raw['label_type'] === 1;
}

export function fromServerLabel(raw: Spec): LabelSpec {
  const l: LabelSpec = { name: str(raw['name']) ?? '' };
  const description = str(raw['description']);
  if (description) l.description = description;
  const manual = raw['label_membership_type'] === 'manual' || raw['label_membership_type'] === 1;
  const query = str(raw['query']) ?? '';
  if (!manual || query !== '') l.query = query;
  const platform = str(raw['platform']);
  if (platform) l.platform = platform;
  l.label_membership_type = manual ? 'manual' : 'dynamic';
  if (manual) l.hosts = Array.isArray(raw['hosts']) ? (raw['hosts'] as unknown[]).filter((h): h is string => typeof h === 'string') : [];
  return l;
}

export function fromServerOptions(raw: Spec): OptionsSpec {
  const o: OptionsSpec = { config: (raw['config'] as Record<string, unknown> | null | undefined) ?? {} };
  const overrides = raw['overrides'] as { platforms?: Record<string, Record<string, unknown>> | null } | null | undefined;
  if (overrides) o.overrides = { platforms: overrides.platforms ?? {} };
  return o;
}

export function fromServerSecrets(secrets: ReadonlyArray<{ secret: string; name?: string; active?: boolean }>, dialect: Dialect): EnrollSecretSpec {
  return {
    secrets: secrets.map((s) =>
      dialect === 'kolide' ? { name: s.name ?? '', secret: s.secret, active: s.active ?? true } : { secret: s.secret },
    ),
  };
}

// --- reading the server's state ----------------------------------------------------------------

export interface ServerState {
  dialect: Dialect;
  set: SpecSet;
  /** Names of the server's built-in labels (plus the well-known ones). */
  builtinLabels: Set<string>;
  /** FleetDM: the whole agent_options object, so keys beyond config/overrides survive an apply. */
  rawOptions?: Spec | undefined;
  /** Which kinds were read (one GET each). */
  read: PlanKind[];
}

/** One GET per kind asked for, in parallel; nothing per object. */
export async function readState(client: FleetClient, kinds: ReadonlySet<PlanKind>): Promise<ServerState> {
  const [{ listSpecs, getOptions, getEnrollSecrets }, { BUILTIN_LABELS }] = await Promise.all([import('../api/specs.js'), import('../specs/validate.js')]);
  const { dialect } = await client.detect();
  const set: SpecSet = { queries: [], packs: [], labels: [] };
  const builtinLabels = new Set<string>(BUILTIN_LABELS);
  const state: ServerState = { dialect, set, builtinLabels, read: [] };
  const jobs: Array<Promise<void>> = [];
  if (kinds.has('query')) {
    jobs.push(listSpecs(client, 'queries').then((specs) => void (set.queries = specs.map((s) => fromServerQuery(s, dialect)))));
  }
  if (kinds.has('label')) {
    jobs.push(
      listSpecs(client, 'labels').then((specs) => {
        for (const s of specs) {
          if (isBuiltinLabelSpec(s) && typeof s['name'] === 'string') builtinLabels.add(s['name']);
        }
        set.labels = specs.map(fromServerLabel);
      }),
    );
  }
  if (kinds.has('pack')) jobs.push(listSpecs(client, 'packs').then((specs) => void (set.packs = specs.map(fromServerPack))));
  if (kinds.has('options')) {
    jobs.push(
      getOptions(client).then((raw) => {
        if (raw) {
          set.options = fromServerOptions(raw);
          state.rawOptions = raw;
        }
      }),
    );
  }
  if (kinds.has('enroll_secret')) {
    jobs.push(getEnrollSecrets(client).then((secrets) => void (set.enroll_secret = fromServerSecrets(secrets, dialect))));
  }
  // allSettled, so a failure does not leave the other requests running after the command ends.
  const results = await Promise.allSettled(jobs);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
  state.read = (['query', 'label', 'pack', 'options', 'enroll_secret'] as const).filter((k) => kinds.has(k));
  return state;
}

// --- rendering -----------------------------------------------------------------------------------

const ENVELOPE_KIND: Record<Exclude<GetKind, 'hosts' | 'all'>, string> = {
  queries: 'query',
  packs: 'pack',
  labels: 'label',
  options: 'options',
  enroll_secret: 'enroll_secret',
};

/** Compact, fleetctl's key order: kind, apiVersion, spec. */
export function envelopeJson(kind: string, spec: unknown): string {
  return JSON.stringify({ kind, apiVersion: 'v1', spec });
}

export function redactSecret(secret: string): string {
  return secret.length > 8 ? `${secret.slice(0, 4)}…` : '…';
}

const flat = (s: string) => s.replace(/\s*[\r\n]+\s*/g, ' ').replace(/\t/g, ' ');

interface Columns {
  header: string[];
  rows: string[][];
}

function columnsFor(kind: Exclude<GetKind, 'hosts' | 'all'>, specs: unknown[], dialect: Dialect, builtin: Set<string>): Columns {
  switch (kind) {
    case 'queries': {
      const fleet = dialect === 'fleet';
      return {
        header: fleet ? ['name', 'description', 'query', 'interval', 'platform'] : ['name', 'description', 'query'],
        rows: (specs as QuerySpec[]).map((q) =>
          fleet
            ? [q.name, q.description ?? '', q.query, String(q.interval ?? 0), q.platform ?? '']
            : [q.name, q.description ?? '', q.query],
        ),
      };
    }
    case 'packs':
      return {
        header: ['name', 'platform', 'description', 'disabled', 'queries', 'labels'],
        rows: (specs as PackSpec[]).map((p) => [
          p.name,
          p.platform ?? '',
          p.description ?? '',
          String(p.disabled ?? false),
          String(p.queries.length),
          (p.targets?.labels ?? []).join(', '),
        ]),
      };
    case 'labels':
      return {
        header: ['name', 'platform', 'description', 'type', 'query'],
        rows: (specs as LabelSpec[]).map((l) => [
          l.name,
          l.platform ?? '',
          l.description ?? '',
          builtin.has(l.name.toLowerCase()) ? 'builtin' : (l.label_membership_type ?? 'dynamic'),
          l.label_membership_type === 'manual' ? `hosts: ${(l.hosts ?? []).join(', ')}` : (l.query ?? ''),
        ]),
      };
    case 'options':
      return { header: ['config', 'platform overrides'], rows: (specs as OptionsSpec[]).map((o) => [Object.keys(o.config).sort().join(', '), Object.keys(o.overrides?.platforms ?? {}).sort().join(', ')]) };
    case 'enroll_secret': {
      const secrets = (specs as EnrollSecretSpec[]).flatMap((s) => s.secrets);
      return dialect === 'kolide'
        ? { header: ['name', 'secret', 'active'], rows: secrets.map((s) => [s.name ?? '', redactSecret(s.secret), String(s.active ?? true)]) }
        : { header: ['secret'], rows: secrets.map((s) => [redactSecret(s.secret)]) };
    }
  }
}

async function writeColumns(ctx: Ctx, mode: 'table' | 'csv', cols: Columns, empty: string): Promise<void> {
  if (mode === 'csv') {
    const { csvText, neutraliseCell } = await import('../results/format/csv.js');
    ctx.io.out(csvText([cols.header, ...cols.rows].map((r) => r.map(neutraliseCell))));
    return;
  }
  if (cols.rows.length === 0) {
    ctx.io.err(`${empty}\n`);
    return;
  }
  const { renderTable } = await import('../results/format/table.js');
  ctx.io.out(renderTable(cols.header, cols.rows.map((r) => r.map(flat)), { tty: ctx.io.stdoutIsTTY, width: ctx.io.columns }));
}

/** YAML read on a terminal is the long form, for a person: control and bidi characters escaped. Piped, it stays exact. */
function forPerson(ctx: Ctx, text: string): string {
  return ctx.io.stdoutIsTTY ? terminalSafe(text) : text;
}

async function writeSpecs(ctx: Ctx, mode: OutputMode, docs: Array<{ kind: string; spec: unknown }>): Promise<void> {
  switch (mode) {
    case 'yaml': {
      const { renderDoc } = await import('../specs/convert.js');
      ctx.io.out(forPerson(ctx, docs.map((d) => renderDoc(d.kind, d.spec)).join('')));
      return;
    }
    case 'envelope-json':
      ctx.io.out(docs.map((d) => envelopeJson(d.kind, d.spec) + '\n').join(''));
      return;
    case 'json':
      ctx.io.out(JSON.stringify(docs.map((d) => d.spec), null, 2) + '\n');
      return;
    case 'ndjson':
      ctx.io.out(docs.map((d) => JSON.stringify(d.spec) + '\n').join(''));
      return;
    default:
      throw new Error(`writeSpecs: ${mode}`);
  }
}

// --- the command ---------------------------------------------------------------------------------

export async function run(opts: GetOptions, ctx: Ctx): Promise<number> {
  const kind = resolveKind(opts.kind);
  const single = opts.name !== undefined || kind === 'options' || kind === 'all';
  const mode = outputMode(opts, single);
  if (kind === 'all') {
    if (opts.name !== undefined) throw new UsageError('get all takes no name');
    if (mode === 'table' || mode === 'csv') throw new UsageError('get all prints specs', 'use --yaml (the default) or --json');
  }
  if (opts.withQueries && kind !== 'packs') throw new UsageError('--with-queries goes with get packs');
  if (kind !== 'hosts') {
    for (const [flag, v] of [['--status', opts.status], ['--label', opts.label], ['--search', opts.search]] as const) {
      if (v !== undefined) throw new UsageError(`${flag} goes with get hosts`);
    }
  }
  if (kind === 'hosts' && opts.status !== undefined && !STATUSES.includes(opts.status)) {
    throw new UsageError(`unknown host status "${opts.status}"`, `use one of: ${STATUSES.join(', ')}`);
  }
  const client = await ctx.api();
  if (kind === 'hosts') return getHosts(opts, mode, ctx, client);

  const { dialect } = await client.detect();
  if (kind === 'all') return getAll(mode, ctx, client);
  if (kind === 'enroll_secret' && opts.name !== undefined) return getOneSecret(opts.name, ctx, client);

  if (opts.name !== undefined) {
    if (kind === 'options' || kind === 'enroll_secret') throw new UsageError('get options takes no name');
    const { getSpec } = await import('../api/specs.js');
    const raw = await getSpec(client, kind, opts.name);
    if (!raw) throw new CliError(`${ENVELOPE_KIND[kind]} "${opts.name}" doesn't exist`);
    const spec = kind === 'queries' ? fromServerQuery(raw, dialect) : kind === 'packs' ? fromServerPack(raw) : fromServerLabel(raw);
    const docs = [{ kind: ENVELOPE_KIND[kind], spec }];
    if (kind === 'packs' && opts.withQueries) docs.push(...(await packQueries(client, [spec as PackSpec], dialect)));
    if (mode === 'table' || mode === 'csv') {
      await writeColumns(ctx, mode, columnsFor(kind, [spec], dialect, new Set()), '');
      const queries = docs.slice(1).map((d) => d.spec);
      if (queries.length > 0) {
        if (mode === 'table') ctx.io.out('\n');
        await writeColumns(ctx, mode, columnsFor('queries', queries, dialect, new Set()), '');
      }
      return 0;
    }
    await writeSpecs(ctx, mode, docs);
    return 0;
  }

  const planKind: PlanKind = kind === 'queries' ? 'query' : kind === 'packs' ? 'pack' : kind === 'labels' ? 'label' : kind;
  const wanted = new Set<PlanKind>([planKind]);
  if (kind === 'packs' && opts.withQueries) wanted.add('query');
  const state = await readState(client, wanted);
  const specs: unknown[] =
    kind === 'queries'
      ? state.set.queries
      : kind === 'packs'
        ? state.set.packs
        : kind === 'labels'
          ? state.set.labels
          : kind === 'options'
            ? state.set.options
              ? [state.set.options]
              : []
            : state.set.enroll_secret
              ? [state.set.enroll_secret]
              : [];
  if (kind === 'queries' || kind === 'packs' || kind === 'labels') (specs as Array<{ name: string }>).sort(byName);

  if (mode === 'table' || mode === 'csv') {
    const cols = columnsFor(kind, specs, dialect, lower(state.builtinLabels));
    await writeColumns(ctx, mode, cols, `no ${kind === 'enroll_secret' ? 'enroll secrets' : kind} found`);
    if (kind === 'packs' && opts.withQueries) {
      const used = usedQueries(specs as PackSpec[], state.set.queries);
      if (mode === 'table' && used.length > 0) ctx.io.out('\n');
      await writeColumns(ctx, mode, columnsFor('queries', used, dialect, new Set()), '');
    }
    return 0;
  }
  // Built-in labels cannot be applied back: leave them out of re-appliable output.
  const builtin = lower(state.builtinLabels);
  const shown = kind === 'labels' ? (specs as LabelSpec[]).filter((l) => !builtin.has(l.name.toLowerCase())) : specs;
  const docs = shown.map((spec) => ({ kind: ENVELOPE_KIND[kind], spec }));
  if (kind === 'packs' && opts.withQueries) {
    docs.push(...usedQueries(specs as PackSpec[], state.set.queries).map((spec) => ({ kind: 'query', spec })));
  }
  await writeSpecs(ctx, mode, docs);
  return 0;
}

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * Every re-appliable spec of the server in apply's order (queries, labels, packs, options, enroll
 * secrets): a backup, or the start of a spec repository. Five GETs, sent together.
 */
async function getAll(mode: OutputMode, ctx: Ctx, client: FleetClient): Promise<number> {
  const state = await readState(client, new Set<PlanKind>(['query', 'label', 'pack', 'options', 'enroll_secret']));
  const builtin = lower(state.builtinLabels);
  const docs: Array<{ kind: string; spec: unknown }> = [
    ...[...state.set.queries].sort(byName).map((spec) => ({ kind: 'query', spec })),
    ...state.set.labels.filter((l) => !builtin.has(l.name.toLowerCase())).sort(byName).map((spec) => ({ kind: 'label', spec })),
    ...[...state.set.packs].sort(byName).map((spec) => ({ kind: 'pack', spec })),
    ...(state.set.options ? [{ kind: 'options', spec: state.set.options }] : []),
    ...(state.set.enroll_secret ? [{ kind: 'enroll_secret', spec: state.set.enroll_secret }] : []),
  ];
  await writeSpecs(ctx, mode, docs);
  return 0;
}

function lower(names: Iterable<string>): Set<string> {
  return new Set([...names].map((n) => n.toLowerCase()));
}

/** The saved queries packs schedule, each once, sorted by name. */
function usedQueries(packs: readonly PackSpec[], queries: readonly QuerySpec[]): QuerySpec[] {
  const names = new Set(packs.flatMap((p) => p.queries.map((q) => q.query.toLowerCase())));
  return queries.filter((q) => names.has(q.name.toLowerCase())).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

async function packQueries(client: FleetClient, packs: PackSpec[], dialect: Dialect): Promise<Array<{ kind: string; spec: QuerySpec }>> {
  const { listSpecs } = await import('../api/specs.js');
  const all = (await listSpecs(client, 'queries')).map((s) => fromServerQuery(s, dialect));
  return usedQueries(packs, all).map((spec) => ({ kind: 'query', spec }));
}

async function getOneSecret(name: string, ctx: Ctx, client: FleetClient): Promise<number> {
  const { getEnrollSecrets } = await import('../api/specs.js');
  if (client.dialect === 'fleet') {
    throw new UsageError('FleetDM enroll secrets have no names', 'run `osfleet get enroll_secret --yaml` to see them');
  }
  const found = (await getEnrollSecrets(client)).find((s) => s.name === name);
  if (!found) throw new CliError(`Secret '${name}' not found`);
  // The secret alone, so `$(osfleet get enroll_secret default)` works in scripts.
  ctx.io.out(`${found.secret}\n`);
  return 0;
}

// --- hosts ---------------------------------------------------------------------------------------

/**
 * Asks for the next page as soon as one arrives, so the server prepares page n+1 while page n is
 * formatted and written: one request in flight at a time, memory still one page ahead at most.
 */
export async function* prefetch<T>(source: AsyncGenerator<T>): AsyncGenerator<T> {
  let next = source.next();
  try {
    for (;;) {
      const r = await next;
      if (r.done) return;
      next = source.next();
      // Seen here so an early stop leaves no unhandled rejection; awaited (and thrown) on the next turn.
      next.catch(() => undefined);
      yield r.value;
    }
  } finally {
    await source.return(undefined).catch(() => undefined);
  }
}

export const HOST_COLUMNS = ['hostname', 'platform', 'os_version', 'osquery_version', 'status', 'last_seen', 'uuid'] as const;
const STATUSES = ['online', 'offline', 'new', 'mia', 'missing'];

/** seen_time (RFC 3339 from the server) as a date for people; empty for Go's zero time. */
export function lastSeen(value: unknown, fmt: ((seconds: number) => string | undefined) | undefined): string {
  if (typeof value !== 'string' || value === '' || value.startsWith('0001-01-01')) return '';
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) return value;
  const seconds = Math.floor(ms / 1000);
  return fmt ? (fmt(seconds) ?? value) : String(seconds);
}

export function hostRow(h: Host, fmt: ((seconds: number) => string | undefined) | undefined): string[] {
  return [
    String(h.hostname ?? ''),
    String(h.platform ?? ''),
    String(h.os_version ?? ''),
    String(h.osquery_version ?? ''),
    String(h.status ?? ''),
    lastSeen(h.seen_time, fmt),
    String(h.uuid ?? ''),
  ];
}

async function getHosts(opts: GetOptions, mode: OutputMode, ctx: Ctx, client: FleetClient): Promise<number> {
  const [{ resolveResultOptions }, { createDateFormatter }] = await Promise.all([import('../results/options.js'), import('../results/time.js')]);
  const ro = resolveResultOptions({ format: 'table', tz: opts.tz, timeFormat: opts.timeFormat }, ctx.env, { format: 'table' });
  const fmt = ro.timeFormat === 'epoch' ? undefined : createDateFormatter(ro.timeFormat, ro.timeZone);
  const hostsApi = await import('../api/hosts.js');

  if (opts.name !== undefined) {
    let host = await hostsApi.getHostByIdentifier(client, opts.name);
    if (!host && /^\d+$/.test(opts.name)) host = await hostsApi.getHost(client, Number(opts.name));
    if (!host) throw new CliError(`host "${opts.name}" doesn't exist`, { hint: 'give a hostname, uuid, serial or id' });
    if (mode === 'table' || mode === 'csv') await writeColumns(ctx, mode, { header: [...HOST_COLUMNS], rows: [hostRow(host, fmt)] }, '');
    else await writeSpecs(ctx, mode, [{ kind: 'host', spec: host }]);
    return 0;
  }

  const { dialect } = await client.detect();
  // Kolide knows `mia`, FleetDM `missing` (and still `mia`).
  const status = dialect === 'kolide' && opts.status === 'missing' ? 'mia' : opts.status;
  let labelId: number | undefined;
  if (opts.label !== undefined) {
    const want = opts.label.toLowerCase();
    const label = (await hostsApi.listLabels(client)).find((l) => l.name.toLowerCase() === want);
    if (!label) throw new CliError(`label "${opts.label}" doesn't exist`, { hint: 'osfleet get labels lists them' });
    labelId = label.id;
  }

  const pages = prefetch(hostsApi.listHosts(client, { status, search: opts.search, labelId }));
  const { put } = await import('../results/format/common.js');
  const sink = ctx.io.stdout;
  let count = 0;
  if (mode === 'table') {
    // A table needs every row to size its columns: it is for people, not for 50,000 hosts.
    const rows: string[][] = [];
    for await (const page of pages) for (const h of page) rows.push(hostRow(h, fmt));
    rows.sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : 0));
    await writeColumns(ctx, 'table', { header: [...HOST_COLUMNS], rows }, 'no hosts found');
    return 0;
  }
  if (mode === 'csv') {
    const { csvText, neutraliseCell } = await import('../results/format/csv.js');
    await put(sink, csvText([[...HOST_COLUMNS]]));
    for await (const page of pages) {
      count += page.length;
      const text = csvText(page.map((h) => hostRow(h, fmt).map(neutraliseCell)));
      await put(sink, text);
    }
    return 0;
  }
  let yamlStringify: ((v: unknown, o: object) => string) | undefined;
  if (mode === 'yaml') yamlStringify = (await import('yaml')).stringify;
  for await (const page of pages) {
    let text = '';
    for (const h of page) {
      switch (mode) {
        case 'envelope-json':
          text += envelopeJson('host', h) + '\n';
          break;
        case 'ndjson':
          text += JSON.stringify(h) + '\n';
          break;
        case 'json':
          text += (count === 0 ? '[\n' : ',\n') + JSON.stringify(h);
          break;
        case 'yaml':
          text += forPerson(ctx, '---\n' + yamlStringify!({ apiVersion: 'v1', kind: 'host', spec: h }, { lineWidth: 0 }));
          break;
      }
      count++;
    }
    await put(sink, text);
  }
  if (mode === 'json') await put(sink, count === 0 ? '[]\n' : '\n]\n');
  if (count === 0 && ctx.io.stderrIsTTY) ctx.io.err('no hosts found\n');
  return 0;
}

