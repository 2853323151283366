import { benchShowInput } from '../../testkit/shows.ts';
import type { CreateShowInput } from '../../src/service/seat-service.ts';

/**
 * The soak's shows and their layouts. A layout change adds or removes one extra row at the
 * back, so the runner keeps each show's base rows and whether the extra row is there.
 */

export const SEATS_PER_BIG_ROW = 400;
export const SMALL_ROWS = 10;
export const SMALL_PER_ROW = 20;
export const SMALL_SEATS = SMALL_ROWS * SMALL_PER_ROW;
/** The row a layout change adds and the next one removes (never a base row's label). */
export const EXTRA_ROW = 'XTRA';

export interface SoakShow {
  id: string;
  rows: number;
  perRow: number;
  /** Whether the extra row is in the current layout. */
  extra: boolean;
}

export function bigShow(seats: number): SoakShow {
  const perRow = Math.min(SEATS_PER_BIG_ROW, seats);
  return { id: 'soak-big', rows: Math.ceil(seats / perRow), perRow, extra: false };
}

export function smallShows(count: number): SoakShow[] {
  return Array.from({ length: count }, (_, i) => ({ id: `soak-s${i}`, rows: SMALL_ROWS, perRow: SMALL_PER_ROW, extra: false }));
}

export function createBody(show: SoakShow): CreateShowInput {
  return benchShowInput(show.id, show.rows, show.perRow);
}

/** The PATCH body that flips the extra row (the show's `extra` flag is flipped by the caller on success). */
export function layoutFlipBody(show: SoakShow): { layout: CreateShowInput['layout'] } {
  const { layout } = benchShowInput(show.id, show.rows, show.perRow);
  if (!show.extra) layout.sections[0].rows.push({ label: EXTRA_ROW, seats: show.perRow, category: 'std' });
  return { layout };
}

/** A random seat label of a base row (`R<row>-<n>`, numbers from 1). */
export function randomSeat(show: SoakShow, rnd: () => number): { row: number; n: number } {
  return { row: Math.floor(rnd() * show.rows), n: 1 + Math.floor(rnd() * show.perRow) };
}
