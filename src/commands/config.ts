/** `osfleet config set|get|use-context|list`: the contexts file, tokens always redacted on output. */
import path from 'node:path';
import type { Ctx } from '../context.js';
import { ConfigError, UsageError } from '../errors.js';
import { CONTEXT_KEYS, parseHeaderArg, type StoredContext } from '../config/store.js';
import { checkAddress } from '../api/address.js';
import { readAllStdin } from '../prompt.js';

export interface SetOptions {
  address?: string;
  email?: string;
  token?: string;
  tokenStdin?: boolean;
  rootca?: string;
  tlsSkipVerify?: boolean;
  urlPrefix?: string;
  allowInsecureHttp?: boolean;
  customHeader?: string[];
}

export function redact(token: string | undefined): string {
  if (!token) return '';
  return token.length <= 8 ? '********' : `${'*'.repeat(8)}${token.slice(-4)}`;
}

/** Custom headers for output: the names, each value redacted like the token (a proxy's header is a credential). */
export function showHeaders(headers: Record<string, string>): string {
  return Object.entries(headers)
    .map(([k, v]) => `${k}: ${redact(v)}`)
    .join(', ');
}

export async function runSet(opts: SetOptions, ctx: Ctx): Promise<number> {
  const store = await ctx.config();
  const name = store.contextName;
  const fields: Partial<StoredContext> = {};
  if (opts.token !== undefined && opts.tokenStdin) throw new UsageError('--token and --token-stdin must not be given together');
  if (opts.address !== undefined) {
    const existing = store.get(name);
    checkAddress(opts.address, { allowInsecureHttp: opts.allowInsecureHttp ?? existing?.['allow-insecure-http'] ?? false });
    fields.address = opts.address.replace(/\/+$/, '');
  }
  if (opts.email !== undefined) fields.email = opts.email;
  if (opts.token !== undefined) {
    ctx.io.err(
      ctx.io.errColor.yellow('Warning: --token puts the token in your shell history and the process list; prefer --token-stdin.\n'),
    );
    fields.token = opts.token;
  }
  if (opts.tokenStdin) {
    const token = (await readAllStdin(ctx.io, ctx.signal)).trim();
    if (!token) throw new UsageError('--token-stdin: stdin was empty');
    fields.token = token;
  }
  if (opts.rootca !== undefined) {
    // Checked now, and kept absolute: a relative path would mean another file from another folder.
    const { readRootCa } = await import('../api/rootca.js');
    const file = opts.rootca === '' ? '' : path.resolve(ctx.cwd, opts.rootca);
    if (file !== '') await readRootCa(file);
    fields.rootca = file;
  }
  if (opts.tlsSkipVerify !== undefined) fields['tls-skip-verify'] = opts.tlsSkipVerify;
  if (opts.urlPrefix !== undefined) fields['url-prefix'] = opts.urlPrefix;
  if (opts.allowInsecureHttp !== undefined) fields['allow-insecure-http'] = opts.allowInsecureHttp;
  let clearHeaders = false;
  if (opts.customHeader !== undefined && opts.customHeader.length > 0) {
    // As fleetctl: the given headers replace the saved ones; `--custom-header ""` clears them.
    const given = opts.customHeader.filter((h) => h.trim() !== '');
    if (given.length === 0) clearHeaders = true;
    else fields['custom-headers'] = Object.fromEntries(given.map(parseHeaderArg));
  }
  if (Object.keys(fields).length === 0 && !clearHeaders) {
    throw new UsageError('nothing to set', 'pass at least one of --address, --email, --token-stdin, --rootca, --tls-skip-verify, --url-prefix');
  }
  const created = store.get(name) === undefined;
  // A new address may be another server: forget the cached API generation.
  const remove: Array<keyof StoredContext> = fields.address !== undefined ? ['dialect', 'server-version', 'naming'] : [];
  if (clearHeaders) remove.push('custom-headers');
  await store.update(name, fields, { remove });
  if (created) ctx.io.err(`[+] Context "${name}" created in ${store.path}\n`);
  if (clearHeaders) ctx.io.err(`[+] Cleared custom-headers in the "${name}" context\n`);
  for (const [key, value] of Object.entries(fields)) {
    const shown = key === 'token' ? redact(String(value)) : key === 'custom-headers' ? showHeaders(value as Record<string, string>) : String(value);
    ctx.io.err(`[+] Set ${key} to "${shown}" in the "${name}" context\n`);
  }
  if (fields['tls-skip-verify']) {
    ctx.io.err(ctx.io.errColor.yellow('Warning: TLS verification is now OFF for this context; every run will remind you.\n'));
  }
  return 0;
}

export async function runGet(opts: { key?: string }, ctx: Ctx): Promise<number> {
  const store = await ctx.config();
  const name = store.contextName;
  const stored = store.get(name);
  if (!stored) throw new ConfigError(`context "${name}" does not exist in ${store.path}`, { hint: 'create it with osfleet config set --address URL' });
  const show = (key: keyof StoredContext) => {
    const v = stored[key];
    if (v === undefined) return '';
    if (key === 'custom-headers') return showHeaders(v as Record<string, string>);
    return key === 'token' ? redact(String(v)) : String(v);
  };
  if (opts.key) {
    if (!(CONTEXT_KEYS as readonly string[]).includes(opts.key)) {
      throw new UsageError(`"${opts.key}" is not a config key`, `keys: ${CONTEXT_KEYS.join(', ')}`);
    }
    ctx.io.out(`${show(opts.key as keyof StoredContext)}\n`);
    return 0;
  }
  for (const key of CONTEXT_KEYS) {
    if (stored[key] !== undefined) ctx.io.out(`${key}: ${show(key)}\n`);
  }
  return 0;
}

export async function runUseContext(opts: { name: string }, ctx: Ctx): Promise<number> {
  const store = await ctx.config();
  if (!store.contexts()[opts.name]) {
    const known = Object.keys(store.contexts());
    throw new ConfigError(`context "${opts.name}" does not exist`, {
      hint: known.length ? `known contexts: ${known.join(', ')}` : 'create it with osfleet --context NAME config set --address URL',
    });
  }
  await store.setCurrent(opts.name);
  ctx.io.err(`[+] Now using context "${opts.name}"\n`);
  return 0;
}

export async function runList(opts: { json?: boolean }, ctx: Ctx): Promise<number> {
  const store = await ctx.config();
  const contexts = store.contexts();
  const names = Object.keys(contexts).sort();
  if (opts.json) {
    for (const name of names) {
      const c = contexts[name] ?? {};
      ctx.io.out(
        JSON.stringify({
          name,
          current: name === store.contextName,
          address: c.address ?? null,
          email: c.email ?? null,
          logged_in: Boolean(c.token),
          dialect: c.dialect ?? null,
        }) + '\n',
      );
    }
    return 0;
  }
  if (names.length === 0) {
    ctx.io.err(`no contexts in ${store.path}; create one with osfleet config set --address URL, or run osfleet preview\n`);
    return 0;
  }
  for (const name of names) {
    const c = contexts[name] ?? {};
    const mark = name === store.contextName ? '*' : ' ';
    ctx.io.out(`${mark} ${name}\t${c.address ?? '(no address)'}\t${c.token ? 'logged in' : 'not logged in'}${c.email ? ` as ${c.email}` : ''}\n`);
  }
  return 0;
}

export const run = runGet;
