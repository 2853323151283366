import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface SpawnedServer {
  url: string;
  proc: ChildProcess;
  /** Resolves with the exit code (or signal) once the process is gone. */
  exited: Promise<number | NodeJS.Signals | null>;
  kill(signal?: NodeJS.Signals): Promise<number | NodeJS.Signals | null>;
}

/**
 * Starts `src/main.ts` as a real process on port 0 and resolves once it logs where it
 * listens. Extra env is merged over a quiet default; output lines go to `onLine`.
 */
export function spawnServer(env: Record<string, string>, onLine: (line: string) => void = () => {}): Promise<SpawnedServer> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, PORT: '0', GRPC_PORT: '0', HOST: '127.0.0.1', DEMO_SHOW: '0', LOG_LEVEL: 'info', ...env },
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
