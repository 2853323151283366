import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Attempt } from '../../testkit/chaos/customers.ts';
import { summarize } from '../../testkit/chaos/summary.ts';

const at = (op: Attempt['op'], startedAt: number, endedAt: number, status: number, code?: string): Attempt => ({
  op,
  showId: 's',
  startedAt,
  endedAt,
  status,
  ...(code ? { code } : {}),
});

describe('chaos summary', () => {
  it('splits attempts by phase, times recovery from heal and counts 4xx as answers', () => {
    const w = { startedAt: 0, injectedAt: 1_000, healedAt: 6_000, settledAt: 11_000 };
    const s = summarize(
      [
        at('hold', 100, 120, 201),
        at('hold', 1_100, 6_100, 504, 'DEADLINE_EXCEEDED'),
        at('confirm', 2_000, 2_300, 503, 'UNAVAILABLE'),
        at('hold', 3_000, 3_010, 409, 'SEAT_UNAVAILABLE'),
        at('confirm', 6_100, 6_400, 503, 'UNAVAILABLE'),
        at('hold', 7_500, 7_520, 201),
        at('release', 8_000, 8_010, 204),
        at('confirm', 9_000, 9_010, 404, 'HOLD_NOT_FOUND'),
      ],
      w,
    );
    assert.deepEqual(s.before, { attempts: 1, errors: 0, okPerSec: 1, errorPct: 0 });
    assert.equal(s.during.attempts, 3);
    assert.equal(s.during.errors, 2);
    assert.equal(s.duringHolds.errorPct, 50);
    assert.equal(s.duringConfirms.errorPct, 100);
    assert.equal(s.failLatencyP50Ms, 300);
    assert.equal(s.recoverMs, 400);
    assert.equal(s.holdRecoverMs, 100);
    assert.equal(s.confirmRecoverMs, 400);
    assert.deepEqual(s.after, { attempts: 3, errors: 0, okPerSec: 0.5, errorPct: 0 });
    assert.equal(s.wrongAnswers, 1);
    assert.deepEqual(s.codes, { DEADLINE_EXCEEDED: 1, UNAVAILABLE: 2, HOLD_NOT_FOUND: 1 });
  });
});
