/**
 * Where osfleet's own files are: the package root, found once, and every file the program reads
 * from it, named here and nowhere else.
 *
 * The root is the nearest folder above this module that holds a package.json. This module runs
 * from `src/` (vitest), from `dist/` (tsc's output, which tests and benchmarks import) and from
 * `bundle/` (what `bin/osfleet.js` runs, in a clone and in an installed package alike): in each,
 * the root is the folder above, so a module never counts `../` itself.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function packageRoot(from: string): string {
  for (let dir = from; ; ) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`osfleet: no package.json in any folder above ${from}`);
    dir = up;
  }
}

/** The folder holding osfleet's package.json, bin/, packs/ and bundle/. */
export const PACKAGE_ROOT = packageRoot(path.dirname(fileURLToPath(import.meta.url)));

/** osfleet's package.json (its `version` is the client's). */
export const PACKAGE_JSON = path.join(PACKAGE_ROOT, 'package.json');

/** The packs shipped with osfleet (`packs/<name>/`). */
export const BUNDLED_PACKS_DIR = path.join(PACKAGE_ROOT, 'packs');

/**
 * What `npm run build` ships (scripts/bundle.js): the command line and the sandbox bundled by
 * esbuild, and the files scripts/prebuild.js renders beside them.
 */
export const BUNDLE_DIR = path.join(PACKAGE_ROOT, 'bundle');

/**
 * The command line as one CommonJS file, which src/launch.ts compiles with V8's code cache. Its
 * first line names the build (`// osfleet build <id>`), which keys that cache.
 */
export const CLI_BUNDLE = path.join(BUNDLE_DIR, 'cli.cjs');

/** `osfleet --help` as printed into a pipe (scripts/prebuild.js). */
export const PRERENDERED_HELP = path.join(BUNDLE_DIR, 'help.txt');

/** The schema as empty SQLite tables (scripts/prebuild.js; opened by src/schema/image.ts). */
export const SCHEMA_DATABASE_IMAGE = path.join(BUNDLE_DIR, 'osquery.sqlite');

/** The sandbox's own process entry (`preview --detach`; src/sandbox/main.ts bundled). */
export const SANDBOX_MAIN = path.join(BUNDLE_DIR, 'sandbox.js');
