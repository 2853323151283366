import { readFileSync } from 'node:fs';
import WebSocket from 'ws';

/**
 * Sampling CPU profiles of another node process over its inspector (started with
 * `--inspect=127.0.0.1:0`), for a window the bench chooses, and the profile's self time
 * folded by the project folder that did the work. Nothing in the profiled program changes,
 * so one bench profiles any checkout the same way.
 */

/** The inspector's WebSocket URL from a process's stderr line, if this is that line. */
export function inspectorUrlOf(line: string): string | null {
  const m = /Debugger listening on (ws:\/\/\S+)/.exec(line);
  return m ? (m[1] as string) : null;
}

interface CallFrame {
  functionName: string;
  url: string;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** One inspector session: start a profile, stop it, close. */
export class InspectorProfiler {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: any): void; reject(e: Error): void }>();

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: { message: string } };
      if (msg.id === undefined) return;
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error) p.reject(new Error(msg.error.message));
      else p.resolve(msg.result);
    });
  }

  static async connect(url: string): Promise<InspectorProfiler> {
    const ws = new WebSocket(url, { maxPayload: 1024 * 1024 * 1024 });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const p = new InspectorProfiler(ws);
    await p.call('Profiler.enable');
    return p;
  }

  private call<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Starts sampling every `intervalUs` microseconds. */
  async start(intervalUs: number): Promise<void> {
    await this.call('Profiler.setSamplingInterval', { interval: intervalUs });
    await this.call('Profiler.start');
  }

  async stop(): Promise<CpuProfile> {
    const r = await this.call<{ profile: CpuProfile }>('Profiler.stop');
    return r.profile;
  }

  close(): void {
    this.ws.close();
  }
}

/**
 * Which part of the system a sample belongs to: the innermost frame of the stack that lies in
 * the project's src/<folder>/ names the folder (a library or a built-in called from there
 * counts for its caller: zod for the gateway's validation, JSON.stringify for whoever
 * serializes). A stack with no project frame is a library's own callback (`lib nats`), node's
 * own work (`node:http`/`node:net` callbacks: parsing requests, writing sockets), or GC and
 * idle, kept apart. A write syscall at the leaf gets ` [write]` after its bucket.
 */
export function bucketOf(stack: CallFrame[], root: string): string {
  const src = `${root.replace(/\/$/, '')}/src/`;
  const leaf = stack[stack.length - 1];
  // Write syscalls made on the main thread (a socket write on loopback also runs the reader's TCP receive).
  const suffix = leaf && leaf.url === '' && SOCKET_WRITES.has(leaf.functionName) ? ' [write]' : '';
  for (let i = stack.length - 1; i >= 0; i--) {
    const url = (stack[i] as CallFrame).url.replace(/^file:\/\//, '');
    if (url.startsWith(src)) {
      const rest = url.slice(src.length);
      const slash = rest.indexOf('/');
      return (slash < 0 ? `src/${rest}` : `src/${rest.slice(0, slash)}`) + suffix;
    }
  }
  if (!leaf) return '(other)';
  // No project frame: a library's own callback (the nats client reading its socket, pg parsing a reply).
  for (let i = stack.length - 1; i >= 0; i--) {
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec((stack[i] as CallFrame).url);
    if (m) return `lib ${m[1]}${suffix}`;
  }
  if (leaf.functionName === '(garbage collector)') return '(gc)';
  if (leaf.functionName === '(idle)') return '(idle)';
  if (leaf.functionName === '(program)') return '(program)';
  for (let i = stack.length - 1; i >= 0; i--) {
    const url = (stack[i] as CallFrame).url;
    if (url.startsWith('node:'))
      return (
        (url.startsWith('node:internal/http') || url.includes('_http_') || url.includes('net') || url.includes('stream')
          ? 'node http/net'
          : 'node (other)') + suffix
      );
  }
  return '(other)';
}

/** Native frames that write a socket or file from the main thread. */
const SOCKET_WRITES = new Set(['writev', 'writeLatin1String', 'writeUtf8String', 'writeAsciiString', 'writeUcs2String', 'writeBuffer']);

/**
 * Microseconds per bucket over the profile (idle left out). Samples measure the main thread's
 * time, not CPU time: use the shares, scaled by the thread's CPU from /proc.
 */
export function foldProfile(profile: CpuProfile, root: string): Record<string, number> {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const bucketCache = new Map<number, string>();
  const bucketOfNode = (id: number): string => {
    const hit = bucketCache.get(id);
    if (hit !== undefined) return hit;
    const stack: CallFrame[] = [];
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur))
      stack.unshift((byId.get(cur) as ProfileNode).callFrame);
    const b = bucketOf(stack, root);
    bucketCache.set(id, b);
    return b;
  };
  const out: Record<string, number> = {};
  // timeDeltas[i] is the time before sample i; the time a sample stands for is the next delta.
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i + 1] ?? 0;
    const b = bucketOfNode(profile.samples[i] as number);
    if (b === '(idle)') continue;
    out[b] = (out[b] ?? 0) + dt;
  }
  return out;
}

/** utime + stime of one thread (`/proc/<pid>/task/<tid>/stat`), seconds; the main thread's tid is the pid. */
export function threadCpuSec(pid: number, tid: number, ticksPerSecond: number): number {
  try {
    const raw = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const fields = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return NaN;
  }
}
