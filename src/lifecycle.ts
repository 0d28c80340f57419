/**
 * How a run ends when it is told to (issues 16.2, 16.4, 21.9): SIGINT, SIGTERM and SIGHUP, and the
 * command's deadline (--timeout, OSFLEET_TIMEOUT), all abort the one signal every command and the
 * API client listen to. Whatever the command was doing, the run then ends within a bound: a
 * backstop exits with the signal's status (130, 143, 129) or the deadline's (5) if the command has
 * not returned by then (a TLS handshake or a slow stdout that ignores the abort); temporary output
 * files are removed by their own exit hook (results/atomic.ts). A second signal exits at once.
 */
import { DeadlineError, InterruptedError, signalExitCode, ExitCode } from './errors.js';
import { parseDuration } from './duration.js';

/** How long a command has to wrap up (flush what it received, commit files) after the abort. */
export const WRAP_UP_MS = 1500;

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export interface Lifecycle {
  readonly signal: AbortSignal;
  /** The first signal received, if any. */
  readonly received: NodeJS.Signals | undefined;
  /** The deadline that passed, if any. */
  readonly expired: DeadlineError | undefined;
  /** Aborts the run for another reason (stdout failed). */
  abort(reason: Error): void;
  /** Arms the command's deadline (0 = none). */
  arm(ms: number, what: string): void;
  /** The exit status the run must end with, given the command's own. */
  finalCode(code: number): number;
  /**
   * After an abort, once the command has returned (its output flushed): exit now, rather than wait
   * for sockets that ignore the abort (a TLS handshake in progress keeps the process alive).
   */
  leave(code: number): void;
  dispose(): void;
}

export function startLifecycle(opts: { external?: AbortSignal | undefined; install: boolean; say: (line: string) => void }): Lifecycle {
  const controller = new AbortController();
  const signal = opts.external ? AbortSignal.any([opts.external, controller.signal]) : controller.signal;
  let received: NodeJS.Signals | undefined;
  let expired: DeadlineError | undefined;
  let deadlineTimer: NodeJS.Timeout | undefined;
  let backstop: NodeJS.Timeout | undefined;

  const armBackstop = (code: number, line: string) => {
    if (!opts.install || backstop) return;
    backstop = setTimeout(() => {
      opts.say(line);
      process.exit(code);
    }, WRAP_UP_MS);
    backstop.unref();
  };
  const onSignal = (name: NodeJS.Signals) => {
    if (received) {
      // A second signal: the user really wants out (temporary files go with the exit hook).
      process.exit(signalExitCode(received));
    }
    received = name;
    controller.abort(new InterruptedError(`interrupted by ${name}`, name));
    armBackstop(signalExitCode(name), `Interrupted by ${name}: stopped before the command could wrap up.`);
  };
  if (opts.install) for (const s of SIGNALS) process.on(s, onSignal);

  return {
    signal,
    get received() {
      return received;
    },
    get expired() {
      return expired;
    },
    abort(reason) {
      if (!controller.signal.aborted) controller.abort(reason);
    },
    arm(ms, what) {
      if (!(ms > 0)) return;
      deadlineTimer = setTimeout(() => {
        if (controller.signal.aborted) return;
        expired = new DeadlineError(`gave up after ${what}: the command did not finish in time`, 'raise --timeout (or OSFLEET_TIMEOUT), or check that the server answers');
        controller.abort(expired);
        armBackstop(ExitCode.timeout, `Error: ${expired.message}`);
      }, ms);
      deadlineTimer.unref();
    },
    finalCode(code) {
      // A signal always wins, even when the work finished meanwhile: the caller asked it to stop.
      if (received) return signalExitCode(received);
      if (expired && code !== ExitCode.ok) return ExitCode.timeout;
      return code;
    },
    leave(code) {
      if (!opts.install || !signal.aborted) return;
      setImmediate(() => process.exit(code));
    },
    dispose() {
      if (deadlineTimer) clearTimeout(deadlineTimer);
      if (opts.install) for (const s of SIGNALS) process.off(s, onSignal);
    },
  };
}

/**
 * The command's deadline in ms: its --timeout, else OSFLEET_TIMEOUT; `grace` is added for commands
 * whose --timeout is also their own way to end (query stops waiting for hosts at --timeout, then
 * writes its output).
 */
export function deadlineOf(flag: unknown, env: Readonly<Record<string, string | undefined>>, grace = 0): { ms: number; what: string } | undefined {
  if (typeof flag === 'string') {
    const ms = parseDuration(flag, '--timeout');
    return ms > 0 ? { ms: ms + grace, what: `${flag} (--timeout)` } : undefined;
  }
  const text = env['OSFLEET_TIMEOUT'];
  if (text === undefined || text.trim() === '') return undefined;
  const ms = parseDuration(text, 'OSFLEET_TIMEOUT');
  return ms > 0 ? { ms: ms + grace, what: `${text} (OSFLEET_TIMEOUT)` } : undefined;
}
