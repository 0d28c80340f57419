import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../src/specs/diagnostics.js';
import { profileFor } from '../src/api/server.js';
import { decodeUtf8, loadInputs, type LoadIO } from '../src/specs/load.js';
import { parseDocuments } from '../src/specs/parse.js';
import { canonical, changedPaths, plan, renderPlan } from '../src/specs/plan.js';
import type { SpecSet } from '../src/specs/types.js';
import { BUILTIN_LABELS, toSpecSet, validate } from '../src/specs/validate.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const lines = (text: string, source = 'f.yml') => parseDocuments(text, source).diagnostics.map(formatDiagnostic);

describe('parseDocuments', () => {
  it('reads every kind, case-insensitively, with positions', () => {
    const text = [
      '# comment',
      '---',
      'apiVersion: v1',
      'kind: QUERY',
      'spec:',
      '  name: q',
      '  query: SELECT 1;',
      '---',
      '',
      '---',
      'kind: Label',
      'spec: {name: l, query: SELECT 1}',
      '---',
      'kind: pack',
      'spec:',
      '  name: p',
      '  queries:',
      '    - query: q',
      '      interval: 60',
      '---',
      'kind: options',
      'spec:',
      '  config: {options: {a: 1}}',
      '---',
      'kind: enroll_secret',
      'spec:',
      '  secrets: [{secret: s, name: default, active: true}]',
      '',
    ].join('\n');
    const r = parseDocuments(text, 'f.yml');
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([
      'f.yml:16:9: warning: pack "p": the pack targets no label, so after apply it runs on no host (add targets.labels, e.g. All Hosts)',
    ]);
    expect(r.docs.map((d) => `${d.kind}@${d.pos.line}:${d.pos.col}#${d.index} ${d.ok}`)).toEqual([
      'query@3:1#0 true',
      'label@11:1#2 true',
      'pack@14:1#3 true',
      'options@21:1#4 true',
      'enroll_secret@25:1#5 true',
    ]);
    const pack = r.docs[2]!;
    expect(pack.spec).toEqual({ name: 'p', queries: [{ query: 'q', name: 'q', interval: 60 }] });
    expect(pack.fields.get('queries.0.interval')).toMatchObject({ key: { line: 19, col: 7 }, value: { line: 19, col: 17 } });
    expect(pack.entryPaths).toEqual(['queries.0']);
  });

  it.each([
    ['an empty file', '', ['f.yml:1:1: warning: no spec documents in this input']],
    ['only comments and separators', '# nothing\n---\n---\n', ['f.yml:1:1: warning: no spec documents in this input']],
    ['a byte-order mark', '\uFEFFkind: query\nspec: {name: q, query: SELECT 1}\n', []],
    ['CRLF line ends', 'kind: query\r\nspec:\r\n  name: q\r\n  query: 1x\r\n  nope: 1\r\n', ['f.yml:5:3: warning: query "q": unknown field "nope" is ignored']],
    ['apiVersion other than v1', 'apiVersion: v2\nkind: query\nspec: {name: q, query: SELECT 1}\n', ['f.yml:1:13: warning: apiVersion string "v2" is not "v1"']],
    ['a NUL byte', 'kind: query\nspec:\n  name: "a\u0000"\n', ['f.yml:3:11: error: binary input (NUL byte): expected YAML text']],
    ['a kind that is not a string', 'kind: [query]\nspec: {}\n', ['f.yml:1:7: error: kind must be a string, got a list']],
    ['a list key', '? [a, b]\n: 1\nkind: query\n', ['f.yml:1:3: error: a mapping key must be a plain value, not a list or mapping']],
    [
      'an unknown kind with no close match',
      'kind: widget\nspec: {}\n',
      ['f.yml:1:7: error: unknown kind "widget" (expected one of: query, pack, label, options, enroll_secret, config)'],
    ],
    ['a kind fleetctl knows but osfleet does not apply', 'kind: policy\nspec: {}\n', ['f.yml:1:7: error: kind "policy" is not supported by osfleet (a FleetDM policy; it applies query, pack, label, options, enroll_secret, config)']],
    ['pack team targets are named, not dropped silently', 'kind: pack\nspec:\n  name: p\n  targets: {labels: [All Hosts], teams: [A]}\n  queries: [{query: a, interval: 60}]\n', ['f.yml:4:34: warning: pack "p": targets.teams is not applied by osfleet (FleetDM team targets): the pack targets its labels only']],
    // FleetDM 4.82+ calls queries reports: `kind: report` is read as `kind: query` (issue 25).
    ['kind report', 'kind: Report\nspec: {name: q, query: SELECT 1;}\n', []],
    ['kind fleet (a team)', 'kind: fleet\nspec: {}\n', ['f.yml:1:7: error: kind "fleet" is not supported by osfleet (a FleetDM fleet, the name FleetDM 4.82+ gives a team; it applies query, pack, label, options, enroll_secret, config)']],
    ['team and fleet with different values', 'kind: report\nspec: {name: q, query: SELECT 1;, team: a, fleet: b}\n', ['f.yml:2:51: error: query "q": "team" ("a") and "fleet" ("b") name the same field with different values: keep one']],
    ['team and fleet with the same value', 'kind: report\nspec: {name: q, query: SELECT 1;, team: a, fleet: a}\n', []],
    ["fleetctl's logging: \"\" is not set", 'kind: query\nspec: {name: q, query: SELECT 1;, logging: ""}\n', []],
    ['an interval in quotes', 'kind: query\nspec: {name: q, query: SELECT 1, interval: "60"}\n', ['f.yml:2:44: error: query "q": field "interval" must be an integer, got string "60" (write it without quotes)']],
    ['a manual label with a query', 'kind: label\nspec:\n  name: m\n  label_membership_type: manual\n  query: SELECT 1\n  hosts: []\n', ['f.yml:5:3: warning: label "m": the query of a manual label is ignored']],
    [
      'a scheduled name used twice',
      'kind: pack\nspec:\n  name: p\n  queries:\n    - {query: a, interval: 60}\n    - {query: b, name: a, interval: 60}\n',
      [
        'f.yml:3:9: warning: pack "p": the pack targets no label, so after apply it runs on no host (add targets.labels, e.g. All Hosts)',
        'f.yml:6:24: error: pack "p": scheduled query name "a" is used twice in this pack (first at line 5); osquery drops the second',
      ],
    ],
  ])('%s', (_name, text, want) => {
    expect(lines(text)).toEqual(want);
  });

  it.each([
    ['content on the marker line', '--- {kind: query, spec: {name: a, query: SELECT 1}}\n--- {kind: query, spec: {name: b, query: SELECT 2}}\n', ['a@1:5', 'b@2:5']],
    ['an indented --- inside a block scalar', 'kind: query\nspec:\n  name: a\n  query: |\n    SELECT 1\n    ---\n    x\n---\nkind: query\nspec: {name: b, query: SELECT 2}\n', ['a@1:1', 'b@9:1']],
    ['a document end marker', 'kind: query\nspec: {name: a, query: SELECT 1}\n...\n---\nkind: query\nspec: {name: b, query: SELECT 2}\n', ['a@1:1', 'b@5:1']],
    ['a %YAML directive', '%YAML 1.2\n---\nkind: query\nspec: {name: a, query: SELECT 1}\n---\nkind: query\nspec: {name: b, query: SELECT 2}\n', ['a@3:1', 'b@6:1']],
    ['----- is no marker', 'kind: query\nspec:\n  name: a\n  query: >\n    SELECT 1\n-----\n', []],
  ])('cuts documents at markers: %s', (_name, text, want) => {
    const r = parseDocuments(text, 'f.yml');
    expect(r.docs.map((d) => `${d.spec && 'name' in d.spec ? d.spec.name : '?'}@${d.pos.line}:${d.pos.col}`)).toEqual(want);
    if (want.length === 0) expect(r.diagnostics.map((d) => d.severity)).toContain('error');
    else expect(r.diagnostics).toEqual([]);
  });

  it('keeps a __proto__ key as data', () => {
    const r = parseDocuments('kind: options\nspec:\n  config:\n    __proto__: {polluted: true}\n', 'f.yml');
    expect(r.diagnostics).toEqual([]);
    const cfg = r.docs[0]!.spec as { config: Record<string, unknown> };
    expect(Object.keys(cfg.config)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('resolves aliases, but refuses a billion laughs', () => {
    const ok = parseDocuments('x: &sql SELECT 1\nkind: query\nspec: {name: q, query: *sql}\n', 'f.yml');
    expect(ok.docs[0]!.spec).toMatchObject({ query: 'SELECT 1' });
    const laughs = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) laughs.push(`${'b'.repeat(i)}: &${'b'.repeat(i)} [${Array(10).fill(i === 1 ? '*a' : `*${'b'.repeat(i - 1)}`).join(', ')}]`);
    const started = performance.now();
    const r = parseDocuments(laughs.join('\n') + '\nkind: query\n', 'f.yml');
    expect(performance.now() - started).toBeLessThan(3000);
    expect(r.docs).toEqual([]);
    expect(r.diagnostics.map(formatDiagnostic)).toEqual(['f.yml:1:32: error: document too large (more than 100000 values once aliases are expanded)']);
  });

  it('refuses nesting deeper than 200 levels without exhausting the stack', () => {
    const deep = 'kind: query\nspec:\n  name: q\n  query: SELECT 1\n  x: ' + '['.repeat(300) + ']'.repeat(300) + '\n';
    expect(lines(deep)).toEqual(['f.yml:5:205: error: nested more than 200 levels deep']);
  });

  it('marks a document with errors but keeps its name for later checks', () => {
    const r = parseDocuments('kind: query\nspec:\n  name: q\n  query: 5\n', 'f.yml');
    expect(r.docs[0]).toMatchObject({ ok: false, spec: { name: 'q' } });
  });
});

describe('validate', () => {
  const docs = (text: string) => parseDocuments(text, 'v.yml').docs;
  const packText = 'kind: pack\nspec:\n  name: p\n  targets: {labels: [servers]}\n  queries:\n    - {query: on_server, interval: 60}\n';

  it('accepts references the server has, and names the server when it lacks them', () => {
    expect(validate(docs(packText), { knownQueries: new Set(['ON_SERVER']), knownLabels: new Set(['servers']) })).toEqual([]);
    expect(validate(docs(packText), { knownQueries: new Set(), knownLabels: new Set() }).map(formatDiagnostic)).toEqual([
      'v.yml:6:15: error: pack "p" schedules unknown query "on_server" (in neither these files nor the server)',
      'v.yml:4:22: error: pack "p" targets unknown label "servers" (in neither these files nor the server)',
    ]);
  });

  it('warns about a document defined twice identically, and sends it once', () => {
    const q = 'kind: query\nspec: {name: alf, query: SELECT * FROM alf;}\n';
    const d = docs(`${q}---\n${q}---\nkind: query\nspec: {name: ALF, query: SELECT 1;}\n`);
    expect(validate(d).map(formatDiagnostic)).toEqual([
      'v.yml:5:14: warning: query "alf" is defined twice, identically (first at v.yml:2:14); the copy is ignored',
      'v.yml:8:14: error: duplicate query "ALF" (first defined at v.yml:2:14)',
    ]);
    expect(toSpecSet(d).queries).toEqual([{ name: 'alf', query: 'SELECT * FROM alf;' }]);
  });

  it('knows the built-in labels of both generations', () => {
    for (const name of ['All Hosts', 'macOS', 'MS Windows', 'Ubuntu Linux', 'CentOS Linux', 'All Linux', 'Red Hat Linux']) {
      expect(BUILTIN_LABELS).toContain(name);
    }
    const text = 'kind: query\nspec: {name: q, query: SELECT 1}\n---\nkind: pack\nspec:\n  name: p\n  targets: {labels: [all hosts, MS Windows]}\n  queries: [{query: Q, interval: 60}]\n';
    expect(validate(docs(text))).toEqual([]);
  });

  it("parses Kolide's example and validates it with no error", async () => {
    const file = path.resolve(repoRoot, 'test/fixtures/upstream/fleet/kolide-config-single-file.yml');
    const r = parseDocuments(await fsp.readFile(file, 'utf8'), 'kolide.yml');
    const all = [...r.diagnostics, ...validate(r.docs)];
    expect(all.filter((d) => d.severity === 'error')).toEqual([]);
    expect(all.map(formatDiagnostic)).toEqual([
      'kolide.yml:90:3: warning: label "pending_updates": unknown field "platforms" is ignored (did you mean "platform"?)',
      'kolide.yml:102:9: warning: pack "osquery_monitoring": the pack targets no label, so after apply it runs on no host (add targets.labels, e.g. All Hosts)',
      'kolide.yml:127:3: warning: query "osquery_version": unknown field "support" is ignored',
      'kolide.yml:156:3: warning: query "docker_processes": unknown field "descriptions" is ignored (did you mean "description"?)',
      'kolide.yml:158:3: warning: query "docker_processes": unknown field "support" is ignored',
    ]);
    const set = toSpecSet(r.docs);
    expect([set.queries.length, set.labels.length, set.packs.length, set.options !== undefined, set.enroll_secret?.secrets.length]).toEqual([15, 2, 1, true, 3]);
    expect(set.packs[0]!.queries.map((q) => `${q.name}<-${q.query}/${q.interval}`)).toEqual([
      'osquery_version_snapshot<-osquery_version/7200',
      'osquery_version_differential<-osquery_version/7200',
      'osquery_schedule<-osquery_schedule/7200',
      'osquery_events<-osquery_events/86400',
      'osquery_info<-osquery_info/600',
    ]);
  });
});

describe('loadInputs', () => {
  /** A fake file system: paths ending in / are folders. */
  function fakeIO(files: Record<string, string | Uint8Array | Error>, stdin = ''): LoadIO & { reads: string[] } {
    const reads: string[] = [];
    const isDir = (p: string) => Object.keys(files).some((f) => f.startsWith(p.replace(/\/$/, '') + '/'));
    const enoent = () => Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    return {
      reads,
      async stat(p) {
        if (isDir(p)) return { isDirectory: () => true, isFile: () => false };
        if (p in files) return { isDirectory: () => false, isFile: () => true };
        throw enoent();
      },
      async readdir(p) {
        const prefix = p.replace(/\/$/, '') + '/';
        return [...new Set(Object.keys(files).filter((f) => f.startsWith(prefix)).map((f) => f.slice(prefix.length).split('/')[0]!))];
      },
      async readFile(p) {
        reads.push(p);
        const v = files[p];
        if (v === undefined) throw enoent();
        if (v instanceof Error) throw v;
        return typeof v === 'string' ? Buffer.from(v) : v;
      },
      async readStdin() {
        return Buffer.from(stdin);
      },
    };
  }

  it('walks folders recursively, sorted, .yml and .yaml only, hidden entries skipped', async () => {
    const io = fakeIO({
      'specs/b.yml': 'b',
      'specs/a.yaml': 'a',
      'specs/README.md': 'no',
      'specs/.git/x.yml': 'no',
      'specs/sub/z.YML': 'z',
      'specs/sub/c.yml': 'c',
      'one.conf': 'explicit files are read whatever their name',
    });
    const r = await loadInputs(['specs', 'one.conf', 'specs/b.yml', '-'], io);
    expect(r.inputs.map((i) => `${i.source}=${i.text}`)).toEqual([
      'specs/a.yaml=a',
      'specs/b.yml=b',
      'specs/sub/c.yml=c',
      'specs/sub/z.YML=z',
      'one.conf=explicit files are read whatever their name',
      '<stdin>=',
    ]);
    expect(r.diagnostics).toEqual([]);
    expect(r.sources).toEqual(['specs/a.yaml', 'specs/b.yml', 'specs/sub/c.yml', 'specs/sub/z.YML', 'one.conf', '<stdin>']);
  });

  it('reports unreadable paths, empty folders and binary files, and goes on', async () => {
    const io = fakeIO({
      'locked.yml': Object.assign(new Error('EACCES'), { code: 'EACCES' }),
      'docs/readme.txt': 'x',
      'bin.yml': new Uint8Array([0x89, 0x50, 0x4e, 0x47]),
      'good.yml': 'kind: query',
    });
    const r = await loadInputs(['missing.yml', 'locked.yml', 'docs', 'bin.yml', 'good.yml'], io);
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([
      'missing.yml:1:1: error: cannot read: no such file or folder',
      'locked.yml:1:1: error: cannot read: permission denied',
      'docs:1:1: error: folder has no .yml or .yaml files',
      'bin.yml:1:1: error: binary or non-UTF-8 input (byte 0x89): expected YAML text',
    ]);
    expect(r.inputs.map((i) => i.source)).toEqual(['good.yml']);
    expect(r.sources).toEqual(['missing.yml', 'locked.yml', 'docs', 'bin.yml', 'good.yml']);
  });

  it.each([
    ['ascii', [0x61, 0x0a, 0x62], 'a\nb'],
    ['two-byte', [0xc3, 0xa9], 'é'],
    ['four-byte', [0xf0, 0x9f, 0x98, 0x80], '😀'],
    ['lone continuation', [0x61, 0x80], { line: 1, col: 2, byte: 0x80 }],
    ['truncated at the end', [0x0a, 0x61, 0xe2, 0x82], { line: 2, col: 2, byte: 0xe2 }],
    ['overlong', [0xc0, 0xaf], { line: 1, col: 1, byte: 0xc0 }],
    ['surrogate', [0x0a, 0x0a, 0xed, 0xa0, 0x80], { line: 3, col: 1, byte: 0xed }],
  ])('decodeUtf8: %s', (_name, bytes, want) => {
    const r = decodeUtf8(new Uint8Array(bytes as number[]));
    if (typeof want === 'string') expect(r).toEqual({ text: want });
    else expect(r).toMatchObject({ pos: { line: want.line, col: want.col }, byte: want.byte });
  });
});

describe('plan', () => {
  const empty = (): SpecSet => ({ queries: [], labels: [], packs: [] });
  const builtinLabels = new Set(BUILTIN_LABELS);

  it('plans creates, updates with their fields, unchanged counts and deletes in dependency order', () => {
    const current: SpecSet = {
      queries: [
        { name: 'same', query: 'SELECT 1' },
        { name: 'changed', query: 'SELECT 1', description: 'old' },
        { name: 'gone', query: 'SELECT 2' },
      ],
      labels: [
        { name: 'macOS', query: 'x' },
        { name: 'old-label', query: 'SELECT 1' },
      ],
      packs: [{ name: 'p', queries: [{ query: 'same', name: 'same', interval: 60 }, { query: 'gone', name: 'gone', interval: 60 }] }],
    };
    const desired: SpecSet = {
      queries: [
        { name: 'new', query: 'SELECT 3' },
        { name: 'Same', query: 'SELECT 1\n' },
        { name: 'changed', query: 'SELECT 2', description: 'new' },
      ],
      labels: [{ name: 'new-label', query: 'SELECT 1' }],
      packs: [{ name: 'p', queries: [{ query: 'same', name: 'same', interval: 120 }, { query: 'new', name: 'new', interval: 60 }] }],
    };
    const p = plan(desired, current, { prune: true, builtinLabels });
    expect(renderPlan(p, 'text')).toBe(
      [
        '+ query "new"',
        '~ query "changed": description, query',
        '+ label "new-label"',
        '~ pack "p": queries.gone (removed), queries.new (added), queries.same.interval',
        // Deletions last, in the order they run (issue 17.5).
        '- query "gone"',
        '- label "old-label"',
        'Plan: 2 to create, 2 to update, 2 to delete, 1 unchanged.',
        '',
      ].join('\n'),
    );
    expect(p.send.queries.map((q) => q.name)).toEqual(['new', 'changed']);
    expect(p.remove).toEqual({ packs: [], queries: ['gone'], labels: ['old-label'] });
    expect(p.changes).toBe(true);
  });

  it('deletes nothing without prune, and never the kinds the files do not apply', () => {
    const current: SpecSet = { queries: [{ name: 'a', query: 'SELECT 1' }], labels: [{ name: 'l', query: 'SELECT 1' }], packs: [] };
    expect(plan({ ...empty(), queries: [{ name: 'b', query: 'x' }] }, current, { prune: false, builtinLabels }).remove).toEqual({ packs: [], queries: [], labels: [] });
    expect(plan({ ...empty(), queries: [{ name: 'b', query: 'x' }] }, current, { prune: true, builtinLabels }).remove).toEqual({ packs: [], queries: ['a'], labels: [] });
  });

  it('plans no change for what the server gives back with its defaults filled in', () => {
    const desired: SpecSet = {
      queries: [{ name: 'q', query: 'SELECT 1\n', platform: 'linux,darwin' }],
      labels: [{ name: 'm', label_membership_type: 'manual', hosts: ['b', 'a'] }],
      packs: [{ name: 'p', targets: { labels: ['z', 'a'] }, queries: [{ query: 'q', name: 'q', interval: 60 }] }],
      options: { config: { options: { a: 1, b: { c: 2 } } } },
      enroll_secret: { secrets: [{ name: 'default', secret: 's' }] },
    };
    const fromServer: SpecSet = {
      queries: [
        { name: 'q', query: 'SELECT 1', description: '', interval: 0, platform: 'darwin,linux', logging: 'snapshot', observer_can_run: false, min_osquery_version: '', automations_enabled: false },
      ],
      labels: [{ name: 'm', description: '', query: '', platform: '', label_membership_type: 'manual', hosts: ['a', 'b'] }],
      packs: [
        {
          name: 'p',
          description: '',
          platform: '',
          disabled: false,
          targets: { labels: ['a', 'z'] },
          queries: [{ query: 'q', name: 'q', description: '', interval: 60, snapshot: false, removed: true, shard: 0, platform: '', version: '', denylist: true }],
        },
      ],
      options: { config: { options: { b: { c: 2 }, a: 1 } }, overrides: { platforms: {} } },
      enroll_secret: { secrets: [{ name: 'default', secret: 's', active: true }] },
    };
    const p = plan(desired, fromServer, { prune: true, builtinLabels });
    expect(p.changes).toBe(false);
    expect(renderPlan(p, 'text')).toBe('No changes: 5 unchanged.\n');
    expect(p.send).toEqual({ queries: [], labels: [], packs: [] });
  });

  it.each([
    ['kolide', '~ enroll_secret: secrets.default, secrets.ci (added)\n'],
    ['fleet', '~ enroll_secret: secrets (2 added, 2 removed)\n'],
  ] as const)('never prints a secret (%s)', (dialect, line) => {
    const p = plan(
      { ...empty(), enroll_secret: { secrets: [{ name: 'default', secret: 'NEW-SECRET' }, { name: 'ci', secret: 'CI-SECRET' }] } },
      { ...empty(), enroll_secret: { secrets: [{ name: 'default', secret: 'OLD-SECRET' }, { name: 'kept', secret: 'KEPT-SECRET' }] } },
      { prune: false, builtinLabels, server: profileFor(dialect, undefined, 'queries') },
    );
    const text = renderPlan(p, 'text') + renderPlan(p, 'json');
    expect(text).not.toMatch(/SECRET/);
    expect(renderPlan(p, 'text')).toBe(line + 'Plan: 0 to create, 1 to update, 0 to delete, 0 unchanged.\n');
  });

  it('ignores FleetDM-only fields against a Kolide server, and a secret kept on it', () => {
    const desired: SpecSet = {
      ...empty(),
      queries: [{ name: 'q', query: 'SELECT 1', interval: 60, platform: 'darwin', logging: 'differential' }],
      packs: [{ name: 'p', queries: [{ query: 'q', name: 'q', interval: 60, denylist: false }] }],
      enroll_secret: { secrets: [{ name: 'default', secret: 's' }] },
    };
    const kolide: SpecSet = {
      ...empty(),
      queries: [{ name: 'q', query: 'SELECT 1' }],
      packs: [{ name: 'p', queries: [{ query: 'q', name: 'q', interval: 60 }] }],
      enroll_secret: { secrets: [{ name: 'default', secret: 's', active: true }, { name: 'old', secret: 'o', active: false }] },
    };
    expect(plan(desired, kolide, { prune: false, builtinLabels, server: profileFor('kolide', undefined, 'queries') }).changes).toBe(false);
    expect(renderPlan(plan(desired, kolide, { prune: false, builtinLabels }), 'text')).toBe(
      [
        '~ query "q": interval, logging, platform',
        '~ pack "p": queries.q.denylist',
        '~ enroll_secret: secrets (0 added, 1 removed)',
        'Plan: 0 to create, 3 to update, 0 to delete, 0 unchanged.',
        '',
      ].join('\n'),
    );
  });

  it('renders JSON for machines, deterministically', () => {
    const desired: SpecSet = { ...empty(), queries: [{ name: 'a', query: 'x' }], options: { config: { x: 1 } } };
    const current: SpecSet = { ...empty(), options: { config: { x: 2 } } };
    const a = renderPlan(plan(desired, current, { prune: false, builtinLabels }), 'json');
    expect(a).toBe(renderPlan(plan(desired, current, { prune: false, builtinLabels }), 'json'));
    expect(JSON.parse(a)).toEqual({
      changes: true,
      summary: { created: 1, updated: 1, unchanged: 0, deleted: 0 },
      kinds: {
        query: { created: ['a'], updated: [], deleted: [], unchanged: 0 },
        options: { created: [], updated: [{ name: 'options', fields: ['config.x'] }], deleted: [], unchanged: 0 },
      },
    });
  });

  it.each([
    [{ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 }, []],
    [{ a: 1 }, { a: 2 }, ['a']],
    [{ a: { b: { c: 1, d: 1 } } }, { a: { b: { c: 2, d: 1 } } }, ['a.b.c']],
    [{ a: 1 }, { b: 1 }, ['a (removed)', 'b (added)']],
    [[1, 2], [2, 1], ['(value)']],
  ])('changedPaths %#', (a, b, want) => {
    expect(changedPaths(a, b)).toEqual(want);
    expect(canonical(a) === canonical(b)).toBe(want.length === 0);
  });
});

describe('FleetDM query fields', () => {
  it('observer_can_run is a known field (no "unknown field" warning)', async () => {
    const { parseDocuments } = await import('../src/specs/index.js');
    const r = parseDocuments('apiVersion: v1\nkind: query\nspec:\n  name: q\n  query: SELECT 1\n  observer_can_run: true\n', 'q.yml');
    expect(r.diagnostics).toEqual([]);
    expect(r.docs[0]?.spec).toMatchObject({ observer_can_run: true });
  });
});
