import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HoldTokens } from '../../src/service/hold-tokens.ts';
import { newId } from '../../src/service/random-ids.ts';

const SECRET = 'hold-token-test-secret-0123456789';

/** Every token with one character changed to another base64url character. */
function tampered(token: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < token.length; i++) {
    const c = token[i] === 'A' ? 'B' : 'A';
    out.push(token.slice(0, i) + c + token.slice(i + 1));
  }
  return out;
}

describe('hold and booking tokens', () => {
  const tokens = new HoldTokens(SECRET);

  it('a hold token verifies for its show and hold, and is the same when issued again (a retried hold)', () => {
    const hold = newId('h');
    const token = tokens.issue('s1', hold);
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(tokens.issue('s1', hold), token);
    assert.equal(tokens.verify('s1', hold, token), true);
    assert.equal(new HoldTokens(SECRET).verify('s1', hold, token), true, 'another node with the same secret');
  });

  it('refuses a tampered token at every position, a truncated or extended one, and another hold or show', () => {
    const hold = newId('h');
    const token = tokens.issue('s1', hold);
    for (const t of tampered(token)) assert.equal(tokens.verify('s1', hold, t), false, t);
    assert.equal(tokens.verify('s1', hold, token.slice(0, -1)), false);
    assert.equal(tokens.verify('s1', hold, `${token}A`), false);
    assert.equal(tokens.verify('s1', hold, ''), false);
    assert.equal(tokens.verify('s1', newId('h'), token), false);
    assert.equal(tokens.verify('s2', hold, token), false);
    assert.equal(new HoldTokens('another-secret-0123456789abcdef').verify('s1', hold, token), false);
  });

  it('a booking token never passes for the hold token of the same ids, nor the other way', () => {
    const id = newId('b');
    const booking = tokens.issueBooking('s1', id);
    assert.equal(tokens.verifyBooking('s1', id, booking), true);
    assert.equal(tokens.verify('s1', id, booking), false);
    assert.equal(tokens.verifyBooking('s1', id, tokens.issue('s1', id)), false);
    for (const t of tampered(booking)) assert.equal(tokens.verifyBooking('s1', id, t), false, t);
  });
});
