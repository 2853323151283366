import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LOADER_OPTIONS, SEATS_PROTO_PATH } from '../../src/gateway/grpc/index.ts';
import { WS_PATH } from '../../src/gateway/ws/index.ts';
import { showBody, startTestServer, type TestServer } from '../support/start-server.ts';
import { call, failure, type Client } from './grpc-harness.ts';
import { TestClient } from './ws-harness.ts';

/**
 * The same commands through all three front doors (HTTP, WebSocket, gRPC) must meet the same
 * bounds: each invalid command is INVALID_ARGUMENT at every door, naming the same field (in
 * gRPC's snake_case), and changes nothing; a command at the bound passes every door.
 */

type Door = 'http' | 'ws' | 'grpc';
type Command = 'hold' | 'extend' | 'confirm' | 'release';
const DOORS: readonly Door[] = ['http', 'ws', 'grpc'];

const ROWS = 12;
const PER_ROW = 100;
const MAX_SEATS_PER_REQUEST = 1000;
const SHOW = 'agree';

const labels = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => `${String.fromCharCode(65 + Math.floor((from + i) / PER_ROW))}-${((from + i) % PER_ROW) + 1}`);
const snake = (path: string) => path.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

interface Refusal {
  code: string | undefined;
  paths: string[];
}

interface Case {
  what: string;
  command: Command;
  /** The command's fields in the HTTP API's names (hold ref and key apart). */
  fields?: Record<string, unknown>;
  holdId?: string;
  idempotencyKey?: string;
  /** The field path each door names (HTTP's; gRPC's is its snake_case). */
  path: string;
  /** Where HTTP carries the field elsewhere (a header). */
  httpPath?: string;
  /** gRPC drops unknown fields while decoding: it cannot be sent one. */
  doors?: readonly Door[];
}

const CASES: Case[] = [
  { what: 'too many seats', command: 'hold', fields: { seats: labels(MAX_SEATS_PER_REQUEST + 1) }, path: 'seats' },
  { what: 'a bad seat label', command: 'hold', fields: { seats: ['A 1'] }, path: 'seats.0' },
  { what: 'a seat listed twice', command: 'hold', fields: { seats: ['A-1', 'A-1'] }, path: 'seats' },
  { what: 'seats and count', command: 'hold', fields: { seats: ['A-1'], count: 1 }, path: 'seats' },
  { what: 'neither seats nor count', command: 'hold', fields: { ttlSeconds: 60 }, path: 'seats' },
  { what: 'count zero', command: 'hold', fields: { count: 0 }, path: 'count' },
  { what: 'count over the bound', command: 'hold', fields: { count: MAX_SEATS_PER_REQUEST + 1 }, path: 'count' },
  { what: 'a category that is not an id', command: 'hold', fields: { count: 2, category: 'gold.vip' }, path: 'category' },
  { what: 'a category with named seats', command: 'hold', fields: { seats: ['A-1'], category: 'gold' }, path: 'category' },
  { what: 'ttl zero', command: 'hold', fields: { count: 1, ttlSeconds: 0 }, path: 'ttlSeconds' },
  { what: 'ttl over a day', command: 'hold', fields: { count: 1, ttlSeconds: 86_401 }, path: 'ttlSeconds' },
  { what: 'a customer id with spaces around', command: 'hold', fields: { count: 1, customerId: ' bob' }, path: 'customerId' },
  { what: 'a customer id with a control character', command: 'hold', fields: { count: 1, customerId: 'bo\u0007b' }, path: 'customerId' },
  { what: 'a customer id too long', command: 'hold', fields: { count: 1, customerId: 'c'.repeat(129) }, path: 'customerId' },
  {
    what: 'a short idempotency key',
    command: 'hold',
    fields: { count: 1 },
    idempotencyKey: 'short-key',
    path: 'idempotencyKey',
    httpPath: 'Idempotency-Key',
  },
  { what: 'an unknown field', command: 'hold', fields: { count: 1, colour: 'red' }, path: '', doors: ['http', 'ws'] },
  { what: 'extend: ttl zero', command: 'extend', fields: { ttlSeconds: 0 }, path: 'ttlSeconds' },
  { what: 'extend: ttl over a day', command: 'extend', fields: { ttlSeconds: 86_401 }, path: 'ttlSeconds' },
  { what: 'extend: a bad hold id', command: 'extend', holdId: 'h.1', path: 'holdId' },
  { what: 'confirm: an empty payment ref', command: 'confirm', fields: { paymentRef: '' }, path: 'paymentRef' },
  { what: 'confirm: a payment ref too long', command: 'confirm', fields: { paymentRef: 'p'.repeat(129) }, path: 'paymentRef' },
  { what: 'confirm: an unknown field', command: 'confirm', fields: { tip: 5 }, path: '', doors: ['http', 'ws'] },
  {
    what: 'release: a short idempotency key',
    command: 'release',
    idempotencyKey: 'short-key',
    path: 'idempotencyKey',
    httpPath: 'Idempotency-Key',
  },
  { what: 'release: a bad hold id', command: 'release', holdId: 'h 1', path: 'holdId' },
];

const GRPC_METHOD: Record<Command, string> = { hold: 'Hold', extend: 'ExtendHold', confirm: 'Confirm', release: 'Release' };

describe('the three front doors refuse the same commands the same way', () => {
  let srv: TestServer;
  /** A socket per case: a socket sending many bad frames is closed (WS_MAX_BAD_FRAMES). */
  let ws: TestClient;
  let wsUrl: string;
  let client: Client;
  /** A live hold for extend / confirm / release (never changed by a refused command). */
  let hold: { holdId: string; holdToken: string };

  const state = async () => {
    const map = await srv.service.getSeatMap(SHOW);
    return { version: map.version, seats: map.seats };
  };

  /** One command through one door; `fields` in HTTP names. Resolves with the door's answer. */
  async function send(
    door: Door,
    command: Command,
    fields: Record<string, unknown>,
    ref: { holdId: string; holdToken: string },
    key?: string,
  ) {
    if (door === 'http') {
      const base = `/v1/shows/${SHOW}/holds`;
      const opts = { body: fields, ...(key !== undefined ? { idempotencyKey: key } : {}) };
      const withToken = { ...opts, holdToken: ref.holdToken };
      if (command === 'hold') return srv.request('POST', base, opts);
      if (command === 'release')
        return srv.request('DELETE', `${base}/${ref.holdId}`, Object.keys(fields).length ? withToken : { ...withToken, body: undefined });
      return srv.request('POST', `${base}/${ref.holdId}/${command}`, withToken);
    }
    if (door === 'ws') {
      const holdFields = command === 'hold' ? {} : ref;
      return ws.request({ type: command, showId: SHOW, ...holdFields, ...fields, ...(key !== undefined ? { idempotencyKey: key } : {}) });
    }
    const message: Record<string, unknown> = { show_id: SHOW, ...(key !== undefined ? { idempotency_key: key } : {}) };
    if (command !== 'hold') Object.assign(message, { hold_id: ref.holdId, hold_token: ref.holdToken });
    for (const [k, v] of Object.entries(fields)) message[snake(k)] = v;
    return call(client, GRPC_METHOD[command], message);
  }

  async function refusal(door: Door, c: Case): Promise<Refusal> {
    const ref = { holdId: c.holdId ?? hold.holdId, holdToken: hold.holdToken };
    if (door === 'http') {
      const res = await send('http', c.command, c.fields ?? {}, ref, c.idempotencyKey);
      assert.equal(res.status, 400, `http ${c.what}: ${res.text}`);
      return { code: res.body.error.code, paths: (res.body.error.fields ?? []).map((f: { path: string }) => f.path) };
    }
    if (door === 'ws') {
      const frame = await send('ws', c.command, c.fields ?? {}, ref, c.idempotencyKey);
      assert.equal(frame.type, 'error', `ws ${c.what}: ${JSON.stringify(frame)}`);
      return { code: frame.code, paths: (frame.fields ?? []).map((f: { path: string }) => f.path) };
    }
    const f = await failure(send('grpc', c.command, c.fields ?? {}, ref, c.idempotencyKey));
    assert.equal(f.status, grpc.status.INVALID_ARGUMENT, `grpc ${c.what}: status ${f.status}`);
    return { code: f.code, paths: f.fields };
  }

  before(async () => {
    srv = await startTestServer();
    const created = await srv.request('POST', '/v1/shows', {
      admin: true,
      body: showBody(SHOW, { limits: { maxSeatsPerHold: MAX_SEATS_PER_REQUEST } }, ROWS, PER_ROW),
    });
    assert.equal(created.status, 201, created.text);
    hold = (await srv.request('POST', `/v1/shows/${SHOW}/holds`, { body: { seats: ['L-100'] } })).body;
    wsUrl = `${srv.url.replace(/^http/, 'ws')}${WS_PATH}`;
    const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(SEATS_PROTO_PATH, LOADER_OPTIONS)) as any;
    client = new pkg.seats.v1.SeatInventory(`127.0.0.1:${srv.gateway.grpcPort}`, grpc.credentials.createInsecure());
  });
  after(async () => {
    ws?.close();
    client?.close();
    await srv?.stop();
  });

  for (const c of CASES) {
    it(`${c.what}: INVALID_ARGUMENT naming ${c.path || 'the body'} at every door, nothing changed`, async () => {
      ws = await TestClient.connect(wsUrl);
      for (const door of c.doors ?? DOORS) {
        const before = await state();
        const answer = await refusal(door, c);
        const expected = door === 'grpc' ? snake(c.path) : door === 'http' && c.httpPath ? c.httpPath : c.path;
        assert.deepEqual(answer, { code: 'INVALID_ARGUMENT', paths: [expected] }, `${door}: ${c.what}`);
        assert.deepEqual(await state(), before, `${door}: ${c.what} changed the show`);
      }
      ws.close();
    });
  }

  it(`a hold of exactly ${MAX_SEATS_PER_REQUEST} seats passes every door`, async () => {
    ws = await TestClient.connect(wsUrl);
    for (const door of DOORS) {
      // Rows B on: row A is where the refused commands point.
      const seats = labels(MAX_SEATS_PER_REQUEST, PER_ROW);
      const answer = await send(door, 'hold', { seats }, hold);
      const held =
        door === 'http' ? (answer as { body: any }).body : door === 'ws' ? ((answer as { result?: any }).result ?? answer) : answer;
      const holdId: string = held.holdId ?? held.hold_id;
      const holdToken: string = held.holdToken ?? held.hold_token;
      assert.ok(holdId && holdToken, `${door}: ${JSON.stringify(answer).slice(0, 300)}`);
      assert.equal((await state()).seats.slice(PER_ROW, PER_ROW + MAX_SEATS_PER_REQUEST), 'h'.repeat(MAX_SEATS_PER_REQUEST), door);
      await srv.service.release(SHOW, holdId, holdToken);
    }
  });
  /** An HTTP body as its gRPC message: snake_case keys, offers wrapped with `none: false`. */
  const asMessage = (value: unknown, key = ''): unknown => {
    if (Array.isArray(value)) return value.map((v) => asMessage(v));
    if (value === null || typeof value !== 'object') return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[snake(k)] = asMessage(v, k);
    if (key === 'nthTicket' || key === 'afternoon') out.none = false;
    return out;
  };
  const adminMd = () => {
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${srv.adminToken}`);
    return md;
  };

  const SHOW_CASES: Array<{ what: string; body: Record<string, unknown>; path: string }> = [
    { what: 'a show id with a dot', body: { id: 'bad.show' }, path: 'id' },
    { what: 'a start that is no timestamp', body: { startsAt: 'tomorrow' }, path: 'startsAt' },
    { what: 'a lower-case currency', body: { categories: [{ id: 'gold', price: 100, currency: 'inr' }] }, path: 'categories.0.currency' },
    {
      what: 'a row numbered past 99,999',
      body: { layout: { sections: [{ id: 'main', rows: [{ label: 'A', seats: 10, category: 'gold', firstNumber: 100_000 }] }] } },
      path: 'layout.sections.0.rows.0.firstNumber',
    },
    {
      what: 'a hold limit past the request bound',
      body: { limits: { maxSeatsPerHold: MAX_SEATS_PER_REQUEST + 1 } },
      path: 'limits.maxSeatsPerHold',
    },
    { what: 'a hold ttl of zero', body: { limits: { holdTtlSeconds: 0 } }, path: 'limits.holdTtlSeconds' },
    { what: 'an offer over 100 percent', body: { offers: { nthTicket: { n: 2, percentOff: 101 } } }, path: 'offers.nthTicket.percentOff' },
    { what: 'a bad blocked seat label', body: { blockedSeats: ['A 1'] }, path: 'blockedSeats.0' },
  ];

  for (const c of SHOW_CASES) {
    it(`create show, ${c.what}: INVALID_ARGUMENT naming ${c.path} over HTTP and gRPC, no show made`, async () => {
      const body = showBody('made-not', c.body);
      const res = await srv.request('POST', '/v1/shows', { admin: true, body });
      assert.equal(res.status, 400, res.text);
      assert.deepEqual(
        { code: res.body.error.code, paths: res.body.error.fields.map((f: { path: string }) => f.path) },
        { code: 'INVALID_ARGUMENT', paths: [c.path] },
      );
      const f = await failure(call(client, 'CreateShow', asMessage(body) as object, { metadata: adminMd() }));
      assert.deepEqual(
        { status: f.status, code: f.code, paths: f.fields },
        { status: grpc.status.INVALID_ARGUMENT, code: 'INVALID_ARGUMENT', paths: [snake(c.path)] },
      );
      assert.equal((await srv.request('GET', '/v1/shows/made-not')).status, 404);
    });
  }

  it('cancel show, a reason over 500 characters: INVALID_ARGUMENT naming reason over HTTP and gRPC, nothing changed', async () => {
    const before = await state();
    const reason = 'r'.repeat(501);
    const res = await srv.request('DELETE', `/v1/shows/${SHOW}`, { admin: true, body: { reason } });
    assert.equal(res.status, 400, res.text);
    assert.deepEqual(
      res.body.error.fields.map((f: { path: string }) => f.path),
      ['reason'],
    );
    const f = await failure(call(client, 'CancelShow', { show_id: SHOW, reason }, { metadata: adminMd() }));
    assert.deepEqual([f.status, f.code, f.fields], [grpc.status.INVALID_ARGUMENT, 'INVALID_ARGUMENT', ['reason']]);
    assert.deepEqual(await state(), before);
  });
});
