/**
 * fleetctl (urfave/cli) takes `--flag=true` and `--flag=false` for boolean flags; scripts written for
 * it pass `--tls-skip-verify=true`. commander takes booleans bare: rewrite those tokens first.
 * `--x=true` becomes `--x`; `--x=false` becomes `--no-x` where the program defines it, or nothing
 * (false is every flag's default). Tokens after `--` are arguments and left alone.
 */
import type { Command } from 'commander';

function walk(cmd: Command, out: { flags: Set<string>; negated: Set<string> }): void {
  for (const o of cmd.options) {
    if (!o.long || o.required || o.optional) continue;
    if (o.long.startsWith('--no-')) out.negated.add(o.long.slice(5));
    else out.flags.add(o.long.slice(2));
  }
  for (const c of cmd.commands) walk(c, out);
}

export function booleanFlagValues(program: Command, argv: readonly string[]): string[] {
  const known = { flags: new Set<string>(), negated: new Set<string>() };
  walk(program, known);
  const out: string[] = [];
  let rest = false;
  for (const a of argv) {
    if (rest || a === '--') {
      rest = true;
      out.push(a);
      continue;
    }
    const m = /^--([a-z][a-z0-9-]*)=(true|false|1|0)$/i.exec(a);
    const name = m?.[1];
    if (!m || name === undefined || (!known.flags.has(name) && !known.negated.has(name))) {
      out.push(a);
      continue;
    }
    const on = m[2] === 'true' || m[2] === '1';
    if (on) {
      // `--sql-check=true` where only `--no-sql-check` exists: the default, so nothing.
      if (known.flags.has(name)) out.push(`--${name}`);
    }
    else if (known.negated.has(name)) out.push(`--no-${name}`);
    // `--x=false` for a flag with no negation: the default, so nothing.
  }
  return out;
}
