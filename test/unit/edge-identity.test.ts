import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import pino from 'pino';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { EdgeIdentity } from '../../src/gateway/caller.ts';
import { CustomerTokens } from '../../src/gateway/customer-token.ts';
import { checkIdempotencyKey } from '../../src/service/schemas/edge-rules.ts';
import { peerAddress } from '../../src/gateway/grpc/handlers.ts';
import { createSeatNode } from '../../src/node.ts';
import { openMemoryStorage } from '../../src/persistence/index.ts';
import { showDef } from '../../testkit/shows.ts';

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
    assert.equal(
      code(() => tokens.check('alice', tokens.mint('alice', exp), NOW)),
      'ok',
    );
    assert.equal(
      code(() => tokens.check('bob', tokens.mint('alice', exp), NOW)),
      'UNAUTHENTICATED',
    );
    assert.equal(
      code(() => tokens.check('alice', tokens.mint('alice', NOW / 1000), NOW)),
      'UNAUTHENTICATED',
    );
    assert.equal(
      code(() => tokens.check('alice', new CustomerTokens('y'.repeat(32)).mint('alice', exp), NOW)),
      'UNAUTHENTICATED',
    );
    const [e, mac] = tokens.mint('alice', exp).split('.');
    assert.equal(
      code(() => tokens.check('alice', `${Number(e) + 1}.${mac}`, NOW)),
      'UNAUTHENTICATED',
      'a stretched expiry',
    );
    for (const bad of [undefined, '', 'x', `${e}.`, `.${mac}`, `${e}.${mac}x`])
      assert.equal(
        code(() => tokens.check('alice', bad, NOW)),
        'UNAUTHENTICATED',
        String(bad),
      );
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
    assert.equal(
      id.caller({ peer: '::ffff:203.0.113.5', forwardedFor: undefined, customerId: 'alice' }),
      'address:203.0.113.5 customer:alice',
    );
  });

  it('is the customer alone with a valid token, whatever the address; needs the token for a customerId', () => {
    const id = new EdgeIdentity({ customerTokenSecret: SECRET });
    const token = new CustomerTokens(SECRET).mint('alice', NOW / 1000 + 60);
    assert.equal(
      id.caller({ peer: '203.0.113.5', forwardedFor: undefined, customerId: 'alice', customerToken: token }, NOW),
      'customer:alice',
    );
    assert.equal(
      id.caller({ peer: '198.51.100.1', forwardedFor: undefined, customerId: 'alice', customerToken: token }, NOW),
      'customer:alice',
    );
    assert.equal(
      code(() => id.caller({ peer: '203.0.113.5', forwardedFor: undefined, customerId: 'alice' }, NOW)),
      'UNAUTHENTICATED',
    );
    assert.equal(id.caller({ peer: '203.0.113.5', forwardedFor: undefined }, NOW), 'address:203.0.113.5');
  });
});

describe('idempotency keys', () => {
  it('are 16-128 printable ASCII characters', () => {
    for (const ok of ['a'.repeat(16), 'a'.repeat(128), '0f8fad5b-d9cb-469f-a165-70867728950e', 'order 42 / try #1!'])
      assert.equal(checkIdempotencyKey(ok, 'key'), ok);
    assert.equal(checkIdempotencyKey(undefined, 'key'), undefined);
    for (const bad of ['', 'k', 'a'.repeat(15), 'a'.repeat(129), 'caf\u00e9-0123456789abcdef', 'tab\there-0123456789', ['a'.repeat(16)]])
      assert.equal(
        code(() => checkIdempotencyKey(bad, 'key')),
        'INVALID_ARGUMENT',
        JSON.stringify(bad),
      );
  });
});

describe('the show scopes idempotency keys by caller', () => {
  it('another caller with the same key and request never receives the first hold or token; the same caller does', async () => {
    const logger = pino({ level: 'silent' });
    const n = createSeatNode(
      { holdTokenSecret: 'k'.repeat(32), snapshotEveryEvents: 100, snapshotEveryMs: 60_000 },
      openMemoryStorage(logger),
      logger,
    );
    try {
      const { limits: _l, offers: _o, ...def } = showDef();
      await n.service.createShow(def);
      const key = 'shared-key-0123456789';
      const first = await n.service.hold('s1', { count: 2 }, { idempotencyKey: key, caller: 'address:203.0.113.1' });
      const stranger = await n.service.hold('s1', { count: 2 }, { idempotencyKey: key, caller: 'address:203.0.113.2' });
      assert.notEqual(stranger.holdId, first.holdId);
      assert.notEqual(stranger.holdToken, first.holdToken);
      const again = await n.service.hold('s1', { count: 2 }, { idempotencyKey: key, caller: 'address:203.0.113.1' });
      assert.equal(again.holdId, first.holdId);
      assert.equal(again.holdToken, first.holdToken);
      const c1 = await n.service.confirm('s1', first.holdId, first.holdToken, {}, { idempotencyKey: key, caller: 'address:203.0.113.1' });
      const c2 = await n.service.confirm(
        's1',
        stranger.holdId,
        stranger.holdToken,
        {},
        { idempotencyKey: key, caller: 'address:203.0.113.2' },
      );
      assert.notEqual(c2.bookingId, c1.bookingId);
    } finally {
      await n.close();
    }
  });
});

describe('CUSTOMER_TOKEN_SECRET', () => {
  it('is optional and, when set, at least 32 characters', () => {
    assert.equal(loadConfig({}).customerTokenSecret, undefined);
    assert.equal(loadConfig({ CUSTOMER_TOKEN_SECRET: SECRET }).customerTokenSecret, SECRET);
    assert.throws(() => loadConfig({ CUSTOMER_TOKEN_SECRET: 'too-short' }), ConfigError);
  });
});

describe('gRPC peer addresses', () => {
  it('drop the port, IPv6 included (grpc-js writes it unbracketed)', () => {
    assert.equal(peerAddress('127.0.0.1:5000'), '127.0.0.1');
    assert.equal(peerAddress('::1:5000'), '::1');
    assert.equal(peerAddress('[2001:db8::7]:443'), '2001:db8::7');
    assert.equal(peerAddress('unknown'), 'unknown');
  });
});
