import type { z } from 'zod';
import {
  ClientFrame,
  ConfirmFrame,
  ExtendFrame,
  HoldFrame,
  ReleaseFrame,
  SubscribeFrame,
  UnsubscribeFrame,
} from '../gateway/ws/protocol.ts';
import { FRAME_EXAMPLES, OUT_EVENT_EXAMPLES } from './event-examples.ts';
import { components, type JsonSchema } from './json-schema.ts';
import { API_VERSION } from './openapi.ts';
import { OUT_EVENT_SCHEMAS } from './out-event-schemas.ts';
import { DeltaFrame, ErrorFrame, ResultFrame, SnapshotFrame, SubscribedFrame } from './ws-frames.ts';

/**
 * The AsyncAPI 3.0 description of the WebSocket protocol (`/v1/ws`) and of the out-events on
 * the bus (`seats.out.*`), built from the zod schemas the gateway validates client frames
 * with (protocol.ts) and those of ws-frames.ts and out-event-schemas.ts. Operations are the
 * server's: it receives client frames and sends server frames and out-events. Payloads are
 * JSON Schema draft-07, AsyncAPI's own schema format.
 */

interface MessageDoc {
  schema: z.ZodType;
  summary: string;
  example: unknown;
}

/** Client → server frames, by `type`. */
export const CLIENT_FRAMES: Record<string, MessageDoc> = {
  subscribe: {
    schema: SubscribeFrame,
    summary: 'watch a show: a snapshot (or, resuming with fromVersion, the missed deltas and `subscribed`)',
    example: FRAME_EXAMPLES.subscribe,
  },
  unsubscribe: { schema: UnsubscribeFrame, summary: 'stop watching a show', example: FRAME_EXAMPLES.unsubscribe },
  hold: { schema: HoldFrame, summary: 'hold seats, as POST /v1/shows/{showId}/holds', example: FRAME_EXAMPLES.hold },
  extend: { schema: ExtendFrame, summary: 'extend a hold', example: FRAME_EXAMPLES.extend },
  confirm: { schema: ConfirmFrame, summary: 'confirm a hold into a booking', example: FRAME_EXAMPLES.confirm },
  release: { schema: ReleaseFrame, summary: 'release a hold', example: FRAME_EXAMPLES.release },
};

/** Server → client frames, by `type`. */
export const SERVER_FRAMES: Record<string, MessageDoc> = {
  snapshot: { schema: SnapshotFrame, summary: 'the whole map at version, compact', example: FRAME_EXAMPLES.snapshot },
  delta: {
    schema: DeltaFrame,
    summary: 'seats changed between fromVersion and version, coalesced per tick',
    example: FRAME_EXAMPLES.delta,
  },
  subscribed: { schema: SubscribedFrame, summary: 'a resume finished', example: FRAME_EXAMPLES.subscribed },
  result: {
    schema: ResultFrame,
    summary: "a command's answer, to the socket that asked (same fields as HTTP)",
    example: FRAME_EXAMPLES.result,
  },
  error: { schema: ErrorFrame, summary: 'a refused frame or command, with the stable error code', example: FRAME_EXAMPLES.error },
};

const cap = (s: string) => s[0].toUpperCase() + s.slice(1);

export function buildAsyncApi(): JsonSchema {
  const named: Record<string, z.ZodType> = { ClientFrame };
  for (const [type, m] of [...Object.entries(CLIENT_FRAMES), ...Object.entries(SERVER_FRAMES)]) named[`${cap(type)}Frame`] = m.schema;
  for (const [type, e] of Object.entries(OUT_EVENT_SCHEMAS)) named[`${type}Event`] = e.schema;
  const c = components(named, '#/components/schemas/', 'draft-7');

  const messages: Record<string, JsonSchema> = {};
  const message = (name: string, m: MessageDoc, title: string) => {
    messages[name] = {
      name,
      title,
      summary: m.summary,
      contentType: 'application/json',
      payload: c.ref(m.schema),
      examples: [{ name, payload: m.example }],
    };
    return { $ref: `#/components/messages/${name}` };
  };
  const wsMessages: Record<string, { $ref: string }> = {};
  for (const [type, m] of Object.entries(CLIENT_FRAMES))
    wsMessages[`${type}Frame`] = message(`${type}Frame`, m, `client → server: ${type}`);
  for (const [type, m] of Object.entries(SERVER_FRAMES))
    wsMessages[`${type}Frame`] = message(`${type}Frame`, m, `server → client: ${type}`);

  const channels: Record<string, JsonSchema> = {
    seatMap: {
      address: '/v1/ws',
      title: 'live seat maps and commands',
      description:
        'JSON text frames. Frames above 16 KiB close the socket with 1009; 10 invalid frames a minute close it with 1008; at most 20 subscriptions per socket.',
      servers: [{ $ref: '#/servers/gateway' }],
      messages: wsMessages,
    },
  };
  const operations: Record<string, JsonSchema> = {
    receiveClientFrame: {
      action: 'receive',
      channel: { $ref: '#/channels/seatMap' },
      summary: 'frames a client sends',
      messages: Object.keys(CLIENT_FRAMES).map((t) => ({ $ref: `#/channels/seatMap/messages/${t}Frame` })),
    },
    sendServerFrame: {
      action: 'send',
      channel: { $ref: '#/channels/seatMap' },
      summary: 'frames the server sends',
      messages: Object.keys(SERVER_FRAMES).map((t) => ({ $ref: `#/channels/seatMap/messages/${t}Frame` })),
    },
  };
  for (const [type, e] of Object.entries(OUT_EVENT_SCHEMAS)) {
    const example = OUT_EVENT_EXAMPLES[type as keyof typeof OUT_EVENT_EXAMPLES];
    const ref = message(type, { schema: e.schema, summary: e.summary, example }, e.subject);
    const channel = `out${type}`;
    channels[channel] = { address: e.subject, servers: [{ $ref: '#/servers/bus' }], messages: { [type]: ref } };
    operations[`publish${type}`] = {
      action: 'send',
      channel: { $ref: `#/channels/${channel}` },
      summary: e.summary,
      messages: [{ $ref: `#/channels/${channel}/messages/${type}` }],
    };
  }

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Seat inventory: WebSocket and events',
      version: API_VERSION,
      description:
        'The live seat-map WebSocket (`/v1/ws`) and the out-events for payment, refund and notification services (`seats.out.*`; envelope schemaVersion 1, dedup by eventId). The HTTP API is in /v1/openapi.json.',
    },
    defaultContentType: 'application/json',
    servers: {
      gateway: { host: 'localhost:8080', protocol: 'ws', description: 'any gateway; wss behind TLS' },
      bus: { host: 'localhost:4222', protocol: 'nats', description: 'the NATS server of the cluster (in-process bus when embedded)' },
    },
    channels,
    operations,
    components: { schemas: c.schemas, messages },
  };
}
