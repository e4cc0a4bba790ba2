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

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-chart]").forEach((box) => {
    const series = JSON.parse(box.dataset.series || "[]");
    (box.dataset.chart === "hbars" ? hbars : bars)(box, series);
  });
});
