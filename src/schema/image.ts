/**
 * The schema database saved by `npm run build` (scripts/prebuild.js): every osquery table as an
 * empty SQLite table, which `lint` and `apply` prepare queries against. Opening the image takes
 * about 4 ms where building the tables takes 20–40 ms at every start.
 */
import { readFileSync } from 'node:fs';
import { SCHEMA_DATABASE_IMAGE } from '../paths.js';

export { SCHEMA_DATABASE_IMAGE };

/** The image's bytes, or undefined where there is none (then the tables are built). */
export function schemaDatabaseImage(): Buffer | undefined {
  try {
    return readFileSync(SCHEMA_DATABASE_IMAGE);
  } catch {
    return undefined;
  }
}
