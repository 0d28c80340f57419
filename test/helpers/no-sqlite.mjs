// Loaded with `node --import` by tests: makes `better-sqlite3` behave as it does where its native
// binding cannot load (no prebuilt binary for the platform, a broken install): the module loads,
// and opening a database throws what the real one throws. Synchronous hooks, so that they see the
// bundle's `require` as well as an `import`.
import { registerHooks } from 'node:module';

const standIn = new URL('./no-sqlite-binding.cjs', import.meta.url).href;
registerHooks({
  resolve(specifier, context, next) {
    if (specifier === 'better-sqlite3') return { url: standIn, format: 'commonjs', shortCircuit: true };
    return next(specifier, context);
  },
});
