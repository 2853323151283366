import { ErrorCode, SeatError } from '../errors.ts';
import { buildSeatMap, seatLabels } from './seat-map.ts';
import type { ShowChanges, ShowDefinition } from './types.ts';

/** Largest show the core accepts; 100,000-seat stadiums fit with room to spare. */
export const MAX_SEATS_PER_SHOW = 200_000;

function invalid(message: string, path: string): SeatError {
  return new SeatError(ErrorCode.INVALID_ARGUMENT, message, { fields: [{ path, message }] });
}

/**
 * Domain checks a schema cannot express: references between categories and rows, unique
 * labels, one currency, limits that agree. Returns the first problem, or null.
 */
export function checkDefinition(def: ShowDefinition): SeatError | null {
  const categoryIds = new Set<string>();
  for (const [i, c] of def.categories.entries()) {
    if (categoryIds.has(c.id)) return invalid(`duplicate category "${c.id}"`, `categories.${i}.id`);
    categoryIds.add(c.id);
    if (c.currency !== def.categories[0].currency)
      return invalid('all categories of a show must share one currency', `categories.${i}.currency`);
  }
  if (categoryIds.size === 0) return invalid('a show needs at least one category', 'categories');
  let capacity = 0;
  const sectionIds = new Set<string>();
  for (const [si, section] of def.layout.sections.entries()) {
    if (sectionIds.has(section.id)) return invalid(`duplicate section "${section.id}"`, `layout.sections.${si}.id`);
    sectionIds.add(section.id);
    const rowLabels = new Set<string>();
    for (const [ri, row] of section.rows.entries()) {
      const path = `layout.sections.${si}.rows.${ri}`;
      if (rowLabels.has(row.label)) return invalid(`duplicate row "${row.label}" in section "${section.id}"`, `${path}.label`);
      rowLabels.add(row.label);
      if (!categoryIds.has(row.category)) return invalid(`unknown category "${row.category}"`, `${path}.category`);
      capacity += row.seats;
    }
  }
  if (capacity === 0) return invalid('a show needs at least one seat', 'layout');
  if (capacity > MAX_SEATS_PER_SHOW) return invalid(`a show may have at most ${MAX_SEATS_PER_SHOW} seats`, 'layout');
  const l = def.limits;
  if (l.holdTtlSeconds > l.maxHoldSeconds) return invalid('holdTtlSeconds must not exceed maxHoldSeconds', 'limits.holdTtlSeconds');
  if (Number.isNaN(Date.parse(def.startsAt))) return invalid('startsAt is not a valid date-time', 'startsAt');
  return null;
}

/**
 * At creation, a chosen unqualified section must be one of the layout's. (A later layout may
 * drop it: the other sections keep their prefixed ids, and a section of that id added back
 * is unqualified again.)
 */
export function checkUnqualifiedSection(layout: ShowDefinition['layout']): SeatError | null {
  const id = layout.unqualifiedSection;
  if (id === undefined || id === null || layout.sections.some((s) => s.id === id)) return null;
  return invalid(`unqualifiedSection "${id}" is not a section of the layout`, 'layout.unqualifiedSection');
}

/** Seat labels of a definition, for checks that need them without building state. */
export function labelsOf(def: ShowDefinition): Set<string> {
  return new Set(seatLabels(buildSeatMap(def.layout, def.categories)));
}

export function applyChanges(def: ShowDefinition, changes: ShowChanges): ShowDefinition {
  return {
    ...def,
    ...(changes.title !== undefined ? { title: changes.title } : {}),
    ...(changes.city !== undefined ? { city: changes.city } : {}),
    ...(changes.venue !== undefined ? { venue: changes.venue } : {}),
    ...(changes.startsAt !== undefined ? { startsAt: changes.startsAt } : {}),
    ...(changes.categories !== undefined ? { categories: changes.categories } : {}),
    ...(changes.layout !== undefined ? { layout: changes.layout } : {}),
    limits: { ...def.limits, ...changes.limits },
    offers: { ...def.offers, ...changes.offers },
    ...(changes.cancellationPolicy !== undefined ? { cancellationPolicy: changes.cancellationPolicy } : {}),
  };
}
