/** `osfleet preview`: foreground until Ctrl-C, and --detach with status/stop, through the built CLI. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { collect, runCli, scratchHome, startCli } from './helpers/cli.js';

let home: ReturnType<typeof scratchHome>;
// What a failing test could leave running: the foreground child, and a detached sandbox.
let foreground: ChildProcess | undefined;
let detachedData: string | undefined;
beforeAll(() => {
  home = scratchHome();
});
afterAll(async () => {
  if (foreground && foreground.exitCode === null && foreground.signalCode === null) foreground.kill('SIGKILL');
  if (detachedData) await runCli(['preview', 'stop', '--data', detachedData], { env: home.env });
  home.cleanup();
});

describe('osfleet preview', () => {
  it('foreground: sets up, saves a current preview context, answers queries, stops on Ctrl-C', async () => {
    const child = startCli(['preview', '--port', '0', '--dialect', 'kolide', '--check-in', '100'], { env: home.env });
    foreground = child;
    let err = '';
    const ready = new Promise<void>((resolve, reject) => {
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        if (err.includes('Press Ctrl-C to stop.')) resolve();
      });
      child.on('exit', () => reject(new Error(`preview exited early:\n${err}`)));
    });
    const done = collect(child);
    await ready;
    expect(err).toContain('Context "preview" saved');
    expect(err).toContain('and made current'); // no other context existed
    const cfg = readFileSync(home.configPath, 'utf8');
    expect(cfg).toContain('current-context: preview');
    expect(statSync(home.configPath).mode & 0o777).toBe(0o600);

    // The saved context works as it is: no flags, no environment.
    const q = await runCli(['query', '--labels', 'Mac OS X', '--query', 'SELECT title FROM cups_jobs WHERE creation_time = 1598384396'], { env: home.env });
    expect(q.code).toBe(0);
    const lines = q.stdout.trim().split('\n').map((l) => JSON.parse(l) as { host: string; rows: unknown[] });
    expect(lines.find((l) => l.host === 'jim-macbook-1014')).toEqual({ host: 'jim-macbook-1014', rows: [{ host_hostname: 'jim-macbook-1014', title: 'Financial Data – Confidential.pdf' }] });
    expect(lines.find((l) => l.host === 'pam-macbook-1015')?.rows).toEqual([]);

    child.kill('SIGINT');
    const r = await done;
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Stopping the sandbox');
  });

  it('--detach runs in the background with status and stop; data survives a restart', async () => {
    const data = path.join(home.home, 'preview-data');
    detachedData = data;
    const start = await runCli(['preview', '--detach', '--port', '0', '--data', data, '--check-in', '100'], { env: home.env });
    expect(start.code).toBe(0);
    expect(start.stderr).toContain('Running in the background');
    expect((await runCli(['preview', 'status', '--data', data], { env: home.env })).stdout).toMatch(/^running at http:\/\/127\.0\.0\.1:\d+ \(pid \d+/);
    const who = await runCli(['--context', 'preview', 'whoami'], { env: home.env });
    expect(who.stdout).toContain('admin@osfleet.local');
    expect(existsSync(path.join(data, 'admin.json'))).toBe(true);
    expect(statSync(path.join(data, 'admin.json')).mode & 0o777).toBe(0o600);

    const stop = await runCli(['preview', 'stop', '--data', data], { env: home.env });
    expect(stop.code).toBe(0);
    expect((await runCli(['preview', 'status', '--data', data], { env: home.env })).stdout).toBe('not running\n');

    // Same data again: no second setup, the stored admin logs in.
    const again = await runCli(['preview', '--detach', '--port', '0', '--data', data, '--check-in', '100'], { env: home.env });
    expect(again.code).toBe(0);
    const who2 = await runCli(['--context', 'preview', 'whoami'], { env: home.env });
    expect(who2.code).toBe(0);
    expect((await runCli(['preview', 'stop', '--data', data], { env: home.env })).code).toBe(0);
  });
});
