import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { EdgeIdentity } from '../../src/gateway/caller.ts';
import { CustomerTokens } from '../../src/gateway/customer-token.ts';
import { checkIdempotencyKey } from '../../src/gateway/edge-rules.ts';

const SECRET = 'unit-customer-token-secret-0123456789';
const NOW = Date.parse('2026-11-27T10:00:00Z');
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return 'ok';
};

describe('customer tokens', () => {
  const tokens = new CustomerTokens(SECRET);
  const exp = NOW / 1000 + 60;

  it('has the documented format: <exp>.<base64url HMAC-SHA256 of "<customerId>.<exp>">', () => {
    const expected = `${exp}.${createHmac('sha256', SECRET).update(`alice.${exp}`).digest('base64url')}`;
    assert.equal(tokens.mint('alice', exp), expected);
  });

  it('accepts a valid token and refuses wrong, expired, malformed and missing ones', () => {
    assert.equal(code(() => tokens.check('alice', tokens.mint('alice', exp), NOW)), 'ok');
    assert.equal(code(() => tokens.check('bob', tokens.mint('alice', exp), NOW)), 'UNAUTHENTICATED');
    assert.equal(code(() => tokens.check('alice', tokens.mint('alice', NOW / 1000), NOW)), 'UNAUTHENTICATED');
    assert.equal(code(() => tokens.check('alice', new CustomerTokens('y'.repeat(32)).mint('alice', exp), NOW)), 'UNAUTHENTICATED');
    const [e, mac] = tokens.mint('alice', exp).split('.');
    assert.equal(code(() => tokens.check('alice', `${Number(e) + 1}.${mac}`, NOW)), 'UNAUTHENTICATED', 'a stretched expiry');
    for (const bad of [undefined, '', 'x', `${e}.`, `.${mac}`, `${e}.${mac}x`])
      assert.equal(code(() => tokens.check('alice', bad, NOW)), 'UNAUTHENTICATED', String(bad));
  });

  it('refuses a secret shorter than 32 characters', () => {
    assert.throws(() => new CustomerTokens('short'));
  });
});

describe('the caller a door establishes', () => {
  it('is the client address, plus the customerId when one is given, without tokens', () => {
    const id = new EdgeIdentity({ trustedProxies: ['10.0.0.1'] });
    assert.equal(id.caller({ peer: '203.0.113.5', forwardedFor: '1.2.3.4' }), 'address:203.0.113.5');
    assert.equal(id.caller({ peer: '10.0.0.1', forwardedFor: '1.2.3.4' }), 'address:1.2.3.4');
    assert.equal(id.caller({ peer: '::ffff:203.0.113.5', forwardedFor: undefined, customerId: 'alice' }), 'address:203.0.113.5 customer:alice');
  });

  it('is the customer alone with a valid token, whatever the address; needs the token for a customerId', () => {
    const id = new EdgeIdentity({ customerTokenSecret: SECRET });
    const token = new CustomerTokens(SECRET).mint('alice', NOW / 1000 + 60);
    assert.equal(id.caller({ peer: '203.0.113.5', forwardedFor: undefined, customerId: 'alice', customerToken: token }, NOW), 'customer:alice');
    assert.equal(id.caller({ peer: '198.51.100.1', forwardedFor: undefined, customerId: 'alice', customerToken: token }, NOW), 'customer:alice');
    assert.equal(code(() => id.caller({ peer: '203.0.113.5', forwardedFor: undefined, customerId: 'alice' }, NOW)), 'UNAUTHENTICATED');
    assert.equal(id.caller({ peer: '203.0.113.5', forwardedFor: undefined }, NOW), 'address:203.0.113.5');
  });
});

describe('idempotency keys', () => {
  it('are 16-128 printable ASCII characters', () => {
    for (const ok of ['a'.repeat(16), 'a'.repeat(128), '0f8fad5b-d9cb-469f-a165-70867728950e', 'order 42 / try #1!'])
      assert.equal(checkIdempotencyKey(ok, 'key'), ok);
    assert.equal(checkIdempotencyKey(undefined, 'key'), undefined);
    for (const bad of ['', 'k', 'a'.repeat(15), 'a'.repeat(129), 'caf\u00e9-0123456789abcdef', 'tab\there-0123456789', ['a'.repeat(16)]])
      assert.equal(code(() => checkIdempotencyKey(bad, 'key')), 'INVALID_ARGUMENT', JSON.stringify(bad));
  });
});
