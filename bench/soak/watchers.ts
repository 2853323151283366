import WebSocket from 'ws';

/**
 * WebSocket watchers of the soak: one socket per watcher, subscribed to one show, applying
 * nothing but the version so a gap is noticed (and answered by resubscribing from the last
 * version, as the protocol asks). Counts frames, bytes, gaps and closes.
 */

export interface WatcherStats {
  sockets: number;
  open: number;
  snapshots: number;
  deltas: number;
  bytes: number;
  resubscribes: number;
  errors: number;
  closes: number;
}

export interface Watchers {
  stats: WatcherStats;
  close(): Promise<void>;
}

export async function openWatchers(wsUrl: string, showIds: string[]): Promise<Watchers> {
  const stats: WatcherStats = {
    sockets: showIds.length,
    open: 0,
    snapshots: 0,
    deltas: 0,
    bytes: 0,
    resubscribes: 0,
    errors: 0,
    closes: 0,
  };
  let closing = false;
  const sockets: WebSocket[] = [];

  const watch = (showId: string) =>
    new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(wsUrl);
      sockets.push(ws);
      let version = -1;
      ws.once('open', () => {
        stats.open++;
        ws.send(JSON.stringify({ type: 'subscribe', showId }));
      });
      ws.on('message', (data: Buffer) => {
        stats.bytes += data.length;
        const frame = JSON.parse(data.toString()) as { type: string; version?: number; fromVersion?: number };
        if (frame.type === 'snapshot') {
          stats.snapshots++;
          version = frame.version ?? version;
          resolve();
        } else if (frame.type === 'delta') {
          stats.deltas++;
          if (frame.fromVersion! > version && version >= 0) {
            stats.resubscribes++;
            ws.send(JSON.stringify({ type: 'subscribe', showId, fromVersion: version }));
          } else if (frame.version! > version) version = frame.version!;
        } else if (frame.type === 'error') stats.errors++;
      });
      ws.once('error', (err) => {
        stats.errors++;
        reject(err);
      });
      ws.once('close', () => {
        stats.open--;
        if (!closing) stats.closes++;
      });
    });

  await Promise.all(showIds.map(watch));
  return {
    stats,
    close: async () => {
      closing = true;
      await Promise.all(
        sockets.map(
          (ws) =>
            new Promise<void>((r) => {
              if (ws.readyState === WebSocket.CLOSED) return r();
              ws.once('close', () => r());
              ws.close();
            }),
        ),
      );
    },
  };
}
