/**
 * Platform templates for the generated hosts (`--hosts N`). Every generated host answers from
 * its template's database (shared by thousands of hosts), with only its identity
 * (hostname, uuid, serial) its own.
 */
import type { Rng } from './prng.js';
import { createRng, mixSeed } from './prng.js';
import type { BaseSpec, HardwareSpec, HostData, OsSpec, Person } from './builders.js';
import { baseHost, cupsDestinationRows, fileEventRow } from './builders.js';
import type { SimPlatform } from './schema.js';

export interface TemplateDef {
  key: string;
  platform: SimPlatform;
  /** Short word used in generated hostnames. */
  tag: string;
  os: OsSpec;
  hw: HardwareSpec;
  osquery: string;
}

const GENERATED_NOW = 1714521600; // 2024-05-01: the generated fleet lives in a later present than the story.

const mac = (key: string, version: string, build: string, model: string, cpu: string, arm: boolean, osquery: string): TemplateDef => {
  const [major, minor, patch] = version.split('.').map(Number) as [number, number, number?];
  const old = major === 10;
  return {
    key, platform: 'darwin', tag: 'mbp', osquery,
    os: { name: old ? 'Mac OS X' : 'macOS', version, major, minor, patch: patch ?? 0, build, platform: 'darwin', platformLike: 'darwin', codename: '', arch: arm ? 'arm64' : 'x86_64', display: `macOS ${version}` },
    hw: { vendor: 'Apple Inc.', model, cpuBrand: cpu, cpuSubtype: arm ? 'ARM64E' : 'Intel x86-64h Haswell', physicalCores: 8, logicalCores: arm ? 8 : 16, memoryGiB: 16, boardModel: model, firmware: { vendor: 'Apple Inc.', version: arm ? '10151.101.3' : '1731.100.130.0.0 (iBridge: 19.16.10744.0.0,0)', date: arm ? '' : '02/13/2023', revision: '', type: arm ? 'iboot' : 'efi' } },
  };
};

const lin = (key: string, tag: string, name: string, version: string, major: number, minor: number, patch: number, platform: string, like: string, codename: string, osquery: string): TemplateDef => ({
  key, platform: 'linux', tag, osquery,
  os: { name, version, major, minor, patch, build: '', platform, platformLike: like, codename, arch: 'x86_64', display: `${name} ${major}.${minor}${patch ? `.${patch}` : ''}` },
  hw: { vendor: 'QEMU', model: 'Standard PC (Q35 + ICH9, 2009)', cpuBrand: 'AMD EPYC 7R13 Processor', cpuSubtype: '1', physicalCores: 4, logicalCores: 8, memoryGiB: 16, boardModel: '', firmware: { vendor: 'SeaBIOS', version: '1.16.2', date: '04/01/2014', revision: '0.0', type: 'bios' } },
});

const win = (key: string, name: string, version: string, build: number, revision: number, osquery: string): TemplateDef => ({
  key, platform: 'windows', tag: 'desktop', osquery,
  os: { name, version: `10.0.${build}`, major: 10, minor: 0, patch: build, build: String(build), platform: 'windows', platformLike: 'windows', codename: name, arch: '64-bit', display: `${name} ${version}`, installDate: 1672531200 + (build % 97) * 86400, revision },
  hw: { vendor: 'LENOVO', model: '20XW0026US', cpuBrand: '11th Gen Intel(R) Core(TM) i7-1165G7 @ 2.80GHz', cpuSubtype: '-1', physicalCores: 4, logicalCores: 8, memoryGiB: 16, boardModel: '20XW0026US', firmware: { vendor: 'LENOVO', version: 'N32ET86W (1.62 )', date: '03/09/2023', revision: '1.62', type: 'uefi' } },
});

export const TEMPLATES: readonly TemplateDef[] = [
  mac('macos-10.15.7', '10.15.7', '19H2026', 'MacBookPro16,1', 'Intel(R) Core(TM) i7-9750H CPU @ 2.60GHz', false, '4.9.0'),
  mac('macos-12.7.4', '12.7.4', '21H1123', 'MacBookPro18,3', 'Apple M1 Pro', true, '5.10.2'),
  mac('macos-13.6.6', '13.6.6', '22G630', 'Mac14,2', 'Apple M2', true, '5.12.1'),
  mac('macos-14.4.1', '14.4.1', '23E224', 'Mac15,3', 'Apple M3', true, '5.12.1'),
  lin('ubuntu-22.04', 'ubuntu', 'Ubuntu', '22.04.4 LTS (Jammy Jellyfish)', 22, 4, 0, 'ubuntu', 'debian', 'jammy', '5.12.1'),
  lin('ubuntu-20.04', 'ubuntu', 'Ubuntu', '20.04.6 LTS (Focal Fossa)', 20, 4, 0, 'ubuntu', 'debian', 'focal', '5.9.1'),
  lin('centos-7.9', 'centos', 'CentOS Linux', 'CentOS Linux release 7.9.2009 (Core)', 7, 9, 2009, 'centos', 'rhel', '', '5.9.1'),
  lin('debian-12', 'debian', 'Debian GNU/Linux', '12 (bookworm)', 12, 0, 0, 'debian', '', 'bookworm', '5.12.1'),
  lin('rocky-9.3', 'rocky', 'Rocky Linux', '9.3 (Blue Onyx)', 9, 3, 0, 'rocky', 'rhel centos fedora', '', '5.12.1'),
  win('windows-10-22h2', 'Microsoft Windows 10 Pro', '22H2', 19045, 4291, '5.12.1'),
  win('windows-11-23h2', 'Microsoft Windows 11 Enterprise', '23H2', 22631, 3447, '5.12.1'),
  win('windows-server-2019', 'Microsoft Windows Server 2019 Datacenter', '1809', 17763, 5696, '5.9.1'),
];

const FIRST_NAMES = [
  'alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'mallory', 'niaj', 'olivia',
  'peggy', 'rupert', 'sybil', 'trent', 'victor', 'walter', 'yasmin',
];
const LAST_NAMES = ['Adams', 'Baker', 'Chen', 'Diaz', 'Evans', 'Fischer', 'Garcia', 'Hughes', 'Ito', 'Jones', 'Khan', 'Lopez'];

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function people(rng: Rng, platform: SimPlatform): Person[] {
  const firstUid = platform === 'darwin' ? 501 : platform === 'linux' ? 1000 : 1001;
  const count = rng.int(2, 4);
  const used = new Set<string>();
  const out: Person[] = [];
  for (let i = 0; i < count; i++) {
    let name = rng.pick(FIRST_NAMES);
    while (used.has(name)) name = rng.pick(FIRST_NAMES);
    used.add(name);
    out.push({ username: name, fullName: `${capitalize(name)} ${rng.pick(LAST_NAMES)}`, uid: firstUid + i, admin: i === 0 });
  }
  return out;
}

/** Builds one template's tables; deterministic in (seed, template index). */
export function buildTemplate(def: TemplateDef, index: number, seed: number): HostData {
  const rng = createRng(mixSeed(seed, 2, index));
  const ppl = people(rng, def.platform);
  const primary = (ppl[1] ?? ppl[0]) as Person;
  const spec: BaseSpec = {
    platform: def.platform, os: def.os, hw: def.hw, osquery: def.osquery, people: ppl, primary: primary.username,
    now: GENERATED_NOW, macDataVolume: def.platform === 'darwin' && (def.os.major > 10 || def.os.minor >= 15),
  };
  const d = baseHost(spec, rng);
  const t = GENERATED_NOW - rng.int(3, 20) * 86400;
  if (def.platform === 'darwin') {
    const printer = 'Brother_HL_L2350DW';
    d.tables.cups_destinations = cupsDestinationRows(printer, 'Brother HL-L2350DW', 'Office', 'Brother HL-L2350DW series', 'ipp://10.0.20.15/ipp/print');
    d.tables.cups_jobs = [
      { title: 'Expense report.pdf', destination: printer, user: primary.username, format: 'application/pdf', size: rng.int(40, 900), completed_time: t + 12, processing_time: t + 2, creation_time: t },
      { title: 'Boarding pass.pdf', destination: printer, user: primary.username, format: 'application/pdf', size: rng.int(40, 400), completed_time: t + 86400 + 9, processing_time: t + 86400 + 1, creation_time: t + 86400 },
    ];
    d.tables.file_events = [
      fileEventRow({ path: `/Users/${primary.username}/Documents/notes.txt`, category: 'documents', action: 'UPDATED', uid: primary.uid, gid: 20, size: rng.int(100, 9000), time: t + 300, content: `notes-${index}` }, rng),
      fileEventRow({ path: `/Users/${primary.username}/Documents/.DS_Store`, category: 'documents', action: 'UPDATED', uid: primary.uid, gid: 20, size: 6148, time: t + 301, content: `ds-${index}` }, rng),
    ];
    d.tables.shell_history = [
      { uid: primary.uid, time: t + 200, command: 'brew upgrade', history_file: `/Users/${primary.username}/.zsh_history` },
      { uid: primary.uid, time: t + 260, command: 'git pull --rebase', history_file: `/Users/${primary.username}/.zsh_history` },
    ];
  } else if (def.platform === 'linux') {
    d.tables.file_events = [
      fileEventRow({ path: '/etc/ssh/sshd_config', category: 'configuration', action: 'UPDATED', uid: 0, gid: 0, size: rng.int(3000, 4200), time: t + 100, content: `sshd-${index}` }, rng),
      fileEventRow({ path: `/home/${primary.username}/deploy.log`, category: 'homes', action: 'UPDATED', uid: primary.uid, gid: primary.uid, size: rng.int(100, 90000), time: t + 400, content: `deploy-${index}` }, rng),
    ];
    d.tables.shell_history = [
      { uid: primary.uid, time: 0, command: def.os.platform === 'ubuntu' || def.os.platform === 'debian' ? 'sudo apt-get update' : 'sudo yum -y update', history_file: `/home/${primary.username}/.bash_history` },
      { uid: primary.uid, time: 0, command: 'journalctl -u osqueryd --since today', history_file: `/home/${primary.username}/.bash_history` },
    ];
  }
  return d;
}
