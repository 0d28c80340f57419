// Placeholder until the command lands; it fails loudly rather than pretending to work.
import { CliError } from '../errors.js';
import type { Ctx } from '../context.js';

export async function run(_opts: unknown, _ctx: Ctx): Promise<number> {
  throw new CliError('osfleet config is not implemented yet');
}
export const runSet = run;
export const runGet = run;
export const runUseContext = run;
export const runList = run;
