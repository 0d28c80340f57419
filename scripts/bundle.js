// `npm run build`, after tsc: bundles tsc's output (dist/, which is not shipped) into bundle/, what
// bin/osfleet.js runs and the package ships. One process start then reads a few files instead of
// about 200 modules (ours, yaml's, commander's…): Node's module loader was a third of `lint`'s time.
// Four files:
// - bundle/launch.cjs (src/launch.ts): what bin/osfleet.js requires. It answers --version and
//   --help into a pipe, else compiles bundle/cli.cjs with V8's code cache and runs its `main`;
// - bundle/cli.cjs (src/cli.ts): the command line, one CommonJS file, because V8's code cache (made
//   after a run, src/launch.ts) is per script and Node can only give it to a script, not an ES
//   module. esbuild keeps every `import()` lazy all the same: a module reached only through one is
//   wrapped and runs at its first import. Its first line is `// osfleet build <id>` (a hash of the
//   rest), which keys that cache. It holds better-sqlite3's JavaScript (not its native binding);
// - bundle/sandbox-lib.cjs (src/sandbox/index.ts): the sandbox, which shares no code with the
//   client (ARCHITECTURE.md): `preview` and `demo` require it from bundle/cli.cjs, which is 400 kB
//   lighter to read at every start without it. better-sqlite3 stays in node_modules for it;
// - bundle/sandbox.js: the sandbox's own process (`preview --detach`), an ES module importing
//   bundle/sandbox-lib.cjs.
// undici stays in node_modules (src/api/undici.ts requires it file by file at run time). yaml is
// taken from its own ESM build (same version, same code): its CommonJS build, reached through an
// `import('yaml')`, came out of esbuild's interop without its classes ("LineCounter is not a
// constructor"). In the CommonJS files, `import.meta.url` is made from __filename.
// dist/bundle-meta.json (esbuild's metafiles: which module is in which file) is for the tests
// (test/cli-e2e.test.ts): what a run loaded, and whether the bundle is older than dist/.
// scripts/prebuild.js then writes help.txt and osquery.sqlite into bundle/ (src/paths.ts names them).
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'bundle');
const require = createRequire(import.meta.url);

rmSync(out, { recursive: true, force: true });
// The tests' compile caches (test/helpers/cli.ts) hold the code of the bundle being replaced.
rmSync(path.join(root, 'dist/.test-cache'), { recursive: true, force: true });

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  target: 'node22',
  external: ['better-sqlite3', 'undici', 'bufferutil', 'utf-8-validate'],
  alias: { yaml: path.join(path.dirname(require.resolve('yaml/package.json')), 'browser/index.js') },
  legalComments: 'eof',
  charset: 'ascii',
  metafile: true,
  logLevel: 'warning',
};
const commonJs = {
  ...common,
  format: 'cjs',
  // `import()` becomes a lazy require: a script compiled by src/launch.ts has no module loader.
  supported: { 'dynamic-import': false },
  define: { 'import.meta.url': '__osfleetModuleUrl' },
  banner: { js: "var __osfleetModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
};
// better-sqlite3's JavaScript (15 small CommonJS files: 7 ms of `require` at each `lint`) goes into
// bundle/cli.cjs; its native binding stays in its package. The package finds the binding from its
// own folder (`__dirname` in lib/binding.js: build/, else prebuilds/<platform>.node), so that one
// module is given the package's real lib/ folder, found at run time.
const betterSqliteBinding = {
  name: 'better-sqlite3-binding',
  setup(b) {
    b.onLoad({ filter: /[\\/]better-sqlite3[\\/]lib[\\/]binding\.js$/ }, async (args) => ({
      contents: `var __dirname = require('node:path').join(require('node:path').dirname(require.resolve('better-sqlite3/package.json')), 'lib');\n${readFileSync(args.path, 'utf8')}`,
      loader: 'js',
    }));
  },
};
// The sandbox's one door (src/sandbox/index.ts), seen from outside the sandbox: bundle/sandbox-lib.cjs.
const sandboxOutside = {
  name: 'sandbox-outside',
  setup(b) {
    b.onResolve({ filter: /(^|\/)(sandbox\/)?index\.js$/ }, (args) => {
      const target = path.resolve(args.resolveDir, args.path);
      const importer = path.relative(path.join(root, 'dist/sandbox'), args.importer);
      if (target !== path.join(root, 'dist/sandbox/index.js') || (!importer.startsWith('..') && importer !== 'main.js')) return undefined;
      return { path: './sandbox-lib.cjs', external: true };
    });
  },
};
const results = await Promise.all([
  build({ ...commonJs, entryPoints: { 'sandbox-lib': 'dist/sandbox/index.js' }, outdir: out, outExtension: { '.js': '.cjs' } }),
  build({ ...commonJs, entryPoints: { launch: 'dist/launch.js' }, outdir: out, outExtension: { '.js': '.cjs' } }),
  build({
    ...commonJs,
    entryPoints: { cli: 'dist/cli.js' },
    outdir: out,
    outExtension: { '.js': '.cjs' },
    external: [...common.external.filter((name) => name !== 'better-sqlite3'), 'better-sqlite3/package.json'],
    plugins: [betterSqliteBinding, sandboxOutside],
  }),
  build({
    ...common,
    entryPoints: { sandbox: 'dist/sandbox/main.js' },
    outdir: out,
    format: 'esm',
    plugins: [sandboxOutside],
  }),
]);

// src/launch.ts reads the command line as latin1 (charset 'ascii' escapes every string; only a
// comment may keep a UTF-8 character, which latin1 leaves a comment) and compiles it as a script,
// as it is: it must hold no `import()`, it is wrapped here in the function Node's loader would wrap
// a CommonJS module in, and its first line names the build.
const cli = path.join(out, 'cli.cjs');
const code = readFileSync(cli, 'latin1');
if (/\bimport\(/.test(code.replace(/\/\/.*|\/\*[\s\S]*?\*\//g, ''))) throw new Error('bundle/cli.cjs still holds an import(): src/launch.ts compiles it as a script');
const buildId = createHash('sha256').update(code).digest('hex').slice(0, 16);
const stamped = `// osfleet build ${buildId}\n(function (exports, require, module, __filename, __dirname) {${code}\n})`;
writeFileSync(cli, stamped, 'latin1');

const metafile = { inputs: {}, outputs: {} };
for (const r of results) {
  Object.assign(metafile.inputs, r.metafile.inputs);
  Object.assign(metafile.outputs, r.metafile.outputs);
}
metafile.outputs['bundle/cli.cjs'].bytes = stamped.length;
writeFileSync(path.join(root, 'dist/bundle-meta.json'), `${JSON.stringify(metafile)}\n`);
