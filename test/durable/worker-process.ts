import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { DurableTestEnv } from './support.ts';

const WORKER = fileURLToPath(new URL('./fixtures/seat-worker.ts', import.meta.url));

/** A seat-worker child process and the lines it has reported so far. */
export interface WorkerProcess {
  child: ChildProcess;
  lines: string[];
  stderr: string[];
  /** Resolves with the first line matching `pred` (or rejects if the process exits first / on timeout). */
  waitFor(pred: (lines: string[]) => boolean, timeoutMs?: number): Promise<void>;
  kill(): Promise<void>;
}

export function startWorker(env: DurableTestEnv, vars: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
    env: { ...process.env, LOG_LEVEL: 'silent', DURABLE_ENV: JSON.stringify({ config: env.config, options: env.options }), ...vars },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const stderr: string[] = [];
  const waiters = new Set<() => void>();
  let exited = false;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const w of [...waiters]) w();
  });
  child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      for (const w of [...waiters]) w();
      resolve();
    }),
  );
  return {
    child,
    lines,
    stderr,
    waitFor: (pred, timeoutMs = 30_000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`worker: timed out; stderr: ${stderr.join('')}`));
        }, timeoutMs);
        const check = () => {
          if (pred(lines)) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve();
          } else if (exited) {
            clearTimeout(timer);
            waiters.delete(check);
            reject(new Error(`worker exited early (code ${child.exitCode}); stderr: ${stderr.join('')}`));
          }
        };
        waiters.add(check);
        check();
      }),
    kill: async () => {
      if (!exited) child.kill('SIGKILL');
      await exit;
    },
  };
}
