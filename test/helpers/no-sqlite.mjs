// Loaded with `node --import` by tests: makes `better-sqlite3` behave as it does where its native
// binding cannot load (no prebuilt binary for the platform, a broken install): the module imports,
// and opening a database throws what the real one throws.
import { register } from 'node:module';

const hooks = `
export async function resolve(specifier, context, next) {
  if (specifier === 'better-sqlite3') return { url: 'osfleet-test:no-sqlite', shortCircuit: true };
  return next(specifier, context);
}
export async function load(url, context, next) {
  if (url === 'osfleet-test:no-sqlite') {
    return {
      format: 'module',
      shortCircuit: true,
      source: "export default class Database { constructor() { throw new Error('Could not locate the bindings file. Tried:\\\\n → /x/build/Release/better_sqlite3.node'); } }",
    };
  }
  return next(url, context);
}
`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
