import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A nats-server with JetStream of the test's own, on a free port, storing in a temp dir: fault
 * tests kill and restart it (same port, same store, so streams survive) without touching the
 * shared server.
 */
export interface PrivateNats {
  url: string;
  /** SIGKILLs the server (clients see their connection drop). */
  kill(): Promise<void>;
  /** Starts it again on the same port and store (no-op while it runs); resolves once it accepts connections. */
  start(): Promise<void>;
  /** Kills it and removes its store. */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject).listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function startPrivateNats(): Promise<PrivateNats> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'seats-nats-'));
  let proc: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  const start = async () => {
    if (proc && proc.exitCode === null && proc.signalCode === null) return; // running already
    const p = spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir], { stdio: 'ignore' });
    proc = p;
    exited = new Promise((resolve) => p.once('exit', () => resolve()));
    const deadline = Date.now() + 10_000;
    while (!(await accepts(port))) {
      if (p.exitCode !== null || Date.now() > deadline) throw new Error(`nats-server on ${port} did not start`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const kill = async () => {
    if (proc && proc.exitCode === null) {
      proc.kill('SIGKILL');
      await exited;
    }
    proc = null;
  };
  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    kill,
    start,
    stop: async () => {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
