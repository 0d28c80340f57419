// Loaded with `node --import` by tests: makes `better-sqlite3` behave as it does where its native
// binding cannot load (no prebuilt binary for the platform, a broken install): its JavaScript
// loads, and opening a database throws what the real one throws. Synchronous hooks, so that they
// see the `require` of bundle/cli.cjs (which holds better-sqlite3's JavaScript and requires the
// binding itself) as well as the `import` of bundle/sandbox.js (which imports the package).
import { registerHooks } from 'node:module';

const standIn = (file) => ({ url: new URL(file, import.meta.url).href, format: 'commonjs', shortCircuit: true });
registerHooks({
  resolve(specifier, context, next) {
    if (specifier === 'better-sqlite3') return standIn('./no-sqlite-package.cjs');
    if (/better[-_]sqlite3.*\.node$/.test(specifier)) return standIn('./no-sqlite-binding.cjs');
    return next(specifier, context);
  },
});
