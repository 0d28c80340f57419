/**
 * The sandbox's state in SQLite (better-sqlite3): users, sessions, specs, enroll secrets, hosts and
 * label membership survive a restart when the file lives under --data. Hosts are also held in memory
 * (10,000 polling agents must not cost a query each): check-in times are written back in batches.
 * A store in memory (no --data) keeps hosts and label membership in memory only: their tables would
 * be a copy nobody reads (at 100,000 hosts, a third of the start-up and ~150 MB).
 */
import Database from 'better-sqlite3';
import type { Database as DB, Statement } from 'better-sqlite3';

export interface UserRec {
  id: number;
  username: string;
  name: string;
  email: string;
  admin: boolean;
  globalRole: string | null;
  apiOnly: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface HostRec {
  id: number;
  nodeKey: string;
  osqueryHostId: string;
  uuid: string;
  hostname: string;
  computerName: string;
  platform: string;
  platformLike: string;
  osVersion: string;
  build: string;
  codeName: string;
  osqueryVersion: string;
  cpuType: string;
  cpuSubtype: string;
  cpuBrand: string;
  cpuPhysicalCores: number;
  cpuLogicalCores: number;
  hardwareVendor: string;
  hardwareModel: string;
  hardwareVersion: string;
  hardwareSerial: string;
  memory: number;
  uptimeNs: number;
  primaryIp: string;
  primaryMac: string;
  distributedInterval: number;
  configTlsRefresh: number;
  loggerTlsPeriod: number;
  enrollSecretName: string;
  createdAt: number;
  updatedAt: number;
  detailUpdatedAt: number;
  labelUpdatedAt: number;
  lastEnrolledAt: number;
  seenTime: number;
}

export interface QueryRec {
  id: number;
  name: string;
  description: string;
  query: string;
  saved: boolean;
  authorId: number | null;
  /** FleetDM's extra QuerySpec fields (interval, platform, logging, ...), kept as given. */
  extra: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

export interface PackRec {
  id: number;
  name: string;
  spec: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

export interface LabelRec {
  id: number;
  name: string;
  description: string;
  query: string;
  platform: string;
  builtin: boolean;
  membershipType: 'dynamic' | 'manual';
  createdAt: number;
  updatedAt: number;
}

export interface SecretRec {
  name: string;
  secret: string;
  active: boolean;
  createdAt: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
  id INTEGER PRIMARY KEY AUTOINCREMENT, username TEXT NOT NULL, name TEXT NOT NULL,
  email TEXT NOT NULL UNIQUE COLLATE NOCASE, password TEXT NOT NULL, admin INTEGER NOT NULL,
  global_role TEXT, api_only INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (key TEXT PRIMARY KEY, user_id INTEGER NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS enroll_secrets (
  secret TEXT PRIMARY KEY, name TEXT NOT NULL, active INTEGER NOT NULL, created_at INTEGER NOT NULL, ord INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS queries (
  id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL COLLATE NOCASE, description TEXT NOT NULL, query TEXT NOT NULL,
  saved INTEGER NOT NULL, author_id INTEGER, extra TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS queries_name ON queries (name, saved);
CREATE TABLE IF NOT EXISTS packs (
  id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE COLLATE NOCASE, spec TEXT NOT NULL,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS labels (
  id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE COLLATE NOCASE, description TEXT NOT NULL,
  query TEXT NOT NULL, platform TEXT NOT NULL, builtin INTEGER NOT NULL, membership_type TEXT NOT NULL,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS label_membership (label_id INTEGER NOT NULL, host_id INTEGER NOT NULL, PRIMARY KEY (label_id, host_id));
CREATE TABLE IF NOT EXISTS hosts (
  id INTEGER PRIMARY KEY AUTOINCREMENT, node_key TEXT NOT NULL, osquery_host_id TEXT NOT NULL,
  seen_time INTEGER NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS campaigns (
  id INTEGER PRIMARY KEY AUTOINCREMENT, query_id INTEGER NOT NULL, user_id INTEGER NOT NULL, created_at INTEGER NOT NULL);
`;

interface UserRow {
  id: number; username: string; name: string; email: string; password: string; admin: number;
  global_role: string | null; api_only: number; created_at: number; updated_at: number;
}
interface QueryRow {
  id: number; name: string; description: string; query: string; saved: number; author_id: number | null;
  extra: string; created_at: number; updated_at: number;
}
interface LabelRow {
  id: number; name: string; description: string; query: string; platform: string; builtin: number;
  membership_type: string; created_at: number; updated_at: number;
}

function toUser(r: UserRow): UserRec {
  return {
    id: r.id, username: r.username, name: r.name, email: r.email, admin: r.admin === 1,
    globalRole: r.global_role, apiOnly: r.api_only === 1, createdAt: r.created_at, updatedAt: r.updated_at,
  };
}
function toQuery(r: QueryRow): QueryRec {
  return {
    id: r.id, name: r.name, description: r.description, query: r.query, saved: r.saved === 1,
    authorId: r.author_id, extra: JSON.parse(r.extra) as Record<string, unknown>, createdAt: r.created_at, updatedAt: r.updated_at,
  };
}
function toLabel(r: LabelRow): LabelRec {
  return {
    id: r.id, name: r.name, description: r.description, query: r.query, platform: r.platform,
    builtin: r.builtin === 1, membershipType: r.membership_type === 'manual' ? 'manual' : 'dynamic',
    createdAt: r.created_at, updatedAt: r.updated_at,
  };
}

export class Store {
  readonly db: DB;
  private readonly hosts = new Map<number, HostRec>();
  private readonly byNodeKey = new Map<string, HostRec>();
  private readonly byOsqueryId = new Map<string, HostRec>();
  /** label id -> member host ids */
  private readonly members = new Map<number, Set<number>>();
  /** Bumped by every change of a membership or of the hosts; `ordered` holds for one version. */
  private membershipVersion = 0;
  private readonly ordered = new Map<number, { version: number; hosts: HostRec[] }>();
  // Small tables read on every enroll or config fetch: cached, dropped on each write.
  private labelCache: LabelRec[] | undefined;
  private secretCache: SecretRec[] | undefined;
  private packCache: PackRec[] | undefined;
  private savedQueryCache: Map<string, QueryRec> | undefined;
  private readonly dirtySeen = new Set<number>();
  private readonly dirtyFull = new Set<number>();
  private readonly st: Record<string, Statement>;

  /** Whether hosts and label membership are written to the database (a file: read back at the next start). */
  private readonly persistHosts: boolean;
  private lastHostId = 0;

  constructor(path: string) {
    this.persistHosts = path !== ':memory:' && path !== '';
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
    this.st = {
      getMeta: this.db.prepare('SELECT value FROM meta WHERE key = ?'),
      setMeta: this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      insertHost: this.db.prepare('INSERT INTO hosts (node_key, osquery_host_id, seen_time, data) VALUES (?, ?, ?, ?)'),
      updateHost: this.db.prepare('UPDATE hosts SET node_key = ?, osquery_host_id = ?, seen_time = ?, data = ? WHERE id = ?'),
      updateSeen: this.db.prepare('UPDATE hosts SET seen_time = ? WHERE id = ?'),
      deleteHost: this.db.prepare('DELETE FROM hosts WHERE id = ?'),
      addMember: this.db.prepare('INSERT OR IGNORE INTO label_membership (label_id, host_id) VALUES (?, ?)'),
      delMember: this.db.prepare('DELETE FROM label_membership WHERE label_id = ? AND host_id = ?'),
      userByEmail: this.db.prepare('SELECT * FROM users WHERE email = ? COLLATE NOCASE'),
      userByUsername: this.db.prepare('SELECT * FROM users WHERE lower(username) = lower(?)'),
      userById: this.db.prepare('SELECT * FROM users WHERE id = ?'),
      sessionUser: this.db.prepare('SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.key = ?'),
    };
    this.loadHosts();
  }

  private loadHosts(): void {
    const rows = this.db.prepare('SELECT id, seen_time, data FROM hosts').all() as Array<{ id: number; seen_time: number; data: string }>;
    for (const r of rows) {
      const h = JSON.parse(r.data) as HostRec;
      h.id = r.id;
      h.seenTime = r.seen_time;
      this.indexHost(h);
    }
    const ms = this.db.prepare('SELECT label_id, host_id FROM label_membership').all() as Array<{ label_id: number; host_id: number }>;
    for (const m of ms) this.memberSet(m.label_id).add(m.host_id);
  }

  private indexHost(h: HostRec): void {
    this.hosts.set(h.id, h);
    this.membershipVersion++;
    this.byNodeKey.set(h.nodeKey, h);
    this.byOsqueryId.set(h.osqueryHostId, h);
  }

  // --- meta ------------------------------------------------------------------------------------
  meta(key: string): string | undefined {
    const r = this.st.getMeta!.get(key) as { value: string } | undefined;
    return r?.value;
  }
  setMeta(key: string, value: string): void {
    this.st.setMeta!.run(key, value);
  }
  metaJSON<T>(key: string, fallback: T): T {
    const v = this.meta(key);
    return v === undefined ? fallback : (JSON.parse(v) as T);
  }
  setMetaJSON(key: string, value: unknown): void {
    this.setMeta(key, JSON.stringify(value));
  }

  // --- users and sessions ------------------------------------------------------------------------
  createUser(u: { username: string; name: string; email: string; password: string; admin: boolean; globalRole: string | null; apiOnly: boolean }, now: number): UserRec {
    const info = this.db
      .prepare('INSERT INTO users (username, name, email, password, admin, global_role, api_only, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(u.username, u.name, u.email, u.password, u.admin ? 1 : 0, u.globalRole, u.apiOnly ? 1 : 0, now, now);
    return this.userById(Number(info.lastInsertRowid))!;
  }
  userCount(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n;
  }
  /** The user and their stored password hash. */
  userByEmail(email: string): { user: UserRec; password: string } | undefined {
    const r = this.st.userByEmail!.get(email) as UserRow | undefined;
    return r && { user: toUser(r), password: r.password };
  }
  userByUsername(username: string): { user: UserRec; password: string } | undefined {
    const r = this.st.userByUsername!.get(username) as UserRow | undefined;
    return r && { user: toUser(r), password: r.password };
  }
  /** Every user, by id (`GET /users`). */
  users(): UserRec[] {
    return (this.db.prepare('SELECT * FROM users ORDER BY id').all() as UserRow[]).map(toUser);
  }
  userById(id: number): UserRec | undefined {
    const r = this.st.userById!.get(id) as UserRow | undefined;
    return r && toUser(r);
  }
  createSession(key: string, userId: number, now: number): void {
    this.db.prepare('INSERT INTO sessions (key, user_id, created_at) VALUES (?, ?, ?)').run(key, userId, now);
  }
  sessionUser(key: string): UserRec | undefined {
    const r = this.st.sessionUser!.get(key) as UserRow | undefined;
    return r && toUser(r);
  }
  deleteSession(key: string): void {
    this.db.prepare('DELETE FROM sessions WHERE key = ?').run(key);
  }

  // --- enroll secrets ----------------------------------------------------------------------------
  secrets(): SecretRec[] {
    if (this.secretCache) return this.secretCache;
    const rows = this.db.prepare('SELECT * FROM enroll_secrets ORDER BY ord, created_at').all() as Array<{ name: string; secret: string; active: number; created_at: number }>;
    this.secretCache = rows.map((r) => ({ name: r.name, secret: r.secret, active: r.active === 1, createdAt: r.created_at }));
    return this.secretCache;
  }
  /** Kolide semantics: upsert by name. */
  upsertSecretByName(s: SecretRec): void {
    this.secretCache = undefined;
    const tx = this.db.transaction(() => {
      const existing = this.db.prepare('SELECT ord FROM enroll_secrets WHERE name = ?').get(s.name) as { ord: number } | undefined;
      const ord = existing?.ord ?? this.nextSecretOrd();
      this.db.prepare('DELETE FROM enroll_secrets WHERE name = ? OR secret = ?').run(s.name, s.secret);
      this.db.prepare('INSERT INTO enroll_secrets (secret, name, active, created_at, ord) VALUES (?, ?, ?, ?, ?)').run(s.secret, s.name, s.active ? 1 : 0, s.createdAt, ord);
    });
    tx();
    this.secretCache = undefined;
  }
  /** FleetDM semantics: the whole global set is replaced. */
  replaceSecrets(list: SecretRec[]): void {
    this.secretCache = undefined;
    const tx = this.db.transaction(() => {
      this.db.prepare('DELETE FROM enroll_secrets').run();
      const ins = this.db.prepare('INSERT OR REPLACE INTO enroll_secrets (secret, name, active, created_at, ord) VALUES (?, ?, ?, ?, ?)');
      list.forEach((s, i) => ins.run(s.secret, s.name, s.active ? 1 : 0, s.createdAt, i));
    });
    tx();
    this.secretCache = undefined;
  }
  private nextSecretOrd(): number {
    return (this.db.prepare('SELECT coalesce(max(ord), -1) + 1 AS n FROM enroll_secrets').get() as { n: number }).n;
  }

  // --- queries -----------------------------------------------------------------------------------
  savedQueries(): QueryRec[] {
    return (this.db.prepare('SELECT * FROM queries WHERE saved = 1 ORDER BY name COLLATE NOCASE').all() as QueryRow[]).map(toQuery);
  }
  savedQueryByName(name: string): QueryRec | undefined {
    if (!this.savedQueryCache) {
      this.savedQueryCache = new Map();
      for (const q of this.savedQueries()) this.savedQueryCache.set(q.name.toLowerCase(), q);
    }
    return this.savedQueryCache.get(name.toLowerCase());
  }
  queryById(id: number): QueryRec | undefined {
    const r = this.db.prepare('SELECT * FROM queries WHERE id = ?').get(id) as QueryRow | undefined;
    return r && toQuery(r);
  }
  upsertQuery(q: { name: string; description: string; query: string; extra: Record<string, unknown>; authorId: number | null }, now: number): void {
    this.savedQueryCache = undefined;
    const existing = this.savedQueryByName(q.name);
    if (existing) {
      this.db.prepare('UPDATE queries SET name = ?, description = ?, query = ?, extra = ?, updated_at = ? WHERE id = ?')
        .run(q.name, q.description, q.query, JSON.stringify(q.extra), now, existing.id);
    } else {
      this.db.prepare('INSERT INTO queries (name, description, query, saved, author_id, extra, created_at, updated_at) VALUES (?, ?, ?, 1, ?, ?, ?, ?)')
        .run(q.name, q.description, q.query, q.authorId, JSON.stringify(q.extra), now, now);
    }
    this.savedQueryCache = undefined;
  }
  /** A hidden query for an ad-hoc live query (Fleet stores them with saved = 0). */
  createHiddenQuery(name: string, sql: string, authorId: number, now: number): QueryRec {
    const info = this.db.prepare('INSERT INTO queries (name, description, query, saved, author_id, extra, created_at, updated_at) VALUES (?, \'\', ?, 0, ?, \'{}\', ?, ?)')
      .run(name, sql, authorId, now, now);
    return this.queryById(Number(info.lastInsertRowid))!;
  }
  deleteQuery(id: number): void {
    this.savedQueryCache = undefined;
    this.db.prepare('DELETE FROM queries WHERE id = ?').run(id);
  }

  // --- packs -------------------------------------------------------------------------------------
  packs(): PackRec[] {
    if (this.packCache) return this.packCache;
    const rows = this.db.prepare('SELECT * FROM packs ORDER BY name COLLATE NOCASE').all() as Array<{ id: number; name: string; spec: string; created_at: number; updated_at: number }>;
    this.packCache = rows.map((r) => ({ id: r.id, name: r.name, spec: JSON.parse(r.spec) as Record<string, unknown>, createdAt: r.created_at, updatedAt: r.updated_at }));
    return this.packCache;
  }
  packByName(name: string): PackRec | undefined {
    return this.packs().find((p) => p.name.toLowerCase() === name.toLowerCase());
  }
  upsertPack(name: string, spec: Record<string, unknown>, now: number): void {
    this.packCache = undefined;
    const existing = this.packByName(name);
    if (existing) this.db.prepare('UPDATE packs SET name = ?, spec = ?, updated_at = ? WHERE id = ?').run(name, JSON.stringify(spec), now, existing.id);
    else this.db.prepare('INSERT INTO packs (name, spec, created_at, updated_at) VALUES (?, ?, ?, ?)').run(name, JSON.stringify(spec), now, now);
    this.packCache = undefined;
  }
  deletePack(id: number): void {
    this.packCache = undefined;
    this.db.prepare('DELETE FROM packs WHERE id = ?').run(id);
  }

  // --- labels ------------------------------------------------------------------------------------
  labels(): LabelRec[] {
    this.labelCache ??= (this.db.prepare('SELECT * FROM labels ORDER BY id').all() as LabelRow[]).map(toLabel);
    return this.labelCache;
  }
  labelByName(name: string): LabelRec | undefined {
    const n = name.toLowerCase();
    return this.labels().find((l) => l.name.toLowerCase() === n);
  }
  labelById(id: number): LabelRec | undefined {
    return this.labels().find((l) => l.id === id);
  }
  upsertLabel(l: Omit<LabelRec, 'id' | 'createdAt' | 'updatedAt'>, now: number): LabelRec {
    const existing = this.labelByName(l.name);
    if (existing) {
      this.db.prepare('UPDATE labels SET name = ?, description = ?, query = ?, platform = ?, membership_type = ?, updated_at = ? WHERE id = ?')
        .run(l.name, l.description, l.query, l.platform, l.membershipType, now, existing.id);
    } else {
      this.db.prepare('INSERT INTO labels (name, description, query, platform, builtin, membership_type, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(l.name, l.description, l.query, l.platform, l.builtin ? 1 : 0, l.membershipType, now, now);
    }
    this.labelCache = undefined;
    return this.labelByName(l.name)!;
  }
  deleteLabel(id: number): void {
    const tx = this.db.transaction(() => {
      this.db.prepare('DELETE FROM labels WHERE id = ?').run(id);
      this.db.prepare('DELETE FROM label_membership WHERE label_id = ?').run(id);
    });
    tx();
    this.members.delete(id);
    this.membershipVersion++;
    this.labelCache = undefined;
  }
  private memberSet(labelId: number): Set<number> {
    let s = this.members.get(labelId);
    if (!s) this.members.set(labelId, (s = new Set()));
    return s;
  }
  labelMembers(labelId: number): ReadonlySet<number> {
    return this.members.get(labelId) ?? new Set();
  }
  /**
   * A label's member hosts in id order, kept until a membership or a host changes: a label of
   * 100,000 hosts is read in 200 pages, and building and ordering it anew cost each page ~30 ms.
   */
  membersInIdOrder(labelId: number): readonly HostRec[] {
    const cached = this.ordered.get(labelId);
    if (cached && cached.version === this.membershipVersion) return cached.hosts;
    const ids = Float64Array.from(this.labelMembers(labelId)).sort();
    const hosts: HostRec[] = [];
    for (const id of ids) {
      const h = this.hosts.get(id);
      if (h) hosts.push(h);
    }
    this.ordered.set(labelId, { version: this.membershipVersion, hosts });
    return hosts;
  }
  setMembership(labelId: number, hostId: number, member: boolean): void {
    const s = this.memberSet(labelId);
    if (member === s.has(hostId)) return;
    this.membershipVersion++;
    if (member) {
      s.add(hostId);
      if (this.persistHosts) this.st.addMember!.run(labelId, hostId);
    } else {
      s.delete(hostId);
      if (this.persistHosts) this.st.delMember!.run(labelId, hostId);
    }
  }
  /** Manual labels: the member set is replaced. */
  replaceMembers(labelId: number, hostIds: number[]): void {
    const tx = this.db.transaction(() => {
      this.db.prepare('DELETE FROM label_membership WHERE label_id = ?').run(labelId);
      for (const id of hostIds) this.st.addMember!.run(labelId, id);
    });
    tx();
    this.members.set(labelId, new Set(hostIds));
    this.membershipVersion++;
  }
  labelsOfHost(hostId: number): LabelRec[] {
    return this.labels().filter((l) => this.members.get(l.id)?.has(hostId));
  }
  /**
   * Runs fn in one transaction; inside another one (a batch of enrollments), it joins it. The
   * wrapper is made once: better-sqlite3 builds four variants per `db.transaction` call.
   */
  transaction<T>(fn: () => T): T {
    if (this.db.inTransaction) return fn();
    this.runInTx ??= this.db.transaction((f: () => unknown) => f());
    return this.runInTx(fn) as T;
  }
  private runInTx: ((f: () => unknown) => unknown) | undefined;

  // --- hosts -------------------------------------------------------------------------------------
  allHosts(): IterableIterator<HostRec> {
    return this.hosts.values();
  }
  hostCount(): number {
    return this.hosts.size;
  }
  hostById(id: number): HostRec | undefined {
    return this.hosts.get(id);
  }
  hostByNodeKey(key: string): HostRec | undefined {
    return this.byNodeKey.get(key);
  }
  hostByOsqueryId(id: string): HostRec | undefined {
    return this.byOsqueryId.get(id);
  }
  /** Inserts a new host (id assigned) or rewrites an existing one, at once. */
  saveHost(h: HostRec): HostRec {
    const old = h.id ? this.hosts.get(h.id) : undefined;
    if (old) {
      this.byNodeKey.delete(old.nodeKey);
      this.byOsqueryId.delete(old.osqueryHostId);
      if (this.persistHosts) this.st.updateHost!.run(h.nodeKey, h.osqueryHostId, h.seenTime, JSON.stringify(h), h.id);
    } else if (!this.persistHosts) {
      h.id = ++this.lastHostId;
    } else {
      // One write: the id inside `data` is not read back (loadHosts takes the row's own).
      const info = this.st.insertHost!.run(h.nodeKey, h.osqueryHostId, h.seenTime, JSON.stringify(h));
      h.id = Number(info.lastInsertRowid);
    }
    this.indexHost(h);
    this.dirtyFull.delete(h.id);
    return h;
  }
  /** In-memory change now, written with the next flush. */
  touchSeen(h: HostRec, now: number): void {
    h.seenTime = now;
    if (this.persistHosts) this.dirtySeen.add(h.id);
  }
  markDirty(h: HostRec): void {
    if (this.persistHosts) this.dirtyFull.add(h.id);
  }
  deleteHost(id: number): void {
    const h = this.hosts.get(id);
    if (!h) return;
    this.hosts.delete(id);
    this.byNodeKey.delete(h.nodeKey);
    this.byOsqueryId.delete(h.osqueryHostId);
    this.st.deleteHost!.run(id);
    this.db.prepare('DELETE FROM label_membership WHERE host_id = ?').run(id);
    for (const s of this.members.values()) s.delete(id);
    this.membershipVersion++;
  }
  /**
   * Makes hosts look as if they were last seen `agoMs` ago (the sandbox's offline hosts: they enroll,
   * do one round, stop, and must read as offline at once, like a host last seen hours ago).
   */
  backdateSeen(hostIds: Iterable<number>, seenTime: number): void {
    for (const id of hostIds) {
      const h = this.hosts.get(id);
      if (h) {
        h.seenTime = seenTime;
        if (this.persistHosts) this.dirtySeen.add(id);
      }
    }
    this.flush();
  }
  /** Writes the batched check-in times and detail changes in one transaction. */
  flush(): void {
    if (this.dirtySeen.size === 0 && this.dirtyFull.size === 0) return;
    const tx = this.db.transaction(() => {
      for (const id of this.dirtyFull) {
        const h = this.hosts.get(id);
        if (h) this.st.updateHost!.run(h.nodeKey, h.osqueryHostId, h.seenTime, JSON.stringify(h), id);
        this.dirtySeen.delete(id);
      }
      for (const id of this.dirtySeen) {
        const h = this.hosts.get(id);
        if (h) this.st.updateSeen!.run(h.seenTime, id);
      }
    });
    tx();
    this.dirtySeen.clear();
    this.dirtyFull.clear();
  }

  // --- campaigns ---------------------------------------------------------------------------------
  createCampaignId(queryId: number, userId: number, now: number): number {
    const info = this.db.prepare('INSERT INTO campaigns (query_id, user_id, created_at) VALUES (?, ?, ?)').run(queryId, userId, now);
    return Number(info.lastInsertRowid);
  }

  close(): void {
    this.flush();
    if (this.db.open) this.db.close();
  }
}
