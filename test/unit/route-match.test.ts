import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compileRoutes } from '../../src/gateway/http/route-match.ts';
import { matchShowsPath } from '../../src/gateway/http/routes.ts';

/**
 * The router as it was written by hand before the route table (segments after /v1/shows/ →
 * operation name per method), kept as the oracle the table-built router must agree with.
 */
function handWritten(rest: string[]): Record<string, string> | null {
  const SHOWS = { GET: 'listShows', POST: 'createShow' };
  const SHOW = { GET: 'getShow', PATCH: 'changeShow', DELETE: 'cancelShow' };
  switch (rest.length) {
    case 0:
      return SHOWS;
    case 1:
      return SHOW;
    case 2:
      if (rest[1] === 'report') return { GET: 'getReport' };
      return rest[1] === 'holds' ? { POST: 'hold' } : rest[1] === 'bookings' ? { GET: 'listBookings' } : null;
    case 3:
      if (rest[1] === 'holds') return { DELETE: 'release' };
      if (rest[1] === 'bookings') return rest[2] === 'cancel' ? { GET: 'getBooking', POST: 'cancelBookings' } : { GET: 'getBooking' };
      if (rest[1] === 'seats')
        return rest[2] === 'block' ? { POST: 'blockSeats' } : rest[2] === 'unblock' ? { POST: 'unblockSeats' } : null;
      return null;
    case 4:
      if (rest[1] === 'holds') return rest[3] === 'confirm' ? { POST: 'confirm' } : rest[3] === 'extend' ? { POST: 'extendHold' } : null;
      if (rest[1] === 'bookings') return rest[3] === 'cancel' ? { POST: 'cancelBooking' } : null;
      if (rest[1] === 'seats') return rest[3] === 'history' ? { GET: 'getSeatHistory' } : null;
      return null;
    default:
      return null;
  }
}

const names = (methods: ReturnType<typeof matchShowsPath>) =>
  methods === null ? null : Object.fromEntries(Object.entries(methods).map(([m, r]) => [m, r.name]));

const WORDS = ['s1', 'holds', 'bookings', 'seats', 'report', 'cancel', 'block', 'unblock', 'confirm', 'extend', 'history', 'h1', 'A-1', ''];

describe('route table matcher', () => {
  it('answers every path as the hand-written router did, methods in the same order', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...WORDS), { maxLength: 6 }), (rest) => {
        const got = names(matchShowsPath(rest));
        const want = handWritten(rest);
        assert.deepEqual(got, want, `/${rest.join('/')}`);
        if (got && want) assert.deepEqual(Object.keys(got), Object.keys(want));
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses a table where one path could match two templates, neither more general', () => {
    const routes = [
      { method: 'GET', path: '/v1/shows/{a}/x' },
      { method: 'GET', path: '/v1/shows/y/{b}' },
    ];
    assert.throws(() => compileRoutes(routes, '/v1/shows'), /ambiguous/);
    assert.throws(() => compileRoutes([{ method: 'GET', path: '/v2/x' }], '/v1/shows'), /not under/);
    assert.throws(() => compileRoutes([routes[0], routes[0]], '/v1/shows'), /twice/);
  });

  it("serves a literal template's handler over a general one's for a method both have", () => {
    const match = compileRoutes(
      [
        { method: 'GET', path: '/v1/shows/{id}', name: 'general' },
        { method: 'POST', path: '/v1/shows/{id}', name: 'generalPost' },
        { method: 'GET', path: '/v1/shows/special', name: 'special' },
      ],
      '/v1/shows',
    );
    assert.deepEqual(
      Object.entries(match(['special']) ?? {}).map(([m, r]) => [m, r.name]),
      [
        ['GET', 'special'],
        ['POST', 'generalPost'],
      ],
    );
    assert.equal(match(['other'])?.GET.name, 'general');
    assert.equal(match(['a', 'b']), null);
  });
});
