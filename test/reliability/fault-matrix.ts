/**
 * The fault matrix (issue 7): `get hosts`, `apply`, `query` and `login`, each under each fault the
 * sandbox injects, run end to end through the built CLI. The table below is the specification:
 * what each command must do under each fault. Requests are counted on the server (not from --debug),
 * so the error output checked is exactly what a cron job would log.
 *
 * Idempotent requests (GET, and spec POSTs, which replace the named objects) are retried with capped
 * backoff and recover from a burst; non-idempotent ones (creating a campaign, logging in) are sent
 * once unless the server said 429 (not processed), and then fail with one line and exit 1. Output
 * files are complete or absent; the config file is written only by a login that succeeded.
 *
 * Cells covered by other suites are listed with where, and not run twice.
 *
 * One test file per part (fault-matrix-fleet, -kolide, -more), so that the parts, which mostly wait
 * on backoff and timeouts, run beside other files instead of one after another.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { IncomingMessage } from 'node:http';
import type { FaultPlan, FaultRule } from '../../src/sandbox/index.js';
import { binPath, childEnv, collect, runCli, scratchHome, type CliResult } from '../helpers/cli.js';
import { ADMIN, startCliFleet, type CliFleet } from '../helpers/fleet.js';

type Cmd = 'get hosts' | 'apply' | 'query' | 'login';
type Fault = '500 ×2' | '502 ×2' | '503 ×2' | '429 Retry-After: 1' | '429 Retry-After: 60' | 'reset mid-body' | 'no answer' | 'malformed JSON' | 'proxy HTML page' | '503 forever';

interface Expect {
  code: number;
  /** Requests the faulted endpoint received: the retries, or the proof of no replay. */
  attempts: number;
  /** For failures: the one error line. */
  error?: RegExp;
}

/**
 * The matrix. Fault rules hit: GET /hosts (get hosts), POST /spec/packs (apply, third of its three
 * kinds), POST /queries/run* (query: the campaign), POST /login (login).
 */
const MATRIX: Array<[Cmd, Fault, Expect]> = [
  ['get hosts', '500 ×2', { code: 0, attempts: 3 }],
  ['get hosts', '502 ×2', { code: 0, attempts: 3 }],
  ['get hosts', '503 ×2', { code: 0, attempts: 3 }],
  ['get hosts', '429 Retry-After: 1', { code: 0, attempts: 2 }],
  // Longer than the 30 s osfleet waits at most: it gives up at once, saying why, instead of hanging a cron job.
  ['get hosts', '429 Retry-After: 60', { code: 1, attempts: 1, error: /^Error: GET \/api\/v1\/\w+\/hosts: 429 Too many requests: rate limit exceeded$/ }],
  ['get hosts', 'reset mid-body', { code: 0, attempts: 2 }],
  ['get hosts', 'no answer', { code: 0, attempts: 2 }],
  ['get hosts', 'malformed JSON', { code: 0, attempts: 2 }],
  ['get hosts', 'proxy HTML page', { code: 0, attempts: 2 }],
  ['get hosts', '503 forever', { code: 1, attempts: 4, error: /^Error: GET \/api\/v1\/\w+\/hosts: 503 Service Unavailable$/ }],

  ['apply', '500 ×2', { code: 0, attempts: 3 }],
  ['apply', '502 ×2', { code: 0, attempts: 3 }],
  ['apply', '503 ×2', { code: 0, attempts: 3 }],
  ['apply', '429 Retry-After: 1', { code: 0, attempts: 2 }],
  ['apply', 'reset mid-body', { code: 0, attempts: 2 }],
  ['apply', 'no answer', { code: 0, attempts: 2 }],
  ['apply', 'malformed JSON', { code: 0, attempts: 2 }],
  ['apply', 'proxy HTML page', { code: 0, attempts: 2 }],
  ['apply', '503 forever', { code: 1, attempts: 4, error: /^Error: applying packs failed \(applied: queries, labels; not applied: packs\): POST \/api\/v1\/\w+\/spec\/packs: 503 Service Unavailable$/ }],

  ['query', '500 ×2', { code: 1, attempts: 1, error: /^Error: POST \/api\/v1\/\w+\/queries\/run_by_\w+: 500 (Unknown Error: )?injected fault$/ }],
  ['query', '502 ×2', { code: 1, attempts: 1, error: /^Error: POST \/api\/v1\/\w+\/queries\/run_by_\w+: 502 Bad Gateway$/ }],
  ['query', '503 ×2', { code: 1, attempts: 1, error: /^Error: POST \/api\/v1\/\w+\/queries\/run_by_\w+: 503 Service Unavailable$/ }],
  ['query', '429 Retry-After: 1', { code: 0, attempts: 2 }],
  ['query', 'reset mid-body', { code: 1, attempts: 1, error: /^Error: the connection to http:\/\/127\.0\.0\.1:\d+ was cut/ }],
  ['query', 'no answer', { code: 1, attempts: 1, error: /^Error: http:\/\/127\.0\.0\.1:\d+ stopped answering/ }],
  ['query', 'malformed JSON', { code: 1, attempts: 1, error: /^Error: POST \/api\/v1\/\w+\/queries\/run_by_\w+: 200 malformed JSON in the response/ }],
  ['query', 'proxy HTML page', { code: 1, attempts: 1, error: /^Error: POST \/api\/v1\/\w+\/queries\/run_by_\w+: 502 an HTML page \("502 Bad Gateway"\) instead of JSON/ }],
  ['query', '503 forever', { code: 1, attempts: 1, error: /^Error: POST \/api\/v1\/\w+\/queries\/run_by_\w+: 503 Service Unavailable$/ }],

  ['login', '500 ×2', { code: 1, attempts: 1, error: /^Error: POST \/api\/v1\/\w+\/login: 500 (Unknown Error: )?injected fault$/ }],
  ['login', '502 ×2', { code: 1, attempts: 1, error: /^Error: POST \/api\/v1\/\w+\/login: 502 Bad Gateway$/ }],
  ['login', '503 ×2', { code: 1, attempts: 1, error: /^Error: POST \/api\/v1\/\w+\/login: 503 Service Unavailable$/ }],
  ['login', '429 Retry-After: 1', { code: 0, attempts: 2 }],
  ['login', '429 Retry-After: 60', { code: 1, attempts: 1, error: /^Error: POST \/api\/v1\/\w+\/login: 429 Too many requests: rate limit exceeded$/ }],
  ['login', 'reset mid-body', { code: 1, attempts: 1, error: /^Error: the connection to http:\/\/127\.0\.0\.1:\d+ was cut/ }],
  ['login', 'no answer', { code: 1, attempts: 1, error: /^Error: http:\/\/127\.0\.0\.1:\d+ stopped answering/ }],
  ['login', 'malformed JSON', { code: 1, attempts: 1, error: /^Error: POST \/api\/v1\/\w+\/login: 200 malformed JSON in the response/ }],
  ['login', 'proxy HTML page', { code: 1, attempts: 1, error: /^Error: POST \/api\/v1\/\w+\/login: 502 an HTML page \("502 Bad Gateway"\) instead of JSON/ }],
  ['login', '503 forever', { code: 1, attempts: 1, error: /^Error: POST \/api\/v1\/\w+\/login: 503 Service Unavailable$/ }],
];

/** Query-only faults, and cells other suites already run (not repeated here). */
const ELSEWHERE: Array<[Cmd, string, string]> = [
  ['query', 'websocket closed after 3 messages, once', 'test/query-e2e.test.ts › a websocket dropped mid-campaign loses and duplicates no host'],
  ['query', 'websocket upgrade refused (proxy)', 'test/query-e2e.test.ts › a blocked websocket: REST fallback on FleetDM, a clear error on Kolide'],
  ['query', 'TLS without the CA', 'test/query-e2e.test.ts › TLS with a custom CA, on REST and websocket alike'],
  ['get hosts', 'connection refused', 'test/cli-e2e.test.ts › unreachable server → 1, one line naming it'],
  ['login', 'redirect to another origin', 'test/api-client.test.ts › never follows a redirect; test/reliability/secrets.test.ts'],
];

const RULE: Record<Fault, Omit<FaultRule, 'match'>> = {
  '500 ×2': { fault: '500', count: 2 },
  '502 ×2': { fault: '502', count: 2 },
  '503 ×2': { fault: '503', count: 2 },
  '429 Retry-After: 1': { fault: '429', count: 1, retryAfter: 1 },
  '429 Retry-After: 60': { fault: '429', count: 1, retryAfter: 60 },
  'reset mid-body': { fault: 'reset', count: 1 },
  'no answer': { fault: 'hang', count: 1 },
  'malformed JSON': { fault: 'malformed-json', count: 1 },
  'proxy HTML page': { fault: 'html', count: 1 },
  '503 forever': { fault: '503' },
};

const tally = { run: 0, passed: 0 };
const figures: string[] = [];
let resultsLost = 0;
let resultsDuplicated = 0;

afterAll(() => {
  console.log(
    `[fault matrix] ${tally.run} cases run, ${tally.passed} passed; ${ELSEWHERE.length} more cells covered by other suites; results lost: ${resultsLost}, duplicated: ${resultsDuplicated}${figures.length ? `\n  ${figures.join('\n  ')}` : ''}`,
  );
});

/** Counts a case, and counts it passed only when its body did not throw. */
async function cell(body: () => Promise<void>): Promise<void> {
  tally.run++;
  await body();
  tally.passed++;
}

interface Seen {
  method: string;
  path: string;
  at: number;
}

function watch(fleet: CliFleet): Seen[] {
  const seen: Seen[] = [];
  fleet.sandbox.server.server.on('request', (req: IncomingMessage) => {
    seen.push({ method: req.method ?? '', path: new URL(req.url ?? '/', 'http://x').pathname, at: performance.now() });
  });
  return seen;
}

/** Error lines of a failed run: exactly one `Error:` line, maybe a `Hint:`, never a stack. */
function errorLine(r: CliResult): string {
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('Error: '));
  expect(lines, r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stderr).not.toContain('unexpected failure');
  return lines[0]!;
}

const HOSTS = ['centos-fileserver', 'dwight-win10', 'jim-macbook-1014', 'pam-macbook-1015'];

/** Every expected host exactly once; counts what was lost or duplicated for the closing figures. */
function countLoss(expected: string[], got: string[]): void {
  const missing = expected.filter((h) => !got.includes(h));
  const dups = got.length - new Set(got).size;
  resultsLost += missing.length;
  resultsDuplicated += dups;
  expect([...got].sort()).toEqual([...expected].sort());
}

/** The matrix and the websocket cells against one server generation. */
export function faultMatrix(dialect: 'fleet' | 'kolide'): void {
  describe(`fault matrix against the ${dialect} sandbox`, () => {
    matrixCells(dialect);
  });
}

function matrixCells(dialect: 'fleet' | 'kolide'): void {
  let fleet: CliFleet;
  let seen: Seen[];
  let dir: string;
  const prefix = dialect === 'kolide' ? '/api/v1/kolide' : '/api/v1/fleet';
  beforeAll(async () => {
    // The paths and messages below are the queries/teams naming (FleetDM before 4.82).
    fleet = await startCliFleet({ dialect, ...(dialect === 'fleet' ? { version: '4.60.0' } : {}) });
    seen = watch(fleet);
    dir = mkdtempSync(path.join(tmpdir(), 'osfleet-matrix-'));
  });
  afterAll(async () => {
    await fleet?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const target: Record<Cmd, { method: string; path: string }> = {
    'get hosts': { method: 'GET', path: `${prefix}/hosts` },
    apply: { method: 'POST', path: `${prefix}/spec/packs` },
    query: { method: 'POST', path: `${prefix}/queries/run` },
    login: { method: 'POST', path: `${prefix}/login` },
  };

  it.each(MATRIX)('%s under %s', (cmd, fault, want) =>
    cell(async () => {
      const id = `${cmd}-${fault}`.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
      const work = path.join(dir, id);
      const run = prepare(cmd, id, work);
      const plan: FaultPlan = { seed: 7, rules: [{ match: target[cmd], ...RULE[fault] }] };
      seen.length = 0;
      fleet.sandbox.setFaults(plan);
      let r: CliResult;
      try {
        r = await runCli(run.args, { env: { ...run.env, ...(fault === 'no answer' ? { OSFLEET_HTTP_TIMEOUT: '1s' } : {}) }, ...(run.stdin !== undefined ? { stdin: run.stdin } : {}), timeoutMs: 60_000 });
      } finally {
        fleet.sandbox.setFaults({});
      }
      const hits = seen.filter((s) => s.method === target[cmd].method && s.path.startsWith(target[cmd].path));
      expect({ code: r.code, attempts: hits.length }, r.stderr).toEqual({ code: want.code, attempts: want.attempts });
      if (fault === '503 forever' && want.attempts > 1) {
        // Capped, growing backoff: each wait within [half, all] of min(4 s, 250 ms × 2^n), plus slack.
        const gaps = hits.slice(1).map((h, i) => h.at - hits[i]!.at);
        gaps.forEach((g, n) => expect(g).toBeGreaterThanOrEqual(Math.min(4000, 250 * 2 ** n) / 2 - 20));
        gaps.forEach((g, n) => expect(g).toBeLessThan(Math.min(4000, 250 * 2 ** n) + 1000));
      }
      if (fault === '429 Retry-After: 1') {
        // Retry-After honoured: the second attempt waited the second it was told (not the 250 ms backoff).
        expect(hits[1]!.at - hits[0]!.at).toBeGreaterThanOrEqual(950);
      }
      if (want.code === 0) await run.succeeded(r);
      else {
        expect(errorLine(r)).toMatch(want.error!);
        await run.failed(r);
      }
    }),
  );

  interface Prepared {
    args: string[];
    env: Record<string, string | undefined>;
    stdin?: string;
    succeeded(r: CliResult): Promise<void>;
    failed(r: CliResult): Promise<void>;
  }

  function prepare(cmd: Cmd, id: string, work: string): Prepared {
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    switch (cmd) {
      case 'get hosts':
        return {
          args: ['get', 'hosts', '--format', 'ndjson'],
          env: fleet.env,
          async succeeded(r) {
            const hosts = r.stdout.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { hostname: string }).hostname);
            countLoss(HOSTS, hosts);
          },
          async failed(r) {
            expect(r.stdout).toBe('');
          },
        };
      case 'apply': {
        // New names for each cell: apply sends only changes, and the packs request must go out.
        const file = `${work}.yml`;
        writeFileSync(
          file,
          [
            `apiVersion: v1\nkind: query\nspec:\n  name: q-${id}\n  query: SELECT 1 AS one;\n`,
            `apiVersion: v1\nkind: label\nspec:\n  name: l-${id}\n  query: SELECT 1 FROM os_version WHERE platform = 'darwin';\n  label_membership_type: dynamic\n`,
            `apiVersion: v1\nkind: pack\nspec:\n  name: p-${id}\n  targets:\n    labels: [l-${id}]\n  queries:\n    - query: q-${id}\n      interval: 3600\n`,
          ].join('---\n'),
        );
        return {
          args: ['apply', '-f', file, '--yes'],
          env: fleet.env,
          async succeeded(r) {
            expect(r.stderr).toContain('[+] applied 1 pack');
            const pack = await api(`/spec/packs/p-${id}`);
            expect(pack.status).toBe(200);
          },
          async failed() {
            // Queries and labels went in before the packs request failed, as the message says.
            expect((await api(`/spec/queries/q-${id}`)).status).toBe(200);
          },
        };
      }
      case 'query': {
        const out = path.join(work, 'one.csv');
        return {
          args: ['query', '--all', '--query', 'SELECT 1 AS one', '-o', out, '--quiet'],
          env: fleet.env,
          async succeeded() {
            const lines = readFileSync(out, 'utf8').trim().split(/\r?\n/);
            expect(lines[0]).toBe('host,one');
            countLoss(HOSTS, lines.slice(1).map((l) => l.split(',')[0]!));
            expect(existsSync(`${out}.manifest.json`)).toBe(true);
          },
          async failed() {
            // Untouched: no file, no manifest, no temporary file left behind.
            expect(readdirSync(work)).toEqual([]);
          },
        };
      }
      case 'login': {
        const home = scratchHome();
        const config = home.configPath;
        return {
          args: ['login', '--email', ADMIN.email, '--password-stdin'],
          env: { ...home.env, FLEET_URL: fleet.url },
          stdin: `${ADMIN.password}\n`,
          async succeeded() {
            expect(readFileSync(config, 'utf8')).toMatch(/token: \S+/);
            home.cleanup();
          },
          async failed() {
            expect(existsSync(path.dirname(config)) ? readdirSync(path.dirname(config)) : []).toEqual([]);
            home.cleanup();
          },
        };
      }
    }
  }

  async function api(p: string): Promise<{ status: number }> {
    const res = await fetch(`${fleet.url}${prefix}${p}`, { headers: { authorization: `Bearer ${fleet.token}` } });
    await res.text();
    return { status: res.status };
  }

  it('query: websockets that always close after one message → gives up with one line, nothing written', () =>
    cell(async () => {
      const out = path.join(dir, 'ws-always', 'x.csv');
      mkdirSync(path.dirname(out));
      fleet.sandbox.setFaults({ websocket: { closeAfterMessages: 1 } });
      let r: CliResult;
      try {
        r = await runCli(['query', '--all', '--query', 'SELECT 1 AS one', '-o', out, '--quiet'], { env: fleet.env });
      } finally {
        fleet.sandbox.setFaults({});
      }
      expect(r.code, r.stderr).toBe(1);
      expect(errorLine(r)).toMatch(/^Error: lost the results websocket 6 times \(.*\); giving up$/);
      expect(readdirSync(path.dirname(out))).toEqual([]);
    }),
  );

  it('query: websockets closed after 2 messages, three times → every host once', () =>
    cell(async () => {
      fleet.sandbox.setFaults({ websocket: { closeAfterMessages: 2, count: 3 } });
      let r: CliResult;
      try {
        r = await runCli(['query', '--all', '--query', 'SELECT 1 AS one', '--quiet'], { env: fleet.env });
      } finally {
        fleet.sandbox.setFaults({});
      }
      expect(r.code, r.stderr).toBe(0);
      countLoss(HOSTS, r.stdout.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { host: string }).host));
    }),
  );
}

/** REST transport faults, a late host and the 100 MB results: FleetDM only. */
export function moreFaults(): void {
  describe("FleetDM's REST live queries (--transport rest): one host's request under a fault", () => {
    let fleet: CliFleet;
    let seen: Seen[];
    beforeAll(async () => {
      fleet = await startCliFleet({ dialect: 'fleet' });
      seen = watch(fleet);
    });
    afterAll(async () => fleet?.stop());

    // POST /hosts/{id}/query runs a read-only query on one host and keeps no server state: retried.
    it.each([
      ['503 ×2', 3],
      ['reset mid-body', 2],
      ['proxy HTML page', 2],
    ] as const)('%s → recovers, every host once', (fault, attempts) =>
      cell(async () => {
        seen.length = 0;
        fleet.sandbox.setFaults({ rules: [{ match: { method: 'POST', path: '/api/v1/fleet/hosts/1/query' }, ...RULE[fault] }] });
        let r: CliResult;
        try {
          r = await runCli(['query', '--all', '--transport', 'rest', '--query', 'SELECT 1 AS one', '--quiet'], { env: fleet.env });
        } finally {
          fleet.sandbox.setFaults({});
        }
        expect(r.code, r.stderr).toBe(0);
        expect(seen.filter((x) => x.method === 'POST' && x.path === '/api/v1/fleet/hosts/1/query')).toHaveLength(attempts);
        countLoss(HOSTS, r.stdout.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { host: string }).host));
      }),
    );
  });

  describe('a host that answers after the timeout', () => {
    let fleet: CliFleet;
    beforeAll(async () => {
      // The file server answers every query 5 s late (its first label queries too, which this waits
      // for); the query gives up after 3.5 s, which leaves the other hosts (answering within 100 ms)
      // time to answer even on a loaded machine (1.5 s was not always enough).
      fleet = await startCliFleet({ dialect: 'fleet', slow: 1, slowDelayMs: 5000 });
    });
    afterAll(async () => fleet?.stop());

    it('is reported as not answering, exit 3; the others are complete and its late answer never appears', () =>
      cell(async () => {
        const r = await runCli(['query', '--all', '--query', 'SELECT 1 AS one', '--timeout', '3500ms'], { env: fleet.env });
        expect(r.code, r.stderr).toBe(3);
        const hosts = r.stdout.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { host: string }).host);
        countLoss(HOSTS.filter((h) => h !== 'centos-fileserver'), hosts);
        expect(r.stderr).toMatch(/4 hosts: 3 answered \(3 rows\), 0 empty, 0 error, 1 no response, 0 offline \(stopped by the timeout\)/);
        expect(r.stderr).toMatch(/centos-fileserver\s+no-response/);
      }),
    );
  });

  describe('a 100 MB result', () => {
    let fleet: CliFleet;
    let dir: string;
    const HOST_COUNT = 50;
    // 50 hosts × 2,000 rows × ~1.1 KB. The client runs with a 64 MB heap: it can only finish if it
    // holds a few hosts' answers at a time, never the result (before the fix it kept every row).
    const PAD = 1999;
    const HEAP = '--max-old-space-size=64';
    const SQL = "SELECT hex(zeroblob(500)) AS pad, 'x' AS tag";
    beforeAll(async () => {
      fleet = await startCliFleet({ dialect: 'fleet', story: false, extraHosts: HOST_COUNT, checkInMs: 200 });
      dir = mkdtempSync(path.join(tmpdir(), 'osfleet-big-'));
    });
    afterAll(async () => {
      await fleet?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    /** The CLI under /usr/bin/time -v with a small heap; its result and peak RSS in MB. */
    function measured(args: string[], opts: { slowReader?: boolean } = {}): Promise<{ r: CliResult; rssMb: number }> {
      const child = spawn('/usr/bin/time', ['-v', process.execPath, HEAP, binPath, ...args], { env: childEnv(fleet.env), stdio: ['pipe', 'pipe', 'pipe'] });
      if (opts.slowReader) {
        // A consumer that does not read for a while: the pipe fills, writes wait, and the websocket
        // must stop reading rather than queue every answer in memory.
        child.stdout!.pause();
        setTimeout(() => child.stdout!.resume(), 4000);
      }
      return collect(child, { timeoutMs: 240_000 }).then((r) => ({ r, rssMb: Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1]) / 1024 }));
    }

    const big = <T>(fn: () => Promise<T>) => {
      fleet.sandbox.setFaults({ resultRowsPad: PAD });
      return fn().finally(() => fleet.sandbox.setFaults({}));
    };

    it('-o FILE: complete, checksummed, within a 64 MB heap', { timeout: 300_000 }, () =>
      cell(async () => {
        const small = await measured(['query', '--all', '--query', SQL, '-o', path.join(dir, 'small.ndjson'), '--quiet']);
        expect(small.r.code, small.r.stderr).toBe(0);
        // No runtime warning in a cron log (an abort listener per wait once piled up past Node's ten).
        expect(small.r.stderr).not.toMatch(/\(node:\d+\)|MaxListenersExceededWarning/);
        const out = path.join(dir, 'big.ndjson');
        const started = performance.now();
        const run = await big(() => measured(['query', '--all', '--query', SQL, '-o', out, '--quiet']));
        const seconds = (performance.now() - started) / 1000;
        expect(run.r.code, run.r.stderr.slice(-2000)).toBe(0);
        expect(run.r.stderr).not.toMatch(/\(node:\d+\)|MaxListenersExceededWarning/);
        // Complete: every host once with every row, and the manifest's checksum is the file's.
        const hosts: string[] = [];
        let rows = 0;
        const hash = createHash('sha256');
        const stream = createReadStream(out);
        stream.on('data', (d) => hash.update(d));
        for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
          if (line === '') continue;
          const o = JSON.parse(line) as { host: string; rows: unknown[] };
          hosts.push(o.host);
          expect(o.rows).toHaveLength(PAD + 1);
          rows += o.rows.length;
        }
        const manifest = JSON.parse(readFileSync(`${out}.manifest.json`, 'utf8')) as { output: { sha256: string }; rows: number };
        expect(manifest.output.sha256).toBe(hash.digest('hex'));
        expect(manifest.rows).toBe(rows);
        expect(hosts).toHaveLength(HOST_COUNT);
        countLoss([...new Set(hosts)], hosts);
        const size = statSync(out).size;
        expect(size).toBeGreaterThan(100 * 1000 * 1000);
        figures.push(
          `100 MB case: ${(size / 1e6).toFixed(1)} MB, ${rows} rows from ${HOST_COUNT} hosts in ${seconds.toFixed(1)} s with a 64 MB heap; peak RSS ${run.rssMb.toFixed(0)} MB vs ${small.rssMb.toFixed(0)} MB for ${HOST_COUNT} rows`,
        );
      }),
    );

    it('stdout read slowly: the websocket is paused, not buffered; every host once', { timeout: 300_000 }, () =>
      cell(async () => {
        const run = await big(() => measured(['query', '--all', '--query', SQL, '--format', 'ndjson', '--quiet'], { slowReader: true }));
        expect(run.r.code, run.r.stderr.slice(-2000)).toBe(0);
        const lines = run.r.stdout.split('\n').filter(Boolean);
        const hosts = lines.map((l) => (JSON.parse(l) as { host: string; rows: unknown[] }).host);
        expect(hosts).toHaveLength(HOST_COUNT);
        countLoss([...new Set(hosts)], hosts);
        figures.push(`100 MB to a stalled pipe: peak RSS ${run.rssMb.toFixed(0)} MB with a 64 MB heap`);
      }),
    );

    it('a reader that stops after the first chunk (`| head`): exit 0, no error, no status report', () =>
      cell(async () => {
        const child = spawn(process.execPath, [binPath, 'query', '--all', '--query', SQL, '--format', 'ndjson'], { env: childEnv(fleet.env), stdio: ['pipe', 'pipe', 'pipe'] });
        child.stdout!.once('data', () => child.stdout!.destroy());
        const r = await big(() => collect(child, { timeoutMs: 120_000 }));
        expect(r.stderr).not.toMatch(/Error|EPIPE|no-response|unexpected failure/);
        expect(r.code).toBe(0);
      }),
    );
  });
}
