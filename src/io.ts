/**
 * The one IO object: streams, TTY flags, colour and spinners. Data goes to stdout; progress and
 * diagnostics to stderr. Nothing else in osfleet touches process.stdout/stderr directly, so tests
 * can run commands with testIO() and assert exact output.
 */
import { Chalk, type ChalkInstance } from 'chalk';
import { PassThrough, Readable, Writable } from 'node:stream';
import { isatty } from 'node:tty';

export interface Spinner {
  text: string;
  /** True when a change of `text` is shown at once (a drawn spinner); false for plain lines or nothing. */
  readonly live: boolean;
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
  /** True when a spinner can be drawn on stderr (see progressMode). */
  interactive: boolean;
  out(text: string): void;
  err(text: string): void;
  /**
   * Progress on stderr: a spinner where one can be drawn, plain lines at most every few seconds on
   * a terminal that cannot draw one, else nothing (see progressMode).
   */
  spinner(text: string, opts?: SpinnerOptions): Promise<Spinner>;
}

/**
 * Many small writes as one: the sink is corked at the first write of a turn of the event loop and
 * uncorked once that turn's I/O is done (setImmediate), so a burst of answers (one websocket read
 * holds dozens) costs one write system call instead of one each (stdout on a pipe writes
 * synchronously: 100,000 hosts were 100,000 calls). Backpressure holds: a corked sink past its
 * high-water mark says so, and drains when uncorked. Returns the function to call before each write.
 */
export function batchWrites(sink: Writable): () => void {
  let corked = false;
  const flush = (): void => {
    corked = false;
    sink.uncork();
  };
  return () => {
    if (corked || sink.destroyed) return;
    corked = true;
    sink.cork();
    setImmediate(flush);
  };
}

export interface SpinnerOptions {
  /** The command's data goes to this terminal in a machine format (JSON, NDJSON, YAML, CSV). */
  machineOutput?: boolean;
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
  // CI logs are read later, in a browser or a file: escape codes are noise there (README).
  if (isCI(env)) return 0;
  if (env.TERM === 'dumb') return 0;
  return 1;
}

export function isCI(env: IOEnv): boolean {
  return env.CI !== undefined && env.CI !== '' && env.CI !== '0' && env.CI.toLowerCase() !== 'false';
}

export type ProgressMode = 'spinner' | 'lines' | 'none';

/**
 * How progress is shown on stderr. A spinner redraws its line in place, which needs a terminal of a
 * known, non-zero width (a pty of 0 columns, as `script` or `docker exec -t` give before a resize,
 * sends ora into an endless loop) and a person who wants it: not under CI, NO_COLOR, --no-color or
 * TERM=dumb. Where a person may still be watching a terminal, plain lines now and then; nothing when
 * stderr is not a terminal, under CI, or when the data itself goes to the same terminal in a machine
 * format (it would be interleaved with the progress).
 */
export function progressMode(s: { stderrIsTTY: boolean; columns: number | undefined; env: IOEnv; noColor?: boolean; machineOutput?: boolean }): ProgressMode {
  if (!s.stderrIsTTY || isCI(s.env) || s.machineOutput) return 'none';
  const noColor = s.noColor || (s.env.NO_COLOR !== undefined && s.env.NO_COLOR !== '');
  if (!(s.columns !== undefined && s.columns > 0) || s.env.TERM === 'dumb' || noColor) return 'lines';
  return 'spinner';
}

/** Width of a terminal stream, or undefined when unknown (0 included: nothing can be laid out in it). */
function widthOf(stream: { columns?: number }): number | undefined {
  return typeof stream.columns === 'number' && stream.columns > 0 ? stream.columns : undefined;
}

/** Seconds between two plain progress lines. */
export const PROGRESS_LINE_INTERVAL_MS = 5000;

const noopSpinner = (): Spinner => {
  const s: Spinner = { text: '', live: false, start() {}, stop() {}, stopWith() {} };
  return s;
};

/** Progress as plain lines: the current text at most every PROGRESS_LINE_INTERVAL_MS while running. */
export function lineSpinner(write: (line: string) => void, text: string, now: () => number = Date.now): Spinner {
  let current = text;
  let running = false;
  let last = 0;
  return {
    live: false,
    get text() {
      return current;
    },
    set text(t: string) {
      current = t;
      if (running && now() - last >= PROGRESS_LINE_INTERVAL_MS) {
        last = now();
        write(`${t}\n`);
      }
    },
    start() {
      running = true;
      last = now();
    },
    stop() {
      running = false;
    },
    stopWith(line) {
      running = false;
      write(`${line}\n`);
    },
  };
}

export function systemIO(env: IOEnv, choice: ColorChoice = {}): IO {
  const stdout = process.stdout;
  const stderr = process.stderr;
  const stdoutIsTTY = Boolean(stdout.isTTY);
  const stderrIsTTY = Boolean(stderr.isTTY);
  const interactive = progressMode({ stderrIsTTY, columns: widthOf(stderr), env, noColor: choice.noColor }) === 'spinner';
  // Never thrown from here: main() stops the command on a failing stdout and reports it (ENOSPC,
  // EIO: exit 1), and `osfleet get hosts | head` closing the pipe early (EPIPE) is the reader's
  // choice, not an error.
  stdout.on('error', () => {});
  const errLevel = colorLevel(stderrIsTTY, env, choice);
  const io: IO = {
    stdout,
    stderr,
    // Made at its first use: Node builds process.stdin's stream when it is first read (2–5 ms, a
    // tenth of a `lint`), and most commands never read it.
    get stdin() {
      return process.stdin;
    },
    stdoutIsTTY,
    stderrIsTTY,
    stdinIsTTY: isatty(0),
    columns: stdoutIsTTY ? widthOf(stdout) : undefined,
    color: new Chalk({ level: colorLevel(stdoutIsTTY, env, choice) }),
    errColor: new Chalk({ level: errLevel }),
    interactive,
    out: (text) => void stdout.write(text),
    err: (text) => void stderr.write(text),
    async spinner(text, opts = {}) {
      // Width is read now: the terminal may have been resized since start-up.
      const mode = progressMode({ stderrIsTTY, columns: widthOf(stderr), env, noColor: choice.noColor, machineOutput: opts.machineOutput });
      if (mode === 'none') return noopSpinner();
      if (mode === 'lines') return lineSpinner((line) => void stderr.write(line), text);
      const { default: ora } = await import('ora');
      const spin = ora({ text, stream: stderr, color: 'cyan', isEnabled: true, discardStdin: false });
      return {
        live: true,
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
    async spinner(text, spinnerOpts = {}) {
      if (!io.interactive || spinnerOpts.machineOutput) return noopSpinner();
      // A recording spinner: tests see its final line, not its frames.
      const s: Spinner = {
        text,
        live: true,
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

