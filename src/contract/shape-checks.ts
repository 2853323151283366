import type { z } from 'zod';
import type { ShowReport } from '../actors/report.ts';
import type { SeatHistory } from '../actors/seat-history.ts';
import type { BookingView } from '../actors/types.ts';
import type { ShowSummary, ShowView } from '../actors/views.ts';
import type { DeltaFrameShape, ErrorFrameShape, SnapshotFrameShape } from '../gateway/ws/protocol.ts';
import type {
  BookingCancelledOut,
  BookingConfirmedOut,
  HoldExpiredOut,
  ShowCancelledOut,
  ShowChangedOut,
} from '../projections/out-events.ts';
import type { BookingGranted, BookingPage, CompactSeatMap, HoldGranted } from '../service/seat-service.ts';
import type * as E from './out-event-schemas.ts';
import type * as R from './responses.ts';
import type * as W from './ws-frames.ts';

/**
 * Compile-time only: each value the server produces (its TypeScript type) must be accepted by
 * the schema that describes it, and have no top-level field the schema leaves out, so a field
 * added to a view, a frame or an out-event and not to its schema fails `tsc` here instead of
 * going undocumented.
 */
/** `true` when every value of A is a valid D and A has no key D does not name; else says what is wrong. */
type Described<A, D> = [A] extends [D]
  ? [Exclude<keyof A, keyof D>] extends [never]
    ? true
    : { undescribed: Exclude<keyof A, keyof D> }
  : { doesNotFit: A };
type In<S extends z.ZodType> = z.input<S>;
const described = <_ extends true>(): void => undefined;

described<Described<ShowView, In<typeof R.ShowView>>>();
described<Described<CompactSeatMap, In<typeof R.CompactSeatMap>>>();
described<Described<ShowSummary, In<typeof R.ShowSummary>>>();
described<Described<HoldGranted, In<typeof R.HoldGranted>>>();
described<Described<BookingView, In<typeof R.BookingView>>>();
described<Described<BookingGranted, In<typeof R.BookingGranted>>>();
described<Described<BookingPage, In<typeof R.BookingPage>>>();
described<Described<ShowReport, In<typeof R.ShowReport>>>();
described<Described<SeatHistory, In<typeof R.SeatHistory>>>();
described<Described<SnapshotFrameShape, In<typeof W.SnapshotFrame>>>();
described<Described<DeltaFrameShape, In<typeof W.DeltaFrame>>>();
described<Described<ErrorFrameShape, In<typeof W.ErrorFrame>>>();
described<Described<BookingConfirmedOut, In<typeof E.BookingConfirmedEvent>>>();
described<Described<BookingCancelledOut, In<typeof E.BookingCancelledEvent>>>();
described<Described<HoldExpiredOut, In<typeof E.HoldExpiredEvent>>>();
described<Described<ShowCancelledOut, In<typeof E.ShowCancelledEvent>>>();
described<Described<ShowChangedOut, In<typeof E.ShowChangedEvent>>>();
