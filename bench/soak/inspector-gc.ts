import WebSocket from 'ws';

/**
 * A minimal Chrome DevTools Protocol client for another Node process's inspector. The soak
 * uses it for full garbage collections (HeapProfiler.collectGarbage), so it reads heap and
 * RSS after a collection (sampled at a random point of the GC cycle, a heap's sawtooth hides
 * a slow leak), and for the sampling heap profiler that says where the retained memory was
 * allocated.
 * The server is started with `--inspect=127.0.0.1:<port>` on a port picked here.
 */

export interface Inspector {
  /** One CDP call; resolves with its `result`. */
  send<T = unknown>(method: string, params?: Record<string, unknown>): Promise<T>;
  /** A full garbage collection in the inspected process. */
  collect(): Promise<void>;
  close(): void;
}

const CALL_TIMEOUT_MS = 60_000;

export async function connectInspector(port: number): Promise<Inspector> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`, { signal: AbortSignal.timeout(5000) })).json()) as Array<{
    webSocketDebuggerUrl: string;
  }>;
  const ws = new WebSocket(targets[0].webSocketDebuggerUrl, { maxPayload: 1024 * 1024 * 1024 });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let id = 0;
  const pending = new Map<number, (msg: { result?: unknown; error?: { message: string } }) => void>();
  ws.on('message', (data: Buffer) => {
    const msg = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: { message: string } };
    if (msg.id === undefined) return;
    pending.get(msg.id)?.(msg);
    pending.delete(msg.id);
  });
  const send = <T>(method: string, params: Record<string, unknown> = {}) =>
    new Promise<T>((resolve, reject) => {
      const n = ++id;
      const timer = setTimeout(() => {
        pending.delete(n);
        reject(new Error(`inspector did not answer ${method} within ${CALL_TIMEOUT_MS / 1000} s`));
      }, CALL_TIMEOUT_MS);
      pending.set(n, (msg) => {
        clearTimeout(timer);
        if (msg.error) reject(new Error(`${method}: ${msg.error.message}`));
        else resolve(msg.result as T);
      });
      ws.send(JSON.stringify({ id: n, method, params }));
    });
  return {
    send,
    collect: () => send('HeapProfiler.collectGarbage').then(() => undefined),
    close: () => ws.close(),
  };
}
