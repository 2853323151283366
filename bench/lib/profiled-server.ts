import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { benchShowInput } from '../../testkit/shows.ts';
import { inspectorUrlOf } from './cpu-profile.ts';

/**
 * A single-node server started from a checkout's own `src/main.ts` with its inspector open, so
 * a bench can profile any checkout the same way (bench:edge, bench:durable-cpu).
 */
export interface ProfiledServer {
  url: string;
  proc: ChildProcess;
  /** The inspector's WebSocket URL (for InspectorProfiler). */
  inspector: string;
  adminToken: string;
}

/**
 * Spawns `src/main.ts` in `root` on port 0 with `--inspect=127.0.0.1:0` and resolves once both
 * the inspector and the server listen. `env` is merged over a quiet single-node default (its
 * own admin token and hold-token secret, no demo show). Warnings and errors the server logs are
 * echoed to stderr. Rejects if the process cannot start or exits before listening.
 */
export function startProfiledServer(root: string, env: Record<string, string>): Promise<ProfiledServer> {
  const adminToken = randomBytes(18).toString('base64url');
  const proc = spawn(process.execPath, ['--inspect=127.0.0.1:0', '--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      ROLE: 'all',
      PORT: '0',
      GRPC_PORT: '0',
      HOST: '127.0.0.1',
      DEMO_SHOW: '0',
      LOG_LEVEL: 'info',
      ADMIN_TOKEN: adminToken,
      HOLD_TOKEN_SECRET: randomBytes(24).toString('base64url'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolvePromise, reject) => {
    let inspector: string | null = null;
    let url: string | null = null;
    let settled = false;
    const maybeDone = () => {
      if (settled || !inspector || !url) return;
      settled = true;
      resolvePromise({ url, proc, inspector, adminToken });
    };
    createInterface({ input: proc.stderr! }).on('line', (line) => {
      inspector ??= inspectorUrlOf(line);
      maybeDone();
    });
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      try {
        const e = JSON.parse(line) as { url?: string; msg?: string; level?: number };
        if (e.url && e.msg?.startsWith('listening')) url = e.url;
        else if ((e.level ?? 0) >= 40) process.stderr.write(`[server] ${line.slice(0, 300)}\n`);
      } catch {
        // not a log line
      }
      maybeDone();
    });
    const failed = (why: string) => {
      if (settled) return; // 'error' and 'exit' may both come; after listening it is the caller's to stop
      settled = true;
      reject(new Error(`server in ${root} ${why} before listening`));
    };
    proc.once('error', (err) => failed(`failed to start (${err.message})`));
    proc.once('exit', (code) => failed(`exited (${code})`));
  });
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopProfiledServer(s: ProfiledServer, graceMs: number): Promise<void> {
  const exited = new Promise((r) => s.proc.once('exit', r));
  s.proc.kill('SIGTERM');
  const t = setTimeout(() => s.proc.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(t);
}

/** Creates shows `<prefix>-0` … `<prefix>-<count-1>` of `rows` × `perRow` seats, one at a time. */
export async function createBenchShows(s: ProfiledServer, prefix: string, count: number, rows: number, perRow: number): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  for (const id of ids) {
    const r = await fetch(`${s.url}/v1/shows`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(benchShowInput(id, rows, perRow)),
    });
    if (r.status !== 201) throw new Error(`create show ${id}: ${r.status} ${await r.text()}`);
  }
  return ids;
}
