// Placeholder: replaced by the real client.
import type { Ctx } from '../context.js';
export interface FleetClient {
  readonly dialect: 'kolide' | 'fleet';
  close(): Promise<void>;
}
export async function createClientFromContext(_ctx: Ctx): Promise<FleetClient> {
  throw new Error('not yet');
}
