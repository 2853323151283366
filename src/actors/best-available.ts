import { SEAT_AVAILABLE } from './types.ts';
import type { SeatMap } from './seat-map.ts';

/**
 * Picks `count` available seats side by side in one row, or null when no row has room.
 *
 * Choice, in order: a placement that leaves no orphan (a single free seat boxed in by taken
 * seats or a row end) beats one that does; then the row nearer the front of the layout;
 * then the placement nearer the row's centre. Pure: reads the arrays, changes nothing.
 */
export function findBestAvailable(seatMap: SeatMap, seatStatus: Uint8Array, count: number, categoryIndex: number | null): number[] | null {
  let best: { start: number; orphans: number; rowRank: number; centreDistance: number } | null = null;
  const fits = (i: number) => seatStatus[i] === SEAT_AVAILABLE && (categoryIndex === null || seatMap.categoryOf[i] === categoryIndex);

  seatMap.rows.forEach((row, rowRank) => {
    if (best && best.orphans === 0 && best.rowRank < rowRank) return;
    const end = row.start + row.count;
    const centre = row.start + (row.count - count) / 2;
    let runStart = -1;
    for (let i = row.start; i <= end; i++) {
      if (i < end && fits(i)) {
        if (runStart < 0) runStart = i;
        continue;
      }
      if (runStart >= 0) {
        const runLength = i - runStart;
        for (let start = runStart; start + count <= i; start++) {
          const left = start - runStart;
          const right = runLength - count - left;
          const orphans = (left === 1 ? 1 : 0) + (right === 1 ? 1 : 0);
          const centreDistance = Math.abs(start - centre);
          if (
            !best ||
            orphans < best.orphans ||
            (orphans === best.orphans && (rowRank < best.rowRank || (rowRank === best.rowRank && centreDistance < best.centreDistance)))
          ) {
            best = { start, orphans, rowRank, centreDistance };
          }
        }
        runStart = -1;
      }
    }
  });
  if (!best) return null;
  const { start } = best as { start: number };
  return Array.from({ length: count }, (_, k) => start + k);
}
