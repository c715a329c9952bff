// Bar charts drawn as SVG by our own code (no library, nothing fetched): grouped or stacked bars
// per period, a value axis with round ticks, and a legend. Colours come from admin.css (.s0-.s3).
// A chart is drawn at the width its box has on screen (and again when that changes), one SVG
// unit per CSS pixel, so its labels keep their size on a phone instead of shrinking with it.

// The SVG namespace, read from an <svg> the HTML parser made (index.html) rather than written here.
const NS = document.getElementById("svg-namespace").namespaceURI;
const WIDTH = 720; // before the box is on screen
const H = 240;
const PAD = { left: 56, right: 8, top: 10, bottom: 34 };
// Room for one period label under the bars (a short date at the labels' size).
const LABEL_ROOM = 64;

function svgEl(tag, attrs = {}, text = null) {
  const node = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== null) node.textContent = text;
  return node;
}

function niceMax(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/**
 * A bar chart in a box that redraws it at the box's width. `labels`: one per period; `series`:
 * [{name, values}] (one value per label). `stacked`: bars on top of each other (else side by
 * side). `title`: the accessible name.
 */
export function barChart(options) {
  const box = document.createElement("div");
  box.className = "chart-box";
  let drawnAt = WIDTH;
  box.append(drawBars(options, WIDTH));
  new ResizeObserver(() => {
    const width = Math.floor(box.clientWidth);
    if (width > 0 && width !== drawnAt) {
      drawnAt = width;
      box.replaceChildren(drawBars(options, width));
    }
  }).observe(box);
  return box;
}

function drawBars({ labels, series, stacked = false, title, format = String }, W) {
  const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, role: "img" });
  svg.append(svgEl("title", {}, title));
  const totals = labels.map((_, i) =>
    stacked ? series.reduce((sum, s) => sum + s.values[i], 0) : Math.max(0, ...series.map((s) => s.values[i])),
  );
  const top = niceMax(Math.max(0, ...totals));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const y = (v) => PAD.top + plotH - (v / top) * plotH;
  for (let k = 0; k <= 4; k += 1) {
    const v = (top * k) / 4;
    svg.append(svgEl("line", { class: "grid", x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v) }));
    svg.append(svgEl("text", { class: "tick", x: PAD.left - 6, y: y(v) + 4, "text-anchor": "end" }, format(v)));
  }
  const slot = plotW / Math.max(1, labels.length);
  const groupW = Math.max(1, slot * 0.8);
  const every = Math.ceil(labels.length / Math.max(2, Math.floor(plotW / LABEL_ROOM)));
  labels.forEach((label, i) => {
    const x0 = PAD.left + i * slot + (slot - groupW) / 2;
    let base = 0;
    series.forEach((s, j) => {
      const v = s.values[i];
      if (!v) return;
      const width = stacked ? groupW : groupW / series.length;
      const x = stacked ? x0 : x0 + j * width;
      const from = stacked ? base : 0;
      const rect = svgEl("rect", {
        class: `s${j}`,
        x: x.toFixed(2),
        y: y(from + v).toFixed(2),
        width: Math.max(0.5, width - 0.5).toFixed(2),
        height: Math.max(0.5, y(from) - y(from + v)).toFixed(2),
      });
      rect.append(svgEl("title", {}, `${label} — ${s.name}: ${format(v)}`));
      svg.append(rect);
      if (stacked) base += v;
    });
    if (i % every === 0) {
      svg.append(svgEl("text", { class: "tick", x: x0 + groupW / 2, y: H - PAD.bottom + 16, "text-anchor": "middle" }, label));
    }
  });
  svg.append(svgEl("line", { class: "axis", x1: PAD.left, x2: W - PAD.right, y1: y(0), y2: y(0) }));
  return svg;
}

/** The legend of a chart's series. */
export function legend(names) {
  const list = document.createElement("ul");
  list.className = "legend";
  names.forEach((name, j) => {
    const item = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = `swatch s${j}`;
    swatch.setAttribute("aria-hidden", "true");
    item.append(swatch, name);
    list.append(item);
  });
  return list;
}
