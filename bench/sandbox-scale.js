// bench/sandbox-scale: a sandbox with 10,000 simulated hosts (the 4 of the story + 9,996 generated),
// run as `dist/sandbox/main.js` in its own process; one campaign on `All Hosts` to completion over
// raw HTTP and a plain websocket. Prints the start-up time, the campaign's wall time, the sandbox
// process's peak RSS (server and simulated hosts share it; target < 2 GB) and the hosts answered.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { startTestAdmin } from './sandbox-admin.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const HOSTS = Number(process.env.BENCH_SANDBOX_HOSTS ?? 10_000);
const extra = Math.max(0, HOSTS - 4);
const scratch = mkdtempSync(path.join(tmpdir(), 'osfleet-scale-'));
const statusFile = path.join(scratch, 'status.json');
const SQL = 'SELECT * FROM os_version;';

const started = performance.now();
const child = spawn(process.execPath, [path.join(root, 'dist/sandbox/main.js'), '--dialect', 'fleet', '--port', '0', '--hosts', String(extra), '--seed', '1', '--status-file', statusFile], {
  stdio: ['ignore', 'inherit', 'inherit'],
});
let exited = false;
child.on('exit', () => (exited = true));

function peakRssMiB(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

try {
  while (!existsSync(statusFile)) {
    if (exited) throw new Error('the sandbox exited during start-up');
    await new Promise((r) => setTimeout(r, 100));
  }
  const status = JSON.parse(readFileSync(statusFile, 'utf8'));
  const startupMs = performance.now() - started;
  const { token } = await startTestAdmin(status.url);

  const t0 = performance.now();
  const res = await fetch(`${status.url}/api/v1/fleet/queries/run_by_names`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: SQL, selected: { hosts: [], labels: ['All Hosts'] } }),
  });
  if (!res.ok) throw new Error(`campaign: ${res.status} ${await res.text()}`);
  const { campaign } = await res.json();
  const targeted = campaign.Metrics.TotalHosts;
  const online = campaign.Metrics.OnlineHosts;
  const answered = new Set();
  let errors = 0;
  let rows = 0;
  await new Promise((resolve, reject) => {
    const ws = new WebSocket(`${status.url.replace(/^http/, 'ws')}/api/v1/fleet/results/websocket`);
    const timer = setTimeout(() => {
      ws.terminate();
      resolve();
    }, 300_000);
    ws.on('open', () => {
      ws.send(JSON.stringify({ type: 'auth', data: { token } }));
      ws.send(JSON.stringify({ type: 'select_campaign', data: { campaign_id: campaign.id } }));
    });
    ws.on('message', (buf) => {
      const m = JSON.parse(buf.toString());
      if (m.type === 'error') reject(new Error(`websocket error: ${m.data}`));
      if (m.type !== 'result') return;
      answered.add(m.data.host.id);
      rows += m.data.rows?.length ?? 0;
      if (m.data.error) errors++;
      // Counted here rather than waiting for the 5 s status tick, so the wall time is the campaign's own.
      if (answered.size >= online) {
        clearTimeout(timer);
        ws.close();
        resolve();
      }
    });
    ws.on('error', reject);
  });
  const wallMs = performance.now() - t0;
  const rssMiB = peakRssMiB(child.pid);

  const figures = [
    { name: 'hosts', value: HOSTS, baseline: null, unit: 'hosts', ratio: null, target: null, met: null },
    { name: 'startup', value: Math.round(startupMs), baseline: null, unit: 'ms', ratio: null, target: null, met: null },
    { name: 'campaign wall time', value: Math.round(wallMs), baseline: null, unit: 'ms', ratio: null, target: null, met: null },
    { name: 'hosts answered', value: answered.size, baseline: targeted, unit: 'hosts', ratio: targeted ? Math.round((answered.size / targeted) * 1000) / 1000 : null, target: '= online', met: answered.size >= online },
    { name: 'peak RSS', value: Math.round(rssMiB), baseline: null, unit: 'MiB', ratio: null, target: '< 2048 MiB', met: rssMiB < 2048 },
  ];
  console.log(`hosts: ${HOSTS}`);
  console.log(`startup_ms: ${Math.round(startupMs)}`);
  console.log(`campaign_wall_ms: ${Math.round(wallMs)}`);
  console.log(`hosts_targeted: ${targeted}`);
  console.log(`hosts_online: ${online}`);
  console.log(`hosts_answered: ${answered.size}`);
  console.log(`host_errors: ${errors}`);
  console.log(`rows: ${rows}`);
  console.log(`peak_rss_mib: ${Math.round(rssMiB)}`);
  console.log(JSON.stringify({ bench: 'sandbox-scale', figures, hosts: HOSTS, startup_ms: Math.round(startupMs), campaign_wall_ms: Math.round(wallMs), hosts_targeted: targeted, hosts_answered: answered.size, peak_rss_mib: Math.round(rssMiB) }));
} finally {
  if (!exited) {
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await gone;
  }
  rmSync(scratch, { recursive: true, force: true });
}
