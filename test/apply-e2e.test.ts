/**
 * apply, get and delete end to end: the built CLI against the sandbox in both dialects. The tests of
 * one dialect run in order on one server (each builds on what the previous applied).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { collect, runCli, upstreamDir, startCli } from './helpers/cli.js';
import { convertPack } from '../src/specs/convert.js';
import { startCliFleet, type CliFleet } from './helpers/fleet.js';

const KOLIDE_EXAMPLE = path.join(upstreamDir, 'fleet/kolide-config-single-file.yml');
const PACKS = ['incident-response', 'it-compliance', 'osquery-monitoring'].map((p) => path.join(upstreamDir, 'osquery-packs', `${p}.conf`));
const KINDS = ['queries', 'labels', 'packs', 'options', 'enroll_secret'];

/** Splits multi-document YAML into documents (without the `---` lines). */
const docsOf = (yaml: string) => yaml.split(/^---\n/m).filter((d) => d.trim() !== '');

describe.each(['fleet', 'kolide'] as const)('apply, get, delete against the %s sandbox', (dialect) => {
  let fleet: CliFleet;
  let dir: string;
  const cli = (args: string[], stdin?: string) => runCli(args, { env: fleet.env, ...(stdin !== undefined ? { stdin } : {}) });
  const mac = dialect === 'kolide' ? 'Mac OS X' : 'macOS';

  /** `get all --yaml`: the server's state as specs. */
  async function snapshot(): Promise<string> {
    const r = await cli(['get', 'all', '--yaml']);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout;
  }

  beforeAll(async () => {
    // The printed kinds below are the queries/teams naming (FleetDM before 4.82); test/naming.test.ts covers 4.82+.
    fleet = await startCliFleet({ dialect, offline: 0, ...(dialect === 'fleet' ? { version: '4.60.0' } : {}) });
    dir = mkdtempSync(path.join(tmpdir(), `osfleet-apply-e2e-${dialect}-`));
  });
  afterAll(async () => {
    await fleet?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("Kolide's example: refused for its two label 'queries' that are query names, applied cleanly without the SQL check", async () => {
    const refused = await cli(['apply', '-f', KOLIDE_EXAMPLE]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${KOLIDE_EXAMPLE}:89:10: error: label "pending_updates": near "pending_updates": syntax error`);
    expect(refused.stderr).toContain(`${KOLIDE_EXAMPLE}:97:10: error: label "slack_not_running": near "slack_not_running": syntax error`);
    expect(refused.stderr).toContain('Error: 2 errors in the input: nothing was applied');
    expect((await cli(['get', 'queries', '--json'])).stdout).toBe('');

    const r = await cli(['apply', '-f', KOLIDE_EXAMPLE, '--no-sql-check']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('+ pack "osquery_monitoring"');
    expect(r.stdout).toMatch(/^Plan: 18 to create, 2 to update, 0 to delete, 0 unchanged\.$/m);
    expect(r.stderr).toContain('[+] applied 15 queries\n[+] applied 2 labels\n[+] applied 1 pack\n[+] applied options\n[+] applied enroll secrets\n');
    if (dialect === 'fleet') expect(r.stderr).toContain('Note: FleetDM has no inactive enroll secrets: 1 secret with active: false left out');

    const again = await cli(['apply', '-f', KOLIDE_EXAMPLE, '--no-sql-check', '--dry-run', '--detailed-exitcode']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe('No changes: 20 unchanged.\n');
  });

  it('get --yaml of everything, fed back to apply --dry-run, plans no change', async () => {
    const yaml = await snapshot();
    // `get all` is the kinds one by one, in apply's order.
    let byKind = '';
    for (const kind of KINDS) byKind += (await cli(['get', kind, '--yaml'])).stdout;
    expect(yaml).toBe(byKind);
    // Built-in labels are listed as fleetctl lists them (label_type: builtin) and re-apply as "left alone".
    const builtins = docsOf(yaml).filter((d) => d.includes('label_type: builtin')).length;
    expect(yaml).toMatch(/name: (All Hosts)\n/);
    expect(builtins).toBeGreaterThan(0);
    expect(docsOf(yaml)).toHaveLength(15 + 2 + builtins + 1 + 1 + 1);
    const file = path.join(dir, 'everything.yml');
    writeFileSync(file, yaml);
    const r = await cli(['apply', '-f', file, '--dry-run', '--detailed-exitcode', '--no-sql-check']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^= built-in labels left alone \(the server keeps them\): "All Hosts", .*\nNo changes: 20 unchanged\.\n$/);
    // --json is fleetctl's: one compact envelope per line, every field fleetctl prints.
    const lines = (await cli(['get', 'queries', '--json'])).stdout.trim().split('\n');
    expect(lines).toHaveLength(15);
    expect(lines[0]).toBe(
      dialect === 'kolide'
        ? '{"kind":"query","apiVersion":"v1","spec":{"name":"always_true","query":"select 1;"}}'
        : '{"kind":"query","apiVersion":"v1","spec":{"name":"always_true","description":"","query":"select 1;","team":"","interval":0,"observer_can_run":false,"platform":"","min_osquery_version":"","automations_enabled":false,"logging":"snapshot","discard_data":false}}',
    );
  });

  it('a changed query shows as updated with the field; --detailed-exitcode says 2, then 0 once applied', async () => {
    const file = path.join(dir, 'changed.yml');
    writeFileSync(file, (await cli(['get', 'query', 'uuid', '--yaml'])).stdout.replace('select uuid from osquery_info;', 'SELECT uuid FROM system_info;'));
    const plan = await cli(['apply', '-f', file, '--dry-run', '--detailed-exitcode']);
    expect(plan.code, plan.stderr).toBe(2);
    expect(plan.stdout).toBe('~ query "uuid": query\nPlan: 0 to create, 1 to update, 0 to delete, 0 unchanged.\n');
    const json = await cli(['apply', '-f', file, '--dry-run', '--format', 'json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ changes: true, kinds: { query: { updated: [{ name: 'uuid', fields: ['query'] }] } } });
    // Without --dry-run it is refused (a plan's exit code, as terraform's), before any request.
    const refused = await cli(['apply', '-f', file, '--detailed-exitcode']);
    expect(refused.code).toBe(64);
    expect(refused.stderr).toContain('--detailed-exitcode goes with --dry-run');
    const applied = await cli(['apply', '-f', file]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stderr).toContain('[+] applied 1 query');
    expect((await cli(['get', 'query', 'uuid', '--json'])).stdout).toContain('"query":"SELECT uuid FROM system_info;"');
    expect((await cli(['apply', '-f', file, '--dry-run', '--detailed-exitcode'])).code).toBe(0);
  });

  it('--prune removes exactly what the files dropped, never built-in labels, and needs --yes without a terminal', async () => {
    const docs = docsOf(await snapshot());
    const dropped = (d: string) => (d.includes('kind: query') && d.includes('name: hostname\n')) || (d.includes('kind: label') && d.includes('name: slack_not_running\n'));
    const kept = docs.filter((d) => !dropped(d));
    expect(kept).toHaveLength(docs.length - 2);
    const file = path.join(dir, 'pruned.yml');
    writeFileSync(file, kept.map((d) => `---\n${d}`).join(''));

    const noYes = await cli(['apply', '-f', file, '--prune', '--no-sql-check']);
    expect(noYes.code).toBe(64);
    expect(noYes.stderr).toContain('confirmation needed but there is no terminal');

    const r = await cli(['apply', '-f', file, '--prune', '--yes', '--no-sql-check']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^- query "hostname"\n- label "slack_not_running"\n= built-in labels left alone .*\nPlan: 0 to create, 0 to update, 2 to delete, 18 unchanged\.\n$/);
    expect(r.stderr).toContain('[+] deleted 1 query\n[+] deleted 1 label\n');
    const queries = (await cli(['get', 'queries', '--format', 'csv'])).stdout;
    expect(queries).not.toContain('\r\nhostname,');
    expect(queries.split('\r\n').filter(Boolean)).toHaveLength(1 + 14);
    const labels = (await cli(['get', 'labels', '--format', 'csv'])).stdout;
    expect(labels).not.toContain('slack_not_running');
    expect(labels).toContain(`\r\n${mac},`);
    expect(labels).toContain('\r\npending_updates,');
  });

  it('the converted official packs apply', async () => {
    // convert's own output (its command is tested in convert.test.ts; here in-process, to save three runs).
    const files = PACKS.map((conf) => {
      const name = path.basename(conf, '.conf');
      const out = path.join(dir, `${name}.yml`);
      const converted = convertPack(readFileSync(conf, 'utf8'), name, conf);
      expect(converted.errors).toEqual([]);
      writeFileSync(out, converted.docs);
      return out;
    });
    // Together they define kernel_modules and osquery_info twice (with different SQL): refused as a whole.
    const together = await cli(['apply', ...files.flatMap((f) => ['-f', f])]);
    expect(together.code).toBe(1);
    expect(together.stderr).toContain('error: duplicate query "kernel_modules" (first defined at');
    // One by one, as each pack was written to be applied.
    for (const f of files) {
      const r = await cli(['apply', '-f', f]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/\[\+\] applied \d+ quer(y|ies)\n\[\+\] applied 1 pack\n/);
    }
    const packs = (await cli(['get', 'packs', '--format', 'csv'])).stdout;
    for (const p of ['incident-response', 'it-compliance', 'osquery-monitoring']) expect(packs).toContain(`\r\n${p},`);
    expect((await cli(['apply', '-f', files[2]!, '--dry-run', '--detailed-exitcode'])).code).toBe(0);
    // --with-queries: the pack and the queries it schedules, re-appliable.
    const withQueries = (await cli(['get', 'pack', 'osquery-monitoring', '--yaml', '--with-queries'])).stdout;
    expect(docsOf(withQueries)[0]).toContain('kind: pack');
    expect(docsOf(withQueries).slice(1).every((d) => d.includes('kind: query'))).toBe(true);
  });

  it('a pack naming an unknown query: position, exit 1, nothing changed on the server', async () => {
    const r = await cli(['apply', '-f', '-'], 'apiVersion: v1\nkind: query\nspec:\n  name: new_q\n  query: SELECT 1;\n---\napiVersion: v1\nkind: pack\nspec:\n  name: nope\n  queries:\n    - query: no_such_query\n      interval: 60\n');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('<stdin>:12:14: error: pack "nope" schedules unknown query "no_such_query" (in neither these files nor the server)');
    // Not even the valid query went.
    expect((await cli(['get', 'query', 'new_q'])).code).toBe(1);
  });

  it('Ctrl-C while a kind is in flight: says what was applied and what not, exit 130', async () => {
    const file = path.join(dir, 'sigint.yml');
    writeFileSync(
      file,
      'apiVersion: v1\nkind: query\nspec:\n  name: sigint_q\n  query: SELECT 1;\n---\napiVersion: v1\nkind: label\nspec:\n  name: sigint_l\n  query: SELECT 1;\n---\n' +
        'apiVersion: v1\nkind: pack\nspec:\n  name: sigint_p\n  targets: {labels: [sigint_l]}\n  queries: [{query: sigint_q, interval: 60}]\n',
    );
    const prefix = dialect === 'kolide' ? '/api/v1/kolide' : '/api/v1/fleet';
    fleet.sandbox.setFaults({ rules: [{ match: { method: 'POST', path: `${prefix}/spec/labels` }, fault: 'hang', count: 1 }] });
    try {
      const child = startCli(['apply', '-f', file], { env: fleet.env });
      const done = collect(child);
      // Wait for the event, not for time: the queries are applied, the labels request hangs.
      await new Promise<void>((resolve) => {
        let seen = '';
        child.stderr!.on('data', (d: Buffer | string) => {
          seen += String(d);
          if (seen.includes('[+] applied 1 query\n')) resolve();
        });
      });
      child.kill('SIGINT');
      const r = await done;
      expect(r.code).toBe(130);
      expect(r.stderr).toContain('interrupted while applying labels (the server may or may not have applied it): applied: queries; not applied: labels, packs');
      expect((await cli(['get', 'query', 'sigint_q'])).code).toBe(0);
      expect((await cli(['get', 'pack', 'sigint_p'])).code).toBe(1);
    } finally {
      fleet.sandbox.setFaults({});
    }
  });

  it('get hosts: columns, dates in --tz, filters, one host as YAML', async () => {
    const csv = await cli(['get', 'hosts', '--format', 'csv', '--tz', 'America/New_York']);
    expect(csv.code, csv.stderr).toBe(0);
    const rows = csv.stdout.split('\r\n').filter(Boolean);
    expect(rows[0]).toBe('hostname,platform,os_version,osquery_version,status,last_seen,uuid');
    expect(rows).toHaveLength(5);
    const jim = rows.find((r) => r.startsWith('jim-macbook-1014,'))!;
    expect(jim).toMatch(/^jim-macbook-1014,darwin,Mac OS X 10\.14\.6,4\.3\.0,online,\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d-0[45]:00,15D9A69A-042C-4B3C-AFC1-A126244FA3E2$/);

    const label = await cli(['get', 'hosts', '--label', mac, '--format', 'csv']);
    expect(label.stdout.split('\r\n').filter(Boolean).slice(1).map((r) => r.split(',')[0]).sort()).toEqual(['jim-macbook-1014', 'pam-macbook-1015']);
    const search = await cli(['get', 'hosts', '--search', 'win10', '--json']);
    expect(search.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { kind: string; spec: { hostname: string } }).spec.hostname)).toEqual(['dwight-win10']);
    const offline = await cli(['get', 'hosts', '--status', 'offline', '--format', 'csv']);
    expect(offline.stdout).toBe('hostname,platform,os_version,osquery_version,status,last_seen,uuid\r\n');

    const one = await cli(['get', 'host', 'centos-fileserver']);
    expect(one.code, one.stderr).toBe(0);
    // FleetDM's fleetctl wraps the host in a document; Kolide's 3.x prints the bare host (issue 22.7).
    if (dialect === 'kolide') expect(one.stdout).toMatch(/^(.*\n)*hostname: centos-fileserver\n/);
    else {
      expect(one.stdout).toMatch(/^---\napiVersion: v1\nkind: host\nspec:\n/);
      expect(one.stdout).toContain('  hostname: centos-fileserver\n');
    }
    const missing = await cli(['get', 'host', 'no-such-host']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('host "no-such-host" doesn\'t exist');
  });

  it('enroll secrets: redacted in the table, whole only when asked for', async () => {
    // fleetctl prints the YAML document by default; the table (secrets redacted) only when asked for.
    const table = await cli(['get', 'enroll_secret', '--format', 'table']);
    expect(table.stdout).not.toContain('reallyworks');
    expect((await cli(['get', 'enroll_secret'])).stdout).toContain('secret: reallyworks');
    const yaml = await cli(['get', 'enroll_secret', '--yaml']);
    expect(yaml.stdout).toContain('secret: reallyworks');
    if (dialect === 'kolide') {
      expect(table.stdout).toMatch(/new_one\s+real…\s+true/);
      expect((await cli(['get', 'enroll_secret', 'new_one'])).stdout).toBe('reallyworks\n');
    }
  });

  it("delete: by name and from files, fleetctl's lines, --yes needed without a terminal", async () => {
    const noYes = await cli(['delete', 'query', 'uuid']);
    expect(noYes.code).toBe(64);
    expect((await cli(['get', 'query', 'uuid', '--json'])).code).toBe(0);

    const r = await cli(['delete', 'query', 'uuid', 'no_such_query', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('[+] deleted query "uuid"\n[!] query "no_such_query" doesn\'t exist\n');

    const file = path.join(dir, 'osquery-monitoring.yml');
    const names = docsOf(readFileSync(file, 'utf8')).map((d) => /\n {2}name: (.+)\n/.exec(d)?.[1]);
    if (dialect === 'kolide') {
      // Kolide refuses to delete a query another pack still schedules (a foreign key): those packs go first.
      const packs = (await cli(['get', 'packs', '--format', 'ndjson'])).stdout.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { name: string }).name);
      const others = packs.filter((p) => p !== 'osquery-monitoring');
      if (others.length > 0) expect((await cli(['delete', 'pack', ...others, '--yes'])).code).toBe(0);
    }
    const f = await cli(['delete', '-f', file, '--yes']);
    expect(f.code, f.stderr).toBe(0);
    // The pack first (it schedules the queries), then its queries.
    expect(f.stdout.split('\n').filter(Boolean)).toEqual([
      '[+] deleted pack "osquery-monitoring"',
      ...names.slice(1).map((n) => `[+] deleted query "${n}"`),
    ]);
    const builtin = await cli(['delete', 'label', mac, '--yes']);
    expect(builtin.code).toBe(1);
    expect(builtin.stderr).toContain(`"${mac}" is a built-in label`);
  });
});
