/** Every command, in the order `--help` lists them. */
import type { CommandSpec } from './define.js';
import { command as config } from './config.cmd.js';
import { command as setup } from './setup.cmd.js';
import { command as login } from './login.cmd.js';
import { command as logout } from './logout.cmd.js';
import { command as whoami } from './whoami.cmd.js';
import { command as version } from './version.cmd.js';
import { command as apply } from './apply.cmd.js';
import { command as get } from './get.cmd.js';
import { command as del } from './delete.cmd.js';
import { command as lint } from './lint.cmd.js';
import { command as convert } from './convert.cmd.js';
import { command as schema } from './schema.cmd.js';
import { command as query } from './query.cmd.js';
import { command as exportCommand } from './export.cmd.js';
import { command as report } from './report.cmd.js';
import { command as preview } from './preview.cmd.js';
import { command as demo } from './demo.cmd.js';

export const COMMANDS: readonly CommandSpec[] = [
  config,
  setup,
  login,
  logout,
  whoami,
  version,
  apply,
  get,
  del,
  lint,
  convert,
  schema,
  query,
  exportCommand,
  report,
  preview,
  demo,
];
