/**
 * `osfleet query` end to end: the built CLI as a child process against the sandbox, both dialects.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { collect, ndjsonAnswers as lines, repoRoot, runCli, startCli } from './helpers/cli.js';
import { startCliFleet, TEST_CA_PATH, TEST_TLS, type CliFleet } from './helpers/fleet.js';

const CUPS = 'SELECT * FROM cups_jobs;';
const COPIES =
  "SELECT action, file_events.uid, users.username, SUBSTR(target_path, 1) AS path, SUBSTR(md5, 0, 8) AS hash, time FROM file_events INNER JOIN users ON file_events.uid=users.uid WHERE sha1 <> '' AND target_path NOT LIKE '%DS_Store';";
const MACS = ['jim-macbook-1014', 'pam-macbook-1015'];

describe.each(['fleet', 'kolide'] as const)('query against the %s sandbox', (dialect) => {
  let fleet: CliFleet;
  // Each generation's built-in label for Macs.
  const mac = dialect === 'kolide' ? 'Mac OS X' : 'macOS';
  beforeAll(async () => {
    fleet = await startCliFleet({ dialect, offline: 0 });
  });
  afterAll(async () => fleet?.stop());

  it("the story's cups_jobs on the Macs' label: both answer, exit 0", async () => {
    const r = await runCli(['query', '--labels', mac, '--query', CUPS], { env: fleet.env });
    expect(r.stderr).toContain('Targeting 2 hosts: 2 online, 0 offline');
    expect(r.code).toBe(0);
    const out = lines(r.stdout);
    expect(out.map((l) => l.host).sort()).toEqual(MACS);
    const confidential = out.flatMap((l) => l.rows).find((row) => row['title'] === 'Financial Data – Confidential.pdf');
    expect(confidential).toMatchObject({ creation_time: '1598384396', host_hostname: 'jim-macbook-1014' });
  });

  it('labels and --all go to the server as given: the campaign exists before any host list is read', async () => {
    for (const targets of [['--labels', mac], ['--all']]) {
      const r = await runCli(['query', ...targets, '--query', 'SELECT 1 AS one', '--debug'], { env: fleet.env });
      expect(r.code, r.stderr).toBe(0);
      const trace = r.stderr.split('\n');
      const created = trace.findIndex((l) => /POST \S*\/(queries|reports)\/run_by_(names|identifiers)/.test(l));
      const listed = trace.findIndex((l) => /GET \S*(\/labels\/\d+\/hosts|\/hosts\?|\/hosts\/report\?)/.test(l));
      expect(created, r.stderr).toBeGreaterThanOrEqual(0);
      // The one host list read is the campaign's targets (its label's members, for --all those of
      // All Hosts), once the campaign exists, to check each answer's host (issue 15.4): on FleetDM
      // as the ids of its CSV host report, on Kolide as pages of hosts; every host answered, so
      // none is read to name the silent ones.
      expect(listed, r.stderr).toBeGreaterThan(created);
      expect(trace[listed]).toMatch(dialect === 'fleet' ? /GET \S*\/hosts\/report\?format=csv&columns=id&label_id=\d+ → 200/ : /GET \S*\/labels\/\d+\/hosts/);
      // FleetDM: that one request is the whole read (Kolide reads a few pages at a time).
      if (dialect === 'fleet') expect(trace.filter((l) => /GET \S*(\/labels\/\d+\/hosts|\/hosts\?|\/hosts\/report\?)/.test(l)), r.stderr).toHaveLength(1);
      expect(r.stderr).not.toContain('status=offline');
      expect(r.stderr).toContain(targets[0] === '--all' ? 'Targeting 4 hosts: 4 online, 0 offline' : 'Targeting 2 hosts: 2 online, 0 offline');
    }
  });

  it('on all hosts: two answered, two errors, exit 3, each host named', async () => {
    const r = await runCli(['query', '--all', '--query', CUPS], { env: fleet.env });
    expect(r.code).toBe(3);
    const out = lines(r.stdout);
    expect(out).toHaveLength(4);
    const errors = out.filter((l) => l.error !== undefined);
    expect(errors.map((l) => l.host).sort()).toEqual(['centos-fileserver', 'dwight-win10']);
    for (const e of errors) expect(e.rows).toEqual([]);
    expect(r.stderr).toContain('Warning: cups_jobs does not exist on linux, windows: 2 of 4 targeted hosts will answer with an error');
    expect(r.stderr).toContain('4 hosts: 2 answered (8 rows), 0 empty, 2 error, 0 no response, 0 offline');
    expect(r.stderr).toMatch(/dwight-win10\s+error: /);
  });

  it('the copies query with dates and usernames as CSV, written atomically with a manifest', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'osfleet-q-'));
    try {
      const out = path.join(dir, 'copies.csv');
      const r = await runCli(['query', '--all', '--query', COPIES, '-o', out, '--tz', 'America/Los_Angeles'], { env: fleet.env });
      expect(r.code).toBe(3); // Windows has no file_events
      const csv = readFileSync(out, 'utf8');
      expect(csv.split('\r\n')[0]).toBe('host,action,uid,uid_username,username,path,hash,time');
      expect(csv).toContain('jim-macbook-1014,CREATED,503,ryan,ryan,/Volumes/KINGSTON/Financial Data – Confidential.pdf,6353325,2020-08-25T12:40:52-07:00');
      expect(statSync(out).mode & 0o777).toBe(0o600);
      const manifest = JSON.parse(readFileSync(`${out}.manifest.json`, 'utf8')) as Record<string, unknown>;
      expect(manifest).toMatchObject({ command: 'query', sql: COPIES, time_zone: 'America/Los_Angeles', server: { dialect } });
      expect(manifest['output']).toEqual({ path: out, format: 'csv', sha256: createHash('sha256').update(readFileSync(out)).digest('hex'), bytes: statSync(out).size });
      expect(JSON.stringify(manifest)).not.toContain(fleet.token);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("piped output is fleetctl's JSON lines, byte for byte (golden)", async () => {
    const r = await runCli(['query', '--all', '--query', CUPS], { env: fleet.env });
    // Hosts answer in any order; each line's bytes are what fleetctl's json.Encoder writes.
    const got = r.stdout.split('\n').filter(Boolean).sort().join('\n') + '\n';
    const golden = path.join(repoRoot, 'test/fixtures/query', `cups_jobs-all.${dialect}.ndjson`);
    if (process.env['UPDATE_GOLDEN']) writeFileSync(golden, got);
    expect(got).toBe(readFileSync(golden, 'utf8'));
  });

  it('unknown hosts and labels stop the command unless --ignore-unknown', async () => {
    const r = await runCli(['query', '--hosts', 'jim-macbook-1014,nosuchhost', '--labels', 'nosuchlabel', '--query', 'SELECT 1'], { env: fleet.env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('unknown host: nosuchhost; unknown label: nosuchlabel');
    const ok = await runCli(['query', '--hosts', 'jim-macbook-1014,nosuchhost', '--ignore-unknown', '--query', 'SELECT 1 AS one'], { env: fleet.env });
    expect(ok.code).toBe(0);
    expect(lines(ok.stdout)).toHaveLength(1);
  });

  it('label algebra: intersections, unions and complements of labels', async () => {
    const r = await runCli(['query', '--label-expr', `"${mac}" AND NOT "Ubuntu Linux" AND NOT "${mac}"`, '--query', 'SELECT 1'], { env: fleet.env });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('match no host');
    const both = await runCli(['query', '--label-expr', `("${mac}" OR "MS Windows") AND NOT "CentOS Linux"`, '--query', 'SELECT 1 AS one'], { env: fleet.env });
    expect(lines(both.stdout).map((l) => l.host).sort(), both.stderr).toEqual(['dwight-win10', ...MACS]);
  });

  it('SQL the hosts reject is a per-host error, not a crash', async () => {
    const r = await runCli(['query', '--hosts', 'centos-fileserver', '--query', 'SELEC nonsense'], { env: fleet.env });
    expect(r.code).toBe(3);
    const [line] = lines(r.stdout);
    expect(line?.error).toBeTruthy();
  });

  it('a websocket dropped mid-campaign loses and duplicates no host', async () => {
    fleet.sandbox.setFaults({ websocket: { closeAfterMessages: 3, count: 1 } });
    try {
      const r = await runCli(['query', '--all', '--query', 'SELECT 1 AS one'], { env: fleet.env });
      expect(r.code).toBe(0);
      const hosts = lines(r.stdout).map((l) => l.host).sort();
      expect(hosts).toEqual(['centos-fileserver', 'dwight-win10', ...MACS]);
    } finally {
      fleet.sandbox.setFaults({});
    }
  });

  it('a blocked websocket: REST fallback on FleetDM, a clear error on Kolide', async () => {
    fleet.sandbox.setFaults({ rules: [{ fault: 'ws-block' }] });
    try {
      const r = await runCli(['query', '--labels', mac, '--query', CUPS], { env: fleet.env });
      if (dialect === 'fleet') {
        expect(r.code).toBe(0);
        expect(r.stderr).toContain('falling back to REST live queries');
        expect(lines(r.stdout).map((l) => l.host).sort()).toEqual(MACS);
      } else {
        expect(r.code).toBe(1);
        expect(r.stderr).toContain('Kolide Fleet has no REST live queries');
      }
    } finally {
      fleet.sandbox.setFaults({});
    }
  });
});

describe('query ends promptly and reports every host', () => {
  let fleet: CliFleet;
  beforeAll(async () => {
    // One offline host, a status tick of ten minutes: the command must neither wait for the
    // offline host nor for the server's tick.
    fleet = await startCliFleet({ dialect: 'fleet', offline: 1, statusTickMs: 600_000 });
  });
  afterAll(async () => fleet?.stop());

  it('offline hosts are reported as offline, without waiting for them: every online host answered, exit 0', async () => {
    const r = await runCli(['query', '--all', '--query', 'SELECT 1 AS one', '--timeout', '10m'], { env: fleet.env });
    expect(r.stderr).toContain('Targeting 4 hosts: 3 online, 1 offline');
    expect(r.stderr).toMatch(/4 hosts: 3 answered \(3 rows\), 0 empty, 0 error, 0 no response, 1 offline/);
    expect(r.stderr).toMatch(/dwight-win10\s+offline/);
    expect(r.code).toBe(0);
  });

  it('--offline-fails counts the offline host as missing: exit 3', async () => {
    const r = await runCli(['query', '--all', '--query', 'SELECT 1 AS one', '--timeout', '10m', '--offline-fails'], { env: fleet.env });
    expect(r.stderr).toMatch(/4 hosts: 3 answered \(3 rows\), 0 empty, 0 error, 0 no response, 1 offline/);
    expect(r.code).toBe(3);
  });

  it('the host list is read after the campaign, only to name the host that did not answer', async () => {
    const r = await runCli(['query', '--labels', 'All Hosts', '--query', 'SELECT 1 AS one', '--debug'], { env: fleet.env });
    // Offline hosts alone are reported, not failures.
    expect(r.code, r.stderr).toBe(0);
    const trace = r.stderr.split('\n');
    const created = trace.findIndex((l) => /POST \S*\/(queries|reports)\/run_by_(names|identifiers)/.test(l));
    // (The first list read after the campaign is its targets, read to check each answer's host.)
    const listed = trace.findIndex((l) => /GET \S*\/labels\/\d+\/hosts\S*status=offline/.test(l));
    expect(created, r.stderr).toBeGreaterThanOrEqual(0);
    expect(listed, r.stderr).toBeGreaterThan(created);
    // Every online host answered: only the offline ones are asked for, never the full list again.
    expect(trace.filter((l, i) => i > listed && /GET \S*\/labels\/\d+\/hosts/.test(l) && !l.includes('status=offline')), r.stderr).toEqual([]);
    expect(r.stderr).toMatch(/dwight-win10\s+offline/);
  });

  it('json output wraps the results with a per-host status list', async () => {
    const r = await runCli(['query', '--all', '--query', 'SELECT 1 AS one', '--format', 'json'], { env: fleet.env });
    const doc = JSON.parse(r.stdout) as { hosts: Array<{ host: string; status: string }> };
    expect(doc.hosts.find((h) => h.host === 'dwight-win10')?.status).toBe('offline');
    expect(doc.hosts.filter((h) => h.status === 'answered')).toHaveLength(3);
  });
});

describe('Ctrl-C during a query', () => {
  let fleet: CliFleet;
  beforeAll(async () => {
    // Two hosts that stopped checking in, and --wait-all: the command waits until interrupted.
    fleet = await startCliFleet({ dialect: 'fleet', offline: 2 });
  });
  afterAll(async () => fleet?.stop());

  it('flushes what arrived as valid output and exits 130', async () => {
    const child = startCli(['query', '--all', '--wait-all', '--query', 'SELECT 1 AS one'], { env: fleet.env });
    let seen = '';
    const twoLines = new Promise<void>((resolve) => {
      child.stdout!.on('data', (d: Buffer) => {
        seen += d.toString();
        if (seen.split('\n').filter(Boolean).length >= 2) resolve();
      });
    });
    const done = collect(child);
    await twoLines;
    child.kill('SIGINT');
    const r = await done;
    expect(r.code).toBe(130);
    const out = lines(r.stdout);
    expect(out).toHaveLength(2);
    expect(r.stderr).toContain('Interrupted');
    expect(r.stderr).toMatch(/2 answered \(2 rows\), 0 empty, 0 error, 0 no response, 2 offline/);
  });

  it('-o FILE still holds every row received, valid CSV', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'osfleet-int-'));
    try {
      const out = path.join(dir, 'partial.csv');
      const child = startCli(['query', '--all', '--wait-all', '--query', 'SELECT 1 AS one', '-o', out, '--debug'], { env: fleet.env });
      let err = '';
      let results = 0;
      // --debug traces each websocket message; two results in means the online hosts answered.
      const answered = new Promise<void>((resolve) => {
        child.stderr!.on('data', (d: Buffer) => {
          err += d.toString();
          results = (err.match(/\bresult from /g) ?? []).length;
          if (results >= 2) resolve();
        });
      });
      const done = collect(child);
      await answered;
      child.kill('SIGINT');
      const r = await done;
      expect(r.code).toBe(130);
      const csv = readFileSync(out, 'utf8').trim().split(/\r?\n/);
      expect(csv[0]).toBe('host,one');
      expect(csv.slice(1).map((l) => l.split(',')[1])).toEqual(['1', '1']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('TLS with a custom CA, on REST and websocket alike', () => {
  const ca = TEST_CA_PATH;
  let fleet: CliFleet;
  beforeAll(async () => {
    fleet = await startCliFleet({ dialect: 'fleet', tls: TEST_TLS });
  });
  afterAll(async () => fleet?.stop());

  const writeConfig = (extra: string) => {
    const cfg = path.join(fleet.home, '.config', 'osfleet', 'config.yml');
    mkdirSync(path.dirname(cfg), { recursive: true, mode: 0o700 });
    writeFileSync(cfg, `contexts:\n  default:\n    address: ${fleet.url}\n    token: ${fleet.token}\n${extra}`, { mode: 0o600 });
  };
  const envNoOverrides = () => ({ ...fleet.env, FLEET_URL: undefined, FLEET_API_TOKEN: undefined });

  it('fails without the CA with a hint, works with rootca, and with skip-verify (warning)', async () => {
    writeConfig('');
    const bad = await runCli(['query', '--labels', 'macOS', '--query', CUPS], { env: envNoOverrides() });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('TLS verification');
    expect(bad.stderr).toContain('--rootca');

    writeConfig(`    rootca: ${ca}\n`);
    const good = await runCli(['query', '--labels', 'macOS', '--query', CUPS], { env: envNoOverrides() });
    expect(good.code).toBe(0);
    expect(lines(good.stdout).map((l) => l.host).sort()).toEqual(MACS);

    writeConfig('    tls-skip-verify: true\n');
    const skip = await runCli(['query', '--labels', 'macOS', '--query', CUPS], { env: envNoOverrides() });
    expect(skip.code).toBe(0);
    expect(skip.stderr).toContain('TLS certificate verification is OFF');
  });
});

describe.each(['fleet', 'kolide'] as const)('a %s sandbox whose hosts mostly check in in-process (as at 100,000 hosts)', (dialect) => {
  let fleet: CliFleet;
  beforeAll(async () => {
    // 20 hosts: the story's 4 and 2 generated over HTTP, 14 in-process; the last 2 generated are offline.
    fleet = await startCliFleet({ dialect, extraHosts: 16, httpHosts: 6, offline: 2, checkInMs: 1000 });
  });
  afterAll(async () => fleet?.stop());

  it('every online host answers a live query on all hosts; the offline ones are named from the host list', async () => {
    const r = await runCli(['query', '--all', '--query', 'SELECT 1 AS one', '--timeout', '2m'], { env: fleet.env });
    expect(r.stderr).toContain('Targeting 20 hosts: 18 online, 2 offline');
    expect(r.stderr).toMatch(/20 hosts: 18 answered \(18 rows\), 0 empty, 0 error, 0 no response, 2 offline/);
    expect(r.code).toBe(0);
    const hosts = lines(r.stdout).map((l) => l.host);
    expect(new Set(hosts).size).toBe(18);
    expect(hosts).toEqual(expect.arrayContaining(['centos-fileserver', 'dwight-win10', ...MACS]));
  });
});
