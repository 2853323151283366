import { headers as natsHeaders, type MsgHdrs } from 'nats';

/**
 * Messages of any size on core NATS, whose server drops (and nats.js refuses) anything over
 * `max_payload` (1 MiB by default). A payload that fits goes as one plain message; a
 * larger one is cut into parts that each fit, sent in order on one connection, each with
 * headers naming the whole (`Hop-Msg`, unique per sender), its place (`Hop-Part`, from 0)
 * and the count (`Hop-Parts`); transport.ts sends them (`sendFramedOn`, `transportFrameLimit`)
 * and the receiver glues them back with a FrameAssembler.
 * Nothing is ever dropped for its size.
 */

export const HOP_MSG = 'Hop-Msg';
export const HOP_PART = 'Hop-Part';
export const HOP_PARTS = 'Hop-Parts';

/** Room left under max_payload for the headers of a part. */
export const FRAME_HEADER_ROOM_BYTES = 1024;
/** The smallest part size allowed, so a misconfiguration cannot make millions of parts. */
export const MIN_FRAME_BYTES = 4 * 1024;

/** The payload split into parts of at most `limit` bytes (one part if it fits). Views, no copies. */
export function splitPayload(data: Uint8Array, limit: number): Uint8Array[] {
  if (data.length <= limit) return [data];
  const parts: Uint8Array[] = [];
  for (let at = 0; at < data.length; at += limit) parts.push(data.subarray(at, Math.min(at + limit, data.length)));
  return parts;
}

export function partHeaders(msgId: string, part: number, parts: number): MsgHdrs {
  const h = natsHeaders();
  h.set(HOP_MSG, msgId);
  h.set(HOP_PART, String(part));
  h.set(HOP_PARTS, String(parts));
  return h;
}

export interface FrameAssemblerOptions {
  /** Most bytes of unfinished messages kept at once; past it the oldest are dropped. */
  maxBytes: number;
  /** An unfinished message older than this is dropped (its sender gave up long ago). */
  maxAgeMs: number;
  /** Told about each dropped unfinished message, for a log line. */
  onDrop?: (msgId: string, reason: 'age' | 'memory' | 'malformed') => void;
}

interface Partial {
  parts: Array<Uint8Array | undefined>;
  got: number;
  bytes: number;
  startedAt: number;
}

/**
 * Puts parted messages back together. `add` takes one received message (its headers and
 * payload) and returns the whole payload once every part has arrived, the payload itself
 * for an unparted message, and null while parts are missing. Memory is bounded by
 * `maxBytes`; a message whose sender died halfway ages out. Single-threaded use only.
 */
export class FrameAssembler {
  private readonly pending = new Map<string, Partial>();
  private bytes = 0;

  constructor(private readonly opts: FrameAssemblerOptions) {}

  /** `scope` keeps two senders' message ids apart (e.g. the sender's inbox). */
  add(headers: MsgHdrs | undefined, data: Uint8Array, scope = ''): Uint8Array | null {
    const msgId = headers?.get(HOP_MSG);
    if (!msgId) return data;
    const key = `${scope}\u0000${msgId}`;
    const part = Number(headers!.get(HOP_PART));
    const parts = Number(headers!.get(HOP_PARTS));
    this.expire();
    if (!Number.isInteger(part) || !Number.isInteger(parts) || parts < 1 || part < 0 || part >= parts) {
      this.drop(key, msgId, 'malformed');
      return null;
    }
    let p = this.pending.get(key);
    if (!p) {
      p = { parts: new Array(parts), got: 0, bytes: 0, startedAt: performance.now() };
      this.pending.set(key, p);
    }
    if (p.parts.length !== parts) {
      this.drop(key, msgId, 'malformed');
      return null;
    }
    if (p.parts[part] === undefined) {
      // nats.js may reuse its read buffer: keep a copy of the part.
      p.parts[part] = data.slice();
      p.got++;
      p.bytes += data.length;
      this.bytes += data.length;
    }
    if (p.got < parts) {
      this.shed(key);
      return null;
    }
    this.pending.delete(key);
    this.bytes -= p.bytes;
    const whole = new Uint8Array(p.bytes);
    let at = 0;
    for (const chunk of p.parts) {
      whole.set(chunk!, at);
      at += chunk!.length;
    }
    return whole;
  }

  /** Unfinished messages held now (for tests and stats). */
  get unfinished(): number {
    return this.pending.size;
  }

  private drop(key: string, msgId: string, reason: 'age' | 'memory' | 'malformed'): void {
    const p = this.pending.get(key);
    if (p) {
      this.pending.delete(key);
      this.bytes -= p.bytes;
    }
    this.opts.onDrop?.(msgId, reason);
  }

  private expire(): void {
    if (this.pending.size === 0) return;
    const oldest = performance.now() - this.opts.maxAgeMs;
    for (const [key, p] of this.pending) {
      if (p.startedAt >= oldest) break;
      this.drop(key, key.slice(key.indexOf('\u0000') + 1), 'age');
    }
  }

  /** Over the memory bound: drop the oldest unfinished messages, never the one just added to. */
  private shed(keep: string): void {
    for (const [key] of this.pending) {
      if (this.bytes <= this.opts.maxBytes) return;
      if (key !== keep) this.drop(key, key.slice(key.indexOf('\u0000') + 1), 'memory');
    }
    if (this.bytes > this.opts.maxBytes) this.drop(keep, keep.slice(keep.indexOf('\u0000') + 1), 'memory');
  }
}
