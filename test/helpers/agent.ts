/** A minimal scripted osquery agent and a results-websocket reader, for sandbox protocol tests. */
import { WebSocket } from 'ws';
import { raw } from './sandbox.js';

export interface AgentIdentity {
  hostname: string;
  uuid: string;
  platform: 'darwin' | 'windows' | 'centos' | 'ubuntu';
  serial?: string;
}

export class FakeAgent {
  nodeKey = '';
  constructor(
    readonly base: string,
    readonly osqueryPrefix: string,
    readonly id: AgentIdentity,
  ) {}

  hostDetails(): Record<string, Record<string, string>> {
    const osName = { darwin: 'Mac OS X', windows: 'Microsoft Windows 10 Pro', centos: 'CentOS Linux', ubuntu: 'Ubuntu' }[this.id.platform];
    return {
      os_version: { name: osName, version: '10.15.7', major: '10', minor: '15', patch: '7', build: '19H2', platform: this.id.platform, platform_like: this.id.platform === 'centos' ? 'rhel' : this.id.platform, codename: '' },
      osquery_info: { version: '4.5.1', uuid: this.id.uuid, build_platform: this.id.platform === 'darwin' ? 'darwin' : this.id.platform === 'windows' ? 'windows' : 'linux' },
      system_info: { hostname: this.id.hostname, uuid: this.id.uuid, computer_name: this.id.hostname.split('.')[0]!, hardware_serial: this.id.serial ?? '', cpu_brand: 'Intel', physical_memory: '17179869184' },
    };
  }

  async post(path: string, body: Record<string, unknown>) {
    return raw(`${this.base}${this.osqueryPrefix}${path}`, { body, headers: this.nodeKey ? { Authorization: `NodeKey ${this.nodeKey}` } : {} });
  }

  async enroll(secret: string) {
    const r = await this.post('/enroll', { enroll_secret: secret, host_identifier: this.id.uuid, platform_type: '21', host_details: this.hostDetails() });
    if (typeof r.json?.node_key === 'string') this.nodeKey = r.json.node_key as string;
    return r;
  }

  async config() {
    return this.post('/config', { node_key: this.nodeKey });
  }

  async read(): Promise<Record<string, string>> {
    const r = await this.post('/distributed/read', { node_key: this.nodeKey });
    if (r.status !== 200) throw new Error(`read: ${r.status} ${r.text}`);
    return (r.json.queries ?? {}) as Record<string, string>;
  }

  async write(queries: Record<string, Array<Record<string, string>>>, statuses: Record<string, number> = {}, messages: Record<string, string> = {}) {
    const st: Record<string, number> = {};
    const ms: Record<string, string> = {};
    for (const k of Object.keys(queries)) {
      st[k] = statuses[k] ?? 0;
      ms[k] = messages[k] ?? '';
    }
    return this.post('/distributed/write', { node_key: this.nodeKey, queries, statuses: st, messages: ms, stats: {} });
  }

  /** Answers every label query with one row when `member(sql)`, detail queries with nothing. */
  async answerLabels(member: (sql: string) => boolean): Promise<void> {
    const qs = await this.read();
    const out: Record<string, Array<Record<string, string>>> = {};
    for (const [name, sql] of Object.entries(qs)) {
      if (name.includes('_label_query_')) out[name] = member(sql) ? [{ '1': '1' }] : [];
      else if (name.includes('_detail_query_')) out[name] = [];
    }
    if (Object.keys(out).length > 0) await this.write(out);
  }
}

export interface WsMessage {
  type: string;
  data: any;
}

/** A results-websocket client that queues messages and records how the socket closed. */
export class ResultsSocket {
  readonly ws: WebSocket;
  readonly messages: WsMessage[] = [];
  private waiters: Array<() => void> = [];
  closeCode: number | undefined;
  readonly opened: Promise<void>;
  readonly closed: Promise<number>;

  constructor(url: string, opts: { ca?: string | Buffer } = {}) {
    this.ws = new WebSocket(url, opts.ca ? { ca: opts.ca } : {});
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      this.ws.once('error', reject);
    });
    this.closed = new Promise((resolve) => {
      this.ws.on('close', (code) => {
        this.closeCode = code;
        resolve(code);
        this.wake();
      });
    });
    this.ws.on('error', () => {});
    this.ws.on('message', (data) => {
      this.messages.push(JSON.parse(data.toString()) as WsMessage);
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send(type: string, data: unknown): void {
    this.ws.send(JSON.stringify({ type, data }));
  }

  /** Waits until a message satisfies `pred` (searching from index `from`), or the socket closes, or timeout. */
  async waitFor(pred: (m: WsMessage) => boolean, timeoutMs = 10_000, from = 0): Promise<WsMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.slice(from).find(pred);
      if (found) return found;
      if (this.closeCode !== undefined) throw new Error(`socket closed (${this.closeCode}) before the message came; got ${JSON.stringify(this.messages)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; got ${JSON.stringify(this.messages)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
  }
}
