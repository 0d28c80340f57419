/**
 * `osfleet completion bash|zsh|fish`: the scripts come from the command data. bash is driven for
 * real (its completion function called with typed words); zsh and fish are syntax-checked where
 * installed.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from './helpers/cli.js';
import { COMMANDS } from '../src/commands/index.js';
import { completionScript, completionTree } from '../src/completion.js';
import { PROGRAM_SUMMARY } from '../src/program.js';
import { GLOBAL_OPTIONS } from '../src/global-options.js';

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** What bash offers after the words typed (the last one is being completed). */
function bashComplete(script: string, words: string[]): string[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'osfleet-compl-'));
  try {
    const file = path.join(dir, 'osfleet.bash');
    writeFileSync(file, script);
    const quoted = words.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
    const r = spawnSync('bash', ['-c', `source ${file}; COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _osfleet; printf '%s\\n' "\${COMPREPLY[@]}"`], {
      encoding: 'utf8',
      cwd: dir,
      timeout: 10_000,
    });
    expect(r.stderr).toBe('');
    return r.stdout.split('\n').filter((l) => l !== '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('completion scripts', () => {
  it('osfleet completion bash prints the script; an unknown shell is a usage error', async () => {
    const ok = await runCli(['completion', 'bash']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('complete -o filenames -F _osfleet osfleet');
    const bad = await runCli(['completion', 'tcsh']);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain('bash, zsh, fish');
  });

  const tree = completionTree(COMMANDS, GLOBAL_OPTIONS, PROGRAM_SUMMARY, [{ name: 'help', summary: 'help' }, { name: 'completion', summary: 'completion' }]);

  it.runIf(has('bash'))('bash completes commands, subcommands, options, choices and files from the command data', () => {
    const script = completionScript('bash', tree);
    const c = (...words: string[]) => bashComplete(script, ['osfleet', ...words]);
    expect(c('con')).toEqual(['config', 'convert']);
    expect(c('config', 's')).toEqual(['set']);
    expect(c('config', 'set', '--tok')).toEqual(['--token', '--token-stdin']);
    expect(c('query', '--format', '')).toEqual(['table', 'ndjson', 'json', 'yaml', 'csv']);
    // An option's value is not taken for a command: `--context preview` then `preview`'s subcommands.
    expect(c('--context', 'preview', 'preview', 'st')).toEqual(['status', 'stop']);
    expect(c('get', 'h')).toEqual(['hosts']);
    expect(c('apply', '--format', 'j')).toEqual(['json']);
    expect(c('query', '--no-t')).toEqual(['--no-times']);
    expect(c('--de')).toEqual(['--debug']);
  });

  it.each(['zsh', 'fish'] as const)('%s: the script parses (skipped where the shell is not installed)', (shell) => {
    if (!has(shell)) return void console.log(`${shell} not installed: syntax not checked`);
    const dir = mkdtempSync(path.join(tmpdir(), 'osfleet-compl-'));
    try {
      const file = path.join(dir, `osfleet.${shell}`);
      writeFileSync(file, completionScript(shell, tree));
      const r = spawnSync(shell, ['-n', file], { encoding: 'utf8', timeout: 10_000 });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.runIf(has('fish'))('fish completes the same paths (where fish is installed)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'osfleet-compl-'));
    try {
      const file = path.join(dir, 'osfleet.fish');
      writeFileSync(file, completionScript('fish', tree));
      const c = (line: string) => {
        const r = spawnSync('fish', ['--no-config', '-c', `source ${file}; complete -C '${line}'`], { encoding: 'utf8', timeout: 10_000 });
        expect(r.stderr).toBe('');
        return r.stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t')[0]);
      };
      expect(c('osfleet con')).toEqual(['config', 'convert']);
      expect(c('osfleet config s')).toEqual(['set']);
      expect(c('osfleet --context preview preview st')).toEqual(['status', 'stop']);
      expect(c('osfleet query --format ').sort()).toEqual(['csv', 'json', 'ndjson', 'table', 'yaml']);
      expect(c('osfleet query --no-t')).toEqual(['--no-times']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('every command and option of the data is in each script', () => {
    for (const shell of ['bash', 'zsh', 'fish'] as const) {
      const script = completionScript(shell, tree);
      for (const n of tree) {
        for (const s of n.subcommands) expect(script, `${shell}: ${s.name}`).toContain(s.name);
        for (const o of n.options) for (const name of o.names) expect(script, `${shell}: ${name}`).toContain(shell === 'fish' ? name.replace(/^--?/, '') : name);
      }
    }
  });
});
