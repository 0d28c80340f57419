/**
 * Ceilings on everything osfleet reads (issue 16.3, 21.2): each reader checks its ceiling before the
 * memory is spent, and past it fails with a message naming the ceiling and, where it can be raised,
 * the environment variable that raises it. The README's "Limits" table lists the same values.
 */
import { InputError } from './errors.js';
type Env = Readonly<Record<string, string | undefined>>;

const KiB = 1024;
const MiB = 1024 * 1024;

export interface Limit {
  /** What is limited, for messages ("spec input", "a secret on stdin"). */
  readonly what: string;
  readonly value: number;
  /** The variable that raises it (undefined: fixed). */
  readonly env: string | undefined;
  readonly unit: 'bytes' | 'count';
}

/** The defaults; `limit()` applies the environment's overrides. */
export const LIMITS = {
  /** One spec file (or `-f -`) for lint, apply, delete and convert. */
  specBytes: { what: 'spec input', value: 8 * MiB, env: 'OSFLEET_MAX_SPEC_BYTES', unit: 'bytes' },
  /** YAML documents in one spec file. */
  specDocuments: { what: 'documents in one spec file', value: 10_000, env: 'OSFLEET_MAX_SPEC_DOCUMENTS', unit: 'count' },
  /** --token-stdin, --password-stdin: a token or password is never this long. */
  secretBytes: { what: 'a secret on stdin', value: 4 * KiB, env: undefined, unit: 'bytes' },
  /** One NDJSON line of results (export). */
  ndjsonLineBytes: { what: 'one NDJSON line', value: 64 * MiB, env: 'OSFLEET_MAX_LINE_BYTES', unit: 'bytes' },
  /** Names in one --hosts list. */
  hostsPerFlag: { what: 'names in --hosts', value: 10_000, env: 'OSFLEET_MAX_HOSTS_FLAG', unit: 'count' },
  /** Generated hosts in `preview --hosts`. */
  previewHosts: { what: 'generated hosts in preview', value: 200_000, env: undefined, unit: 'count' },
  /** One answer body from the server (one page of hosts, one spec list). */
  responseBytes: { what: 'one server answer', value: 32 * MiB, env: 'OSFLEET_MAX_RESPONSE_BYTES', unit: 'bytes' },
} as const satisfies Record<string, Limit>;

export type LimitName = keyof typeof LIMITS;

/** The effective ceiling: the default, or a positive integer from its environment variable. */
export function limit(name: LimitName, env: Env = process.env): number {
  const l: Limit = LIMITS[name];
  if (!l.env) return l.value;
  const text = env[l.env];
  if (text === undefined || text.trim() === '') return l.value;
  const n = Number(text.trim());
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new InputError(`${l.env}=${JSON.stringify(text).slice(0, 40)} is not a positive whole number`, { hint: `unset it to use the default (${l.value})` });
  }
  return n;
}

export function sizeText(bytes: number): string {
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes >= KiB && bytes % KiB === 0) return `${bytes / KiB} KiB`;
  return `${bytes} bytes`;
}

/** "more than 16 MiB (the ceiling for spec input); raise it with OSFLEET_MAX_SPEC_BYTES=…". */
export function overLimit(name: LimitName, source: string, value: number): InputError {
  const l: Limit = LIMITS[name];
  const amount = l.unit === 'bytes' ? sizeText(value) : value.toLocaleString('en-US');
  return new InputError(`${source}: more than ${amount}, the ceiling for ${l.what}`, {
    hint: l.env ? `raise it with ${l.env}=<${l.unit === 'bytes' ? 'bytes' : 'number'}> if this is really meant` : 'this ceiling is fixed',
  });
}

/**
 * Reads a whole stream, refusing it as soon as it passes `max` bytes (the stream is destroyed: a
 * pipe from /dev/zero stops there) and giving up at once when `signal` aborts, even while the stream
 * is silent (a terminal nobody types into).
 */
export function readBounded(
  stream: NodeJS.ReadableStream,
  opts: { max: number; onOver: () => Error; signal?: AbortSignal | undefined },
): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let done = false;
    const s = stream as NodeJS.ReadableStream & { destroy?: (err?: Error) => void };
    const cleanup = () => {
      done = true;
      stream.removeListener('data', onData);
      stream.removeListener('end', onEnd);
      stream.removeListener('error', onError);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    const fail = (err: unknown) => {
      if (done) return;
      cleanup();
      stream.pause();
      // Stop reading at once: a device such as /dev/zero would otherwise keep the loop busy.
      s.destroy?.();
      reject(err);
    };
    const onData = (chunk: Buffer | string) => {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      total += buf.length;
      if (total > opts.max) return fail(opts.onOver());
      chunks.push(buf);
    };
    const onEnd = () => {
      if (done) return;
      cleanup();
      resolve(Buffer.concat(chunks));
    };
    const onError = (err: Error) => fail(err);
    const onAbort = () => fail(opts.signal!.reason instanceof Error ? opts.signal!.reason : new Error('interrupted'));
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onError);
    stream.resume();
  });
}

/** "a, b, c, d, e and 995 more": the first few names of a long list, the rest counted. */
export function summariseNames(names: readonly string[], show = 5): string {
  if (names.length <= show + 1) return names.join(', ');
  return `${names.slice(0, show).join(', ')} and ${(names.length - show).toLocaleString('en-US')} more`;
}
