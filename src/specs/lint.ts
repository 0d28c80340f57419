/**
 * Offline checks beyond structure: SQL through SQLite's parser, tables and columns against the
 * schema, tables a pack schedules on platforms that lack them, file_events with no file paths,
 * intervals under 10 s. Pure over its inputs: SQL checking is injected (see sql-check.ts).
 */
import type { Platform } from '../schema/types.js';
import { dedupeDiagnostics, diag, sortDiagnostics } from './diagnostics.js';
import { parseDocuments } from './parse.js';
import { findToken, type SchemaPort, type SqlCheckResult, type SqlChecker } from './sql-check.js';
import type { Diagnostic, FieldLoc, OptionsSpec, PackDoc, Pos, SourceText, SpecDoc } from './types.js';
import { validate, type ValidateOptions } from './validate.js';

export interface LintEnv {
  schema: SchemaPort;
  sql: SqlChecker;
}

/** The platforms osquery packs usually target; "every platform" means these three. */
const HOST_PLATFORMS: readonly Platform[] = ['darwin', 'linux', 'windows'];
export const MIN_INTERVAL = 10;

/**
 * Platforms an osquery platform string selects, by osquery's substring rule (osquery.md §2.2);
 * undefined means every platform.
 */
export function osqueryPlatforms(value: string | undefined): Platform[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const v = value.toLowerCase();
  if (v.includes('any') || v.includes('all')) return undefined;
  const out = new Set<Platform>();
  if (v.includes('darwin')) out.add('darwin');
  if (v.includes('linux') || v.includes('ubuntu') || v.includes('centos')) out.add('linux');
  if (v.includes('posix')) {
    out.add('darwin');
    out.add('linux');
  }
  if (v.includes('windows')) out.add('windows');
  if (v.includes('freebsd')) out.add('freebsd');
  if (v.includes('chrome')) out.add('chrome');
  return [...out];
}

/** A label's `platform` is an os_version platform (darwin, ubuntu, rhel, windows, ...). */
function labelPlatforms(value: string | undefined): Platform[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const v = value.toLowerCase();
  if (v === 'darwin') return ['darwin'];
  if (v === 'windows') return ['windows'];
  if (v === 'chrome') return ['chrome'];
  if (v === 'freebsd') return ['freebsd'];
  return ['linux'];
}

const intersect = (a: readonly Platform[] | undefined, b: readonly Platform[] | undefined): Platform[] | undefined =>
  a === undefined ? b?.slice() : b === undefined ? a.slice() : a.filter((p) => b.includes(p));

const list = (ps: readonly string[]) => ps.join(', ');

/** Maps an offset in a YAML string value back to the file: the same token, counted the same way. */
export function sqlPos(doc: SpecDoc, path: string, sql: string, offset: number): Pos {
  const loc: FieldLoc | undefined = doc.fields.get(path);
  if (!loc) return doc.pos;
  const raw = doc.file.text.slice(loc.range[0], loc.range[1]);
  if (offset >= sql.trimEnd().length) {
    let end = loc.range[1];
    while (end > loc.range[0] && /\s/.test(doc.file.text[end - 1]!)) end--;
    return doc.file.posAt(end);
  }
  const m = /^[A-Za-z0-9_$.]+|^\S/.exec(sql.slice(offset));
  const token = m ? m[0] : sql.slice(offset, offset + 1);
  let k = 0;
  for (let i = sql.indexOf(token); i >= 0 && i < offset; i = sql.indexOf(token, i + 1)) k++;
  let at = -1;
  for (let n = 0, i = raw.indexOf(token); i >= 0; i = raw.indexOf(token, i + 1), n++) {
    if (n === k) {
      at = i;
      break;
    }
  }
  return at >= 0 ? doc.file.posAt(loc.range[0] + at) : loc.value;
}

/** Does the options document give hosts of this platform a non-empty `file_paths`? */
export function hasFilePaths(options: OptionsSpec | undefined, platform: Platform): boolean {
  if (!options) return false;
  const nonEmpty = (cfg: Record<string, unknown> | undefined) => {
    const fp = cfg?.['file_paths'];
    return typeof fp === 'object' && fp !== null && Object.values(fp).some((v) => Array.isArray(v) && v.length > 0);
  };
  const overrides = options.overrides?.platforms ?? {};
  // An override replaces the base config for its platform (fleet-api.md §3.6). Linux hosts report
  // their distribution (ubuntu, centos, ...), so any override that is not another OS may be theirs.
  if (platform === 'darwin') return nonEmpty(overrides['darwin'] ?? options.config);
  if (platform === 'windows') return nonEmpty(overrides['windows'] ?? options.config);
  const linuxOverrides = Object.entries(overrides).filter(([p]) => !['darwin', 'windows', 'freebsd', 'chrome'].includes(p));
  return nonEmpty(options.config) || linuxOverrides.some(([, cfg]) => nonEmpty(cfg));
}

export function lint(docs: readonly SpecDoc[], env: LintEnv): Diagnostic[] {
  const out: Diagnostic[] = [];
  const results = new Map<SpecDoc, SqlCheckResult>();
  const queriesByName = new Map<string, SpecDoc>();
  let options: OptionsSpec | undefined;
  for (const d of docs) {
    if (d.kind === 'options') options ??= d.spec;
    if (d.kind === 'query' && !queriesByName.has(d.spec.name.toLowerCase())) queriesByName.set(d.spec.name.toLowerCase(), d);
  }

  const checkSql = (d: SpecDoc, sql: string, what: string, platforms: Platform[] | undefined, path = 'query') => {
    const r = env.sql.check(sql);
    if (path === 'query') results.set(d, r);
    for (const issue of r.issues) {
      out.push(diag(d.file.source, sqlPos(d, path, sql, issue.offset), issue.severity, issue.code, `${what}: ${issue.message}`));
    }
    if (platforms) tablePlatformWarnings(d, sql, r, platforms, `${what} runs on ${list(platforms)}`, env, out);
    for (const w of usageWarnings(sql, r, env)) {
      out.push(diag(d.file.source, sqlPos(d, path, sql, w.offset), 'warning', w.code, `${what}: ${w.message}`));
    }
  };

  for (const d of docs) {
    if (d.kind === 'query' && d.spec.query.trim() !== '') {
      const platforms = d.spec.platform ? (d.spec.platform.split(',').map((p) => p.trim()) as Platform[]) : undefined;
      checkSql(d, d.spec.query, `query "${d.spec.name}"`, platforms);
      if (d.spec.interval !== undefined && d.spec.interval > 0 && d.spec.interval < MIN_INTERVAL) {
        out.push(diag(d.file.source, fieldPos(d, 'interval'), 'warning', 'short-interval', shortInterval(`query "${d.spec.name}"`, d.spec.interval)));
      }
    }
    if (d.kind === 'label' && d.spec.label_membership_type !== 'manual' && d.spec.query && d.spec.query.trim() !== '') {
      checkSql(d, d.spec.query, `label "${d.spec.name}"`, labelPlatforms(d.spec.platform));
    }
    if (d.kind === 'options') {
      // Decorator SQL runs on every host; a broken one breaks every result log line it decorates.
      for (const { path, sql } of decoratorQueries(d.spec)) checkSql(d, sql, `options: decorator ${path}`, undefined, path);
    }
  }

  for (const d of docs) {
    if (d.kind !== 'pack') continue;
    const pack = d as PackDoc;
    const packPlatforms = osqueryPlatforms(pack.spec.platform);
    pack.spec.queries.forEach((q, n) => {
      const path = pack.entryPaths?.[n] ?? `queries.${n}`;
      const where = `pack "${pack.spec.name}", query "${q.name}"`;
      if (q.interval > 0 && q.interval < MIN_INTERVAL) {
        out.push(diag(d.file.source, fieldPos(d, `${path}.interval`), 'warning', 'short-interval', shortInterval(where, q.interval)));
      }
      if (q.platform !== undefined && osqueryPlatforms(q.platform)?.length === 0) {
        out.push(diag(d.file.source, fieldPos(d, `${path}.platform`), 'warning', 'platform', `${where}: platform "${q.platform}" matches no osquery host, so the query never runs`));
      }
      const qd = queriesByName.get(q.query.toLowerCase());
      const r = qd ? results.get(qd) : undefined;
      if (!qd || !r || qd.kind !== 'query') return;
      const platforms = intersect(packPlatforms, osqueryPlatforms(q.platform)) ?? HOST_PLATFORMS.slice();
      for (const [table] of r.reads) {
        const t = env.schema.getTable(table);
        if (!t) continue;
        const missing = platforms.filter((p) => !t.platforms.includes(p));
        if (missing.length === 0) continue;
        const where2 = fieldPos(d, `${path}.${q.platform !== undefined ? 'platform' : 'query'}`);
        if (missing.length === platforms.length) {
          out.push(diag(d.file.source, where2, 'warning', 'table-platform', `${where}: table "${t.name}" does not exist on ${list(platforms)} (only on ${list(t.platforms)}): the query always fails`));
        } else {
          const present = platforms.filter((p) => t.platforms.includes(p));
          out.push(
            diag(
              d.file.source,
              where2,
              'warning',
              'table-platform',
              `${where}: table "${t.name}" does not exist on ${list(missing)} (only on ${list(t.platforms)}); set platform: ${present.join(',')}`,
            ),
          );
        }
      }
      for (const c of columnPlatformProblems(qd.spec.query, r, platforms, env)) {
        out.push(
          diag(
            d.file.source,
            fieldPos(d, `${path}.${q.platform !== undefined ? 'platform' : 'query'}`),
            'warning',
            'column-platform',
            `${where}: column "${c.table}.${c.column}" exists only on ${list(c.onlyOn)}: the query fails on ${list(c.failsOn)}`,
          ),
        );
      }
    });
  }

  // file_events only returns what the agent buffered for configured paths.
  for (const d of docs) {
    if (d.kind !== 'query') continue;
    const r = results.get(d);
    if (!r?.reads.has('file_events')) continue;
    const t = env.schema.getTable('file_events');
    const own = d.spec.platform ? (d.spec.platform.split(',').map((p) => p.trim()) as Platform[]) : undefined;
    const platforms = (intersect(own, t?.platforms ?? ['darwin', 'linux']) ?? []).filter((p) => p === 'darwin' || p === 'linux' || p === 'windows');
    const missing = platforms.filter((p) => !hasFilePaths(options, p));
    if (missing.length === 0) continue;
    const why = options ? `the options document configures no file_paths for ${list(missing)}` : 'no options document in these files configures file_paths';
    out.push(
      diag(d.file.source, fieldPos(d, 'query'), 'warning', 'file-events-paths', `query "${d.spec.name}" reads file_events, but ${why}: the table stays empty`),
    );
  }
  return out;
}

/** Decorator queries of an options document, with their field paths: `decorators.load`, `.always`, `.interval.<s>`. */
export function decoratorQueries(o: OptionsSpec): Array<{ path: string; sql: string }> {
  const out: Array<{ path: string; sql: string }> = [];
  const fromConfig = (cfg: Record<string, unknown> | undefined, base: string) => {
    const dec = cfg?.['decorators'];
    if (typeof dec !== 'object' || dec === null) return;
    const d = dec as Record<string, unknown>;
    const lists: Array<[string, unknown]> = [
      ['load', d['load']],
      ['always', d['always']],
    ];
    if (typeof d['interval'] === 'object' && d['interval'] !== null) {
      for (const [k, v] of Object.entries(d['interval'] as Record<string, unknown>)) lists.push([`interval.${k}`, v]);
    }
    for (const [name, v] of lists) {
      const items = Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
      items.forEach((sql, i) => {
        if (typeof sql === 'string' && sql.trim() !== '') out.push({ path: `${base}.decorators.${name}${Array.isArray(v) ? `.${i}` : ''}`, sql });
      });
    }
  };
  fromConfig(o.config, 'config');
  for (const [p, cfg] of Object.entries(o.overrides?.platforms ?? {})) fromConfig(cfg, `overrides.platforms.${p}`);
  return out;
}

/**
 * osquery-specific ways a valid statement returns less than it seems: tables whose required columns
 * the SQL never names (osquery returns no rows), and user-data tables read without `uid` (only the
 * user osquery runs as, usually root, is seen).
 */
export function usageWarnings(sql: string, r: SqlCheckResult, env: LintEnv): Array<{ offset: number; code: string; message: string }> {
  const out: Array<{ offset: number; code: string; message: string }> = [];
  for (const [table] of r.reads) {
    const t = env.schema.getTable(table);
    if (!t) continue;
    const at = Math.max(0, findToken(sql, t.name));
    const required = t.columns.filter((c) => c.required).map((c) => c.name);
    if (required.length > 0 && !required.some((c) => findToken(sql, c) >= 0)) {
      out.push({
        offset: at,
        code: 'required-column',
        message: `table "${t.name}" returns nothing unless the WHERE clause constrains ${required.join(' or ')}`,
      });
    }
    if (t.userData && findToken(sql, 'uid') < 0) {
      out.push({
        offset: at,
        code: 'user-data',
        message: `table "${t.name}" returns only the data of the user osquery runs as unless uid is constrained (join users: ... FROM users CROSS JOIN ${t.name} USING (uid))`,
      });
    }
  }
  return out;
}

function shortInterval(where: string, interval: number): string {
  return `${where}: interval ${interval} s is under ${MIN_INTERVAL} s (a heavy load on hosts and the server)`;
}

function fieldPos(d: SpecDoc, path: string): Pos {
  return d.fields.get(path)?.value ?? d.pos;
}

function tablePlatformWarnings(d: SpecDoc, sql: string, r: SqlCheckResult, platforms: Platform[], what: string, env: LintEnv, out: Diagnostic[]): void {
  for (const [table] of r.reads) {
    const t = env.schema.getTable(table);
    if (!t) continue;
    if (platforms.some((p) => t.platforms.includes(p))) continue;
    out.push(diag(d.file.source, fieldPos(d, 'query'), 'warning', 'table-platform', `${what}, but table "${t.name}" exists only on ${list(t.platforms)}`));
  }
  for (const c of columnPlatformProblems(sql, r, platforms, env)) {
    out.push(
      diag(d.file.source, fieldPos(d, 'query'), 'warning', 'column-platform', `${what}, but column "${c.table}.${c.column}" exists only on ${list(c.onlyOn)}: the query fails on ${list(c.failsOn)}`),
    );
  }
}

/**
 * Platform-specific columns the SQL names (not those a `*` brings in: osquery expands `*` to the
 * host's own columns) on platforms whose table lacks them: osquery fails there with "no such column".
 */
export function columnPlatformProblems(
  sql: string,
  r: SqlCheckResult,
  platforms: readonly Platform[],
  env: LintEnv,
): Array<{ table: string; column: string; onlyOn: Platform[]; failsOn: Platform[] }> {
  const out: Array<{ table: string; column: string; onlyOn: Platform[]; failsOn: Platform[] }> = [];
  for (const [table, columns] of r.reads) {
    const t = env.schema.getTable(table);
    if (!t) continue;
    for (const name of columns) {
      const c = t.columns.find((x) => x.name.toLowerCase() === name.toLowerCase());
      if (!c?.platforms || findToken(sql, c.name) < 0) continue;
      const failsOn = platforms.filter((p) => t.platforms.includes(p) && !c.platforms!.includes(p));
      if (failsOn.length > 0) out.push({ table: t.name, column: c.name, onlyOn: c.platforms, failsOn });
    }
  }
  return out;
}

export interface LintReport {
  docs: SpecDoc[];
  diagnostics: Diagnostic[];
}

/** Everything `lint` reports for a set of inputs: structure, cross-document checks, SQL. */
export function lintSources(inputs: readonly SourceText[], env: LintEnv, opts: ValidateOptions = {}): LintReport {
  const docs: SpecDoc[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const input of inputs) {
    const r = parseDocuments(input.text, input.source);
    docs.push(...r.docs);
    diagnostics.push(...r.diagnostics);
  }
  diagnostics.push(...validate(docs, opts));
  diagnostics.push(...lint(docs, env));
  return { docs, diagnostics: sortDiagnostics(dedupeDiagnostics(diagnostics), inputs.map((i) => i.source)) };
}

/**
 * Which naming the files are written for (`lint --naming`): FleetDM 4.82+ says `kind: report` and
 * `fleet:` (fleetctl prints a `[!]` for the old words), older servers and Kolide say `kind: query`
 * and `team:`. osfleet applies either word to either server (it sends the server's own); these
 * warnings are for files shared with fleetctl or GitOps tools of one naming.
 */
export function namingDiagnostics(docs: readonly SpecDoc[], naming: 'queries' | 'reports'): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const d of docs) {
    if (d.kind !== 'query') continue;
    const word = d.word ?? 'query';
    if (naming === 'reports' && word === 'query') {
      out.push(diag(d.file.source, d.pos, 'warning', 'old-naming', `query "${d.spec.name}": \`kind: query\` is FleetDM's old word since 4.82 (\`kind: report\`)`));
    }
    if (naming === 'queries' && word === 'report') {
      out.push(diag(d.file.source, d.pos, 'warning', 'new-naming', `query "${d.spec.name}": \`kind: report\` is FleetDM 4.82+'s word; older servers and fleetctl say \`kind: query\``));
    }
    const team = d.fields.get('team');
    const fleet = d.fields.get('fleet');
    if (naming === 'reports' && team && !fleet) out.push(diag(d.file.source, team.key ?? team.value, 'warning', 'old-naming', `query "${d.spec.name}": \`team\` is FleetDM's old word since 4.82 (\`fleet\`)`));
    if (naming === 'queries' && fleet && !team) out.push(diag(d.file.source, fleet.key ?? fleet.value, 'warning', 'new-naming', `query "${d.spec.name}": \`fleet\` is FleetDM 4.82+'s word; older servers say \`team\``));
  }
  return out;
}
