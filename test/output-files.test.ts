/**
 * Issue 15.3 / 21.4: the one writer of output files, through the real CLI. A full disk is a small
 * tmpfs (needs root and mount; skipped with the reason otherwise); a device node is made with mknod
 * in a temporary folder (never the real /dev entries); symlinks, FIFOs, files of another owner.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { collect, repoRoot, runCli } from './helpers/cli.js';
import { startCliFleet, type CliFleet } from './helpers/fleet.js';

const isRoot = process.getuid?.() === 0;
const ROWS = Array.from({ length: 1500 }, (_, i) => JSON.stringify({ host: `host-${i % 7}`, rows: [{ path: `/Users/someone/Documents/file-${i}.docx`, size: String(1000 + i) }] })).join('\n') + '\n';
const SMALL = `${JSON.stringify({ host: 'a', rows: [{ path: '/x', size: '1' }] })}\n`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'osfleet-out-test-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const leftovers = (d: string) => readdirSync(d).filter((f) => f.endsWith('.tmp'));
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** A 64 KiB tmpfs at `at`, or the reason it cannot be had. */
function smallDisk(at: string): string | undefined {
  if (!isRoot) return 'not root: cannot mount a small tmpfs';
  mkdirSync(at, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', at]);
  return r.status === 0 ? undefined : `mount -t tmpfs not permitted here: ${String(r.stderr).trim() || r.error?.message}`;
}
const unmount = (at: string) => spawnSync('umount', [at]);

describe('a full disk is a failure (64 KiB tmpfs)', () => {
  let disk: string;
  let skip: string | undefined;
  beforeAll(() => {
    disk = mkdtempSync(path.join(tmpdir(), 'osfleet-full-'));
    skip = smallDisk(disk);
    if (skip) console.log(`[output-files] full-disk tests skipped: ${skip}`);
  });
  afterAll(() => {
    if (!skip) unmount(disk);
    rmSync(disk, { recursive: true, force: true });
  });

  it('export of 1500 rows: exit 1 naming the file and ENOSPC, no temporary file, the old file as it was, no manifest', async (t) => {
    if (skip) t.skip();
    const out = path.join(disk, 'report.csv');
    writeFileSync(out, 'the old report\n', { mode: 0o644 });
    const input = path.join(dir, 'rows.ndjson');
    writeFileSync(input, ROWS);
    const r = await runCli(['export', input, '--table', 'file', '-o', out]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`cannot write ${out}: no space left on device (ENOSPC)`);
    expect(r.stderr).not.toContain('Wrote');
    expect(r.stderr).not.toContain('unexpected failure');
    expect(readFileSync(out, 'utf8')).toBe('the old report\n');
    expect(statSync(out).mode & 0o777).toBe(0o644);
    expect(readdirSync(disk)).toEqual(['report.csv']);
  });

  it('the manifest on a full disk: exit 1, no half manifest, no temporary file', async (t) => {
    if (skip) t.skip();
    // Fill the disk so the manifest (not the small output) is what does not fit.
    // 15 of the 16 pages: the output (one page) fits, its manifest does not.
    const filler = path.join(disk, 'filler');
    writeFileSync(filler, Buffer.alloc(60 * 1024));
    const out = path.join(disk, 'small.csv');
    const r = await runCli(['export', '--table', 'file', '-o', out], { stdin: SMALL });
    rmSync(filler);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/cannot write .*small\.csv(\.manifest\.json)?: no space left on device \(ENOSPC\)/);
    expect(leftovers(disk)).toEqual([]);
    if (existsSync(`${out}.manifest.json`)) expect(() => JSON.parse(readFileSync(`${out}.manifest.json`, 'utf8'))).not.toThrow();
    for (const f of readdirSync(disk)) rmSync(path.join(disk, f));
  });

  it('rows spooled to a full temporary folder (TMPDIR): exit 1 naming the folder, not a crash', async (t) => {
    if (skip) t.skip();
    const input = path.join(dir, 'many.ndjson');
    // More rows than CSV keeps in memory before the header is known, with a column appearing late.
    writeFileSync(input, Array.from({ length: 3000 }, (_, i) => JSON.stringify({ host: 'h', rows: [{ path: `/p/${'x'.repeat(40)}/${i}`, ...(i > 2500 ? { late: '1' } : {}) }] })).join('\n') + '\n');
    const r = await runCli(['export', input, '--format', 'csv'], { env: { TMPDIR: disk } });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`cannot hold rows in the temporary folder ${disk}/osfleet-csv-`);
    expect(r.stderr).toContain('no space left on device (ENOSPC)');
    expect(r.stderr).not.toContain('unexpected failure');
    expect(readdirSync(disk)).toEqual([]);
  });

  describe('query -o', () => {
    let fleet: CliFleet;
    beforeAll(async () => {
      fleet = await startCliFleet({ dialect: 'fleet', offline: 0 });
    });
    afterAll(async () => fleet?.stop());

    it('-o - is standard output, and --manifest records its SHA-256', async () => {
      const manifest = path.join(dir, 'm.json');
      const r = await runCli(['query', '--all', '--query', 'SELECT 1 AS one', '--format', 'csv', '-o', '-', '--manifest', manifest, '--quiet'], { env: fleet.env, cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.split('\r\n')[0]).toBe('host,one');
      expect(readdirSync(dir)).toEqual(['m.json']);
      expect(JSON.parse(readFileSync(manifest, 'utf8')).output).toMatchObject({ path: null, sha256: sha(r.stdout) });
    });

    it('a result that does not fit: exit 1 naming the file, no 0-byte file, no temporary file', async (t) => {
      if (skip) t.skip();
      const out = path.join(disk, 'q.csv');
      const r = await runCli(['query', '--all', '--query', "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 2000) SELECT x, 'a line long enough to fill the disk' AS pad FROM n", '-o', out], { env: fleet.env });
      // The sandbox answers this with far more than 64 KiB.
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(`cannot write ${out}: no space left on device (ENOSPC)`);
      expect(readdirSync(disk)).toEqual([]);
    });
  });
});

describe('-o onto what is not a regular file', () => {
  it('a device node (mknod in a temp folder) is written through and stays a device', async (t) => {
    const dev = path.join(dir, 'null-copy');
    const made = spawnSync('mknod', [dev, 'c', '1', '3']);
    if (made.status !== 0) t.skip(`mknod not permitted: ${String(made.stderr).trim()}`);
    const r = await runCli(['export', '--table', 'file', '-o', dev], { stdin: SMALL });
    expect(r.code, r.stderr).toBe(0);
    expect(lstatSync(dev).isCharacterDevice()).toBe(true);
    expect(leftovers(dir)).toEqual([]);
    // No manifest is made beside a device unless asked for.
    expect(readdirSync(dir)).toEqual(['null-copy']);
  });

  it('a device that refuses the bytes (mknod c 1 7, "full") is an error naming it, exit 1', async (t) => {
    const dev = path.join(dir, 'full-copy');
    const made = spawnSync('mknod', [dev, 'c', '1', '7']);
    if (made.status !== 0) t.skip(`mknod not permitted: ${String(made.stderr).trim()}`);
    const r = await runCli(['export', '--table', 'file', '-o', dev], { stdin: SMALL });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`cannot write ${dev}: no space left on device (ENOSPC)`);
    expect(r.stderr).not.toContain('Wrote');
    expect(lstatSync(dev).isCharacterDevice()).toBe(true);
  });

  it('a FIFO is written through to its reader', async (t) => {
    const fifo = path.join(dir, 'pipe');
    if (spawnSync('mkfifo', [fifo]).status !== 0) t.skip('mkfifo not available');
    const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'pipe'] });
    const got = collect(reader);
    const r = await runCli(['export', '--table', 'file', '--format', 'csv', '-o', fifo], { stdin: SMALL });
    expect(r.code, r.stderr).toBe(0);
    expect((await got).stdout).toBe('host,path,size\r\na,/x,1\r\n');
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  it('a FIFO nobody reads is an error, not a wait', async (t) => {
    const fifo = path.join(dir, 'lonely');
    if (spawnSync('mkfifo', [fifo]).status !== 0) t.skip('mkfifo not available');
    const r = await runCli(['export', '--table', 'file', '--format', 'csv', '-o', fifo], { stdin: SMALL });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot write ${fifo}: no process is reading it (ENXIO)`);
  });

  it('/dev/stdout writes to standard output', async () => {
    const r = await runCli(['export', '--table', 'file', '--format', 'csv', '-o', '/dev/stdout'], { stdin: SMALL });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('host,path,size\r\na,/x,1\r\n');
  });

  it('-o - is standard output for export and convert (query: below)', async () => {
    const e = await runCli(['export', '--table', 'file', '--format', 'csv', '-o', '-'], { stdin: SMALL });
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toBe('host,path,size\r\na,/x,1\r\n');
    expect(existsSync(path.join(repoRoot, '-'))).toBe(false);
    const pack = path.join(dir, 'p.conf');
    writeFileSync(pack, JSON.stringify({ queries: { q: { query: 'SELECT 1', interval: 60 } } }));
    const c = await runCli(['convert', '-f', pack, '-o', '-'], { cwd: dir });
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toContain('kind: pack');
    expect(readdirSync(dir)).toEqual(['p.conf']);
  });
});

describe('-o onto a symlink writes its target; the link stays', () => {
  it('an existing target', async () => {
    const target = path.join(dir, 'report.csv');
    writeFileSync(target, 'old\n', { mode: 0o640 });
    const link = path.join(dir, 'latest.csv');
    symlinkSync('report.csv', link);
    const r = await runCli(['export', '--table', 'file', '--format', 'csv', '-o', link, '--manifest', path.join(dir, 'm.json')], { stdin: SMALL });
    expect(r.code, r.stderr).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe('report.csv');
    expect(readFileSync(target, 'utf8')).toBe('host,path,size\r\na,/x,1\r\n');
    expect(statSync(target).mode & 0o777).toBe(0o640);
    const m = JSON.parse(readFileSync(path.join(dir, 'm.json'), 'utf8'));
    expect(m.output).toMatchObject({ path: target, sha256: sha(readFileSync(target)) });
    expect(leftovers(dir)).toEqual([]);
  });

  it('a dangling link: its target is created', async () => {
    mkdirSync(path.join(dir, 'reports'));
    const link = path.join(dir, 'latest.csv');
    symlinkSync('reports/new.csv', link);
    const r = await runCli(['export', '--table', 'file', '--format', 'csv', '-o', link], { stdin: SMALL });
    expect(r.code, r.stderr).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(path.join(dir, 'reports/new.csv'), 'utf8')).toBe('host,path,size\r\na,/x,1\r\n');
  });
});

describe('-o onto an existing file keeps its owner and mode', () => {
  it('a file of another uid (chown as root) keeps that owner, group and mode', async (t) => {
    if (!isRoot) t.skip('not root: cannot chown a file to another uid');
    const out = path.join(dir, 'shared.csv');
    writeFileSync(out, 'old\n');
    chownSync(out, 4321, 4322);
    chmodSync(out, 0o664);
    const r = await runCli(['export', '--table', 'file', '--format', 'csv', '-o', out], { stdin: SMALL });
    expect(r.code, r.stderr).toBe(0);
    const st = statSync(out);
    expect([st.uid, st.gid, st.mode & 0o7777]).toEqual([4321, 4322, 0o664]);
    expect(readFileSync(out, 'utf8')).toBe('host,path,size\r\na,/x,1\r\n');
  });

  it('a file of another uid that cannot be given away is refused, left as it was', async (t) => {
    if (!isRoot) t.skip('needs root to make the file and drop to another uid');
    const out = path.join(dir, 'theirs.csv');
    writeFileSync(out, 'theirs\n');
    chownSync(out, 4321, 4321);
    chmodSync(out, 0o666);
    // Run as uid 4444: the folder is writable, the file too, but its owner cannot be given away.
    const r = await exportAsAnotherUid(out, t);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`cannot replace ${out}: it belongs to uid 4321`);
    expect(readFileSync(out, 'utf8')).toBe('theirs\n');
    expect(statSync(out).uid).toBe(4321);
    expect(leftovers(dir)).toEqual([]);
  });
});

/** `export … -o out` run as uid 4444 (root only), in a folder it may write to. */
async function exportAsAnotherUid(out: string, t: { skip(note: string): void }) {
  chmodSync(dir, 0o777);
  const input = path.join(dir, 'in.ndjson');
  writeFileSync(input, SMALL, { mode: 0o644 });
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin/osfleet.js'), 'export', input, '--table', 'file', '-o', out], {
    uid: 4444,
    gid: 4444,
    env: { PATH: process.env['PATH'], HOME: dir, CI: 'true', TZ: 'UTC' },
    cwd: dir,
  });
  const r = await collect(child);
  if (r.stderr.includes('EACCES') && r.stderr.includes('osfleet.js')) t.skip('the repository is not readable by another uid');
  return r;
}

describe('-o onto a read-only file', () => {
  it('is refused, the file left as it was (run as another uid: root may write anything)', async (t) => {
    if (!isRoot) t.skip('needs root to drop to another uid');
    const out = path.join(dir, 'frozen.csv');
    writeFileSync(out, 'frozen\n');
    chownSync(out, 4444, 4444);
    chmodSync(out, 0o444);
    const r = await exportAsAnotherUid(out, t);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`cannot replace ${out}: it is not writable (EACCES, mode 0444)`);
    expect(readFileSync(out, 'utf8')).toBe('frozen\n');
    expect(leftovers(dir)).toEqual([]);
  });
});

describe('the manifest', () => {
  it('is written after the data, with the SHA-256 of the output and of every input', async () => {
    const a = path.join(dir, 'a.ndjson');
    const b = path.join(dir, 'b.ndjson');
    writeFileSync(a, SMALL);
    writeFileSync(b, `${JSON.stringify({ host: 'b', rows: [{ path: '/y', size: '2' }] })}\n`);
    const users = path.join(dir, 'users.ndjson');
    writeFileSync(users, `${JSON.stringify({ host: 'a', rows: [{ uid: '0', username: 'root' }] })}\n`);
    const out = path.join(dir, 'out.csv');
    const r = await runCli(['export', a, b, '--table', 'file', '--users', users, '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    const m = JSON.parse(readFileSync(`${out}.manifest.json`, 'utf8'));
    expect(m.output.sha256).toBe(sha(readFileSync(out)));
    expect(m.input_files).toEqual([
      { path: users, role: 'users', sha256: sha(readFileSync(users)), bytes: statSync(users).size },
      { path: a, sha256: sha(readFileSync(a)), bytes: statSync(a).size },
      { path: b, sha256: sha(readFileSync(b)), bytes: statSync(b).size },
    ]);
    expect(statSync(`${out}.manifest.json`).mtimeMs).toBeGreaterThanOrEqual(statSync(out).mtimeMs);
  });

  it('stdin is hashed too', async () => {
    const out = path.join(dir, 'out.csv');
    const r = await runCli(['export', '--table', 'file', '-o', out], { stdin: SMALL });
    expect(r.code, r.stderr).toBe(0);
    const m = JSON.parse(readFileSync(`${out}.manifest.json`, 'utf8'));
    expect(m.input_files).toEqual([{ path: 'stdin', sha256: sha(SMALL), bytes: Buffer.byteLength(SMALL) }]);
  });
});
