import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * Environment that switches every edge limit off, for processes that tests and benches drive
 * with many clients from one loopback address. Tests of the limits set their own.
 */
export const EDGE_LIMITS_OFF_ENV: Record<string, string> = {
  RATE_LIMIT_HOLDS_PER_MINUTE: '0',
  RATE_LIMIT_CUSTOMER_HOLDS_PER_MINUTE: '0',
  RATE_LIMIT_GRPC_HOLDS_PER_MINUTE: '0',
  RATE_LIMIT_ADMIN_FAILURES_PER_MINUTE: '0',
  WS_MAX_SOCKETS_PER_ADDRESS: '0',
  GRPC_MAX_WATCH_STREAMS_PER_ADDRESS: '0',
};

export interface SpawnedServer {
  url: string;
  proc: ChildProcess;
  /** Resolves with the exit code (or signal) once the process is gone. */
  exited: Promise<number | NodeJS.Signals | null>;
  kill(signal?: NodeJS.Signals): Promise<number | NodeJS.Signals | null>;
}

/**
 * Starts `src/main.ts` (or `args`) as a real process on port 0 and resolves once it logs where it
 * listens. Extra env is merged over a quiet default; output lines go to `onLine`.
 */
export function spawnServer(
  env: Record<string, string>,
  onLine: (line: string) => void = () => {},
  /** Node arguments: the TypeScript sources by default; `['dist/main.js']` for the build. */
  args: string[] = ['--import', 'tsx', 'src/main.ts'],
): Promise<SpawnedServer> {
  const proc = spawn(process.execPath, args, {
    // Edge limits off unless `env` sets them: tests drive many holds from one loopback address.
    env: {
      ...process.env,
      PORT: '0',
      GRPC_PORT: '0',
      HOST: '127.0.0.1',
      DEMO_SHOW: '0',
      LOG_LEVEL: 'info',
      ...EDGE_LIMITS_OFF_ENV,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => proc.once('exit', (code, signal) => resolve(code ?? signal)));
  const stderr: string[] = [];
  proc.stderr?.on('data', (d: Buffer) => stderr.push(d.toString()));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: proc.stdout! });
    let started = false;
    lines.on('line', (line) => {
      onLine(line);
      if (started) return;
      try {
        const entry = JSON.parse(line) as { url?: string; msg?: string };
        if (entry.url && entry.msg?.startsWith('listening')) {
          started = true;
          resolve({
            url: entry.url,
            proc,
            exited,
            kill: (signal = 'SIGKILL') => {
              proc.kill(signal);
              return exited;
            },
          });
        }
      } catch {
        // not a log line
      }
    });
    void exited.then((code) => {
      if (!started) reject(new Error(`server exited (${String(code)}) before listening: ${stderr.join('').slice(-2000)}`));
    });
  });
}
