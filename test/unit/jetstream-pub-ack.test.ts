import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { ShowEvent } from '../../src/actors/types.ts';
import { PART_HEADER_ALLOWANCE_BYTES, encodeSmallBatch, planParts, type StoredBatch } from '../../src/persistence/jetstream-entries.ts';
import { headers as natsHeaders, type MsgHdrs } from 'nats';
import {
  EXPECTED_LAST_SUBJECT_SEQUENCE_HEADER,
  EXPECTED_STREAM_HEADER,
  MSG_ID_HEADER,
  PubAckError,
  appendHeaders,
  parsePubAck,
} from '../../src/persistence/jetstream-pub-ack.ts';

const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));

describe('reading a JetStream publish acknowledgement', () => {
  it('gives the sequence and whether the stream had the message already', () => {
    assert.deepEqual(parsePubAck(bytes('{"stream":"S","seq":42}'), null), { seq: 42, duplicate: false });
    assert.deepEqual(parsePubAck(bytes('{"stream":"S","seq":42,"duplicate":true}'), null), { seq: 42, duplicate: true });
  });

  it("keeps JetStream's error code (a wrong last sequence is how fencing refuses a writer)", () => {
    const ack = parsePubAck(
      bytes('{"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 5"},"stream":"S","seq":0}'),
      null,
    );
    assert.ok(ack instanceof PubAckError);
    assert.equal(ack.errCode, 10071);
    assert.match(ack.message, /wrong last sequence/);
  });

  it('refuses a status reply (no stream listens: 503), a body that is not JSON and one without a sequence', () => {
    for (const [data, status] of [
      [bytes(''), { code: 503, description: 'No Responders' }],
      [bytes('not json'), null],
      [bytes('{"stream":"S"}'), null],
    ] as const) {
      const ack = parsePubAck(data, status);
      assert.ok(ack instanceof PubAckError);
      assert.equal(ack.errCode, undefined);
    }
  });
});

describe('encoding a small batch at once', () => {
  const events = (n: number, idBytes = 24): ShowEvent[] =>
    Array.from({ length: n }, (_, i) => ({ type: 'HoldExpired', holdId: randomBytes(idBytes).toString('base64url'), seats: [i, i + 1] }));

  it('makes the bytes the part planner makes for a batch that fits one plain message', () => {
    for (const n of [0, 1, 2, 50, 500]) {
      const stored: StoredBatch = { batchId: `b-${n}`, firstVersion: 3 + n, events: events(n) };
      const small = encodeSmallBatch(stored, 1024 * 1024 - PART_HEADER_ALLOWANCE_BYTES);
      assert.ok(small);
      const planned = planParts(stored, 1024 * 1024, 64);
      assert.equal(planned.length, 1);
      assert.ok(small.equals(planned[0] as Buffer), `batch of ${n} events`);
    }
  });

  it('leaves to the planner a batch to compress or split', () => {
    const big: StoredBatch = { batchId: 'big', firstVersion: 1, events: events(3000) };
    assert.equal(encodeSmallBatch(big, 1024 * 1024), null);
    const overBudget: StoredBatch = { batchId: 'mid', firstVersion: 1, events: events(100) };
    assert.equal(encodeSmallBatch(overBudget, 1024), null);
  });
});

/** The bytes a publish puts on the wire for `h` (the client reads headers only through `encode()`). */
const wire = (h: MsgHdrs) => Buffer.from((h as unknown as { encode(): Uint8Array }).encode());

describe('the header block of an append', () => {
  it('is byte for byte what the client encodes from the same headers, with and without an expected sequence', () => {
    for (const last of [undefined, 0, 1234567]) {
      const h = natsHeaders();
      h.set(MSG_ID_HEADER, 'b_x1:0/2');
      h.set(EXPECTED_STREAM_HEADER, 'SEATS_EVENTS');
      if (last !== undefined) h.set(EXPECTED_LAST_SUBJECT_SEQUENCE_HEADER, String(last));
      assert.deepEqual(wire(appendHeaders('b_x1:0/2', 'SEATS_EVENTS', last)), wire(h));
    }
  });

  it('refuses a value with a line break, as the client does', () => {
    assert.throws(() => appendHeaders('id\r\nX-Evil: 1', 'S'), /invalid header value/);
  });
});
