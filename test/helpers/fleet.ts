/**
 * A sandbox set up for CLI runs: the sandbox helper's `startTestSandbox` (setup and login over plain
 * HTTP, not osfleet's client) plus an isolated HOME and FLEET_URL/FLEET_API_TOKEN for the child.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Sandbox, SandboxOptions } from '../../src/sandbox/index.js';
import { repoRoot, scratchHome } from './cli.js';
import { startTestSandbox } from './sandbox.js';

export { ADMIN } from './sandbox.js';

/** A self-signed certificate for 127.0.0.1 that is its own CA (test/fixtures/tls/README.md). */
export const TEST_CA_PATH = path.join(repoRoot, 'test/fixtures/tls/cert.pem');
export const TEST_TLS = { key: readFileSync(path.join(repoRoot, 'test/fixtures/tls/key.pem')), cert: readFileSync(TEST_CA_PATH) };

export interface CliFleet {
  sandbox: Sandbox;
  url: string;
  token: string;
  /** Environment for runCli: isolated HOME plus FLEET_URL / FLEET_API_TOKEN. */
  env: Record<string, string>;
  home: string;
  stop(): Promise<void>;
}

export async function startCliFleet(opts: SandboxOptions = {}): Promise<CliFleet> {
  // Hosts check in every 250 ms: a live query reaches them within a quarter second, and an idle
  // sandbox costs ~2.4% of a core instead of ~6.6% at 100 ms (measured; ~3 are alive at a time).
  const t = await startTestSandbox({ port: 0, seed: 1, checkInMs: 250, ...opts });
  const home = scratchHome();
  return {
    sandbox: t.sandbox,
    url: t.url,
    token: t.admin.token,
    home: home.home,
    env: { ...home.env, FLEET_URL: t.url, FLEET_API_TOKEN: t.admin.token },
    async stop() {
      await t.stop();
      home.cleanup();
    },
  };
}
