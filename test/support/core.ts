import { countSeatsByCustomer } from '../../src/actors/customer-seats.ts';
import { decide } from '../../src/actors/decide.ts';
import { evolve } from '../../src/actors/evolve.ts';
import type { ShowState } from '../../src/actors/show-state.ts';
import type { CommandReply, ShowCommand, ShowDefinition } from '../../src/actors/types.ts';
import type { SeatError } from '../../src/errors.ts';
import { showDef } from '../../testkit/shows.ts';
import { seatIndexOf } from '../../src/actors/seat-map.ts';
import { showReport } from '../../src/actors/report.ts';
import { salesOf, seatTally } from '../../src/actors/report-tally.ts';

/** Drives the pure core directly: decide, then evolve, like the shell does for one command. */
export class CoreDriver {
  state: ShowState | null = null;
  now = Date.parse('2026-11-01T10:00:00Z');

  constructor(def: ShowDefinition | null = showDef(), blockedSeats?: string[]) {
    if (def) this.ok({ type: 'createShow', def, ...(blockedSeats ? { blockedSeats } : {}) });
  }

  get s(): ShowState {
    if (!this.state) throw new Error('no show');
    return this.state;
  }

  run(cmd: ShowCommand): { reply?: CommandReply; error?: SeatError } {
    const d = decide(this.state, cmd, this.now);
    if (!d.ok) return { error: d.error };
    for (const e of d.events) this.state = evolve(this.state, e);
    return { reply: d.reply };
  }

  ok<T extends CommandReply['type']>(cmd: ShowCommand & { type: T }): Extract<CommandReply, { type: T }> {
    const r = this.run(cmd);
    if (r.error) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
    return r.reply as Extract<CommandReply, { type: T }>;
  }

  /** Runs a command expected to fail and returns its error code (and checks nothing changed). */
  fails(cmd: ShowCommand): string {
    const before = this.state ? { version: this.state.version, seats: Buffer.from(this.state.seatStatus).toString('hex') } : null;
    const r = this.run(cmd);
    if (!r.error) throw new Error(`expected an error from ${cmd.type}`);
    const after = this.state ? { version: this.state.version, seats: Buffer.from(this.state.seatStatus).toString('hex') } : null;
    if (JSON.stringify(before) !== JSON.stringify(after)) throw new Error('a failed command changed state');
    return r.error.code;
  }

  statusOf(label: string): number {
    return this.s.seatStatus[seatIndexOf(this.s.seatMap, label) as number];
  }
}

/** available + held + booked + blocked = capacity, and the counts match the array. */
export function checkAccounting(state: ShowState): void {
  const c = state.counts;
  const capacity = state.seatStatus.length;
  if (c.available + c.held + c.booked + c.blocked !== capacity) throw new Error('counts do not add up to capacity');
  const actual = [0, 0, 0, 0];
  for (const s of state.seatStatus) actual[s]++;
  if (actual[0] !== c.available || actual[1] !== c.held || actual[2] !== c.booked || actual[3] !== c.blocked)
    throw new Error(`counts ${JSON.stringify(c)} differ from the seat array ${JSON.stringify(actual)}`);
  const owner = new Map<number, string>();
  for (const h of state.holds.values())
    for (const s of h.seats) {
      if (owner.has(s)) throw new Error(`seat ${s} in two holds`);
      if (state.seatStatus[s] !== 1) throw new Error(`held seat ${s} not marked held`);
      owner.set(s, h.holdId);
    }
  const booked = new Set<string>();
  for (const b of state.bookings.values()) {
    if (b.status !== 'confirmed') continue;
    for (const label of b.seats) {
      if (booked.has(label)) throw new Error(`seat ${label} booked twice`);
      booked.add(label);
      const idx = seatIndexOf(state.seatMap, label);
      if (idx !== undefined && state.seatStatus[idx] !== 2) throw new Error(`booked seat ${label} not marked booked`);
    }
  }
  if (booked.size !== c.booked) throw new Error(`booked count ${c.booked} but bookings cover ${booked.size}`);
  if (owner.size !== c.held) throw new Error(`held count ${c.held} but holds cover ${owner.size}`);
  // The per-customer count evolve keeps equals the one rebuilt from holds and bookings.
  const kept = JSON.stringify([...state.seatsByCustomer].sort());
  const rebuilt = JSON.stringify([...countSeatsByCustomer(state.holds.values(), state.bookings.values())].sort());
  if (kept !== rebuilt) throw new Error(`seats by customer ${kept} differ from holds and bookings ${rebuilt}`);
  checkReport(state);
}

/**
 * The report's counters: per-category and per-section counts add up to the seat counts (and
 * so to capacity), equal the ones rebuilt from the seat array, and sales equal the bookings.
 */
export function checkReport(state: ShowState): void {
  const r = showReport(state);
  const c = state.counts;
  const statuses = ['available', 'held', 'booked', 'blocked'] as const;
  if (statuses.reduce((n, k) => n + r.seats[k], 0) !== state.seatStatus.length) throw new Error('report seats do not add up to capacity');
  for (const [what, groups] of [
    ['categories', r.categories],
    ['sections', r.sections],
  ] as const)
    for (const k of statuses) {
      const sum = Object.values(groups).reduce((n, g) => n + g[k], 0);
      if (sum !== c[k]) throw new Error(`report ${what} count ${k} ${sum}, seats ${c[k]}`);
    }
  const fresh = seatTally(state.seatMap, state.seatStatus);
  if (JSON.stringify([fresh.byCategory, fresh.bySection]) !== JSON.stringify([state.tally.byCategory, state.tally.bySection]))
    throw new Error('kept seat tally differs from the seat array');
  const confirmed = [...state.bookings.values()].filter((b) => b.status === 'confirmed');
  if (r.sales.bookings !== confirmed.length) throw new Error(`report bookings ${r.sales.bookings}, confirmed ${confirmed.length}`);
  if (r.sales.seats !== confirmed.reduce((n, b) => n + b.seats.length, 0))
    throw new Error('report seats sold differ from confirmed bookings');
  const rebuiltSales = salesOf(state.bookings.values(), state.forgottenSales);
  if (JSON.stringify(rebuiltSales) !== JSON.stringify(state.sales))
    throw new Error(`kept sales ${JSON.stringify(state.sales)} differ from bookings ${JSON.stringify(rebuiltSales)}`);
  if (r.sales.net !== r.sales.gross - r.sales.refunded) throw new Error('net is not gross - refunded');
}
