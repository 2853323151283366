import { SeatClientError } from './errors.ts';
import { SeatMapMirror, type DeltaFrame, type LiveSeatMap, type SnapshotFrame } from './seat-map-mirror.ts';

/** The parts of a WebSocket this client uses: the browser's and the `ws` package's agree on them. */
interface SocketLike {
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(): void;
}
export type SocketFactory = (url: string) => SocketLike;

export interface WatchOptions {
  /** Base URL of a gateway (http:// or https://; the socket is `<url>/v1/ws`). */
  url: string;
  /** First reconnect delay in ms, doubled per failed attempt up to `maxBackoffMs`; default 250. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Opens a socket (default: the platform's WebSocket, or the `ws` package in Node). */
  socket?: SocketFactory;
  /** Told about errors the watch survives (a dropped socket, a refused subscription after the first map). */
  onError?: (err: SeatClientError) => void;
}

export interface WatchHandle {
  /** The version of the map last handed to the listener. */
  readonly version: number;
  /** Whether a socket is open now (false while reconnecting). */
  readonly connected: boolean;
  close(): void;
}

async function defaultSocket(): Promise<SocketFactory> {
  const native = (globalThis as { WebSocket?: new (url: string) => SocketLike }).WebSocket;
  if (native) return (url) => new native(url);
  const { default: WebSocket } = await import('ws');
  return (url) => new WebSocket(url) as unknown as SocketLike;
}

/**
 * Watches one show's live seat map: `onMap` gets the whole map after the first snapshot and
 * after every change. A dropped socket reconnects with backoff and resumes from the version it
 * had (the server sends only the deltas missed when it still can); a gap in the deltas
 * resubscribes from the version held. Resolves with a handle once the first map arrived;
 * rejects if the show cannot be watched (e.g. SHOW_NOT_FOUND).
 */
export async function watchShow(opts: WatchOptions, showId: string, onMap: (map: LiveSeatMap) => void): Promise<WatchHandle> {
  const open = opts.socket ?? (await defaultSocket());
  const wsUrl = `${opts.url.replace(/\/+$/, '').replace(/^http/, 'ws')}/v1/ws`;
  const mirror = new SeatMapMirror(showId);
  const firstBackoff = opts.backoffMs ?? 250;
  const maxBackoff = opts.maxBackoffMs ?? 10_000;
  let backoff = firstBackoff;
  let socket: SocketLike | null = null;
  let connected = false;
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | null = null;

  return new Promise<WatchHandle>((resolve, reject) => {
    let settled = false;
    const handle: WatchHandle = {
      get version() {
        return mirror.version;
      },
      get connected() {
        return connected;
      },
      close() {
        closed = true;
        if (timer) clearTimeout(timer);
        socket?.close();
      },
    };
    const subscribe = (s: SocketLike) =>
      s.send(
        JSON.stringify({
          type: 'subscribe',
          showId,
          ...(mirror.hasMap ? { fromVersion: mirror.version, layoutVersion: mirror.layoutVersion } : {}),
        }),
      );
    const fail = (err: SeatClientError) => {
      if (!settled) {
        settled = true;
        handle.close();
        reject(err);
      } else opts.onError?.(err);
    };
    const connect = () => {
      if (closed) return;
      const s = open(wsUrl);
      socket = s;
      s.onopen = () => {
        connected = true;
        subscribe(s);
      };
      s.onmessage = (ev) => {
        let frame: { type?: string; showId?: string; code?: string; message?: string };
        try {
          frame = JSON.parse(String(ev.data));
        } catch {
          return;
        }
        if (frame.showId !== undefined && frame.showId !== showId) return;
        if (frame.type === 'snapshot' || frame.type === 'delta') {
          const outcome = mirror.apply(frame as SnapshotFrame | DeltaFrame);
          if (outcome === 'gap') return subscribe(s);
          if (outcome !== 'changed') return;
          backoff = firstBackoff;
          onMap(mirror.map());
          if (!settled) {
            settled = true;
            resolve(handle);
          }
        } else if (frame.type === 'error' && frame.code) {
          fail(new SeatClientError(frame.code as SeatClientError['code'], frame.message ?? frame.code, 0, frame as object));
        }
      };
      s.onerror = () => {};
      s.onclose = () => {
        connected = false;
        if (closed) return;
        opts.onError?.(new SeatClientError('NETWORK', 'the seat-map socket closed; reconnecting', 0));
        timer = setTimeout(connect, backoff);
        backoff = Math.min(backoff * 2, maxBackoff);
      };
    };
    connect();
  });
}
