import type { FleetModel } from './model.js';
import { buildModel } from './model.js';

const models = new Map<string, FleetModel>();

/** For tests and tools: run SQL as the given host would, without the network. */
export function answerAs(
  hostname: string,
  sql: string,
  opts: { seed?: number; extraHosts?: number } = {},
): { status: number; rows: Record<string, string>[]; message: string } {
  const seed = opts.seed ?? 1;
  const extraHosts = opts.extraHosts ?? 0;
  const key = `${seed}:${extraHosts}`;
  let model = models.get(key);
  if (!model) {
    model = buildModel({ seed, story: true, extraHosts, cacheMs: 0 });
    // A handful of models at most: each holds in-memory databases.
    if (models.size >= 4) {
      const [oldKey, old] = models.entries().next().value as [string, FleetModel];
      old.close();
      models.delete(oldKey);
    }
    models.set(key, model);
  }
  const host = model.byName.get(hostname);
  if (!host) throw new Error(`no simulated host named ${hostname}`);
  const { status, rows, message } = model.answer(host, sql);
  return { status, rows, message };
}
