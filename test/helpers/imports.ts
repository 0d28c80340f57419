/**
 * The import graph of src/ as TypeScript reads it (static, type-only, re-exports and `import()`
 * all count: a type import is still a dependency a reader must follow), its cycles, and the layer
 * of each file, for test/architecture.test.ts. See ARCHITECTURE.md for the layers.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** File (relative to the root, `/`-separated) → the project files it imports. */
export type ImportGraph = Map<string, Set<string>>;

export function importGraph(root: string): ImportGraph {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) files.push(p);
    }
  };
  walk(root);
  const graph: ImportGraph = new Map();
  for (const file of files) {
    const rel = path.relative(root, file).split(path.sep).join('/');
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = new Set<string>();
    for (const ref of info.importedFiles) {
      if (!ref.fileName.startsWith('.')) continue; // node: builtins and packages
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(rel), ref.fileName)).replace(/\.js$/, '.ts');
      targets.add(target);
    }
    graph.set(rel, targets);
  }
  return graph;
}

/** Every cycle, as the files of one strongly connected component (Tarjan), sorted. */
export function cycles(graph: ImportGraph): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || graph.get(v)!.has(v)) found.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

/**
 * A file's layer: its folder under src/ (`api`, `results`, …), with the command modules split in
 * two (`commands` for the work, `command-data` for the `*.cmd.ts` data and the builder's types);
 * the entry (`cli.ts`), the builder (`program.ts`) and `context.ts` are each their own layer; every
 * other file at the top of src/ is a small shared utility (`base`).
 */
export function layerOf(file: string): string {
  const parts = file.split('/');
  if (parts.length === 1) {
    const name = parts[0]!.replace(/\.ts$/, '');
    return ['cli', 'program', 'context', 'completion', 'launch'].includes(name) ? name : 'base';
  }
  if (parts[0] === 'commands') {
    return /\.cmd\.ts$/.test(file) || ['commands/define.ts', 'commands/index.ts', 'commands/result-options.ts'].includes(file) ? 'command-data' : 'commands';
  }
  return parts[0]!;
}

/** An import the rules do not allow: `from` (a file) imports `to` (a file). */
export interface Violation {
  from: string;
  to: string;
  rule: string;
}

/**
 * Checks each import against `allowed` (layer → the layers it may import; its own always) and
 * against `extra`, rules on particular files that a layer table cannot say.
 */
export function layerViolations(
  graph: ImportGraph,
  allowed: Readonly<Record<string, readonly string[]>>,
  extra: (from: string, to: string) => string | undefined = () => undefined,
): Violation[] {
  const out: Violation[] = [];
  for (const [from, targets] of graph) {
    const fromLayer = layerOf(from);
    for (const to of targets) {
      const toLayer = layerOf(to);
      const may = allowed[fromLayer];
      if (may === undefined) {
        out.push({ from, to, rule: `layer "${fromLayer}" is not in the table (add it to ARCHITECTURE.md and the test)` });
      } else if (toLayer !== fromLayer && !may.includes(toLayer)) {
        out.push({ from, to, rule: `${fromLayer} may import only ${[fromLayer, ...may].join(', ')}` });
      } else {
        const why = extra(from, to);
        if (why) out.push({ from, to, rule: why });
      }
    }
  }
  return out.sort((a, b) => (a.from + a.to).localeCompare(b.from + b.to));
}
