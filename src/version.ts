/** This client's version: the `version` field of the package.json shipped beside dist/. */
import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function clientVersion(): string {
  cached ??= (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return cached;
}
