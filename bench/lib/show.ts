import { DEFAULT_LIMITS, DEFAULT_OFFERS } from '../../src/actors/defaults.ts';
import type { ShowDefinition } from '../../src/actors/types.ts';
import type { CreateShowInput } from '../../src/service/seat-service.ts';

/** The benches' show: `rows` rows (R0, R1, …) of `perRow` seats, one category, evening start. */
export function benchShowInput(id: string, rows: number, perRow: number): CreateShowInput {
  return {
    id,
    title: 'Bench',
    city: 'Pune',
    venue: 'Arena',
    startsAt: '2026-12-01T19:30:00+05:30',
    categories: [{ id: 'std', price: 10_000, currency: 'INR' }],
    layout: { sections: [{ id: 'main', rows: Array.from({ length: rows }, (_, r) => ({ label: `R${r}`, seats: perRow, category: 'std' })) }] },
  };
}

/** The same show as the core takes it, with the default limits and offers filled in. */
export function benchShowDef(id: string, rows: number, perRow: number): ShowDefinition {
  return { ...benchShowInput(id, rows, perRow), limits: { ...DEFAULT_LIMITS }, offers: { ...DEFAULT_OFFERS } } as ShowDefinition;
}
