import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { batchWrites, colorLevel, isCI, lineSpinner, progressMode, PROGRESS_LINE_INTERVAL_MS } from '../src/io.js';
import { backoffDelay, describeErrorBody, errorForStatus, networkError, parseRetryAfter } from '../src/api/errors.js';
import { FleetClient, encodeQuery } from '../src/api/client.js';
import { checkAddress } from '../src/api/address.js';
import { redact } from '../src/commands/config.js';
import { ApiError, AuthError, ConfigError, NotFoundError, fileSystemError } from '../src/errors.js';

describe('colour level', () => {
  it.each([
    { tty: true, env: {}, choice: {}, level: 1 },
    { tty: false, env: {}, choice: {}, level: 0 },
    { tty: true, env: { NO_COLOR: '1' }, choice: {}, level: 0 },
    { tty: true, env: { NO_COLOR: '' }, choice: {}, level: 1 },
    { tty: false, env: { FORCE_COLOR: '3' }, choice: {}, level: 3 },
    { tty: true, env: { FORCE_COLOR: '0' }, choice: {}, level: 0 },
    { tty: true, env: { TERM: 'dumb' }, choice: {}, level: 0 },
    { tty: true, env: {}, choice: { noColor: true }, level: 0 },
    { tty: true, env: { NO_COLOR: '1', FORCE_COLOR: '1' }, choice: {}, level: 0 },
    { tty: true, env: { CI: 'true' }, choice: {}, level: 0 },
    { tty: true, env: { CI: '1' }, choice: {}, level: 0 },
    { tty: true, env: { CI: 'false' }, choice: {}, level: 1 },
    { tty: true, env: { CI: 'true', FORCE_COLOR: '1' }, choice: {}, level: 1 },
  ])('tty=$tty env=$env → $level', ({ tty, env, choice, level }) => {
    expect(colorLevel(tty, env, choice)).toBe(level);
  });
  it('knows CI', () => {
    expect(isCI({ CI: 'true' })).toBe(true);
    expect(isCI({ CI: 'false' })).toBe(false);
    expect(isCI({})).toBe(false);
  });
});

describe('batched writes', () => {
  it("writes one turn's chunks in one call, in order, and drains a full sink once uncorked", async () => {
    const calls: string[][] = [];
    const sink = new Writable({
      highWaterMark: 8,
      write(chunk: Buffer, _enc, cb) {
        calls.push([chunk.toString()]);
        cb();
      },
      writev(chunks, cb) {
        calls.push(chunks.map((c) => String(c.chunk)));
        cb();
      },
    });
    const batch = batchWrites(sink);
    batch();
    sink.write('a\n');
    batch();
    sink.write('b\n');
    batch();
    // Past the high-water mark: the caller is told to wait, and 'drain' comes once the turn ends.
    const more = sink.write('c-longer-than-eight\n');
    expect(more).toBe(false);
    expect(calls).toEqual([]);
    await new Promise((r) => sink.once('drain', r));
    expect(calls).toEqual([['a\n', 'b\n', 'c-longer-than-eight\n']]);
    batch();
    sink.write('d\n');
    await new Promise((r) => setImmediate(r));
    expect(calls.at(-1)).toEqual(['d\n']);
  });
});

describe('progress mode', () => {
  it.each([
    { s: { stderrIsTTY: true, columns: 80, env: {} }, mode: 'spinner' },
    { s: { stderrIsTTY: true, columns: 0, env: {} }, mode: 'lines' },
    { s: { stderrIsTTY: true, columns: undefined, env: {} }, mode: 'lines' },
    { s: { stderrIsTTY: true, columns: 80, env: { NO_COLOR: '1' } }, mode: 'lines' },
    { s: { stderrIsTTY: true, columns: 80, env: {}, noColor: true }, mode: 'lines' },
    { s: { stderrIsTTY: true, columns: 80, env: { TERM: 'dumb' } }, mode: 'lines' },
    { s: { stderrIsTTY: true, columns: 80, env: { CI: 'true' } }, mode: 'none' },
    { s: { stderrIsTTY: true, columns: 80, env: {}, machineOutput: true }, mode: 'none' },
    { s: { stderrIsTTY: false, columns: 80, env: {} }, mode: 'none' },
  ])('$s → $mode', ({ s, mode }) => {
    expect(progressMode(s)).toBe(mode);
  });

  it('plain lines: at most one per interval, the latest text, and the final line', () => {
    let t = 0;
    const lines: string[] = [];
    const sp = lineSpinner((l) => lines.push(l), 'start', () => t);
    sp.start();
    sp.text = 'a';
    t = PROGRESS_LINE_INTERVAL_MS - 1;
    sp.text = 'b';
    t = PROGRESS_LINE_INTERVAL_MS;
    sp.text = 'c';
    sp.text = 'd';
    sp.stopWith('done');
    sp.text = 'e';
    expect(lines).toEqual(['c\n', 'done\n']);
  });
});

describe('error bodies of both generations', () => {
  it('Kolide 500 Unknown Error carries the real reason', () => {
    const text = JSON.stringify({ message: 'Unknown Error', errors: [{ name: 'base', reason: "cannot schedule unknown query 'x'" }] });
    expect(describeErrorBody(500, 'application/json', text)).toEqual({ message: 'Unknown Error', reasons: ["cannot schedule unknown query 'x'"] });
  });
  it('FleetDM 422 with several fields and a uuid', () => {
    const text = JSON.stringify({
      message: 'Validation Failed',
      errors: [
        { name: 'name', reason: 'cannot be empty' },
        { name: 'query', reason: 'cannot be empty' },
      ],
      uuid: 'abc',
    });
    const err = errorForStatus({ status: 422, method: 'POST', path: '/api/v1/fleet/spec/queries', contentType: 'application/json', text });
    expect(err).toBeInstanceOf(ApiError);
    expect(err.message).toBe('POST /api/v1/fleet/spec/queries: 422 Validation Failed: cannot be empty; cannot be empty');
  });
  it('FleetDM permission error without errors[]', () => {
    expect(describeErrorBody(403, 'application/json', '{"message":"Permission Denied"}')).toEqual({ message: 'Permission Denied', reasons: [] });
  });
  it('Kolide text/plain decode errors', () => {
    expect(describeErrorBody(500, 'text/plain; charset=utf-8', 'json: cannot unmarshal string\n')).toEqual({ message: 'json: cannot unmarshal string', reasons: [] });
  });
  it('a proxy HTML page is named as such', () => {
    const r = describeErrorBody(502, 'text/html', '<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>');
    expect(r.message).toContain('HTML page ("502 Bad Gateway")');
  });
  it('401 → AuthError (exit 4) with the login hint; 404 → NotFoundError', () => {
    const auth = errorForStatus({ status: 401, method: 'GET', path: '/x', contentType: 'application/json', text: '{"message":"Authentication required"}' });
    expect(auth).toBeInstanceOf(AuthError);
    expect(auth.exitCode).toBe(4);
    expect(auth.hint).toContain('osfleet login');
    expect(errorForStatus({ status: 404, method: 'GET', path: '/x', contentType: undefined, text: '' })).toBeInstanceOf(NotFoundError);
  });
});

describe('network errors', () => {
  it.each([
    ['ECONNREFUSED', 'connection refused'],
    ['ENOTFOUND', 'DNS lookup failed'],
    ['UND_ERR_CONNECT_TIMEOUT', 'timed out connecting'],
    ['UND_ERR_HEADERS_TIMEOUT', 'stopped answering'],
    ['ECONNRESET', 'was cut'],
  ])('%s', (code, text) => {
    const err = Object.assign(new Error('boom'), { code });
    expect(networkError(err, 'https://fleet.example.com').message).toContain(text);
  });
  it('TLS failures hint at rootca', () => {
    const err = Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' });
    const e = networkError(err, 'https://fleet.example.com');
    expect(e.message).toContain('TLS verification');
    expect(e.hint).toContain('--rootca');
  });
  it('reads the code from the cause, as undici wraps it', () => {
    const err = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }) });
    expect(networkError(err, 'http://127.0.0.1:1').code).toBe('ECONNREFUSED');
  });
});

describe('Retry-After and backoff', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it.each([
    ['3', 3000],
    [' 0 ', 0],
    ['Thu, 01 Jan 2026 00:00:05 GMT', 5000],
    ['soon', undefined],
    [undefined, undefined],
  ])('%s → %s ms', (v, ms) => {
    expect(parseRetryAfter(v, now)).toBe(ms);
  });
  it('is capped and grows', () => {
    const mid = () => 0.5;
    const delays = [0, 1, 2, 3, 4, 5, 10].map((a) => backoffDelay(a, { baseMs: 250, capMs: 4000, random: mid }));
    expect(delays).toEqual([188, 375, 750, 1500, 3000, 3000, 3000]);
  });
});

describe('addresses', () => {
  it.each([
    ['https://fleet.example.com:8080', true],
    ['http://127.0.0.1:8412', true],
    ['http://localhost:8412', true],
    ['http://[::1]:8412', true],
    ['http://127.8.9.10:8412', true],
    ['http://0x7f.1:8412', true],
    ['http://LOCALHOST:8412', true],
    ['http://127.attacker.example.com', false],
    ['http://127.0.0.1.nip.io', false],
    ['http://localhost.attacker.example.com', false],
    ['http://[::ffff:127.0.0.1]', false],
    ['http://fleet.example.com', false],
    ['ftp://fleet.example.com', false],
    ['fleet.example.com', false],
  ])('%s ok=%s', (address, ok) => {
    if (ok) expect(() => checkAddress(address, { allowInsecureHttp: false })).not.toThrow();
    else expect(() => checkAddress(address, { allowInsecureHttp: false })).toThrow(ConfigError);
  });
  it('http to a remote host with --allow-insecure-http', () => {
    expect(() => checkAddress('http://fleet.example.com', { allowInsecureHttp: true })).not.toThrow();
  });
  it('the websocket follows the same rule: ws:// only to loopback or with the opt-out', () => {
    const remote = new FleetClient({ address: 'http://127.attacker.example.com', dialect: 'fleet' });
    expect(() => remote.websocketUrl('/results/websocket')).toThrow(/refusing plain ws:\/\/ to 127\.attacker\.example\.com/);
    const allowed = new FleetClient({ address: 'http://127.attacker.example.com', dialect: 'fleet', allowInsecureHttp: true });
    expect(allowed.websocketUrl('/results/websocket')).toBe('ws://127.attacker.example.com/api/v1/fleet/results/websocket');
    const local = new FleetClient({ address: 'http://127.0.0.2:8412', dialect: 'fleet' });
    expect(local.websocketUrl('/results/websocket')).toBe('ws://127.0.0.2:8412/api/v1/fleet/results/websocket');
    void Promise.all([remote.close(), allowed.close(), local.close()]);
  });
  it('encodes query strings', () => {
    expect(encodeQuery({ query: 'a b&c', page: 0, skip: undefined })).toBe('query=a+b%26c&page=0');
  });
});

describe('token redaction', () => {
  it('shows only the last four characters', () => {
    expect(redact('abcdefghijklmnop')).toBe('********mnop');
    expect(redact('short')).toBe('********');
    expect(redact(undefined)).toBe('');
  });
});

describe('file-system errors name the path and the cause', () => {
  it.each([
    [{ code: 'ENOTDIR', syscall: 'mkdir', path: '/a/file/x' }, 'cannot create the folder /a/file/x: a part of the path is not a folder (ENOTDIR)'],
    [{ code: 'EEXIST', syscall: 'mkdir', path: '/a/file' }, 'cannot create the folder /a/file: exists and is not a folder (EEXIST)'],
    [{ code: 'EACCES', syscall: 'open', path: '/etc/x' }, 'cannot open /etc/x: permission denied (EACCES)'],
    [{ code: 'EXDEV', syscall: 'rename', path: '/a', dest: '/b' }, 'cannot rename /a to /b: not on the same file system (EXDEV)'],
  ])('%j', (fields, message) => {
    expect(fileSystemError(Object.assign(new Error('raw'), fields))?.message).toBe(message);
  });
  it('anything else stays unexpected', () => {
    expect(fileSystemError(Object.assign(new Error('raw'), { code: 'EISDIR', syscall: 'read' }))).toBeUndefined();
    expect(fileSystemError(new TypeError('x is undefined'))).toBeUndefined();
  });
});

describe('the program built for a command line', () => {
  it('holds only the command the first word names, else every command', async () => {
    const { commandsToBuild } = await import('../src/program.js');
    const { COMMANDS } = await import('../src/commands/index.js');
    expect(commandsToBuild(['lint', '-f', 'packs'], COMMANDS).map((c) => c.name)).toEqual(['lint']);
    expect(commandsToBuild(['get', 'hosts'], COMMANDS).map((c) => c.name)).toEqual(['get']);
    expect(commandsToBuild(['--context', 'lint', 'query', '--all'], COMMANDS).map((c) => c.name)).toEqual(['query']);
    expect(commandsToBuild(['--debug', '--config=lint', 'lint'], COMMANDS).map((c) => c.name)).toEqual(['lint']);
    for (const argv of [[], ['--frob', 'lint'], ['help', 'lint'], ['completion', 'bash'], ['lnt']]) expect(commandsToBuild(argv, COMMANDS)).toBe(COMMANDS);
  });
});
