/** Plain-text tables for bench output: right-aligned numbers, left-aligned text. */

export type Cell = string | number | null | undefined;

export function formatNumber(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return '-';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function renderTable(headers: string[], rows: Cell[][]): string {
  const text = rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))));
  const numberLike = (c: Cell) => c === null || c === undefined || typeof c === 'number' || /^(-|[-+]?[\d,.]+%?([+][\d,.]+%?)*)$/.test(c);
  const numeric = headers.map((_, i) => rows.every((r) => numberLike(r[i])));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? '').length)));
  const pad = (s: string, i: number) => (numeric[i] ? s.padStart(widths[i]) : s.padEnd(widths[i]));
  const line = (cells: string[]) => cells.map(pad).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...text.map(line)].join('\n');
}

/** Same rows as a GitHub-flavoured Markdown table (for README sections). */
export function renderMarkdownTable(headers: string[], rows: Cell[][]): string {
  const cell = (c: Cell) => (c === null || c === undefined ? '-' : String(c));
  const out = [`| ${headers.join(' | ')} |`, `| ${headers.map(() => '---').join(' | ')} |`];
  for (const r of rows) out.push(`| ${r.map(cell).join(' | ')} |`);
  return out.join('\n');
}
