/**
 * soak.svg, hand-written like bench/compare/svg.ts: panels stacked over one time axis, a
 * polyline per series, the warm-up shaded, and each series' least-squares trend after the
 * warm-up drawn dashed with its slope per hour in the legend.
 */

export interface SeriesSpec {
  name: string;
  color: string;
  points: Array<{ t: number; v: number }>;
  /** The trend line after the warm-up: v = intercept + perHour/3600 · t. */
  trend?: { intercept: number; perHour: number; fromT: number };
  /** How the legend prints the slope, e.g. "+1.2 MB/h". */
  slopeLabel?: string;
}

export interface PanelSpec {
  title: string;
  unit: string;
  series: SeriesSpec[];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

const tick = (v: number) =>
  Math.abs(v) >= 1000 ? v.toLocaleString('en-US', { maximumFractionDigits: 0 }) : String(Math.round(v * 100) / 100);

export function renderSoakSvg(title: string, subtitle: string, panels: PanelSpec[], endSec: number, warmUpSec: number): string {
  const width = 900;
  const left = 80;
  const right = 260;
  const plotW = width - left - right;
  const panelH = 150;
  const gap = 50;
  const top = 64;
  const height = top + panels.length * (panelH + gap) + 10;
  const tMax = Math.max(1, endSec);
  const x = (t: number) => left + (t / tMax) * plotW;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="24" font-size="15" font-weight="bold">${esc(title)}</text>`,
    `<text x="${left}" y="42" fill="#555">${esc(subtitle)}</text>`,
  ];
  panels.forEach((panel, pi) => {
    const y0 = top + pi * (panelH + gap);
    const values = panel.series.flatMap((s) => s.points.map((p) => p.v)).filter(Number.isFinite);
    const max = niceMax(Math.max(0, ...values) * 1.05);
    const y = (v: number) => y0 + panelH - (Math.max(0, Math.min(max, v)) / max) * panelH;
    out.push(`<text x="${left}" y="${y0 - 8}" font-weight="bold">${esc(panel.title)} (${esc(panel.unit)})</text>`);
    out.push(`<rect x="${left}" y="${y0}" width="${x(warmUpSec) - left}" height="${panelH}" fill="#f2f2f2"/>`);
    out.push(`<rect x="${left}" y="${y0}" width="${plotW}" height="${panelH}" fill="none" stroke="#ccc"/>`);
    for (let k = 0; k <= 4; k++) {
      const v = (max * k) / 4;
      out.push(`<line x1="${left}" x2="${left + plotW}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`);
      out.push(`<text x="${left - 4}" y="${y(v) + 4}" text-anchor="end" fill="#333">${tick(v)}</text>`);
    }
    const minutes = tMax / 60;
    const step = minutes <= 12 ? 1 : minutes <= 60 ? 5 : 15;
    for (let m = 0; m <= minutes; m += step) {
      out.push(`<text x="${x(m * 60)}" y="${y0 + panelH + 14}" text-anchor="middle" fill="#777">${m} min</text>`);
    }
    panel.series.forEach((s, si) => {
      const pts = s.points.filter((p) => Number.isFinite(p.v));
      if (pts.length > 0) {
        const d = pts.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ');
        out.push(`<polyline points="${d}" fill="none" stroke="${s.color}" stroke-width="1.8"/>`);
      }
      if (s.trend) {
        const { intercept, perHour, fromT } = s.trend;
        const at = (t: number) => intercept + (perHour / 3600) * t;
        out.push(
          `<line x1="${x(fromT)}" x2="${x(tMax)}" y1="${y(at(fromT))}" y2="${y(at(tMax))}" stroke="${s.color}" stroke-width="1.2" stroke-dasharray="5,4"/>`,
        );
      }
      const ly = y0 + 14 + si * 30;
      out.push(`<rect x="${left + plotW + 14}" y="${ly - 9}" width="12" height="12" fill="${s.color}"/>`);
      out.push(`<text x="${left + plotW + 32}" y="${ly + 1}">${esc(s.name)}</text>`);
      if (s.slopeLabel) out.push(`<text x="${left + plotW + 32}" y="${ly + 15}" fill="#555">${esc(s.slopeLabel)}</text>`);
    });
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
