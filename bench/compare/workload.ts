/**
 * The comparison's workloads (one phase each) and the shows they run on. Every backend
 * gets the same shows, labels and client behaviour.
 */

export const PHASES = ['hot-show', 'spread', 'best-available'] as const;
export type PhaseName = (typeof PHASES)[number];

export interface PhaseSpec {
  name: PhaseName;
  /** Shows live at once; each is reset (recreated under a new id) once 90 % booked. */
  slots: number;
  seatsPerShow: number;
  /** `seats`: pick free-looking seats; `count`: ask for best available together. */
  mode: 'seats' | 'count';
  seatsPerHold: number;
  /** Share of successful holds that are confirmed; the rest are released. */
  confirmRatio: number;
}

export interface WorkloadSizes {
  hotSeats: number;
  spreadShows: number;
  spreadSeats: number;
  bestSeats: number;
}

export const DEFAULT_SIZES: WorkloadSizes = { hotSeats: 10_000, spreadShows: 1_000, spreadSeats: 500, bestSeats: 10_000 };
export const DEFAULT_CONFIRM_RATIO = 0.7;
/** A show is reset once this share of its seats is booked. */
export const RESET_BOOKED_SHARE = 0.9;

export function phaseSpec(name: PhaseName, sizes: WorkloadSizes): PhaseSpec {
  switch (name) {
    case 'hot-show':
      return { name, slots: 1, seatsPerShow: sizes.hotSeats, mode: 'seats', seatsPerHold: 2, confirmRatio: DEFAULT_CONFIRM_RATIO };
    case 'spread':
      return {
        name,
        slots: sizes.spreadShows,
        seatsPerShow: sizes.spreadSeats,
        mode: 'seats',
        seatsPerHold: 2,
        confirmRatio: DEFAULT_CONFIRM_RATIO,
      };
    case 'best-available':
      return { name, slots: 1, seatsPerShow: sizes.bestSeats, mode: 'count', seatsPerHold: 4, confirmRatio: DEFAULT_CONFIRM_RATIO };
    default: {
      const never: never = name;
      throw new Error(`unknown phase ${String(never)}`);
    }
  }
}

/** Rows of a show: 100 seats wide for big halls, 25 for small ones. */
export function shape(seats: number): { rows: number; perRow: number } {
  const perRow = seats >= 2_500 ? 100 : Math.min(25, seats);
  return { rows: Math.ceil(seats / perRow), perRow };
}

/** A, B, …, Z, AA, AB, … (spreadsheet-style). */
export function rowLabel(i: number): string {
  let n = i + 1;
  let s = '';
  while (n > 0) {
    const r = (n - 1) % 26;
    s = String.fromCharCode(65 + r) + s;
    n = Math.floor((n - 1) / 26);
  }
  return s;
}

/** Seat labels in index order, as the API derives them from `showBody`'s layout. */
export function seatLabels(seats: number): string[] {
  const { rows, perRow } = shape(seats);
  const out: string[] = [];
  for (let r = 0; r < rows; r++) for (let n = 1; n <= perRow; n++) out.push(`${rowLabel(r)}-${n}`);
  return out;
}

/** The POST /v1/shows body: one section, the front fifth gold, the rest silver. */
export function showBody(id: string, seats: number): Record<string, unknown> {
  const { rows, perRow } = shape(seats);
  const goldRows = Math.max(1, Math.floor(rows / 5));
  const startsAt = new Date(Date.now() + 60 * 86_400_000).toISOString().slice(0, 10);
  return {
    id,
    title: `Bench ${id}`,
    city: 'Pune',
    venue: 'Bench Hall',
    startsAt: `${startsAt}T19:30:00+05:30`,
    categories: [
      { id: 'gold', price: 50_000, currency: 'INR' },
      { id: 'silver', price: 30_000, currency: 'INR' },
    ],
    layout: {
      sections: [
        {
          id: 'main',
          rows: Array.from({ length: rows }, (_, r) => ({ label: rowLabel(r), seats: perRow, category: r < goldRows ? 'gold' : 'silver' })),
        },
      ],
    },
  };
}
