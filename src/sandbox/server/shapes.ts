/** JSON shapes of users, hosts, labels and queries, per dialect (fleet-api.md §2, §3, §4). */
import type { HostRec, LabelRec, QueryRec, UserRec } from './store.js';
import type { Dialect } from './types.js';
import { goTime } from './wire.js';

export type HostStatus = 'online' | 'offline' | 'mia';

const DAY = 24 * 3600 * 1000;

/** Fleet's rule: online while seen_time + min(distributed_interval, config_tls_refresh) + buffer is ahead. */
export function hostStatus(d: Dialect, h: HostRec, now: number): HostStatus {
  const interval = Math.min(h.distributedInterval || 0, h.configTlsRefresh || 0);
  const buffer = d === 'kolide' ? 30 : 60;
  if (h.seenTime + (interval + buffer) * 1000 > now) return 'online';
  if (h.seenTime < now - 30 * DAY) return 'mia';
  return 'offline';
}

/** FleetDM (4.15+) only reports online/offline in host replies; mia stays a filter. */
export function statusWord(d: Dialect, h: HostRec, now: number): string {
  const s = hostStatus(d, h, now);
  return d === 'fleet' && s === 'mia' ? 'offline' : s;
}

export function isNew(h: HostRec, now: number): boolean {
  return h.createdAt > now - DAY;
}

export function userJSON(d: Dialect, u: UserRec): Record<string, unknown> {
  if (d === 'kolide') {
    return {
      created_at: goTime(u.createdAt), updated_at: goTime(u.updatedAt), id: u.id, username: u.username, name: u.name,
      email: u.email, admin: u.admin, enabled: true, force_password_reset: false, gravatar_url: '', sso_enabled: false,
    };
  }
  return {
    created_at: goTime(u.createdAt), updated_at: goTime(u.updatedAt), id: u.id, name: u.name, email: u.email,
    force_password_reset: false, gravatar_url: '', sso_enabled: false, mfa_enabled: false,
    global_role: u.globalRole, api_only: u.apiOnly, teams: [],
  };
}

function hostCommon(h: HostRec): Record<string, unknown> {
  return {
    hostname: h.hostname, uuid: h.uuid, platform: h.platform, osquery_version: h.osqueryVersion, os_version: h.osVersion,
    build: h.build, platform_like: h.platformLike, code_name: h.codeName, uptime: h.uptimeNs, memory: h.memory,
    cpu_type: h.cpuType, cpu_subtype: h.cpuSubtype, cpu_brand: h.cpuBrand, cpu_physical_cores: h.cpuPhysicalCores,
    cpu_logical_cores: h.cpuLogicalCores, hardware_vendor: h.hardwareVendor, hardware_model: h.hardwareModel,
    hardware_version: h.hardwareVersion, hardware_serial: h.hardwareSerial, computer_name: h.computerName,
  };
}

/** Kolide's HostResponse, or FleetDM's host object (list shape). */
export function hostJSON(d: Dialect, h: HostRec, now: number): Record<string, unknown> {
  if (d === 'kolide') {
    return {
      created_at: goTime(h.createdAt), updated_at: goTime(h.updatedAt), id: h.id, detail_updated_at: goTime(h.detailUpdatedAt),
      label_updated_at: goTime(h.labelUpdatedAt), seen_time: goTime(h.seenTime),
      ...hostCommon(h), primary_ip: h.primaryIp, primary_mac: h.primaryMac,
      distributed_interval: h.distributedInterval, config_tls_refresh: h.configTlsRefresh, logger_tls_period: h.loggerTlsPeriod,
      enroll_secret_name: h.enrollSecretName, status: statusWord(d, h, now), display_text: h.hostname,
    };
  }
  const { hostname, uuid, platform, osquery_version, ...rest } = hostCommon(h);
  return {
    created_at: goTime(h.createdAt), updated_at: goTime(h.updatedAt), software_updated_at: goTime(h.createdAt), id: h.id,
    detail_updated_at: goTime(h.detailUpdatedAt), label_updated_at: goTime(h.labelUpdatedAt), policy_updated_at: goTime(h.createdAt),
    last_enrolled_at: goTime(h.lastEnrolledAt), seen_time: goTime(h.seenTime), refetch_requested: false,
    refetch_critical_queries_until: null, hostname, uuid, platform, osquery_version, orbit_version: null,
    fleet_desktop_version: null, scripts_enabled: null, ...rest, public_ip: '', primary_ip: h.primaryIp, primary_mac: h.primaryMac,
    distributed_interval: h.distributedInterval, config_tls_refresh: h.configTlsRefresh, logger_tls_period: h.loggerTlsPeriod,
    team_id: null, pack_stats: null, team_name: null, gigs_disk_space_available: 0, percent_disk_space_available: 0,
    gigs_total_disk_space: 0, issues: { failing_policies_count: 0, critical_vulnerabilities_count: 0, total_issues_count: 0 },
    mdm: { encryption_key_available: false, enrollment_status: null, name: '', server_url: null, device_status: 'unlocked', pending_action: '' },
    status: statusWord(d, h, now), display_text: h.hostname, display_name: h.computerName || h.hostname,
  };
}

export function displayName(h: HostRec): string {
  return h.computerName || h.hostname;
}

export function labelJSON(d: Dialect, l: LabelRec, count: number): Record<string, unknown> {
  const o: Record<string, unknown> = {
    created_at: goTime(l.createdAt), updated_at: goTime(l.updatedAt), id: l.id, name: l.name, description: l.description,
    query: l.query, platform: l.platform, label_type: l.builtin ? 'builtin' : 'regular', label_membership_type: l.membershipType,
    display_text: l.name, count, host_ids: null,
  };
  if (d === 'fleet') o.host_count = count;
  return o;
}

export function labelSpecJSON(d: Dialect, l: LabelRec, hostNames: string[]): Record<string, unknown> {
  const o: Record<string, unknown> = d === 'kolide' ? { ID: l.id } : { id: l.id };
  o.name = l.name;
  if (l.description !== '' || d === 'fleet') o.description = l.description;
  o.query = l.query;
  if (l.platform !== '') o.platform = l.platform;
  if (l.builtin) o.label_type = 'builtin';
  else if (d === 'fleet') o.label_type = 'regular';
  o.label_membership_type = l.membershipType;
  if (l.membershipType === 'manual') o.hosts = hostNames;
  return o;
}

const FLEET_QUERY_DEFAULTS = {
  team: '', interval: 0, observer_can_run: false, platform: '', min_osquery_version: '', automations_enabled: false,
  logging: 'snapshot', discard_data: false,
};

export function querySpecJSON(d: Dialect, q: QueryRec): Record<string, unknown> {
  if (d === 'kolide') {
    const o: Record<string, unknown> = { name: q.name };
    if (q.description !== '') o.description = q.description;
    o.query = q.query;
    return o;
  }
  return { name: q.name, description: q.description, query: q.query, ...FLEET_QUERY_DEFAULTS, ...q.extra };
}

export function queryJSON(d: Dialect, q: QueryRec, author: UserRec | undefined): Record<string, unknown> {
  const common = {
    created_at: goTime(q.createdAt), updated_at: goTime(q.updatedAt), id: q.id,
  };
  if (d === 'kolide') {
    return {
      ...common, saved: q.saved, name: q.name, description: q.description, query: q.query, author_id: q.authorId,
      author_name: author?.username ?? '', packs: [],
    };
  }
  const x = { ...FLEET_QUERY_DEFAULTS, ...q.extra };
  return {
    ...common, team_id: null, interval: x.interval, platform: x.platform, min_osquery_version: x.min_osquery_version,
    automations_enabled: x.automations_enabled, logging: x.logging, name: q.name, description: q.description, query: q.query,
    saved: q.saved, observer_can_run: x.observer_can_run, author_id: q.authorId, author_name: author?.name ?? '',
    author_email: author?.email ?? '', packs: [], stats: { system_time_p50: null, system_time_p95: null, user_time_p50: null, user_time_p95: null, total_executions: 0 },
    discard_data: x.discard_data,
  };
}
