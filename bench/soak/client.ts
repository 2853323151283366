import { createClient, SeatClientError, type SeatClient } from '../../src/client/index.ts';

/**
 * The soak's calls go through the typed client with one attempt each: a refused call is
 * counted by its stable code, not retried, so every latency is one request's.
 */
export function soakClient(url: string, adminToken: string): SeatClient {
  return createClient({ url, adminToken, attempts: 1 });
}

export interface Outcome<T> {
  /** The stable error code when the call failed (`NETWORK` when no answer came); null on success. */
  code: string | null;
  value: T | undefined;
}

/** A call's answer or its error code (anything but a SeatClientError is a bug and is thrown). */
export async function outcome<T>(call: Promise<T>): Promise<Outcome<T>> {
  try {
    return { code: null, value: await call };
  } catch (err) {
    if (err instanceof SeatClientError) return { code: err.code, value: undefined };
    throw err;
  }
}
