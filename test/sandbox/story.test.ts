/**
 * The story's two queries, verbatim, through a campaign on the default fleet (the real simulated
 * hosts), over raw HTTP and a plain websocket, in both dialects.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIDENTIAL_TITLE, STORY_HOSTNAMES } from '../../src/sandbox/hosts/index.js';
import { ResultsSocket } from '../helpers/agent.js';
import type { WsMessage } from '../helpers/agent.js';
import { raw, startTestSandbox } from '../helpers/sandbox.js';
import type { TestSandbox } from '../helpers/sandbox.js';

const PRINT_JOBS = 'SELECT * FROM cups_jobs;';
const COPIES =
  "SELECT action, file_events.uid, users.username, SUBSTR(target_path, 1) AS path, SUBSTR(md5, 0, 8) AS hash, time FROM file_events INNER JOIN users ON file_events.uid=users.uid WHERE sha1 <> '' AND target_path NOT LIKE '%DS_Store';";

const MACS = [STORY_HOSTNAMES.mac1014, STORY_HOSTNAMES.mac1015].sort();

/** Runs one campaign on `All Hosts` and collects one result per host until `finished`. */
async function campaign(t: TestSandbox, sql: string): Promise<Map<string, WsMessage['data']>> {
  const created = await raw(`${t.url}${t.prefix}/queries/run_by_names`, { token: t.admin.token, body: { query: sql, selected: { hosts: [], labels: ['All Hosts'] } } });
  expect(created.status).toBe(200);
  expect(created.json.campaign.Metrics).toMatchObject({ TotalHosts: 4, OnlineHosts: 4 });
  const s = new ResultsSocket(`${t.url.replace(/^http/, 'ws')}${t.prefix}/results/websocket`);
  try {
    await s.opened;
    s.send('auth', { token: t.admin.token });
    s.send('select_campaign', { campaign_id: created.json.campaign.id });
    await s.waitFor((m) => m.type === 'status' && m.data.status === 'finished', 30_000);
    const byHost = new Map<string, WsMessage['data']>();
    for (const m of s.messages.filter((x) => x.type === 'result')) byHost.set(m.data.host.hostname, m.data);
    expect(s.messages[0]).toEqual({ type: 'totals', data: { count: 4, online: 4, offline: 0, missing_in_action: 0 } });
    return byHost;
  } finally {
    s.close();
  }
}

describe.each(['fleet', 'kolide'] as const)('the story on the default fleet (%s)', (dialect) => {
  let t: TestSandbox;
  beforeAll(async () => {
    t = await startTestSandbox({ dialect, statusTickMs: 250 });
  });
  afterAll(async () => t.stop());

  it('lists the four story hosts, online, with the dialect’s host shape', async () => {
    const r = await raw(`${t.url}${t.prefix}/hosts`, { token: t.admin.token });
    expect(r.status).toBe(200);
    const hosts = r.json.hosts as Array<Record<string, unknown>>;
    expect(hosts.map((h) => h.hostname).sort()).toEqual(Object.values(STORY_HOSTNAMES).sort());
    expect(hosts.every((h) => h.status === 'online')).toBe(true);
    if (dialect === 'kolide') {
      // fleet-api.md §4.1, in order (primary_ip_id and additional are omitempty).
      expect(Object.keys(hosts[0]!)).toEqual([
        'created_at', 'updated_at', 'id', 'detail_updated_at', 'label_updated_at', 'seen_time', 'hostname', 'uuid', 'platform',
        'osquery_version', 'os_version', 'build', 'platform_like', 'code_name', 'uptime', 'memory', 'cpu_type', 'cpu_subtype',
        'cpu_brand', 'cpu_physical_cores', 'cpu_logical_cores', 'hardware_vendor', 'hardware_model', 'hardware_version',
        'hardware_serial', 'computer_name', 'primary_ip', 'primary_mac', 'distributed_interval', 'config_tls_refresh',
        'logger_tls_period', 'enroll_secret_name', 'status', 'display_text',
      ]);
      expect(hosts[0]).toHaveProperty('enroll_secret_name', 'default');
    } else {
      expect(hosts[0]).toEqual(expect.objectContaining({ display_name: expect.any(String), team_id: null, last_enrolled_at: expect.any(String), issues: expect.any(Object) }));
    }
    const mac = hosts.find((h) => h.hostname === STORY_HOSTNAMES.mac1015)!;
    expect(mac).toMatchObject({ platform: 'darwin', computer_name: "Pam's MacBook Pro", distributed_interval: 1 });
    expect(String(mac.os_version)).toMatch(/10\.15/);
    expect(String(mac.hardware_serial)).toMatch(/^C02/);
  });

  it('FleetDM only: the CSV host report (GET /hosts/report): every host or a label\'s, chosen columns in order, 415 without format=csv, 400 for an unknown column', async () => {
    const url = (q: string) => `${t.url}${t.prefix}/hosts/report?${q}`;
    const all = await raw(url('format=csv&columns=id,hostname'), { token: t.admin.token });
    if (dialect === 'kolide') {
      // Kolide has no report: the path is taken as a host id.
      expect(all.status).not.toBe(200);
      return;
    }
    expect(all.status).toBe(200);
    expect(all.headers['content-type']).toBe('text/csv');
    const [header, ...rows] = all.text.split('\n');
    expect(header).toBe('id,hostname');
    expect(rows.pop()).toBe('');
    expect(rows.map((r) => r.split(',')[1]).sort()).toEqual(Object.values(STORY_HOSTNAMES).sort());
    expect(rows.map((r) => Number(r.split(',')[0]))).toEqual(rows.map((r) => Number(r.split(',')[0])).sort((a, b) => a - b));
    const labels = (await raw(`${t.url}${t.prefix}/labels`, { token: t.admin.token })).json.labels as Array<{ id: number; name: string }>;
    const macos = labels.find((l) => l.name === 'macOS')!;
    const macs = await raw(url(`format=csv&columns=id&label_id=${macos.id}`), { token: t.admin.token });
    const macIds = MACS.map((n) => Number(rows.find((r) => r.endsWith(`,${n}`))!.split(',')[0])).sort((a, b) => a - b);
    expect(macs.text).toBe(`id\n${macIds.join('\n')}\n`);
    expect((await raw(url('columns=id'), { token: t.admin.token })).status).toBe(415);
    const bad = await raw(url('format=csv&columns=id,nope'), { token: t.admin.token });
    expect(bad.status).toBe(400);
    expect(bad.json.errors[0].reason).toBe('invalid column name: "nope"');
    expect((await raw(url('format=csv'))).status).toBe(401);
  });

  it(`${PRINT_JOBS} returns rows from both Macs and errors from the others`, async () => {
    const byHost = await campaign(t, PRINT_JOBS);
    expect([...byHost.keys()].sort()).toEqual(Object.values(STORY_HOSTNAMES).sort());
    for (const name of MACS) {
      const r = byHost.get(name);
      expect(r.error ?? null).toBeNull();
      expect(r.rows.length).toBeGreaterThan(0);
      for (const row of r.rows) {
        expect(row.host_hostname).toBe(name);
        for (const v of Object.values(row)) expect(typeof v).toBe('string');
      }
    }
    const titles = MACS.flatMap((n) => byHost.get(n).rows.map((row: Record<string, string>) => row.title));
    expect(titles).toContain(CONFIDENTIAL_TITLE);
    for (const name of [STORY_HOSTNAMES.windows, STORY_HOSTNAMES.centos]) {
      const r = byHost.get(name);
      expect(r.rows).toEqual([]);
      expect(r.error).toBe(dialect === 'kolide' ? 'failed' : 'no such table: cups_jobs');
    }
  });

  it('the file_events join returns the copies, to USB and to the share', async () => {
    const byHost = await campaign(t, COPIES);
    const rows = [...byHost.values()].flatMap((r) => (r.rows ?? []) as Array<Record<string, string>>);
    const copies = rows.filter((r) => r.path?.includes(CONFIDENTIAL_TITLE));
    expect(copies.length).toBeGreaterThanOrEqual(2);
    expect(copies.some((r) => r.path!.startsWith('/Volumes/KINGSTON/'))).toBe(true);
    expect(copies.some((r) => r.path!.includes('/share/'))).toBe(true);
    for (const r of copies) {
      expect(Object.keys(r)).toEqual(expect.arrayContaining(['action', 'uid', 'username', 'path', 'hash', 'time', 'host_hostname']));
      expect(r.hash).toHaveLength(7);
    }
  });
});
