/** Small SVG charts (no library, CSP-safe): line charts with gaps for null, and horizontal bars. */
const NS = "http://www.w3.org/2000/svg";
export const PALETTE = ["#3c8dde", "#f2c12e", "#e0403a", "#39b36b", "#b46be0", "#e08a3a", "#4fd1d9", "#d94f9b"];

function el(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

export interface Series { name: string; color?: string; points: [number, number | null][] }

/** A line chart of several series over a shared x axis; `null` y values break the line. */
export function lineChart(series: Series[], opts: { width?: number; height?: number; yMin?: number; yMax?: number; title?: string; xLabel?: string; xTime?: boolean; id?: string } = {}): SVGSVGElement {
  const W = opts.width ?? 460, H = opts.height ?? 220, L = 44, R = 110, T = 22, B = 30;
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: "chart", role: "img" }) as SVGSVGElement;
  if (opts.id) svg.id = opts.id;
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]).filter((y): y is number => y !== null && Number.isFinite(y)));
  let x0 = Math.min(...xs), x1 = Math.max(...xs);
  if (!xs.length) { x0 = 0; x1 = 1; }
  if (x1 === x0) { x0 -= 1; x1 += 1; }
  let y0 = opts.yMin ?? (ys.length ? Math.min(...ys) : 0), y1 = opts.yMax ?? (ys.length ? Math.max(...ys) : 1);
  if (y1 === y0) { y0 -= 0.5; y1 += 0.5; }
  const px = (x: number) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const py = (y: number) => T + (1 - (y - y0) / (y1 - y0)) * (H - T - B);
  if (opts.title) svg.append(el("text", { x: L, y: 14, fill: "#e6e9ef", "font-size": 12 }, opts.title));
  svg.append(el("rect", { x: L, y: T, width: W - L - R, height: H - T - B, fill: "none", stroke: "#2e3440" }));
  for (let i = 0; i <= 4; i++) {
    const y = y0 + ((y1 - y0) * i) / 4;
    svg.append(el("line", { x1: L, x2: W - R, y1: py(y), y2: py(y), stroke: "#2e3440" }));
    svg.append(el("text", { x: L - 4, y: py(y) + 4, fill: "#98a2b3", "font-size": 10, "text-anchor": "end" }, y.toFixed(Math.abs(y1 - y0) < 5 ? 2 : 0)));
  }
  const xt = (x: number) => opts.xTime ? new Date(x).toLocaleDateString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" }) : String(Math.round(x * 100) / 100);
  for (const x of [x0, x1]) svg.append(el("text", { x: px(x), y: H - B + 14, fill: "#98a2b3", "font-size": 10, "text-anchor": x === x0 ? "start" : "end" }, xt(x)));
  if (opts.xLabel) svg.append(el("text", { x: (L + W - R) / 2, y: H - 4, fill: "#98a2b3", "font-size": 10, "text-anchor": "middle" }, opts.xLabel));
  series.forEach((s, k) => {
    const color = s.color ?? PALETTE[k % PALETTE.length];
    let d = "", pen = false;
    for (const [x, y] of s.points) {
      if (y === null || !Number.isFinite(y)) { pen = false; continue; }
      d += `${pen ? "L" : "M"}${px(x).toFixed(1)},${py(y).toFixed(1)}`; pen = true;
      svg.append(el("circle", { cx: px(x), cy: py(y), r: 2.5, fill: color }));
    }
    if (d) svg.append(el("path", { d, fill: "none", stroke: color, "stroke-width": 1.8, "data-series": s.name }));
    svg.append(el("rect", { x: W - R + 8, y: T + k * 15, width: 10, height: 10, fill: color }));
    svg.append(el("text", { x: W - R + 22, y: T + k * 15 + 9, fill: "#e6e9ef", "font-size": 11 }, s.name));
  });
  return svg;
}

/** Horizontal bars with values in 0..max; `null` shows as "n/a". */
export function barChart(rows: { name: string; value: number | null; color?: string }[], opts: { width?: number; max?: number; title?: string; threshold?: number; id?: string } = {}): SVGSVGElement {
  const W = opts.width ?? 460, rowH = 18, L = 210, T = opts.title ? 22 : 4;
  const H = T + rows.length * rowH + 6;
  const max = opts.max ?? Math.max(1e-9, ...rows.map((r) => r.value ?? 0));
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: "chart", role: "img" }) as SVGSVGElement;
  if (opts.id) svg.id = opts.id;
  if (opts.title) svg.append(el("text", { x: 0, y: 14, fill: "#e6e9ef", "font-size": 12 }, opts.title));
  rows.forEach((r, i) => {
    const y = T + i * rowH;
    svg.append(el("text", { x: L - 6, y: y + 12, fill: "#e6e9ef", "font-size": 11, "text-anchor": "end" }, r.name));
    const w = r.value === null ? 0 : Math.max(1, (r.value / max) * (W - L - 50));
    svg.append(el("rect", { x: L, y: y + 2, width: w, height: rowH - 5, fill: r.color ?? (opts.threshold !== undefined && r.value !== null && r.value < opts.threshold ? "#e0403a" : "#3c8dde") }));
    svg.append(el("text", { x: L + w + 4, y: y + 12, fill: "#98a2b3", "font-size": 11 }, r.value === null ? "n/a" : r.value.toFixed(3)));
  });
  if (opts.threshold !== undefined) {
    const x = L + (opts.threshold / max) * (W - L - 50);
    svg.append(el("line", { x1: x, x2: x, y1: T, y2: H - 4, stroke: "#f2c12e", "stroke-dasharray": "3,3" }));
  }
  return svg;
}
