/**
 * FleetDM 4.82 renamed queries to reports and teams to fleets; fleetctl took the new words as flags
 * with the old ones as aliases (`--fleet`/`--team`, `--report-name`/`--query-name`,
 * `--with-reports`/`--with-queries`). osfleet takes both: the same value twice is fine, two
 * different values a usage error; the command sees one key.
 */
import { UsageError } from './errors.js';

export function sameOption<O extends object>(opts: O, key: string, alias: string, flags: [string, string]): O {
  const o = opts as Record<string, unknown>;
  const a = o[key];
  const b = o[alias];
  if (a !== undefined && b !== undefined && a !== b) throw new UsageError(`${flags[0]} and ${flags[1]} are the same option, given different values`);
  const { [alias]: _drop, ...rest } = o;
  return (a === undefined && b === undefined ? rest : { ...rest, [key]: a ?? b }) as O;
}
