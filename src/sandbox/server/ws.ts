/**
 * The raw results websocket (`<prefix>/results/websocket`), message for message as Fleet's
 * StreamCampaignResults (fleet-api.md §5.2): auth, select_campaign, then totals/status on a timer and
 * one `result` per host; the server never closes on `finished`. After an `error` Fleet closes with
 * code 0, which no websocket library can send: the socket is dropped without a close frame (1006).
 */
import type { WebSocket } from 'ws';
import type { Campaign, CampaignResult } from './campaigns.js';
import type { Core, Viewer } from './core.js';
import { hostJSON } from './shapes.js';

interface Msg {
  type?: unknown;
  data?: unknown;
}

export function serveResultsSocket(core: Core, ws: WebSocket, tickMs: number, closeAfter: number | undefined): void {
  let state: 'auth' | 'select' | 'streaming' = 'auth';
  let viewer: Viewer | undefined;
  let sent = 0;
  let dead = false;
  let cleanup: () => void = () => {};

  const drop = (): void => {
    if (dead) return;
    dead = true;
    cleanup();
    ws.terminate();
  };
  const send = (type: string, data: unknown): void => {
    if (dead || ws.readyState !== ws.OPEN) return;
    ws.send(JSON.stringify({ type, data }));
    sent++;
    if (closeAfter !== undefined && sent >= closeAfter) {
      // Fault injection: the connection drops (a proxy timeout, a restart) after K messages.
      dead = true;
      cleanup();
      setImmediate(() => ws.terminate());
    }
  };
  const fail = (text: string): void => {
    if (dead) return;
    dead = true;
    cleanup();
    if (ws.readyState !== ws.OPEN) return ws.terminate();
    ws.send(JSON.stringify({ type: 'error', data: text }), () => ws.terminate());
  };

  ws.on('close', () => {
    dead = true;
    cleanup();
  });
  ws.on('error', () => drop());

  ws.on('message', (raw, isBinary) => {
    if (dead || state === 'streaming') return;
    let msg: Msg | undefined;
    try {
      const v: unknown = JSON.parse(isBinary ? Buffer.from(raw as Buffer).toString('utf8') : raw.toString());
      msg = v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Msg) : undefined;
    } catch {
      msg = undefined;
    }
    if (state === 'auth') {
      // Fleet returns without a word when the first message is not a readable `auth`.
      if (!msg || msg.type !== 'auth') return drop();
      const data = msg.data !== null && typeof msg.data === 'object' ? (msg.data as Record<string, unknown>) : {};
      viewer = core.viewerForToken(data.token);
      if (!viewer) return fail('unauthorized');
      state = 'select';
      return;
    }
    if (!msg) return fail('error reading select_campaign');
    if (msg.type !== 'select_campaign') return fail('expected select_campaign');
    const data = msg.data;
    let id = 0;
    if (data !== undefined && data !== null) {
      if (typeof data !== 'object' || Array.isArray(data)) return fail('error unmarshaling select_campaign data');
      const cid = (data as Record<string, unknown>).campaign_id;
      if (cid !== undefined && cid !== null) {
        if (typeof cid !== 'number' || !Number.isInteger(cid) || cid < 0) return fail('error unmarshaling select_campaign data');
        id = cid;
      }
    }
    if (id === 0) return fail('0 is not a valid campaign ID');
    const c = core.campaigns.get(id);
    if (!c) return fail(`cannot find campaign for ID ${id}`);
    if (core.d === 'fleet' && c.userId !== viewer!.user.id) return fail('forbidden');
    state = 'streaming';
    stream(c);
  });

  const stream = (c: Campaign): void => {
    // Selecting makes the campaign run (Kolide hands it to hosts only from now on).
    if (core.d === 'kolide' || c.state === 'waiting') core.campaigns.start(c);
    const status = { expected_results: 0, actual_results: 0, status: 'pending' };
    let lastStatus = JSON.stringify(status);
    let lastTotals = JSON.stringify({ count: 0, online: 0, offline: 0, missing_in_action: 0 });
    const update = (): void => {
      const m = core.metrics(c.targets);
      const totals = { count: m.TotalHosts, online: m.OnlineHosts, offline: m.OfflineHosts, missing_in_action: m.MissingInActionHosts };
      const t = JSON.stringify(totals);
      if (t !== lastTotals) {
        lastTotals = t;
        send('totals', totals);
      }
      status.expected_results = totals.online;
      if (status.actual_results >= status.expected_results) status.status = 'finished';
      const s = JSON.stringify(status);
      if (s !== lastStatus) {
        lastStatus = s;
        send('status', { ...status });
      }
    };
    const deliver = (r: CampaignResult): void => {
      // Kolide puts the bare kolide.Host in a result: the HostResponse extras (status, display_text) are not there.
      const data = core.resultJSON(c, r, (h) => {
        const { status: _s, display_text: _t, ...bare } = hostJSON(core.d, h, core.now());
        return bare;
      });
      if (!data) return;
      send('result', data);
      status.actual_results++;
    };
    update();
    if (dead) return;
    const backlog = c.results.slice();
    const unsubscribe = core.campaigns.subscribe(c, deliver);
    const timer = setInterval(update, tickMs);
    cleanup = () => {
      clearInterval(timer);
      unsubscribe();
      cleanup = () => {};
    };
    for (const r of backlog) deliver(r);
  };
}
