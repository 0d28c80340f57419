// bench/export: `osfleet export` of NDJSON query results to enriched CSV, against a baseline that
// only parses the same NDJSON and writes it out again. Each case runs in its own child process so
// its peak RSS (process.resourceUsage().maxRSS) is its own.
//   node bench/export.js   (after `npm run build`; BENCH_ROWS=100000,1000000 and BENCH_REPEAT=3 by default)
// BENCH_EXPORT_BEFORE=<a checkout with its own dist/ and bin/> measures that build too, interleaved
// with this one in the same run (before/after figures side by side, same load).
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path, { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fileURLToPath } from 'node:url';
import { atLeast, atMost, figure, report } from './lib.js';

const self = fileURLToPath(import.meta.url);
const ROWS_PER_RESULT = 1000;
const HOSTS = 200;
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);
const JQ_ROWS = Number(process.env.BENCH_JQ_ROWS ?? 200_000);
/** Issue 19.3: peak RSS of an export, at any input size. */
const CEILING_MIB = 100;
const BEFORE = process.env.BENCH_EXPORT_BEFORE ? path.resolve(process.env.BENCH_EXPORT_BEFORE) : undefined;
const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// Same columns as osfleet's CSV for file_events, dates as UTC ISO 8601 with an explicit offset, the
// username joined per host from the same users file. jq quotes every field (@csv); the values match.
const JQ_PROGRAM =
  'def d: tonumber | strftime("%Y-%m-%dT%H:%M:%S+00:00"); ' +
  '($u | map({key: .host, value: (.rows | map({key: .uid, value: .username}) | from_entries)}) | from_entries) as $users | ' +
  '"host,action,atime,ctime,gid,mtime,size,target_path,time,uid,username", ' +
  '(inputs | .host as $h | .rows[] | [$h, .action, (.atime|d), (.ctime|d), .gid, (.mtime|d), .size, .target_path, (.time|d), .uid, ($users[$h][.uid] // "")] | @csv)';


function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function row(i, host) {
  const t = String(1598384396 + i);
  return {
    action: i % 3 === 0 ? 'CREATED' : 'UPDATED',
    atime: String(1598384396 + i - (i % 300)),
    ctime: t,
    gid: '20',
    host_display_name: host,
    host_hostname: host,
    mtime: String(1598384396 + i - (i % 5000) * 7),
    size: String((i * 7919) % 1000000),
    target_path: `/Volumes/KINGSTON/project-${i % 977}/report ${i}.xlsx`,
    time: t,
    uid: String(500 + (i % 4)),
  };
}

async function generate(dir, rows) {
  const input = join(dir, `results-${rows}.ndjson`);
  const out = createWriteStream(input);
  let i = 0;
  for (let r = 0; i < rows; r++) {
    const host = `host-${String(r % HOSTS).padStart(4, '0')}`;
    const batch = [];
    for (let k = 0; k < ROWS_PER_RESULT && i < rows; k++, i++) batch.push(row(i, host));
    if (!out.write(`${JSON.stringify({ host, rows: batch })}\n`)) await new Promise((ok) => out.once('drain', ok));
  }
  await new Promise((ok) => out.end(ok));
  const users = join(dir, 'users.ndjson');
  const lines = [];
  for (let h = 0; h < HOSTS; h++) {
    const host = `host-${String(h).padStart(4, '0')}`;
    lines.push(JSON.stringify({ host, rows: [0, 1, 2, 3].map((u) => ({ uid: String(500 + u), username: `user${u}-${h}` })) }));
  }
  writeFileSync(users, `${lines.join('\n')}\n`);
  return { input, users };
}

// --- children ------------------------------------------------------------------------------------

async function baseline(input, output) {
  const { lines } = await import('../dist/results/read.js');
  const out = createWriteStream(output);
  let rows = 0;
  for await (const [text] of lines(createReadStream(input, { highWaterMark: 1 << 16 }))) {
    if (text === '') continue;
    const r = JSON.parse(text);
    rows += r.rows.length;
    if (!out.write(`${JSON.stringify(r)}\n`)) await new Promise((ok) => out.once('drain', ok));
  }
  await new Promise((ok) => out.end(ok));
  return rows;
}

// A reference, not a baseline: only the lines read, to show how far peak RSS moves between the two
// sizes with no parsing and no output at all (V8's heap sizing over a longer run).
async function readOnly(input, output) {
  const { lines } = await import('../dist/results/read.js');
  let count = 0;
  for await (const [text] of lines(createReadStream(input, { highWaterMark: 1 << 20 }))) if (text !== '') count++;
  writeFileSync(output, `${count}\n`);
  return count;
}

async function exportCase(args, root = here) {
  const { main } = await import(pathToFileURL(join(root, 'dist/cli.js')).href);
  const { testIO } = await import(pathToFileURL(join(root, 'dist/io.js')).href);
  const io = testIO();
  const code = await main(['export', ...args], { io, env: {}, signal: new AbortController().signal });
  if (code !== 0) throw new Error(`export exited ${code}: ${io.stderrText()}`);
  return Number(/Wrote (\d+) row/.exec(io.stderrText())?.[1] ?? NaN);
}

async function child(kind, rows, input, users, output) {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  let n;
  // "before-csv": the same case through the build under BENCH_EXPORT_BEFORE.
  const root = kind.startsWith('before-') ? BEFORE : here;
  const k = kind.replace(/^before-/, '');
  if (k === 'baseline') n = await baseline(input, output);
  else if (k === 'read') n = (await readOnly(input, output)) * ROWS_PER_RESULT;
  else if (k === 'csv') n = await exportCase([input, '--users', users, '--table', 'file_events', '--tz', 'America/Los_Angeles', '-o', output], root);
  else if (k === 'csv-sql')
    n = await exportCase([input, '--users', users, '--sql', 'SELECT action, target_path, size, uid, time, atime, mtime, ctime FROM file_events', '--tz', 'America/Los_Angeles', '-o', output], root);
  else if (k === 'ndjson-enrich') n = await exportCase([input, '--users', users, '--table', 'file_events', '--format', 'ndjson', '--enrich', '-o', output], root);
  else throw new Error(kind);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(c0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  if (n !== rows) throw new Error(`${kind}: ${n} rows out of ${rows}`);
  process.stdout.write(JSON.stringify({ kind, rows: n, seconds, cpuSeconds, maxRssMiB: process.resourceUsage().maxRSS / 1024, bytes: statSync(output).size }) + '\n');
}

if (process.argv[2] === '--child') {
  const [, , , kind, rows, input, users, output] = process.argv;
  await child(kind, Number(rows), input, users, output);
} else {
  const sizes = (process.env.BENCH_ROWS ?? '100000,1000000').split(',').map(Number);
  const ours = ['csv', 'csv-sql', 'ndjson-enrich'];
  const kinds = ['baseline', 'read', ...ours, ...(BEFORE ? ours.map((k) => `before-${k}`) : [])];
  const exports = kinds.filter((k) => k !== 'baseline' && k !== 'read');
  const dir = mkdtempSync(join(tmpdir(), 'osfleet-bench-export-'));
  const results = {};
  try {
    for (const rows of sizes) {
      const { input, users } = await generate(dir, rows);
      // The machine is shared and GC timing varies: every case runs REPEAT times, interleaved with
      // the others, and its figures are the medians (time and peak RSS separately).
      const runs = {};
      for (let rep = 0; rep < REPEAT; rep++) {
        for (const kind of kinds) {
          const output = join(dir, `out-${kind}-${rows}`);
          // --trace-gc: the heap still live after each full GC is the memory the data really holds;
          // peak RSS adds what V8 lets the heap grow to between collections.
          const p = spawnSync(process.execPath, ['--trace-gc', self, '--child', kind, String(rows), input, users, output], {
            encoding: 'utf8',
            maxBuffer: 64 << 20,
          });
          if (p.status !== 0) throw new Error(`${kind} ${rows}: ${p.stderr}`);
          const out = p.stdout.trim().split('\n');
          const live = [...p.stdout.matchAll(/Mark-Compact[^>]*-> ([0-9.]+) \(/g)].map((m) => Number(m[1]));
          const line = out.find((l) => l.startsWith('{"kind"'));
          (runs[kind] ??= []).push({ ...JSON.parse(line), liveAfterGcMiB: live.length ? Math.max(...live) : NaN });
          rmSync(output, { force: true });
        }
      }
      for (const kind of kinds) {
        const rs = runs[kind];
        results[`${kind}_${rows}`] = {
          ...rs[0],
          seconds: median(rs.map((r) => r.seconds)),
          cpuSeconds: median(rs.map((r) => r.cpuSeconds)),
          maxRssMiB: median(rs.map((r) => r.maxRssMiB)),
          liveAfterGcMiB: Math.max(...rs.map((r) => r.liveAfterGcMiB)),
        };
      }
      for (const kind of kinds) {
        const r = results[`${kind}_${rows}`];
        console.log(`${kind} ${rows} rows/s: ${Math.round(rows / r.seconds)}`);
        console.log(`${kind} ${rows} rows/cpu-s: ${Math.round(rows / r.cpuSeconds)}`);
        console.log(`${kind} ${rows} peak RSS MiB: ${r.maxRssMiB.toFixed(1)}`);
        console.log(`${kind} ${rows} max live heap after a full GC MiB: ${r.liveAfterGcMiB.toFixed(1)}`);
      }
      rmSync(input, { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const big = Math.max(...sizes);
  const small = Math.min(...sizes);
  const summary = { bench: 'export', rows: sizes, hosts: HOSTS, rows_per_result: ROWS_PER_RESULT, repeat: REPEAT, statistic: 'median', cores: os.cpus().length, load_average: os.loadavg().map((x) => +x.toFixed(2)), before: BEFORE ?? null };
  for (const kind of exports) {
    const ratio = results[`baseline_${big}`].seconds / results[`${kind}_${big}`].seconds;
    // CPU time says the same with less noise from other processes on a shared machine (it also
    // counts GC helper threads, which only makes it stricter on the export).
    const cpuRatio = results[`baseline_${big}`].cpuSeconds / results[`${kind}_${big}`].cpuSeconds;
    const rss = results[`${kind}_${big}`].maxRssMiB / results[`${kind}_${small}`].maxRssMiB;
    console.log(`${kind} throughput vs baseline (${big} rows, wall clock): ${ratio.toFixed(2)}`);
    console.log(`${kind} throughput vs baseline (${big} rows, CPU time): ${cpuRatio.toFixed(2)}`);
    console.log(`${kind} peak RSS ${big} / ${small} rows: ${rss.toFixed(2)}`);
    summary[kind] = { throughput_vs_baseline: +ratio.toFixed(3), cpu_throughput_vs_baseline: +cpuRatio.toFixed(3), rss_ratio: +rss.toFixed(3) };
  }
  for (const [k, r] of Object.entries(results)) {
    summary[k] = {
      rows_per_s: Math.round(r.rows / r.seconds),
      rows_per_cpu_s: Math.round(r.rows / r.cpuSeconds),
      peak_rss_mib: +r.maxRssMiB.toFixed(1),
      live_heap_after_gc_mib: +r.liveAfterGcMiB.toFixed(1),
    };
  }
  // The summary line bench/run.js collects: each figure against the baseline of the same run.
  const figures = [];
  for (const kind of exports) {
    const r = results[`${kind}_${big}`];
    const b = results[`baseline_${big}`];
    figures.push(figure(`${kind} throughput, ${big} rows`, big / r.seconds, big / b.seconds, 'rows/s', atLeast(0.5)));
    figures.push(figure(`${kind} peak RSS ${big} vs ${small} rows`, r.maxRssMiB, results[`${kind}_${small}`].maxRssMiB, 'MiB', atMost(1.25)));
    // Issue 19.3: a fixed ceiling, whatever the size (the largest size measured, against the ceiling).
    const peak = Math.max(...sizes.map((n) => results[`${kind}_${n}`].maxRssMiB));
    figures.push(figure(`${kind} peak RSS at any size (largest of ${sizes.join(', ')} rows) vs the ${CEILING_MIB} MiB ceiling`, peak, CEILING_MIB, 'MiB', atMost(1)));
  }
  // No target: how much peak RSS moves between the sizes for the baseline and for reading alone.
  for (const kind of ['baseline', 'read']) {
    figures.push(figure(`${kind === 'read' ? 'reading the lines alone' : 'baseline'}: peak RSS ${big} vs ${small} rows`, results[`${kind}_${big}`].maxRssMiB, results[`${kind}_${small}`].maxRssMiB, 'MiB'));
  }
  const jq = await jqComparison();
  if (jq) {
    for (const who of ['osfleet', ...(BEFORE ? ['before'] : [])]) {
      const tag = who === 'before' ? 'before: ' : '';
      figures.push(figure(`${tag}CSV with UTC dates, ${JQ_ROWS} rows: time vs jq (whole processes)`, jq[who].seconds, jq.jq.seconds, 's', atMost(0.5)));
      figures.push(figure(`${tag}CSV with UTC dates, ${JQ_ROWS} rows: peak RSS vs jq (whole processes)`, jq[who].rssMiB, jq.jq.rssMiB, 'MiB'));
      figures.push(figure(`${tag}CSV with UTC dates, ${JQ_ROWS} rows: peak RSS vs the ${CEILING_MIB} MiB ceiling`, jq[who].rssMiB, CEILING_MIB, 'MiB', atMost(1)));
    }
    summary.jq = jq;
  }
  report('export', figures, { details: summary });
}

// --- the outside reference: the same CSV job in jq ---------------------------------------------------

/** Runs a command as a whole process under GNU time when present: wall seconds and peak RSS. */
function wholeProcess(cmd, args, output) {
  const gnuTime = spawnSync('/usr/bin/time', ['-f', '%e', 'true']).status === 0;
  const t0 = process.hrtime.bigint();
  const p = gnuTime
    ? spawnSync('/usr/bin/time', ['-f', '__bench %e %M', 'sh', '-c', 'exec "$0" "$@" > "$OUT"', cmd, ...args], { encoding: 'utf8', env: { ...process.env, OUT: output, TZ: 'UTC' } })
    : spawnSync('sh', ['-c', 'exec "$0" "$@" > "$OUT"', cmd, ...args], { encoding: 'utf8', env: { ...process.env, OUT: output, TZ: 'UTC' } });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (p.status !== 0) throw new Error(`${cmd} exited ${p.status}: ${p.stderr}`);
  const m = /__bench ([0-9.]+) (\d+)/.exec(p.stderr ?? '');
  return { seconds, rssMiB: m ? Number(m[2]) / 1024 : NaN };
}

async function jqComparison() {
  if (spawnSync('jq', ['--version']).status !== 0) {
    console.log('jq comparison skipped: jq is not installed (Debian/Ubuntu: apt-get install jq)');
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), 'osfleet-bench-jq-'));
  try {
    const { input, users } = await generate(dir, JQ_ROWS);
    const bin = fileURLToPath(new URL('../bin/osfleet.js', import.meta.url));
    const runs = { osfleet: [], jq: [], ...(BEFORE ? { before: [] } : {}) };
    const exportArgs = [input, '--users', users, '--table', 'file_events', '--tz', 'UTC', '--format', 'csv'];
    for (let rep = 0; rep < REPEAT; rep++) {
      const o = join(dir, 'osfleet.csv');
      // -o - is not used: both write to standard output, redirected to a file by the shell.
      runs.osfleet.push(wholeProcess(process.execPath, [bin, 'export', ...exportArgs], o));
      if (BEFORE) runs.before.push(wholeProcess(process.execPath, [join(BEFORE, 'bin/osfleet.js'), 'export', ...exportArgs], join(dir, 'before.csv')));
      const j = join(dir, 'jq.csv');
      runs.jq.push(wholeProcess('jq', ['-rn', '--slurpfile', 'u', users, JQ_PROGRAM, input], j));
      const lines = (f) => spawnSync('wc', ['-l', f], { encoding: 'utf8' }).stdout.trim().split(/\s+/)[0];
      if (lines(o) !== lines(j)) throw new Error(`osfleet wrote ${lines(o)} lines, jq ${lines(j)}`);
    }
    const med = (k) => ({ seconds: median(runs[k].map((r) => r.seconds)), rssMiB: median(runs[k].map((r) => r.rssMiB)) });
    const res = { rows: JQ_ROWS, osfleet: med('osfleet'), jq: med('jq'), ...(BEFORE ? { before: med('before') } : {}) };
    console.log(`CSV with UTC dates, ${JQ_ROWS} rows: osfleet ${res.osfleet.seconds.toFixed(2)} s, ${res.osfleet.rssMiB.toFixed(1)} MiB; jq ${res.jq.seconds.toFixed(2)} s, ${res.jq.rssMiB.toFixed(1)} MiB; osfleet ${(res.jq.seconds / res.osfleet.seconds).toFixed(2)}× faster`);
    if (res.before) console.log(`CSV with UTC dates, ${JQ_ROWS} rows: before ${res.before.seconds.toFixed(2)} s, ${res.before.rssMiB.toFixed(1)} MiB`);
    return res;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
