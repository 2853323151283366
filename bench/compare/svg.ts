import type { PhaseRecord } from './phase.ts';

/**
 * compare.svg, hand-written: one panel per phase, a bar per backend for successful
 * holds/s (left axis, linear), and on each bar a whisker from hold p50 (dot) to p99
 * (cap) on the right axis (milliseconds, log scale).
 */

const COLORS: Record<string, string> = {
  'seat-cluster-durable': '#1f77b4',
  'seat-cluster-embedded': '#6baed6',
  'seat-cluster-cluster': '#08519c',
  'postgres-row-lock': '#d62728',
  'redis-lua': '#ff7f0e',
  'memory-floor': '#7f7f7f',
  restate: '#2ca02c',
  external: '#9467bd',
};

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (n: number) => (n >= 10_000 ? `${Math.round(n / 1000)}k` : n >= 1000 ? `${(n / 1000).toFixed(1)}k` : `${Math.round(n)}`);

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export function renderSvg(
  results: PhaseRecord[],
  phases: string[],
  backends: string[],
  skipped: Array<{ backend: string; reason: string }>,
  title: string,
): string {
  const panelW = 300;
  const panelH = 260;
  const top = 60;
  const left = 60;
  const gap = 70;
  const width = left + phases.length * (panelW + gap);
  const legendY = top + panelH + 50;
  const height = legendY + 24 * Math.ceil(backends.length / 3) + 20 + 16 * skipped.length;
  const latMin = 0.1;
  const latMax = 10_000;
  const latY = (ms: number) =>
    top + panelH - (Math.log10(Math.min(latMax, Math.max(latMin, ms)) / latMin) / Math.log10(latMax / latMin)) * panelH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="24" font-size="15" font-weight="bold">${esc(title)}</text>`,
    `<text x="${left}" y="42" fill="#555">bars: successful holds/s (left axis) · whiskers: hold latency p50 (dot) to p99 (cap), ms, log scale (right axis)</text>`,
  ];
  phases.forEach((phase, pi) => {
    const x0 = left + pi * (panelW + gap);
    const rows = backends.map((b) => results.find((r) => r.backend === b && r.phase === phase));
    const max = niceMax(Math.max(0, ...rows.map((r) => r?.holdsPerSec ?? 0)));
    const y = (v: number) => top + panelH - (v / max) * panelH;
    out.push(`<text x="${x0 + panelW / 2}" y="${top - 6}" text-anchor="middle" font-weight="bold">${esc(phase)}</text>`);
    out.push(`<rect x="${x0}" y="${top}" width="${panelW}" height="${panelH}" fill="none" stroke="#ccc"/>`);
    for (let t = 0; t <= 4; t++) {
      const v = (max * t) / 4;
      out.push(`<line x1="${x0}" x2="${x0 + panelW}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`);
      out.push(`<text x="${x0 - 4}" y="${y(v) + 4}" text-anchor="end" fill="#333">${fmt(v)}</text>`);
    }
    for (const ms of [0.1, 1, 10, 100, 1000, 10000]) {
      out.push(`<text x="${x0 + panelW + 4}" y="${latY(ms) + 4}" fill="#777">${ms >= 1000 ? `${ms / 1000}s` : `${ms}`}</text>`);
    }
    const slot = panelW / Math.max(1, backends.length);
    rows.forEach((r, bi) => {
      const cx = x0 + slot * bi + slot / 2;
      const color = COLORS[backends[bi]] ?? '#888';
      if (!r) {
        out.push(`<text x="${cx}" y="${top + panelH - 6}" text-anchor="middle" fill="#999">n/a</text>`);
        return;
      }
      const bw = slot * 0.6;
      out.push(
        `<rect x="${cx - bw / 2}" y="${y(r.holdsPerSec)}" width="${bw}" height="${top + panelH - y(r.holdsPerSec)}" fill="${color}" opacity="0.85"><title>${esc(`${r.backend} ${phase}: ${r.holdsPerSec} holds/s`)}</title></rect>`,
      );
      out.push(`<text x="${cx - bw * 0.1}" y="${y(r.holdsPerSec) - 4}" text-anchor="end">${fmt(r.holdsPerSec)}</text>`);
      // The whisker sits on the bar's right half so it does not cover the value label.
      const wx = cx + bw * 0.25;
      const y50 = latY(r.p50Ms);
      const y99 = latY(r.p99Ms);
      out.push(`<line x1="${wx}" x2="${wx}" y1="${y50}" y2="${y99}" stroke="black" stroke-width="1.5"/>`);
      out.push(`<line x1="${wx - 5}" x2="${wx + 5}" y1="${y99}" y2="${y99}" stroke="black" stroke-width="1.5"/>`);
      out.push(`<circle cx="${wx}" cy="${y50}" r="3" fill="black"><title>${esc(`p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms`)}</title></circle>`);
    });
  });
  backends.forEach((b, i) => {
    const lx = left + (i % 3) * 260;
    const ly = legendY + Math.floor(i / 3) * 24;
    out.push(`<rect x="${lx}" y="${ly - 10}" width="14" height="14" fill="${COLORS[b] ?? '#888'}"/>`);
    out.push(`<text x="${lx + 20}" y="${ly + 2}">${esc(b)}</text>`);
  });
  skipped.forEach((s, i) => {
    const sy = legendY + 24 * Math.ceil(backends.length / 3) + 10 + i * 16;
    out.push(`<text x="${left}" y="${sy}" fill="#a00">${esc(`skipped ${s.backend}: ${s.reason.slice(0, 160)}`)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
