import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../src/config/store.js';
import { ConfigError } from '../src/errors.js';
import { scratchHome } from './helpers/cli.js';
import { createContext } from '../src/context.js';
import { testIO } from '../src/io.js';
import { runGet, runList, runSet, runUseContext } from '../src/commands/config.js';

let scratch: ReturnType<typeof scratchHome>;
beforeEach(() => {
  scratch = scratchHome();
});
afterEach(() => scratch.cleanup());

const ctxFor = (env: Record<string, string>, opts: { stdin?: string; context?: string } = {}) => {
  const io = testIO(opts.stdin !== undefined ? { stdin: opts.stdin } : {});
  const ctx = createContext({ io, env, globals: { debug: false, color: false, context: opts.context }, signal: new AbortController().signal });
  return { io, ctx };
};

describe('contexts file', () => {
  it('is created 0600 in a 0700 folder and round-trips', async () => {
    const store = await loadConfig({ env: scratch.env });
    expect(store.path).toBe(scratch.configPath);
    await store.update('default', { address: 'https://fleet.example.com', token: 'secret-token' });
    expect(statSync(scratch.configPath).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(scratch.configPath)).mode & 0o777).toBe(0o700);
    const again = await loadConfig({ env: scratch.env });
    expect(again.resolve()).toMatchObject({ name: 'default', address: 'https://fleet.example.com', token: 'secret-token', tokenSource: 'context "default"' });
  });

  it('refuses a file readable by others, naming the fix', async () => {
    mkdirSync(path.dirname(scratch.configPath), { recursive: true });
    writeFileSync(scratch.configPath, 'contexts: {}\n');
    chmodSync(scratch.configPath, 0o644);
    const err = await loadConfig({ env: scratch.env }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toContain('mode 644');
    expect((err as ConfigError).hint).toBe(`chmod 600 '${scratch.configPath}'`);
  });

  it('names the line and column of malformed YAML', async () => {
    mkdirSync(path.dirname(scratch.configPath), { recursive: true });
    writeFileSync(scratch.configPath, 'contexts:\n  default:\n    address: [unclosed\n', { mode: 0o600 });
    const err = await loadConfig({ env: scratch.env }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(new RegExp(`^${scratch.configPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: malformed YAML`));
  });

  it('rejects wrong types with the key path', async () => {
    mkdirSync(path.dirname(scratch.configPath), { recursive: true });
    writeFileSync(scratch.configPath, 'contexts:\n  default:\n    tls-skip-verify: "yes"\n', { mode: 0o600 });
    await expect(loadConfig({ env: scratch.env })).rejects.toThrow('contexts.default.tls-skip-verify must be true or false');
  });

  it("reads fleetctl's ~/.fleet/config when osfleet has none, and never writes it", async () => {
    const fleetctl = path.join(scratch.home, '.fleet', 'config');
    mkdirSync(path.dirname(fleetctl), { recursive: true, mode: 0o700 });
    const original = 'contexts:\n  default:\n    address: https://fleet.corp:8080\n    email: a@corp\n    token: fleet-token\n    tls-skip-verify: false\n';
    writeFileSync(fleetctl, original, { mode: 0o600 });
    const store = await loadConfig({ env: scratch.env });
    expect(store.readFrom).toBe(fleetctl);
    expect(store.resolve()).toMatchObject({ address: 'https://fleet.corp:8080', token: 'fleet-token', email: 'a@corp' });
    await store.update('default', { 'url-prefix': '/fleet' });
    expect(readFileSync(fleetctl, 'utf8')).toBe(original);
    expect(readFileSync(scratch.configPath, 'utf8')).toContain('fleet-token');
  });

  it('FLEET_URL and FLEET_API_TOKEN override the file; a cached dialect is dropped for another server', async () => {
    const store = await loadConfig({ env: scratch.env });
    await store.update('default', { address: 'https://a.example', token: 't1', dialect: 'kolide', 'server-version': '3.2.0' });
    const env = { ...scratch.env, FLEET_URL: 'https://b.example', FLEET_API_TOKEN: 't2' };
    const r = (await loadConfig({ env })).resolve();
    expect(r).toMatchObject({ address: 'https://b.example', token: 't2', tokenSource: 'FLEET_API_TOKEN', dialect: undefined });
  });

  it('chooses the context: --context, then OSFLEET_CONTEXT, then current-context, then default', async () => {
    const store = await loadConfig({ env: scratch.env });
    await store.update('a', { address: 'https://a.example' });
    await store.update('b', { address: 'https://b.example' });
    expect((await loadConfig({ env: scratch.env })).contextName).toBe('default');
    await store.setCurrent('a');
    expect((await loadConfig({ env: scratch.env })).contextName).toBe('a');
    expect((await loadConfig({ env: { ...scratch.env, OSFLEET_CONTEXT: 'b' } })).contextName).toBe('b');
    expect((await loadConfig({ env: { ...scratch.env, OSFLEET_CONTEXT: 'b' }, contextName: 'a' })).contextName).toBe('a');
  });
});

describe('config commands', () => {
  it('set --token-stdin, get shows the token redacted, list marks the current context', async () => {
    const a = ctxFor(scratch.env, { stdin: 'tok-1234567890-abcd\n' });
    expect(await runSet({ address: 'https://fleet.example.com/', tokenStdin: true }, a.ctx)).toBe(0);
    expect(a.io.stderrText()).toContain('[+] Set token to "********abcd" in the "default" context');
    expect(a.io.stderrText()).not.toContain('tok-1234567890');

    const b = ctxFor(scratch.env);
    await runGet({}, b.ctx);
    expect(b.io.stdoutText()).toBe('address: https://fleet.example.com\ntoken: ********abcd\n');

    const c = ctxFor(scratch.env);
    await runGet({ key: 'token' }, c.ctx);
    expect(c.io.stdoutText()).toBe('********abcd\n');

    const d = ctxFor(scratch.env);
    await runList({ json: true }, d.ctx);
    expect(JSON.parse(d.io.stdoutText())).toEqual({ name: 'default', current: true, address: 'https://fleet.example.com', email: null, logged_in: true, dialect: null });
  });

  it('--token works but warns about shell history', async () => {
    const a = ctxFor(scratch.env);
    await runSet({ token: 'abcdefghijkl' }, a.ctx);
    expect(a.io.stderrText()).toContain('shell history');
  });

  it('refuses plain http to a remote host unless allowed', async () => {
    const a = ctxFor(scratch.env);
    await expect(runSet({ address: 'http://fleet.example.com' }, a.ctx)).rejects.toThrow('refusing plain http://');
    await expect(runSet({ address: 'http://fleet.example.com', allowInsecureHttp: true }, a.ctx)).resolves.toBe(0);
  });

  it('use-context refuses an unknown context and lists the known ones', async () => {
    const a = ctxFor(scratch.env);
    await runSet({ address: 'https://a.example' }, a.ctx);
    await expect(runUseContext({ name: 'nope' }, ctxFor(scratch.env).ctx)).rejects.toMatchObject({ hint: 'known contexts: default' });
  });

  it('get of an unknown key is a usage error', async () => {
    const a = ctxFor(scratch.env);
    await runSet({ address: 'https://a.example' }, a.ctx);
    await expect(runGet({ key: 'nope' }, ctxFor(scratch.env).ctx)).rejects.toMatchObject({ exitCode: 64 });
  });
});
