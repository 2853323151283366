import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { AddressSlots, openFileLimit, originAllowed, parseAllowedOrigins, socketCapFor } from '../../src/gateway/limits/index.ts';

describe('origin policy', () => {
  it('no Origin (servers, load testers) is let in; the server’s own origin is; a foreign page is not', () => {
    assert.equal(originAllowed(undefined, 'seats.example:8080', []), true);
    assert.equal(originAllowed('http://seats.example:8080', 'seats.example:8080', []), true);
    assert.equal(originAllowed('HTTPS://Seats.Example', 'seats.example', []), true);
    assert.equal(originAllowed('https://evil.example', 'seats.example', []), false);
    assert.equal(originAllowed('https://seats.example.evil.example', 'seats.example', []), false);
    assert.equal(originAllowed('http://seats.example:8081', 'seats.example:8080', []), false);
    assert.equal(originAllowed('null', 'seats.example', []), false);
    assert.equal(originAllowed('not a url', 'seats.example', []), false);
  });

  it('ALLOWED_ORIGINS adds exact origins, or any with *', () => {
    const allowed = parseAllowedOrigins(' https://tickets.example , https://app.example:8443/ ');
    assert.deepEqual(allowed, ['https://tickets.example', 'https://app.example:8443']);
    assert.equal(originAllowed('https://tickets.example', 'seats.example', allowed), true);
    assert.equal(originAllowed('http://tickets.example', 'seats.example', allowed), false);
    assert.equal(originAllowed('https://evil.example', 'seats.example', parseAllowedOrigins('*')), true);
    assert.throws(() => parseAllowedOrigins('tickets.example'));
  });
});

describe('socket cap and the file limit', () => {
  const limits = (soft: string) =>
    `Limit                     Soft Limit           Hard Limit           Units\nMax open files            ${soft}                ${soft}                files\n`;

  it('reads the soft RLIMIT_NOFILE; unlimited or missing is null', () => {
    assert.equal(openFileLimit(limits('20000')), 20_000);
    assert.equal(openFileLimit(limits('unlimited')), null);
    assert.equal(openFileLimit('nothing here'), null);
  });

  it('keeps a reserve below the file limit, and leaves the configured cap alone when it fits', () => {
    assert.equal(socketCapFor(50_000, 20_000), 18_000);
    assert.equal(socketCapFor(50_000, 1_024), 768);
    assert.equal(socketCapFor(5_000, 1_048_576), 5_000);
    assert.equal(socketCapFor(50_000, null), 50_000);
    assert.ok(socketCapFor(50_000, 100) >= 1);
  });
});

describe('address slots', () => {
  it('one address gets at most its share, never more than half the total; given-back slots are reusable', () => {
    const slots = new AddressSlots(10, 100);
    assert.equal(slots.perAddress, 5);
    for (let i = 0; i < 5; i++) assert.equal(slots.take('a'), null);
    assert.equal(slots.take('a'), 'address');
    for (let i = 0; i < 5; i++) assert.equal(slots.take(`b${i}`), null);
    assert.equal(slots.take('c'), 'full');
    slots.give('a');
    assert.equal(slots.take('a'), null);
    assert.equal(slots.size, 10);
  });

  it('0 per address switches the share off (benches)', () => {
    const slots = new AddressSlots(4, 0);
    for (let i = 0; i < 4; i++) assert.equal(slots.take('a'), null);
    assert.equal(slots.take('a'), 'full');
  });
});

describe('config: edge limits', () => {
  it('an ADMIN_TOKEN shorter than 16 characters is refused', () => {
    assert.throws(
      () => loadConfig({ ADMIN_TOKEN: '123456789012345' }),
      (e: unknown) => e instanceof ConfigError && /ADMIN_TOKEN/.test(e.message),
    );
    assert.equal(loadConfig({ ADMIN_TOKEN: '1234567890123456' }).adminToken, '1234567890123456');
  });

  it('limits have defaults, 0 switches one off, bad values are refused', () => {
    const c = loadConfig({});
    assert.ok(c.rateLimitHoldsPerMinute > 0 && c.rateLimitAdminFailuresPerMinute > 0 && c.wsMaxSocketsPerAddress > 0);
    assert.deepEqual(c.allowedOrigins, []);
    assert.equal(c.metricsToken, undefined);
    assert.equal(loadConfig({ RATE_LIMIT_HOLDS_PER_MINUTE: '0' }).rateLimitHoldsPerMinute, 0);
    assert.throws(() => loadConfig({ RATE_LIMIT_HOLDS_PER_MINUTE: '-1' }), ConfigError);
    assert.throws(() => loadConfig({ ALLOWED_ORIGINS: 'evil' }), ConfigError);
    assert.throws(() => loadConfig({ METRICS_TOKEN: 'short' }), ConfigError);
    assert.deepEqual(loadConfig({ ALLOWED_ORIGINS: 'https://a.example,*' }).allowedOrigins, ['https://a.example', '*']);
  });
});
