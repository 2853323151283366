/**
 * Pure: what customers saw around one fault, from the attempt log. Phases: during =
 * [injected, healed); after = [healed, settled). An error is a 5xx or no answer (599); 4xx
 * answers (sold out, expired hold) are the API working.
 */
import type { Attempt, Op } from './customers.ts';

export interface FaultWindow {
  injectedAt: number;
  healedAt: number;
  settledAt: number;
}

export interface PhaseStats {
  attempts: number;
  errors: number;
  /** errors / attempts, in % (null without attempts). */
  errorPct: number | null;
}

export interface FaultSummary {
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
  /** Error codes seen during and after, with counts. */
  codes: Record<string, number>;
}

const AFTER_GRACE_MS = 1_000;

export function isError(a: Attempt): boolean {
  return a.status >= 500;
}

function phase(attempts: Attempt[]): PhaseStats {
  const errors = attempts.filter(isError).length;
  return { attempts: attempts.length, errors, errorPct: attempts.length ? Math.round((errors / attempts.length) * 10_000) / 100 : null };
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] as number;
}

function recover(attempts: Attempt[], w: FaultWindow, op?: Op): number {
  let last = w.healedAt;
  for (const a of attempts) if ((op === undefined || a.op === op) && isError(a) && a.endedAt >= w.healedAt && a.endedAt < w.settledAt) last = Math.max(last, a.endedAt);
  return last - w.healedAt;
}

export function summarize(all: Attempt[], w: FaultWindow): FaultSummary {
  // An attempt belongs to the phase it started in.
  const during = all.filter((a) => a.startedAt >= w.injectedAt && a.startedAt < w.healedAt);
  const after = all.filter((a) => a.startedAt >= w.healedAt + AFTER_GRACE_MS && a.startedAt < w.settledAt);
  const codes: Record<string, number> = {};
  for (const a of all) {
    if (a.startedAt < w.injectedAt || a.startedAt >= w.settledAt || !isError(a)) continue;
    const k = a.code ?? String(a.status);
    codes[k] = (codes[k] ?? 0) + 1;
  }
  return {
    during: phase(during),
    duringHolds: phase(during.filter((a) => a.op === 'hold')),
    duringConfirms: phase(during.filter((a) => a.op === 'confirm')),
    failLatencyP50Ms: median(during.filter(isError).map((a) => a.endedAt - a.startedAt)),
    recoverMs: recover(all, w),
    holdRecoverMs: recover(all, w, 'hold'),
    confirmRecoverMs: recover(all, w, 'confirm'),
    after: phase(after),
    codes,
  };
}
