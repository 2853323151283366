import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode, SeatError } from '../../src/errors.ts';
import { errorBody } from '../../src/gateway/http/error-mapping.ts';
import { bodyFingerprint } from '../../src/gateway/http/http-server.ts';

describe('error bodies from a cached head per code', () => {
  it('an error body is byte for byte JSON.stringify({ error: e.toJSON() })', () => {
    const errors = [
      new SeatError(ErrorCode.SEAT_UNAVAILABLE, 'seats are taken', { seats: ['A-1', 'A-2'] }),
      new SeatError(ErrorCode.FORBIDDEN, 'the hold token does not match this hold'),
      new SeatError(ErrorCode.INVALID_ARGUMENT, 'seats: "quoted" \\ problem', { fields: [{ path: 'seats.0', message: 'bad "seat"' }] }),
      new SeatError(ErrorCode.RATE_LIMITED, 'slow down', { retryAfterSeconds: 3 }),
      new SeatError(ErrorCode.PRICE_CHANGED, 'the price changed', { total: 5, currency: 'INR' }),
      // Outside the type, as a JavaScript caller could: dropped as JSON.stringify drops it.
      new SeatError(ErrorCode.HOLD_EXPIRED, 'gone', { seats: undefined } as never),
      new SeatError(ErrorCode.INTERNAL, 'odd', { code: 'X', message: 'overrides' } as never),
    ];
    for (const e of errors) {
      assert.equal(errorBody(e), JSON.stringify({ error: e.toJSON() }));
      assert.equal(errorBody(e), JSON.stringify({ error: e.toJSON() }), 'again, from the cached head');
    }
  });
});

describe('idempotency fingerprints of request bodies', () => {
  it('tell any two bodies apart, short (as they are) or long (digest), and never mix the kinds', () => {
    const bodies = ['', '{}', '{"seats":["A-1"]}', '{"seats":["A-2"]}', 'x'.repeat(43), 'x'.repeat(44), 'y'.repeat(44), 'ü'.repeat(30)];
    const prints = bodies.map((b) => bodyFingerprint(Buffer.from(b)));
    assert.equal(new Set(prints).size, bodies.length);
    for (const [i, b] of bodies.entries()) assert.equal(bodyFingerprint(Buffer.from(b)), prints[i], 'stable');
    // A short body that spells out a long body's fingerprint is still another body.
    const long = Buffer.from('z'.repeat(100));
    const spelled = bodyFingerprint(long).slice(1);
    assert.notEqual(bodyFingerprint(Buffer.from(spelled)), bodyFingerprint(long));
    for (const p of prints) assert.ok(p.length <= 44, 'bounded whatever the body');
  });
});
