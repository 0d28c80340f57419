/**
 * The osquery tables a simulated host carries: names, columns, types and platforms as in
 * osquery's specs (osquery.md §3). Hidden columns (eid, pid_with_namespace, …) are left out:
 * `SELECT *` never returns them and the simulation has no use for their inputs.
 */

export type SimPlatform = 'darwin' | 'linux' | 'windows';
type ColType = 'TEXT' | 'INTEGER' | 'BIGINT' | 'DOUBLE';

export interface SimColumn {
  name: string;
  type: ColType;
  /** Only on these platforms; undefined = every platform of the table. */
  platforms?: readonly SimPlatform[];
}

export interface SimTable {
  name: string;
  platforms: readonly SimPlatform[];
  columns: readonly SimColumn[];
}

const ALL: readonly SimPlatform[] = ['darwin', 'linux', 'windows'];
const POSIX: readonly SimPlatform[] = ['darwin', 'linux'];
const MAC: readonly SimPlatform[] = ['darwin'];

/** Compact column notation: "name:TYPE" or "name:TYPE@darwin,linux". */
function cols(...specs: string[]): SimColumn[] {
  return specs.map((spec) => {
    const [head, plats] = spec.split('@');
    const [name, type] = (head as string).split(':');
    const col: SimColumn = { name: name as string, type: type as ColType };
    if (plats) col.platforms = plats.split(',') as SimPlatform[];
    return col;
  });
}

export const TABLES: readonly SimTable[] = [
  {
    name: 'users',
    platforms: ALL,
    columns: cols('uid:BIGINT', 'gid:BIGINT', 'uid_signed:BIGINT', 'gid_signed:BIGINT', 'username:TEXT',
      'description:TEXT', 'directory:TEXT', 'shell:TEXT', 'uuid:TEXT', 'type:TEXT@windows', 'is_hidden:INTEGER@darwin'),
  },
  {
    name: 'groups',
    platforms: ALL,
    columns: cols('gid:BIGINT', 'gid_signed:BIGINT', 'groupname:TEXT', 'group_sid:TEXT@windows', 'comment:TEXT@windows',
      'is_hidden:INTEGER@darwin'),
  },
  { name: 'user_groups', platforms: ALL, columns: cols('uid:BIGINT', 'gid:BIGINT') },
  {
    name: 'os_version',
    platforms: ALL,
    columns: cols('name:TEXT', 'version:TEXT', 'major:INTEGER', 'minor:INTEGER', 'patch:INTEGER', 'build:TEXT',
      'platform:TEXT', 'platform_like:TEXT', 'codename:TEXT', 'arch:TEXT', 'extra:TEXT@darwin',
      'install_date:BIGINT@windows', 'revision:INTEGER@windows'),
  },
  {
    name: 'system_info',
    platforms: ALL,
    columns: cols('hostname:TEXT', 'uuid:TEXT', 'cpu_type:TEXT', 'cpu_subtype:TEXT', 'cpu_brand:TEXT',
      'cpu_physical_cores:INTEGER', 'cpu_logical_cores:INTEGER', 'cpu_sockets:INTEGER', 'cpu_microcode:TEXT',
      'physical_memory:BIGINT', 'hardware_vendor:TEXT', 'hardware_model:TEXT', 'hardware_version:TEXT',
      'hardware_serial:TEXT', 'board_vendor:TEXT', 'board_model:TEXT', 'board_version:TEXT', 'board_serial:TEXT',
      'computer_name:TEXT', 'local_hostname:TEXT', 'emulated_cpu_type:TEXT@windows'),
  },
  {
    name: 'osquery_info',
    platforms: ALL,
    columns: cols('pid:INTEGER', 'uuid:TEXT', 'instance_id:TEXT', 'version:TEXT', 'config_hash:TEXT',
      'config_valid:INTEGER', 'extensions:TEXT', 'build_platform:TEXT', 'build_distro:TEXT', 'start_time:INTEGER',
      'watcher:INTEGER', 'platform_mask:INTEGER'),
  },
  {
    name: 'platform_info',
    platforms: ALL,
    columns: cols('vendor:TEXT', 'version:TEXT', 'date:TEXT', 'revision:TEXT', 'extra:TEXT', 'firmware_type:TEXT',
      'address:TEXT@darwin,linux', 'size:TEXT@darwin,linux', 'volume_size:INTEGER@darwin,linux'),
  },
  {
    name: 'cups_jobs',
    platforms: MAC,
    columns: cols('title:TEXT', 'destination:TEXT', 'user:TEXT', 'format:TEXT', 'size:INTEGER',
      'completed_time:INTEGER', 'processing_time:INTEGER', 'creation_time:INTEGER'),
  },
  { name: 'cups_destinations', platforms: MAC, columns: cols('name:TEXT', 'option_name:TEXT', 'option_value:TEXT') },
  {
    name: 'file_events',
    platforms: POSIX,
    columns: cols('target_path:TEXT', 'category:TEXT', 'action:TEXT', 'transaction_id:BIGINT', 'inode:BIGINT',
      'uid:BIGINT', 'gid:BIGINT', 'mode:TEXT', 'size:BIGINT', 'atime:BIGINT', 'mtime:BIGINT', 'ctime:BIGINT',
      'md5:TEXT', 'sha1:TEXT', 'sha256:TEXT', 'hashed:INTEGER', 'time:BIGINT'),
  },
  {
    name: 'usb_devices',
    platforms: POSIX,
    columns: cols('usb_address:INTEGER', 'usb_port:INTEGER', 'vendor:TEXT', 'vendor_id:TEXT', 'version:TEXT',
      'model:TEXT', 'model_id:TEXT', 'serial:TEXT', 'class:TEXT', 'subclass:TEXT', 'protocol:TEXT', 'removable:INTEGER'),
  },
  {
    name: 'mounts',
    platforms: POSIX,
    columns: cols('device:TEXT', 'device_alias:TEXT', 'path:TEXT', 'type:TEXT', 'blocks_size:BIGINT', 'blocks:BIGINT',
      'blocks_free:BIGINT', 'blocks_available:BIGINT', 'inodes:BIGINT', 'inodes_free:BIGINT', 'flags:TEXT'),
  },
  {
    name: 'disk_events',
    platforms: MAC,
    columns: cols('action:TEXT', 'path:TEXT', 'name:TEXT', 'device:TEXT', 'uuid:TEXT', 'size:BIGINT', 'ejectable:INTEGER',
      'mountable:INTEGER', 'writable:INTEGER', 'content:TEXT', 'media_name:TEXT', 'vendor:TEXT', 'filesystem:TEXT',
      'checksum:TEXT', 'time:BIGINT'),
  },
  {
    name: 'logged_in_users',
    platforms: ALL,
    columns: cols('type:TEXT', 'user:TEXT', 'tty:TEXT', 'host:TEXT', 'time:BIGINT', 'pid:INTEGER', 'sid:TEXT@windows',
      'registry_hive:TEXT@windows'),
  },
  {
    name: 'last',
    platforms: POSIX,
    columns: cols('username:TEXT', 'tty:TEXT', 'pid:INTEGER', 'type:INTEGER', 'type_name:TEXT', 'time:INTEGER', 'host:TEXT'),
  },
  {
    name: 'processes',
    platforms: ALL,
    columns: cols('pid:BIGINT', 'name:TEXT', 'path:TEXT', 'cmdline:TEXT', 'state:TEXT', 'cwd:TEXT', 'root:TEXT',
      'uid:BIGINT', 'gid:BIGINT', 'euid:BIGINT', 'egid:BIGINT', 'suid:BIGINT', 'sgid:BIGINT', 'on_disk:INTEGER',
      'wired_size:BIGINT', 'resident_size:BIGINT', 'total_size:BIGINT', 'user_time:BIGINT', 'system_time:BIGINT',
      'disk_bytes_read:BIGINT', 'disk_bytes_written:BIGINT', 'start_time:BIGINT', 'parent:BIGINT', 'pgroup:BIGINT',
      'threads:INTEGER', 'nice:INTEGER', 'elevated_token:INTEGER@windows', 'secure_process:INTEGER@windows',
      'protection_type:TEXT@windows', 'virtual_process:INTEGER@windows', 'elapsed_time:BIGINT@windows',
      'handle_count:BIGINT@windows', 'percent_processor_time:BIGINT@windows', 'upid:BIGINT@darwin',
      'uppid:BIGINT@darwin', 'cpu_type:INTEGER@darwin', 'cpu_subtype:INTEGER@darwin', 'translated:INTEGER@darwin',
      'cgroup_path:TEXT@linux'),
  },
  {
    name: 'shell_history',
    platforms: POSIX,
    columns: cols('uid:BIGINT', 'time:INTEGER', 'command:TEXT', 'history_file:TEXT'),
  },
  {
    name: 'disk_encryption',
    platforms: POSIX,
    columns: cols('name:TEXT', 'uuid:TEXT', 'encrypted:INTEGER', 'type:TEXT', 'encryption_status:TEXT',
      'uid:TEXT@darwin', 'user_uuid:TEXT@darwin', 'filevault_status:TEXT@darwin'),
  },
  {
    name: 'uptime',
    platforms: ALL,
    columns: cols('days:INTEGER', 'hours:INTEGER', 'minutes:INTEGER', 'seconds:INTEGER', 'total_seconds:BIGINT'),
  },
];

export const TABLE_BY_NAME: ReadonlyMap<string, SimTable> = new Map(TABLES.map((t) => [t.name, t]));

/** The columns a table has on a platform, in spec order. */
export function columnsOn(table: SimTable, platform: SimPlatform): SimColumn[] {
  return table.columns.filter((c) => !c.platforms || c.platforms.includes(platform));
}

export function tablesOn(platform: SimPlatform): SimTable[] {
  return TABLES.filter((t) => t.platforms.includes(platform));
}

/** osquery's enroll platform_type and osquery_info.platform_mask. */
export const PLATFORM_MASK: Record<SimPlatform, string> = { darwin: '21', linux: '9', windows: '2' };
