/**
 * The fleet as data: which hosts exist, their identities and templates, and answering SQL as
 * any of them. No network here; agent.ts drives the protocol on top of this.
 */
import { createHash } from 'node:crypto';
import type { HostData, SimRow } from './builders.js';
import type { IdentityRows, QueryAnswer } from './engine.js';
import { HostDb } from './engine.js';
import { createRng, mixSeed } from './prng.js';
import type { SimPlatform } from './schema.js';
import type { HostIdentity } from './story.js';
import { macSerial, storyHosts } from './story.js';
import { TEMPLATES, buildTemplate } from './templates.js';

export interface Template {
  key: string;
  platform: SimPlatform;
  data: HostData;
  /** Opened on first use: a fleet of Macs only never builds a Windows database. */
  db: HostDb | undefined;
}

export interface SimHost {
  index: number;
  story: boolean;
  identity: HostIdentity;
  template: Template;
}

export interface FleetModel {
  hosts: SimHost[];
  byName: Map<string, SimHost>;
  templates: Template[];
  answer(host: SimHost, sql: string): QueryAnswer;
  close(): void;
}

export interface ModelOptions {
  seed: number;
  story: boolean;
  extraHosts: number;
  /** Keep shared (template, sql) answers this long; 0 = no cache. */
  cacheMs: number;
  now?: () => number;
}

const CACHE_LIMIT = 512;
const ROLES = ['web', 'db', 'api', 'build', 'cache', 'queue', 'batch', 'mail'];
const MAC_NAMES = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'olivia', 'peggy', 'trent', 'victor', 'walter', 'yasmin'];

/** The system_info/osquery_info rows of one host: template values plus its own identity. */
export function identityRows(host: SimHost, since: number): IdentityRows {
  const id = host.identity;
  const h = createHash('sha1').update(id.uuid).digest();
  const bootBase = host.story ? 1598000000 : 1714000000;
  const bootTime = bootBase + (h.readUInt32BE(0) % 400000);
  const systemInfo: SimRow = {
    ...host.template.data.systemInfo,
    hostname: id.hostname, uuid: id.uuid, hardware_serial: id.hardwareSerial, board_serial: id.boardSerial,
    computer_name: id.computerName, local_hostname: id.localHostname,
  };
  const pid = 100 + (h.readUInt16BE(4) % 30000);
  const hex = h.toString('hex');
  const osqueryInfo: SimRow = {
    ...host.template.data.osqueryInfo,
    pid, uuid: id.uuid, watcher: pid - 1, start_time: bootTime + 40,
    instance_id: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`,
  };
  // Story and generated boot records are in the past; uptime only needs to look alive and grow.
  const uptimeBase = 3600 + (h.readUInt32BE(6) % (20 * 86400));
  return { systemInfo, osqueryInfo, uptimeBase, since };
}

function generatedIdentity(seed: number, n: number, platform: SimPlatform, tag: string, width: number, taken: Set<string>): HostIdentity {
  const rng = createRng(mixSeed(seed, 3, n));
  const num = String(n).padStart(width, '0');
  let hostname: string;
  let computerName: string;
  let serial: string;
  if (platform === 'windows') {
    do hostname = `DESKTOP-${rng.alnum(7)}`;
    while (taken.has(hostname));
    computerName = hostname;
    serial = `PF${rng.alnum(6)}`;
  } else if (platform === 'darwin') {
    const who = rng.pick(MAC_NAMES);
    hostname = `${who}-${tag}-${num}`;
    computerName = `${who.charAt(0).toUpperCase()}${who.slice(1)}'s MacBook Pro`;
    serial = macSerial(rng);
  } else {
    hostname = `${rng.pick(ROLES)}-${tag}-${num}`;
    computerName = hostname;
    serial = rng.alnum(10).toLowerCase();
  }
  taken.add(hostname);
  return { hostname, uuid: rng.uuid(), hardwareSerial: serial, boardSerial: serial, computerName, localHostname: hostname.replace(/[^A-Za-z0-9-]/g, '') };
}

export function buildModel(opts: ModelOptions): FleetModel {
  const templates: Template[] = [];
  const hosts: SimHost[] = [];
  const byName = new Map<string, SimHost>();
  const add = (h: SimHost): void => {
    hosts.push(h);
    byName.set(h.identity.hostname, h);
  };
  if (opts.story) {
    for (const s of storyHosts(opts.seed)) {
      const t: Template = { key: `story:${s.identity.hostname}`, platform: s.data.platform, data: s.data, db: undefined };
      templates.push(t);
      add({ index: hosts.length, story: true, identity: s.identity, template: t });
    }
  }
  if (opts.extraHosts > 0) {
    const generated: (Template | undefined)[] = TEMPLATES.map(() => undefined);
    const templateFor = (i: number): Template => {
      let t = generated[i];
      if (!t) {
        const def = TEMPLATES[i];
        if (!def) throw new Error(`no template ${i}`);
        t = { key: def.key, platform: def.platform, data: buildTemplate(def, i, opts.seed), db: undefined };
        generated[i] = t;
        templates.push(t);
      }
      return t;
    };
    const byPlatform: Record<SimPlatform, number[]> = { darwin: [], linux: [], windows: [] };
    TEMPLATES.forEach((d, i) => byPlatform[d.platform].push(i));
    const taken = new Set(byName.keys());
    const width = Math.max(4, String(opts.extraHosts).length);
    for (let n = 1; n <= opts.extraHosts; n++) {
      const rng = createRng(mixSeed(opts.seed, 4, n));
      const r = rng.next();
      const platform: SimPlatform = r < 0.45 ? 'darwin' : r < 0.8 ? 'windows' : 'linux';
      const ti = rng.pick(byPlatform[platform]);
      const def = TEMPLATES[ti];
      if (!def) throw new Error(`no template ${ti}`);
      const identity = generatedIdentity(opts.seed, n, platform, def.tag, width, taken);
      add({ index: hosts.length, story: false, identity, template: templateFor(ti) });
    }
  }

  const cache = new Map<string, { answer: QueryAnswer; expires: number }>();
  const now = opts.now ?? (() => Date.now());
  const since = Math.floor(now() / 1000);
  return {
    hosts,
    byName,
    templates,
    answer(host, sql) {
      const t = host.template;
      const key = `${t.key}\u0000${sql}`;
      if (opts.cacheMs > 0) {
        const hit = cache.get(key);
        if (hit && hit.expires > now()) return hit.answer;
        if (hit) cache.delete(key);
      }
      t.db ??= new HostDb(t.data, now);
      const { hostDependent, ...answer } = t.db.run(sql, identityRows(host, since));
      if (opts.cacheMs > 0 && !hostDependent) {
        cache.set(key, { answer, expires: now() + opts.cacheMs });
        if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
      }
      return answer;
    },
    close() {
      cache.clear();
      for (const t of templates) {
        t.db?.close();
        t.db = undefined;
      }
    },
  };
}
