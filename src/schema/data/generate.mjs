#!/usr/bin/env node
// Builds ../tables.generated.ts from the compact table files beside this script.
// Run: node src/schema/data/generate.mjs [--report] [--check]
//   --report lists every time and id column for review; --check writes nothing and exits 1 when
//   tables.generated.ts is not what the table files produce (a test runs it).
//
// Why a generator: the table facts are typed by hand from osquery's specs in a compact line format
// (a few hundred tables), while the runtime wants a plain object literal that costs nothing to load.
//
// Format (one table per block; '#' lines are comments):
//   = <table> <platform letters: d=darwin l=linux w=windows f=freebsd> [+ev evented] [+ud user_data]
//   : <table description>
//   <column> <type: T I B U D DT BL> [flags] [description]
// Aliases: '@alias <name> <table>' (osquery's table_name(..., aliases=[...])).
// Column flags: +h hidden, +r required, +p:<letters> column platforms, +t:<kind> time kind
// (s ms us days ft wk cocoa, or - for "not a point in time" to stop the name/description rule),
// +id:uid|gid|- (the §4.3 name rule applies by default).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The osquery release whose table specs the .txt files follow (see README.md here). */
const OSQUERY_VERSION = '5.23.1';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, '..', 'tables.generated.ts');
const report = process.argv.includes('--report');
const check = process.argv.includes('--check');

const PLAT = { d: 'darwin', l: 'linux', w: 'windows', f: 'freebsd', c: 'chrome' };
const ORDER = ['darwin', 'linux', 'windows', 'freebsd', 'chrome'];
const TYPES = { T: 'TEXT', I: 'INTEGER', B: 'BIGINT', U: 'UNSIGNED_BIGINT', D: 'DOUBLE', DT: 'DATETIME', BL: 'BLOB' };
const KINDS = {
  s: 'unix_seconds',
  ms: 'unix_milliseconds',
  us: 'unix_microseconds',
  days: 'unix_days',
  ft: 'windows_filetime',
  wk: 'webkit_microseconds',
  cocoa: 'cocoa_seconds',
};
const UID = new Set(['uid', 'auid', 'euid', 'suid', 'fsuid', 'ouid', 'uid_signed', 'owner_uid', 'creator_uid']);
const GID = new Set(['gid', 'egid', 'sgid', 'fsgid', 'gid_signed', 'owner_gid']);

function platforms(letters, where) {
  const set = new Set();
  for (const ch of letters) {
    if (!PLAT[ch]) throw new Error(`${where}: unknown platform letter ${ch}`);
    set.add(PLAT[ch]);
  }
  return ORDER.filter((p) => set.has(p));
}

// osquery.md §4.2, steps 1 and 2 (step 1 narrowed for descriptions, see byDesc), for columns the table files do not mark: only an integer or
// floating column whose name or description says "point in time" and nothing says "duration",
// "milliseconds" or "since boot" becomes unix_seconds. Everything it finds is listed by --report.
const NOT_TIME_DESC =
  /unix domain socket|af_unix|run time average power|time machine|timeout|update domain|auto-update|frequency|mt\/s|run at load|runatload/i;
function autoTime(col, type, desc) {
  const name = col.toLowerCase();
  const tokens = name.split('_');
  const byName =
    name.includes('time') ||
    name.replace(/update/g, '').includes('date') ||
    ['atime', 'mtime', 'ctime', 'btime', 'dtime'].includes(name) ||
    tokens.some((t) => ['timestamp', 'datetime', 'at', 'created', 'modified', 'expire', 'uptime'].includes(t));
  const d = desc.toLowerCase();
  // Only strong phrases count from a description: "time" alone also appears in "each time …",
  // "the amount of time in seconds …" and "minutes until …", which are not points in time.
  const byDesc =
    /\b(timestamp|datetime|epoch|unix|unix_time)\b/.test(d) || /^(time|date) (of|at|when|the)\b/.test(d) || d.includes('seconds since') || /^when\b/.test(d);
  if (!byName && !byDesc) return undefined;
  if (NOT_TIME_DESC.test(desc)) return undefined;
  if (/in ms\b|millisecond/.test(d)) return undefined;
  if (/uptime|since boot/.test(d) || tokens.includes('uptime')) return undefined;
  if (/how long|elapsed|spent|duration|taken|interval|cumulative/.test(d)) return undefined;
  if (!['INTEGER', 'BIGINT', 'UNSIGNED_BIGINT', 'DOUBLE', 'DATETIME'].includes(type)) return undefined;
  return 'unix_seconds';
}

const tables = new Map();
const files = fs
  .readdirSync(here)
  .filter((f) => f.endsWith('.txt'))
  .sort();
const autos = [];
const aliases = [];
for (const file of files) {
  const lines = fs.readFileSync(path.join(here, file), 'utf8').split('\n');
  let table;
  lines.forEach((raw, i) => {
    const where = `${file}:${i + 1}`;
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    if (line.startsWith('@alias ')) {
      // osquery table aliases (table_name(..., aliases=[...])): the same table under another name.
      const [alias, target] = line.slice(7).trim().split(/\s+/);
      if (!alias || !target) throw new Error(`${where}: bad alias line`);
      aliases.push({ alias, target, where });
      table = undefined;
      return;
    }
    if (line.startsWith('= ')) {
      const [name, letters, ...flags] = line.slice(2).trim().split(/\s+/);
      if (!name || !letters) throw new Error(`${where}: bad table line`);
      if (tables.has(name)) throw new Error(`${where}: table ${name} defined twice`);
      table = { name, platforms: platforms(letters, where), columns: [] };
      for (const f of flags) {
        if (f === '+ev') table.evented = true;
        else if (f === '+ud') table.userData = true;
        else throw new Error(`${where}: unknown table flag ${f}`);
      }
      tables.set(name, table);
      return;
    }
    if (!table) throw new Error(`${where}: column before any table`);
    if (line.startsWith(': ')) {
      table.description = line.slice(2).trim();
      return;
    }
    const parts = line.split(/\s+/);
    const [name, t] = parts;
    const type = TYPES[t];
    if (!name || !type) throw new Error(`${where}: bad column line: ${line}`);
    if (table.columns.some((c) => c.name === name)) throw new Error(`${where}: column ${name} twice in ${table.name}`);
    const col = { name, type };
    let k = 2;
    let time;
    let id;
    for (; k < parts.length && parts[k].startsWith('+'); k++) {
      const f = parts[k];
      if (f === '+h') col.hidden = true;
      else if (f === '+r') col.required = true;
      else if (f.startsWith('+p:')) col.platforms = platforms(f.slice(3), where);
      else if (f.startsWith('+t:')) {
        const v = f.slice(3);
        if (v !== '-' && !KINDS[v]) throw new Error(`${where}: unknown time kind ${v}`);
        time = v;
      } else if (f.startsWith('+id:')) {
        id = f.slice(4);
        if (!['uid', 'gid', '-'].includes(id)) throw new Error(`${where}: bad id kind ${id}`);
      } else throw new Error(`${where}: unknown column flag ${f}`);
    }
    const description = parts.slice(k).join(' ');
    if (time === undefined) {
      const auto = autoTime(name, type, description);
      if (auto) {
        col.time = auto;
        autos.push(`${table.name}.${name}\t${type}\t${description}`);
      }
    } else if (time !== '-') col.time = KINDS[time];
    if (id === undefined) {
      if (UID.has(name)) col.id = 'uid';
      else if (GID.has(name)) col.id = 'gid';
    } else if (id !== '-') col.id = id;
    if (description) col.description = description;
    // Key order fixed so the generated file diffs cleanly.
    const ordered = {};
    for (const key of ['name', 'type', 'platforms', 'time', 'id', 'hidden', 'required', 'description']) {
      if (col[key] !== undefined) ordered[key] = col[key];
    }
    table.columns.push(ordered);
  });
}

for (const { alias, target, where } of aliases) {
  const t = tables.get(target);
  if (!t) throw new Error(`${where}: alias of unknown table ${target}`);
  if (tables.has(alias)) throw new Error(`${where}: table ${alias} defined twice`);
  tables.set(alias, { ...t, name: alias, description: `${t.description ?? ''} Another name for ${target}.`.trim() });
}

const names = [...tables.keys()].sort();
/** A JS string literal in single quotes (JSON's double quotes stay readable). */
const singleQuoted = (text) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
let ts =
  '// Generated by src/schema/data/generate.mjs from src/schema/data/*.txt: edit those and regenerate.\n\n' +
  '/** The osquery release whose table specs this schema follows. */\n' +
  `export const OSQUERY_VERSION = ${JSON.stringify(OSQUERY_VERSION)};\n\n` +
  '// One JSON text per table, parsed when the table is first asked for (src/schema/index.ts): lint\n' +
  '// reads the few tables its queries name. Parsing all of them (one JSON text, still twice as fast\n' +
  '// as the same object literal) took 2–3 ms and 1.5 MB at every start.\n' +
  'export const TABLE_JSON: Readonly<Record<string, string>> = {\n';
for (const n of names) {
  const t = tables.get(n);
  const ordered = {};
  for (const key of ['name', 'platforms', 'evented', 'userData', 'description', 'columns']) {
    if (t[key] !== undefined) ordered[key] = t[key];
  }
  if (t.columns.length === 0) throw new Error(`table ${n} has no columns`);
  ts += `  ${JSON.stringify(n)}: ${singleQuoted(JSON.stringify(ordered))},\n`;
}
ts += '};\n';
if (check) {
  const current = fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '';
  if (current !== ts) {
    process.stderr.write(`${path.relative(process.cwd(), out)} is out of date: run node src/schema/data/generate.mjs\n`);
    process.exit(1);
  }
  process.exit(0);
}
fs.writeFileSync(out, ts);
const cols = names.reduce((a, n) => a + tables.get(n).columns.length, 0);
process.stderr.write(`${names.length} tables, ${cols} columns -> ${path.relative(process.cwd(), out)}\n`);
if (report) {
  process.stdout.write('# time columns found by the name/description rule (mark +t:- where wrong)\n');
  process.stdout.write(autos.join('\n') + '\n');
  process.stdout.write('# every time column\n');
  for (const n of names)
    for (const c of tables.get(n).columns) if (c.time) process.stdout.write(`${n}.${c.name}\t${c.type}\t${c.time}\n`);
  process.stdout.write('# every id column\n');
  for (const n of names)
    for (const c of tables.get(n).columns) if (c.id) process.stdout.write(`${n}.${c.name}\t${c.type}\t${c.id}\n`);
}
