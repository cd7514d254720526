import { Resvg } from '@resvg/resvg-js';
import { DateTime } from 'luxon';
import type { DailyFigures } from '../care/stats-workload.js';

/**
 * The daily chart of `/care-stats`: new cases a day as bars, and the share of those cases
 * answered within the first-response SLA as a line (right axis, 0–100 %). Drawn as SVG here and
 * rendered to PNG by resvg, so no browser or canvas library is needed on the server.
 */

const WIDTH = 1000;
const HEIGHT = 500;
const M = { top: 70, right: 70, bottom: 60, left: 70 };
const BAR = '#4A90D9';
const LINE = '#E8833A';
const GRID = '#E3E6EA';
const INK = '#1D1C1D';
const MUTED = '#616061';
const FONT = "'DejaVu Sans', 'Helvetica Neue', Arial, sans-serif";

export interface ChartOptions {
  title: string;
  zone: string;
}

export function statsChartSvg(days: DailyFigures[], o: ChartOptions): string {
  const plotW = WIDTH - M.left - M.right;
  const plotH = HEIGHT - M.top - M.bottom;
  const maxOpened = niceMax(Math.max(0, ...days.map((d) => d.opened)));
  const slot = plotW / Math.max(1, days.length);
  const barW = Math.max(1, slot * 0.7);
  const x = (i: number) => M.left + slot * i + slot / 2;
  const yCount = (n: number) => M.top + plotH - (n / maxOpened) * plotH;
  const yShare = (share: number) => M.top + plotH - share * plotH;
  const parts: string[] = [];

  parts.push(`<rect width="${WIDTH}" height="${HEIGHT}" fill="#FFFFFF"/>`);
  parts.push(text(M.left, 32, o.title, { size: 20, weight: 'bold' }));
  parts.push(`<rect x="${M.left}" y="44" width="14" height="14" fill="${BAR}"/>`);
  parts.push(text(M.left + 20, 56, 'New cases', { size: 13, fill: MUTED }));
  parts.push(
    `<line x1="${M.left + 120}" y1="51" x2="${M.left + 144}" y2="51" stroke="${LINE}" stroke-width="3"/>`,
  );
  parts.push(text(M.left + 150, 56, 'First answer within SLA (right axis)', { size: 13, fill: MUTED }));

  const steps = 4;
  for (let i = 0; i <= steps; i++) {
    const y = M.top + plotH - (plotH * i) / steps;
    parts.push(`<line x1="${M.left}" y1="${y}" x2="${M.left + plotW}" y2="${y}" stroke="${GRID}"/>`);
    parts.push(text(M.left - 8, y + 4, String(Math.round((maxOpened * i) / steps)), { anchor: 'end' }));
    parts.push(text(M.left + plotW + 8, y + 4, `${(100 * i) / steps}%`, { fill: LINE }));
  }

  days.forEach((d, i) => {
    if (d.opened === 0) return;
    const top = yCount(d.opened);
    parts.push(
      `<rect x="${(x(i) - barW / 2).toFixed(1)}" y="${top.toFixed(1)}" width="${barW.toFixed(1)}" height="${(M.top + plotH - top).toFixed(1)}" fill="${BAR}"/>`,
    );
  });

  // Days without a first-response deadline that passed or was met break the line.
  let path = '';
  let drawing = false;
  const dots: string[] = [];
  days.forEach((d, i) => {
    const s = d.firstResponseWithinSla;
    if (!s.of) {
      drawing = false;
      return;
    }
    const y = yShare(s.hits / s.of).toFixed(1);
    path += `${drawing ? 'L' : 'M'}${x(i).toFixed(1)} ${y} `;
    drawing = true;
    dots.push(`<circle cx="${x(i).toFixed(1)}" cy="${y}" r="4" fill="${LINE}"/>`);
  });
  if (path) parts.push(`<path d="${path.trim()}" fill="none" stroke="${LINE}" stroke-width="3"/>`);
  parts.push(...dots);

  const every = Math.max(1, Math.ceil(days.length / 15));
  days.forEach((d, i) => {
    if (i % every !== 0) return;
    const day = DateTime.fromISO(d.day, { zone: o.zone });
    parts.push(text(x(i), M.top + plotH + 20, day.toFormat('ccc'), { anchor: 'middle', fill: MUTED }));
    parts.push(text(x(i), M.top + plotH + 38, day.toFormat('d LLL'), { anchor: 'middle' }));
  });
  parts.push(
    `<line x1="${M.left}" y1="${M.top + plotH}" x2="${M.left + plotW}" y2="${M.top + plotH}" stroke="${MUTED}"/>`,
  );

  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}">${parts.join('')}</svg>`;
}

/** The SVG as PNG bytes. Text uses the system's fonts (DejaVu Sans where installed). */
export function renderPng(svg: string): Buffer {
  const resvg = new Resvg(svg, {
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
    background: '#FFFFFF',
  });
  return resvg.render().asPng();
}

export function statsChartPng(days: DailyFigures[], o: ChartOptions): Buffer {
  return renderPng(statsChartSvg(days, o));
}

/** A round axis maximum at or above `n`: four ticks of 1, 2, 2.5 or 5 × 10ⁿ, whole numbers. */
export function niceMax(n: number): number {
  const raw = Math.max(1, n / 4);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const factors = magnitude >= 10 ? [1, 2, 2.5, 3, 5, 10] : [1, 2, 3, 5, 10];
  const step = (factors.find((f) => f * magnitude >= raw) ?? 10) * magnitude;
  return step * 4;
}

function text(
  x: number,
  y: number,
  content: string,
  o: { size?: number; weight?: string; fill?: string; anchor?: 'start' | 'middle' | 'end' } = {},
): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" font-family="${FONT}" font-size="${o.size ?? 12}" font-weight="${o.weight ?? 'normal'}" fill="${o.fill ?? INK}" text-anchor="${o.anchor ?? 'start'}">${escapeXml(content)}</text>`;
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
