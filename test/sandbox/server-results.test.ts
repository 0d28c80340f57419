/** The sandbox's result lines: the log file as Fleet's filesystem logger writes it, and query reports. */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Core } from '../../src/sandbox/server/core.js';

let dir: string | undefined;
let core: Core | undefined;
afterEach(() => {
  core?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  core = undefined;
  dir = undefined;
});

function start(): { core: Core; log: string } {
  dir = mkdtempSync(path.join(tmpdir(), 'osfleet-results-'));
  const log = path.join(dir, 'osquery_result');
  core = new Core({ dialect: 'fleet', enrollSecret: 'secret', dbPath: ':memory:', statusTickMs: 5000, agentIntervalSec: 1, tls: false, resultLogPath: log });
  const now = Date.parse('2026-12-01T14:00:00Z');
  core.store.upsertQuery({ name: 'usb', description: '', query: 'SELECT serial FROM usb_devices', extra: {}, authorId: null }, now);
  core.store.upsertPack('data-leak', { name: 'data-leak', queries: [{ query: 'usb', name: 'usb-devices', interval: 600 }] }, now);
  return { core, log };
}

const line = (o: Record<string, unknown>) => ({ name: 'pack/data-leak/usb-devices', hostIdentifier: 'h1', calendarTime: 'x', unixTime: 1, epoch: 0, counter: 0, numerics: false, ...o });

describe('ResultLog', () => {
  it('appends every item as one JSON line (0600) and keeps each host\'s current rows for the report', () => {
    const { core, log } = start();
    const h = core.enroll('h1', 'default', {});
    const id = core.store.savedQueryByName('usb')!.id;
    const seen: number[] = [];
    core.results.on('results', (e) => seen.push(e.items.length));
    const t = Date.parse('2026-12-01T14:05:00Z');
    core.results.add(h, [line({ action: 'added', columns: { serial: 'A' } }), line({ action: 'added', columns: { serial: 'B' } })], t);
    core.results.add(h, [line({ diffResults: { added: [{ serial: 'C' }], removed: [{ serial: 'A' }] } }), 'not an object'], t + 1000);
    expect(seen).toEqual([2, 1]);
    const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.action ?? 'batch')).toEqual(['added', 'added', 'batch']);
    expect(statSync(log).mode & 0o777).toBe(0o600);
    const rep = core.results.report(id);
    expect(rep.clipped).toBe(false);
    expect(rep.rows.map((r) => [r.hostName, r.columns['serial'], new Date(r.lastFetched).toISOString()])).toEqual([
      ['h1', 'B', '2026-12-01T14:05:01.000Z'],
      ['h1', 'C', '2026-12-01T14:05:01.000Z'],
    ]);
    // A snapshot replaces what the host had.
    core.results.add(h, [line({ action: 'snapshot', snapshot: [{ serial: 'Z' }] })], t + 2000);
    expect(core.results.report(id).rows.map((r) => r.columns['serial'])).toEqual(['Z']);
    // Lines of unknown queries are logged, not reported.
    core.results.add(h, [line({ name: 'pack/other/x', action: 'added', columns: { a: '1' } })], t + 3000);
    expect(core.results.lines).toBe(5);
    expect(core.results.report(id).rows).toHaveLength(1);
  });
});
