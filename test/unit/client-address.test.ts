import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientAddress } from '../../src/gateway/client-address.ts';

test('the socket peer is the client unless it is a trusted proxy', () => {
  assert.equal(clientAddress('10.0.0.9', '1.2.3.4', []), '10.0.0.9');
  assert.equal(clientAddress('::ffff:10.0.0.9', undefined, ['10.0.0.9']), '10.0.0.9');
  assert.equal(clientAddress('10.0.0.9', '1.2.3.4', ['10.0.0.9']), '1.2.3.4');
});

test('a forged left-most X-Forwarded-For entry is ignored; the right-most untrusted hop wins', () => {
  assert.equal(clientAddress('10.0.0.9', '6.6.6.6, 1.2.3.4', ['10.0.0.9']), '1.2.3.4');
  assert.equal(clientAddress('10.0.0.9', '1.2.3.4, 10.0.0.8', ['10.0.0.9', '10.0.0.8']), '1.2.3.4');
  assert.equal(clientAddress('10.0.0.9', 'garbage, 1.2.3.4', ['10.0.0.9']), '1.2.3.4');
  assert.equal(clientAddress('10.0.0.9', 'garbage', ['10.0.0.9']), '10.0.0.9');
});
