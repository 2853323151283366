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
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        cleanup();
        req.pause();
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new SeatError(ErrorCode.INVALID_ARGUMENT, 'the request body could not be read', {}, { cause: err }));
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
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
