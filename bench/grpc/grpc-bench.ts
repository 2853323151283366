/**
 * bench/grpc — unary Hold/Release pairs against the real gRPC server, beside a bare
 * grpc-js echo server as the ceiling: same message sizes, same client channel options, the
 * same number of calls in flight, in the same run. Both servers run in child processes;
 * this process is the client.
 *
 * Each side gets --duration seconds in total, measured in --rounds alternating slices.
 *
 * With --grpc, the SeatInventory side targets a running gateway instead of a child. The
 * command line is run.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { CLIENT_CHANNEL_OPTIONS, LOADER_OPTIONS, SEATS_PROTO_PATH } from '../../src/gateway/grpc/index.ts';
import { Histogram } from '../../testkit/histogram.ts';
import { readProcStat } from '../lib/proc-cpu.ts';
import { writeResults } from '../lib/results.ts';
import { formatNumber, renderTable } from '../lib/table.ts';

export interface GrpcBenchOptions {
  /** Seconds per side in total, measured in `rounds` alternating slices. */
  durationSec: number;
  warmupSec: number;
  inFlight: number;
  rounds: number;
  /** A running gateway's gRPC address (host:port) and admin token instead of a child server. */
  grpc?: string | undefined;
  adminToken?: string | undefined;
  out?: string | undefined;
}

const CALL_DEADLINE_MS = 10_000;

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const seatsPkg = grpc.loadPackageDefinition(protoLoader.loadSync(SEATS_PROTO_PATH, LOADER_OPTIONS)) as any;
const echoPkg = grpc.loadPackageDefinition(
  protoLoader.loadSync(here('./echo.proto'), { keepCase: true, longs: Number, defaults: true }),
) as any;
const SeatInventory: grpc.ServiceClientConstructor = seatsPkg.seats.v1.SeatInventory;
const Echo: grpc.ServiceClientConstructor = echoPkg.bench.v1.Echo;

type Unary = (client: any, method: string, request: object, metadata?: grpc.Metadata) => Promise<any>;
const unary: Unary = (client, method, request, metadata = new grpc.Metadata()) =>
  new Promise((resolve, reject) =>
    client[method](request, metadata, { deadline: Date.now() + CALL_DEADLINE_MS }, (err: Error | null, reply: unknown) =>
      err ? reject(err) : resolve(reply),
    ),
  );

/** Starts a bench server child (`node --import tsx file`) and reads its {"port"} line. */
async function spawnServer(file: string): Promise<{ child: ChildProcess; port: number; adminToken?: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', here(file)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code} before listening`)));
  });
  lines.close();
  return { child, ...(JSON.parse(first) as { port: number; adminToken?: string }) };
}

function stopServer(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

interface Phase {
  calls: number;
  errors: number;
  seconds: number;
  hist: Histogram;
  clientCpuS: number;
  serverCpuS: number | null;
}

const newPhase = (serverPid: number | undefined): Phase & { serverPid: number | undefined } => ({
  calls: 0,
  errors: 0,
  seconds: 0,
  hist: new Histogram(),
  clientCpuS: 0,
  serverCpuS: serverPid ? 0 : null,
  serverPid,
});

/** Never reused across slices: idempotency keys are built from it. */
let nextSeq = 0;

type Pair = (worker: number, seq: number, time: <T>(p: Promise<T>) => Promise<T>) => Promise<void>;

export async function run(opts: GrpcBenchOptions): Promise<void> {
  const { durationSec: DURATION_S, warmupSec: WARMUP_S, inFlight: IN_FLIGHT, rounds: ROUNDS } = opts;
  /**
   * Runs IN_FLIGHT workers, each issuing one pair (two calls) after another, for `seconds`;
   * adds what it saw to `into` unless `into` is null (warm-up). Calls still in flight when
   * the window closes finish unrecorded.
   */
  async function slice(pair: Pair, seconds: number, into: ReturnType<typeof newPhase> | null): Promise<void> {
    let recording = into !== null;
    let stopping = false;
    const time = async <T>(p: Promise<T>): Promise<T> => {
      const t0 = performance.now();
      let failed = false;
      try {
        return await p;
      } catch (err) {
        failed = true;
        throw err;
      } finally {
        if (recording && into) {
          into.calls++;
          if (failed) into.errors++;
          into.hist.recordMs(performance.now() - t0);
        }
      }
    };
    const cpu0 = process.cpuUsage();
    const server0 = into?.serverPid ? readProcStat(into.serverPid)?.cpuSec : undefined;
    const t0 = performance.now();
    const workers = Array.from({ length: IN_FLIGHT }, async (_, w) => {
      while (!stopping) await pair(w, nextSeq++, time).catch(() => undefined);
    });
    await new Promise((r) => setTimeout(r, seconds * 1000));
    recording = false;
    stopping = true;
    if (into) {
      into.seconds += (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      into.clientCpuS += (cpu.user + cpu.system) / 1e6;
      const server1 = into.serverPid ? readProcStat(into.serverPid)?.cpuSec : undefined;
      if (into.serverCpuS !== null)
        into.serverCpuS = server0 !== undefined && server1 !== undefined ? into.serverCpuS + server1 - server0 : null;
    }
    await Promise.all(workers);
  }

  const rowLabel = (r: number) => (r < 26 ? String.fromCharCode(65 + r) : `R${r + 1}`);

  async function main(): Promise<void> {
    const children: ChildProcess[] = [];
    try {
      // ---- SeatInventory target: a child server, or a running gateway.
      let target: string;
      let adminToken: string;
      let seatPid: number | undefined;
      if (opts.grpc) {
        if (!opts.adminToken) throw new Error('--grpc needs --admin-token');
        target = opts.grpc;
        adminToken = opts.adminToken;
      } else {
        const s = await spawnServer('./seat-server.ts');
        children.push(s.child);
        target = `127.0.0.1:${s.port}`;
        adminToken = s.adminToken!;
        seatPid = s.child.pid;
      }
      const seats = new SeatInventory(target, grpc.credentials.createInsecure(), CLIENT_CHANNEL_OPTIONS);
      const showId = `bench-grpc-${Date.now().toString(36)}`;
      const admin = new grpc.Metadata();
      admin.set('authorization', `Bearer ${adminToken}`);
      await unary(
        seats,
        'CreateShow',
        {
          id: showId,
          title: 'gRPC bench',
          city: 'Bench',
          venue: 'Loopback',
          starts_at: '2030-01-01T19:30:00+00:00',
          categories: [{ id: 'std', price: 10000, currency: 'EUR' }],
          // One row per worker: workers never contend, so every call does the full work.
          layout: {
            sections: [
              { id: 'main', rows: Array.from({ length: IN_FLIGHT }, (_, r) => ({ label: rowLabel(r), seats: 4, category: 'std' })) },
            ],
          },
          limits: { hold_ttl_seconds: 600 },
        },
        admin,
      );

      const holdRequest = (w: number, seq: number) => ({
        show_id: showId,
        seats: [`${rowLabel(w)}-1`, `${rowLabel(w)}-2`],
        customer_id: `bench-${w}`,
        idempotency_key: `bench-hold-${w}-${seq}`.padEnd(16, '-'),
      });
      const releaseRequest = (w: number, seq: number, hold: { hold_id: string; hold_token: string }) => ({
        show_id: showId,
        hold_id: hold.hold_id,
        hold_token: hold.hold_token,
        idempotency_key: `bench-release-${w}-${seq}`.padEnd(16, '-'),
      });

      // ---- Message sizes of one real pair, for the echo ceiling.
      const sampleHold = await unary(seats, 'Hold', holdRequest(0, -1));
      await unary(seats, 'Release', releaseRequest(0, -1, sampleHold));
      const m = (SeatInventory as any).service;
      const sizes = {
        holdRequest: m.Hold.requestSerialize(holdRequest(99, 99_999)).length,
        holdReply: m.Hold.responseSerialize(sampleHold).length,
        releaseRequest: m.Release.requestSerialize(releaseRequest(99, 99_999, sampleHold)).length,
        releaseReply: 0,
      };

      // ---- The ceiling: bare grpc-js echo with the same sizes.
      const e = await spawnServer('./echo-server.ts');
      children.push(e.child);
      const echo = new Echo(`127.0.0.1:${e.port}`, grpc.credentials.createInsecure(), CLIENT_CHANNEL_OPTIONS);
      // Padding minus the few bytes of field tags and lengths, so the wire sizes match.
      const pad = (n: number) => Buffer.alloc(Math.max(0, n - 6), 1);
      const echoHold = { payload: pad(sizes.holdRequest), reply_bytes: Math.max(0, sizes.holdReply - 3) };
      const echoRelease = { payload: pad(sizes.releaseRequest), reply_bytes: 0 };

      process.stderr.write(
        `bench/grpc: ${IN_FLIGHT} in flight, ${WARMUP_S}s warm-up + ${DURATION_S}s each in ${ROUNDS} alternating rounds, ${cpus().length} cpus\n`,
      );
      const echoPair: Pair = async (_w, _seq, time) => {
        await time(unary(echo, 'Echo', echoHold));
        await time(unary(echo, 'Echo', echoRelease));
      };
      const seatPair: Pair = async (w, seq, time) => {
        const hold = await time(unary(seats, 'Hold', holdRequest(w, seq)));
        await time(unary(seats, 'Release', releaseRequest(w, seq, hold)));
      };
      // Alternating rounds: load from other processes on the box hits both sides alike.
      const ceiling = newPhase(e.child.pid);
      const real = newPhase(seatPid);
      await slice(echoPair, WARMUP_S, null);
      await slice(seatPair, WARMUP_S, null);
      for (let r = 0; r < ROUNDS; r++) {
        await slice(echoPair, DURATION_S / ROUNDS, ceiling);
        await slice(seatPair, DURATION_S / ROUNDS, real);
      }
      echo.close();
      seats.close();

      const row = (name: string, p: Phase, ratio: number | null) => [
        name,
        formatNumber(p.calls / p.seconds),
        formatNumber(p.calls / p.seconds / 2),
        formatNumber(p.hist.quantileMs(0.5), 2),
        formatNumber(p.hist.quantileMs(0.99), 2),
        p.errors,
        formatNumber(p.clientCpuS / p.seconds, 2),
        p.serverCpuS === null ? '-' : formatNumber(p.serverCpuS / p.seconds, 2),
        ratio === null ? '1.00' : formatNumber(ratio, 2),
      ];
      const ratio = real.calls / real.seconds / (ceiling.calls / ceiling.seconds);
      process.stdout.write(
        `${renderTable(
          ['target', 'calls/s', 'pairs/s', 'p50 ms', 'p99 ms', 'errors', 'client cpu', 'server cpu', 'vs ceiling'],
          [row('grpc-js echo (ceiling)', ceiling, null), row('SeatInventory Hold+Release', real, ratio)],
        )}\n`,
      );
      const summary = (p: Phase) => ({
        calls: p.calls,
        errors: p.errors,
        seconds: Number(p.seconds.toFixed(3)),
        callsPerSecond: Math.round(p.calls / p.seconds),
        p50Ms: Number(p.hist.quantileMs(0.5).toFixed(3)),
        p99Ms: Number(p.hist.quantileMs(0.99).toFixed(3)),
        clientCpuCores: Number((p.clientCpuS / p.seconds).toFixed(3)),
        serverCpuCores: p.serverCpuS === null ? null : Number((p.serverCpuS / p.seconds).toFixed(3)),
      });
      const path = writeResults(
        'grpc',
        {
          bench: 'grpc',
          at: new Date().toISOString(),
          node: process.version,
          cpus: cpus().length,
          target: opts.grpc ?? 'child process',
          inFlight: IN_FLIGHT,
          warmupSeconds: WARMUP_S,
          durationSeconds: DURATION_S,
          rounds: ROUNDS,
          messageBytes: sizes,
          ceiling: summary(ceiling),
          seatInventory: summary(real),
          ratioToCeiling: Number(ratio.toFixed(3)),
        },
        opts.out,
      );
      process.stderr.write(`wrote ${path}\n`);
    } finally {
      await Promise.all(children.map(stopServer));
    }
  }

  return main();
}
