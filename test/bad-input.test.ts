/**
 * "unexpected failure … please report it" is for bugs only. Every command is walked through a table
 * of bad inputs (missing files, folders where files go, paths under a file, unknown names, flags out
 * of range, a config file that is a folder, an unreachable server): each must end in a clear error
 * with its documented exit code, and none may ask to be reported.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../src/cli.js';
import { testIO } from '../src/io.js';
import { COMMANDS } from '../src/commands/index.js';

const root = mkdtempSync(path.join(tmpdir(), 'osfleet-bad-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const home = path.join(root, 'home');
mkdirSync(home);
const folder = path.join(root, 'a-folder');
mkdirSync(folder);
const file = path.join(root, 'a-file.txt');
writeFileSync(file, 'not yaml: [\n');
const results = path.join(root, 'results.ndjson');
writeFileSync(results, '{"host":"h","rows":[{"a":"1"}]}\n');
const missing = path.join(root, 'missing');
const underFile = path.join(file, 'x.csv'); // ENOTDIR
const configIsFolder = { OSFLEET_CONFIG: folder };
/** A server that refuses connections (nothing listens on port 1). */
const deadServer = { FLEET_URL: 'http://127.0.0.1:1', FLEET_API_TOKEN: 'x' };

type Case = [args: string[], exit: number, says: RegExp, env?: Record<string, string>];

const CASES: Case[] = [
  // configuration
  [['config', 'set', '--address', 'not a url'], 1, /not a valid URL/],
  [['config', 'get', 'nokey'], 1, /context "default" does not exist|not a config key/],
  [['config', 'use-context', 'nosuch'], 1, /does not exist/],
  [['config', 'list'], 1, new RegExp(folder.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')), configIsFolder],
  [['config', 'set', '--email', 'a@b.c'], 1, new RegExp(folder.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')), configIsFolder],
  [['config', 'set', '--email', 'a@b.c'], 1, /a-file\.txt: exists and is not a folder/, { OSFLEET_CONFIG: underFile }],
  [['--config', folder, 'whoami'], 1, /a-folder/],
  // session
  [['setup', '--address', 'ftp://example.com', '--email', 'a@b.c', '--password-stdin'], 1, /must start with https/],
  [['login', '--email', 'a@b.c', '--password-stdin'], 64, /password is empty/],
  [['logout'], 0, /no saved token/],
  [['whoami'], 1, /no server address/],
  [['whoami'], 1, /cannot connect|refused/, deadServer],
  [['version'], 1, /unreachable|cannot connect|refused/, deadServer],
  // specs
  [['apply', '-f', missing], 1, /missing/],
  [['apply', '-f', file, '--dry-run'], 1, /a-file\.txt/],
  [['apply'], 64, /-f/],
  [['get', 'frobs'], 64, /frobs/],
  [['get', 'hosts', '--status', 'sleepy'], 64, /sleepy/],
  [['get', 'hosts', '--time-format', 'roman'], 64, /roman/],
  [['delete', 'frob', 'x'], 64, /frob/],
  [['delete', '-f', missing, '--yes'], 1, /missing/],
  [['lint', missing], 1, /missing/],
  [['lint'], 64, /lint needs/],
  [['convert', '-f', missing], 1, /missing/],
  [['convert', '-f', folder], 1, /a-folder/],
  [['convert'], 64, /-f/],
  [['schema', 'no_such_table'], 1, /no_such_table/],
  [['schema', '--platform', 'amiga'], 64, /amiga/],
  // report
  [['report'], 64, /missing required argument 'query'/],
  [['report', 'data-leak-print-jobs', '--context', 'nope'], 1, /no server address in context "nope"/],
  // queries and results
  [['query', '--all'], 64, /no query/],
  [['query', '--query', 'SELECT 1'], 64, /no hosts or labels/],
  [['query', '--all', '--query', 'SELECT 1', '--timeout', 'soon'], 64, /soon/],
  [['query', '--all', '--query', 'SELECT 1', '--label-expr', 'AND AND'], 64, /label/i],
  [['query', '--all', '--query', 'SELECT 1', '--format', 'xml'], 64, /xml/],
  [['query', '--all', '--query', 'SELECT 1'], 1, /cannot connect|refused/, deadServer],
  [['export', missing], 1, /missing/],
  [['export', folder], 1, /a-folder/],
  [['export', results, '-o', underFile], 1, /x\.csv/],
  [['export', results, '-o', path.join(missing, 'out.csv')], 1, /out\.csv/],
  [['export', results, '-o', folder], 1, /a-folder/],
  [['export', results, '--users', missing], 1, /missing/],
  [['export', results, '--from-manifest', missing], 1, /missing/],
  [['export', results, '--from-manifest', folder], 1, /a-folder/],
  [['export', results, '--tz', 'Mars/Olympus'], 64, /Mars\/Olympus/],
  [['export', results, '--manifest', underFile, '--format', 'csv'], 1, /x\.csv/],
  // the sandbox
  [['preview', '--port', '70000'], 64, /--port/],
  [['preview', '--port', '-1'], 64, /--port/],
  [['preview', '--port', 'http'], 64, /--port/],
  [['preview', '--hosts', 'many'], 64, /--hosts/],
  [['preview', '--check-in', '5'], 64, /--check-in/],
  [['preview', '--seed', '1.5'], 64, /--seed/],
  [['preview', '--dialect', 'osquery'], 64, /osquery/],
  [['preview', '--data', underFile], 1, /x\.csv|a-file\.txt/],
  [['preview', 'stop', '--data', file], 1, /a-file\.txt/],
  // the rest
  [['completion', 'tcsh'], 64, /tcsh/],
  [['help', 'nosuch'], 64, /nosuch/],
  [['frobnicate'], 64, /frobnicate/],
];

describe('bad inputs end in a clear error, never in "please report it"', () => {
  it('the table covers every command', () => {
    const covered = new Set(CASES.map(([args]) => args.find((a) => !a.startsWith('-') && a !== folder)!));
    const names = COMMANDS.map((c) => c.name).filter((n) => n !== 'demo');
    expect(names.filter((n) => !covered.has(n))).toEqual([]);
  });

  it.each(CASES.map((c) => [c[0].join(' ').replaceAll(root, '…'), c] as const))('osfleet %s', async (_line, [args, exit, says, env]) => {
    const io = testIO({ stdin: '' });
    const code = await main(args, {
      io,
      env: { HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), XDG_STATE_HOME: path.join(home, '.state'), ...env },
      cwd: root,
      // Nothing here may start a server: if one does, it stops by itself.
      signal: AbortSignal.timeout(20_000),
    });
    const stderr = io.stderrText();
    expect(stderr).not.toMatch(/please report|unexpected failure/);
    expect(stderr + io.stdoutText()).toMatch(says);
    expect(code, stderr).toBe(exit);
  });
});
