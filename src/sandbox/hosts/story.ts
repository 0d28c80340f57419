/**
 * The four hosts of the motivating story (August 2020, a paper company's office): a Windows 10
 * desktop, a CentOS 7.2 file server and two MacBooks. A confidential PDF is printed on one Mac
 * and copied to a USB stick and the network share; the file server sees payroll copied out.
 * Times are fixed facts of the story; ids, serials, pids and inodes come from the seed.
 */
import type { Rng } from './prng.js';
import { createRng, mixSeed } from './prng.js';
import type { BaseSpec, HostData, SimRow } from './builders.js';
import { addProcess, baseHost, cupsDestinationRows, fileEventRow, mountRow } from './builders.js';

export interface HostIdentity {
  hostname: string;
  uuid: string;
  hardwareSerial: string;
  boardSerial: string;
  computerName: string;
  localHostname: string;
}

export interface StoryHost {
  data: HostData;
  identity: HostIdentity;
}

export const STORY_HOSTNAMES = {
  windows: 'dwight-win10',
  centos: 'centos-fileserver',
  mac1015: 'pam-macbook-1015',
  mac1014: 'jim-macbook-1014',
} as const;

export const CONFIDENTIAL_TITLE = 'Financial Data – Confidential.pdf';
export const CONFIDENTIAL_PRINTED_AT = 1598384396;
/** The story's "today": the morning after the print job. */
const STORY_NOW = 1598457600;

export function macSerial(rng: Rng): string {
  return `C02${rng.alnum(9)}`;
}

function kingston(rng: Rng, address: number): SimRow {
  return {
    usb_address: address, usb_port: 2, vendor: 'Kingston', vendor_id: '0951', version: '1.10', model: 'DataTraveler 3.0',
    model_id: '1666', serial: rng.hex(24).toUpperCase(), class: '0', subclass: '0', protocol: '0', removable: 1,
  };
}

function push(data: HostData, table: string, ...rows: SimRow[]): void {
  (data.tables[table] ??= []).push(...rows);
}

function jimMac(rng: Rng): StoryHost {
  const spec: BaseSpec = {
    platform: 'darwin',
    os: { name: 'Mac OS X', version: '10.14.6', major: 10, minor: 14, patch: 6, build: '18G103', platform: 'darwin', platformLike: 'darwin', codename: '', arch: 'x86_64', display: 'macOS 10.14.6' },
    hw: { vendor: 'Apple Inc.', model: 'MacBookPro14,1', cpuBrand: 'Intel(R) Core(TM) i5-7360U CPU @ 2.30GHz', cpuSubtype: 'Intel x86-64h Haswell', physicalCores: 2, logicalCores: 4, memoryGiB: 8, boardModel: 'Mac-B4831CEBD52A0C4C', firmware: { vendor: 'Apple Inc.', version: '204.0.0.0.0', date: '10/15/2019', revision: '', type: 'efi' } },
    osquery: '4.3.0',
    people: [
      { username: 'itadmin', fullName: 'IT Admin', uid: 501, admin: true },
      { username: 'jim', fullName: 'Jim Halpert', uid: 502 },
      { username: 'ryan', fullName: 'Ryan Howard', uid: 503 },
    ],
    primary: 'jim',
    now: STORY_NOW,
    shell: '/bin/bash',
    encrypted: false,
  };
  const d = baseHost(spec, rng);
  const hp = 'HP_LaserJet_Pro_M404_Accounting';
  const canon = 'Canon_iR_ADV_C5535_Front';
  push(d, 'cups_destinations',
    ...cupsDestinationRows(hp, 'HP LaserJet Pro M404 (Accounting)', 'Accounting, 2nd floor', 'HP LaserJet Pro M404-M405', 'ipp://10.10.4.20/ipp/print'),
    ...cupsDestinationRows(canon, 'Canon iR-ADV C5535 (Front desk)', 'Reception', 'Canon iR-ADV C5535/5540 PS', 'dnssd://Canon%20iR-ADV%20C5535._ipp._tcp.local./?uuid=6d4ff0ce-6b11-11d8-8020-f4a9971b6c41'));
  const t0 = CONFIDENTIAL_PRINTED_AT;
  push(d, 'cups_jobs',
    { title: 'Dunder Mifflin Sales Q2.xlsx', destination: canon, user: 'jim', format: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', size: 88, completed_time: 1594737026, processing_time: 1594737013, creation_time: 1594737012 },
    { title: 'Boarding pass - SCR to PHL.pdf', destination: canon, user: 'ryan', format: 'application/pdf', size: 310, completed_time: 1597330547, processing_time: 1597330540, creation_time: 1597330539 },
    { title: CONFIDENTIAL_TITLE, destination: hp, user: 'ryan', format: 'application/pdf', size: 2184, completed_time: t0 + 13, processing_time: t0 + 1, creation_time: t0 },
    { title: 'Untitled', destination: hp, user: 'jim', format: 'text/plain', size: 4, completed_time: 1598445310, processing_time: 1598445302, creation_time: 1598445301 });
  const ryan = 503;
  const jim = 502;
  const usb = 'removable_media';
  const share = 'network_share';
  push(d, 'file_events',
    fileEventRow({ path: '/Volumes/share/Sales/Q3 Leads.xlsx', category: share, action: 'CREATED', uid: jim, gid: 20, size: 48211, time: 1598371234, content: 'q3-leads' }, rng),
    fileEventRow({ path: '/Volumes/share/Sales/.DS_Store', category: share, action: 'UPDATED', uid: jim, gid: 20, size: 6148, time: 1598371236, content: 'ds-store-sales' }, rng),
    fileEventRow({ path: `/Volumes/KINGSTON/${CONFIDENTIAL_TITLE}`, category: usb, action: 'CREATED', uid: ryan, gid: 20, size: 2236416, time: t0 + 56, content: 'financial-data-confidential' }, rng),
    fileEventRow({ path: `/Volumes/KINGSTON/${CONFIDENTIAL_TITLE}`, category: usb, action: 'UPDATED', uid: ryan, gid: 20, size: 2236416, time: t0 + 57, content: 'financial-data-confidential' }, rng),
    fileEventRow({ path: '/Volumes/KINGSTON/.DS_Store', category: usb, action: 'UPDATED', uid: ryan, gid: 20, size: 6148, time: t0 + 59, content: 'ds-store-kingston' }, rng),
    fileEventRow({ path: '/Volumes/KINGSTON/WUPHF pitch (final).mov', category: usb, action: 'CREATED', uid: ryan, gid: 20, size: 734003200, time: t0 + 74, content: 'wuphf-pitch', hashed: false }, rng),
    fileEventRow({ path: `/Volumes/share/Finance/${CONFIDENTIAL_TITLE}`, category: share, action: 'CREATED', uid: ryan, gid: 20, size: 2236416, time: t0 + 335, content: 'financial-data-confidential' }, rng));
  push(d, 'usb_devices', kingston(rng, 3));
  push(d, 'mounts',
    { ...mountRow('/dev/disk2s1', '/Volumes/KINGSTON', 'msdos', 7557136, 0.31), flags: 'rw,nosuid,nodev,noowners,local' },
    { ...mountRow('//ryan@nas01.dundermifflin.local/share', '/Volumes/share', 'smbfs', 488190976, 0.57), flags: 'rw,nodev,nosuid,nobrowse' });
  const dmgUuid = rng.uuid();
  push(d, 'disk_events',
    { action: 'add', path: '/Users/ryan/Downloads/WUPHF-Setup.dmg', name: 'WUPHF', device: '/dev/disk3s1', uuid: dmgUuid, size: 52428800, ejectable: 1, mountable: 1, writable: 0, content: 'Apple_HFS', media_name: 'Disk Image', vendor: 'Apple', filesystem: 'hfs', checksum: '', time: t0 - 2100 },
    { action: 'remove', path: '/Users/ryan/Downloads/WUPHF-Setup.dmg', name: 'WUPHF', device: '/dev/disk3s1', uuid: dmgUuid, size: 52428800, ejectable: 1, mountable: 1, writable: 0, content: 'Apple_HFS', media_name: 'Disk Image', vendor: 'Apple', filesystem: 'hfs', checksum: '', time: t0 - 1500 });
  push(d, 'shell_history',
    { uid: ryan, time: 0, command: 'ls /Volumes', history_file: '/Users/ryan/.bash_history' },
    { uid: ryan, time: 0, command: `cp ~/Documents/Financial\\ Data\\ –\\ Confidential.pdf /Volumes/KINGSTON/`, history_file: '/Users/ryan/.bash_history' },
    { uid: ryan, time: 0, command: 'cp /Volumes/KINGSTON/*.pdf /Volumes/share/Finance/', history_file: '/Users/ryan/.bash_history' },
    { uid: ryan, time: 0, command: 'diskutil eject /Volumes/KINGSTON', history_file: '/Users/ryan/.bash_history' },
    { uid: jim, time: 0, command: 'ssh jim@centos-fileserver', history_file: '/Users/jim/.bash_history' },
    { uid: jim, time: 0, command: 'open /Volumes/share/Sales', history_file: '/Users/jim/.bash_history' });
  push(d, 'last',
    { username: 'ryan', tty: 'console', pid: rng.int(300, 900), type: 7, type_name: 'user-process', time: t0 - 2400, host: '' },
    { username: 'ryan', tty: 'console', pid: 0, type: 8, type_name: 'dead-process', time: t0 + 900, host: '' });
  addProcess(d, { pid: 1400 + rng.int(0, 99), name: 'Microsoft Excel', path: '/Applications/Microsoft Excel.app/Contents/MacOS/Microsoft Excel', uid: jim, gid: 20, parent: 1, start: STORY_NOW - 4000, userMs: 80321, sysMs: 12044, rssMiB: 280, threads: 31, cwd: '/' });
  return { data: d, identity: identity(rng, STORY_HOSTNAMES.mac1014, macSerial(rng), "Jim's MacBook Pro", 'Jims-MacBook-Pro') };
}

function pamMac(rng: Rng): StoryHost {
  const spec: BaseSpec = {
    platform: 'darwin',
    os: { name: 'Mac OS X', version: '10.15.6', major: 10, minor: 15, patch: 6, build: '19G73', platform: 'darwin', platformLike: 'darwin', codename: '', arch: 'x86_64', display: 'macOS 10.15.6' },
    hw: { vendor: 'Apple Inc.', model: 'MacBookPro16,2', cpuBrand: 'Intel(R) Core(TM) i5-1038NG7 CPU @ 2.00GHz', cpuSubtype: 'Intel x86-64h Haswell', physicalCores: 4, logicalCores: 8, memoryGiB: 16, boardModel: 'Mac-5F9802EFE386AA28', firmware: { vendor: 'Apple Inc.', version: '1037.140.50.0.0 (iBridge: 17.16.16065.0.0,0)', date: '06/08/2020', revision: '', type: 'efi' } },
    osquery: '4.4.0',
    people: [
      { username: 'pam', fullName: 'Pam Beesly', uid: 501, admin: true },
      { username: 'michael', fullName: 'Michael Scott', uid: 502 },
      { username: 'itadmin', fullName: 'IT Admin', uid: 503, admin: true },
    ],
    primary: 'pam',
    now: STORY_NOW,
    macDataVolume: true,
  };
  const d = baseHost(spec, rng);
  const hp = 'HP_LaserJet_Pro_M404_Reception';
  const canon = 'Canon_iR_ADV_C5535_Front';
  push(d, 'cups_destinations',
    ...cupsDestinationRows(hp, 'HP LaserJet Pro M404 (Reception)', 'Reception', 'HP LaserJet Pro M404-M405', 'ipp://10.10.4.21/ipp/print'),
    ...cupsDestinationRows(canon, 'Canon iR-ADV C5535 (Front desk)', 'Reception', 'Canon iR-ADV C5535/5540 PS', 'dnssd://Canon%20iR-ADV%20C5535._ipp._tcp.local./?uuid=6d4ff0ce-6b11-11d8-8020-f4a9971b6c41'));
  push(d, 'cups_jobs',
    { title: 'Party Planning Committee – Budget.pdf', destination: hp, user: 'pam', format: 'application/pdf', size: 142, completed_time: 1597931466, processing_time: 1597931455, creation_time: 1597931454 },
    { title: 'Office Olympics flyer.png', destination: canon, user: 'pam', format: 'image/png', size: 1930, completed_time: 1598019320, processing_time: 1598019302, creation_time: 1598019301 },
    { title: 'World’s Best Boss – certificate.pdf', destination: canon, user: 'michael', format: 'application/pdf', size: 512, completed_time: 1598301880, processing_time: 1598301871, creation_time: 1598301870 },
    { title: 'Dundie Awards 2020 – nominations.docx', destination: hp, user: 'michael', format: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', size: 61, completed_time: 0, processing_time: 0, creation_time: 1598449012 });
  const pam = 501;
  const michael = 502;
  const usb = 'removable_media';
  const share = 'network_share';
  push(d, 'file_events',
    fileEventRow({ path: '/Volumes/share/Reception/Visitor log – August 2020.xlsx', category: share, action: 'CREATED', uid: pam, gid: 20, size: 30112, time: 1598360041, content: 'visitor-log-aug' }, rng),
    fileEventRow({ path: '/Volumes/share/Reception/lobby-cam-2020-08-25.mov', category: share, action: 'CREATED', uid: pam, gid: 20, size: 1288490188, time: 1598361200, content: 'lobby-cam', hashed: false }, rng),
    fileEventRow({ path: '/Volumes/KINGSTON/Client list – Michael Scott Paper Company.xlsx', category: usb, action: 'CREATED', uid: michael, gid: 20, size: 77824, time: 1598391122, content: 'mspc-client-list' }, rng),
    fileEventRow({ path: '/Volumes/KINGSTON/Client list – Michael Scott Paper Company.xlsx', category: usb, action: 'UPDATED', uid: michael, gid: 20, size: 77824, time: 1598391123, content: 'mspc-client-list' }, rng),
    fileEventRow({ path: '/Volumes/KINGSTON/.DS_Store', category: usb, action: 'UPDATED', uid: michael, gid: 20, size: 6148, time: 1598391125, content: 'ds-store-kingston-pam' }, rng),
    fileEventRow({ path: '/Volumes/KINGSTON/Somehow I Manage (draft).docx', category: usb, action: 'CREATED', uid: michael, gid: 20, size: 19456, time: 1598391190, content: 'somehow-i-manage' }, rng));
  push(d, 'usb_devices', kingston(rng, 4));
  push(d, 'mounts',
    { ...mountRow('/dev/disk2s1', '/Volumes/KINGSTON', 'msdos', 3778568, 0.12), flags: 'rw,nosuid,nodev,noowners,local' },
    { ...mountRow('//pam@nas01.dundermifflin.local/share', '/Volumes/share', 'smbfs', 488190976, 0.57), flags: 'rw,nodev,nosuid,nobrowse' });
  const dmgUuid = rng.uuid();
  push(d, 'disk_events',
    { action: 'add', path: '/Users/michael/Downloads/Threat Level Midnight.dmg', name: 'Threat Level Midnight', device: '/dev/disk3s1', uuid: dmgUuid, size: 4294967296, ejectable: 1, mountable: 1, writable: 0, content: 'Apple_HFS', media_name: 'Disk Image', vendor: 'Apple', filesystem: 'hfs', checksum: '', time: 1598390800 });
  push(d, 'shell_history',
    { uid: pam, time: 1598360030, command: 'cp ~/Desktop/visitors.xlsx "/Volumes/share/Reception/Visitor log – August 2020.xlsx"', history_file: '/Users/pam/.zsh_history' },
    { uid: pam, time: 1598360090, command: 'ls -la /Volumes/share/Reception', history_file: '/Users/pam/.zsh_history' },
    { uid: michael, time: 1598391100, command: 'cp ~/Documents/clients.xlsx "/Volumes/KINGSTON/Client list – Michael Scott Paper Company.xlsx"', history_file: '/Users/michael/.zsh_history' });
  push(d, 'last',
    { username: 'michael', tty: 'console', pid: rng.int(300, 900), type: 7, type_name: 'user-process', time: 1598390400, host: '' },
    { username: 'michael', tty: 'console', pid: 0, type: 8, type_name: 'dead-process', time: 1598392000, host: '' });
  addProcess(d, { pid: 2200 + rng.int(0, 99), name: 'Preview', path: '/System/Applications/Preview.app/Contents/MacOS/Preview', uid: pam, gid: 20, parent: 1, start: STORY_NOW - 2600, userMs: 4410, sysMs: 1980, rssMiB: 120, threads: 6, cwd: '/' });
  return { data: d, identity: identity(rng, STORY_HOSTNAMES.mac1015, macSerial(rng), "Pam's MacBook Pro", 'Pams-MacBook-Pro') };
}

function centos(rng: Rng): StoryHost {
  const spec: BaseSpec = {
    platform: 'linux',
    os: { name: 'CentOS Linux', version: 'CentOS Linux release 7.2.1511 (Core)', major: 7, minor: 2, patch: 1511, build: '', platform: 'centos', platformLike: 'rhel', codename: '', arch: 'x86_64', display: 'CentOS Linux 7.2.1511' },
    hw: { vendor: 'Dell Inc.', model: 'PowerEdge R430', cpuBrand: 'Intel(R) Xeon(R) CPU E5-2620 v3 @ 2.40GHz', cpuSubtype: '63', physicalCores: 6, logicalCores: 12, memoryGiB: 32, boardModel: '0CN7X8', firmware: { vendor: 'Dell Inc.', version: '2.4.3', date: '01/17/2017', revision: '2.4', type: 'bios' } },
    osquery: '4.4.0',
    people: [
      { username: 'oscar', fullName: 'Oscar Martinez', uid: 1000, admin: true },
      { username: 'kevin', fullName: 'Kevin Malone', uid: 1001 },
      { username: 'creed', fullName: 'Creed Bratton', uid: 1002 },
      { username: 'angela', fullName: 'Angela Martin', uid: 1003 },
    ],
    primary: 'creed',
    now: STORY_NOW,
  };
  const d = baseHost(spec, rng);
  const creed = 1002;
  const share = 'network_share';
  const usb = 'removable_media';
  push(d, 'file_events',
    fileEventRow({ path: '/mnt/share/accounting/expense-report-2020-08.pdf', category: share, action: 'CREATED', uid: 1003, gid: 1003, size: 402113, time: 1598369012, content: 'expense-report-aug' }, rng),
    fileEventRow({ path: '/mnt/share/accounting/.DS_Store', category: share, action: 'UPDATED', uid: 1001, gid: 1001, size: 6148, time: 1598369100, content: 'ds-store-accounting' }, rng),
    fileEventRow({ path: '/mnt/share/finance/payroll-2020-08.csv', category: share, action: 'CREATED', uid: creed, gid: creed, size: 91822, time: 1598386020, content: 'payroll-2020-08' }, rng),
    fileEventRow({ path: '/mnt/share/finance/payroll-2020-08.csv', category: share, action: 'UPDATED', uid: creed, gid: creed, size: 91822, time: 1598386021, content: 'payroll-2020-08' }, rng),
    fileEventRow({ path: '/run/media/creed/KINGSTON/payroll-2020-08.csv', category: usb, action: 'CREATED', uid: creed, gid: creed, size: 91822, time: 1598386102, content: 'payroll-2020-08' }, rng),
    fileEventRow({ path: '/mnt/share/backups/fileserver-2020-08-25.tar.gz', category: share, action: 'CREATED', uid: 0, gid: 0, size: 9663676416, time: 1598400000, content: 'backup', hashed: false }, rng));
  push(d, 'usb_devices', kingston(rng, 2));
  push(d, 'mounts',
    { ...mountRow('//nas01.dundermifflin.local/share', '/mnt/share', 'cifs', 488190976, 0.57), flags: 'rw,relatime,vers=3.0,sec=ntlmssp,cache=strict,uid=0,noforceuid,gid=0' },
    { ...mountRow('/dev/sdb1', '/run/media/creed/KINGSTON', 'vfat', 7557136, 0.31), flags: 'rw,nosuid,nodev,relatime,uid=1002,gid=1002,fmask=0022,dmask=0022' });
  push(d, 'shell_history',
    { uid: creed, time: 0, command: 'ls /srv/finance', history_file: '/home/creed/.bash_history' },
    { uid: creed, time: 0, command: 'cp /srv/finance/payroll-2020-08.csv /mnt/share/finance/', history_file: '/home/creed/.bash_history' },
    { uid: creed, time: 0, command: 'cp /srv/finance/payroll-2020-08.csv /run/media/creed/KINGSTON/', history_file: '/home/creed/.bash_history' },
    { uid: creed, time: 0, command: 'umount /run/media/creed/KINGSTON', history_file: '/home/creed/.bash_history' },
    { uid: 1000, time: 0, command: 'sudo systemctl restart smb', history_file: '/home/oscar/.bash_history' },
    { uid: 0, time: 0, command: 'tail -f /var/log/samba/log.smbd', history_file: '/root/.bash_history' });
  push(d, 'last',
    { username: 'creed', tty: 'pts/1', pid: rng.int(3000, 9000), type: 7, type_name: 'user-process', time: 1598385900, host: '10.10.4.66' },
    { username: 'creed', tty: 'pts/1', pid: 0, type: 8, type_name: 'dead-process', time: 1598386300, host: '' },
    { username: 'oscar', tty: 'pts/0', pid: rng.int(3000, 9000), type: 7, type_name: 'user-process', time: 1598360000, host: '10.10.4.12' });
  return { data: d, identity: identity(rng, STORY_HOSTNAMES.centos, rng.alnum(7), STORY_HOSTNAMES.centos, STORY_HOSTNAMES.centos) };
}

function dwight(rng: Rng): StoryHost {
  const spec: BaseSpec = {
    platform: 'windows',
    os: { name: 'Microsoft Windows 10 Pro', version: '10.0.19041', major: 10, minor: 0, patch: 19041, build: '19041', platform: 'windows', platformLike: 'windows', codename: 'Microsoft Windows 10 Pro', arch: '64-bit', display: 'Microsoft Windows 10 Pro 10.0.19041', installDate: 1585756800, revision: 450 },
    hw: { vendor: 'Dell Inc.', model: 'OptiPlex 7070', cpuBrand: 'Intel(R) Core(TM) i7-9700 CPU @ 3.00GHz', cpuSubtype: '-1', physicalCores: 8, logicalCores: 8, memoryGiB: 16, boardModel: '0YNVJG', firmware: { vendor: 'Dell Inc.', version: '1.6.6', date: '05/04/2020', revision: '1.6', type: 'uefi' } },
    osquery: '4.4.0',
    people: [
      { username: 'dwight', fullName: 'Dwight Schrute', uid: 1001, admin: true },
      { username: 'mose', fullName: 'Mose Schrute', uid: 1002 },
    ],
    primary: 'dwight',
    now: STORY_NOW,
  };
  const d = baseHost(spec, rng);
  addProcess(d, { pid: 6100 + rng.int(0, 400) * 4, name: 'EXCEL.EXE', path: 'C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE', cmdline: '"C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE" "C:\\Users\\dwight\\Documents\\Beet harvest 2020.xlsx"', uid: 1001, gid: -1, parent: 5840, start: STORY_NOW - 5400, userMs: 61234, sysMs: 9876, rssMiB: 210, threads: 38, cwd: 'C:\\Users\\dwight\\Documents\\' });
  const serial = rng.alnum(7);
  return { data: d, identity: { ...identity(rng, STORY_HOSTNAMES.windows, serial, 'DWIGHT-WIN10', STORY_HOSTNAMES.windows), boardSerial: `/${serial}/CNFCW00${rng.alnum(8)}/` } };
}

function identity(rng: Rng, hostname: string, serial: string, computerName: string, localHostname: string): HostIdentity {
  return { hostname, uuid: rng.uuid(), hardwareSerial: serial, boardSerial: serial, computerName, localHostname };
}

/** The story's hosts in a fixed order: Windows desktop, CentOS server, macOS 10.15, macOS 10.14. */
export function storyHosts(seed: number): StoryHost[] {
  return [
    dwight(createRng(mixSeed(seed, 1, 101))),
    centos(createRng(mixSeed(seed, 1, 102))),
    pamMac(createRng(mixSeed(seed, 1, 103))),
    jimMac(createRng(mixSeed(seed, 1, 104))),
  ];
}
