/**
 * Row builders for one simulated host per platform: the accounts, processes, mounts and other
 * base tables a freshly imaged machine has. The story hosts and the generated templates both
 * start from these and then add their own activity (print jobs, file copies, logins).
 */
import { createHash } from 'node:crypto';
import type { Rng } from './prng.js';
import type { SimPlatform } from './schema.js';
import { PLATFORM_MASK } from './schema.js';

export type Value = string | number | null;
export type SimRow = Record<string, Value>;

export interface HostData {
  platform: SimPlatform;
  /** Human OS name as Fleet shows it (host.os_version). */
  osDisplay: string;
  osqueryVersion: string;
  /** Every table except the per-host identity tables (system_info, osquery_info, uptime). */
  tables: Record<string, SimRow[]>;
  /** Template rows; the identity columns are replaced per host. */
  systemInfo: SimRow;
  osqueryInfo: SimRow;
}

export interface Person {
  username: string;
  fullName: string;
  uid: number;
  admin?: boolean;
}

export interface OsSpec {
  name: string;
  version: string;
  major: number;
  minor: number;
  patch: number;
  build: string;
  platform: string;
  platformLike: string;
  codename: string;
  arch: string;
  display: string;
  installDate?: number;
  revision?: number;
}

export interface HardwareSpec {
  vendor: string;
  model: string;
  cpuBrand: string;
  cpuSubtype: string;
  physicalCores: number;
  logicalCores: number;
  memoryGiB: number;
  boardModel: string;
  firmware: { vendor: string; version: string; date: string; revision: string; type: string };
}

export interface BaseSpec {
  platform: SimPlatform;
  os: OsSpec;
  hw: HardwareSpec;
  osquery: string;
  people: Person[];
  /** The person at the keyboard: logged in, owns the GUI processes. */
  primary: string;
  /** Seconds; boot, logins and process starts are placed shortly before it. */
  now: number;
  /** macOS 10.15+ splits the system and data volumes. */
  macDataVolume?: boolean;
  shell?: string;
  encrypted?: boolean;
}

/** Hashes of a synthetic file body, so copies of the same file carry the same digests. */
export function fileHashes(contentKey: string): { md5: string; sha1: string; sha256: string } {
  const h = (alg: string): string => createHash(alg).update(contentKey).digest('hex');
  return { md5: h('md5'), sha1: h('sha1'), sha256: h('sha256') };
}

const MAC_SYSTEM_USERS: [string, number, string, string][] = [
  ['root', 0, 'System Administrator', '/var/root'],
  ['daemon', 1, 'System Services', '/var/root'],
  ['_www', 70, 'World Wide Web Server', '/Library/WebServer'],
  ['_windowserver', 88, 'WindowServer', '/var/empty'],
  ['_spotlight', 89, 'Spotlight', '/var/empty'],
  ['nobody', 4294967294, 'Unprivileged User', '/var/empty'],
];

function signed32(n: number): number {
  return n > 0x7fffffff ? n - 0x100000000 : n;
}

function macDirUuid(uid: number): string {
  // macOS gives built-in accounts this fixed pattern with the uid in hex at the end.
  return `FFFFEEEE-DDDD-CCCC-BBBB-AAAA${(uid >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
}

interface ProcSpec {
  pid: number;
  name: string;
  path: string;
  cmdline?: string;
  uid: number;
  gid: number;
  parent: number;
  start: number;
  userMs: number;
  sysMs: number;
  rssMiB: number;
  threads: number;
  cwd?: string;
  /** Seconds the process has run (Windows elapsed_time); defaults to a plausible value. */
  elapsed?: number;
}

function proc(platform: SimPlatform, p: ProcSpec): SimRow {
  const rss = p.rssMiB * 1048576;
  const row: SimRow = {
    pid: p.pid, name: p.name, path: p.path, cmdline: p.cmdline ?? p.path, state: platform === 'windows' ? 'STILL_ACTIVE' : 'S',
    cwd: p.cwd ?? '/', root: platform === 'windows' ? '' : '/', uid: p.uid, gid: p.gid, euid: p.uid, egid: p.gid,
    suid: p.uid, sgid: p.gid, on_disk: 1, wired_size: 0, resident_size: rss, total_size: rss * 4,
    user_time: p.userMs, system_time: p.sysMs, disk_bytes_read: p.rssMiB * 20480, disk_bytes_written: p.rssMiB * 4096,
    start_time: p.start, parent: p.parent, pgroup: p.pid, threads: p.threads, nice: 0,
  };
  if (platform === 'darwin') {
    Object.assign(row, { upid: p.pid, uppid: p.parent, cpu_type: 16777223, cpu_subtype: 3, translated: 0 });
  } else if (platform === 'linux') {
    row.cgroup_path = p.uid === 0 ? '/system.slice' : `/user.slice/user-${p.uid}.slice`;
  } else {
    Object.assign(row, {
      cwd: p.cwd ?? 'C:\\Windows\\system32', gid: -1, egid: -1, sgid: -1, suid: -1, pgroup: -1, wired_size: 0,
      elevated_token: p.uid < 1000 ? 1 : 0, secure_process: 0, protection_type: p.uid < 1000 ? 'PsProtectedSignerWinTcb-Light' : '',
      virtual_process: 0, elapsed_time: p.elapsed ?? 3600 + ((p.pid * 7919) % 86400), handle_count: 200 + p.threads * 37,
      percent_processor_time: (p.userMs + p.sysMs) * 10000,
    });
  }
  return row;
}

/** The rows every host of a platform has, before its own story is added. */
export function baseHost(spec: BaseSpec, rng: Rng): HostData {
  switch (spec.platform) {
    case 'darwin':
      return baseMac(spec, rng);
    case 'linux':
      return baseLinux(spec, rng);
    case 'windows':
      return baseWindows(spec, rng);
  }
}

function primaryOf(spec: BaseSpec): Person {
  const p = spec.people.find((x) => x.username === spec.primary);
  if (!p) throw new Error(`primary user ${spec.primary} is not among the people`);
  return p;
}

function osVersionRow(os: OsSpec): SimRow {
  return {
    name: os.name, version: os.version, major: os.major, minor: os.minor, patch: os.patch, build: os.build,
    platform: os.platform, platform_like: os.platformLike, codename: os.codename, arch: os.arch, extra: '',
    install_date: os.installDate ?? null, revision: os.revision ?? null,
  };
}

function systemInfoRow(spec: BaseSpec): SimRow {
  const hw = spec.hw;
  return {
    hostname: '', uuid: '', cpu_type: spec.os.arch === 'arm64' ? 'arm64e' : 'x86_64h', cpu_subtype: hw.cpuSubtype,
    cpu_brand: hw.cpuBrand, cpu_physical_cores: hw.physicalCores, cpu_logical_cores: hw.logicalCores, cpu_sockets: 1,
    cpu_microcode: spec.platform === 'darwin' ? '' : '0xde', physical_memory: hw.memoryGiB * 1073741824,
    hardware_vendor: hw.vendor, hardware_model: hw.model, hardware_version: spec.platform === 'darwin' ? '1.0' : '',
    hardware_serial: '', board_vendor: hw.vendor, board_model: hw.boardModel, board_version: spec.platform === 'darwin' ? hw.model : 'A01',
    board_serial: '', computer_name: '', local_hostname: '', emulated_cpu_type: spec.platform === 'windows' ? '' : null,
  };
}

function osqueryInfoRow(spec: BaseSpec): SimRow {
  const build: Record<SimPlatform, [string, string]> = {
    darwin: ['darwin', spec.osquery.startsWith('4.') ? '10.12' : '10.14'],
    linux: ['linux', 'centos7'],
    windows: ['windows', '10'],
  };
  const [bp, bd] = build[spec.platform];
  return {
    pid: 0, uuid: '', instance_id: '', version: spec.osquery, config_hash: '', config_valid: 1, extensions: 'active',
    build_platform: bp, build_distro: bd, start_time: 0, watcher: 0, platform_mask: Number(PLATFORM_MASK[spec.platform]),
  };
}

function platformInfoRow(spec: BaseSpec): SimRow {
  const f = spec.hw.firmware;
  return {
    vendor: f.vendor, version: f.version, date: f.date, revision: f.revision, extra: '', firmware_type: f.type,
    address: spec.platform === 'windows' ? null : '0xff990000', size: spec.platform === 'windows' ? null : '8388608',
    volume_size: spec.platform === 'windows' ? null : 0,
  };
}

function baseMac(spec: BaseSpec, rng: Rng): HostData {
  const shell = spec.shell ?? '/bin/zsh';
  const boot = spec.now - rng.int(2, 9) * 86400 - rng.int(0, 80000);
  const users: SimRow[] = MAC_SYSTEM_USERS.map(([username, uid, description, directory]) => ({
    uid, gid: uid, uid_signed: signed32(uid), gid_signed: signed32(uid), username, description, directory,
    shell: uid === 0 ? '/bin/sh' : '/usr/bin/false', uuid: macDirUuid(uid), is_hidden: username.startsWith('_') ? 1 : 0,
  }));
  for (const p of spec.people) {
    users.push({
      uid: p.uid, gid: 20, uid_signed: p.uid, gid_signed: 20, username: p.username, description: p.fullName,
      directory: `/Users/${p.username}`, shell, uuid: rng.uuid(), is_hidden: 0,
    });
  }
  const groupDefs: [string, number][] = [
    ['wheel', 0], ['daemon', 1], ['everyone', 12], ['staff', 20], ['_www', 70], ['admin', 80], ['_lpadmin', 98],
    ['nobody', 4294967294],
  ];
  const groups: SimRow[] = groupDefs.map(([groupname, gid]) => ({ gid, gid_signed: signed32(gid), groupname, is_hidden: 0 }));
  const userGroups: SimRow[] = [
    { uid: 0, gid: 0 }, { uid: 0, gid: 80 }, { uid: 1, gid: 1 }, { uid: 70, gid: 70 },
  ];
  for (const p of spec.people) {
    userGroups.push({ uid: p.uid, gid: 12 }, { uid: p.uid, gid: 20 });
    if (p.admin) userGroups.push({ uid: p.uid, gid: 80 }, { uid: p.uid, gid: 98 });
  }
  const me = primaryOf(spec);
  const login = spec.now - rng.int(3600, 20000);
  let pid = 100 + rng.int(0, 200);
  const nextPid = (): number => (pid += rng.int(3, 140));
  const finderPid = nextPid();
  const procs: SimRow[] = [
    proc('darwin', { pid: 0, name: 'kernel_task', path: '', cmdline: '', uid: 0, gid: 0, parent: 0, start: boot, userMs: 0, sysMs: rng.int(900000, 4000000), rssMiB: 1200, threads: 210 }),
    proc('darwin', { pid: 1, name: 'launchd', path: '/sbin/launchd', uid: 0, gid: 0, parent: 0, start: boot, userMs: rng.int(20000, 90000), sysMs: rng.int(40000, 200000), rssMiB: 12, threads: 4 }),
    proc('darwin', { pid: nextPid(), name: 'WindowServer', path: '/System/Library/PrivateFrameworks/SkyLight.framework/Resources/WindowServer', cmdline: '/System/Library/PrivateFrameworks/SkyLight.framework/Resources/WindowServer -daemon', uid: 88, gid: 88, parent: 1, start: boot + 8, userMs: rng.int(200000, 900000), sysMs: rng.int(100000, 500000), rssMiB: 180, threads: 12 }),
    proc('darwin', { pid: nextPid(), name: 'osqueryd', path: '/usr/local/bin/osqueryd', cmdline: '/usr/local/bin/osqueryd --flagfile=/var/osquery/osquery.flags', uid: 0, gid: 0, parent: 1, start: boot + 20, userMs: rng.int(5000, 60000), sysMs: rng.int(3000, 30000), rssMiB: 48, threads: 18, cwd: '/var/osquery' }),
    proc('darwin', { pid: nextPid(), name: 'loginwindow', path: '/System/Library/CoreServices/loginwindow.app/Contents/MacOS/loginwindow', cmdline: '/System/Library/CoreServices/loginwindow.app/Contents/MacOS/loginwindow console', uid: me.uid, gid: 20, parent: 1, start: login, userMs: rng.int(1000, 9000), sysMs: rng.int(800, 5000), rssMiB: 40, threads: 3 }),
    proc('darwin', { pid: finderPid, name: 'Finder', path: '/System/Library/CoreServices/Finder.app/Contents/MacOS/Finder', uid: me.uid, gid: 20, parent: 1, start: login + 4, userMs: rng.int(20000, 120000), sysMs: rng.int(9000, 60000), rssMiB: 95, threads: 9, cwd: `/Users/${me.username}` }),
    proc('darwin', { pid: nextPid(), name: 'Dock', path: '/System/Library/CoreServices/Dock.app/Contents/MacOS/Dock', uid: me.uid, gid: 20, parent: 1, start: login + 4, userMs: rng.int(5000, 30000), sysMs: rng.int(2000, 12000), rssMiB: 60, threads: 5 }),
    proc('darwin', { pid: nextPid(), name: 'Safari', path: '/Applications/Safari.app/Contents/MacOS/Safari', uid: me.uid, gid: 20, parent: 1, start: login + rng.int(60, 900), userMs: rng.int(60000, 400000), sysMs: rng.int(20000, 90000), rssMiB: 310, threads: 22 }),
    proc('darwin', { pid: nextPid(), name: 'zsh', path: '/bin/zsh', cmdline: '-zsh', uid: me.uid, gid: 20, parent: finderPid, start: login + rng.int(600, 3000), userMs: rng.int(50, 400), sysMs: rng.int(30, 300), rssMiB: 3, threads: 1, cwd: `/Users/${me.username}` }),
  ];
  // The user data volume: /System/Volumes/Data on 10.15+, the root volume before; disk1s1 either way.
  const dataDev = '/dev/disk1s1';
  const mounts: SimRow[] = spec.macDataVolume
    ? [
        mount('/dev/disk1s5', '/', 'apfs', 61202533, 0.6, 'ro'),
        mount('devfs', '/dev', 'devfs', 382, 0),
        mount('/dev/disk1s1', '/System/Volumes/Data', 'apfs', 61202533, 0.4),
        mount('/dev/disk1s4', '/private/var/vm', 'apfs', 61202533, 0.4),
        mount('map auto_home', '/System/Volumes/Data/home', 'autofs', 0, 0),
      ]
    : [
        mount('/dev/disk1s1', '/', 'apfs', 61202533, 0.45),
        mount('devfs', '/dev', 'devfs', 376, 0),
        mount('/dev/disk1s4', '/private/var/vm', 'apfs', 61202533, 0.45),
        mount('map -hosts', '/net', 'autofs', 0, 0),
        mount('map auto_home', '/home', 'autofs', 0, 0),
      ];
  const usb: SimRow[] = [
    { usb_address: 1, usb_port: 1, vendor: 'Apple Inc.', vendor_id: '05ac', version: '0.00', model: 'AppleUSBXHCI Root Hub Simulation', model_id: '8007', serial: '', class: '9', subclass: '0', protocol: '0', removable: 0 },
    /MacBookPro1[56],/.test(spec.hw.model)
      ? { usb_address: 2, usb_port: 1, vendor: 'Apple Inc.', vendor_id: '05ac', version: '1.00', model: 'Apple T2 Controller', model_id: '8233', serial: '', class: '239', subclass: '2', protocol: '1', removable: 0 }
      : { usb_address: 2, usb_port: 1, vendor: 'Apple Inc.', vendor_id: '05ac', version: '8.05', model: 'Apple Internal Keyboard / Trackpad', model_id: '0276', serial: '', class: '0', subclass: '0', protocol: '0', removable: 0 },
  ];
  const meRow = users.find((u) => u.username === me.username);
  const encrypted = spec.encrypted ?? true;
  const enc: SimRow[] = [
    {
      name: dataDev, uuid: rng.uuid(), encrypted: encrypted ? 1 : 0, type: encrypted ? 'APFS Encryption' : '',
      encryption_status: encrypted ? 'encrypted' : 'not encrypted', uid: encrypted ? String(me.uid) : '',
      user_uuid: encrypted ? String(meRow?.uuid ?? '') : '', filevault_status: encrypted ? 'on' : 'off',
    },
  ];
  const loggedIn: SimRow[] = [
    { type: 'user', user: me.username, tty: 'console', host: '', time: login, pid: procs[4]?.pid as number },
    { type: 'user', user: me.username, tty: 'ttys000', host: '', time: login + 700, pid: procs[8]?.pid as number },
  ];
  const last: SimRow[] = [
    { username: 'reboot', tty: '~', pid: 0, type: 2, type_name: 'boot-time', time: boot, host: '' },
    { username: me.username, tty: 'console', pid: procs[4]?.pid as number, type: 7, type_name: 'user-process', time: login, host: '' },
    { username: me.username, tty: 'ttys000', pid: procs[8]?.pid as number, type: 7, type_name: 'user-process', time: login + 700, host: '' },
  ];
  return {
    platform: 'darwin',
    osDisplay: spec.os.display,
    osqueryVersion: spec.osquery,
    tables: {
      users, groups, user_groups: userGroups, os_version: [osVersionRow(spec.os)], platform_info: [platformInfoRow(spec)],
      processes: procs, mounts, usb_devices: usb, disk_encryption: enc, logged_in_users: loggedIn, last,
      shell_history: [], cups_jobs: [], cups_destinations: [], file_events: [], disk_events: [],
    },
    systemInfo: systemInfoRow(spec),
    osqueryInfo: osqueryInfoRow(spec),
  };
}

function mount(device: string, path: string, type: string, blocks: number, usedFraction: number, flags = ''): SimRow {
  const free = Math.round(blocks * (1 - usedFraction));
  return {
    device, device_alias: device, path, type, blocks_size: type === 'devfs' ? 512 : 4096, blocks, blocks_free: free,
    blocks_available: free, inodes: blocks ? blocks * 4 : 0, inodes_free: blocks ? free * 4 : 0,
    flags: flags || (type === 'apfs' ? 'rw,local,journaled' : type === 'autofs' ? 'rw,nobrowse,automounted' : 'rw'),
  };
}

export { mount as mountRow };

const LINUX_SYSTEM_USERS: [string, number, string, string, string][] = [
  ['root', 0, 'root', '/root', '/bin/bash'],
  ['bin', 1, 'bin', '/bin', '/sbin/nologin'],
  ['daemon', 2, 'daemon', '/sbin', '/sbin/nologin'],
  ['adm', 3, 'adm', '/var/adm', '/sbin/nologin'],
  ['lp', 4, 'lp', '/var/spool/lpd', '/sbin/nologin'],
  ['sshd', 74, 'Privilege-separated SSH', '/var/empty/sshd', '/sbin/nologin'],
];

function baseLinux(spec: BaseSpec, rng: Rng): HostData {
  const debianish = spec.os.platformLike.includes('debian') || spec.os.platform === 'debian';
  const nobody = debianish ? 65534 : 99;
  const boot = spec.now - rng.int(20, 120) * 86400 - rng.int(0, 80000);
  const users: SimRow[] = LINUX_SYSTEM_USERS.map(([username, uid, description, directory, shell]) => ({
    uid, gid: uid, uid_signed: uid, gid_signed: uid, username, description, directory, shell, uuid: '',
  }));
  users.push({ uid: nobody, gid: nobody, uid_signed: nobody, gid_signed: nobody, username: 'nobody', description: 'Nobody', directory: '/', shell: '/sbin/nologin', uuid: '' });
  for (const p of spec.people) {
    users.push({ uid: p.uid, gid: p.uid, uid_signed: p.uid, gid_signed: p.uid, username: p.username, description: p.fullName, directory: `/home/${p.username}`, shell: spec.shell ?? '/bin/bash', uuid: '' });
  }
  const adminGroup: [string, number] = debianish ? ['sudo', 27] : ['wheel', 10];
  const groupDefs: [string, number][] = [
    ['root', 0], ['bin', 1], ['daemon', 2], ['adm', 4], ['lp', 7], adminGroup, ['users', 100], ['sshd', 74], [debianish ? 'nogroup' : 'nobody', nobody],
  ];
  const groups: SimRow[] = groupDefs.map(([groupname, gid]) => ({ gid, gid_signed: gid, groupname }));
  for (const p of spec.people) groups.push({ gid: p.uid, gid_signed: p.uid, groupname: p.username });
  const userGroups: SimRow[] = [{ uid: 0, gid: 0 }, { uid: 1, gid: 1 }, { uid: 2, gid: 2 }];
  for (const p of spec.people) {
    userGroups.push({ uid: p.uid, gid: p.uid }, { uid: p.uid, gid: 100 });
    if (p.admin) userGroups.push({ uid: p.uid, gid: adminGroup[1] });
  }
  const me = primaryOf(spec);
  const login = spec.now - rng.int(1800, 30000);
  let pid = 400 + rng.int(0, 300);
  const nextPid = (): number => (pid += rng.int(2, 400));
  const sshdPid = nextPid();
  const sessionPid = nextPid();
  const bashPid = nextPid();
  const procs: SimRow[] = [
    proc('linux', { pid: 1, name: 'systemd', path: '/usr/lib/systemd/systemd', cmdline: '/usr/lib/systemd/systemd --switched-root --system --deserialize 22', uid: 0, gid: 0, parent: 0, start: boot, userMs: rng.int(20000, 200000), sysMs: rng.int(30000, 300000), rssMiB: 6, threads: 1 }),
    proc('linux', { pid: 2, name: 'kthreadd', path: '', cmdline: '', uid: 0, gid: 0, parent: 0, start: boot, userMs: 0, sysMs: rng.int(100, 3000), rssMiB: 0, threads: 1 }),
    proc('linux', { pid: sshdPid, name: 'sshd', path: '/usr/sbin/sshd', cmdline: '/usr/sbin/sshd -D', uid: 0, gid: 0, parent: 1, start: boot + 9, userMs: rng.int(1000, 20000), sysMs: rng.int(1000, 20000), rssMiB: 4, threads: 1 }),
    proc('linux', { pid: nextPid(), name: 'smbd', path: '/usr/sbin/smbd', cmdline: '/usr/sbin/smbd --foreground --no-process-group', uid: 0, gid: 0, parent: 1, start: boot + 11, userMs: rng.int(10000, 90000), sysMs: rng.int(10000, 90000), rssMiB: 19, threads: 1 }),
    proc('linux', { pid: nextPid(), name: 'osqueryd', path: '/usr/bin/osqueryd', cmdline: '/usr/bin/osqueryd --flagfile /etc/osquery/osquery.flags --config_path /etc/osquery/osquery.conf', uid: 0, gid: 0, parent: 1, start: boot + 14, userMs: rng.int(8000, 90000), sysMs: rng.int(4000, 40000), rssMiB: 41, threads: 14, cwd: '/' }),
    proc('linux', { pid: sessionPid, name: 'sshd', path: '/usr/sbin/sshd', cmdline: `sshd: ${me.username}@pts/0`, uid: me.uid, gid: me.uid, parent: sshdPid, start: login, userMs: rng.int(10, 900), sysMs: rng.int(10, 900), rssMiB: 2, threads: 1 }),
    proc('linux', { pid: bashPid, name: 'bash', path: '/usr/bin/bash', cmdline: '-bash', uid: me.uid, gid: me.uid, parent: sessionPid, start: login + 1, userMs: rng.int(10, 400), sysMs: rng.int(10, 300), rssMiB: 2, threads: 1, cwd: `/home/${me.username}` }),
  ];
  const root = debianish ? '/dev/sda1' : '/dev/mapper/centos-root';
  const mounts: SimRow[] = [
    { ...mount(root, '/', debianish ? 'ext4' : 'xfs', 13100800, 0.38), flags: 'rw,relatime,attr2,inode64,noquota' },
    { ...mount('proc', '/proc', 'proc', 0, 0), flags: 'rw,nosuid,nodev,noexec,relatime' },
    { ...mount('sysfs', '/sys', 'sysfs', 0, 0), flags: 'rw,nosuid,nodev,noexec,relatime' },
    { ...mount('tmpfs', '/run', 'tmpfs', 2041344, 0.01), flags: 'rw,nosuid,nodev,mode=755' },
  ];
  if (!debianish) mounts.push({ ...mount('/dev/sda1', '/boot', 'xfs', 127744, 0.2), flags: 'rw,relatime,attr2,inode64,noquota' });
  const usb: SimRow[] = [
    { usb_address: 1, usb_port: 1, vendor: 'Linux Foundation', vendor_id: '1d6b', version: '0310', model: '2.0 root hub', model_id: '0002', serial: '0000:00:14.0', class: '9', subclass: '0', protocol: '1', removable: 0 },
  ];
  const enc: SimRow[] = [
    { name: root, uuid: '', encrypted: 0, type: '', encryption_status: 'not encrypted' },
    { name: '/dev/sda2', uuid: rng.uuid().toLowerCase(), encrypted: 0, type: '', encryption_status: 'not encrypted' },
  ];
  const loggedIn: SimRow[] = [
    { type: 'boot_time', user: 'reboot', tty: '~', host: `3.10.0-${spec.os.minor > 5 ? '1160' : '327'}.el7.x86_64`, time: boot, pid: 0 },
    { type: 'login', user: 'LOGIN', tty: 'tty1', host: '', time: boot + 12, pid: rng.int(600, 900) },
    { type: 'user', user: me.username, tty: 'pts/0', host: `10.10.4.${rng.int(20, 99)}`, time: login, pid: sessionPid },
  ];
  const last: SimRow[] = [
    { username: 'reboot', tty: '~', pid: 0, type: 2, type_name: 'boot-time', time: boot, host: '' },
    { username: me.username, tty: 'pts/0', pid: sessionPid, type: 7, type_name: 'user-process', time: login, host: String(loggedIn[2]?.host) },
  ];
  return {
    platform: 'linux',
    osDisplay: spec.os.display,
    osqueryVersion: spec.osquery,
    tables: {
      users, groups, user_groups: userGroups, os_version: [osVersionRow(spec.os)], platform_info: [platformInfoRow(spec)],
      processes: procs, mounts, usb_devices: usb, disk_encryption: enc, logged_in_users: loggedIn, last,
      shell_history: [], file_events: [],
    },
    systemInfo: { ...systemInfoRow(spec), cpu_type: 'x86_64' },
    osqueryInfo: osqueryInfoRow(spec),
  };
}

function baseWindows(spec: BaseSpec, rng: Rng): HostData {
  const domain = `S-1-5-21-${rng.int(1000000000, 4000000000)}-${rng.int(1000000000, 4000000000)}-${rng.int(100000000, 4000000000)}`;
  const boot = spec.now - rng.int(1, 6) * 86400 - rng.int(0, 80000);
  const local = (uid: number, username: string, description: string): SimRow => ({
    uid, gid: 513, uid_signed: uid, gid_signed: 513, username, description, directory: `C:\\Users\\${username}`,
    shell: 'C:\\Windows\\system32\\cmd.exe', uuid: `${domain}-${uid}`, type: 'local',
  });
  const special = (uid: number, username: string, dir: string): SimRow => ({
    uid, gid: -1, uid_signed: uid, gid_signed: -1, username, description: '', directory: dir,
    shell: 'C:\\Windows\\system32\\cmd.exe', uuid: `S-1-5-${uid}`, type: 'special',
  });
  const users: SimRow[] = [
    local(500, 'Administrator', 'Built-in account for administering the computer/domain'),
    local(501, 'Guest', 'Built-in account for guest access to the computer/domain'),
    local(503, 'DefaultAccount', 'A user account managed by the system.'),
    local(504, 'WDAGUtilityAccount', 'A user account managed and used by the system for Windows Defender Application Guard scenarios.'),
    ...spec.people.map((p) => local(p.uid, p.username, '')),
    special(18, 'SYSTEM', '%systemroot%\\system32\\config\\systemprofile'),
    special(19, 'LOCAL SERVICE', '%systemroot%\\ServiceProfiles\\LocalService'),
    special(20, 'NETWORK SERVICE', '%systemroot%\\ServiceProfiles\\NetworkService'),
  ];
  const groupDefs: [number, string, string][] = [
    [544, 'Administrators', 'Administrators have complete and unrestricted access to the computer/domain'],
    [545, 'Users', 'Users are prevented from making accidental or intentional system-wide changes and can run most applications'],
    [546, 'Guests', 'Guests have the same access as members of the Users group by default, except for the Guest account which is further restricted'],
    [555, 'Remote Desktop Users', 'Members in this group are granted the right to logon remotely'],
    [559, 'Performance Log Users', 'Members of this group may schedule logging of performance counters, enable trace providers, and collect event traces both locally and via remote access to this computer'],
  ];
  const groups: SimRow[] = groupDefs.map(([gid, groupname, comment]) => ({ gid, gid_signed: gid, groupname, group_sid: `S-1-5-32-${gid}`, comment }));
  const userGroups: SimRow[] = [{ uid: 500, gid: 544 }, { uid: 501, gid: 546 }];
  for (const p of spec.people) {
    userGroups.push({ uid: p.uid, gid: 545 });
    if (p.admin) userGroups.push({ uid: p.uid, gid: 544 });
  }
  const me = primaryOf(spec);
  const login = spec.now - rng.int(3600, 28000);
  let pid = 300 + rng.int(0, 300) * 4;
  const nextPid = (): number => (pid += rng.int(1, 600) * 4);
  const sys = 18;
  const W = 'C:\\Windows\\System32\\';
  const explorer = nextPid();
  const procs: SimRow[] = [
    proc('windows', { pid: 4, name: 'System', path: '', cmdline: '', uid: sys, gid: -1, parent: 0, start: boot, userMs: 0, sysMs: rng.int(200000, 900000), rssMiB: 0, threads: 180 }),
    proc('windows', { pid: nextPid(), name: 'smss.exe', path: `${W}smss.exe`, cmdline: '\\SystemRoot\\System32\\smss.exe', uid: sys, gid: -1, parent: 4, start: boot + 1, userMs: 0, sysMs: 93, rssMiB: 1, threads: 2 }),
    proc('windows', { pid: nextPid(), name: 'lsass.exe', path: `${W}lsass.exe`, cmdline: `${W}lsass.exe`, uid: sys, gid: -1, parent: 600, start: boot + 3, userMs: rng.int(5000, 40000), sysMs: rng.int(5000, 40000), rssMiB: 22, threads: 9 }),
    proc('windows', { pid: nextPid(), name: 'osqueryd.exe', path: 'C:\\Program Files\\osquery\\osqueryd\\osqueryd.exe', cmdline: '"C:\\Program Files\\osquery\\osqueryd\\osqueryd.exe" --flagfile="C:\\Program Files\\osquery\\osquery.flags"', uid: sys, gid: -1, parent: 700, start: boot + 25, userMs: rng.int(9000, 90000), sysMs: rng.int(5000, 40000), rssMiB: 38, threads: 16, cwd: 'C:\\Program Files\\osquery\\' }),
    proc('windows', { pid: explorer, name: 'explorer.exe', path: 'C:\\Windows\\explorer.exe', cmdline: 'C:\\Windows\\Explorer.EXE', uid: me.uid, gid: -1, parent: 5840, start: login + 6, userMs: rng.int(30000, 200000), sysMs: rng.int(20000, 90000), rssMiB: 120, threads: 70, cwd: `C:\\Users\\${me.username}\\` }),
    proc('windows', { pid: nextPid(), name: 'chrome.exe', path: 'C:\\Program Files (x86)\\Google\\Chrome\\Application\\chrome.exe', cmdline: '"C:\\Program Files (x86)\\Google\\Chrome\\Application\\chrome.exe"', uid: me.uid, gid: -1, parent: explorer, start: login + rng.int(60, 600), userMs: rng.int(90000, 600000), sysMs: rng.int(20000, 90000), rssMiB: 260, threads: 41, cwd: 'C:\\Program Files (x86)\\Google\\Chrome\\Application\\' }),
  ];
  const loggedIn: SimRow[] = [
    { type: 'active', user: me.username, tty: 'console', host: '', time: login, pid: -1, sid: `${domain}-${me.uid}`, registry_hive: `HKEY_USERS\\${domain}-${me.uid}` },
  ];
  return {
    platform: 'windows',
    osDisplay: spec.os.display,
    osqueryVersion: spec.osquery,
    tables: {
      users, groups, user_groups: userGroups, os_version: [{ ...osVersionRow(spec.os), extra: null }], platform_info: [platformInfoRow(spec)],
      processes: procs, logged_in_users: loggedIn,
    },
    systemInfo: { ...systemInfoRow(spec), cpu_type: 'x86_64', cpu_microcode: '0xde' },
    osqueryInfo: osqueryInfoRow(spec),
  };
}

/** Appends a process row to a built host, with the platform's extra columns. */
export function addProcess(host: HostData, p: ProcSpec): void {
  (host.tables.processes ??= []).push(proc(host.platform, p));
}

export interface FileEventSpec {
  path: string;
  category: string;
  action: string;
  uid: number;
  gid: number;
  size: number;
  time: number;
  /** Same key → same digests (a copy of a file hashes like the original). */
  content: string;
  hashed?: boolean;
}

export function fileEventRow(e: FileEventSpec, rng: Rng): SimRow {
  const hashed = e.hashed ?? true;
  const h = hashed ? fileHashes(e.content) : { md5: '', sha1: '', sha256: '' };
  return {
    target_path: e.path, category: e.category, action: e.action, transaction_id: rng.int(10000000, 99999999) * 1000 + rng.int(0, 999),
    inode: rng.int(100000, 12000000), uid: e.uid, gid: e.gid, mode: '0644', size: e.size, atime: e.time - 1, mtime: e.time - 1,
    ctime: e.time - 1, md5: h.md5, sha1: h.sha1, sha256: h.sha256, hashed: hashed ? 1 : 0, time: e.time,
  };
}

export function cupsDestinationRows(name: string, info: string, location: string, model: string, uri: string): SimRow[] {
  const opts: [string, string][] = [
    ['device-uri', uri], ['printer-info', info], ['printer-location', location], ['printer-make-and-model', model],
    ['printer-is-shared', 'false'], ['printer-state', '3'], ['printer-type', '8425564'], ['copies', '1'],
  ];
  return opts.map(([option_name, option_value]) => ({ name, option_name, option_value }));
}
