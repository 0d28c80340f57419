/**
 * `osfleet delete query|pack|label NAME...` or `osfleet delete -f FILE...` (the queries, packs and
 * labels the files define; other kinds are skipped with a note).
 *
 * Files are checked first (a broken file deletes nothing). Built-in labels are refused before any
 * request. One DELETE per name, packs first (they use queries and labels), then queries, then labels.
 * Each name gets a line like fleetctl's: `[+] deleted query "x"` or `[!] query "x" doesn't exist`.
 * Asks on a terminal; elsewhere `--yes` is required. Ctrl-C between names stops and says what went.
 */
import type { Ctx } from '../context.js';
import { CliError, InputError, InterruptedError, UsageError } from '../errors.js';
import type { DeletableKind } from '../api/specs.js';

export interface DeleteOptions {
  kind?: string | undefined;
  names?: string[];
  file?: string[];
  yes?: boolean;
}

type One = 'query' | 'pack' | 'label';

const KINDS: Record<string, One> = {
  query: 'query',
  queries: 'query',
  q: 'query',
  pack: 'pack',
  packs: 'pack',
  p: 'pack',
  label: 'label',
  labels: 'label',
  l: 'label',
};
const PATH: Record<One, DeletableKind> = { query: 'queries', pack: 'packs', label: 'labels' };
/** Packs schedule queries and target labels: they go first. */
const ORDER: readonly One[] = ['pack', 'query', 'label'];

export interface Target {
  kind: One;
  name: string;
}

/** Targets in deletion order, each name once (names match without regard to case on the servers). */
export function orderTargets(targets: readonly Target[]): Target[] {
  const seen = new Set<string>();
  const out: Target[] = [];
  for (const kind of ORDER) {
    for (const t of targets) {
      if (t.kind !== kind) continue;
      const key = `${kind}\0${t.name.toLowerCase()}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(t);
    }
  }
  return out;
}

const plural = (n: number, kind: One) => `${n} ${kind === 'query' ? (n === 1 ? 'query' : 'queries') : n === 1 ? kind : `${kind}s`}`;

async function targetsFromFiles(paths: string[], ctx: Ctx): Promise<Target[]> {
  const [{ readSpecFiles, nodeLoadIO }, { formatDiagnostic, sortDiagnostics }, fsp] = await Promise.all([
    import('../specs/load.js'),
    import('../specs/diagnostics.js'),
    import('node:fs/promises'),
  ]);
  const read = await readSpecFiles(paths, nodeLoadIO(ctx.cwd, () => ctx.io.stdin, fsp, { signal: ctx.signal, env: ctx.env }));
  const diagnostics = read.diagnostics;
  const targets: Target[] = [];
  const skipped = new Map<string, number>();
  for (const d of read.docs) {
    if (d.kind === 'query' || d.kind === 'pack' || d.kind === 'label') {
      if (d.spec.name !== '') targets.push({ kind: d.kind, name: d.spec.name });
    } else skipped.set(d.kind, (skipped.get(d.kind) ?? 0) + 1);
  }
  const errors = sortDiagnostics(diagnostics, read.sources).filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    for (const d of errors) ctx.io.err(`${formatDiagnostic(d)}\n`);
    throw new InputError(`${errors.length} error${errors.length === 1 ? '' : 's'} in the input: nothing was deleted`);
  }
  for (const [kind, n] of skipped) ctx.io.err(`Note: ${n} ${kind} document${n === 1 ? '' : 's'} skipped: delete removes queries, packs and labels only\n`);
  return targets;
}

export async function run(opts: DeleteOptions, ctx: Ctx): Promise<number> {
  const files = opts.file ?? [];
  const names = opts.names ?? [];
  let targets: Target[];
  if (files.length > 0) {
    if (opts.kind !== undefined) throw new UsageError('give either -f FILE or KIND NAME..., not both');
    targets = await targetsFromFiles(files, ctx);
  } else {
    if (opts.kind === undefined) throw new UsageError('nothing to delete', 'osfleet delete query NAME... (or pack, label), or osfleet delete -f FILE');
    const kind = KINDS[opts.kind.toLowerCase()];
    if (!kind) throw new UsageError(`cannot delete "${opts.kind}"`, 'delete takes query, pack or label (or -f FILE)');
    if (names.length === 0) throw new UsageError(`delete ${kind} needs at least one name`);
    targets = names.map((name) => ({ kind, name }));
  }
  targets = orderTargets(targets);
  if (targets.length === 0) {
    ctx.io.err('nothing to delete\n');
    return 0;
  }
  const { isBuiltinLabel } = await import('../specs/validate.js');
  const builtin = targets.filter((t) => t.kind === 'label' && isBuiltinLabel(t.name));
  if (builtin.length > 0) {
    throw new InputError(`${builtin.map((t) => `"${t.name}"`).join(', ')} ${builtin.length === 1 ? 'is a built-in label' : 'are built-in labels'}: the server keeps ${builtin.length === 1 ? 'it' : 'them'}; nothing was deleted`);
  }

  const what = ORDER.map((k) => targets.filter((t) => t.kind === k).length)
    .map((n, i) => (n > 0 ? plural(n, ORDER[i]!) : ''))
    .filter(Boolean)
    .join(', ');
  const { confirm } = await import('../prompt.js');
  const shown = targets.length <= 5 ? ` (${targets.map((t) => t.name).join(', ')})` : '';
  if (!(await confirm(ctx.io, `Delete ${what}${shown} from the server?`, { yes: Boolean(opts.yes) }))) {
    throw new CliError('delete cancelled: nothing was deleted');
  }

  const client = await ctx.api();
  const { deleteByName } = await import('../api/specs.js');
  let done = 0;
  for (const t of targets) {
    if (ctx.signal.aborted) throw new InterruptedError(`interrupted: ${done} of ${targets.length} handled, stopped before ${t.kind} "${t.name}"`);
    try {
      const r = await deleteByName(client, PATH[t.kind], t.name);
      ctx.io.out(r === 'deleted' ? `[+] deleted ${t.kind} "${t.name}"\n` : `[!] ${t.kind} "${t.name}" doesn't exist\n`);
    } catch (err) {
      if (ctx.signal.aborted || err instanceof InterruptedError) {
        throw new InterruptedError(`interrupted while deleting ${t.kind} "${t.name}" (${done} of ${targets.length} handled before it)`);
      }
      const message = err instanceof Error ? err.message : String(err);
      throw new CliError(`deleting ${t.kind} "${t.name}" failed (${done} of ${targets.length} handled before it): ${message}`, {
        exitCode: err instanceof CliError ? err.exitCode : 1,
        ...(err instanceof CliError && err.hint ? { hint: err.hint } : {}),
      });
    }
    done++;
  }
  return 0;
}
