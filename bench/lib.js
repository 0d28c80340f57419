// Shared helpers for the benchmarks: timing child processes, medians, peak RSS, result lines.
import { spawn } from 'node:child_process';

export const node = process.execPath;

/** Runs a command to completion; resolves with wall time (ms), exit code, peak RSS (KiB) of the child. */
export function timeRun(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ['ignore', opts.stdout ?? 'ignore', opts.stderr ?? 'ignore'], env: opts.env ?? process.env, cwd: opts.cwd });
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      resolve({ ms, code });
    });
  });
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * Interleaves the runs of several commands (so machine noise hits all of them alike) and returns
 * each one's median wall time.
 */
export async function compareCommands(commands, rounds) {
  const times = commands.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < commands.length; i++) {
      const [cmd, args, opts] = commands[i];
      const { ms, code } = await timeRun(cmd, args, opts);
      if (code !== 0) throw new Error(`benchmark command failed (exit ${code}): ${cmd} ${args.join(' ')}`);
      times[i].push(ms);
    }
  }
  return times.map(median);
}

/**
 * A figure: `value` measured, `baseline` measured in the same run, ratio = value / baseline, and the
 * target as a predicate over the ratio with its text (e.g. "≤ 1.3×").
 */
export function figure(name, value, baseline, unit, target) {
  const ratio = baseline ? value / baseline : undefined;
  const met = target && ratio !== undefined ? target.test(ratio) : undefined;
  return { name, value: round(value), baseline: baseline === undefined ? null : round(baseline), unit, ratio: ratio === undefined ? null : round(ratio, 3), target: target?.text ?? null, met: met ?? null };
}

export const atMost = (x) => ({ text: `≤ ${x}×`, test: (r) => r <= x });
export const atLeast = (x) => ({ text: `≥ ${x}×`, test: (r) => r >= x });

function round(v, digits = 1) {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** Prints the human lines and the one JSON line bench/run.js collects. */
export function report(bench, figures, extra = {}) {
  for (const f of figures) {
    const ratio = f.ratio === null ? '' : `  ratio ${f.ratio}${f.target ? ` (target ${f.target}: ${f.met ? 'met' : 'MISSED'})` : ''}`;
    console.log(`${bench} · ${f.name}: ${f.value} ${f.unit}${f.baseline === null ? '' : ` vs baseline ${f.baseline} ${f.unit}`}${ratio}`);
  }
  console.log(JSON.stringify({ bench, figures, ...extra }));
}
