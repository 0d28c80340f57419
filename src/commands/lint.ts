/**
 * `osfleet lint -f PATH...`: everything `apply` validates, offline, plus SQL, schema and platform
 * checks. Diagnostics are the command's output (stdout), one compiler-style line each; the summary
 * goes to stderr. Exit 1 when there are errors (warnings too under --strict).
 */
import type { Ctx } from '../context.js';
import { UsageError } from '../errors.js';
import type { Diagnostic } from '../specs/types.js';

export interface LintOptions {
  file: string[];
  strict?: boolean;
  format?: 'text' | 'json';
  /** The FleetDM naming the files are for: `queries` (before 4.82, Kolide; the default) or `reports`. */
  naming?: 'queries' | 'reports';
}

export async function run(opts: LintOptions, ctx: Ctx): Promise<number> {
  const paths = opts.file ?? [];
  if (paths.length === 0) throw new UsageError('lint needs at least one file or folder', 'osfleet lint -f packs/ (or - for stdin)');
  const naming = opts.naming ?? 'queries';
  if (naming !== 'queries' && naming !== 'reports') throw new UsageError(`unknown naming "${String(naming)}"`, 'use queries (FleetDM before 4.82, Kolide) or reports (4.82 and later)');
  const [{ loadInputs, nodeLoadIO }, { lintSources, namingDiagnostics }, { createSqlChecker }, { formatDiagnostic, sortDiagnostics, countBySeverity }, schema, { schemaDatabaseImage }, fsp, sqlite] =
    await Promise.all([
      import('../specs/load.js'),
      import('../specs/lint.js'),
      import('../specs/sql-check.js'),
      import('../specs/diagnostics.js'),
      import('../schema/index.js'),
    import('../schema/image.js'),
      import('node:fs/promises'),
      import('../sqlite.js').then((m) => m.loadSqlite('lint')),
    ]);

  const loaded = await loadInputs(paths, nodeLoadIO(ctx.cwd, () => ctx.io.stdin, fsp, { signal: ctx.signal, env: ctx.env }));
  const sql = createSqlChecker(sqlite, schema, schemaDatabaseImage());
  let diagnostics: Diagnostic[];
  let docCount: number;
  try {
    const report = lintSources(loaded.inputs, { schema, sql });
    diagnostics = sortDiagnostics([...loaded.diagnostics, ...report.diagnostics, ...namingDiagnostics(report.docs, naming)], loaded.sources);
    docCount = report.docs.length;
  } finally {
    sql.close();
  }
  if (opts.strict) diagnostics = diagnostics.map((d) => (d.severity === 'warning' ? { ...d, severity: 'error' as const } : d));
  const { errors, warnings } = countBySeverity(diagnostics);

  if (opts.format === 'json') {
    ctx.io.out(JSON.stringify({ files: loaded.inputs.length, documents: docCount, errors, warnings, diagnostics }, null, 2) + '\n');
  } else {
    const c = ctx.io.color;
    for (const d of diagnostics) {
      const line = formatDiagnostic(d);
      ctx.io.out((d.severity === 'error' ? line.replace(': error: ', `: ${c.red('error')}: `) : line.replace(': warning: ', `: ${c.yellow('warning')}: `)) + '\n');
    }
    const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
    ctx.io.err(`${plural(errors, 'error')}, ${plural(warnings, 'warning')} in ${plural(loaded.inputs.length, 'file')} (${plural(docCount, 'document')})\n`);
  }
  return errors > 0 ? 1 : 0;
}
