// The page's WebSocket client: one socket, one show at a time, automatic reconnect, gap
// detection (a delta whose fromVersion is past our version means we missed something:
// resubscribe with fromVersion and let the server send what we missed or a snapshot).
// Types (checked by tsconfig.page.json, never shipped): the frames of src/gateway/ws/protocol.ts
// and the answers of the typed client (src/client/).

/** @typedef {import('../../ws/protocol.ts').SnapshotFrameShape} SnapshotFrame */
/** @typedef {import('../../ws/protocol.ts').DeltaFrameShape} DeltaFrame */
/** @typedef {import('../../ws/protocol.ts').ErrorFrameShape} ErrorFrame */
/** @typedef {Extract<ClientFrame, { type: 'subscribe' }>} SubscribeFrame */
/** @typedef {import('../../ws/protocol.ts').ClientFrame} ClientFrame */
/** @typedef {import('../../ws/protocol.ts').CommandFrame} CommandFrame */
/** @typedef {{ type: 'subscribed', showId: string, version: number }} SubscribedFrame */
/**
 * What each command's `result` frame carries (the same fields the HTTP API answers with).
 * @typedef {{
 *   hold: import('../../../client/index.ts').HoldGranted,
 *   extend: { holdId: string, expiresAt: string },
 *   confirm: import('../../../client/index.ts').BookingGranted,
 *   release: { holdId: string, released: true },
 * }} Results
 */
/** @typedef {{ type: 'result', requestId: string, op: keyof Results } & Results[keyof Results]} ResultFrame */
/** @typedef {SnapshotFrame | DeltaFrame | SubscribedFrame | ResultFrame | ErrorFrame} ServerFrame */
/**
 * A command as the page asks for it: the socket adds the `requestId`.
 * @typedef {CommandFrame extends infer F ? F extends CommandFrame ? Omit<F, 'requestId'> : never : never} CommandRequest
 */
/** A refused command: the server's error frame, or one made here for a lost connection. @typedef {{ code: string, message: string, seats?: string[] }} CommandError */
/**
 * @typedef {{
 *   onSnapshot(f: SnapshotFrame): void,
 *   onChanges(f: DeltaFrame): void,
 *   onError(f: ErrorFrame): void,
 *   onState(s: 'connecting' | 'live' | 'offline'): void,
 *   version(): number | null,
 *   layoutVersion(): number | null,
 * }} LiveHandlers
 */

const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 10_000;
const REQUEST_TIMEOUT_MS = 15_000;

export class LiveMap {
  /** @param {LiveHandlers} handlers */
  constructor(handlers) {
    this.h = handlers;
    /** @type {string | null} */
    this.showId = null;
    this.resyncing = false;
    /** @type {WebSocket | null} */
    this.ws = null;
    /** @type {Map<string, { resolve(f: ResultFrame): void, reject(e: CommandError): void }>} */
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

  /**
   * Watches `showId` (only one show at a time); `resume` asks for just what we missed.
   * @param {string} showId
   */
  subscribe(showId, resume = false) {
    // A fresh map of the show we already watch: end that subscription first, or the server
    // (which knows what it sent this socket) continues it with deltas instead.
    if (this.showId && (this.showId !== showId || !resume)) this.send({ type: 'unsubscribe', showId: this.showId });
    this.showId = showId;
    this.resyncing = true; // until the snapshot or the `subscribed` frame arrives
    /** @type {SubscribeFrame} */
    const frame = { type: 'subscribe', showId };
    const version = this.h.version();
    const layoutVersion = this.h.layoutVersion();
    if (resume && version !== null) frame.fromVersion = version;
    if (resume && layoutVersion !== null) frame.layoutVersion = layoutVersion;
    this.send(frame);
  }

  /** @param {ClientFrame} frame */
  send(frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(frame));
  }

  /**
   * Sends a command and resolves with its `result` frame, or rejects with its `error` frame.
   * @template {CommandRequest} F
   * @param {F} frame
   * @returns {Promise<Results[F['type']]>}
   */
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
        // The result frame of this command: its fields are Results[F['type']] (the server answers each op in kind).
        resolve: (v) => {
          clearTimeout(timer);
          resolve(/** @type {Results[F['type']]} */ (/** @type {unknown} */ (v)));
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.send(/** @type {CommandFrame} */ ({ ...frame, requestId }));
    });
  }

  /** @param {ServerFrame} f */
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
        else if (!this.resyncing) this.subscribe(f.showId, true); // a gap: ask for what we missed
        break;
      }
      case 'subscribed':
        if (f.showId === this.showId) this.resyncing = false;
        break;
      case 'result':
      case 'error': {
        const requestId = f.requestId;
        const p = requestId ? this.pending.get(requestId) : undefined;
        if (p && requestId) {
          this.pending.delete(requestId);
          if (f.type === 'result') p.resolve(f);
          else p.reject(f);
        } else if (f.type === 'error' && f.showId === this.showId) this.h.onError(f);
        break;
      }
    }
  }
}
