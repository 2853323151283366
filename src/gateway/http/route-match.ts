/**
 * Turns a table of path templates (`/v1/shows/{showId}/holds/{holdId}`) into a matcher over
 * split path segments. A `{name}` segment matches any segment (the handler checks it); a
 * literal one only itself. Where a literal template and a more general one both match
 * (`bookings/cancel` and `bookings/{bookingId}`), the answer is the methods of both, the
 * general one's first, with the literal template's handler for a method both serve.
 *
 * Matching compares a few strings per candidate of the same length and allocates nothing:
 * the merged method sets are built once, here.
 */

interface Template<R> {
  segments: Array<string | null>; // null: a parameter
  methods: Record<string, R>;
  /** Its methods merged with those of every more general template. */
  merged: Readonly<Record<string, R>>;
  literals: number;
}

function matches(segments: ReadonlyArray<string | null>, rest: readonly string[]): boolean {
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i];
    if (s !== null && s !== rest[i]) return false;
  }
  return true;
}

/** Whether every path `specific` matches is matched by `general` too. */
function generalizes(general: Template<unknown>, specific: Template<unknown>): boolean {
  return general.segments.every((s, i) => s === null || s === specific.segments[i]);
}

/** Could one path match both (they differ in no literal segment)? */
function overlap(a: Template<unknown>, b: Template<unknown>): boolean {
  return a.segments.every((s, i) => s === null || b.segments[i] === null || s === b.segments[i]);
}

export function compileRoutes<R extends { method: string; path: string }>(
  routes: readonly R[],
  prefix: string,
): (rest: readonly string[]) => Readonly<Record<string, R>> | null {
  const byPath = new Map<string, Template<R>>();
  for (const r of routes) {
    if (r.path !== prefix && !r.path.startsWith(`${prefix}/`)) throw new Error(`route ${r.path} is not under ${prefix}`);
    let t = byPath.get(r.path);
    if (!t) {
      const tail = r.path.slice(prefix.length);
      const segments =
        tail === ''
          ? []
          : tail
              .slice(1)
              .split('/')
              .map((s) => (s.startsWith('{') && s.endsWith('}') ? null : s));
      t = { segments, methods: {}, merged: {}, literals: segments.filter((s) => s !== null).length };
      byPath.set(r.path, t);
    }
    if (t.methods[r.method]) throw new Error(`${r.method} ${r.path} is in the route table twice`);
    t.methods[r.method] = r;
  }
  const byLength: Array<Array<Template<R>>> = [];
  for (const t of byPath.values()) (byLength[t.segments.length] ??= []).push(t);
  for (const group of byLength) {
    if (!group) continue;
    for (const t of group) {
      const general = group.filter((g) => g !== t && generalizes(g, t)).sort((a, b) => a.literals - b.literals);
      // Two templates one path could match, neither more general: the answer would depend on order.
      for (const o of group)
        if (o !== t && overlap(o, t) && !generalizes(o, t) && !generalizes(t, o))
          throw new Error(`ambiguous routes: ${describe(o)} and ${describe(t)}`);
      t.merged = Object.freeze(Object.assign({}, ...general.map((g) => g.methods), t.methods));
    }
    // Most literal segments first: the first template that matches is the most specific.
    group.sort((a, b) => b.literals - a.literals);
  }
  return (rest) => {
    const group = byLength[rest.length];
    if (!group) return null;
    for (const t of group) if (matches(t.segments, rest)) return t.merged;
    return null;
  };
}

function describe(t: Template<unknown>): string {
  return t.segments.map((s) => s ?? '{}').join('/');
}
