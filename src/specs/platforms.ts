/** osquery platform names in a pack → Fleet's, and the warnings for what does not map. */

/**
 * osquery platform names → Fleet's (darwin, linux, windows, chrome). fleetctl's own convert maps
 * `posix`, `any` and `all` the same way (fleetdm/fleet cmd/fleetctl/convert.go, platformMapping) and
 * rejects the rest; osquery matches by substring, so `ubuntu` and `centos` select every Linux host
 * (osquery.md §2.2) and become `linux` here, with a warning. Anything else matches no host at all.
 */
const PLATFORM_MAP: Record<string, string[] | 'all'> = {
  darwin: ['darwin'],
  linux: ['linux'],
  windows: ['windows'],
  chrome: ['chrome'],
  posix: ['darwin', 'linux'],
  any: 'all',
  all: 'all',
};
const LINUX_ALIASES = ['ubuntu', 'centos'];

export interface MappedPlatform {
  /** Fleet platform list ("" = every platform), or the original text when nothing could be mapped. */
  value: string;
  unknown: string[];
  aliased: string[];
}

export function mapOsqueryPlatform(raw: string): MappedPlatform {
  const parts = raw
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const out = new Set<string>();
  const unknown: string[] = [];
  const aliased: string[] = [];
  let all = false;
  for (const p of parts) {
    const lower = p.toLowerCase();
    const m = PLATFORM_MAP[lower];
    if (m === 'all') all = true;
    else if (m) m.forEach((x) => out.add(x));
    else if (LINUX_ALIASES.includes(lower)) {
      out.add('linux');
      aliased.push(p);
    } else unknown.push(p);
  }
  if (all || parts.length === 0) return { value: '', unknown, aliased };
  if (out.size === 0) return { value: raw, unknown, aliased };
  return { value: [...out].sort().join(','), unknown, aliased };
}

/** Warns of each platform written as `linux` and each unknown one. */
export function reportPlatform(m: MappedPlatform, raw: string, warn: (msg: string) => void): void {
  for (const a of m.aliased) warn(`platform "${a}" is not a Fleet platform; osquery runs it on every Linux host, so it is written as "linux"`);
  for (const u of m.unknown) {
    warn(
      m.value === raw
        ? `platform "${u}" is unknown to Fleet and matches no osquery host; kept as is, so the query never runs`
        : `platform "${u}" is unknown to Fleet and matches no osquery host; dropped from "${raw}"`,
    );
  }
}
