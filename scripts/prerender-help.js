// `npm run build`, after tsc: renders `osfleet --help` as commander prints it into a pipe (80
// columns, no colour) and writes it to dist/help.txt, which src/cli.ts prints without loading
// commander or the command data. test/cli-e2e.test.ts checks the two stay the same.
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const { PRERENDERED_HELP } = await import('../dist/version.js');
const target = fileURLToPath(PRERENDERED_HELP);
rmSync(target, { force: true });
const { main } = await import('../dist/cli.js');
const { testIO } = await import('../dist/io.js');
const io = testIO();
const code = await main(['--help'], { io, env: {}, signal: new AbortController().signal });
const text = io.stdoutText();
if (code !== 0 || !text.startsWith('Usage: osfleet')) {
  process.stderr.write(`prerender-help: osfleet --help gave exit ${code}:\n${io.stderrText()}\n`);
  process.exit(1);
}
writeFileSync(`${target}.tmp`, text);
renameSync(`${target}.tmp`, target);
