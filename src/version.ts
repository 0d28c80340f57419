/** This client's version (the `version` field of osfleet's package.json) and its prerendered help. */
import { readFileSync } from 'node:fs';
import { PACKAGE_JSON, PRERENDERED_HELP } from './paths.js';

let cached: string | undefined;

export function clientVersion(): string {
  cached ??= (JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { version: string }).version;
  return cached;
}

/** Where `npm run build` writes `osfleet --help` as printed to a pipe (scripts/prebuild.js). */
export { PRERENDERED_HELP };

/** The prerendered top-level help, or undefined where there is none (a build without it). */
export function prerenderedHelp(): string | undefined {
  try {
    return readFileSync(PRERENDERED_HELP, 'utf8');
  } catch {
    return undefined;
  }
}
