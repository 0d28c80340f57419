/**
 * Deadlines (issue 16.4): a server that accepts and never answers, and one that sends its body a
 * byte at a time, for get, apply, query and login. Each ends with exit 5 within --timeout + 2 s,
 * the bound the issue sets (the only timed assertion). OSFLEET_TIMEOUT does the same for cron, and
 * without any flag the per-request deadline (OSFLEET_HTTP_TIMEOUT, default 60 s) ends a trickle.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { collect, repoRoot, scratchHome, startCli } from '../helpers/cli.js';

type Mode = 'silent' | 'trickle';

/** When the last connection came: the command is surely running then (node's start-up is not counted). */
let lastConnection = 0;

/** A raw TCP server: `silent` reads and never answers; `trickle` sends headers, then a byte every 200 ms. */
async function misbehave(mode: Mode): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    if (lastConnection === 0) lastConnection = performance.now();
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    if (mode === 'trickle') {
      s.once('data', () => {
        s.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000000\r\n\r\n{');
        const t = setInterval(() => s.write(' '), 200);
        s.on('close', () => clearInterval(t));
      });
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

const COMMANDS: Array<[string, string[], string | undefined]> = [
  ['get', ['get', 'hosts'], undefined],
  ['apply', ['apply', '-f', path.join(repoRoot, 'packs/data-leak'), '--yes'], undefined],
  ['query', ['query', '--all', '--query', 'SELECT 1'], undefined],
  ['login', ['login', '--email', 'a@example.com', '--password-stdin'], 'Pa55word!\n'],
];

const home = scratchHome();
const servers: Record<Mode, { url: string; close(): Promise<void> }> = {} as never;
beforeAll(async () => {
  servers.silent = await misbehave('silent');
  servers.trickle = await misbehave('trickle');
});
afterAll(async () => {
  await Promise.all(Object.values(servers).map((s) => s?.close()));
  home.cleanup();
});

/**
 * Runs the CLI; `elapsedMs` counts from its first connection to its exit (on a loaded machine node's
 * own start-up can take a second, which is not the command's doing). The deadline starts before
 * that connection, so this under-counts nothing the command controls.
 */
async function timed(args: string[], env: Record<string, string>, stdin?: string) {
  lastConnection = 0;
  const r = await collect(startCli(args, { env: { ...home.env, ...env } }), { ...(stdin !== undefined ? { stdin } : {}), timeoutMs: 30_000 });
  return { ...r, elapsedMs: lastConnection ? performance.now() - lastConnection : Number.NaN };
}

describe.each(['silent', 'trickle'] as const)('a %s server', (mode) => {
  it.each(COMMANDS)('%s --timeout 1s: exit 5 within --timeout + 2 s', async (_name, args, stdin) => {
    const r = await timed([...args, '--timeout', '1s'], { FLEET_URL: servers[mode].url, FLEET_API_TOKEN: 'tok' }, stdin);
    expect(r.stderr).toContain('gave up after 1s (--timeout)');
    expect(r.code, r.stderr).toBe(5);
    expect(r.elapsedMs).toBeLessThan(1000 + 2000);
  });
});

it('OSFLEET_TIMEOUT bounds a command run without the flag (cron)', async () => {
  const r = await timed(['whoami'], { FLEET_URL: servers.silent.url, FLEET_API_TOKEN: 'tok', OSFLEET_TIMEOUT: '1s' });
  expect(r.code).toBe(5);
  expect(r.stderr).toContain('gave up after 1s (OSFLEET_TIMEOUT)');
  expect(r.elapsedMs).toBeLessThan(1000 + 2000);
});

it('without --timeout, the per-request deadline ends a trickling body (exit 5, names the request)', async () => {
  const r = await timed(['get', 'hosts'], { FLEET_URL: servers.trickle.url, FLEET_API_TOKEN: 'tok', OSFLEET_HTTP_TIMEOUT: '1s' });
  expect(r.code, r.stderr).toBe(5);
  expect(r.stderr).toMatch(/sent no complete answer to GET \/version within 2 s/);
});

it('help exit-codes lists the deadline code', async () => {
  const r = await timed(['help', 'exit-codes'], {});
  expect(r.stdout).toMatch(/^\s+5\s+deadline passed/m);
});
