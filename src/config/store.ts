/**
 * The contexts file: YAML like fleetctl's (`contexts.<name>.{address, email, token, ...}`), plus
 * `current-context`. Created 0600 in a 0700 folder and refused when group or others can read it,
 * because it holds API tokens. When osfleet has no file yet, fleetctl's `~/.fleet/config` is read
 * (never written). `$FLEET_URL` / `$FLEET_API_TOKEN` override the file for CI.
 */
import { promises as fs, constants as fsc } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import { sleep } from '../sleep.js';
import type { Env } from '../env.js';

/** A context as stored in the file (fleetctl's keys). */
export interface StoredContext {
  address?: string;
  email?: string;
  token?: string;
  'tls-skip-verify'?: boolean;
  rootca?: string;
  'url-prefix'?: string;
  'allow-insecure-http'?: boolean;
  /** Detected API generation and server version, cached. */
  dialect?: 'kolide' | 'fleet';
  'server-version'?: string;
  /** FleetDM's naming, cached: `reports` (4.82+: reports/fleets) or `queries` (queries/teams). */
  naming?: 'queries' | 'reports';
  /** Headers sent on every REST and websocket request (an access proxy's); fleetctl's key. */
  'custom-headers'?: Record<string, string>;
}

export const CONTEXT_KEYS = [
  'address',
  'email',
  'token',
  'tls-skip-verify',
  'rootca',
  'url-prefix',
  'allow-insecure-http',
  'dialect',
  'server-version',
  'naming',
  'custom-headers',
] as const satisfies ReadonlyArray<keyof StoredContext>;

/** The effective connection settings: file + environment overrides. */
export interface ResolvedContext {
  name: string;
  address: string | undefined;
  token: string | undefined;
  email: string | undefined;
  tlsSkipVerify: boolean;
  rootca: string | undefined;
  urlPrefix: string;
  allowInsecureHttp: boolean;
  dialect: 'kolide' | 'fleet' | undefined;
  serverVersion: string | undefined;
  naming: 'queries' | 'reports' | undefined;
  /** Sent on every REST and websocket request. */
  customHeaders: Record<string, string>;
  /** Where the token came from, for messages ("FLEET_API_TOKEN", "context default"). */
  tokenSource: string | undefined;
}

export interface ConfigStore {
  /** The file osfleet reads and writes. */
  readonly path: string;
  /** The file the contexts were read from (fleetctl's when osfleet has none yet). */
  readonly readFrom: string | undefined;
  /** The context in use: --context, $OSFLEET_CONTEXT, the file's current-context, or "default". */
  readonly contextName: string;
  readonly currentContext: string | undefined;
  contexts(): Record<string, StoredContext>;
  get(name?: string): StoredContext | undefined;
  /** Merge fields into a context (creating it) and write the file atomically, mode 0600. */
  update(name: string, fields: Partial<StoredContext>, opts?: { remove?: Array<keyof StoredContext> }): Promise<void>;
  setCurrent(name: string): Promise<void>;
  resolve(): ResolvedContext;
}

interface FileShape {
  'current-context'?: string;
  contexts?: Record<string, StoredContext>;
}

export interface LoadOptions {
  env: Env;
  configPath?: string | undefined;
  contextName?: string | undefined;
}

export function defaultConfigPath(env: Env): string {
  const home = env['HOME'] ?? env['USERPROFILE'] ?? '.';
  const base = env['XDG_CONFIG_HOME'] || path.join(home, '.config');
  return path.join(base, 'osfleet', 'config.yml');
}

export function fleetctlConfigPath(env: Env): string {
  return path.join(env['HOME'] ?? env['USERPROFILE'] ?? '.', '.fleet', 'config');
}

export async function loadConfig(opts: LoadOptions): Promise<ConfigStore> {
  const { env } = opts;
  const explicit = opts.configPath ?? env['OSFLEET_CONFIG'];
  const ownPath = path.resolve(explicit ?? defaultConfigPath(env));
  let readFrom: string | undefined;
  let data: FileShape = {};
  const own = await readConfigFile(ownPath);
  if (own) {
    readFrom = ownPath;
    data = own;
  } else if (!explicit) {
    const fleetctl = fleetctlConfigPath(env);
    const imported = await readConfigFile(fleetctl);
    if (imported) {
      readFrom = fleetctl;
      data = imported;
    }
  }
  return new FileConfigStore(ownPath, readFrom, data, opts);
}

async function readConfigFile(file: string): Promise<FileShape | undefined> {
  let text: string;
  try {
    const st = await fs.stat(file);
    if (!st.isFile()) throw new ConfigError(`config path ${file} is not a file`);
    // Like ssh with its keys: a file of another user may send our requests (and token) anywhere.
    const uid = process.getuid?.();
    if (uid !== undefined && st.uid !== uid) {
      throw new ConfigError(`config file ${file} is owned by another user (uid ${st.uid}, not ${uid}); refusing to use the tokens in it`, {
        hint: `if it is yours: chown ${uid} '${file}'`,
      });
    }
    if (process.platform !== 'win32' && (st.mode & 0o022) !== 0) {
      const mode = (st.mode & 0o777).toString(8).padStart(3, '0');
      throw new ConfigError(`config file ${file} is writable by group or others (mode ${mode}); anyone could change where the token goes`, {
        hint: `chmod 600 '${file}'`,
      });
    }
    if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
      const mode = (st.mode & 0o777).toString(8).padStart(3, '0');
      throw new ConfigError(`config file ${file} is readable by group or others (mode ${mode}); it holds API tokens`, {
        hint: `chmod 600 '${file}'`,
      });
    }
    await checkFolder(path.dirname(file));
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  return parseConfigText(text, file);
}

/**
 * A folder others can write to lets them replace the token file (or plant one that sends the token
 * elsewhere), whatever the file's own mode. A readable folder only shows the names, so 0755 (what a
 * plain `mkdir -p` makes) is accepted; osfleet itself creates 0700.
 */
async function checkFolder(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const st = await fs.stat(dir);
  if ((st.mode & 0o022) !== 0) {
    const mode = (st.mode & 0o777).toString(8).padStart(3, '0');
    throw new ConfigError(`config folder ${dir} is writable by group or others (mode ${mode}); anyone could replace the file with its API tokens`, {
      hint: `chmod 700 '${dir}'`,
    });
  }
}

/** Parses the contexts file; errors name the file, line and column. */
export async function parseConfigText(text: string, file: string): Promise<FileShape> {
  const { parseDocument, LineCounter, visit, isScalar, isAlias } = await import('yaml');
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  const where = (offset: number | undefined) => {
    const pos = lc.linePos(offset ?? 0);
    return `${file}:${pos.line}:${pos.col}`;
  };
  if (first) {
    throw new ConfigError(`${where(first.pos[0])}: malformed YAML: ${first.message.split('\n')[0]}`);
  }
  // A contexts file has plain keys and no aliases; refusing the rest up front keeps toJS from
  // stringifying collection keys (with a process warning) or expanding an alias bomb.
  let odd: { offset: number | undefined; what: string } | undefined;
  visit(doc, {
    Pair(_, pair) {
      if (pair.key !== null && !isScalar(pair.key)) {
        odd = { offset: (pair.key as { range?: [number, number, number] }).range?.[0], what: 'a key must be plain text' };
        return visit.BREAK;
      }
      return undefined;
    },
    Alias(_, node) {
      if (isAlias(node)) odd = { offset: node.range?.[0], what: 'YAML aliases (*name) are not allowed here' };
      return visit.BREAK;
    },
  });
  if (odd) throw new ConfigError(`${where(odd.offset)}: ${odd.what}`);
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(`${file}:1:1: expected a mapping with "contexts"`);
  }
  const shape = value as Record<string, unknown>;
  const contexts = shape['contexts'];
  if (contexts !== undefined && contexts !== null && (typeof contexts !== 'object' || Array.isArray(contexts))) {
    throw new ConfigError(`${file}: "contexts" must be a mapping of context names to settings`);
  }
  const out: FileShape = {};
  if (typeof shape['current-context'] === 'string') out['current-context'] = shape['current-context'];
  out.contexts = {};
  for (const [name, raw] of Object.entries((contexts ?? {}) as Record<string, unknown>)) {
    if (raw === null || raw === undefined) {
      out.contexts[name] = {};
      continue;
    }
    if (typeof raw !== 'object' || Array.isArray(raw)) {
      throw new ConfigError(`${file}: context "${name}" must be a mapping`);
    }
    out.contexts[name] = checkContext(raw as Record<string, unknown>, file, name);
  }
  return out;
}

function checkContext(raw: Record<string, unknown>, file: string, name: string): StoredContext {
  const ctx: StoredContext = {};
  const str = (key: keyof StoredContext) => {
    const v = raw[key];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string') throw new ConfigError(`${file}: contexts.${name}.${key} must be a string`);
    return v;
  };
  const bool = (key: keyof StoredContext) => {
    const v = raw[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') throw new ConfigError(`${file}: contexts.${name}.${key} must be true or false`);
    return v;
  };
  const set = <K extends keyof StoredContext>(k: K, v: StoredContext[K] | undefined) => {
    if (v !== undefined) ctx[k] = v;
  };
  set('address', str('address'));
  set('email', str('email'));
  set('token', str('token'));
  set('rootca', str('rootca'));
  set('url-prefix', str('url-prefix'));
  set('server-version', str('server-version'));
  set('tls-skip-verify', bool('tls-skip-verify'));
  set('allow-insecure-http', bool('allow-insecure-http'));
  const dialect = str('dialect');
  if (dialect === 'kolide' || dialect === 'fleet') ctx.dialect = dialect;
  const naming = str('naming');
  if (naming === 'queries' || naming === 'reports') ctx.naming = naming;
  // fleetctl writes `custom-headers`; `custom_headers` is read too.
  const headers = raw['custom-headers'] ?? raw['custom_headers'];
  if (headers !== undefined && headers !== null) {
    if (typeof headers !== 'object' || Array.isArray(headers)) throw new ConfigError(`${file}: contexts.${name}.custom-headers must be a mapping of header names to values`);
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers as Record<string, unknown>)) {
      if (typeof v !== 'string' && typeof v !== 'number') throw new ConfigError(`${file}: contexts.${name}.custom-headers.${k} must be a string`);
      checkHeader(k, String(v), `${file}: contexts.${name}.custom-headers`);
      out[k] = String(v);
    }
    if (Object.keys(out).length > 0) ctx['custom-headers'] = out;
  }
  return ctx;
}

class FileConfigStore implements ConfigStore {
  readonly contextName: string;
  readonly currentContext: string | undefined;
  constructor(
    readonly path: string,
    readonly readFrom: string | undefined,
    private data: FileShape,
    private readonly opts: LoadOptions,
  ) {
    this.currentContext = data['current-context'];
    this.contextName = opts.contextName ?? opts.env['OSFLEET_CONTEXT'] ?? data['current-context'] ?? 'default';
  }

  contexts(): Record<string, StoredContext> {
    return this.data.contexts ?? {};
  }

  get(name = this.contextName): StoredContext | undefined {
    return this.data.contexts?.[name];
  }

  async update(name: string, fields: Partial<StoredContext>, opts: { remove?: Array<keyof StoredContext> } = {}): Promise<void> {
    await this.write((data) => {
      const contexts = { ...(data.contexts ?? {}) };
      const next: StoredContext = { ...(contexts[name] ?? {}), ...fields };
      for (const key of opts.remove ?? []) delete next[key];
      for (const key of Object.keys(next) as Array<keyof StoredContext>) if (next[key] === undefined) delete next[key];
      contexts[name] = next;
      return { ...data, contexts };
    });
  }

  async setCurrent(name: string): Promise<void> {
    await this.write((data) => ({ ...data, 'current-context': name }));
  }

  resolve(): ResolvedContext {
    const env = this.opts.env;
    const stored = this.get() ?? {};
    const envUrl = env['FLEET_URL'] || undefined;
    const envToken = env['FLEET_API_TOKEN'] || undefined;
    const token = envToken ?? stored.token;
    // A cached dialect belongs to the stored address; an overriding FLEET_URL must be detected afresh.
    const sameServer = !envUrl || envUrl === stored.address;
    return {
      name: this.contextName,
      address: envUrl ?? stored.address,
      token,
      email: stored.email,
      tlsSkipVerify: stored['tls-skip-verify'] ?? false,
      rootca: stored.rootca,
      urlPrefix: stored['url-prefix'] ?? '',
      allowInsecureHttp: stored['allow-insecure-http'] ?? false,
      dialect: sameServer ? stored.dialect : undefined,
      serverVersion: sameServer ? stored['server-version'] : undefined,
      naming: sameServer ? stored.naming : undefined,
      // A proxy's header belongs to the stored address: never sent to another server given by FLEET_URL.
      customHeaders: sameServer ? { ...(stored['custom-headers'] ?? {}) } : {},
      tokenSource: envToken ? 'FLEET_API_TOKEN' : stored.token ? `context "${this.contextName}"` : undefined,
    };
  }

  /**
   * Applies one change to the file as it is on disk now, under a lock: two osfleet runs at once (cron
   * jobs logging in to different contexts) would otherwise each write back what they read at start,
   * and the last one would silently drop the other's change.
   */
  private async write(change: (data: FileShape) => FileShape): Promise<void> {
    try {
      await this.writeUnchecked(change);
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      // Whatever failed (a read-only HOME, a full disk), the old file is untouched: the new one is
      // written beside it and renamed over it only when complete.
      throw new ConfigError(`cannot save the config file ${this.path}: ${saveFailure(err)}; it was left as it was`, {
        hint: 'free some space or make its folder writable, or point OSFLEET_CONFIG (or --config) at a writable file',
      });
    }
  }

  private async writeUnchecked(change: (data: FileShape) => FileShape): Promise<void> {
    const { stringify } = await import('yaml');
    // A symlink (dotfile repositories keep the file elsewhere) is written through: its target gets
    // the change and keeps its mode, and the link stays a link.
    const target = await linkTarget(this.path);
    const dir = path.dirname(target);
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    await checkFolder(dir);
    const mode = target === this.path ? 0o600 : ((await fs.stat(target).catch(() => undefined))?.mode ?? 0o600) & 0o600;
    const release = await lockFile(`${target}.lock`);
    try {
      // Read again under the lock; with no file of our own yet, start from what was imported.
      const current = (await readConfigFile(this.path)) ?? this.data;
      this.data = change(current);
      const body: FileShape = {};
      if (this.data['current-context']) body['current-context'] = this.data['current-context'];
      body.contexts = this.data.contexts ?? {};
      const text = stringify(body, { lineWidth: 0 });
      await writeFileAtomic(target, text, mode || 0o600);
    } finally {
      await release();
    }
  }
}

/** The file a path finally names, following symlinks (the path itself when it is none or missing). */
async function linkTarget(file: string): Promise<string> {
  let current = file;
  for (let hops = 0; hops < 32; hops++) {
    const st = await fs.lstat(current).catch(() => undefined);
    if (!st?.isSymbolicLink()) return current;
    current = path.resolve(path.dirname(current), await fs.readlink(current));
  }
  throw Object.assign(new Error('too many levels of symbolic links'), { code: 'ELOOP' });
}

function saveFailure(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e?.code) {
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EROFS':
      return 'read-only file system';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOTDIR':
      return 'a part of its path is not a folder';
    case 'EEXIST':
      // mkdir of its folder where a file stands.
      return e.syscall === 'mkdir' && e.path ? `${e.path}: exists and is not a folder` : 'a file is in the way';
    case 'ENOENT':
      return 'its folder cannot be created';
    case 'EDQUOT':
      return 'disk quota exceeded';
    default:
      return e?.message ?? String(err);
  }
}

/** A lock older than this was left by a process that died holding it. */
const STALE_LOCK_MS = 10_000;

/** Takes an exclusive lock file (O_EXCL), waiting up to ~10 s for another holder; returns its release. */
async function lockFile(lock: string): Promise<() => Promise<void>> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await fs.open(lock, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
      await handle.close();
      return () => fs.rm(lock, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new ConfigError(`cannot lock the config file (${lock}): ${(err as Error).message}`);
    }
    const st = await fs.stat(lock).catch(() => undefined);
    if (st && Date.now() - st.mtimeMs > STALE_LOCK_MS) {
      await fs.rm(lock, { force: true });
      continue;
    }
    if (Date.now() - started > STALE_LOCK_MS) {
      throw new ConfigError(`the config file is locked by another osfleet run (${lock})`, { hint: `if no osfleet is running, remove it: rm '${lock}'` });
    }
    await sleep(Math.min(200, 10 * 2 ** Math.min(attempt, 5)) + Math.random() * 10);
  }
}

/** Writes a file through a temporary sibling and a rename, so readers never see half a file. */
export async function writeFileAtomic(file: string, data: string, mode: number): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const handle = await fs.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, mode);
  try {
    await handle.writeFile(data, 'utf8');
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await fs.chmod(tmp, mode);
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}

const TOKEN_CHARS = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** A header name must be an HTTP token and its value one line; osfleet's own headers are not replaced. */
export function checkHeader(name: string, value: string, where: string): void {
  if (!TOKEN_CHARS.test(name)) throw new ConfigError(`${where}: "${name}" is not a valid header name`);
  if (/[\r\n\0]/.test(value)) throw new ConfigError(`${where}: the value of ${name} must be one line`);
  if (['authorization', 'content-type', 'content-length', 'host', 'accept', 'connection', 'upgrade', 'transfer-encoding'].includes(name.toLowerCase()) || name.toLowerCase().startsWith('sec-websocket-')) {
    throw new ConfigError(`${where}: ${name} is set by osfleet itself and cannot be a custom header`);
  }
}

/** `NAME:VALUE` (fleetctl's form) → [name, value]; the value may hold colons and may be empty. */
export function parseHeaderArg(arg: string): [string, string] {
  const i = arg.indexOf(':');
  const name = (i < 0 ? arg : arg.slice(0, i)).trim();
  const value = i < 0 ? '' : arg.slice(i + 1).trim();
  checkHeader(name, value, '--custom-header');
  return [name, value];
}
