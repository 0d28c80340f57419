/**
 * `osfleet apply -f PATH... [--dry-run] [--detailed-exitcode] [--prune [--yes]] [--format json]`.
 *
 * 1. Everything is checked before the server hears of it: YAML, kinds, fields and types, duplicate
 *    names, SQL syntax (offline); then, after one GET per kind, the references packs make to queries
 *    and labels. Any error: diagnostics with positions on stderr, exit 1, no request that changes
 *    anything.
 * 2. The plan (created, updated with the changed fields, deleted with --prune; unchanged only counted)
 *    goes to stdout: it is the command's data. `--dry-run` stops there.
 * 3. One POST per kind with changes, in dependency order (queries, labels, packs, options, enroll
 *    secrets), then --prune's deletions (packs before the queries and labels they use). Progress goes
 *    to stderr. A failure or Ctrl-C between kinds says exactly which kinds were applied and which not.
 *
 * The request count does not grow with the number of documents (deletions excepted: the APIs of both
 * generations delete by name, one at a time).
 */
import type { Ctx } from '../context.js';
import { CliError, ExitCode, InputError, InterruptedError, UsageError } from '../errors.js';
import type { FleetClient } from '../api/client.js';
import type { Spec } from '../api/specs.js';
import type { Diagnostic, QuerySpec, SpecDoc } from '../specs/types.js';
import type { Plan, PlanKind } from '../specs/plan.js';
import type { ServerState } from '../specs/server.js';

export interface ApplyOptions {
  file?: string[];
  dryRun?: boolean;
  detailedExitcode?: boolean;
  /** fleetctl's `--force`: accepted, with a line saying what osfleet does instead. */
  force?: boolean;
  prune?: boolean;
  yes?: boolean;
  format?: 'text' | 'json';
  /** false under --no-sql-check */
  sqlCheck?: boolean;
}

/** SQL problems that make a spec wrong whatever osquery's version or extensions (the rest are warnings). */
const BLOCKING_SQL = new Set(['sql-syntax', 'not-a-select']);
const REFERENCE_CODES = new Set(['unknown-query', 'unknown-label']);

interface Checked {
  docs: SpecDoc[];
  diagnostics: Diagnostic[];
  sources: string[];
  files: number;
  sqlWarnings: number;
}

/** Loads, parses and checks the inputs offline: everything but the references to server objects. */
export async function checkInputs(paths: readonly string[], ctx: Pick<Ctx, 'cwd' | 'io'> & Partial<Pick<Ctx, 'signal' | 'env'>>, opts: { sql: boolean }): Promise<Checked> {
  const [{ readSpecFiles, nodeLoadIO }, { validate }, fsp] = await Promise.all([import('../specs/load.js'), import('../specs/validate.js'), import('node:fs/promises')]);
  const read = await readSpecFiles(paths, nodeLoadIO(ctx.cwd, () => ctx.io.stdin, fsp, { ...(ctx.signal ? { signal: ctx.signal } : {}), ...(ctx.env ? { env: ctx.env } : {}) }));
  const { docs } = read;
  const diagnostics: Diagnostic[] = [...read.diagnostics];
  diagnostics.push(...validate(docs).filter((d) => !REFERENCE_CODES.has(d.code)));
  let sqlWarnings = 0;
  if (opts.sql) {
    const found = await checkSql(docs);
    diagnostics.push(...found.errors);
    sqlWarnings = found.warnings;
  }
  return { docs, diagnostics, sources: read.sources, files: read.files, sqlWarnings };
}

/** SQL of queries, dynamic labels and decorators through SQLite's parser; only syntax errors block. */
async function checkSql(docs: readonly SpecDoc[]): Promise<{ errors: Diagnostic[]; warnings: number }> {
  const hasSql = docs.some((d) => d.kind === 'query' || d.kind === 'label' || d.kind === 'options');
  if (!hasSql) return { errors: [], warnings: 0 };
  const [{ createSqlChecker }, { sqlPos, decoratorQueries }, { diag }, schema, { schemaDatabaseImage }, sqlite] = await Promise.all([
    import('../specs/sql-check.js'),
    import('../specs/lint.js'),
    import('../specs/diagnostics.js'),
    import('../schema/index.js'),
    import('../schema/image.js'),
    import('../sqlite.js').then((m) => m.loadSqlite("apply's SQL check", 'apply --no-sql-check to skip it')),
  ]);
  const checker = createSqlChecker(sqlite, schema, schemaDatabaseImage());
  const errors: Diagnostic[] = [];
  let warnings = 0;
  const check = (d: SpecDoc, sql: string, what: string, path: string) => {
    for (const issue of checker.check(sql).issues) {
      if (BLOCKING_SQL.has(issue.code)) errors.push(diag(d.file.source, sqlPos(d, path, sql, issue.offset), 'error', issue.code, `${what}: ${issue.message}`));
      else warnings++;
    }
  };
  try {
    for (const d of docs) {
      if (d.kind === 'query' && d.spec.query.trim() !== '') check(d, d.spec.query, `query "${d.spec.name}"`, 'query');
      if (d.kind === 'label' && d.spec.label_membership_type !== 'manual' && (d.spec.query ?? '').trim() !== '') {
        check(d, d.spec.query!, `label "${d.spec.name}"`, 'query');
      }
      if (d.kind === 'options') for (const { path, sql } of decoratorQueries(d.spec)) check(d, sql, `options: decorator ${path}`, path);
    }
  } finally {
    checker.close();
  }
  return { errors, warnings };
}

import { count } from '../specs/server.js';

/** A server that upserts enroll secrets by name (Kolide) needs a name on each. */
function kolideSecretNames(docs: readonly SpecDoc[], diag: typeof import('../specs/diagnostics.js').diag): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const d of docs) {
    if (d.kind !== 'enroll_secret') continue;
    d.spec.secrets.forEach((s, i) => {
      if (s.name !== undefined && s.name !== '') return;
      const pos = d.fields.get(`secrets.${i}`)?.value ?? d.pos;
      out.push(diag(d.file.source, pos, 'error', 'missing-field', 'enroll_secret: Kolide Fleet needs a name on each secret (it updates secrets by name)'));
    });
  }
  return out;
}

interface Step {
  /** What the report calls it: `queries`, `prune packs`, ... */
  id: string;
  /** The progress line once done. */
  done: string;
  run(): Promise<void>;
}

function buildSteps(client: FleetClient, plan: Plan, state: ServerState, signal: AbortSignal): Step[] {
  const steps: Step[] = [];
  // One name for the team, the one the server speaks (4.82+: fleet); never both (fleet-api.md §11).
  const teamKey = state.naming === 'reports' ? 'fleet' : 'team';
  const queryBody = (q: QuerySpec): Record<string, unknown> => {
    const { team, ...rest } = q;
    return team ? { ...rest, [teamKey]: team } : rest;
  };
  const send = plan.send;
  const lazy = () => import('../api/specs.js');
  const specs = (list: unknown[]) => list as Spec[];
  if (send.queries.length > 0) {
    steps.push({ id: 'queries', done: `[+] applied ${count(send.queries.length, 'query')}`, run: async () => (await lazy()).applySpecs(client, 'queries', send.queries.map(queryBody)) });
  }
  if (send.labels.length > 0) {
    steps.push({ id: 'labels', done: `[+] applied ${count(send.labels.length, 'label')}`, run: async () => (await lazy()).applySpecs(client, 'labels', specs(send.labels)) });
  }
  if (send.packs.length > 0) {
    steps.push({ id: 'packs', done: `[+] applied ${count(send.packs.length, 'pack')}`, run: async () => (await lazy()).applySpecs(client, 'packs', specs(send.packs)) });
  }
  if (send.options) {
    const options = send.options;
    steps.push({
      id: 'options',
      done: '[+] applied options',
      // What the server holds beyond config/overrides (FleetDM's agent_options) is kept there.
      run: async () => (await lazy()).applyOptions(client, options as unknown as Spec, state.rawOptions),
    });
  }
  if (send.enroll_secret) {
    const secrets = send.enroll_secret.secrets;
    steps.push({ id: 'enroll_secret', done: '[+] applied enroll secrets', run: async () => (await lazy()).applyEnrollSecrets(client, secrets) });
  }
  if (send.config) {
    const config = send.config;
    steps.push({ id: 'config', done: '[+] applied the app configuration', run: async () => (await import('../api/users.js')).patchAppConfig(client, config) });
  }
  const prune = (kind: 'packs' | 'queries' | 'labels', names: string[], one: PlanKind) => {
    if (names.length === 0) return;
    steps.push({
      id: `prune ${kind}`,
      done: `[+] deleted ${count(names.length, one)}`,
      run: async () => {
        const { deleteByName } = await lazy();
        for (const name of names) {
          if (signal.aborted) throw signal.reason instanceof CliError ? signal.reason : new InterruptedError();
          await deleteByName(client, kind, name);
        }
      },
    });
  };
  prune('packs', plan.remove.packs, 'pack');
  prune('queries', plan.remove.queries, 'query');
  prune('labels', plan.remove.labels, 'label');
  return steps;
}

function colourPlan(text: string, ctx: Ctx): string {
  const c = ctx.io.color;
  return text
    .split('\n')
    .map((l) => (l.startsWith('+ ') ? c.green(l) : l.startsWith('~ ') ? c.yellow(l) : l.startsWith('- ') ? c.red(l) : l))
    .join('\n');
}

export async function run(opts: ApplyOptions, ctx: Ctx): Promise<number> {
  const paths = opts.file ?? [];
  if (paths.length === 0) throw new UsageError('-f must be specified', 'osfleet apply -f specs/ (a file, a folder, or - for stdin)');
  // As terraform's: the exit code of a plan. After a real apply "changes" would say nothing useful.
  if (opts.detailedExitcode && !opts.dryRun) throw new UsageError('--detailed-exitcode goes with --dry-run (it is the exit code of a plan)', 'osfleet apply -f PATH --dry-run --detailed-exitcode; exit 2 means changes');
  if (opts.force) {
    ctx.io.err("Note: --force is fleetctl's way past ignorable validation errors; osfleet has none to force: unknown keys are warnings, agent options are not refused; --no-sql-check skips the SQL check\n");
  }
  const format = opts.format ?? 'text';
  if (format !== 'text' && format !== 'json') throw new UsageError(`unknown format "${String(format)}"`, 'use text or json');
  const { formatDiagnostic, sortDiagnostics, countBySeverity, diag } = await import('../specs/diagnostics.js');

  const fail = (diagnostics: Diagnostic[], sources: string[]): never => {
    const sorted = sortDiagnostics(diagnostics, sources);
    const { errors } = countBySeverity(sorted);
    if (format === 'json') {
      ctx.io.out(JSON.stringify({ applied: [], errors, diagnostics: sorted }, null, 2) + '\n');
    } else {
      const c = ctx.io.errColor;
      for (const d of sorted) {
        const line = formatDiagnostic(d);
        ctx.io.err((d.severity === 'error' ? line.replace(': error: ', `: ${c.red('error')}: `) : line) + '\n');
      }
    }
    throw new InputError(`${errors} error${errors === 1 ? '' : 's'} in the input: nothing was applied`);
  };

  // 1. Offline checks: no request at all when the files are wrong.
  const checked = await checkInputs(paths, ctx, { sql: opts.sqlCheck !== false });
  if (checked.diagnostics.some((d) => d.severity === 'error')) fail(checked.diagnostics, checked.sources);
  const warnings = checked.diagnostics.filter((d) => d.severity === 'warning');

  // 2. The server's current objects: one GET per kind.
  const client = await ctx.api();
  const server = await client.server();
  const { readState, kindsToRead } = await import('../specs/server.js');
  // FleetDM team queries: each team the files name must exist (looked up by name), and its queries are read apart.
  const teams = new Map<string, number>();
  if (server.traits.teams) {
    const { findTeam } = await import('../api/specs.js');
    const missing: Diagnostic[] = [];
    const named = new Map<string, Extract<SpecDoc, { kind: 'query' }>>();
    for (const d of checked.docs) if (d.kind === 'query' && d.spec.team) named.set(d.spec.team, named.get(d.spec.team) ?? d);
    for (const [team, d] of named) {
      const found = await findTeam(client, team);
      if (found) teams.set(team, found.id);
      else {
        const loc = d.fields.get('team') ?? d.fields.get('fleet');
        missing.push(diag(d.file.source, loc?.value ?? d.pos, 'error', 'unknown-team', `query "${d.spec.name}": team "${team}" doesn't exist on the server (FleetDM teams are created in its UI or with fleetctl; 4.82+ calls them fleets)`));
      }
    }
    if (missing.length > 0) fail([...warnings, ...missing], checked.sources);
  }
  const state = await readState(client, kindsToRead(checked.docs, { prune: Boolean(opts.prune) }), teams);

  // 3. References to queries and labels, now that the server's are known.
  const [{ validate, toSpecSet }, { plan: makePlan, renderPlan }] = await Promise.all([import('../specs/validate.js'), import('../specs/plan.js')]);
  const hasQueries = checked.docs.some((d) => d.kind === 'query');
  const hasLabels = checked.docs.some((d) => d.kind === 'label');
  // With --prune, server objects of an applied kind that the files lack are about to go: they do not count.
  const knownQueries = new Set(opts.prune && hasQueries ? [] : state.set.queries.map((q) => q.name));
  const knownLabels = new Set([...(opts.prune && hasLabels ? [] : state.set.labels.map((l) => l.name)), ...state.builtinLabels]);
  const online = validate(checked.docs, { knownQueries, knownLabels }).filter((d) => REFERENCE_CODES.has(d.code));
  if (server.traits.enrollSecrets === 'by-name') online.push(...kolideSecretNames(checked.docs, diag));
  if (online.some((d) => d.severity === 'error')) fail([...warnings, ...online], checked.sources);

  for (const w of warnings) ctx.io.err(`${formatDiagnostic(w)}\n`);
  if (checked.sqlWarnings > 0) {
    ctx.io.err(`${checked.sqlWarnings} SQL warning${checked.sqlWarnings === 1 ? '' : 's'} (unknown tables or columns, double-quoted strings): osfleet lint shows them\n`);
  }

  // 4. The plan.
  const desired = toSpecSet(checked.docs);
  const plan = makePlan(desired, state.set, { prune: Boolean(opts.prune), builtinLabels: state.builtinLabels, server });
  const serverBuiltin = new Set([...state.builtinLabels].map((n) => n.toLowerCase()));
  const strangers = (desired.builtinLabels ?? []).filter((n) => !serverBuiltin.has(n.toLowerCase()));
  if (strangers.length > 0) {
    plan.notes.push(`${strangers.map((n) => JSON.stringify(n)).join(', ')} ${strangers.length === 1 ? 'is' : 'are'} marked label_type: builtin but this server has no such built-in label: left alone`);
  }
  for (const n of plan.notes) ctx.io.err(`Note: ${n}\n`);
  if (plan.blocked.length > 0) {
    // Refused before anything is sent: a half-done prune would leave a kept pack scheduling nothing.
    for (const b of plan.blocked) ctx.io.err(`error: --prune would delete ${b.kind} "${b.name}" but pack "${b.pack}", which stays, still uses it\n`);
    throw new InputError(`${plan.blocked.length} deletion${plan.blocked.length === 1 ? '' : 's'} would break packs that stay: nothing was applied`, {
      hint: 'add the query or label to the files, or the pack\'s documents (to change or prune it too)',
    });
  }
  const planJson = JSON.parse(renderPlan(plan, 'json')) as Record<string, unknown>;
  const steps = buildSteps(client, plan, state, ctx.signal);
  const changed = (code: number) => (opts.detailedExitcode && plan.changes ? ExitCode.changes : code);

  if (opts.dryRun) {
    if (format === 'json') ctx.io.out(JSON.stringify({ dry_run: true, ...planJson, applied: [], not_applied: steps.map((s) => s.id) }, null, 2) + '\n');
    else ctx.io.out(colourPlan(renderPlan(plan, 'text'), ctx));
    return changed(ExitCode.ok);
  }
  if (format === 'text') ctx.io.out(colourPlan(renderPlan(plan, 'text'), ctx));
  if (steps.length === 0) {
    if (format === 'json') ctx.io.out(JSON.stringify({ dry_run: false, ...planJson, applied: [], not_applied: [] }, null, 2) + '\n');
    return changed(ExitCode.ok);
  }

  // 5. Deletions need a yes: on a terminal it is asked, elsewhere --yes must say it.
  const deletions = plan.remove.packs.length + plan.remove.queries.length + plan.remove.labels.length;
  if (deletions > 0) {
    const { confirm } = await import('../prompt.js');
    const what = [
      plan.remove.packs.length ? count(plan.remove.packs.length, 'pack') : '',
      plan.remove.queries.length ? count(plan.remove.queries.length, 'query') : '',
      plan.remove.labels.length ? count(plan.remove.labels.length, 'label') : '',
    ].filter(Boolean);
    const ok = await confirm(ctx.io, `Delete ${what.join(', ')} from the server?`, { yes: Boolean(opts.yes) });
    if (!ok) throw new CliError('apply cancelled: nothing was applied');
  }

  // 6. One request per kind, in order; stop cleanly on failure or Ctrl-C.
  const applied: string[] = [];
  const report = (error?: string) => {
    const notApplied = steps.slice(applied.length).map((s) => s.id);
    if (format === 'json') {
      ctx.io.out(JSON.stringify({ dry_run: false, ...planJson, applied, not_applied: notApplied, ...(error ? { error } : {}) }, null, 2) + '\n');
    }
    return `applied: ${applied.length ? applied.join(', ') : 'nothing'}; not applied: ${notApplied.length ? notApplied.join(', ') : 'nothing'}`;
  };
  for (const step of steps) {
    if (ctx.signal.aborted) {
      const status = report('interrupted');
      throw new InterruptedError(`interrupted before ${step.id}: ${status}`);
    }
    try {
      await step.run();
    } catch (err) {
      if (ctx.signal.aborted || err instanceof InterruptedError) {
        const status = report('interrupted');
        throw new InterruptedError(`interrupted while applying ${step.id} (the server may or may not have applied it): ${status}`);
      }
      const message = err instanceof Error ? err.message : String(err);
      const status = report(message);
      throw new CliError(`applying ${step.id} failed (${status}): ${message}`, {
        exitCode: err instanceof CliError && err.exitCode === ExitCode.auth ? ExitCode.auth : ExitCode.error,
      });
    }
    applied.push(step.id);
    if (format === 'text') ctx.io.err(`${step.done}\n`);
  }
  if (format === 'json') report();
  return changed(ExitCode.ok);
}
