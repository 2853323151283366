import type { ShowDefinition } from '../../src/actors/types.ts';
import { DEFAULT_LIMITS, DEFAULT_OFFERS } from '../../src/actors/defaults.ts';

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
export function showInput(id = 's1', rows = 2, seatsPerRow = 10, overrides: Partial<ShowDefinition> = {}): Omit<ShowDefinition, 'limits' | 'offers'> {
  const { limits: _limits, offers: _offers, ...input } = showDef(id, rows, seatsPerRow, overrides);
  return input;
}
