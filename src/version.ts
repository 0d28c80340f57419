/** This client's version (the `version` field of the package.json shipped beside dist/) and its prerendered help. */
import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function clientVersion(): string {
  cached ??= (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return cached;
}

/** Where `npm run build` writes `osfleet --help` as printed to a pipe (scripts/prebuild.js). */
export const PRERENDERED_HELP = new URL('./help.txt', import.meta.url);

/** The prerendered top-level help, or undefined where there is none (a build without it). */
export function prerenderedHelp(): string | undefined {
  try {
    return readFileSync(PRERENDERED_HELP, 'utf8');
  } catch {
    return undefined;
  }
}
