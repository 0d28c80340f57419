/**
 * Answers from hosts a campaign did not target (issue 15.4), staged over the wire by the sandbox's
 * `strayAnswers` fault: the built CLI against one sandbox per generation, for every kind of target
 * (--hosts, --labels, --all), on the websocket and on FleetDM's REST live queries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ndjsonAnswers as lines, runCli } from './helpers/cli.js';
import { startCliFleet, type CliFleet } from './helpers/fleet.js';
import type { FaultPlan } from '../src/sandbox/index.js';

const MACS = ['jim-macbook-1014', 'pam-macbook-1015'];
const ALL = ['centos-fileserver', 'dwight-win10', ...MACS];
const GHOST = { id: 9999, hostname: 'ghost-host' };
const SQL = 'SELECT 1 AS one';

describe.each(['fleet', 'kolide'] as const)('answers from hosts the campaign did not target, %s sandbox', (dialect) => {
  let fleet: CliFleet;
  let dir: string;
  const mac = dialect === 'kolide' ? 'Mac OS X' : 'macOS';
  const idOf = (hostname: string) => fleet.sandbox.server.core.hostsByIdentifier(hostname)!.id;
  beforeAll(async () => {
    fleet = await startCliFleet({ dialect, offline: 0 });
    dir = mkdtempSync(path.join(tmpdir(), 'osfleet-stray-'));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await fleet?.stop();
  });

  /** Runs the CLI with a fault plan on, and off again afterwards. */
  const withFaults = async (plan: FaultPlan, args: string[]) => {
    fleet.sandbox.setFaults(plan);
    try {
      return await runCli(args, { env: fleet.env });
    } finally {
      fleet.sandbox.setFaults({});
    }
  };
  const manifestOf = (out: string) => JSON.parse(readFileSync(`${out}.manifest.json`, 'utf8')) as Record<string, any>;
  const csvHosts = (out: string) => readFileSync(out, 'utf8').trim().split('\r\n').slice(1).map((l) => l.split(',')[0]).sort();

  it('--labels: a host outside the label and a host that does not exist are dropped, counted on stderr and in the manifest', async () => {
    const out = path.join(dir, 'labels.csv');
    const r = await withFaults({ strayAnswers: { hosts: ['centos-fileserver', GHOST] } }, ['query', '--labels', mac, '--query', SQL, '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(csvHosts(out)).toEqual(MACS);
    const centos = idOf('centos-fileserver');
    expect(r.stderr).toContain(`Warning: 2 answers (2 rows) from 2 hosts the campaign did not target dropped: centos-fileserver (id ${centos}): 1 row, ghost-host (id 9999): 1 row`);
    // The status table counts the label's hosts only.
    expect(r.stderr).toContain('2 hosts: 2 answered (2 rows), 0 empty, 0 error, 0 no response, 0 offline');
    const m = manifestOf(out);
    expect(m.outside_targets).toEqual([
      { host: 'centos-fileserver', host_id: centos, answers: 1, rows: 1 },
      { host: 'ghost-host', host_id: 9999, answers: 1, rows: 1 },
    ]);
    expect(m.hosts.map((h: { host: string }) => h.host)).toEqual(MACS);
    expect(m.rows).toBe(2);
    expect(m.targets_unverified).toBeUndefined();
  });

  it('--all: an answer from a host id the server does not have is dropped and counted', async () => {
    const r = await withFaults({ strayAnswers: { hosts: [GHOST] } }, ['query', '--all', '--query', SQL]);
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout).map((l) => l.host).sort()).toEqual(ALL);
    expect(r.stderr).toContain('Warning: 1 answer (1 row) from 1 host the campaign did not target dropped: ghost-host (id 9999): 1 row');
    expect(r.stderr).toContain('4 hosts: 4 answered (4 rows)');
    expect(r.stderr).not.toMatch(/ghost-host\s+(answered|error|no-response)/);
  });

  it('--hosts: answers from another existing host and from an invented one are dropped, with their ids and counts', async () => {
    const out = path.join(dir, 'hosts.ndjson');
    const r = await withFaults({ strayAnswers: { hosts: ['pam-macbook-1015', GHOST] } }, ['query', '--hosts', 'jim-macbook-1014', '--query', SQL, '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(lines(readFileSync(out, 'utf8')).map((l) => l.host)).toEqual(['jim-macbook-1014']);
    const pam = idOf('pam-macbook-1015');
    expect(r.stderr).toContain(`Warning: 2 answers (2 rows) from 2 hosts the campaign did not target dropped: ghost-host (id 9999): 1 row, pam-macbook-1015 (id ${pam}): 1 row`);
    expect(manifestOf(out).outside_targets).toEqual([
      { host: 'ghost-host', host_id: 9999, answers: 1, rows: 1 },
      { host: 'pam-macbook-1015', host_id: pam, answers: 1, rows: 1 },
    ]);
  });

  it('targets that cannot be read: nothing dropped on a guess, the answers kept and marked unverified, exit 3', async () => {
    const out = path.join(dir, 'unverified.csv');
    // The members' pages and (FleetDM) the host report: no way to read the targets.
    const plan: FaultPlan = { strayAnswers: { hosts: [GHOST] }, rules: [{ match: { method: 'GET', path: '/\\/labels\\/\\d+\\/hosts|\\/hosts\\/report/' }, fault: '500' }] };
    const r = await withFaults(plan, ['query', '--labels', mac, '--query', SQL, '-o', out]);
    expect(r.code, r.stderr).toBe(3);
    // The stray counts as an answer (nothing tells it apart), so one Mac may not have been read.
    const hosts = csvHosts(out);
    expect(hosts).toContain('ghost-host');
    expect(hosts.filter((h) => h !== 'ghost-host').every((h) => MACS.includes(h ?? ''))).toBe(true);
    const n = hosts.length;
    expect(r.stderr).toMatch(new RegExp(`Warning: the campaign's targets could not be read \\(GET \\S+/labels/\\d+/hosts: 500 .*\\): ${n} answers \\(${n} rows\\) kept without that check`));
    const m = manifestOf(out);
    expect(m.targets_unverified).toMatchObject({ answers: n, rows: n });
    expect(m.targets_unverified.reason).toContain("the campaign's targets could not be read");
    expect(m.outside_targets).toBeUndefined();
  });

  it.runIf(dialect === 'fleet')("FleetDM: a label's members are read as one CSV host report of ids, not as pages of hosts; strays still dropped", async () => {
    const r = await withFaults({ strayAnswers: { hosts: ['centos-fileserver', GHOST] } }, ['--debug', 'query', '--labels', mac, '--query', SQL]);
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout).map((l) => l.host).sort()).toEqual(MACS);
    expect(r.stderr).toMatch(/GET \/api\/v1\/fleet\/hosts\/report\?format=csv&columns=id&label_id=\d+ → 200/);
    expect(r.stderr).toMatch(/targets: label \d+ has 2 member\(s\), read from the host report/);
    expect(r.stderr).not.toMatch(/GET \S*\/labels\/\d+\/hosts/);
    expect(r.stderr).toContain('Warning: 2 answers (2 rows) from 2 hosts the campaign did not target dropped');
  });

  it.runIf(dialect === 'fleet')('FleetDM whose host report is not one column of ids (a server that ignores columns, a proxy): the pages are read instead, strays still dropped', async () => {
    const plan: FaultPlan = { strayAnswers: { hosts: [GHOST] }, rules: [{ match: { method: 'GET', path: '/\\/hosts\\/report/' }, fault: 'malformed-json' }] };
    const r = await withFaults(plan, ['--debug', 'query', '--all', '--query', SQL]);
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout).map((l) => l.host).sort()).toEqual(ALL);
    // Refused at its first line (the rest is not read: test/api-client.test.ts).
    expect(r.stderr).toMatch(/the host report of label \d+ is not one column of ids \(its header: "\{"\): reading its host list instead/);
    expect(r.stderr).toMatch(/GET \S*\/labels\/\d+\/hosts\?\S* → 200/);
    expect(r.stderr).toContain('Warning: 1 answer (1 row) from 1 host the campaign did not target dropped: ghost-host (id 9999): 1 row');
  });

  it.runIf(dialect === 'fleet')('REST live queries: a reply that names another host than the one asked is not that host\'s answer', async () => {
    const out = path.join(dir, 'rest.ndjson');
    const r = await withFaults({ strayAnswers: { hosts: ['centos-fileserver'], campaigns: 1 } }, ['query', '--labels', mac, '--transport', 'rest', '--query', SQL, '-o', out]);
    // The host whose reply named centos-fileserver did not answer.
    expect(r.code, r.stderr).toBe(3);
    const written = lines(readFileSync(out, 'utf8')).map((l) => l.host);
    expect(written).toHaveLength(1);
    expect(MACS).toContain(written[0]);
    const centos = idOf('centos-fileserver');
    expect(r.stderr).toContain(`Warning: 1 answer (1 row) from 1 host the campaign did not target dropped: host id ${centos}: 1 row`);
    expect(r.stderr).toMatch(/2 hosts: 1 answered \(1 row\), 0 empty, 0 error, 1 no response, 0 offline/);
    expect(manifestOf(out).outside_targets).toEqual([{ host: `host id ${centos}`, host_id: centos, answers: 1, rows: 1 }]);
  });
});
