// `npm run build`, after tsc and scripts/bundle.js: what is cheaper to make once than at every start,
// written where src/paths.ts names it (bundle/, which the package ships).
// - bundle/help.txt: `osfleet --help` as commander prints it into a pipe (80 columns, no colour),
//   which src/launch.ts (src/quick.ts) prints without reading the command line;
// - bundle/osquery.sqlite: the schema database lint and apply prepare queries against.
// test/cli-e2e.test.ts and test/lint.test.ts check that both match what they stand for.
import { renameSync, rmSync, writeFileSync } from 'node:fs';

function writeAtomically(target, data) {
  writeFileSync(`${target}.tmp`, data);
  renameSync(`${target}.tmp`, target);
}

const { PRERENDERED_HELP } = await import('../dist/version.js');
rmSync(PRERENDERED_HELP, { force: true });
const { main } = await import('../dist/cli.js');
const { testIO } = await import('../dist/io.js');
const io = testIO();
const code = await main(['--help'], { io, env: {}, signal: new AbortController().signal });
const text = io.stdoutText();
if (code !== 0 || !text.startsWith('Usage: osfleet')) {
  process.stderr.write(`prebuild: osfleet --help gave exit ${code}:\n${io.stderrText()}\n`);
  process.exit(1);
}
writeAtomically(PRERENDERED_HELP, text);

const { SCHEMA_DATABASE_IMAGE } = await import('../dist/schema/image.js');
const { buildSchemaDatabase } = await import('../dist/specs/sql-check.js');
const schema = await import('../dist/schema/index.js');
const { loadSqlite } = await import('../dist/sqlite.js');
const db = buildSchemaDatabase(await loadSqlite('the build'), schema);
writeAtomically(SCHEMA_DATABASE_IMAGE, db.serialize());
db.close();
