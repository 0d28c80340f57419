// bench/query: one campaign over 100,000 sandbox hosts × 10 rows (BENCH_QUERY_HOSTS=10000 for the
// older 10k run), dispatch to exit, for each server generation (BENCH_QUERY_DIALECTS=fleet,kolide).
// osfleet's `query --all` against a bare `ws` client that does only what any client must (create the
// campaign on "All Hosts", read the results websocket, write the same NDJSON lines, pausing the
// socket while stdout is full): wall time, peak RSS, CPU, throughput, and how long osfleet takes to
// exit after the last result arrived. BENCH_QUERY_ROUNDS=N runs each client N times, alternating
// which goes first, and reports medians (default 1). The load average is printed before and after.
// BENCH_OSFLEET_BIN=/path/to/bin/osfleet.js measures another build (an older one, for "before").
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus, loadavg } from 'node:os';
import { atLeast, atMost, figure, median, report } from './lib.js';
import { startTestAdmin } from './sandbox-admin.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const HOSTS = Number(process.env.BENCH_QUERY_HOSTS ?? 100_000);
const ROUNDS = Math.max(1, Number(process.env.BENCH_QUERY_ROUNDS ?? 1));
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
// Without this the baseline's memory would measure how fast its reader reads (stdout buffered whole).
process.stdout.on('drain', () => ws.resume());
ws.on('open', () => { ws.send(JSON.stringify({ type: 'auth', data: { token } })); ws.send(JSON.stringify({ type: 'select_campaign', data: { campaign_id: campaign.id } })); });
ws.on('message', (d) => { const m = JSON.parse(d.toString()); if (m.type !== 'result') return; if (!process.stdout.write(JSON.stringify({ host: m.data.host.hostname, rows: m.data.rows }) + '\\n')) ws.pause(); if (++results >= expected) ws.close(); });
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
const extra = { hosts: HOSTS, rounds: ROUNDS, osfleet: BIN, cores: cpus().length, load_before: loadavg() };
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
    console.log(`${dialect} sandbox with ${HOSTS} hosts ready in ${((Date.now() - t0) / 1000).toFixed(1)} s; ${cpus().length} cores, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    const { token } = await startTestAdmin(url);
    const env = { FLEET_URL: url, FLEET_API_TOKEN: token };
    const bares = [];
    const osfs = [];
    const runBare = async () => {
      const r = await run([bareScript(dialect)], { ...env, SQL });
      console.log(`${dialect} baseline: ${r.rows} rows in ${r.ms.toFixed(0)} ms (CPU ${r.cpuMs.toFixed(0)} ms), peak RSS ${r.rssMiB.toFixed(0)} MiB`);
      bares.push(r);
    };
    const runOsfleet = async () => {
      const r = await run([BIN, 'query', '--all', '--query', SQL, '--format', 'ndjson', '--quiet'], env);
      if (r.code !== 0) console.log(r.stderr);
      console.log(`${dialect} osfleet:  ${r.rows} rows in ${r.ms.toFixed(0)} ms (CPU ${r.cpuMs.toFixed(0)} ms), peak RSS ${r.rssMiB.toFixed(0)} MiB, exit ${r.exitAfterLastMs.toFixed(0)} ms after the last result (code ${r.code})`);
      osfs.push(r);
    };
    for (let i = 0; i < ROUNDS; i++) {
      // Side by side, alternating which goes first: a host's place in its check-in cycle and the
      // machine's load hit both alike.
      if (i % 2 === 0) {
        await runBare();
        await runOsfleet();
      } else {
        await runOsfleet();
        await runBare();
      }
    }
    const med = (list) => ({ ms: median(list.map((r) => r.ms)), rows: median(list.map((r) => r.rows)), rssMiB: median(list.map((r) => r.rssMiB)), cpuMs: median(list.map((r) => r.cpuMs)), exitAfterLastMs: median(list.map((r) => r.exitAfterLastMs)) });
    const bare = med(bares);
    const osf = med(osfs);
    console.log(`${dialect}: medians of ${ROUNDS}: time ${(osf.ms / bare.ms).toFixed(2)}×, peak RSS ${(osf.rssMiB / bare.rssMiB).toFixed(2)}×, CPU ${(osf.cpuMs / bare.cpuMs).toFixed(2)}×; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
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
extra.load_after = loadavg();
rmSync(scratch, { recursive: true, force: true });
report('query', figures, extra);
