// Placeholder until the command lands; it fails loudly rather than pretending to work.
import { CliError } from '../errors.js';
import type { Ctx } from '../context.js';

export async function run(_opts: unknown, _ctx: Ctx): Promise<number> {
  throw new CliError('osfleet schema is not implemented yet');
}

