import { resolve } from 'node:path';
import { intArg, listArg } from './args.ts';

/**
 * The flags the CPU benches (bench/edge-cpu, bench/durable-cpu) have in common, and their
 * parsing: each command line spreads the tables it takes into its own and gives its defaults.
 * Each keeps its own usage text.
 */

type Value = string | boolean | undefined;

/** Checkouts compared in one invocation, in alternating order each round. */
export interface CheckoutOptions {
  /** Checkout roots to compare (absolute); each runs its own src/. */
  checkouts: string[];
  rounds: number;
}

export const CHECKOUT_FLAGS = {
  checkouts: { type: 'string' },
  rounds: { type: 'string' },
} as const;

/**
 * `rounds` is the default number of rounds; `roundsComparing`, when given, the default once
 * there are two checkouts or more (a bench that runs one round of itself by default still gives
 * a comparison a median).
 */
export function checkoutArgs(
  args: { [K in keyof typeof CHECKOUT_FLAGS]?: Value },
  defaults: { rounds: number; roundsComparing?: number },
): CheckoutOptions {
  const checkouts = listArg(args.checkouts, 'checkouts', ['.']).map((p) => resolve(p));
  const fallback = checkouts.length > 1 ? (defaults.roundsComparing ?? defaults.rounds) : defaults.rounds;
  return { checkouts, rounds: intArg(args.rounds, 'rounds', fallback, 1) };
}

/** A load on shows of a profiled server: a plain window, then a profiled one. */
export interface ProfiledLoadOptions {
  /** Seconds of each window (plain, then profiled). */
  seconds: number;
  warmupSeconds: number;
  shows: number;
  /** Every n-th cycle confirms instead of releasing. */
  confirmEvery: number;
  /** Requests/s offered (0: closed loop, as fast as answers come). */
  rate: number;
  /** Sampling interval of the profiler, µs. */
  sampleUs: number;
  /** A folder to keep the raw .cpuprofile files in (open them in Chrome DevTools). */
  saveProfiles?: string | undefined;
  /** Results file (default: the bench's own in bench/results/). */
  out?: string | undefined;
}

export const PROFILED_LOAD_FLAGS = {
  seconds: { type: 'string' },
  warmup: { type: 'string' },
  shows: { type: 'string' },
  'confirm-every': { type: 'string' },
  'sample-us': { type: 'string' },
  rate: { type: 'string' },
  'save-profiles': { type: 'string' },
  out: { type: 'string' },
} as const;

export interface ProfiledLoadDefaults {
  seconds: number;
  warmupSeconds: number;
  shows: number;
  confirmEvery: number;
  sampleUs: number;
}

export function profiledLoadArgs(
  args: { [K in keyof typeof PROFILED_LOAD_FLAGS]?: Value },
  defaults: ProfiledLoadDefaults,
): ProfiledLoadOptions {
  return {
    seconds: intArg(args.seconds, 'seconds', defaults.seconds, 1),
    warmupSeconds: intArg(args.warmup, 'warmup', defaults.warmupSeconds, 0),
    shows: intArg(args.shows, 'shows', defaults.shows, 1),
    confirmEvery: intArg(args['confirm-every'], 'confirm-every', defaults.confirmEvery, 1),
    rate: intArg(args.rate, 'rate', 0, 0),
    sampleUs: intArg(args['sample-us'], 'sample-us', defaults.sampleUs, 50),
    saveProfiles: typeof args['save-profiles'] === 'string' ? resolve(args['save-profiles']) : undefined,
    out: typeof args.out === 'string' ? args.out : undefined,
  };
}
