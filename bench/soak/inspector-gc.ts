import { createServer } from 'node:net';
import WebSocket from 'ws';

/**
 * Full garbage collections of another Node process through its inspector (Chrome DevTools
 * Protocol, HeapProfiler.collectGarbage), so the soak reads heap and RSS after a collection:
 * sampled at a random point of the GC cycle, a heap's sawtooth hides a slow leak.
 * The server is started with `--inspect=127.0.0.1:<port>` on a port picked here.
 */

/** A port that was free a moment ago (the inspector binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface RemoteGc {
  collect(): Promise<void>;
  close(): void;
}

export async function connectInspector(port: number): Promise<RemoteGc> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`, { signal: AbortSignal.timeout(5000) })).json()) as Array<{ webSocketDebuggerUrl: string }>;
  const ws = new WebSocket(targets[0].webSocketDebuggerUrl);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let id = 0;
  const pending = new Map<number, () => void>();
  ws.on('message', (data: Buffer) => {
    const msg = JSON.parse(data.toString()) as { id?: number };
    if (msg.id !== undefined) pending.get(msg.id)?.();
    if (msg.id !== undefined) pending.delete(msg.id);
  });
  return {
    collect: () =>
      new Promise<void>((resolve, reject) => {
        const n = ++id;
        const timer = setTimeout(() => {
          pending.delete(n);
          reject(new Error('inspector did not answer collectGarbage within 30 s'));
        }, 30_000);
        pending.set(n, () => {
          clearTimeout(timer);
          resolve();
        });
        ws.send(JSON.stringify({ id: n, method: 'HeapProfiler.collectGarbage' }));
      }),
    close: () => ws.close(),
  };
}
