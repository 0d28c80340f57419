/**
 * `get` and `delete`: the pure pieces as tables, and run() with a test IO against an in-process
 * sandbox holding hosts written straight into its store (fixed times, so outputs are exact).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetClient } from '../src/api/client.js';
import { createContext, type Ctx } from '../src/context.js';
import { testIO, type TestIO } from '../src/io.js';
import { UsageError } from '../src/errors.js';
import {
  envelopeJson,
  hostRow,
  lastSeen,
  outputMode,
  prefetch,
  redactSecret,
  resolveKind,
  run as get,
  type GetOptions,
} from '../src/commands/get.js';
import { fromServerLabel, fromServerPack, fromServerQuery } from '../src/specs/server.js';
import { orderTargets, run as del } from '../src/commands/delete.js';
import { run as apply } from '../src/commands/apply.js';
import { createDateFormatter } from '../src/results/time.js';
import type { Sandbox } from '../src/sandbox/index.js';
import type { HostRec } from '../src/sandbox/server/store.js';
import { startTestSandbox } from './helpers/sandbox.js';
import { repoRoot } from './helpers/cli.js';

describe('get: pure pieces', () => {
  it.each([
    ['queries', 'queries'],
    ['q', 'queries'],
    ['Pack', 'packs'],
    ['l', 'labels'],
    ['enroll-secrets', 'enroll_secret'],
    ['host', 'hosts'],
  ])('kind %s is %s', (k, want) => expect(resolveKind(k)).toBe(want));

  it('an unknown kind is a usage error naming the kinds', () => {
    expect(() => resolveKind('quries')).toThrow(UsageError);
    expect(() => resolveKind('quries')).toThrow('unknown kind "quries"');
  });

  it.each([
    [{}, false, 'table'],
    [{}, true, 'yaml'],
    [{ yaml: true }, false, 'yaml'],
    [{ format: 'yaml' }, false, 'yaml'],
    [{ json: true }, false, 'envelope-json'],
    [{ format: 'json' }, false, 'json'],
    [{ format: 'ndjson' }, true, 'ndjson'],
    [{ format: 'csv' }, true, 'csv'],
    [{ format: 'table' }, true, 'table'],
  ] as const)('output mode of %j (single: %s) is %s', (flags, single, want) => {
    expect(outputMode(flags as Pick<GetOptions, 'yaml' | 'json' | 'format'>, single)).toBe(want);
  });

  it('--yaml with --json is a usage error', () => {
    expect(() => outputMode({ yaml: true, json: true }, false)).toThrow('--yaml and --json cannot be used together');
  });

  it('server query specs: FleetDM fields kept only where they differ from the defaults; Kolide keeps none', () => {
    const raw = { name: 'q', description: '', query: 'SELECT 1;', team: '', interval: 0, platform: '', logging: 'snapshot', observer_can_run: false, min_osquery_version: '', automations_enabled: false, discard_data: false };
    expect(fromServerQuery(raw, 'fleet')).toEqual({ name: 'q', query: 'SELECT 1;' });
    expect(fromServerQuery({ ...raw, interval: 60, logging: 'differential', observer_can_run: true }, 'fleet')).toEqual({ name: 'q', query: 'SELECT 1;', interval: 60, logging: 'differential', observer_can_run: true });
    expect(fromServerQuery({ ...raw, interval: 60 }, 'kolide')).toEqual({ name: 'q', query: 'SELECT 1;' });
  });

  it('server pack and label specs lose output-only fields (ids, label_type)', () => {
    expect(fromServerPack({ id: 3, name: 'p', disabled: false, targets: { labels: ['All Hosts'] }, queries: [{ query: 'a', name: 'a', interval: 60, shard: null, snapshot: true }] })).toEqual({
      name: 'p',
      disabled: false,
      targets: { labels: ['All Hosts'] },
      queries: [{ query: 'a', name: 'a', interval: 60, snapshot: true }],
    });
    expect(fromServerLabel({ ID: 7, name: 'm', query: '', label_membership_type: 'manual', hosts: ['h1'], label_type: 'regular' })).toEqual({ name: 'm', label_membership_type: 'manual', hosts: ['h1'] });
    expect(fromServerLabel({ id: 8, name: 'd', description: '', query: 'SELECT 1;', platform: '', label_type: 'regular', label_membership_type: 'dynamic' })).toEqual({ name: 'd', query: 'SELECT 1;', label_membership_type: 'dynamic' });
  });

  it.each([
    ['RzTlxPvugG4o4O5IKS/HqEDJUmI1hwBoffff', 'RzTl…'],
    ['short', '…'],
    ['exactly8', '…'],
  ])('secret %s is shown as %s', (s, want) => expect(redactSecret(s)).toBe(want));

  it('envelopes are compact, kind first, as fleetctl prints', () => {
    expect(envelopeJson('query', { name: 'a', query: 'SELECT 1 < 2;' })).toBe('{"kind":"query","apiVersion":"v1","spec":{"name":"a","query":"SELECT 1 < 2;"}}');
  });

  it.each([
    ['2020-08-25T19:39:56Z', 'iso', 'America/Los_Angeles', '2020-08-25T12:39:56-07:00'],
    ['2020-08-25T19:39:56Z', 'utc', 'Europe/Paris', '2020-08-25T19:39:56Z'],
    ['2020-08-25T19:39:56.123456Z', 'iso', 'UTC', '2020-08-25T19:39:56+00:00'],
    ['0001-01-01T00:00:00Z', 'iso', 'UTC', ''],
    ['', 'iso', 'UTC', ''],
    ['not a date', 'iso', 'UTC', 'not a date'],
  ] as const)('last seen %s (%s, %s) is %s', (raw, format, zone, want) => {
    expect(lastSeen(raw, createDateFormatter(format, zone))).toBe(want);
  });

  it('last seen in epoch format is UNIX seconds', () => {
    expect(lastSeen('2020-08-25T19:39:56Z', undefined)).toBe('1598384396');
  });

  it('a host row has the seven columns in order', () => {
    const h = { id: 1, hostname: 'h', platform: 'darwin', os_version: 'Mac OS X 10.15.6', osquery_version: '4.4.0', status: 'online', seen_time: '2020-08-25T19:39:56Z', uuid: 'U' };
    expect(hostRow(h, createDateFormatter('utc', 'UTC'))).toEqual(['h', 'darwin', 'Mac OS X 10.15.6', '4.4.0', 'online', '2020-08-25T19:39:56Z', 'U']);
  });
});

describe('prefetch', () => {
  async function* pages(log: string[], fail?: number) {
    for (let i = 0; i < 3; i++) {
      log.push(`fetch ${i}`);
      await Promise.resolve();
      if (i === fail) throw new Error(`page ${i} failed`);
      yield i;
    }
  }

  it('asks for page n+1 before page n is consumed, and yields every page in order', async () => {
    const log: string[] = [];
    for await (const p of prefetch(pages(log))) log.push(`use ${p}`);
    expect(log).toEqual(['fetch 0', 'fetch 1', 'use 0', 'fetch 2', 'use 1', 'use 2']);
  });

  it('a failing page is thrown where it would have been consumed', async () => {
    const log: string[] = [];
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const p of prefetch(pages(log, 1))) seen.push(p);
      })(),
    ).rejects.toThrow('page 1 failed');
    expect(seen).toEqual([0]);
  });

  it('stopping early closes the source (no request after the one in flight)', async () => {
    const log: string[] = [];
    for await (const p of prefetch(pages(log))) {
      log.push(`use ${p}`);
      break;
    }
    await new Promise((r) => setTimeout(r, 0));
    expect(log).toEqual(['fetch 0', 'fetch 1', 'use 0']);
  });
});

describe('delete: order', () => {
  it('packs first, then queries, then labels; each name once, whatever its case', () => {
    expect(
      orderTargets([
        { kind: 'label', name: 'l' },
        { kind: 'query', name: 'q' },
        { kind: 'pack', name: 'p' },
        { kind: 'query', name: 'Q' },
        { kind: 'pack', name: 'p2' },
      ]),
    ).toEqual([
      { kind: 'pack', name: 'p' },
      { kind: 'pack', name: 'p2' },
      { kind: 'query', name: 'q' },
      { kind: 'label', name: 'l' },
    ]);
  });
});

describe.each(['fleet', 'kolide'] as const)('get and delete run() against the %s sandbox', (dialect) => {
  let sandbox: Sandbox;
  let client: FleetClient;
  const SEEN = Date.UTC(2020, 7, 25, 19, 39, 56);
  // Not seen for 30 days: Kolide says mia, FleetDM (4.15+) only offline.
  const gone = dialect === 'kolide' ? 'mia' : 'offline';
  const ctxFor = (io: TestIO): Ctx =>
    createContext({ io, env: { TZ: 'UTC' }, globals: { debug: false, color: false }, signal: new AbortController().signal, cwd: repoRoot, api: async () => client });
  const out = async (opts: GetOptions, tty = false) => {
    const io = testIO({ tty, columns: 200 });
    expect(await get(opts, ctxFor(io))).toBe(0);
    return io;
  };

  beforeAll(async () => {
    // The goldens below are the queries/teams naming (FleetDM before 4.82); test/naming.test.ts covers 4.82+.
    const t = await startTestSandbox({ dialect, port: 0, seed: 5, hosts: false, ...(dialect === 'fleet' ? { version: '4.60.0' } : {}) });
    sandbox = t.sandbox;
    const token = t.admin.token;
    client = new FleetClient({ address: sandbox.url, token });
    const store = sandbox.server.core.store;
    const base = { nodeKey: '', osqueryHostId: '', computerName: '', platformLike: '', build: '', codeName: '', cpuType: '', cpuSubtype: '', cpuBrand: '', cpuPhysicalCores: 1, cpuLogicalCores: 1, hardwareVendor: '', hardwareModel: '', hardwareVersion: '', memory: 0, uptimeNs: 0, primaryMac: '', distributedInterval: 10, configTlsRefresh: 10, loggerTlsPeriod: 10, enrollSecretName: 'default', createdAt: SEEN, updatedAt: SEEN, detailUpdatedAt: SEEN, labelUpdatedAt: SEEN, lastEnrolledAt: SEEN, seenTime: SEEN };
    const hosts: Array<Partial<HostRec>> = [
      { hostname: 'mac-1', platform: 'darwin', osVersion: 'Mac OS X 10.15.6', osqueryVersion: '4.4.0', uuid: 'UUID-MAC-1', hardwareSerial: 'C02A', primaryIp: '10.0.0.1' },
      { hostname: '=cmd|calc', platform: 'windows', osVersion: 'Microsoft Windows 10 Pro', osqueryVersion: '4.4.0', uuid: 'UUID-WIN-1', hardwareSerial: 'W1', primaryIp: '10.0.0.2' },
    ];
    hosts.forEach((h, i) => store.saveHost({ ...base, ...h, id: 0, nodeKey: `nk${i}`, osqueryHostId: `oq${i}` } as HostRec));
    const io = testIO();
    await apply({ file: ['test/fixtures/apply/base.yml'], format: 'text' }, ctxFor(io));
  });
  afterAll(async () => {
    await client?.close();
    await sandbox?.stop();
  });

  it('get hosts --format csv: the columns, dates in the zone, formulas neutralised', async () => {
    const io = await out({ kind: 'hosts', format: 'csv', tz: 'America/Los_Angeles' });
    expect(io.stdoutText()).toBe(
      'hostname,platform,os_version,osquery_version,status,last_seen,uuid\r\n' +
        `mac-1,darwin,Mac OS X 10.15.6,4.4.0,${gone},2020-08-25T12:39:56-07:00,UUID-MAC-1\r\n` +
        `'=cmd|calc,windows,Microsoft Windows 10 Pro,4.4.0,${gone},2020-08-25T12:39:56-07:00,UUID-WIN-1\r\n`,
    );
  });

  it('get hosts piped: plain columns sorted by hostname; --time-format epoch', async () => {
    const io = await out({ kind: 'hosts', timeFormat: 'epoch' });
    const w = Math.max('status'.length, gone.length) + 2;
    expect(io.stdoutText()).toBe(
      [
        `hostname   platform  os_version                osquery_version  ${'status'.padEnd(w)}last_seen   uuid`,
        `=cmd|calc  windows   Microsoft Windows 10 Pro  4.4.0            ${gone.padEnd(w)}1598384396  UUID-WIN-1`,
        `mac-1      darwin    Mac OS X 10.15.6          4.4.0            ${gone.padEnd(w)}1598384396  UUID-MAC-1`,
        '',
      ].join('\n'),
    );
  });

  it('get hosts --search and --format ndjson: full host objects, one per line', async () => {
    const io = await out({ kind: 'hosts', search: 'c02a', format: 'ndjson' });
    const lines = io.stdoutText().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((h) => h['hostname'])).toEqual(['mac-1']);
    expect(lines[0]).toMatchObject({ uuid: 'UUID-MAC-1', seen_time: '2020-08-25T19:39:56Z' });
  });

  it('get hosts --format json streams one array', async () => {
    const io = await out({ kind: 'hosts', format: 'json' });
    expect((JSON.parse(io.stdoutText()) as Array<{ hostname: string }>).map((h) => h.hostname)).toEqual(['mac-1', '=cmd|calc']);
    const none = await out({ kind: 'hosts', format: 'json', status: 'online' });
    expect(none.stdoutText()).toBe('[]\n');
  });

  it('bad flags are usage errors before any request', async () => {
    await expect(get({ kind: 'hosts', status: 'asleep' }, ctxFor(testIO()))).rejects.toThrow('unknown host status "asleep"');
    await expect(get({ kind: 'queries', status: 'online' }, ctxFor(testIO()))).rejects.toThrow('--status goes with get hosts');
    await expect(get({ kind: 'labels', withQueries: true }, ctxFor(testIO()))).rejects.toThrow('--with-queries goes with get packs');
    await expect(get({ kind: 'hosts', tz: 'Mars/Olympus' }, ctxFor(testIO()))).rejects.toThrow('unknown time zone "Mars/Olympus"');
  });

  it("get queries --yaml: sorted, re-appliable documents with fleetctl's keys (golden)", async () => {
    const io = await out({ kind: 'queries', yaml: true });
    // fleetctl writes YAML with sorted keys; FleetDM's query spec has every field, defaults included.
    const fleet = (name: string, description: string, query: string[]) => [
      '---', 'apiVersion: v1', 'kind: query', 'spec:', '  automations_enabled: false', `  description: ${description}`, '  discard_data: false', '  interval: 0',
      '  logging: snapshot', '  min_osquery_version: ""', `  name: ${name}`, '  observer_can_run: false', '  platform: ""', ...query, '  team: ""',
    ];
    const kolide = (name: string, description: string, query: string[]) => [
      '---', 'apiVersion: v1', 'kind: query', 'spec:', ...(description === '""' ? [] : [`  description: ${description}`]), `  name: ${name}`, ...query,
    ];
    const doc = dialect === 'fleet' ? fleet : kolide;
    expect(io.stdoutText()).toBe(
      [
        ...doc('cups_jobs', 'Print jobs', ['  query: |', '    SELECT title, user, creation_time', '    FROM cups_jobs;']),
        ...doc('logged_in', '""', ['  query: SELECT user, host, time FROM logged_in_users;']),
        ...doc('usb_devices', 'USB devices attached now', ['  query: SELECT vendor, model, serial FROM usb_devices;']),
        '',
      ].join('\n'),
    );
  });

  it('get packs --with-queries --json: the pack, then the queries it schedules', async () => {
    const io = await out({ kind: 'packs', json: true, withQueries: true });
    const docs = io.stdoutText().trim().split('\n').map((l) => JSON.parse(l) as { kind: string; spec: { name: string } });
    expect(docs.map((d) => `${d.kind}:${d.spec.name}`)).toEqual(['pack:data-leak', 'query:cups_jobs', 'query:usb_devices']);
  });

  it('get packs --with-queries in a table: each scheduled query with the interval and options the server holds (issue 17.8)', async () => {
    const csv = (await out({ kind: 'packs', format: 'csv', withQueries: true })).stdoutText();
    // The schedule of base.yml: usb_devices hourly, cups_jobs as print_jobs every 10 minutes as a snapshot.
    expect(csv).toMatch(/usb_devices[^\r]*,3600[,\r]/);
    expect(csv).toMatch(/print_jobs[^\r]*,600[,\r]/);
    expect(csv).not.toMatch(/,0[,\r]/);
  });

  it('get labels: built-in labels in the table, and in YAML marked label_type: builtin (as fleetctl prints them)', async () => {
    const table = await out({ kind: 'labels', format: 'csv' });
    expect(table.stdoutText()).toContain('\r\nAll Hosts,,');
    expect(table.stdoutText()).toMatch(/\r\nAll Hosts,[^\r]*,builtin,/);
    const yaml = (await out({ kind: 'labels', yaml: true })).stdoutText();
    expect(yaml).toMatch(/label_type: builtin\n {2}name: All Hosts\n/);
    const id = dialect === 'kolide' ? 'ID' : 'id';
    const mine = yaml.split(/^---\n/m).find((d) => d.includes('name: file servers'))!;
    expect(mine.replace(new RegExp(`^ {2}${id}: \\d+\\n`, 'm'), `  ${id}: N\n`)).toBe(
      dialect === 'kolide'
        ? 'apiVersion: v1\nkind: label\nspec:\n  ID: N\n  description: Linux file servers\n  label_membership_type: dynamic\n  name: file servers\n  query: SELECT 1 FROM os_version WHERE platform = \'centos\';\n'
        : 'apiVersion: v1\nkind: label\nspec:\n  description: Linux file servers\n  hosts: null\n  id: N\n  label_membership_type: dynamic\n  name: file servers\n  platform: ""\n  query: SELECT 1 FROM os_version WHERE platform = \'centos\';\n',
    );
  });

  it('get enroll_secret: the YAML document by default (fleetctl), redacted in a table, whole with --yaml', async () => {
    expect((await out({ kind: 'enroll_secret' }, true)).stdoutText()).toMatch(/^---\napiVersion: v1\nkind: enroll_secret\nspec:\n {2}secrets:\n/);
    const table = await out({ kind: 'enroll_secret', format: 'table' }, true);
    expect(table.stdoutText()).toContain('base…');
    expect(table.stdoutText()).not.toContain('base-secret-0123456789');
    const yaml = await out({ kind: 'enroll_secret', yaml: true });
    expect(yaml.stdoutText()).toContain('secret: base-secret-0123456789');
  });

  it('get query NAME defaults to YAML; a missing one is an error', async () => {
    const io = await out({ kind: 'query', name: 'logged_in' });
    expect(io.stdoutText()).toMatch(/^---\napiVersion: v1\nkind: query\nspec:\n(.*\n)* {2}name: logged_in\n(.*\n)* {2}query: SELECT user, host, time FROM logged_in_users;\n/);
    await expect(get({ kind: 'query', name: 'nope' }, ctxFor(testIO()))).rejects.toThrow('query "nope" doesn\'t exist');
  });

  it('delete: Ctrl-C between names stops there and says how far it got (exit 130)', async () => {
    await apply({ file: ['test/fixtures/apply/base.yml'], format: 'text' }, ctxFor(testIO()));
    // Kolide refuses to delete a query a pack schedules (a foreign key): the pack goes first.
    await del({ kind: 'pack', names: ['data-leak'], yes: true }, ctxFor(testIO()));
    const ac = new AbortController();
    const io = testIO();
    const write = io.out;
    // The first result line is the moment: the next name must not be sent.
    io.out = (t) => {
      write(t);
      ac.abort();
    };
    const ctx = createContext({ io, env: {}, globals: { debug: false, color: false }, signal: ac.signal, cwd: repoRoot, api: async () => client });
    await expect(del({ kind: 'query', names: ['usb_devices', 'cups_jobs'], yes: true }, ctx)).rejects.toMatchObject({
      exitCode: 130,
      message: 'interrupted: 1 of 2 handled, stopped before query "cups_jobs"',
    });
    expect(io.stdoutText()).toBe('[+] deleted query "usb_devices"\n');
    expect((await out({ kind: 'query', name: 'cups_jobs', json: true })).stdoutText()).toContain('"name":"cups_jobs"');
    await apply({ file: ['test/fixtures/apply/base.yml'], format: 'text' }, ctxFor(testIO()));
  });

  it("delete: fleetctl's lines, the pack before its queries, built-in labels refused up front", async () => {
    const io = testIO();
    expect(await del({ kind: 'query', names: ['logged_in', 'nope'], yes: true }, ctxFor(io))).toBe(0);
    expect(io.stdoutText()).toBe('[+] deleted query "logged_in"\n[!] query "nope" doesn\'t exist\n');
    const noTty = testIO();
    await expect(del({ kind: 'pack', names: ['data-leak'] }, ctxFor(noTty))).rejects.toMatchObject({ exitCode: 64 });
    await expect(del({ kind: 'label', names: ['All Hosts'], yes: true }, ctxFor(testIO()))).rejects.toThrow('"All Hosts" is a built-in label');
    await expect(del({ kind: 'host', names: ['x'], yes: true }, ctxFor(testIO()))).rejects.toThrow('cannot delete "host"');
    const f = testIO();
    expect(await del({ file: ['test/fixtures/apply/base.yml'], yes: true }, ctxFor(f))).toBe(0);
    expect(f.stdoutText()).toBe(
      [
        '[+] deleted pack "data-leak"',
        '[+] deleted query "usb_devices"',
        '[+] deleted query "cups_jobs"',
        '[!] query "logged_in" doesn\'t exist',
        '[+] deleted label "file servers"',
        '',
      ].join('\n'),
    );
    expect(f.stderrText()).toBe('Note: 1 options document skipped: delete removes queries, packs and labels only\nNote: 1 enroll_secret document skipped: delete removes queries, packs and labels only\n');
  });
});
