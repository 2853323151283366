import { ErrorCode, SeatError } from '../../src/errors.ts';
import type { AppendBatch, EventLog, LogEntry, PipelinedAppend } from '../../src/core/ports.ts';

/**
 * What happens to one append (numbered from 0 in call order): `wait` and `delayMs` put off
 * telling the writer its outcome; `fail` tells it UNAVAILABLE, either without writing
 * ('before-write': nothing reaches the log) or after the write landed ('after-write': the
 * acknowledgement was lost).
 */
export interface AppendStep {
  wait?: Promise<unknown>;
  delayMs?: number;
  fail?: 'before-write' | 'after-write';
}

const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * An EventLog in front of a real one whose appends are delayed or fail as `plan` says. Keeps,
 * synchronously, the ids of the holds and bookings whose batches reached the inner log, so a
 * test can tell whether a state it reads shows anything not written. With `pipelined`, the
 * inner log's appendPipelined (if it has one) is passed on, so a writer learns seqs early.
 */
export class FaultyLog implements EventLog {
  /** Hold ids (SeatsHeld) and booking ids (BookingConfirmed) of batches the inner log committed. */
  readonly writtenHolds = new Set<string>();
  readonly writtenBookings = new Set<string>();
  calls = 0;
  readonly appendPipelined?: (showId: string, batch: AppendBatch, expectedLastSeq: number) => PipelinedAppend;

  constructor(
    readonly inner: EventLog,
    private readonly plan: (n: number, batch: AppendBatch) => AppendStep,
    pipelined: boolean,
  ) {
    if (pipelined && inner.appendPipelined) this.appendPipelined = (showId, batch, expected) => this.run(showId, batch, expected);
  }

  append(showId: string, batch: AppendBatch, expectedLastSeq: number): Promise<number> {
    return this.run(showId, batch, expectedLastSeq).committed;
  }

  private run(showId: string, batch: AppendBatch, expectedLastSeq: number): PipelinedAppend {
    const step = this.plan(this.calls++, batch);
    const told = async () => {
      if (step.wait) await step.wait;
      if (step.delayMs) await pause(step.delayMs);
    };
    if (step.fail === 'before-write')
      return {
        seq: null,
        committed: told().then(() => {
          throw new SeatError(ErrorCode.UNAVAILABLE, 'injected append failure (nothing written)');
        }),
      };
    const started = this.inner.appendPipelined
      ? this.inner.appendPipelined(showId, batch, expectedLastSeq)
      : { seq: null, committed: this.inner.append(showId, batch, expectedLastSeq) };
    const committed = started.committed.then(async (seq) => {
      for (const e of batch.events) {
        if (e.type === 'SeatsHeld') this.writtenHolds.add(e.holdId);
        if (e.type === 'BookingConfirmed') this.writtenBookings.add(e.bookingId);
      }
      await told();
      if (step.fail === 'after-write') throw new SeatError(ErrorCode.UNAVAILABLE, 'injected append failure (written, answer lost)');
      return seq;
    });
    return { seq: this.appendPipelined ? started.seq : null, committed };
  }

  read(showId: string, afterSeq: number): AsyncIterable<LogEntry> {
    return this.inner.read(showId, afterSeq);
  }

  lastSeq(showId: string): Promise<number> {
    return this.inner.lastSeq(showId);
  }

  showIds(): Promise<string[]> {
    return this.inner.showIds();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
