/** Host listing order: by id as numbers ("9" before "10"), both directions, stable across pages. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raw, startTestSandbox, type TestSandbox } from '../helpers/sandbox.js';

describe('GET /hosts ordered by id', () => {
  let t: TestSandbox;
  beforeAll(async () => {
    t = await startTestSandbox({ dialect: 'fleet', extraHosts: 10, checkInMs: 200 });
  });
  afterAll(async () => t?.stop());

  it('pages through every host in numeric id order', async () => {
    const ids: number[] = [];
    for (let page = 0; ; page++) {
      const res = await raw(`${t.url}/api/v1/fleet/hosts?order_key=id&order_direction=asc&per_page=5&page=${page}`, { token: t.admin.token });
      const hosts = (res.json as { hosts: Array<{ id: number }> }).hosts;
      ids.push(...hosts.map((h) => h.id));
      if (hosts.length < 5) break;
    }
    expect(ids.length).toBe(14);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    const desc = await raw(`${t.url}/api/v1/fleet/hosts?order_key=id&order_direction=desc&per_page=3`, { token: t.admin.token });
    expect((desc.json as { hosts: Array<{ id: number }> }).hosts.map((h) => h.id)).toEqual([14, 13, 12]);
  });
});
