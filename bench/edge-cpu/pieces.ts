/**
 * The edge's per-request pieces that changed, timed in process and side by side: each
 * checkout's own code (imported from its src/), alternating, median of the rounds. A whole
 * request's CPU on a busy 2-core box varies by more than these pieces add up to; timed alone,
 * their difference is plain.
 *
 *   node --import tsx bench/edge-cpu/pieces.ts [--checkouts /work/main,.] [--rounds 5] [--n 200000]
 *     [--out bench/results/edge-cpu-pieces.json]
 */
import { createHash } from 'node:crypto';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { intArg, listArg, parseCli } from '../lib/args.ts';
import { writeResults } from '../lib/results.ts';
import { formatNumber, renderTable } from '../lib/table.ts';

const args = parseCli({ checkouts: { type: 'string' }, rounds: { type: 'string' }, n: { type: 'string' }, out: { type: 'string' } });
const CHECKOUTS = listArg(args.checkouts, 'checkouts', ['/work/main', '.']).map((p) => resolve(p));
const ROUNDS = intArg(args.rounds, 'rounds', 5, 1);
const N = intArg(args.n, 'n', 200_000, 1000);

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
    fingerprint: typeof server.bodyFingerprint === 'function' ? server.bodyFingerprint : (raw: Buffer) => createHash('sha256').update(raw).digest('base64url'),
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
const loaded = new Map<string, Pieces>();
for (const root of CHECKOUTS) loaded.set(root, await load(root));
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
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const rows = names.map((name) => [name, ...CHECKOUTS.map((c) => formatNumber(median(samples[c]![name]!) / 1000, 3))]);
console.log(renderTable(['µs per call (median)', ...CHECKOUTS], rows));
console.log(`\nload average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
const path = writeResults(
  'edge-cpu-pieces',
  { at: new Date().toISOString(), rounds: ROUNDS, n: N, loadAverage: loadavg(), medianNs: Object.fromEntries(CHECKOUTS.map((c) => [c, Object.fromEntries(names.map((k) => [k, median(samples[c]![k]!)]))])), samples },
  typeof args.out === 'string' ? args.out : undefined,
);
console.log(`wrote ${path}`);
