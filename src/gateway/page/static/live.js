// The page's WebSocket client: one socket, one show at a time, automatic reconnect, gap
// detection (a delta whose fromVersion is past our version means we missed something:
// resubscribe with fromVersion and let the server send what we missed or a snapshot).

const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 10_000;
const REQUEST_TIMEOUT_MS = 15_000;

export class LiveMap {
  /**
   * @param {{ onSnapshot(f: object): void, onChanges(f: object): void, onState(s: string): void,
   *           version(): number | null, layoutVersion(): number | null }} handlers
   */
  constructor(handlers) {
    this.h = handlers;
    this.showId = null;
    this.resyncing = false;
    this.ws = null;
    this.pending = new Map();
    this.nextId = 1;
    this.backoff = RECONNECT_MIN_MS;
    this.connect();
  }

  connect() {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}/v1/ws`);
    this.ws = ws;
    this.h.onState('connecting');
    ws.onopen = () => {
      this.backoff = RECONNECT_MIN_MS;
      this.h.onState('live');
      if (this.showId) this.subscribe(this.showId, true);
    };
    ws.onmessage = (ev) => this.onFrame(JSON.parse(ev.data));
    ws.onclose = () => {
      this.h.onState('offline');
      for (const p of this.pending.values()) p.reject({ code: 'UNAVAILABLE', message: 'connection lost; try again' });
      this.pending.clear();
      setTimeout(() => this.connect(), this.backoff);
      this.backoff = Math.min(RECONNECT_MAX_MS, this.backoff * 2);
    };
  }

  /** Watches `showId` (only one show at a time); `resume` asks for just what we missed. */
  subscribe(showId, resume = false) {
    // A fresh map of the show we already watch: end that subscription first, or the server
    // (which knows what it sent this socket) continues it with deltas instead.
    if (this.showId && (this.showId !== showId || !resume)) this.send({ type: 'unsubscribe', showId: this.showId });
    this.showId = showId;
    this.resyncing = true; // until the snapshot or the `subscribed` frame arrives
    const frame = { type: 'subscribe', showId };
    const version = this.h.version();
    const layoutVersion = this.h.layoutVersion();
    if (resume && version !== null) frame.fromVersion = version;
    if (resume && layoutVersion !== null) frame.layoutVersion = layoutVersion;
    this.send(frame);
  }

  send(frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(frame));
  }

  /** Sends a command and resolves with its `result` frame, or rejects with its `error` frame. */
  request(frame) {
    return new Promise((resolve, reject) => {
      if (!this.ws || this.ws.readyState !== WebSocket.OPEN) {
        reject({ code: 'UNAVAILABLE', message: 'not connected; try again in a moment' });
        return;
      }
      const requestId = `r${this.nextId++}`;
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject({ code: 'DEADLINE_EXCEEDED', message: 'no answer from the server' });
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(requestId, {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.send({ ...frame, requestId });
    });
  }

  onFrame(f) {
    switch (f.type) {
      case 'snapshot':
        if (f.showId !== this.showId) break;
        this.resyncing = false;
        this.h.onSnapshot(f);
        break;
      case 'delta': {
        if (f.showId !== this.showId) break;
        const mine = this.h.version();
        if (mine === null || f.version <= mine) break;
        if (f.fromVersion <= mine) this.h.onChanges(f);
        else if (!this.resyncing) this.subscribe(this.showId, true); // a gap: ask for what we missed
        break;
      }
      case 'subscribed':
        if (f.showId === this.showId) this.resyncing = false;
        break;
      case 'result':
      case 'error': {
        const p = f.requestId ? this.pending.get(f.requestId) : undefined;
        if (p) {
          this.pending.delete(f.requestId);
          if (f.type === 'result') p.resolve(f);
          else p.reject(f);
        } else if (f.type === 'error' && f.showId === this.showId) this.h.onError(f);
        break;
      }
    }
  }
}
