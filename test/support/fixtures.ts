import type { ShowDefinition } from '../../src/actors/types.ts';
import { DEFAULT_LIMITS, DEFAULT_OFFERS } from '../../src/actors/defaults.ts';

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
          rows: Array.from({ length: rows }, (_, r) => ({ label: String.fromCharCode(65 + r), seats: seatsPerRow, category: 'gold' })),
        },
      ],
    },
    limits: { ...DEFAULT_LIMITS },
    offers: { ...DEFAULT_OFFERS },
    ...overrides,
  };
}
