/** Show builders shared by tests and benches. */
import type { ShowDefinition } from '../src/actors/types.ts';
import { DEFAULT_LIMITS, DEFAULT_OFFERS } from '../src/actors/defaults.ts';
import type { CreateShowInput } from '../src/service/seat-service.ts';

/** Row labels A…Z, then R26, R27…: enough for stadium-sized fixtures. */
export function rowLabel(r: number): string {
  return r < 26 ? String.fromCharCode(65 + r) : `R${r}`;
}

/** A show of `rows` rows × `seatsPerRow` seats, one category, evening start (no afternoon offer). */
export function showDef(id = 's1', rows = 2, seatsPerRow = 10, overrides: Partial<ShowDefinition> = {}): ShowDefinition {
  return {
    id,
    title: 'Dune',
    city: 'Pune',
    venue: 'Screen 1',
    startsAt: '2026-12-01T19:30:00+05:30',
    categories: [{ id: 'gold', price: 50000, currency: 'INR' }],
    layout: {
      sections: [
        {
          id: 'main',
          rows: Array.from({ length: rows }, (_, r) => ({ label: rowLabel(r), seats: seatsPerRow, category: 'gold' })),
        },
      ],
    },
    limits: { ...DEFAULT_LIMITS },
    offers: { ...DEFAULT_OFFERS },
    ...overrides,
  };
}

/** The same show as a client sends it (limits and offers left to the defaults). */
export function showInput(
  id = 's1',
  rows = 2,
  seatsPerRow = 10,
  overrides: Partial<ShowDefinition> = {},
): Omit<ShowDefinition, 'limits' | 'offers'> {
  const { limits: _limits, offers: _offers, ...input } = showDef(id, rows, seatsPerRow, overrides);
  return input;
}

/** The benches' show: `rows` rows (R0, R1, …) of `perRow` seats, one category, evening start. */
export function benchShowInput(id: string, rows: number, perRow: number): CreateShowInput {
  return {
    id,
    title: 'Bench',
    city: 'Pune',
    venue: 'Arena',
    startsAt: '2026-12-01T19:30:00+05:30',
    categories: [{ id: 'std', price: 10_000, currency: 'INR' }],
    layout: {
      sections: [{ id: 'main', rows: Array.from({ length: rows }, (_, r) => ({ label: `R${r}`, seats: perRow, category: 'std' })) }],
    },
  };
}

/** The same show as the core takes it, with the default limits and offers filled in. */
export function benchShowDef(id: string, rows: number, perRow: number): ShowDefinition {
  return { ...benchShowInput(id, rows, perRow), limits: { ...DEFAULT_LIMITS }, offers: { ...DEFAULT_OFFERS } } as ShowDefinition;
}
