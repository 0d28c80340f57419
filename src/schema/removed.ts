/**
 * Tables osquery once had and no longer has, with the first release without them. Origin: the
 * osquery repository's history (`git log --diff-filter=D -- 'specs/**\/*.table'`, each commit's first
 * release tag, and CHANGELOG.md), checked against the table names and aliases of the specs of 5.23.1.
 * `alf_services` still parses: since 4.1.0 the name is an alias of `sharing_preferences`, whose
 * columns are not the old ones.
 */

export interface RemovedTable {
  /** The first osquery release without the table. */
  removedIn: string;
  /** What to use instead, when there is something. */
  instead?: string;
}

export const REMOVED_TABLES: Readonly<Record<string, RemovedTable>> = {
  alf_services: { removedIn: '4.1.0', instead: 'the name now reads sharing_preferences, whose columns differ (service, process and state are gone)' },
  atom_packages: { removedIn: '5.11.0' },
  audit_fim_events: { removedIn: '3.1.0', instead: 'process_file_events' },
  elf_dynamic: { removedIn: '5.3.0' },
  elf_info: { removedIn: '5.3.0' },
  elf_sections: { removedIn: '5.3.0' },
  elf_segments: { removedIn: '5.3.0' },
  elf_symbols: { removedIn: '5.3.0' },
  fbsd_kmods: { removedIn: '5.6.0' },
  install_history: { removedIn: '1.7.4', instead: 'package_install_history' },
  kernel_integrity: { removedIn: '4.1.1' },
  key_events: { removedIn: '2.10.4', instead: 'user_interaction_events' },
  lldp_neighbors: { removedIn: '5.4.0' },
  opera_extensions: { removedIn: '4.7.0', instead: "chrome_extensions (WHERE browser_type = 'opera')" },
  passwd_changes: { removedIn: '1.6.2' },
  pkg_packages: { removedIn: '5.6.0' },
  sensor_currents: { removedIn: '1.7.1', instead: 'power_sensors' },
  sensor_powers: { removedIn: '1.7.1', instead: 'power_sensors' },
  sensor_voltages: { removedIn: '1.7.1', instead: 'power_sensors' },
  shortcut_files: { removedIn: '5.3.0' },
  smart_drive_info: { removedIn: '5.3.0' },
  ssl_cert: { removedIn: '2.10.1', instead: 'curl_certificate' },
};

export function removedTable(name: string): RemovedTable | undefined {
  return Object.hasOwn(REMOVED_TABLES, name.toLowerCase()) ? REMOVED_TABLES[name.toLowerCase()] : undefined;
}

/** "table "x" was removed from osquery in 4.7.0; use y". */
export function removedTableText(name: string, r: RemovedTable): string {
  return `table "${name}" was removed from osquery in ${r.removedIn}${r.instead ? `: ${r.instead.startsWith('the name') ? r.instead : `use ${r.instead}`}` : ''}`;
}
