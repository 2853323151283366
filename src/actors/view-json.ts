import { forEachRowRun, seatLabels, type SeatMap } from './seat-map.ts';
import type { ShowState } from './show-state.ts';
import { SEAT_STATUSES } from './types.ts';
import { STATUS_CHARS, showHead } from './views.ts';

/**
 * The read views as JSON bytes, built from a capture of one committed version. Capturing
 * is synchronous and cheap (a copy of the status array plus the small head); serializing
 * runs from the capture, so it may be spread over many event-loop turns while the show
 * keeps committing, and still describes exactly the captured version. Pure: no I/O, no clock.
 */

/** The full view (`GET /v1/shows/{id}`) of one version, ready to serialize in slices. */
export interface FullViewCapture {
  version: number;
  /** `JSON.stringify(view)` of everything but `seats`, without its closing brace. */
  head: string;
  /** Status code per seat at `version` (a copy: the show's own array keeps changing). */
  statuses: Uint8Array;
  /** Immutable per layout version, so shared rather than copied. */
  seatMap: SeatMap;
  /** Per category index: `,"category":"gold","price":50000,"status":"`. */
  categoryParts: string[];
}

export function captureFullView(state: ShowState): FullViewCapture {
  const { seatMap, def } = state;
  // The same projection the object form uses, so both stay one shape.
  const headJson = JSON.stringify(showHead(state));
  const categoryParts = seatMap.categories.map((id) => {
    const price = def.categories.find((c) => c.id === id)?.price ?? 0;
    return `,"category":${JSON.stringify(id)},"price":${JSON.stringify(price)},"status":"`;
  });
  return {
    version: state.version,
    head: headJson.slice(0, -1),
    statuses: state.seatStatus.slice(),
    seatMap,
    categoryParts,
  };
}

/**
 * The full view's JSON in slices of `chunkSeats` seats. Byte for byte what
 * `JSON.stringify(showView(state))` gives for the captured version.
 */
export function* fullViewChunks(c: FullViewCapture, chunkSeats: number): Generator<Buffer> {
  const n = c.statuses.length;
  const { categoryOf } = c.seatMap;
  yield Buffer.from(`${c.head}${c.head.endsWith('{') ? '' : ','}"seats":[`);
  for (let from = 0; from < n; from += chunkSeats) {
    const to = Math.min(n, from + chunkSeats);
    let s = '';
    forEachRowRun(c.seatMap, from, to, (prefix, number, runFrom, runTo) => {
      // A seat number prints as digits (and `-`, `.`): only the row's prefix needs escaping.
      const id = `{"id":${JSON.stringify(prefix).slice(0, -1)}`;
      for (let i = runFrom, n = number; i < runTo; i++, n++) {
        s += `${i === 0 ? '' : ','}${id}${n}"${c.categoryParts[categoryOf[i]]}${SEAT_STATUSES[c.statuses[i]]}"}`;
      }
    });
    yield Buffer.from(s);
  }
  yield Buffer.from(']}');
}

/** What a layout version contributes to the compact form, serialized once per layout. */
export interface CompactLayoutJson {
  labels: Buffer;
  categoryOf: Buffer;
  rows: Buffer;
  /** `categoryOf` as the plain array the object form carries. */
  categoryOfArray: number[];
  /** The labels as the plain array the object form carries (the seat map derives them). */
  labelArray: string[];
}

export function compactLayoutJson(seatMap: SeatMap): CompactLayoutJson {
  const categoryOfArray = Array.from(seatMap.categoryOf);
  const labelArray = seatLabels(seatMap);
  return {
    labels: Buffer.from(JSON.stringify(labelArray)),
    categoryOf: Buffer.from(JSON.stringify(categoryOfArray)),
    rows: Buffer.from(JSON.stringify(seatMap.rows)),
    categoryOfArray,
    labelArray,
  };
}

const STATUS_BYTES = Uint8Array.from(STATUS_CHARS, (ch) => ch.charCodeAt(0));

/** One status character per seat (see STATUS_CHARS), as latin1 bytes. */
export function compactStatusBytes(statuses: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(statuses.length);
  for (let i = 0; i < statuses.length; i++) out[i] = STATUS_BYTES[statuses[i]];
  return out;
}

/**
 * The compact form's JSON: the layout parts come serialized already, so a new version
 * costs one status byte per seat and one copy. Key order matches the object form
 * (`showId, version, layoutVersion, status, labels, categoryOf, categories, seats, rows`).
 */
export function compactJson(state: ShowState, layout: CompactLayoutJson, seats: Buffer): Buffer {
  const head =
    `{"showId":${JSON.stringify(state.def.id)},"version":${state.version},"layoutVersion":${state.layoutVersion},` +
    `"status":${JSON.stringify(state.status)},"labels":`;
  return Buffer.concat([
    Buffer.from(head),
    layout.labels,
    Buffer.from(',"categoryOf":'),
    layout.categoryOf,
    Buffer.from(`,"categories":${JSON.stringify(state.def.categories)},"seats":"`),
    // Status characters need no JSON escaping.
    seats,
    Buffer.from('","rows":'),
    layout.rows,
    Buffer.from('}'),
  ]);
}
