/**
 * The promises checked after each fault, on that fault's shows: every acknowledged booking is
 * readable and in the `bookings` table, no seat is in two bookings (or two holds), the seat map
 * served equals the log replayed, seat counts add up, no `confirmedAt` is in the future, and
 * hold probes ended within 1 s of their deadline. Problems come back classified, so the table can say "0 lost, 0 oversold".
 */
import pg from 'pg';
import { findProblems, type ClusterStorageRef, type Problem } from '../cluster-load.ts';
import type { AckedBooking } from './customers.ts';
import type { ProbeResult } from './probes.ts';

/** The slack a hold's end may have around its deadline. */
export const HOLD_DEADLINE_SLACK_MS = 1_000;

export interface InvariantReport {
  /** Acknowledged bookings missing from the table or not readable through the API. */
  lost: string[];
  /** A seat in two bookings or two holds. */
  oversold: string[];
  /** Counts that do not add up, or a map that differs from the log. */
  mismatched: string[];
  /** Probe holds that ended more than the slack away from their deadline (or never). */
  holdDeadlines: string[];
  /** The largest distance of a probe's end from its deadline, ms. */
  holdOffByMaxMs: number | null;
}

function classify(problems: Problem[], report: InvariantReport): void {
  for (const p of problems) report[p.kind].push(p.text);
}

export async function checkInvariants(
  gatewayUrl: string,
  ref: ClusterStorageRef,
  showIds: string[],
  acked: AckedBooking[],
  probes: ProbeResult[],
): Promise<InvariantReport> {
  const report: InvariantReport = { lost: [], oversold: [], mismatched: [], holdDeadlines: [], holdOffByMaxMs: null };
  const confirmed = new Map(acked.map((b) => [b.bookingId, { showId: b.showId, seats: b.seats }]));
  try {
    classify(await findProblems(gatewayUrl, ref, showIds, confirmed), report);
  } catch (err) {
    report.mismatched.push(`verification failed: ${String(err)}`);
  }

  // Readable through the API, with the seats it was acknowledged with.
  for (const b of acked) {
    try {
      const r = await fetch(`${gatewayUrl}/v1/shows/${encodeURIComponent(b.showId)}/bookings/${encodeURIComponent(b.bookingId)}`, {
        signal: AbortSignal.timeout(5_000),
      });
      const body = (await r.json()) as { seats?: string[]; confirmedAt?: string };
      if (r.status !== 200) report.lost.push(`booking ${b.bookingId} answered ${r.status}`);
      else if ([...(body.seats ?? [])].sort().join() !== [...b.seats].sort().join())
        report.mismatched.push(`booking ${b.bookingId} seats changed`);
      // Decided on the shared clock: never ahead of this machine's (a skewed owner's clock would be).
      else if (Date.parse(body.confirmedAt ?? '') > Date.now() + HOLD_DEADLINE_SLACK_MS)
        report.mismatched.push(`booking ${b.bookingId} confirmedAt ${body.confirmedAt} is in the future`);
    } catch (err) {
      report.lost.push(`booking ${b.bookingId} unreadable: ${String(err)}`);
    }
  }

  // Seat counts: every seat has one status, and the booked ones are exactly the confirmed rows' seats.
  const db = new pg.Client({ connectionString: ref.databaseUrl });
  try {
    await db.connect();
    for (const showId of showIds) {
      const r = await fetch(`${gatewayUrl}/v1/shows/${encodeURIComponent(showId)}`, { signal: AbortSignal.timeout(5_000) });
      if (r.status !== 200) continue; // findProblems reported it
      const seats = ((await r.json()) as { seats: Array<{ status: string }> }).seats;
      const booked = seats.filter((s) => s.status === 'booked').length;
      const rows = await db.query<{ n: string }>(
        `SELECT coalesce(sum(cardinality(seats)), 0) AS n FROM bookings WHERE show_id = $1 AND status = 'confirmed'`,
        [showId],
      );
      if (Number(rows.rows[0]?.n ?? 0) !== booked)
        report.mismatched.push(`${showId}: ${booked} seats booked, bookings table has ${rows.rows[0]?.n}`);
    }
  } catch (err) {
    report.mismatched.push(`seat count check failed: ${String(err)}`);
  } finally {
    await db.end().catch(() => undefined);
  }

  for (const p of probes) {
    if (p.heldAt === null) continue; // could not be placed during the fault: an availability cost, counted there
    if (p.offByMs === null) report.holdDeadlines.push(`${p.showId} ${p.seat}: not seen free`);
    else {
      report.holdOffByMaxMs = Math.max(report.holdOffByMaxMs ?? 0, p.offByMs);
      if (p.offByMs > HOLD_DEADLINE_SLACK_MS) report.holdDeadlines.push(`${p.showId} ${p.seat}: ended ${p.offByMs} ms off its deadline`);
    }
  }
  return report;
}
