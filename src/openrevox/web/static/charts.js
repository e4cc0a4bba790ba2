// openrevox dashboard: the overview's charts, drawn as SVG from the figures the page
// carries (data-series). Bundled with the app: no library, no CDN.
"use strict";

const SVG = "http://www.w3.org/2000/svg";

function el(name, attrs, text) {
  const node = document.createElementNS(SVG, name);
  Object.entries(attrs).forEach(([k, v]) => node.setAttribute(k, String(v)));
  if (text !== undefined) node.textContent = text;
  return node;
}

// Calls per day: a bar per day (all attempts), the answered part drawn over it.
function bars(box, series) {
  const width = 1000, height = 220, pad = 28;
  const max = Math.max(1, ...series.map((d) => d.calls));
  const step = (width - pad) / Math.max(series.length, 1);
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, class: "svg-chart", role: "img" });
  svg.appendChild(el("text", { x: 0, y: 12, class: "axis" }, String(max)));
  series.forEach((d, i) => {
    const x = pad + i * step;
    const h = ((height - 40) * d.calls) / max;
    const a = ((height - 40) * d.answered) / max;
    const bar = el("rect", { x, y: height - 20 - h, width: step * 0.8, height: h, class: "bar" });
    bar.appendChild(el("title", {}, `${d.day}: ${d.calls} calls, ${d.answered} answered`));
    bar.dataset.day = d.day;
    bar.dataset.calls = d.calls;
    svg.appendChild(bar);
    svg.appendChild(el("rect", { x, y: height - 20 - a, width: step * 0.8, height: a, class: "bar answered" }));
    if (series.length <= 31 && (i % Math.ceil(series.length / 10) === 0)) {
      svg.appendChild(el("text", { x, y: height - 4, class: "axis" }, d.day.slice(5)));
    }
  });
  box.appendChild(svg);
}

// Results: a horizontal bar per result.
function hbars(box, series) {
  const width = 1000, row = 24, label = 220;
  const max = Math.max(1, ...series.map((d) => d.count));
  const svg = el("svg", { viewBox: `0 0 ${width} ${Math.max(series.length, 1) * row}`, class: "svg-chart", role: "img" });
  series.forEach((d, i) => {
    svg.appendChild(el("text", { x: 0, y: i * row + 16, class: "axis" }, d.result));
    const w = ((width - label - 60) * d.count) / max;
    svg.appendChild(el("rect", { x: label, y: i * row + 4, width: w, height: row - 8, class: "bar" }));
    svg.appendChild(el("text", { x: label + w + 6, y: i * row + 16, class: "axis" }, String(d.count)));
  });
  box.appendChild(svg);
}

// Results over time: a line per result, cumulative, one point per minute.
const PALETTE = ["#2f5bd3", "#147a3f", "#b42318", "#9a5b00", "#6b21a8", "#0e7490", "#6b7280"];

function lines(box, data) {
  const width = 1000, height = 200, pad = 30;
  const minutes = data.minutes || [];
  const names = Object.keys(data.results || {});
  if (!minutes.length) {
    box.appendChild(document.createTextNode("No call has ended yet."));
    return;
  }
  const max = Math.max(1, ...names.map((n) => Math.max(...data.results[n])));
  const x = (i) => pad + (minutes.length === 1 ? (width - pad) / 2 : (i * (width - 2 * pad)) / (minutes.length - 1));
  const y = (v) => height - 20 - ((height - 40) * v) / max;
  const svg = el("svg", { viewBox: `0 0 ${width} ${height + 20 * names.length}`, class: "svg-chart", role: "img" });
  svg.appendChild(el("text", { x: 0, y: 12, class: "axis" }, String(max)));
  svg.appendChild(el("text", { x: pad, y: height - 4, class: "axis" }, minutes[0].slice(11)));
  svg.appendChild(el("text", { x: width - pad - 40, y: height - 4, class: "axis" }, minutes[minutes.length - 1].slice(11)));
  names.forEach((name, k) => {
    const color = PALETTE[k % PALETTE.length];
    const points = data.results[name].map((v, i) => `${x(i)},${y(v)}`).join(" ");
    const line = el("polyline", { points, fill: "none", stroke: color, "stroke-width": 2 });
    line.dataset.result = name;
    line.dataset.last = data.results[name][minutes.length - 1];
    svg.appendChild(line);
    data.results[name].forEach((v, i) => svg.appendChild(el("circle", { cx: x(i), cy: y(v), r: 3, fill: color })));
    svg.appendChild(el("rect", { x: pad, y: height + 6 + 20 * k, width: 12, height: 12, fill: color }));
    svg.appendChild(el("text", { x: pad + 18, y: height + 16 + 20 * k, class: "axis" }, `${name}: ${data.results[name][minutes.length - 1]}`));
  });
  box.appendChild(svg);
}

function drawCharts(root) {
  root.querySelectorAll("[data-chart]").forEach((box) => {
    if (box.dataset.drawn) return;
    box.dataset.drawn = "1";
    const series = JSON.parse(box.dataset.series || "[]");
    ({ hbars, lines }[box.dataset.chart] || bars)(box, series);
  });
}
window.drawCharts = drawCharts;

document.addEventListener("DOMContentLoaded", () => drawCharts(document));
