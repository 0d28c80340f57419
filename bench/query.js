// bench/query: one campaign over 10,000 sandbox hosts × 10 rows (BENCH_QUERY_HOSTS=100000 for the
// 100k run), dispatch to exit, for each server generation (BENCH_QUERY_DIALECTS=fleet,kolide).
// osfleet's `query --all` against a bare `ws` client that does only what any client must (create the
// campaign on "All Hosts", read the results websocket, write the same NDJSON lines): wall time, peak
// RSS, throughput, and how long osfleet takes to exit after the last result arrived.
// BENCH_OSFLEET_BIN=/path/to/bin/osfleet.js measures another build (an older one, for "before").
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

const DIALECTS = (process.env.BENCH_QUERY_DIALECTS ?? 'fleet,kolide').split(',').filter(Boolean);
const BIN = process.env.BENCH_OSFLEET_BIN ?? path.join(root, 'bin/osfleet.js');

function bareScript(dialect) {
  const prefix = dialect === 'kolide' ? '/api/v1/kolide' : '/api/v1/fleet';
  const create = dialect === 'kolide' ? 'run_by_names' : 'run_by_identifiers';
  const file = path.join(scratch, `bare-ws-${dialect}.mjs`);
  writeFileSync(
    file,
    `import WebSocket from ${JSON.stringify(path.join(root, 'node_modules/ws/index.js'))};
const url = process.env.FLEET_URL, token = process.env.FLEET_API_TOKEN;
const res = await fetch(url + '${prefix}/queries/${create}', { method: 'POST', headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json' }, body: JSON.stringify({ query: process.env.SQL, selected: { hosts: [], labels: ['All Hosts'] } }) });
const { campaign } = await res.json();
const expected = campaign.Metrics.OnlineHosts;
const ws = new WebSocket(url.replace('http', 'ws') + '${prefix}/results/websocket');
let results = 0;
ws.on('open', () => { ws.send(JSON.stringify({ type: 'auth', data: { token } })); ws.send(JSON.stringify({ type: 'select_campaign', data: { campaign_id: campaign.id } })); });
ws.on('message', (d) => { const m = JSON.parse(d.toString()); if (m.type !== 'result') return; process.stdout.write(JSON.stringify({ host: m.data.host.hostname, rows: m.data.rows }) + '\\n'); if (++results >= expected) ws.close(); });
`,
  );
  return file;
}

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
      const cpuMs = Number(/\[bench-cpu\] (\d+)/.exec(stderr)?.[1] ?? 0) / 1000;
      resolve({ code, ms, rows, rssMiB: rss / 1024, cpuMs, exitAfterLastMs: ms - lastResultAt, stderr });
    });
  });
}

const figures = [];
const extra = { hosts: HOSTS, osfleet: BIN };
for (const dialect of DIALECTS) {
  const statusFile = path.join(scratch, `status-${dialect}.json`);
  // The sandbox runs in its own process, as a real server would.
  const server = spawn(process.execPath, [path.join(root, 'dist/sandbox/main.js'), '--dialect', dialect, '--port', '0', '--hosts', String(HOSTS - 4), '--status-file', statusFile, '--status-tick', '5000'], { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    const t0 = Date.now();
    while (!existsSync(statusFile)) {
      if (server.exitCode !== null) throw new Error('sandbox exited during start-up');
      await new Promise((r) => setTimeout(r, 200));
    }
    const { url } = JSON.parse(readFileSync(statusFile, 'utf8'));
    console.log(`${dialect} sandbox with ${HOSTS} hosts ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const { token } = await startTestAdmin(url);
    const env = { FLEET_URL: url, FLEET_API_TOKEN: token };
    const bare = await run([bareScript(dialect)], { ...env, SQL });
    const osf = await run([BIN, 'query', '--all', '--query', SQL, '--format', 'ndjson', '--quiet'], env);
    if (osf.code !== 0) console.log(osf.stderr);
    console.log(`${dialect} baseline: ${bare.rows} rows in ${bare.ms.toFixed(0)} ms (CPU ${bare.cpuMs.toFixed(0)} ms), peak RSS ${bare.rssMiB.toFixed(0)} MiB`);
    console.log(`${dialect} osfleet:  ${osf.rows} rows in ${osf.ms.toFixed(0)} ms (CPU ${osf.cpuMs.toFixed(0)} ms), peak RSS ${osf.rssMiB.toFixed(0)} MiB, exit ${osf.exitAfterLastMs.toFixed(0)} ms after the last result (code ${osf.code})`);
    const rowsPerSec = (r) => (r.rows / r.ms) * 1000;
    const tag = `${dialect}, ${HOSTS} hosts`;
    figures.push(
      figure(`time, ${tag}`, osf.ms, bare.ms, 'ms', atMost(1.2)),
      figure(`peak RSS, ${tag}`, osf.rssMiB, bare.rssMiB, 'MiB', atMost(1.5)),
      // No target: on a busy machine CPU time says what the client itself costs, whatever the wait.
      figure(`CPU time, ${tag}`, osf.cpuMs, bare.cpuMs, 'ms'),
      figure(`throughput, ${tag}`, rowsPerSec(osf), rowsPerSec(bare), 'rows/s', atLeast(0.7)),
      figure(`exit after last result, ${tag}`, osf.exitAfterLastMs, 100, 'ms', atMost(1)),
    );
    extra[dialect] = { rows: osf.rows, baseline_rows: bare.rows };
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => (server.exitCode !== null ? r() : server.on('exit', r)));
  }
}
rmSync(scratch, { recursive: true, force: true });
report('query', figures, extra);
