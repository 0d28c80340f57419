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
import type { FleetClient } from '../api/client.js';
import type { ServerProfile, ServerTraits } from '../api/server.js';
import type { Host } from '../api/hosts.js';
import type { EnrollSecretSpec, LabelSpec, OptionsSpec, PackSpec, QuerySpec } from '../specs/types.js';
import type { PlanKind } from '../specs/plan.js';
import type { ServerState } from '../specs/server.js';
import type { Columns, ListingMode, SpecDocument } from '../results/format/documents.js';

export interface GetOptions {
  kind?: string;
  name?: string | undefined;
  yaml?: boolean;
  json?: boolean;
  format?: 'table' | 'json' | 'yaml' | 'csv' | 'ndjson';
  withQueries?: boolean;
  /** FleetDM: one team's queries (4.82+: a fleet's reports), by name or id. */
  team?: string;
  status?: string;
  label?: string;
  search?: string;
  tz?: string;
  timeFormat?: string;
}

export type GetKind = 'queries' | 'packs' | 'labels' | 'options' | 'enroll_secret' | 'hosts' | 'users' | 'config' | 'all';

const KIND_ALIASES: Record<string, GetKind> = {
  // FleetDM 4.82+ calls saved queries reports (fleetctl get reports).
  reports: 'queries',
  report: 'queries',
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
  users: 'users',
  user: 'users',
  config: 'config',
  all: 'all',
};

export function resolveKind(kind: string | undefined): GetKind {
  if (kind !== undefined && ['fleets', 'fleet', 'teams', 'team'].includes(kind.toLowerCase())) {
    throw new UsageError(
      `osfleet does not manage FleetDM ${kind.toLowerCase().startsWith('f') ? 'fleets (teams before 4.82)' : 'teams (fleets from 4.82)'}`,
      'create and list them in FleetDM or with fleetctl get fleets; osfleet get queries --fleet NAME lists one\'s queries (reports)',
    );
  }
  const k = kind === undefined ? undefined : KIND_ALIASES[kind.toLowerCase()];
  if (!k) {
    throw new UsageError(
      kind === undefined ? 'get needs a kind' : `unknown kind "${kind}"`,
      'use one of: queries (or reports), packs, labels, options, enroll_secret, hosts, users, config, all',
    );
  }
  return k;
}

/** How a `get` prints: fleetctl envelopes (yaml, json lines), full objects (json array, ndjson) or columns. */
export type OutputMode = ListingMode;

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

// --- rendering -----------------------------------------------------------------------------------

const ENVELOPE_KIND: Record<Exclude<GetKind, 'hosts' | 'all' | 'users' | 'config'>, string> = {
  queries: 'query',
  packs: 'pack',
  labels: 'label',
  options: 'options',
  enroll_secret: 'enroll_secret',
};

export { envelopeJson } from '../results/format/documents.js';

export function redactSecret(secret: string): string {
  return secret.length > 8 ? `${secret.slice(0, 4)}…` : '…';
}

function columnsFor(kind: Exclude<GetKind, 'hosts' | 'all' | 'users' | 'config'>, specs: unknown[], traits: ServerTraits, builtin: Set<string>): Columns {
  switch (kind) {
    case 'queries': {
      const fleet = traits.queryFields.includes('interval');
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
      return traits.enrollSecrets === 'by-name'
        ? { header: ['name', 'secret', 'active'], rows: secrets.map((s) => [s.name ?? '', redactSecret(s.secret), String(s.active ?? true)]) }
        : { header: ['secret'], rows: secrets.map((s) => [redactSecret(s.secret)]) };
    }
  }
}

async function writeColumns(ctx: Ctx, mode: 'table' | 'csv', cols: Columns, empty: string): Promise<void> {
  if (mode === 'table' && cols.rows.length === 0) {
    ctx.io.err(`${empty}\n`);
    return;
  }
  const { columnsText } = await import('../results/format/documents.js');
  ctx.io.out(await columnsText(mode, cols, { tty: ctx.io.stdoutIsTTY, width: ctx.io.columns }));
}

/** YAML read on a terminal is the long form, for a person: control and bidi characters escaped. Piped, it stays exact. */
function forPerson(ctx: Ctx, mode: OutputMode, text: string): string {
  return ctx.io.stdoutIsTTY && mode === 'yaml' ? terminalSafe(text) : text;
}

async function writeSpecs(ctx: Ctx, mode: OutputMode, docs: SpecDocument[]): Promise<void> {
  if (mode === 'table' || mode === 'csv') throw new Error(`writeSpecs: ${mode}`);
  const { documentsText } = await import('../results/format/documents.js');
  ctx.io.out(forPerson(ctx, mode, await documentsText(mode, docs)));
}

// --- the command ---------------------------------------------------------------------------------

export async function run(opts: GetOptions, ctx: Ctx): Promise<number> {
  const kind = resolveKind(opts.kind);
  // Single objects, options and enroll secrets print as YAML unless a table is asked for (fleetctl's
  // `get enroll_secret > secrets.yml`); the secrets' table shows them redacted.
  const single = opts.name !== undefined || kind === 'options' || kind === 'all' || kind === 'enroll_secret' || kind === 'config';
  const mode = outputMode(opts, single);
  if (kind === 'all') {
    if (opts.name !== undefined) throw new UsageError('get all takes no name');
    if (mode === 'table' || mode === 'csv') throw new UsageError('get all prints specs', 'use --yaml (the default) or --json');
  }
  if (opts.withQueries && kind !== 'packs') throw new UsageError('--with-queries goes with get packs');
  if (opts.team !== undefined && (kind !== 'queries' || opts.name !== undefined)) throw new UsageError('--team (--fleet) goes with get queries (reports)');
  if (kind !== 'hosts') {
    for (const [flag, v] of [['--status', opts.status], ['--label', opts.label], ['--search', opts.search]] as const) {
      if (v !== undefined) throw new UsageError(`${flag} goes with get hosts`);
    }
  }
  if (kind === 'hosts' && opts.status !== undefined && !STATUSES.includes(opts.status)) {
    throw new UsageError(`unknown host status "${opts.status}"`, `use one of: ${STATUSES.join(', ')}`);
  }
  if ((kind === 'users' || kind === 'config') && opts.name !== undefined) throw new UsageError(`get ${kind} takes no name`);
  const client = await ctx.api();
  if (kind === 'hosts') return getHosts(opts, mode, ctx, client);
  if (kind === 'users') return getUsers(mode, ctx, client);
  if (kind === 'config') return getConfig(mode, ctx, client);

  const profile = await client.server();
  // What fleetctl prints differs per generation: the specs layer shapes it from the profile.
  const dialect = profile.generation;
  const traits = profile.traits;
  const server = await import('../specs/server.js');
  if (kind === 'all') {
    const kinds: PlanKind[] = ['query', 'label', 'pack', 'options', 'enroll_secret'];
    const state = await server.readState(client, new Set(kinds));
    await writeSpecs(ctx, mode, server.printedDocs(state, kinds));
    return 0;
  }
  if (kind === 'enroll_secret' && opts.name !== undefined) return getOneSecret(opts.name, ctx, client);
  if (opts.team !== undefined) return getTeamQueries(opts.team, mode, ctx, client, profile);

  if (opts.name !== undefined) {
    if (kind === 'options' || kind === 'enroll_secret') throw new UsageError('get options takes no name');
    const { getSpec } = await import('../api/specs.js');
    const raw = await getSpec(client, kind, opts.name);
    if (!raw) throw new CliError(`${ENVELOPE_KIND[kind]} "${opts.name}" doesn't exist`);
    const naming = profile.naming;
    if (mode === 'table' || mode === 'csv') {
      const spec = kind === 'queries' ? server.fromServerQuery(raw, dialect) : kind === 'packs' ? server.fromServerPack(raw) : server.fromServerLabel(raw);
      await writeColumns(ctx, mode, columnsFor(kind, [spec], traits, new Set()), '');
      if (kind === 'packs' && opts.withQueries) {
        const state = await server.readState(client, new Set<PlanKind>(['query']));
        const cols = scheduleColumns([spec as PackSpec], state.set.queries);
        if (cols.rows.length > 0) {
          if (mode === 'table') ctx.io.out('\n');
          await writeColumns(ctx, mode, cols, '');
        }
      }
      return 0;
    }
    const printed =
      kind === 'queries'
        ? { kind: naming === 'reports' ? 'report' : 'query', spec: server.printedQuery(raw, dialect, naming) }
        : kind === 'packs'
          ? { kind: 'pack', spec: server.printedPack(raw, dialect) }
          : { kind: 'label', spec: server.printedLabel(raw, dialect) };
    const docs: SpecDocument[] = [printed];
    if (kind === 'packs' && opts.withQueries) {
      const state = await server.readState(client, new Set<PlanKind>(['query']));
      docs.push(...usedQueryDocs([server.fromServerPack(raw)], state, server));
    }
    await writeSpecs(ctx, mode, docs);
    return 0;
  }

  const planKind: PlanKind = kind === 'queries' ? 'query' : kind === 'packs' ? 'pack' : kind === 'labels' ? 'label' : kind;
  const wanted = new Set<PlanKind>([planKind]);
  if (kind === 'packs' && opts.withQueries) wanted.add('query');
  const state = await server.readState(client, wanted);

  if (mode === 'table' || mode === 'csv') {
    const specs: unknown[] =
      kind === 'queries'
        ? [...state.set.queries].sort(server.byName)
        : kind === 'packs'
          ? [...state.set.packs].sort(server.byName)
          : kind === 'labels'
            ? [...state.set.labels].sort(server.byName)
            : kind === 'options'
              ? state.set.options
                ? [state.set.options]
                : []
              : state.set.enroll_secret
                ? [state.set.enroll_secret]
                : [];
    const cols = columnsFor(kind, specs, traits, lower(state.builtinLabels));
    await writeColumns(ctx, mode, cols, `no ${kind === 'enroll_secret' ? 'enroll secrets' : kind} found`);
    if (kind === 'packs' && opts.withQueries) {
      const cols = scheduleColumns(specs as PackSpec[], state.set.queries);
      if (mode === 'table' && cols.rows.length > 0) ctx.io.out('\n');
      await writeColumns(ctx, mode, cols, '');
    }
    return 0;
  }
  const docs: SpecDocument[] = server.printedDocs(state, [planKind]);
  if (kind === 'packs' && opts.withQueries) docs.push(...usedQueryDocs(state.set.packs, state, server));
  await writeSpecs(ctx, mode, docs);
  return 0;
}

/**
 * Each pack's schedule as the server holds it (the interval and platform of the pack's entry, not
 * the saved query's own, which FleetDM keeps at 0), with the SQL of the query it runs.
 */
function scheduleColumns(packs: readonly PackSpec[], queries: readonly QuerySpec[]): Columns {
  const sql = new Map(queries.map((q) => [q.name.toLowerCase(), q.query]));
  const opt = (v: boolean | number | string | undefined) => (v === undefined ? '' : String(v));
  return {
    header: ['pack', 'name', 'query', 'interval', 'platform', 'version', 'snapshot', 'removed', 'shard', 'sql'],
    rows: packs.flatMap((p) =>
      p.queries.map((q) => [p.name, q.name, q.query, String(q.interval), opt(q.platform), opt(q.version), opt(q.snapshot), opt(q.removed), opt(q.shard), sql.get(q.query.toLowerCase()) ?? '']),
    ),
  };
}

/** Users: a table of name, email and role; `--yaml`/`--json` the server's user objects as `kind: user` documents. */
async function getUsers(mode: OutputMode, ctx: Ctx, client: FleetClient): Promise<number> {
  const { listUsers } = await import('../api/users.js');
  const users = await listUsers(client);
  if (mode === 'table' || mode === 'csv') {
    const role = (u: Record<string, unknown>) => (typeof u['global_role'] === 'string' ? u['global_role'] : u['admin'] === true ? 'admin' : u['admin'] === false ? 'user' : '');
    const rows = users.map((u) => [String(u['name'] ?? ''), String(u['email'] ?? ''), role(u), u['api_only'] === true ? 'true' : 'false']);
    await writeColumns(ctx, mode, { header: ['name', 'email', 'role', 'api_only'], rows }, 'no users found');
    return 0;
  }
  await writeSpecs(ctx, mode, users.map((spec) => ({ kind: 'user', spec })));
  return 0;
}

/** The app configuration as a `kind: config` document (fleetctl get config), which `apply` takes back. */
async function getConfig(mode: OutputMode, ctx: Ctx, client: FleetClient): Promise<number> {
  if (mode === 'table' || mode === 'csv') throw new UsageError('get config prints a spec', 'use --yaml (the default) or --json');
  const { getAppConfig } = await import('../api/users.js');
  await writeSpecs(ctx, mode, [{ kind: 'config', spec: await getAppConfig(client) }]);
  return 0;
}

/** FleetDM: one team's queries (`fleetctl get queries --team`), the team by name or id. */
async function getTeamQueries(team: string, mode: OutputMode, ctx: Ctx, client: FleetClient, profile: ServerProfile): Promise<number> {
  const dialect = profile.generation;
  if (!profile.traits.teams) throw new UsageError('Kolide Fleet has no teams', 'drop --team (--fleet)');
  const [{ listSpecs, findTeam }, server] = await Promise.all([import('../api/specs.js'), import('../specs/server.js')]);
  const found = await findTeam(client, team);
  const id = found?.id ?? (/^\d+$/.test(team) ? Number(team) : undefined);
  if (id === undefined) throw new CliError(`team "${team}" doesn't exist`, { hint: 'FleetDM 4.82+ calls teams fleets; names match without regard to case' });
  const name = found?.name ?? team;
  const raw: Array<Record<string, unknown>> = (await listSpecs(client, 'queries', id)).map((s) => ({ ...s, team: s['fleet'] ?? s['team'] ?? name }));
  raw.sort((a, b) => (String(a['name']) < String(b['name']) ? -1 : String(a['name']) > String(b['name']) ? 1 : 0));
  if (mode === 'table' || mode === 'csv') {
    await writeColumns(ctx, mode, columnsFor('queries', raw.map((s) => server.fromServerQuery(s, dialect)), profile.traits, new Set()), `no queries in team "${name}"`);
    return 0;
  }
  const naming = profile.naming;
  await writeSpecs(ctx, mode, raw.map((s) => ({ kind: naming === 'reports' ? 'report' : 'query', spec: server.printedQuery(s, dialect, naming) })));
  return 0;
}

/** The queries packs schedule, each once, sorted by name, as `get queries` prints them. */
function usedQueryDocs(packs: readonly PackSpec[], state: ServerState, server: typeof import('../specs/server.js')): SpecDocument[] {
  const names = new Set(server.usedQueries(packs, state.set.queries).map((q) => q.name.toLowerCase()));
  return server.printedDocs({ ...state, raw: { ...state.raw, queries: state.raw.queries.filter((q) => names.has(String(q['name']).toLowerCase())) } }, ['query']);
}

function lower(names: Iterable<string>): Set<string> {
  return new Set([...names].map((n) => n.toLowerCase()));
}

async function getOneSecret(name: string, ctx: Ctx, client: FleetClient): Promise<number> {
  const { getEnrollSecrets } = await import('../api/specs.js');
  const server = await client.server();
  if (server.traits.enrollSecrets !== 'by-name') {
    throw new UsageError(`${server.product} enroll secrets have no names`, 'run `osfleet get enroll_secret --yaml` to see them');
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
    else if ((mode === 'yaml' || mode === 'envelope-json') && (await client.server()).traits.hostDocument === 'bare') {
      // fleetctl 3.x prints the host itself (yaml.Marshal of the host: JSON keys, sorted), so `.hostname` works.
      if (mode === 'envelope-json') ctx.io.out(JSON.stringify(host) + '\n');
      else ctx.io.out((await import('yaml')).stringify(host, { lineWidth: 0, sortMapEntries: true }));
    } else await writeSpecs(ctx, mode, [{ kind: 'host', spec: host }]);
    return 0;
  }

  const status = opts.status;
  let labelId: number | undefined;
  if (opts.label !== undefined) {
    const want = opts.label.toLowerCase();
    const label = (await hostsApi.listLabels(client)).find((l) => l.name.toLowerCase() === want);
    if (!label) throw new CliError(`label "${opts.label}" doesn't exist`, { hint: 'osfleet get labels lists them' });
    labelId = label.id;
  }

  const pages = prefetch(hostsApi.listHosts(client, { status, search: opts.search, labelId }));
  if (mode === 'table') {
    // A table needs every row to size its columns: it is for people, not for 50,000 hosts.
    const rows: string[][] = [];
    for await (const page of pages) for (const h of page) rows.push(hostRow(h, fmt));
    rows.sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : 0));
    await writeColumns(ctx, 'table', { header: [...HOST_COLUMNS], rows }, 'no hosts found');
    return 0;
  }
  const [{ put }, docs, { boundHeap }] = await Promise.all([import('../results/format/common.js'), import('../results/format/documents.js'), import('../results/memory.js')]);
  const sink = ctx.io.stdout;
  // Each page (~1.1 MB of JSON for 500 hosts, one string Node keeps outside V8's heap) is garbage
  // once written: the memory stays as it is for 5,000 hosts or 50,000 (src/results/memory.ts).
  if (mode === 'csv') {
    await put(sink, await docs.columnsText('csv', { header: [...HOST_COLUMNS], rows: [] }, { tty: false }));
    for await (const page of pages) {
      await put(sink, await docs.csvRows(page.map((h) => hostRow(h, fmt))));
      boundHeap({ external: true });
    }
    return 0;
  }
  const writer = docs.documentWriter(sink, mode);
  for await (const page of pages) {
    await writer.write(page.map((spec) => ({ kind: 'host', spec })));
    boundHeap({ external: true });
  }
  const count = await writer.end();
  if (count === 0 && ctx.io.stderrIsTTY) ctx.io.err('no hosts found\n');
  return 0;
}
