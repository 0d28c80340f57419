// Loaded with `node --import`: records every module URL the process resolves, one per line, to the
// file named by $OSFLEET_TRACE_LOADS, so a test can prove what --help and --version do not load.
import { register } from 'node:module';

register(
  'data:text/javascript,' +
    encodeURIComponent(`
import { appendFileSync } from 'node:fs';
const out = process.env.OSFLEET_TRACE_LOADS;
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (out) appendFileSync(out, r.url + '\\n');
  return r;
}`),
);
