import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A bench child process (node --import tsx) driven by request/reply messages over IPC. */
export interface Child {
  proc: ChildProcess;
  /** The first message the child sends once it is up. */
  hello: Record<string, any>;
  ask(cmd: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<Record<string, any>>;
  stop(): Promise<void>;
}

export async function spawnChild(script: string, args: Record<string, unknown> = {}): Promise<Child> {
  const path = fileURLToPath(new URL(script, import.meta.url));
  const proc = fork(path, [JSON.stringify(args)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
  });
  const pending = new Map<number, (m: Record<string, any>) => void>();
  let seq = 0;
  const hello = await new Promise<Record<string, any>>((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`${script} exited with ${code} before it was ready`)));
    proc.on('message', (m: Record<string, any>) => {
      if (m.id === 0) resolve(m);
      else pending.get(m.id)?.(m);
    });
  });
  proc.removeAllListeners('exit');
  return {
    proc,
    hello,
    ask: (cmd, a = {}, timeoutMs = 120_000) =>
      new Promise((resolve, reject) => {
        const id = ++seq;
        const timer = setTimeout(() => reject(new Error(`${script}: no answer to ${cmd}`)), timeoutMs);
        pending.set(id, (m) => {
          clearTimeout(timer);
          pending.delete(id);
          resolve(m);
        });
        proc.send({ id, cmd, ...a });
      }),
    stop: async () => {
      if (proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

/** In a child: answers the parent's requests with `handlers[cmd]`, and says hello. */
export function serveParent(hello: Record<string, unknown>, handlers: Record<string, (m: Record<string, any>) => unknown>): void {
  process.on('message', (m: Record<string, any>) => {
    void Promise.resolve(handlers[m.cmd]?.(m)).then((body) => process.send?.({ id: m.id, ...(body as object) }));
  });
  process.send?.({ id: 0, ...hello });
}

/** CPU time of this process since `since`, as a percentage of one core over `wallMs`. */
export function cpuPercent(since: NodeJS.CpuUsage, wallMs: number): number {
  const d = process.cpuUsage(since);
  return Math.round(((d.user + d.system) / 1000 / wallMs) * 1000) / 10;
}
