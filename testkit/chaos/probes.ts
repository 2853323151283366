/**
 * Hold-expiry probes: a hold with a short TTL on a show no customer touches, then the seat's
 * status polled until it is back on sale. The deadline is taken from this process's clock
 * (sent + TTL … answered + TTL), not from the server's answer, so a worker with a wrong clock
 * cannot make a wrong lifetime look right.
 */

export interface ProbeResult {
  showId: string;
  seat: string;
  ttlMs: number;
  /** When the hold was answered (ms, this process's clock); null: it could not be placed. */
  heldAt: number | null;
  /** First time the seat was seen available again; null: not within the wait. */
  freedAt: number | null;
  /**
   * How far outside [sent + TTL, answered + TTL] it was certainly freed (0: on time, as far as
   * polling can tell); null if it was not seen free.
   */
  offByMs: number | null;
}

const POLL_MS = 50;

async function getJson(url: string): Promise<{ status: number; body: any }> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return { status: r.status, body: await r.json() };
  } catch {
    return { status: 599, body: undefined };
  }
}

/**
 * Places one probe hold (retrying until `placeWithinMs`) and follows it until freed or
 * `waitMs` after its deadline. Never throws.
 */
export async function probeHold(
  gatewayUrl: string,
  showId: string,
  seat: string,
  ttlSeconds: number,
  placeWithinMs = 10_000,
  waitMs = 60_000,
): Promise<ProbeResult> {
  const ttlMs = ttlSeconds * 1000;
  const result: ProbeResult = { showId, seat, ttlMs, heldAt: null, freedAt: null, offByMs: null };
  const giveUp = Date.now() + placeWithinMs;
  let sentAt = 0;
  while (Date.now() < giveUp) {
    sentAt = Date.now();
    try {
      const r = await fetch(`${gatewayUrl}/v1/shows/${encodeURIComponent(showId)}/holds`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': `probe-${showId}-${seat}-${sentAt}` },
        body: JSON.stringify({ seats: [seat], ttlSeconds }),
        signal: AbortSignal.timeout(5_000),
      });
      await r.text();
      if (r.status === 201) {
        result.heldAt = Date.now();
        break;
      }
    } catch {
      // not placed; try again
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  if (result.heldAt === null) return result;
  const earliest = sentAt + ttlMs;
  const latest = result.heldAt + ttlMs;
  const stopAt = latest + waitMs;
  // Bounds that need no clock on the server: the seat was still held when the last poll that
  // saw it held began, and free by the time the first poll that saw it free answered.
  let lastSeenHeldAt = result.heldAt;
  while (Date.now() < stopAt) {
    const at = Date.now();
    const shown = await getJson(`${gatewayUrl}/v1/shows/${encodeURIComponent(showId)}`);
    const status =
      shown.status === 200 ? (shown.body.seats as Array<{ id: string; status: string }>).find((s) => s.id === seat)?.status : undefined;
    if (status === 'available') {
      const seenFreeBy = Date.now();
      result.freedAt = seenFreeBy;
      result.offByMs = seenFreeBy < earliest ? earliest - seenFreeBy : lastSeenHeldAt > latest ? lastSeenHeldAt - latest : 0;
      break;
    }
    if (status === 'held') lastSeenHeldAt = at;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return result;
}
