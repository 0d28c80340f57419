// bench/sql-analyser: the two ways osfleet can learn a query's result columns and the tables it
// reads (issue 14.5): the hand-written parser (dist/schema/sql.js, what export and query use) and
// SQLite's own `prepare` against a database of osfleet's schema (what lint uses). For each: the cost
// of the first answer in a fresh process (module loading, and for SQLite the schema database) and
// the time per query over every query of the bundled and upstream packs. Medians of fresh processes.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { figure, node, report } from './lib.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const rounds = Number(process.env.BENCH_ROUNDS ?? 9);

/** Every query of the upstream osquery packs and of packs/ (the SQL people really write). */
function corpus() {
  const out = [];
  const dir = path.join(root, 'test/fixtures/upstream/osquery-packs');
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.conf'))) {
    const text = readFileSync(path.join(dir, f), 'utf8').replace(/\\\n/g, '');
    const pack = JSON.parse(text.split('\n').filter((l) => !/^\s*(#|\/\/)/.test(l)).join('\n'));
    for (const q of Object.values(pack.queries ?? {})) if (typeof q.query === 'string') out.push(q.query);
  }
  return out;
}

// One measurement per fresh process: [first answer ms, per-query µs].
const child = (which) => `
const t0 = performance.now();
const sqls = ${JSON.stringify(corpus())};
let describe;
if (${JSON.stringify(which)} === 'parser') {
  const { describeOutput, tableNamesInSql } = await import(${JSON.stringify(path.join(root, 'dist/schema/index.js'))});
  describe = (sql) => [describeOutput(sql), tableNamesInSql(sql)];
} else {
  const [{ default: Database }, schema] = await Promise.all([import('better-sqlite3'), import(${JSON.stringify(path.join(root, 'dist/schema/index.js'))})]);
  const db = new Database(':memory:');
  const q = (s) => '"' + s.replace(/"/g, '""') + '"';
  for (const t of schema.allTables()) {
    const seen = new Set();
    const cols = t.columns.filter((c) => !seen.has(c.name.toLowerCase()) && seen.add(c.name.toLowerCase()));
    db.exec('CREATE TABLE ' + q(t.name.toLowerCase()) + ' (' + (cols.length ? cols.map((c) => q(c.name)).join(', ') : '"_"') + ')');
  }
  for (const f of ['split','regex_split','regex_match','inet_aton','concat','concat_ws','version_compare','md5','sha1','sha256','to_base64','from_base64','conditional_to_base64','community_id_v1','in_cidr_block','carve']) db.function(f, { varargs: true }, () => null);
  const roots = new Map(db.prepare("SELECT name, rootpage FROM sqlite_schema WHERE type = 'table'").all().map((r) => [r.rootpage, r.name]));
  describe = (sql) => {
    try {
      const stmt = db.prepare(sql);
      const cols = stmt.columns();
      const tables = new Set();
      // The columns name their tables; EXPLAIN adds the tables read only in WHERE/JOIN (as lint needs).
      for (const c of cols) if (c.table) tables.add(c.table);
      if (${JSON.stringify(which)} === 'sqlite') for (const r of db.prepare('EXPLAIN ' + sql).all()) if (r.opcode === 'OpenRead' && roots.has(r.p2)) tables.add(roots.get(r.p2));
      return [cols, [...tables]];
    } catch { return null; }
  };
}
describe(sqls[0]);
const first = performance.now() - t0;
const t1 = performance.now();
let n = 0;
for (let rep = 0; rep < 20; rep++) for (const s of sqls) { describe(s); n++; }
const per = ((performance.now() - t1) * 1000) / n;
process.stdout.write(JSON.stringify({ first, per, queries: sqls.length }));
`;

function run(which) {
  const out = execFileSync(node, ['--input-type=module', '-e', child(which)], { cwd: root, encoding: 'utf8' });
  return JSON.parse(out);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const parser = [];
const sqlite = [];
const columnsOnly = [];
for (let i = 0; i < rounds; i++) {
  parser.push(run('parser'));
  sqlite.push(run('sqlite'));
  columnsOnly.push(run('sqlite-columns'));
}
const pFirst = median(parser.map((r) => r.first));
const sFirst = median(sqlite.map((r) => r.first));
const pPer = median(parser.map((r) => r.per));
const sPer = median(sqlite.map((r) => r.per));
const cFirst = median(columnsOnly.map((r) => r.first));
const cPer = median(columnsOnly.map((r) => r.per));
// Value: SQLite prepare; baseline: the hand parser (ratio > 1: SQLite costs more).
report('sql-analyser', [
  figure('first answer in a fresh process (load + first query)', sFirst, pFirst, 'ms'),
  figure(`per query (${parser[0].queries} pack queries), prepare + EXPLAIN`, sPer, pPer, 'µs'),
  figure('first answer, prepare + columns() only', cFirst, pFirst, 'ms'),
  figure('per query, prepare + columns() only', cPer, pPer, 'µs'),
]);
