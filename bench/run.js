// `npm run bench`: runs every benchmark (each in its own process), then prints one summary table.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';

const here = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const order = ['startup', 'hosts', 'apply', 'query', 'export', 'sql-analyser', 'sandbox-scale'];
const available = readdirSync(here)
  .filter((f) => f.endsWith('.js') && !['run.js', 'lib.js'].includes(f))
  .map((f) => f.replace(/\.js$/, ''));
const benches = order.filter((b) => available.includes(b) && (only.length === 0 || only.includes(b)));

// The machine's state: ratios are measured side by side, but a loaded machine widens their spread.
const loadAtStart = os.loadavg();
const results = [];
for (const bench of benches) {
  console.log(`\n=== bench/${bench} ===`);
  const lines = [];
  const code = await new Promise((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', path.join(here, `${bench}.js`)], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.setEncoding('utf8');
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        lines.push(line);
        if (!line.startsWith('{"bench"')) console.log(line);
      }
    });
    child.on('exit', resolve);
  });
  const json = lines.reverse().find((l) => l.startsWith('{"bench"'));
  if (code !== 0 || !json) {
    results.push({ bench, figures: [{ name: '(failed)', value: null, baseline: null, unit: '', ratio: null, target: null, met: false }] });
    continue;
  }
  const parsed = JSON.parse(json);
  results.push(Array.isArray(parsed.figures) ? parsed : { bench, figures: [] });
}

const rows = [['benchmark', 'figure', 'value', 'baseline', 'ratio', 'target', '']];
for (const r of results) {
  for (const f of r.figures) {
    rows.push([r.bench, f.name, f.value === null ? '-' : `${f.value} ${f.unit}`, f.baseline === null ? '-' : `${f.baseline} ${f.unit}`, f.ratio === null ? '-' : `${f.ratio}×`, f.target ?? '-', f.met === null ? '' : f.met ? 'met' : 'MISSED']);
  }
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => String(row[i]).length)));
const loadText = (l) => l.map((x) => x.toFixed(2)).join(' ');
console.log(`\nSummary (${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}, ${new Date().toISOString()}; load average ${loadText(loadAtStart)} at the start, ${loadText(os.loadavg())} at the end)`);
for (const [i, row] of rows.entries()) {
  console.log(row.map((c, j) => String(c).padEnd(widths[j])).join('  ').trimEnd());
  if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
}
const missed = results.flatMap((r) => r.figures).filter((f) => f.met === false).length;
console.log(`\n${missed === 0 ? 'All targets met.' : `${missed} target(s) missed.`}`);
