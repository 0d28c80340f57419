/**
 * Every command's `--help` ends with one to three examples from its data, and the hosts, labels and
 * packs the examples name are ones the sandbox (`osfleet preview`) and the package really have.
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { main } from '../src/cli.js';
import { testIO } from '../src/io.js';
import { COMMANDS } from '../src/commands/index.js';
import type { CommandSpec } from '../src/commands/define.js';
import { STORY_HOSTNAMES } from '../src/sandbox/hosts/story.js';
import { BUILTIN_LABELS } from '../src/sandbox/server/core.js';
import { repoRoot } from './helpers/cli.js';

function allCommands(specs: readonly CommandSpec[], prefix: string[] = []): Array<{ path: string[]; spec: CommandSpec }> {
  return specs.flatMap((s) => [{ path: [...prefix, s.name], spec: s }, ...allCommands(s.subcommands ?? [], [...prefix, s.name])]);
}
const commands = allCommands(COMMANDS);
const examples = commands.flatMap((c) => (c.spec.examples ?? []).map((e) => e.command));

describe('help examples', () => {
  it.each(commands.map((c) => [c.path.join(' '), c] as const))('%s --help ends with 1–3 examples', async (_name, c) => {
    const n = c.spec.examples?.length ?? 0;
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n).toBeLessThanOrEqual(3);
    const io = testIO();
    expect(await main([...c.path, '--help'], { io, env: {} })).toBe(0);
    const help = io.stdoutText();
    const tail = help.slice(help.lastIndexOf('Examples:'));
    expect(help.lastIndexOf('Examples:')).toBeGreaterThan(0);
    for (const e of c.spec.examples ?? []) expect(tail).toContain(`$ ${e.command}\n`);
    expect(help.trimEnd().endsWith(c.spec.examples!.at(-1)!.command)).toBe(true);
  });

  it('name hosts, labels and packs the sandbox and the package have', () => {
    const hosts = new Set<string>(Object.values(STORY_HOSTNAMES));
    const labels = new Set(BUILTIN_LABELS.fleet.map((l) => l.name));
    const queries = examples.filter((e) => / (query|get) /.test(e));
    const named = (flag: string) => queries.flatMap((e) => [...e.matchAll(new RegExp(`${flag}[ =]('[^']*'|\\S+)`, 'g'))].map((m) => m[1]!.replace(/^'|'$/g, '')));
    const hostNames = [...named('--hosts').flatMap((v) => v.split(',')), ...examples.flatMap((e) => [...e.matchAll(/get host (\S+)/g)].map((m) => m[1]!))];
    const labelNames = [...named('--labels').flatMap((v) => v.split(',')), ...named('--label')];
    const packs = examples.flatMap((e) => [...e.matchAll(/ -f (\S+)/g)].map((m) => m[1]!)).filter((p) => !p.includes('.') && p !== '-');
    expect(hostNames.length).toBeGreaterThan(0);
    expect(labelNames.length).toBeGreaterThan(0);
    expect(packs).toContain('data-leak');
    for (const h of hostNames) expect(hosts, h).toContain(h);
    for (const l of labelNames) expect(labels, l).toContain(l);
    for (const p of packs) expect(existsSync(path.join(repoRoot, 'packs', p)), p).toBe(true);
  });
});
