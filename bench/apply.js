// bench/apply: `osfleet apply` of 1,000 queries, 100 labels and 100 packs (10 scheduled queries each)
// against a fresh FleetDM sandbox, as a plan (--dry-run) and as a real apply, against a baseline: a
// bare undici script that reads the same YAML with the same parser and sends the same three batched
// POSTs (what any client applying these files must do at least). Also: the HTTP requests osfleet makes
// for 1,200 documents and for 30 (they must be the same), and the bare POSTs alone (no YAML), for scale.
// Runs are interleaved; each run gets a fresh sandbox so every apply really creates everything.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { atMost, figure, median, node, report, timeRun } from './lib.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'osfleet.js');
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const Q = Number(process.env.BENCH_QUERIES ?? 1000);
const L = Number(process.env.BENCH_LABELS ?? 100);
const P = Number(process.env.BENCH_PACKS ?? 100);

const { startSandbox } = await import(path.join(root, 'dist/sandbox/index.js'));
const { startTestAdmin } = await import(path.join(root, 'bench/sandbox-admin.js'));
const scratch = mkdtempSync(path.join(tmpdir(), 'osfleet-bench-apply-'));

function repo(dir, n, m, k) {
  mkdirSync(dir, { recursive: true });
  let q = '';
  for (let i = 0; i < n; i++) q += `---\napiVersion: v1\nkind: query\nspec:\n  name: q${i}\n  description: query number ${i}\n  query: SELECT ${i} AS n, unix_time FROM time;\n`;
  let l = '';
  for (let i = 0; i < m; i++) l += `---\napiVersion: v1\nkind: label\nspec:\n  name: l${i}\n  query: SELECT 1 FROM system_info WHERE cpu_logical_cores > ${i};\n`;
  let p = '';
  for (let i = 0; i < k; i++) {
    p += `---\napiVersion: v1\nkind: pack\nspec:\n  name: p${i}\n  targets:\n    labels: [l${i % m}]\n  queries:\n`;
    for (let j = 0; j < Math.min(10, n); j++) p += `    - query: q${(i * 10 + j) % n}\n      interval: ${3600 + j}\n`;
  }
  writeFileSync(path.join(dir, 'queries.yml'), q);
  writeFileSync(path.join(dir, 'labels.yml'), l);
  writeFileSync(path.join(dir, 'packs.yml'), p);
  return dir;
}

const big = repo(path.join(scratch, 'big'), Q, L, P);
const small = repo(path.join(scratch, 'small'), 10, 10, 10);

// The baseline: parse the same YAML with the same library, group by kind, three POSTs in order.
const baselineScript = path.join(scratch, 'baseline.mjs');
writeFileSync(
  baselineScript,
  `import { request } from ${JSON.stringify(path.join(root, 'node_modules/undici/index.js'))};
import { parseAllDocuments } from ${JSON.stringify(path.join(root, 'node_modules/yaml/dist/index.js'))};
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
const dir = process.argv[2];
const specs = { query: [], label: [], pack: [] };
for (const f of readdirSync(dir).sort()) {
  for (const d of parseAllDocuments(readFileSync(path.join(dir, f), 'utf8'))) {
    const o = d.toJS();
    if (o && specs[o.kind]) specs[o.kind].push(o.spec);
  }
}
const headers = { authorization: 'Bearer ' + process.env.FLEET_API_TOKEN, 'content-type': 'application/json' };
for (const [kind, p] of [['query', 'queries'], ['label', 'labels'], ['pack', 'packs']]) {
  const res = await request(process.env.FLEET_URL + '/api/v1/fleet/spec/' + p, { method: 'POST', headers, body: JSON.stringify({ specs: specs[kind] }) });
  await res.body.text();
  if (res.statusCode !== 200) { console.error(kind, res.statusCode); process.exit(1); }
}
`,
);
// For scale only: the three POSTs with the bodies already built (no YAML at all).
const bodies = path.join(scratch, 'bodies.json');
const rawScript = path.join(scratch, 'raw.mjs');
writeFileSync(
  rawScript,
  `import { request } from ${JSON.stringify(path.join(root, 'node_modules/undici/index.js'))};
import { readFileSync } from 'node:fs';
const bodies = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const headers = { authorization: 'Bearer ' + process.env.FLEET_API_TOKEN, 'content-type': 'application/json' };
for (const p of ['queries', 'labels', 'packs']) {
  const res = await request(process.env.FLEET_URL + '/api/v1/fleet/spec/' + p, { method: 'POST', headers, body: JSON.stringify({ specs: bodies[p] }) });
  await res.body.text();
}
`,
);
{
  const { parseAllDocuments } = await import(path.join(root, 'node_modules/yaml/dist/index.js'));
  const { readFileSync } = await import('node:fs');
  const out = { queries: [], labels: [], packs: [] };
  for (const [f, k] of [['queries.yml', 'queries'], ['labels.yml', 'labels'], ['packs.yml', 'packs']]) {
    for (const d of parseAllDocuments(readFileSync(path.join(big, f), 'utf8'))) out[k].push(d.toJS().spec);
  }
  writeFileSync(bodies, JSON.stringify(out));
}

const baseEnv = { PATH: process.env.PATH, HOME: scratch, CI: 'true' };

async function freshSandbox() {
  const sandbox = await startSandbox({ dialect: 'fleet', port: 0, seed: 1, hosts: false });
  const { token } = await startTestAdmin(sandbox.url);
  return { sandbox, env: { ...baseEnv, FLEET_URL: sandbox.url, FLEET_API_TOKEN: token } };
}

/** One measured child run on a fresh sandbox (the sandbox's start is not timed). */
async function measured(args) {
  const { sandbox, env } = await freshSandbox();
  try {
    const { ms, code } = await timeRun(node, args, { env });
    if (code !== 0) throw new Error(`benchmark command failed (exit ${code}): ${args.join(' ')}`);
    return ms;
  } finally {
    await sandbox.stop();
  }
}

/** Requests osfleet sends, from its --debug trace. */
async function requestsOf(dir) {
  const { sandbox, env } = await freshSandbox();
  try {
    const child = spawn(node, [bin, '--debug', 'apply', '-f', dir], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
    const code = await new Promise((resolve) => child.on('close', resolve));
    if (code !== 0) throw new Error(`apply failed (exit ${code}): ${err}`);
    return err.split('\n').filter((l) => /^\[debug\] (GET|POST|PATCH|PUT|DELETE) \//.test(l)).length;
  } finally {
    await sandbox.stop();
  }
}

let figures;
try {
  const times = { plan: [], apply: [], baseline: [], raw: [] };
  for (let r = 0; r < rounds; r++) {
    times.baseline.push(await measured([baselineScript, big]));
    times.plan.push(await measured([bin, 'apply', '-f', big, '--dry-run']));
    times.apply.push(await measured([bin, 'apply', '-f', big]));
    times.raw.push(await measured([rawScript, bodies]));
  }
  const [plan, applied, baseline, raw] = [times.plan, times.apply, times.baseline, times.raw].map(median);
  const bigRequests = await requestsOf(big);
  const smallRequests = await requestsOf(small);
  figures = [
    figure(`apply ${Q} queries, ${L} labels, ${P} packs`, applied, baseline, 'ms', atMost(1.5)),
    figure('plan (--dry-run)', plan, baseline, 'ms'),
    // For scale: against the POSTs alone (bodies prebuilt, no YAML): what reading, checking and planning cost.
    figure('apply vs the bare POSTs without YAML', applied, raw, 'ms'),
    figure(`HTTP requests for ${Q + L + P} documents vs 30`, bigRequests, smallRequests, 'requests', atMost(1)),
  ];
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
report('apply', figures, { rounds, documents: Q + L + P });
