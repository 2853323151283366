import type { IncomingMessage } from 'node:http';
import { ErrorCode, SeatError } from '../../errors.ts';

const EMPTY = Buffer.alloc(0);

/**
 * Reads a request body of at most `maxBytes`. A declared Content-Length over the cap fails
 * before a byte is read; a chunked body fails as soon as it crosses the cap, and nothing
 * past the cap is kept (the server then closes the connection rather than drain it).
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) return Promise.reject(tooLarge(maxBytes));
  if (declared === '0' || (declared === undefined && req.headers['transfer-encoding'] === undefined)) {
    return Promise.resolve(EMPTY);
  }
  return new Promise((resolve, reject) => new BodyReader(req, maxBytes, resolve, reject).start());
}

/**
 * One body being read: its listeners are bound methods (no closures created per request) and
 * removed together; nothing past the cap is kept.
 */
class BodyReader {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private readonly onData = this.data.bind(this);
  private readonly onEnd = this.end.bind(this);
  private readonly onError = this.error.bind(this);

  constructor(
    private readonly req: IncomingMessage,
    private readonly maxBytes: number,
    private readonly resolve: (body: Buffer) => void,
    private readonly reject: (err: SeatError) => void,
  ) {}

  start(): void {
    this.req.on('data', this.onData);
    this.req.on('end', this.onEnd);
    this.req.on('error', this.onError);
  }

  private data(chunk: Buffer): void {
    this.size += chunk.length;
    if (this.size > this.maxBytes) {
      this.cleanup();
      this.req.pause();
      this.reject(tooLarge(this.maxBytes));
      return;
    }
    this.chunks.push(chunk);
  }

  private end(): void {
    this.cleanup();
    this.resolve(this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.size));
  }

  private error(err: Error): void {
    this.cleanup();
    this.reject(new SeatError(ErrorCode.INVALID_ARGUMENT, 'the request body could not be read', {}, { cause: err }));
  }

  private cleanup(): void {
    this.req.off('data', this.onData);
    this.req.off('end', this.onEnd);
    this.req.off('error', this.onError);
  }
}

function tooLarge(maxBytes: number): SeatError {
  return new SeatError(ErrorCode.PAYLOAD_TOO_LARGE, `the request body exceeds ${maxBytes} bytes`);
}

/** application/json, or any +json type, with or without parameters. */
export function isJsonContentType(value: string | undefined): boolean {
  if (value === undefined) return false;
  const semi = value.indexOf(';');
  const type = (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/**
 * Parses a JSON body. An empty body parses as `undefined` (routes with an optional body
 * treat it as `{}`). JSON.parse makes `__proto__` an own data property, never a prototype;
 * the strict schemas then reject it like any unknown key.
 */
export function parseJsonBody(req: IncomingMessage, raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  if (!isJsonContentType(req.headers['content-type']))
    throw new SeatError(ErrorCode.UNSUPPORTED_MEDIA_TYPE, 'send the body as application/json');
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new SeatError(ErrorCode.INVALID_ARGUMENT, 'the request body is not valid JSON', {}, { cause: err });
  }
}
