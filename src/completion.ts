/**
 * `osfleet completion bash|zsh|fish`: shell completion scripts generated from the command data
 * (src/commands/*.cmd.ts), so a new command or flag completes without touching this file. Each
 * script walks the words typed so far to find the command path (`config set`), skipping options and
 * their values, then offers that path's subcommands, its options (with the global ones), an
 * option's choices, or files where an option or argument names one.
 */
import type { ArgumentSpec, CommandSpec, OptionSpec } from './commands/define.js';

export type Shell = 'bash' | 'zsh' | 'fish';

/** One command path's completions, flattened from the command tree. */
interface Node {
  path: string;
  summary: string;
  subcommands: Array<{ name: string; summary: string }>;
  options: Array<{ names: string[]; description: string; value: 'none' | 'any' | 'file' | 'directory' | readonly string[] }>;
  /** What a positional argument completes to: files, or a list of words. */
  args: 'none' | 'file' | readonly string[];
}

function optionOf(o: OptionSpec): Node['options'][number] {
  const names = o.flags
    .split(/[ ,|]+/)
    .filter((w) => w.startsWith('-'));
  const takesValue = /[<[]/.test(o.flags);
  const value = !takesValue ? 'none' : o.choices ? o.choices : o.complete ?? 'any';
  return { names, description: o.description, value };
}

function argsOf(args: readonly ArgumentSpec[] | undefined): Node['args'] {
  for (const a of args ?? []) {
    if (a.choices) return a.choices;
    if (a.complete === 'file') return 'file';
  }
  return 'none';
}

/** Every command path (the program itself is `''`) with what completes there. */
export function completionTree(specs: readonly CommandSpec[], globals: readonly OptionSpec[], programSummary: string, builtins: readonly CommandSpec[] = []): Node[] {
  const nodes: Node[] = [];
  const globalOptions = globals.map(optionOf);
  const add = (path: string, summary: string, subs: readonly CommandSpec[], spec: CommandSpec | undefined) => {
    nodes.push({
      path,
      summary,
      subcommands: subs.map((s) => ({ name: s.name, summary: s.summary })),
      options: [...(spec?.options ?? []).map(optionOf), ...globalOptions, { names: ['-h', '--help'], description: 'display help for command', value: 'none' }],
      args: argsOf(spec?.arguments),
    });
    for (const s of subs) add(path ? `${path} ${s.name}` : s.name, s.summary, s.subcommands ?? [], s);
  };
  add('', programSummary, [...specs, ...builtins], undefined);
  return nodes;
}

export function completionScript(shell: Shell, nodes: readonly Node[]): string {
  if (shell === 'bash') return bash(nodes);
  if (shell === 'zsh') return zsh(nodes);
  return fish(nodes);
}

/** Single-quoted for POSIX shells and zsh. */
const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
/** Single-quoted for fish (backslash and quote escaped). */
const fq = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

const valueWord = (v: Node['options'][number]['value']) => (v === 'none' ? '' : v === 'any' ? '__any' : v === 'file' ? '__file' : v === 'directory' ? '__dir' : v.join(' '));
const argWord = (a: Node['args']) => (a === 'none' ? '' : a === 'file' ? '__file' : a.join(' '));

/** The case-statement helpers bash and zsh share (both read POSIX `case`). */
function shellHelpers(nodes: readonly Node[]): string {
  const subs = nodes.map((n) => `    ${sq(n.path)}) echo ${sq(n.subcommands.map((s) => s.name).join(' '))} ;;`).join('\n');
  const opts = nodes.map((n) => `    ${sq(n.path)}) echo ${sq(n.options.flatMap((o) => o.names).join(' '))} ;;`).join('\n');
  const values: string[] = [];
  for (const n of nodes) {
    for (const o of n.options) {
      if (o.value === 'none') continue;
      for (const name of o.names) values.push(`    ${sq(`${n.path}|${name}`)}) echo ${sq(valueWord(o.value))} ;;`);
    }
  }
  const args = nodes.filter((n) => n.args !== 'none').map((n) => `    ${sq(n.path)}) echo ${sq(argWord(n.args))} ;;`);
  return [
    '_osfleet_subcommands() {',
    '  case "$1" in',
    subs,
    '  esac',
    '}',
    '_osfleet_options() {',
    '  case "$1" in',
    opts,
    '  esac',
    '}',
    '# What the value of option $2 of command path $1 completes to: words, __file, __dir, __any (empty: no value).',
    '_osfleet_values() {',
    '  case "$1|$2" in',
    ...values,
    '  esac',
    '}',
    '_osfleet_args() {',
    '  case "$1" in',
    ...args,
    '  esac',
    '}',
  ].join('\n');
}

/**
 * bash and zsh alike: the words before the cursor, from `first` (where the command's arguments
 * start in `words`), give the subcommand path; `skip` says the last word was an option that takes
 * a value.
 */
function walkWords(words: string, first: number, current: string): string {
  return `  for ((i = ${first}; i < ${current}; i++)); do
    w="\${${words}[i]}"
    if ((skip)); then skip=0; continue; fi
    if [[ $w == -* ]]; then
      [[ $w == *=* ]] && continue
      [[ -n "$(_osfleet_values "$cmdpath" "$w")" ]] && skip=1
      continue
    fi
    if [[ " $(_osfleet_subcommands "$cmdpath") " == *" $w "* ]]; then cmdpath="\${cmdpath:+$cmdpath }$w"; fi
  done`;
}

function bash(nodes: readonly Node[]): string {
  return `# osfleet completion for bash. Load it with:  source <(osfleet completion bash)
# or save it as ~/.local/share/bash-completion/completions/osfleet
${shellHelpers(nodes)}
_osfleet() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" cmdpath="" w v i skip=0
${walkWords('COMP_WORDS', 1, 'COMP_CWORD')}
  COMPREPLY=()
  if ((skip)); then
    v="$(_osfleet_values "$cmdpath" "\${COMP_WORDS[COMP_CWORD-1]}")"
  elif [[ $cur == -* ]]; then
    v="$(_osfleet_options "$cmdpath")"
  else
    v="$(_osfleet_subcommands "$cmdpath")"
    [[ -z $v ]] && v="$(_osfleet_args "$cmdpath")"
  fi
  case "$v" in
    __file) mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
    __dir) mapfile -t COMPREPLY < <(compgen -d -- "$cur") ;;
    __any | '') ;;
    *) mapfile -t COMPREPLY < <(compgen -W "$v" -- "$cur") ;;
  esac
}
complete -o filenames -F _osfleet osfleet
`;
}

function zsh(nodes: readonly Node[]): string {
  const described = (n: Node) => n.subcommands.map((s) => `${s.name.replace(/:/g, '\\:')}:${s.summary}`);
  const subsDescribed = nodes
    .filter((n) => n.subcommands.length > 0)
    .map((n) => `    ${sq(n.path)}) reply=(${described(n).map(sq).join(' ')}) ;;`)
    .join('\n');
  const optsDescribed = nodes
    .map((n) => `    ${sq(n.path)}) reply=(${n.options.flatMap((o) => o.names.map((name) => sq(`${name}:${o.description}`))).join(' ')}) ;;`)
    .join('\n');
  return `#compdef osfleet
# osfleet completion for zsh. Load it with:  source <(osfleet completion zsh)
# or save it as _osfleet in a folder of $fpath.
${shellHelpers(nodes)}
_osfleet_described() {
  reply=()
  case "$1" in
${subsDescribed}
  esac
}
_osfleet_options_described() {
  reply=()
  case "$1" in
${optsDescribed}
  esac
}
_osfleet() {
  local cur="\${words[CURRENT]}" cmdpath="" w v i skip=0
  local -a reply
${walkWords('words', 2, 'CURRENT')}
  if ((skip)); then
    v="$(_osfleet_values "$cmdpath" "\${words[CURRENT-1]}")"
    case "$v" in
      __file) _files ;;
      __dir) _files -/ ;;
      __any | '') ;;
      *) compadd -- \${=v} ;;
    esac
  elif [[ $cur == -* ]]; then
    _osfleet_options_described "$cmdpath"
    _describe 'option' reply
  else
    _osfleet_described "$cmdpath"
    if (( \${#reply} )); then
      _describe 'command' reply
    else
      v="$(_osfleet_args "$cmdpath")"
      case "$v" in
        __file) _files ;;
        '') ;;
        *) compadd -- \${=v} ;;
      esac
    fi
  fi
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  _osfleet "$@"
else
  compdef _osfleet osfleet
fi
`;
}

function fish(nodes: readonly Node[]): string {
  const lines: string[] = [
    '# osfleet completion for fish. Load it with:  osfleet completion fish | source',
    '# or save it as ~/.config/fish/completions/osfleet.fish',
    'function __osfleet_subcommands',
    '    switch "$argv[1]"',
  ];
  for (const n of nodes) if (n.subcommands.length) lines.push(`        case ${fq(n.path)}`, `            printf '%s\\n' ${n.subcommands.map((s) => fq(s.name)).join(' ')}`);
  lines.push('    end', 'end', '', '# True when option $argv[2] of command path $argv[1] takes a value.', 'function __osfleet_takes_value', '    switch "$argv[1]|$argv[2]"');
  const valued = nodes.flatMap((n) => n.options.filter((o) => o.value !== 'none').flatMap((o) => o.names.map((name) => `${n.path}|${name}`)));
  if (valued.length) lines.push(`        case ${valued.map(fq).join(' ')}`, '            return 0');
  lines.push(
    '    end',
    '    return 1',
    'end',
    '',
    '# The command path typed so far: "", "query", "config set", …',
    'function __osfleet_path',
    '    set -l words (commandline -opc)',
    '    set -e words[1]',
    '    set -l cmdpath ""',
    '    set -l skip 0',
    '    for w in $words',
    '        if test $skip = 1',
    '            set skip 0',
    '            continue',
    '        end',
    "        if string match -q -- '-*' $w",
    "            if not string match -q -- '*=*' $w; and __osfleet_takes_value \"$cmdpath\" $w",
    '                set skip 1',
    '            end',
    '            continue',
    '        end',
    '        if contains -- $w (__osfleet_subcommands "$cmdpath")',
    '            set cmdpath (string trim -- "$cmdpath $w")',
    '        end',
    '    end',
    '    echo $cmdpath',
    'end',
    '',
    'complete -c osfleet -f',
  );
  for (const n of nodes) {
    const cond = `-n ${fq(`test (__osfleet_path) = ${fq(n.path)}`)}`;
    for (const s of n.subcommands) lines.push(`complete -c osfleet ${cond} -a ${fq(s.name)} -d ${fq(s.summary)}`);
    for (const o of n.options) {
      const names = o.names.map((name) => (name.startsWith('--') ? `-l ${name.slice(2)}` : `-s ${name.slice(1)}`)).join(' ');
      const value = o.value === 'none' ? '' : o.value === 'any' ? ' -x' : o.value === 'file' ? ' -r -F' : o.value === 'directory' ? " -x -a '(__fish_complete_directories)'" : ` -x -a ${fq(o.value.join(' '))}`;
      lines.push(`complete -c osfleet ${cond} ${names}${value} -d ${fq(o.description)}`);
    }
    if (n.args === 'file') lines.push(`complete -c osfleet ${cond} -F`);
    else if (n.args !== 'none') lines.push(`complete -c osfleet ${cond} -a ${fq(n.args.join(' '))}`);
  }
  return `${lines.join('\n')}\n`;
}
