// bench/query: one campaign over 10,000 sandbox hosts × 10 rows, dispatch to exit. osfleet's
// throughput and peak RSS against a bare `ws` client that only reads the same campaign's frames and
// writes them out; and how long osfleet takes to exit after the last result arrived.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { atLeast, atMost, figure, report } from './lib.js';
import { startTestAdmin } from './sandbox-admin.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const HOSTS = Number(process.env.BENCH_QUERY_HOSTS ?? 10_000);
const SQL = 'WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 10) SELECT x, x * 7 AS y, \'row\' AS label FROM n';
const scratch = mkdtempSync(path.join(tmpdir(), 'osfleet-bq-'));
const statusFile = path.join(scratch, 'status.json');

// The sandbox runs in its own process, as a real server would.
const server = spawn(process.execPath, [path.join(root, 'dist/sandbox/main.js'), '--dialect', 'fleet', '--port', '0', '--hosts', String(HOSTS - 4), '--status-file', statusFile, '--status-tick', '5000'], { stdio: ['ignore', 'ignore', 'inherit'] });
const t0 = Date.now();
while (!existsSync(statusFile)) {
  if (server.exitCode !== null) throw new Error('sandbox exited during start-up');
  await new Promise((r) => setTimeout(r, 200));
}
const { url } = JSON.parse(readFileSync(statusFile, 'utf8'));
console.log(`sandbox with ${HOSTS} hosts ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
const { token } = await startTestAdmin(url);

const baselineScript = path.join(scratch, 'bare-ws.mjs');
writeFileSync(
  baselineScript,
  `import WebSocket from ${JSON.stringify(path.join(root, 'node_modules/ws/index.js'))};
const url = process.env.FLEET_URL, token = process.env.FLEET_API_TOKEN, expected = Number(process.env.EXPECTED);
const res = await fetch(url + '/api/v1/fleet/queries/run_by_identifiers', { method: 'POST', headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json' }, body: JSON.stringify({ query: process.env.SQL, selected: { hosts: [], labels: ['All Hosts'] } }) });
const { campaign } = await res.json();
const ws = new WebSocket(url.replace('http', 'ws') + '/api/v1/fleet/results/websocket');
let results = 0;
ws.on('open', () => { ws.send(JSON.stringify({ type: 'auth', data: { token } })); ws.send(JSON.stringify({ type: 'select_campaign', data: { campaign_id: campaign.id } })); });
ws.on('message', (d) => { const m = JSON.parse(d.toString()); if (m.type !== 'result') return; process.stdout.write(JSON.stringify({ host: m.data.host.hostname, rows: m.data.rows }) + '\\n'); if (++results >= expected) ws.close(); });
`,
);

function run(args, env) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, ['--require', path.join(root, 'bench/rss-report.cjs'), ...args], { env: { PATH: process.env.PATH, HOME: scratch, CI: 'true', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let rows = 0;
    let stderr = '';
    let lastResultAt = 0;
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line) rows += JSON.parse(line).rows.length;
        lastResultAt = Number(process.hrtime.bigint() - started) / 1e6;
      }
    });
    child.stderr.on('data', (d) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const rss = Number(/\[bench-rss\] (\d+)/.exec(stderr)?.[1] ?? 0);
      resolve({ code, ms, rows, rssMiB: rss / 1024, exitAfterLastMs: ms - lastResultAt, stderr });
    });
  });
}

const env = { FLEET_URL: url, FLEET_API_TOKEN: token };
try {
  const bare = await run([baselineScript], { ...env, SQL, EXPECTED: String(HOSTS) });
  const osf = await run([path.join(root, 'bin/osfleet.js'), 'query', '--all', '--query', SQL, '--format', 'ndjson', '--quiet'], env);
  if (osf.code !== 0) console.log(osf.stderr);
  console.log(`baseline: ${bare.rows} rows in ${bare.ms.toFixed(0)} ms, peak RSS ${bare.rssMiB.toFixed(0)} MiB`);
  console.log(`osfleet:  ${osf.rows} rows in ${osf.ms.toFixed(0)} ms, peak RSS ${osf.rssMiB.toFixed(0)} MiB, exit ${osf.exitAfterLastMs.toFixed(0)} ms after the last result (code ${osf.code})`);
  const rowsPerSec = (r) => (r.rows / r.ms) * 1000;
  report('query', [
    figure('throughput', rowsPerSec(osf), rowsPerSec(bare), 'rows/s', atLeast(0.7)),
    figure('peak RSS', osf.rssMiB, bare.rssMiB, 'MiB'),
    figure('exit after last result', osf.exitAfterLastMs, 100, 'ms', atMost(1)),
  ], { hosts: HOSTS, rows: osf.rows, baseline_rows: bare.rows });
} finally {
  server.kill('SIGTERM');
  await new Promise((r) => server.on('exit', r));
  rmSync(scratch, { recursive: true, force: true });
}
