/**
 * Terminal-safe output (issues 16.6, 21.8): a host whose name carries escape sequences and U+202E
 * (RIGHT-TO-LEFT OVERRIDE), enrolled in the real sandbox, and answers whose column names and values
 * carry them too. Everything drawn for a person (the `get hosts` table, `query`'s table, errors,
 * statuses, lint messages) shows them as visible escapes; machine formats keep the bytes exact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { collect, runCli, scratchHome, startCli } from '../helpers/cli.js';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox.js';
import { FakeAgent } from '../helpers/agent.js';

const EVIL_HOST = 'evil\u001b]0;owned\u0007\u001b[2J\u202egnp.exe';
const EVIL_COLUMN = 'col\u001b[31m\u202e';
const EVIL_VALUE = 'val\u009b2J\u202dx';
/** Nothing a terminal would act on: no ESC, BEL, C1 CSI, nor a bidi control. */
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

let t: TestSandbox;
let agent: FakeAgent;
const home = scratchHome();
let env: Record<string, string>;
beforeAll(async () => {
  t = await startTestSandbox({ dialect: 'fleet', hosts: false, statusTickMs: 100 });
  agent = new FakeAgent(t.url, '/api/v1/osquery', { hostname: EVIL_HOST, uuid: 'UUID-EVIL', platform: 'ubuntu' });
  expect((await agent.enroll(t.sandbox.enrollSecret)).status).toBe(200);
  env = { ...home.env, FLEET_URL: t.url, FLEET_API_TOKEN: t.admin.token };
});
afterAll(async () => {
  await t?.stop();
  home.cleanup();
});

describe('get hosts', () => {
  it('the table shows the escapes, never the raw bytes', async () => {
    const r = await runCli(['get', 'hosts', '--format', 'table'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(RAW);
    expect(r.stdout).toContain('evil\\x1b]0;owned\\x07\\x1b[2J\\u202egnp.exe');
  });

  it('JSON keeps the name exact', async () => {
    const r = await runCli(['get', 'hosts', '--format', 'ndjson'], { env });
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout.trim()) as { hostname: string }).hostname).toBe(EVIL_HOST);
  });

  it('"doesn\'t exist" errors escape the name typed', async () => {
    const r = await runCli(['get', 'hosts', `nosuch\u001b[2J\u202e`], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(RAW);
    expect(r.stderr).toContain('nosuch\\x1b[2J\\u202e');
  });
});

describe('query', () => {
  /** Answers the next live query with one evil row. */
  async function answerOnce(): Promise<void> {
    for (let i = 0; i < 200; i++) {
      const qs = await agent.read();
      const live = Object.keys(qs).filter((k) => !k.includes('_label_query_') && !k.includes('_detail_query_'));
      if (live.length > 0) {
        await agent.write(Object.fromEntries(live.map((k) => [k, [{ [EVIL_COLUMN]: EVIL_VALUE }]])));
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the query never reached the agent');
  }

  it("the table escapes host names, column names and values; NDJSON keeps them", async () => {
    for (const format of ['table', 'ndjson'] as const) {
      const child = startCli(['query', '--hosts', 'UUID-EVIL', '--query', `SELECT 'v' AS "${EVIL_COLUMN}"`, '--format', format, '--transport', 'rest'], { env });
      const done = collect(child);
      await answerOnce();
      const r = await done;
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toMatch(RAW);
      if (format === 'table') {
        expect(r.stdout).not.toMatch(RAW);
        expect(r.stdout).toContain('col\\x1b[31m\\u202e');
        expect(r.stdout).toContain('val\\x9b2J\\u202dx');
        expect(r.stdout).toContain('evil\\x1b]0;owned\\x07\\x1b[2J\\u202egnp.exe');
      } else {
        expect(JSON.parse(r.stdout.trim())).toEqual({ host: EVIL_HOST, rows: [{ [EVIL_COLUMN]: EVIL_VALUE }] });
      }
    }
  });

  it('the "unknown host" error escapes the names', async () => {
    const r = await runCli(['query', '--hosts', `ghost\u001b[2J\u202e`, '--query', 'SELECT 1'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(RAW);
    expect(r.stderr).toContain('unknown host: ghost\\u001b[2J\\u202e');
  });
});

it('lint messages escape names from files', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'osfleet-term-'));
  try {
    const file = path.join(dir, 'evil.yml');
    writeFileSync(file, `apiVersion: v1\nkind: pack\nspec:\n  name: "p\\e[2J\\u202e"\n  queries:\n    - query: "q\\e]0;x\\a\\u202e"\n      interval: 60\n`);
    const r = await runCli(['lint', file], { env: home.env });
    expect(r.stdout + r.stderr).not.toMatch(RAW);
    expect(r.stdout + r.stderr).toContain('\\x1b');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
