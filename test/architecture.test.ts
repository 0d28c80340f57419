/**
 * The layers of ARCHITECTURE.md, checked: no import cycle anywhere in src/, and no import that
 * crosses the layers the wrong way. A failure names the file, the import and the rule.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { cycles, importGraph, layerOf, layerViolations, type ImportGraph } from './helpers/imports.js';
import { repoRoot } from './helpers/cli.js';

/** Layer → the layers it may import (besides its own). Keep in step with ARCHITECTURE.md. */
const ALLOWED: Record<string, readonly string[]> = {
  base: [],
  schema: ['base'],
  results: ['base', 'schema'],
  config: ['base'],
  api: ['base', 'config'],
  specs: ['base', 'schema', 'api'],
  context: ['base', 'config', 'api'],
  commands: ['base', 'schema', 'results', 'config', 'api', 'specs', 'context', 'sandbox'],
  'command-data': ['base', 'context', 'commands'],
  completion: ['command-data'],
  program: ['base', 'context', 'command-data', 'completion'],
  cli: ['base', 'context', 'program', 'command-data'],
  // What bin/osfleet.js runs before the command line is read: it reaches that only as a file.
  launch: ['base'],
  // The sandbox is a separate Fleet server that happens to ship in the same package: it shares no
  // code with the client, so that it cannot agree with the client's mistakes.
  sandbox: [],
};

/** `commands/query.ts` and `commands/query/statuses.ts` → `query`. */
const verbOf = (file: string) => file.split('/')[1]!.replace(/\.ts$/, '');
const isPartOf = (file: string) => file.split('/').length === 3;

/** What a layer table cannot say. */
function fileRules(from: string, to: string): string | undefined {
  const fromLayer = layerOf(from);
  const toLayer = layerOf(to);
  // A command's own modules (`commands/<verb>/…`) serve that command (`commands/<verb>.ts`) and each other only.
  if (fromLayer === 'commands' && toLayer === 'commands' && !(isPartOf(to) && verbOf(from) === verbOf(to))) {
    return 'a command does not import another command: move what they share to the layer it belongs to';
  }
  if (fromLayer === 'commands' && toLayer === 'sandbox' && to !== 'sandbox/index.ts') return 'commands start the sandbox through sandbox/index.ts only';
  if (fromLayer === 'command-data' && toLayer === 'commands') {
    // The data names its implementation, which is loaded when the command runs: `--help` must not load it.
    if (from.replace(/\.cmd\.ts$/, '.ts') !== to) return 'a command\'s data imports only its own implementation (lazily, in run)';
  }
  return undefined;
}

/** Imports that are wrong but owned by work in progress elsewhere; this list only shrinks. */
const KNOWN: ReadonlyArray<[string, string]> = [];

describe('the import graph of src/', () => {
  const graph = importGraph(path.join(repoRoot, 'src'));

  it('has no cycle (type-only and dynamic imports count)', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('has no import that crosses the layers the wrong way', () => {
    const known = new Set(KNOWN.map(([a, b]) => `${a} -> ${b}`));
    const found = layerViolations(graph, ALLOWED, fileRules).filter((v) => !known.has(`${v.from} -> ${v.to}`));
    expect(found.map((v) => `${v.from} imports ${v.to}: ${v.rule}`)).toEqual([]);
  });

  it('every layer folder is in the table', () => {
    const layers = new Set([...graph.keys()].map(layerOf));
    expect([...layers].filter((l) => !(l in ALLOWED))).toEqual([]);
  });

  it("names osfleet's own files in src/paths.ts only: no other module finds a file from import.meta.url (bundled, it points elsewhere)", () => {
    // src/api/undici.ts resolves packages (node_modules), not osfleet's files.
    const found = [...graph.keys()].filter((f) => f !== 'paths.ts' && f !== 'api/undici.ts' && readFileSync(path.join(repoRoot, 'src', f), 'utf8').includes('import.meta.url'));
    expect(found).toEqual([]);
  });
});

describe('the checker itself', () => {
  const g = (edges: Record<string, string[]>): ImportGraph => new Map(Object.entries(edges).map(([k, v]) => [k, new Set(v)]));

  it('finds a cycle through a type import, and none in a tree', () => {
    expect(cycles(g({ 'cli.ts': ['commands/query.ts'], 'commands/query.ts': ['cli.ts'] }))).toEqual([['cli.ts', 'commands/query.ts']]);
    expect(
      cycles(g({ 'api/client.ts': ['config/store.ts'], 'config/store.ts': ['context.ts'], 'context.ts': ['api/client.ts'] })),
    ).toEqual([['api/client.ts', 'config/store.ts', 'context.ts']]);
    expect(cycles(g({ 'cli.ts': ['program.ts', 'errors.ts'], 'program.ts': ['errors.ts'], 'errors.ts': [] }))).toEqual([]);
  });

  it('lets a command import its own modules, and those each other', () => {
    const v = layerViolations(g({ 'commands/query.ts': ['commands/query/statuses.ts'], 'commands/query/resume.ts': ['commands/query/statuses.ts'], 'commands/query/statuses.ts': [] }), ALLOWED, fileRules);
    expect(v).toEqual([]);
  });

  it.each([
    ['api/hosts.ts', 'commands/get.ts', 'api may import only api, base, config'],
    ['results/pipeline.ts', 'api/client.ts', 'results may import only results, base, schema'],
    ['sandbox/server/app.ts', 'schema/index.ts', 'sandbox may import only sandbox'],
    ['errors.ts', 'api/errors.ts', 'base may import only base'],
    ['commands/apply.ts', 'commands/get.ts', 'a command does not import another command'],
    ['commands/query.cmd.ts', 'commands/export.ts', "a command's data imports only its own implementation"],
    ['commands/export.ts', 'commands/query/statuses.ts', 'a command does not import another command'],
    ['commands/export/users.ts', 'commands/query/campaign.ts', 'a command does not import another command'],
    ['commands/query/resume.ts', 'commands/query.ts', 'a command does not import another command'],
    ['commands/query.cmd.ts', 'commands/query/statuses.ts', "a command's data imports only its own implementation"],
  ])('flags %s importing %s', (from, to, rule) => {
    const v = layerViolations(g({ [from]: [to], [to]: [] }), ALLOWED, fileRules);
    expect(v).toHaveLength(1);
    expect(v[0]!.rule).toContain(rule);
  });
});
