/**
 * The edge's per-request pieces that changed, timed in process and side by side: each
 * checkout's own code (imported from its src/), alternating, median of the rounds. A whole
 * request's CPU on a busy 2-core box varies by more than these pieces add up to; timed alone,
 * their difference is plain. A checkout whose code does not load is reported and fails the
 * bench; the others are still timed. The command line is run-pieces.ts.
 */
import { createHash } from 'node:crypto';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { median } from '../../testkit/percentile.ts';
import type { BenchOutcome } from '../lib/cli.ts';
import { Phases } from '../lib/phases.ts';
import { writeResults } from '../lib/results.ts';
import { formatNumber, renderTable } from '../lib/table.ts';

export interface EdgePiecesBenchOptions {
  /** Checkout roots to compare (absolute); each one's src/ is imported. */
  checkouts: string[];
  rounds: number;
  /** Calls per timing. */
  n: number;
  /** Results file (default bench/results/edge-cpu-pieces.json). */
  out?: string | undefined;
}

interface Pieces {
  /** A hold id (and, on confirm, a booking id). */
  newId: () => string;
  /** The idempotency fingerprint of a hold's body. */
  fingerprint: (raw: Buffer) => string;
  /** A 409 SEAT_UNAVAILABLE answer's body. */
  errorBody: () => string;
  /** Checking a hold token that is not even a token's length. */
  verifyMalformed: () => boolean;
}

async function load(root: string): Promise<Pieces> {
  const svc = await import(join(root, 'src/service/local-seat-service.ts'));
  const errs = await import(join(root, 'src/errors.ts'));
  const mapping = await import(join(root, 'src/gateway/http/error-mapping.ts'));
  const server = await import(join(root, 'src/gateway/http/http-server.ts'));
  const tokens = await import(join(root, 'src/service/hold-tokens.ts'));
  const t = new tokens.HoldTokens('pieces-bench-secret-0123456789');
  const err = new errs.SeatError(errs.ErrorCode.SEAT_UNAVAILABLE, 'seats are taken', { seats: ['A-1', 'A-2'] });
  return {
    newId: () => svc.newId('h'),
    // Before: every keyed request hashed its body.
    fingerprint:
      typeof server.bodyFingerprint === 'function'
        ? server.bodyFingerprint
        : (raw: Buffer) => createHash('sha256').update(raw).digest('base64url'),
    errorBody: () => mapping.toHttpError(err).body,
    verifyMalformed: () => t.verify('s1', 'h_x', 'short'),
  };
}

function timeNs(fn: () => unknown, n: number): number {
  for (let i = 0; i < Math.min(n, 20_000); i++) fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return Number(process.hrtime.bigint() - start) / n;
}

const body = Buffer.from('{"seats":["R12-31","R12-32"]}');

export async function run(opts: EdgePiecesBenchOptions): Promise<BenchOutcome> {
  const phases = new Phases();
  const loaded = new Map<string, Pieces>();
  for (const root of opts.checkouts) {
    const p = await phases.run(`load ${root}`, () => load(root));
    if (p) loaded.set(root, p);
  }
  const CHECKOUTS = opts.checkouts.filter((c) => loaded.has(c));
  const { rounds: ROUNDS, n: N } = opts;
  const names = ['newId', 'fingerprint', 'errorBody', 'verifyMalformed'] as const;
  const samples: Record<string, Record<string, number[]>> = {};
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? CHECKOUTS : [...CHECKOUTS].reverse();
    for (const root of order) {
      const p = loaded.get(root) as Pieces;
      const s = (samples[root] ??= {});
      (s.newId ??= []).push(timeNs(p.newId, N));
      (s.fingerprint ??= []).push(timeNs(() => p.fingerprint(body), N));
      (s.errorBody ??= []).push(timeNs(p.errorBody, N));
      (s.verifyMalformed ??= []).push(timeNs(p.verifyMalformed, N));
    }
  }
  const rows = names.map((name) => [name, ...CHECKOUTS.map((c) => formatNumber(median(samples[c]![name]!) / 1000, 3))]);
  console.log(renderTable(['µs per call (median)', ...CHECKOUTS], rows));
  console.log(
    `\nload average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const path = writeResults(
    'edge-cpu-pieces',
    {
      at: new Date().toISOString(),
      rounds: ROUNDS,
      n: N,
      loadAverage: loadavg(),
      failed: phases.failed,
      medianNs: Object.fromEntries(CHECKOUTS.map((c) => [c, Object.fromEntries(names.map((k) => [k, median(samples[c]![k]!)]))])),
      samples,
    },
    opts.out,
  );
  console.log(`wrote ${path}`);
  return { failed: phases.failed };
}
