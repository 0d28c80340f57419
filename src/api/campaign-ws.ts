/**
 * The websocket transport of a live query: one campaign's raw results websocket (fleet-api.md §5) as
 * an event queue, with backpressure, garbage frames skipped and counted, and the way it ended.
 */
import WebSocket from 'ws';
import type { FleetClient } from './client.js';
import type { CampaignStatus, HostAnswer, Totals } from './campaign-types.js';
import { redactSecrets } from './errors.js';
import { wakeOrAbort } from '../sleep.js';

export type StreamEvent =
  | { type: 'result'; answer: HostAnswer }
  | { type: 'totals'; totals: Totals }
  | { type: 'status'; status: CampaignStatus };

export type StreamEnd =
  | { kind: 'closed' } // we closed it
  | { kind: 'lost'; reason: string } // the socket went away without a server error
  | { kind: 'blocked'; reason: string } // the upgrade was refused (a proxy?)
  | { kind: 'server-error'; message: string };

/** Events parsed and waiting before the socket is paused (each may be one host's whole answer). */
const QUEUE_HIGH_WATER = 8;

/**
 * The raw results websocket of one campaign as an event queue. Messages are parsed as they come;
 * garbage frames are skipped (counted) rather than crashing the run.
 */
export class ResultStream {
  private readonly ws: WebSocket;
  private queue: StreamEvent[] = [];
  private waiter: (() => void) | undefined;
  private opened = false;
  private serverError: string | undefined;
  ended: StreamEnd | undefined;
  garbageFrames = 0;
  messages = 0;

  constructor(client: FleetClient, campaignId: number, opts: { debug?: ((line: string) => void) | undefined } = {}) {
    const url = client.websocketUrl('/results/websocket');
    const token = client.bearerToken();
    const debug = opts.debug;
    this.ws = new WebSocket(url, {
      ...client.tlsOptions(),
      handshakeTimeout: 45_000,
      headers: { ...client.customHeaders(), 'user-agent': 'osfleet' },
      maxPayload: 512 * 1024 * 1024,
    });
    debug?.(`WS ${new URL(url).pathname} connecting`);
    this.ws.on('open', () => {
      this.opened = true;
      debug?.('WS open; sending auth (token redacted) and select_campaign ' + campaignId);
      this.ws.send(JSON.stringify({ type: 'auth', data: { token } }));
      this.ws.send(JSON.stringify({ type: 'select_campaign', data: { campaign_id: campaignId } }));
    });
    this.ws.on('message', (data: WebSocket.RawData) => this.onMessage(data, token, debug));
    this.ws.on('unexpected-response', (_req, res) => {
      this.finish({ kind: 'blocked', reason: `the websocket upgrade was answered ${res.statusCode} ${res.statusMessage ?? ''}`.trim() });
      res.resume();
      this.ws.terminate();
    });
    this.ws.on('error', (err: Error) => {
      debug?.(`WS error: ${err.message}`);
      if (!this.opened && !this.serverError) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) this.finish({ kind: 'lost', reason: `TLS verification failed: ${err.message}` });
        else this.finish({ kind: 'lost', reason: err.message });
      }
    });
    this.ws.on('close', (code: number) => {
      debug?.(`WS closed (${code})`);
      // Fleet closes with code 0 after an error message, which ws reports as 1006: the error is what counts.
      if (this.serverError !== undefined) this.finish({ kind: 'server-error', message: this.serverError });
      else this.finish({ kind: 'lost', reason: code === 1000 ? 'the server closed the results stream' : `the results stream was cut (${code})` });
    });
  }

  /** One server message: an event queued, a server error kept for the close, or a garbage frame counted. */
  private onMessage(data: WebSocket.RawData, token: string | undefined, debug: ((line: string) => void) | undefined): void {
    this.messages++;
    let msg: { type?: unknown; data?: unknown };
    try {
      msg = JSON.parse(data.toString()) as { type?: unknown; data?: unknown };
    } catch {
      this.garbageFrames++;
      debug?.('WS frame that is not JSON skipped');
      return;
    }
    switch (msg.type) {
      case 'result': {
        const answer = toAnswer(msg.data);
        if (answer) {
          debug?.(`WS result from ${answer.host} (${answer.rows.length} rows${answer.error ? ', error' : ''})`);
          this.push({ type: 'result', answer });
        }
        else this.garbageFrames++;
        return;
      }
      case 'totals':
        this.push({ type: 'totals', totals: msg.data as Totals });
        return;
      case 'status':
        this.push({ type: 'status', status: msg.data as CampaignStatus });
        return;
      case 'error':
        this.serverError = redactSecrets(typeof msg.data === 'string' ? msg.data : JSON.stringify(msg.data), [token]);
        debug?.(`WS server error: ${this.serverError}`);
        return;
      default:
        this.garbageFrames++;
    }
  }

  private push(ev: StreamEvent): void {
    this.queue.push(ev);
    // Backpressure: a server sending faster than the output is written would otherwise fill memory
    // with parsed answers. Paused, the socket stops reading and TCP slows the server down.
    if (this.queue.length >= QUEUE_HIGH_WATER && !this.ws.isPaused && this.ws.readyState === WebSocket.OPEN) this.ws.pause();
    this.wake();
  }

  private finish(end: StreamEnd): void {
    if (this.ended) return;
    this.ended = end;
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** The next event, or undefined when the stream ended (see `ended`). */
  async next(signal?: AbortSignal): Promise<StreamEvent | undefined> {
    for (;;) {
      const ev = this.queue.shift();
      if (ev) {
        if (this.ws.isPaused && this.queue.length < QUEUE_HIGH_WATER / 2) this.ws.resume();
        return ev;
      }
      if (this.ended) return undefined;
      if (signal?.aborted) return undefined;
      await wakeOrAbort(signal, (wake) => (this.waiter = wake));
    }
  }

  close(): void {
    this.finish({ kind: 'closed' });
    // A paused socket would never read the server's close frame.
    if (this.ws.isPaused) this.ws.resume();
    if (this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
    else this.ws.close(1000);
  }
}

function toAnswer(data: unknown): HostAnswer | undefined {
  if (!data || typeof data !== 'object') return undefined;
  const d = data as { host?: { id?: number; hostname?: string; display_name?: string }; rows?: unknown; error?: unknown };
  const host = d.host;
  if (!host || typeof host !== 'object') return undefined;
  // fleetctl prints res.Host.Hostname; display names are for people and may collide.
  const name = host.hostname || host.display_name;
  if (!name) return undefined;
  const rows = Array.isArray(d.rows) ? (d.rows as Array<Record<string, string>>) : [];
  const error = typeof d.error === 'string' && d.error !== '' ? d.error : undefined;
  return { host: name, hostId: typeof host.id === 'number' ? host.id : undefined, rows, ...(error !== undefined ? { error } : {}) };
}
