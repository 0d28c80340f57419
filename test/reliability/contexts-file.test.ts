/**
 * The contexts file handled like ssh handles its keys (issue 21.3): refused, with the reason, when
 * another user owns it or others can write it; written through a symlink to its target, keeping the
 * target's mode; a failure to save names the file and leaves the old content as it was.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { chmodSync, chownSync, lstatSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli, scratchHome } from '../helpers/cli.js';

let home: ReturnType<typeof scratchHome>;
beforeEach(() => {
  home = scratchHome();
  mkdirSync(path.dirname(home.configPath), { recursive: true, mode: 0o700 });
});
afterEach(() => home.cleanup());

const CONFIG = 'current-context: default\ncontexts:\n  default:\n    address: https://fleet.example.com\n    token: tok-0123456789\n';

it('owned by another user: refused with the reason, the token not used', async () => {
  if (process.getuid?.() !== 0) return void console.log('skipped: chown to another uid needs root');
  writeFileSync(home.configPath, CONFIG, { mode: 0o600 });
  chownSync(home.configPath, 12345, 12345);
  const r = await runCli(['config', 'get', 'address'], { env: home.env });
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`config file ${home.configPath} is owned by another user (uid 12345, not 0)`);
});

it('writable by others: refused, naming the mode and the fix', async () => {
  writeFileSync(home.configPath, CONFIG, { mode: 0o600 });
  chmodSync(home.configPath, 0o602);
  const r = await runCli(['config', 'get', 'address'], { env: home.env });
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('is writable by group or others (mode 602)');
  expect(r.stderr).toContain(`chmod 600 '${home.configPath}'`);
});

it('a symlink is written through: the target gets the change and keeps its mode, the link stays', async () => {
  const dotfiles = path.join(home.home, 'dotfiles');
  mkdirSync(dotfiles, { mode: 0o700 });
  const target = path.join(dotfiles, 'osfleet.yml');
  writeFileSync(target, CONFIG, { mode: 0o400 });
  chmodSync(target, 0o400);
  symlinkSync(target, home.configPath);
  const r = await runCli(['config', 'set', '--email', 'new@example.com'], { env: home.env });
  expect(r.code, r.stderr).toBe(0);
  expect(lstatSync(home.configPath).isSymbolicLink()).toBe(true);
  expect(readFileSync(target, 'utf8')).toContain('email: new@example.com');
  expect(readFileSync(target, 'utf8')).toContain('token: tok-0123456789');
  expect(statSync(target).mode & 0o777).toBe(0o400);
  expect(readdirSync(dotfiles)).toEqual(['osfleet.yml']);
});

it('a folder that cannot be created: the error names the file, nothing half-written', async () => {
  // A regular file where the config folder should be: mkdir fails even for root.
  const blocker = path.join(home.home, 'not-a-folder');
  writeFileSync(blocker, 'x');
  const r = await runCli(['config', 'set', '--address', 'https://fleet.example.com'], { env: { ...home.env, XDG_CONFIG_HOME: blocker } });
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`cannot save the config file ${path.join(blocker, 'osfleet', 'config.yml')}: a part of its path is not a folder; it was left as it was`);
  expect(r.stderr).not.toContain('unexpected failure');
});

it('a full disk while saving names the file, leaves the old content and no temporary file (64 KiB tmpfs)', async (t) => {
  if (process.getuid?.() !== 0) return t.skip();
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { spawnSync } = await import('node:child_process');
  const { tmpdir } = await import('node:os');
  const disk = mkdtempSync(path.join(tmpdir(), 'osfleet-full-config-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', disk]).status === 0;
  try {
    if (!mounted) return t.skip();
    chmodSync(disk, 0o700); // a tmpfs root is 1777, a folder others may write: refused before any save
    const file = path.join(disk, 'config.yml');
    writeFileSync(file, CONFIG, { mode: 0o600 });
    // Fill what is left of the disk.
    spawnSync('dd', ['if=/dev/zero', `of=${path.join(disk, 'filler')}`, 'bs=4k', 'count=64'], { stdio: 'ignore' });
    const r = await runCli(['config', 'set', '--address', 'https://other.example.com'], { env: { ...home.env, OSFLEET_CONFIG: file } });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`cannot save the config file ${file}: no space left on the device; it was left as it was`);
    expect(r.stderr).not.toMatch(/please report|unexpected failure/);
    expect(readFileSync(file, 'utf8')).toBe(CONFIG);
    expect(readdirSync(disk).sort()).toEqual(['config.yml', 'filler']);
  } finally {
    if (mounted) spawnSync('umount', [disk]);
    rmSync(disk, { recursive: true, force: true });
  }
});
