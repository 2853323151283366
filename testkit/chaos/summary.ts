/**
 * Pure: what customers saw around one fault, from the attempt log. Phases: before =
 * [started, injected); during = [injected, healed); after = [healed + 1 s, settled). An error is a 5xx or no answer (599); 4xx
 * answers (sold out, expired hold) are the API working.
 */
import { percentile } from '../percentile.ts';
import type { Attempt, Op } from './customers.ts';

export interface FaultWindow {
  /** Customers started (the baseline runs until the fault). */
  startedAt: number;
  injectedAt: number;
  healedAt: number;
  settledAt: number;
}

export interface PhaseStats {
  attempts: number;
  errors: number;
  /** Operations answered 2xx per second of the phase (a stall shows here, not in errorPct). */
  okPerSec: number | null;
  /** errors / attempts, in % (null without attempts). */
  errorPct: number | null;
}

export interface FaultSummary {
  before: PhaseStats;
  during: PhaseStats;
  duringHolds: PhaseStats;
  duringConfirms: PhaseStats;
  /** Median time a failed attempt during the fault took to fail (fast failure vs a full deadline). */
  failLatencyP50Ms: number | null;
  /** From heal to the end of the last failed attempt (0: none failed after heal), per op and overall. */
  recoverMs: number;
  holdRecoverMs: number;
  confirmRecoverMs: number;
  /** The after phase minus its first second (the fault's own tail). */
  after: PhaseStats;
  /**
   * Confirms and releases of a hold the customer had just been given that were answered 404 or
   * 403 (from injection to settle): not an outage but a wrong answer, e.g. from a second
   * process answering from memory.
   */
  wrongAnswers: number;
  /** Error codes (and wrong answers' codes) seen during and after, with counts. */
  codes: Record<string, number>;
}

const AFTER_GRACE_MS = 1_000;

export function isError(a: Attempt): boolean {
  return a.status >= 500;
}

export function isWrongAnswer(a: Attempt): boolean {
  return (a.op === 'confirm' || a.op === 'release') && (a.status === 404 || a.status === 403);
}

function phase(attempts: Attempt[], fromMs: number, toMs: number): PhaseStats {
  const errors = attempts.filter(isError).length;
  const ok = attempts.filter((a) => a.status >= 200 && a.status < 300).length;
  return {
    attempts: attempts.length,
    errors,
    okPerSec: toMs > fromMs ? Math.round((ok / (toMs - fromMs)) * 10_000) / 10 : null,
    errorPct: attempts.length ? Math.round((errors / attempts.length) * 10_000) / 100 : null,
  };
}

/** The nearest-rank p50 (a real sample, the lower middle for an even count); null when empty. */
function p50OrNull(values: number[]): number | null {
  return values.length === 0 ? null : percentile(values, 50);
}

function recover(attempts: Attempt[], w: FaultWindow, op?: Op): number {
  let last = w.healedAt;
  for (const a of attempts)
    if ((op === undefined || a.op === op) && isError(a) && a.endedAt >= w.healedAt && a.endedAt < w.settledAt)
      last = Math.max(last, a.endedAt);
  return last - w.healedAt;
}

export function summarize(all: Attempt[], w: FaultWindow): FaultSummary {
  // An attempt belongs to the phase it started in.
  const inPhase = (from: number, to: number) => all.filter((a) => a.startedAt >= from && a.startedAt < to);
  const before = inPhase(w.startedAt, w.injectedAt);
  const during = inPhase(w.injectedAt, w.healedAt);
  const afterFrom = Math.min(w.healedAt + AFTER_GRACE_MS, w.settledAt);
  const after = inPhase(afterFrom, w.settledAt);
  const inFault = (list: Attempt[]) => phase(list, w.injectedAt, w.healedAt);
  const codes: Record<string, number> = {};
  let wrongAnswers = 0;
  for (const a of all) {
    if (a.startedAt < w.injectedAt || a.startedAt >= w.settledAt) continue;
    const wrong = isWrongAnswer(a);
    if (wrong) wrongAnswers++;
    if (!wrong && !isError(a)) continue;
    const k = a.code ?? String(a.status);
    codes[k] = (codes[k] ?? 0) + 1;
  }
  return {
    before: phase(before, w.startedAt, w.injectedAt),
    during: inFault(during),
    duringHolds: inFault(during.filter((a) => a.op === 'hold')),
    duringConfirms: inFault(during.filter((a) => a.op === 'confirm')),
    failLatencyP50Ms: p50OrNull(during.filter(isError).map((a) => a.endedAt - a.startedAt)),
    recoverMs: recover(all, w),
    holdRecoverMs: recover(all, w, 'hold'),
    confirmRecoverMs: recover(all, w, 'confirm'),
    after: phase(after, afterFrom, w.settledAt),
    wrongAnswers,
    codes,
  };
}
