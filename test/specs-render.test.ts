import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDocuments } from '../src/specs/parse.js';
import { plan } from '../src/specs/plan.js';
import { AGENT_OPTIONS_NOTE, fromAgentOptions, renderSpecSet, toAgentOptions } from '../src/specs/render.js';
import type { LabelSpec, PackQuery, PackSpec, QuerySpec, SpecSet } from '../src/specs/types.js';
import { toSpecSet } from '../src/specs/validate.js';

// Any text YAML can carry except NUL (refused as binary input).
const text = fc.string({ unit: 'grapheme', maxLength: 40 }).filter((s) => !s.includes('\u0000'));
const nonBlank = text.filter((s) => s.trim() !== '');
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
const platformList = fc.subarray(['darwin', 'linux', 'windows', 'chrome'], { minLength: 1 }).map((p) => p.join(','));

const query: fc.Arbitrary<Omit<QuerySpec, 'name'>> = fc.record(
  {
    description: opt(text),
    query: nonBlank,
    interval: opt(fc.integer({ min: 0, max: 604_800 })),
    platform: opt(platformList),
    logging: opt(fc.constantFrom('snapshot' as const, 'differential' as const, 'differential_ignore_removals' as const)),
    observer_can_run: opt(fc.boolean()),
    min_osquery_version: opt(text),
    automations_enabled: opt(fc.boolean()),
  },
  { requiredKeys: ['query'] },
);

const packQuery: fc.Arbitrary<PackQuery> = fc.record(
  {
    query: nonBlank,
    name: nonBlank,
    description: opt(text),
    interval: fc.integer({ min: 1, max: 604_800 }),
    snapshot: opt(fc.boolean()),
    removed: opt(fc.boolean()),
    shard: opt(fc.integer({ min: 0, max: 100 })),
    platform: opt(text),
    version: opt(text),
    denylist: opt(fc.boolean()),
  },
  { requiredKeys: ['query', 'name', 'interval'] },
);

const label: fc.Arbitrary<Omit<LabelSpec, 'name'>> = fc.oneof(
  fc.record({ description: opt(text), query: nonBlank, platform: opt(text), label_membership_type: opt(fc.constant('dynamic' as const)) }, { requiredKeys: ['query'] }),
  fc.record({ description: opt(text), label_membership_type: fc.constant('manual' as const), hosts: fc.array(nonBlank, { maxLength: 4 }) }),
);

const strip = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const named = <T>(names: string[], items: T[]) => items.slice(0, names.length).map((x, i) => ({ name: names[i]!, ...x }));
const names = fc.uniqueArray(nonBlank, { maxLength: 4, selector: (s) => s.toLowerCase() });

const specSet: fc.Arbitrary<SpecSet> = fc
  .record({
    qn: names,
    qs: fc.array(query, { minLength: 4, maxLength: 4 }),
    ln: names,
    ls: fc.array(label, { minLength: 4, maxLength: 4 }),
    pn: names,
    ps: fc.array(
      fc.record(
        {
          description: opt(text),
          platform: opt(text),
          disabled: opt(fc.boolean()),
          targets: opt(fc.record({ labels: fc.array(nonBlank, { maxLength: 3 }) })),
          queries: fc.uniqueArray(packQuery, { maxLength: 3, selector: (q) => q.name.toLowerCase() }),
        },
        { requiredKeys: ['queries'] },
      ),
      { minLength: 4, maxLength: 4 },
    ),
    options: opt(fc.record({ config: fc.dictionary(nonBlank, fc.jsonValue({ maxDepth: 2 })) })),
  })
  .map(({ qn, qs, ln, ls, pn, ps, options }) => {
    const set: SpecSet = { queries: named(qn, qs), labels: named(ln, ls) as LabelSpec[], packs: named(pn, ps) as PackSpec[] };
    if (options) set.options = options;
    return strip(set);
  });

describe('renderSpecSet', () => {
  it('writes YAML that parses back to the same specs and plans no change', () => {
    fc.assert(
      fc.property(specSet, (set) => {
        const yaml = renderSpecSet(set);
        const r = parseDocuments(yaml, 'round-trip.yml');
        expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
        const back = toSpecSet(r.docs);
        expect(strip(back)).toEqual(set);
        expect(plan(set, back, { prune: true, builtinLabels: new Set() }).changes).toBe(false);
      }),
      { numRuns: 150 },
    );
  });

  it('writes kinds in dependency order with a fixed field order', () => {
    const yaml = renderSpecSet({
      packs: [{ queries: [{ interval: 60, name: 'n', query: 'q' }], name: 'p' }],
      labels: [{ query: 'SELECT 1', name: 'l' }],
      queries: [{ query: 'SELECT 1', name: 'q', description: 'd' }],
      enroll_secret: { secrets: [{ active: true, secret: 's', name: 'default' }] },
    });
    expect(yaml).toBe(
      [
        '---',
        'apiVersion: v1',
        'kind: query',
        'spec:',
        '  name: q',
        '  description: d',
        '  query: SELECT 1',
        '---',
        'apiVersion: v1',
        'kind: label',
        'spec:',
        '  name: l',
        '  query: SELECT 1',
        '---',
        'apiVersion: v1',
        'kind: pack',
        'spec:',
        '  name: p',
        '  queries:',
        '    - query: q',
        '      name: n',
        '      interval: 60',
        '---',
        'apiVersion: v1',
        'kind: enroll_secret',
        'spec:',
        '  secrets:',
        '    - name: default',
        '      secret: s',
        '      active: true',
        '',
      ].join('\n'),
    );
  });
});

describe('FleetDM agent options', () => {
  it('maps an options document to config.agent_options and back', () => {
    const options = { config: { options: { distributed_interval: 10 } }, overrides: { platforms: { darwin: { file_paths: { v: ['/Volumes/%%'] } } } } };
    const body = toAgentOptions(options);
    expect(body).toEqual({ agent_options: options });
    expect(fromAgentOptions({ org_info: {}, ...body })).toEqual(options);
    expect(fromAgentOptions({ agent_options: { config: { a: 1 } } })).toEqual({ config: { a: 1 } });
    expect(fromAgentOptions({})).toBeUndefined();
    expect(AGENT_OPTIONS_NOTE).toMatch(/agent_options/);
  });
});
