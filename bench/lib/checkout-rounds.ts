import type { Phases } from './phases.ts';

/**
 * Checkouts measured alternately, round by round (A B, then B A, …), so a before/after pair
 * shares the machine's load and neither always runs first. A checkout's round that throws is
 * recorded by `phases` (failing the bench); the other rounds still run.
 */
export async function runCheckoutRounds<S>(
  phases: Phases,
  checkouts: readonly string[],
  rounds: number,
  measure: (root: string, round: number) => Promise<S>,
  /** Called after each measured round (a progress line). */
  report: (sample: S, root: string, round: number) => void,
): Promise<S[]> {
  const samples: S[] = [];
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 === 1 ? checkouts : [...checkouts].reverse();
    for (const root of order) {
      const s = await phases.run(`round ${round} ${root}`, () => measure(root, round));
      if (s === null) continue;
      samples.push(s);
      report(s, root, round);
    }
  }
  return samples;
}

/** The load average line every CPU bench prints under its table. */
export function loadAverageLine(before: readonly number[], after: readonly number[]): string {
  return `load average before ${before.map((l) => l.toFixed(2)).join(' ')}, after ${after.map((l) => l.toFixed(2)).join(' ')}`;
}
