// `npm run build`, after tsc: bundles tsc's output (dist/, which is not shipped) into bundle/, what
// bin/osfleet.js runs and the package ships. One process start then reads a few files instead of
// about 180 modules (ours, yaml's, commander's…): Node's module loader was a third of `lint`'s time.
// - two entries: bundle/cli.js (the command line) and bundle/sandbox.js (the sandbox's own process,
//   `preview --detach`); code splitting keeps every `import()` lazy, as it is in dist/;
// - better-sqlite3 stays outside (a native binding, loaded only by the commands that need it), and
//   so does undici, which src/api/undici.ts requires file by file at run time;
// - yaml is taken from its own ESM build (same version, same code): its CommonJS build, reached
//   through an `import('yaml')`, came out of esbuild's interop without its classes
//   ("LineCounter is not a constructor");
// - CommonJS code in the bundle (commander, ws, cli-table3) gets a real `require` from the banner.
// dist/bundle-meta.json (esbuild's metafile: which module is in which file) is for the tests
// (test/cli-e2e.test.ts): what a run loaded, and whether the bundle is older than dist/.
// scripts/prebuild.js then writes help.txt and osquery.sqlite into bundle/ (src/paths.ts names them).
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'bundle');
const require = createRequire(import.meta.url);

rmSync(out, { recursive: true, force: true });
// The tests' compile cache (test/helpers/cli.ts) holds the code of the bundle being replaced.
rmSync(path.join(root, 'dist/.test-cache'), { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: { cli: 'dist/cli.js', sandbox: 'dist/sandbox/main.js' },
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  external: ['better-sqlite3', 'undici', 'bufferutil', 'utf-8-validate'],
  alias: { yaml: path.join(path.dirname(require.resolve('yaml/package.json')), 'browser/index.js') },
  banner: { js: "import { createRequire as __osfleetRequire } from 'node:module'; const require = __osfleetRequire(import.meta.url);" },
  legalComments: 'eof',
  metafile: true,
  logLevel: 'warning',
});
writeFileSync(path.join(root, 'dist/bundle-meta.json'), `${JSON.stringify(result.metafile)}\n`);
