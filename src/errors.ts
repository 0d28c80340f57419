/**
 * Typed errors carrying their exit code. Every failure a user can see is one of these; the single
 * top-level handler in cli.ts prints it (one line, no stack unless --debug) and returns its code.
 */

export const ExitCode = {
  ok: 0,
  error: 1,
  changes: 2,
  partial: 3,
  auth: 4,
  timeout: 5,
  usage: 64,
  hangup: 129,
  interrupted: 130,
  terminated: 143,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export const EXIT_CODE_TABLE: ReadonlyArray<readonly [number, string]> = [
  [0, 'success (a query: every online targeted host answered; offline hosts are listed, not failures)'],
  [1, 'error (network, server, bad input)'],
  [2, 'apply --dry-run --detailed-exitcode found changes'],
  [3, "partial: a query ended with online hosts that did not answer or answered with an error (with --offline-fails or --wait-all, offline hosts too), or with answers it could not check against the campaign's targets"],
  [4, 'authentication required or rejected'],
  [5, 'deadline passed: --timeout (or OSFLEET_TIMEOUT), or no answer from the server within the per-request deadline'],
  [64, 'usage error (bad flags or arguments)'],
  [129, 'hung up (SIGHUP); what was received is flushed and valid, no temporary file left'],
  [130, 'interrupted (SIGINT); what was received is flushed and valid'],
  [143, 'terminated (SIGTERM); what was received is flushed and valid'],
];

export class CliError extends Error {
  readonly exitCode: number;
  /** What the user can do about it, printed on its own line after the message. */
  readonly hint: string | undefined;
  constructor(message: string, opts: { exitCode?: number; hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.exitCode = opts.exitCode ?? ExitCode.error;
    this.hint = opts.hint;
  }
}

/** Bad flags, arguments or their combination. */
export class UsageError extends CliError {
  constructor(message: string, hint?: string) {
    super(message, { exitCode: ExitCode.usage, ...(hint ? { hint } : {}) });
  }
}

/** Bad input in a file or stream: names where (file:line:col or host/query). */
export class InputError extends CliError {}

/** Configuration missing, malformed or unsafe. */
export class ConfigError extends CliError {}

/** Authentication required or rejected (HTTP 401, no token). */
export class AuthError extends CliError {
  constructor(message: string, hint = 'run `osfleet login` (or set FLEET_API_TOKEN)') {
    super(message, { exitCode: ExitCode.auth, hint });
  }
}

/** The server answered with an error status. */
export class ApiError extends CliError {
  readonly status: number;
  readonly method: string;
  readonly path: string;
  /** The server's `message`, and `errors[].reason` joined. */
  readonly serverMessage: string;
  readonly reasons: string[];
  constructor(args: {
    status: number;
    method: string;
    path: string;
    serverMessage: string;
    reasons?: string[];
    hint?: string;
    exitCode?: number;
  }) {
    const reasons = args.reasons ?? [];
    const text = reasons.length > 0 ? `${args.serverMessage}: ${reasons.join('; ')}` : args.serverMessage;
    super(`${args.method} ${args.path}: ${args.status} ${text}`, {
      exitCode: args.exitCode ?? ExitCode.error,
      ...(args.hint ? { hint: args.hint } : {}),
    });
    this.status = args.status;
    this.method = args.method;
    this.path = args.path;
    this.serverMessage = args.serverMessage;
    this.reasons = reasons;
  }
}

export class NotFoundError extends ApiError {}

/** A delete the server refused because something still uses the object (exit 1). */
export class InUseError extends CliError {}

/** The server could not be reached or the connection failed (refused, DNS, timeout, TLS, reset). */
export class NetworkError extends CliError {
  readonly code: string | undefined;
  constructor(message: string, opts: { code?: string; hint?: string; cause?: unknown } = {}) {
    super(message, opts);
    this.code = opts.code;
  }
}

/** The user interrupted (SIGINT), or the process was told to end (SIGTERM, SIGHUP). */
export class InterruptedError extends CliError {
  readonly signal: string | undefined;
  constructor(message = 'interrupted', signal?: string) {
    super(message, { exitCode: signalExitCode(signal) });
    this.signal = signal;
  }
}

/** The command's deadline passed (--timeout, OSFLEET_TIMEOUT) or a request got no answer in time. */
export class DeadlineError extends CliError {
  constructor(message: string, opts: { hint?: string } | string = {}) {
    const hint = typeof opts === 'string' ? opts : opts.hint;
    super(message, { exitCode: ExitCode.timeout, ...(hint ? { hint } : {}) });
  }
}

/** The exit status a signal asks for: 128 + its number, as shells report it. */
export function signalExitCode(name: string | undefined): number {
  return name === 'SIGHUP' ? ExitCode.hangup : name === 'SIGTERM' ? ExitCode.terminated : ExitCode.interrupted;
}

/** `setup` on a server that already has its first admin. */
export class AlreadySetUpError extends CliError {
  constructor() {
    super('this Fleet server has already been set up', { hint: 'log in instead: osfleet login' });
  }
}

/** A write to a closed pipe (EPIPE: `osfleet ... | head` stopped reading), possibly as another error's cause. */
export function isBrokenPipe(err: unknown): boolean {
  let e = err as { code?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    if (e.code === 'EPIPE') return true;
    e = e.cause as typeof e;
  }
  return false;
}

const FS_CAUSES: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a folder',
  ENOTDIR: 'a part of the path is not a folder',
  EEXIST: 'already exists',
  ENOTEMPTY: 'folder not empty',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'name too long',
  EMFILE: 'too many open files',
  EBUSY: 'resource busy',
  ETXTBSY: 'text file busy',
  EXDEV: 'not on the same file system',
  EFBIG: 'file too large',
  EIO: 'input/output error',
};
const FS_VERBS: Readonly<Record<string, string>> = {
  open: 'open',
  read: 'read',
  write: 'write',
  mkdir: 'create the folder',
  mkdtemp: 'create a temporary folder in',
  rmdir: 'remove',
  rm: 'remove',
  unlink: 'remove',
  rename: 'rename',
  scandir: 'list the folder',
  stat: 'read',
  lstat: 'read',
  access: 'read',
  chmod: 'change the mode of',
  chown: 'change the owner of',
  copyfile: 'copy',
  symlink: 'link',
  readlink: 'read the link',
  realpath: 'resolve',
  watch: 'watch',
};

/**
 * A file-system failure on a path (the user's or one derived from it) as one clear line: what was
 * done to which path and why, e.g. `cannot create the folder /x/y: a part of the path is not a folder
 * (ENOTDIR)`. Undefined for anything else, which stays an unexpected failure (a bug to report).
 */
export function fileSystemError(err: unknown): CliError | undefined {
  const e = err as NodeJS.ErrnoException & { dest?: string };
  if (!(err instanceof Error) || typeof e.code !== 'string' || typeof e.path !== 'string') return undefined;
  // mkdir of a path that exists as a file (or through one: `mkdir -p` reports the file).
  const cause = e.code === 'EEXIST' && e.syscall === 'mkdir' ? 'exists and is not a folder' : FS_CAUSES[e.code];
  if (!cause) return undefined;
  const verb = FS_VERBS[e.syscall ?? ''] ?? e.syscall ?? 'use';
  const target = e.dest ? `${e.path} to ${e.dest}` : e.path;
  return new CliError(`cannot ${verb} ${target}: ${cause} (${e.code})`, { cause: err });
}
