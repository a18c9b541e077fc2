/** Minimal SVG bar charts for bench/results (no plotting dependency). */

export interface Bar {
  readonly label: string;
  readonly value: number;
  /** Optional whisker (min..max). */
  readonly low?: number;
  readonly high?: number;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function barChart(title: string, unit: string, bars: readonly Bar[]): string {
  const rowH = 28;
  const labelW = 260;
  const chartW = 420;
  const top = 40;
  const height = top + bars.length * rowH + 30;
  const max = Math.max(1, ...bars.map((b) => b.high ?? b.value)) * 1.1;
  const x = (v: number) => labelW + (v / max) * chartW;
  const rows = bars.map((b, i) => {
    const y = top + i * rowH;
    const whisker =
      b.low !== undefined && b.high !== undefined
        ? `<line x1="${x(b.low).toFixed(1)}" x2="${x(b.high).toFixed(1)}" y1="${y + 10}" y2="${y + 10}" stroke="#333" stroke-width="1.5"/>`
        : '';
    return [
      `<text x="${labelW - 8}" y="${y + 14}" text-anchor="end">${esc(b.label)}</text>`,
      `<rect x="${labelW}" y="${y + 2}" width="${Math.max(0, x(b.value) - labelW).toFixed(1)}" height="16" fill="#4a7bd0"/>`,
      whisker,
      `<text x="${(x(Math.max(b.value, b.high ?? 0)) + 6).toFixed(1)}" y="${y + 14}">${b.value.toFixed(b.value < 10 ? 2 : 0)} ${esc(unit)}</text>`,
    ].join('');
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${labelW + chartW + 120}" height="${height}" font-family="sans-serif" font-size="12">
<title>${esc(title)}</title>
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="22" font-size="15" font-weight="bold">${esc(title)}</text>
${rows.join('\n')}
</svg>
`;
}
