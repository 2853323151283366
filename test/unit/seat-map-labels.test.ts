/**
 * Seat labels are derived from row spans instead of being stored per seat. These tests
 * hold the derived labels and label → index lookups to the table the seat map used to
 * keep (one label string per seat, and a Map from label to index built in seat order).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { buildSeatMap, forEachSeatLabel, seatIndexOf, seatLabelAt, seatLabels } from '../../src/actors/seat-map.ts';
import type { Category, Layout } from '../../src/actors/types.ts';

const CATEGORIES: Category[] = [
  { id: 'gold', price: 100, currency: 'INR' },
  { id: 'silver', price: 50, currency: 'INR' },
];

/** The table the seat map kept before: every label, and label → index (later seats win). */
function labelTable(layout: Layout): { labels: string[]; indexByLabel: Map<string, number> } {
  const labels: string[] = [];
  const indexByLabel = new Map<string, number>();
  // The show's unqualified section; a layout that does not say: the only one of one, none of several.
  const unqualified =
    layout.unqualifiedSection !== undefined ? layout.unqualifiedSection : layout.sections.length === 1 ? layout.sections[0].id : null;
  for (const section of layout.sections)
    for (const row of section.rows) {
      const first = row.firstNumber ?? 1;
      for (let n = 0; n < row.seats; n++) {
        const label = section.id !== unqualified ? `${section.id}:${row.label}-${first + n}` : `${row.label}-${first + n}`;
        indexByLabel.set(label, labels.length);
        labels.push(label);
      }
    }
  return { labels, indexByLabel };
}

/** Near misses of a real label: padded, signed, fractional, exponent, hex, cut, extended. */
function malformed(label: string): string[] {
  const dash = label.lastIndexOf('-');
  const head = label.slice(0, dash + 1);
  const num = label.slice(dash + 1);
  return [
    ` ${label}`,
    `${label} `,
    `${head}0${num}`,
    `${head}+${num}`,
    `${head}${num}.0`,
    `${head}${num}.5`,
    `${head}${num}e0`,
    `${head}0x${Number(num).toString(16)}`,
    `${head}${Number(num) + 1}`,
    `${head}${Number(num) - 1}`,
    head,
    label.slice(0, dash),
    `${label}-1`,
    `x${label}`,
    label.toLowerCase(),
    label.replace(':', ''),
    `main:${label}`,
  ];
}

function assertSameAsTable(layout: Layout, probes: string[] = []): void {
  const map = buildSeatMap(layout, CATEGORIES);
  const { labels, indexByLabel } = labelTable(layout);
  assert.equal(map.capacity, labels.length);
  assert.deepEqual(seatLabels(map), labels);
  for (let i = 0; i < labels.length; i++) assert.equal(seatLabelAt(map, i), labels[i], `label of seat ${i}`);
  assert.equal(seatLabelAt(map, -1), undefined);
  assert.equal(seatLabelAt(map, labels.length), undefined);
  for (const label of labels) {
    assert.equal(seatIndexOf(map, label), indexByLabel.get(label), `index of ${label}`);
    for (const probe of malformed(label))
      assert.equal(seatIndexOf(map, probe), indexByLabel.get(probe), `index of ${JSON.stringify(probe)}`);
  }
  for (const probe of probes) assert.equal(seatIndexOf(map, probe), indexByLabel.get(probe), `index of ${JSON.stringify(probe)}`);
}

const section = (id: string, rows: Array<[string, number, number?]>) => ({
  id,
  rows: rows.map(([label, seats, firstNumber], i) => ({
    label,
    seats,
    category: CATEGORIES[i % 2].id,
    ...(firstNumber !== undefined ? { firstNumber } : {}),
  })),
});

describe('seat labels derived from rows', () => {
  test('one section: `<row>-<number>`, numbers from firstNumber', () => {
    const layout: Layout = {
      sections: [
        section('main', [
          ['A', 5],
          ['B', 3, 101],
          ['C', 1, 0],
          ['AA', 12],
        ]),
      ],
    };
    assertSameAsTable(layout, ['A-01', 'A-0', 'A-1.5', ' A-1', 'A-6', 'B-100', 'B-104', 'C-1', 'main:A-1', '', '-', 'A', 'A--1', 'A-1-']);
    const map = buildSeatMap(layout, CATEGORIES);
    assert.equal(seatLabelAt(map, 5), 'B-101');
    assert.equal(seatIndexOf(map, 'C-0'), 8);
    assert.equal(seatIndexOf(map, 'A-01'), undefined);
    assert.equal(seatIndexOf(map, 'A-0'), undefined);
    assert.equal(seatIndexOf(map, 'A-1.5'), undefined);
    assert.equal(seatIndexOf(map, ' A-1'), undefined);
  });

  test('several sections: `<section>:<row>-<number>`, the same row label in each', () => {
    const layout: Layout = {
      sections: [
        section('main', [
          ['A', 4],
          ['B', 2],
        ]),
        section('bal-cony', [
          ['A', 3, 7],
          ['Z', 0],
          ['B', 2],
        ]),
        section('pit', [['A', 1]]),
      ],
    };
    assertSameAsTable(layout, [
      'A-1',
      'main:A-5',
      'bal-cony:A-6',
      'bal-cony:A-10',
      'bal-cony:Z-1',
      'pit:A-2',
      'main:A-01',
      'main:A-1.5',
      'bal:cony:A-7',
    ]);
  });

  test('the unqualified section of a show keeps `<row>-<number>` beside prefixed sections', () => {
    const layout: Layout = {
      sections: [
        section('pit', [['A', 2]]),
        section('main', [
          ['A', 3],
          ['B', 1],
        ]),
      ],
      unqualifiedSection: 'main',
    };
    assertSameAsTable(layout, ['main:A-1', 'A-4', 'pit:A-2', 'B-1']);
    assert.deepEqual(seatLabels(buildSeatMap(layout, CATEGORIES)), ['pit:A-1', 'pit:A-2', 'A-1', 'A-2', 'A-3', 'B-1']);
    assertSameAsTable({ sections: [section('main', [['A', 2]])], unqualifiedSection: null }, ['A-1']);
  });

  test('empty rows, at the start, between and at the end', () => {
    assertSameAsTable(
      {
        sections: [
          section('main', [
            ['E', 0],
            ['A', 2],
            ['F', 0],
            ['G', 0],
            ['B', 3],
            ['H', 0],
          ]),
        ],
      },
      ['E-1', 'F-1', 'H-0'],
    );
  });

  test('labels that collide (rows with `-`, negative numbers) resolve to the later seat, as the table did', () => {
    assertSameAsTable(
      {
        sections: [
          section('main', [
            ['A', 3, -2],
            ['A-', 3, 1],
            ['A-1', 3, 1],
            ['A', 2, 5],
          ]),
        ],
      },
      ['A--1', 'A--2', 'A-1-1', 'A-0', 'A-5'],
    );
  });

  test('random layouts agree with the table', () => {
    const rowArb = fc.record({
      label: fc.constantFrom('A', 'B', 'AA', 'R10', 'A_1', 'A-', 'A-1'),
      seats: fc.integer({ min: 0, max: 12 }),
      category: fc.constantFrom('gold', 'silver'),
      firstNumber: fc.option(fc.integer({ min: -3, max: 99_999 }), { nil: undefined }),
    });
    const sectionArb = fc.record({
      id: fc.constantFrom('main', 'pit', 'bal-cony', 'A', 'm'),
      rows: fc.array(rowArb, { maxLength: 6 }),
    });
    const probeArb = fc.string({ unit: fc.constantFrom('A', 'B', '-', ':', '1', '0', '2', ' ', '.', 'm', 'a', 'i', 'n'), maxLength: 10 });
    fc.assert(
      fc.property(
        fc.array(sectionArb, { minLength: 1, maxLength: 3 }),
        fc.array(probeArb, { maxLength: 30 }),
        fc.constantFrom(undefined, null, 'main', 'pit', 'gone'),
        (sections, probes, unqualifiedSection) => {
          const layout: Layout = {
            sections: sections.map((s) => ({
              id: s.id,
              rows: s.rows.map(({ firstNumber, ...r }) => (firstNumber === undefined ? r : { ...r, firstNumber })),
            })),
            ...(unqualifiedSection !== undefined ? { unqualifiedSection } : {}),
          };
          assertSameAsTable(layout, probes);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('walking a range of seats gives the labels of that range', () => {
    const layout: Layout = {
      sections: [
        section('main', [
          ['A', 4],
          ['B', 0],
          ['C', 5, 10],
        ]),
        section('pit', [['A', 3]]),
      ],
    };
    const map = buildSeatMap(layout, CATEGORIES);
    const { labels } = labelTable(layout);
    for (let from = 0; from <= labels.length; from++)
      for (let to = from; to <= labels.length + 1; to++) {
        const seen: Array<[string, number]> = [];
        forEachSeatLabel(map, from, to, (label, seat) => seen.push([label, seat]));
        assert.deepEqual(
          seen,
          labels.slice(from, to).map((l, k) => [l, from + k]),
        );
      }
  });
});
