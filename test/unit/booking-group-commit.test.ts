import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { loadConfig } from '../../src/config.ts';
import {
  BookingGroupCommit,
  chunkRows,
  rowsOfGroup,
  takeGroup,
  type EncodedRow,
  type PendingCall,
} from '../../src/persistence/booking-group-commit.ts';
import { until } from '../../testkit/wait.ts';

const row = (key: string, bytes = 10): EncodedRow => ({ key, json: 'x'.repeat(bytes) });

function call(rows: EncodedRow[], alone = false): PendingCall {
  return { rows, bytes: rows.reduce((n, r) => n + r.json.length, 0), alone, resolve: () => undefined, reject: () => undefined };
}

describe('grouping booking rows into statements', () => {
  it('takes whole callers while the statement stays within its rows and bytes', () => {
    const limits = { maxRows: 5, maxBytes: 100 };
    const pending = [call([row('a'), row('b')]), call([row('c'), row('d')]), call([row('e'), row('f')]), call([row('g')])];
    const first = takeGroup(pending, limits);
    assert.deepEqual(
      first.map((c) => c.rows.map((r) => r.key)),
      [
        ['a', 'b'],
        ['c', 'd'],
      ],
      'a third caller would make 6 rows',
    );
    assert.deepEqual(
      takeGroup(pending, limits).map((c) => c.rows.length),
      [2, 1],
    );
    assert.deepEqual(takeGroup(pending, limits), []);

    const byBytes = [call([row('a', 60)]), call([row('b', 50)])];
    assert.equal(takeGroup(byBytes, limits).length, 1, '110 bytes is over the limit');
    const oversized = [call(Array.from({ length: 9 }, (_, i) => row(`o${i}`))), call([row('z')])];
    assert.equal(takeGroup(oversized, limits)[0].rows.length, 9, 'a caller over the limits goes alone, whole');
    assert.equal(oversized.length, 1);
    const alone = [call([row('a')]), call([row('b')], true), call([row('c')])];
    assert.equal(takeGroup(alone, limits).length, 1, 'stops before a caller that must go alone');
    assert.equal(takeGroup(alone, limits).length, 1, 'a caller marked alone goes alone');
  });

  it('keeps one row per key in a statement, the later caller winning', () => {
    const rows = rowsOfGroup([
      call([
        { key: 'b1', json: 'confirmed' },
        { key: 'b2', json: 'confirmed' },
      ]),
      call([{ key: 'b1', json: 'cancelled' }]),
    ]);
    assert.deepEqual(rows, [
      { key: 'b1', json: 'cancelled' },
      { key: 'b2', json: 'confirmed' },
    ]);
  });

  it('cuts rows into chunks within the limits, in order, none empty', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 60 }),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 80 }),
        (sizes, maxRows, maxBytes) => {
          const rows = sizes.map((n, i) => row(`r${i}`, n));
          const chunks = chunkRows(rows, { maxRows, maxBytes });
          assert.deepEqual(chunks.flat(), rows);
          for (const c of chunks) {
            assert.ok(c.length >= 1 && c.length <= maxRows);
            const bytes = c.reduce((n, r) => n + r.json.length, 0);
            assert.ok(c.length === 1 || bytes <= maxBytes, 'only a single row may exceed the byte limit');
          }
        },
      ),
    );
  });
});

interface Statement {
  rows: EncodedRow[];
  settle(ok: boolean): void;
}

describe('the group-commit queue', () => {
  it('answers each caller by the fate of the statement carrying its rows, under random interleavings', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ rows: fc.integer({ min: 1, max: 4 }), fail: fc.boolean(), arriveEarly: fc.boolean() }), {
          minLength: 1,
          maxLength: 40,
        }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 2, max: 10 }),
        async (calls, inFlight, maxRows) => {
          const open: Statement[] = [];
          const statements: { keys: string[]; ok: boolean }[] = [];
          let running = 0;
          let maxRunning = 0;
          const q = new BookingGroupCommit({
            maxRows,
            maxBytes: 1_000_000,
            statementsInFlight: inFlight,
            write: (rows) =>
              new Promise<void>((resolve, reject) => {
                running++;
                maxRunning = Math.max(maxRunning, running);
                open.push({
                  rows,
                  settle: (ok) => {
                    running--;
                    statements.push({ keys: rows.map((r) => r.key), ok });
                    if (ok) resolve();
                    else reject(Object.assign(new Error('connection terminated'), { code: 'ECONNRESET' }));
                  },
                });
              }),
            retryAlone: () => false,
            failure: (err) => err,
          });
          const outcomes = new Map<string, boolean>();
          const failing = new Set<string>();
          const submitted: Promise<void>[] = [];
          const submit = (i: number) => {
            const keys = Array.from({ length: calls[i].rows }, (_, k) => `c${i}-${k}`);
            if (calls[i].fail) for (const k of keys) failing.add(k);
            submitted.push(
              q.submit(keys.map((k) => row(k))).then(
                () => void outcomes.set(`c${i}`, true),
                () => void outcomes.set(`c${i}`, false),
              ),
            );
          };
          let next = 0;
          // Early callers arrive together; the rest one at a time while statements complete.
          while (next < calls.length && calls[next].arriveEarly) submit(next++);
          for (;;) {
            if (next < calls.length) submit(next++);
            const s = open.shift();
            if (!s) {
              if (next >= calls.length) break;
              continue;
            }
            // A statement fails if it carries any row of a caller marked to fail.
            s.settle(!s.rows.some((r) => failing.has(r.key)));
            await new Promise((r) => setImmediate(r));
          }
          await Promise.all(submitted);
          assert.ok(maxRunning <= inFlight, `${maxRunning} statements ran at once`);
          assert.equal(outcomes.size, calls.length, 'every caller is answered');
          const fateOf = new Map<string, boolean>();
          for (const st of statements) {
            const callers = new Set(st.keys.map((k) => k.split('-')[0]));
            assert.ok(st.keys.length <= maxRows || callers.size === 1, 'merged statements stay within the row limit');
            for (const c of callers) {
              assert.ok(!fateOf.has(c), 'a caller travels in one statement');
              fateOf.set(c, st.ok);
            }
          }
          for (const [c, ok] of outcomes) assert.equal(ok, fateOf.get(c), `${c} answered as its statement went`);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('merges the callers that arrive while a statement is in flight into the next one', async () => {
    const open: Statement[] = [];
    const q = new BookingGroupCommit({
      maxRows: 1000,
      maxBytes: 1_000_000,
      statementsInFlight: 1,
      write: (rows) => new Promise<void>((resolve) => open.push({ rows, settle: () => resolve() })),
      retryAlone: () => false,
      failure: (err) => err,
    });
    const first = q.submit([row('a')]);
    const rest = Array.from({ length: 30 }, (_, i) => q.submit([row(`s${i}`)]));
    assert.equal(open.length, 1, 'a lone call goes at once; the others wait for it');
    assert.equal(q.waiting, 30);
    open.shift()?.settle(true);
    await first;
    await until(() => open.length === 1, 5_000, 'the next statement');
    assert.equal(open[0].rows.length, 30, 'one statement for every show that waited');
    open.shift()?.settle(true);
    await Promise.all(rest);
  });

  it('retries the callers of a refused merged statement one by one, so only the bad one fails', async () => {
    const written: string[] = [];
    const q = new BookingGroupCommit({
      maxRows: 1000,
      maxBytes: 1_000_000,
      statementsInFlight: 1,
      write: async (rows) => {
        if (rows.some((r) => r.key === 'bad')) throw Object.assign(new Error('invalid input'), { code: '22P02' });
        written.push(...rows.map((r) => r.key));
      },
      retryAlone: (err) => (err as { code?: string }).code === '22P02',
      failure: (err) => err,
    });
    const results = await Promise.allSettled([q.submit([row('a')]), q.submit([row('b')]), q.submit([row('bad')]), q.submit([row('c')])]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'fulfilled', 'rejected', 'fulfilled'],
    );
    assert.deepEqual(written.sort(), ['a', 'b', 'c']);
  });
});

describe('group commit configuration', () => {
  it('is on with one statement in flight by default; BOOKING_GROUP_COMMIT=0 turns it off', () => {
    const defaults = loadConfig({});
    assert.equal(defaults.bookingGroupCommit, true);
    assert.equal(defaults.bookingWritesInFlight, 1);
    const off = loadConfig({ BOOKING_GROUP_COMMIT: '0', BOOKING_WRITES_IN_FLIGHT: '2' });
    assert.equal(off.bookingGroupCommit, false);
    assert.equal(off.bookingWritesInFlight, 2);
    assert.throws(() => loadConfig({ BOOKING_WRITES_IN_FLIGHT: '0' }), /BOOKING_WRITES_IN_FLIGHT/);
  });
});
