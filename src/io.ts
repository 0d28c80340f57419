/**
 * The one IO object: streams, TTY flags, colour and spinners. Data goes to stdout; progress and
 * diagnostics to stderr. Nothing else in osfleet touches process.stdout/stderr directly, so tests
 * can run commands with testIO() and assert exact output.
 */
import { Chalk, type ChalkInstance } from 'chalk';
import { PassThrough, Readable, Writable } from 'node:stream';

export interface Spinner {
  text: string;
  start(): void;
  stop(): void;
  /** Stop and leave a final line on stderr. */
  stopWith(line: string): void;
}

export interface IO {
  stdout: Writable;
  stderr: Writable;
  stdin: Readable;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  stdinIsTTY: boolean;
  /** Terminal width for tables; undefined when stdout is not a terminal (no width-dependence). */
  columns: number | undefined;
  /** Colours for stdout (off when piped or under NO_COLOR). */
  color: ChalkInstance;
  /** Colours for stderr. */
  errColor: ChalkInstance;
  /** True when a person is watching stderr: a TTY, not CI, not disabled. */
  interactive: boolean;
  out(text: string): void;
  err(text: string): void;
  /** A progress spinner on stderr; a silent no-op when not interactive. */
  spinner(text: string): Promise<Spinner>;
}

export interface IOEnv {
  NO_COLOR?: string | undefined;
  FORCE_COLOR?: string | undefined;
  CI?: string | undefined;
  TERM?: string | undefined;
}

export interface ColorChoice {
  /** --no-color, or a machine format such as --json */
  noColor?: boolean;
}

/** chalk level for a stream, following the NO_COLOR / FORCE_COLOR conventions. */
export function colorLevel(isTTY: boolean, env: IOEnv, choice: ColorChoice = {}): 0 | 1 | 2 | 3 {
  if (choice.noColor) return 0;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return 0;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') {
    if (force === '0' || force === 'false') return 0;
    const n = Number(force);
    return (n >= 1 && n <= 3 ? n : 1) as 1 | 2 | 3;
  }
  if (!isTTY) return 0;
  if (env.TERM === 'dumb') return 0;
  return 1;
}

export function isCI(env: IOEnv): boolean {
  return env.CI !== undefined && env.CI !== '' && env.CI !== '0' && env.CI.toLowerCase() !== 'false';
}

const noopSpinner = (): Spinner => {
  const s: Spinner = { text: '', start() {}, stop() {}, stopWith() {} };
  return s;
};

export function systemIO(env: IOEnv, choice: ColorChoice = {}): IO {
  const stdout = process.stdout;
  const stderr = process.stderr;
  const stdoutIsTTY = Boolean(stdout.isTTY);
  const stderrIsTTY = Boolean(stderr.isTTY);
  const interactive = stderrIsTTY && !isCI(env) && env.TERM !== 'dumb';
  // `osfleet get hosts | head` closes the pipe early: that is the reader's choice, not an error.
  stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
  const errLevel = colorLevel(stderrIsTTY, env, choice);
  const io: IO = {
    stdout,
    stderr,
    stdin: process.stdin,
    stdoutIsTTY,
    stderrIsTTY,
    stdinIsTTY: Boolean(process.stdin.isTTY),
    columns: stdoutIsTTY ? stdout.columns : undefined,
    color: new Chalk({ level: colorLevel(stdoutIsTTY, env, choice) }),
    errColor: new Chalk({ level: errLevel }),
    interactive,
    out: (text) => void stdout.write(text),
    err: (text) => void stderr.write(text),
    async spinner(text) {
      if (!io.interactive) return noopSpinner();
      const { default: ora } = await import('ora');
      const spin = ora({ text, stream: stderr, color: 'cyan', isEnabled: true, discardStdin: false });
      return {
        get text() {
          return spin.text;
        },
        set text(t: string) {
          spin.text = t;
        },
        start: () => void spin.start(),
        stop: () => void spin.stop(),
        stopWith: (line: string) => void spin.stopAndPersist({ symbol: '', text: line }),
      };
    },
  };
  return io;
}

export interface TestIO extends IO {
  stdoutText(): string;
  stderrText(): string;
}

/** An IO for tests: collects what is written; `tty` sets the TTY flags (and so colour and spinners). */
export function testIO(opts: { tty?: boolean; columns?: number; stdin?: string; env?: IOEnv } = {}): TestIO {
  const outChunks: string[] = [];
  const errChunks: string[] = [];
  const sink = (chunks: string[]) =>
    new Writable({
      write(chunk, _enc, cb) {
        chunks.push(String(chunk));
        cb();
      },
    });
  const tty = opts.tty ?? false;
  const env = opts.env ?? {};
  const stdin = opts.stdin === undefined ? new PassThrough() : Readable.from([opts.stdin]);
  if (opts.stdin === undefined) (stdin as PassThrough).end();
  const spinnerLog: string[] = errChunks;
  const io: TestIO = {
    stdout: sink(outChunks),
    stderr: sink(errChunks),
    stdin,
    stdoutIsTTY: tty,
    stderrIsTTY: tty,
    stdinIsTTY: tty,
    columns: tty ? (opts.columns ?? 100) : undefined,
    color: new Chalk({ level: colorLevel(tty, env) }),
    errColor: new Chalk({ level: colorLevel(tty, env) }),
    interactive: tty && !isCI(env),
    out: (t) => void outChunks.push(t),
    err: (t) => void errChunks.push(t),
    async spinner(text) {
      if (!io.interactive) return noopSpinner();
      // A recording spinner: tests see its final line, not its frames.
      const s: Spinner = {
        text,
        start() {},
        stop() {},
        stopWith(line) {
          spinnerLog.push(line + '\n');
        },
      };
      return s;
    },
    stdoutText: () => outChunks.join(''),
    stderrText: () => errChunks.join(''),
  };
  return io;
}

