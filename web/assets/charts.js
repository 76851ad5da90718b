// Small SVG line charts for amp's web UI: time on x (seconds since the
// start), one or more series on y, grid lines, a hover cross-hair with a
// tooltip. No dependencies; works offline.
"use strict";

(function (global) {
  const SVG = "http://www.w3.org/2000/svg";
  const PAD = { left: 46, right: 10, top: 10, bottom: 24 };
  const MAX_POINTS = 600; // beyond this, seconds are averaged into buckets

  function el(name, attrs, parent) {
    const e = document.createElementNS(SVG, name);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }

  // niceStep returns a round step (1, 2, 2.5, 5 × 10^k) giving about n ticks.
  function niceStep(range, n) {
    const raw = range / Math.max(n, 1);
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * mag >= raw) return m * mag;
    return 10 * mag;
  }

  const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400];

  function clock(s) {
    s = Math.round(s);
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    const mm = String(m).padStart(2, "0"), ss = String(sec).padStart(2, "0");
    return h > 0 ? h + ":" + mm + ":" + ss : mm + ":" + ss;
  }

  function fmtNum(v) {
    if (v == null || !isFinite(v)) return "–";
    const a = Math.abs(v);
    if (a >= 10000) return (v / 1000).toFixed(a >= 100000 ? 0 : 1) + "k";
    if (a >= 100) return Math.round(v).toLocaleString("en-US");
    if (a >= 10) return v.toFixed(1).replace(/\.0$/, "");
    if (a === 0) return "0";
    return v.toFixed(2).replace(/0$/, "").replace(/\.0$/, "");
  }

  // bucket averages xs/ys down to at most MAX_POINTS points.
  function bucket(xs, ys) {
    const n = xs.length;
    if (n <= MAX_POINTS) return { xs, ys };
    const size = Math.ceil(n / MAX_POINTS);
    const bx = [], by = ys.map(() => []);
    for (let i = 0; i < n; i += size) {
      const j = Math.min(n, i + size);
      bx.push(xs[j - 1]);
      ys.forEach((y, k) => {
        let sum = 0, cnt = 0;
        for (let t = i; t < j; t++) if (y[t] != null) { sum += y[t]; cnt++; }
        by[k].push(cnt ? sum / cnt : null);
      });
    }
    return { xs: bx, ys: by };
  }

  class LineChart {
    // opts: {series: [{label, color, area}], unit, integer}
    constructor(container, opts) {
      this.box = container;
      this.opts = opts;
      this.xs = [];
      this.ys = opts.series.map(() => []);
      this.tip = document.createElement("div");
      this.tip.className = "tooltip";
      this.tip.hidden = true;
      this.box.appendChild(this.tip);
      this.svg = el("svg", { role: "img", "aria-label": opts.title || "chart" });
      this.box.insertBefore(this.svg, this.tip);
      this.hoverIdx = -1;
      this.svg.addEventListener("mousemove", (ev) => this.onMove(ev));
      this.svg.addEventListener("mouseleave", () => { this.hoverIdx = -1; this.tip.hidden = true; this.drawHover(); });
      if (global.ResizeObserver) new ResizeObserver(() => this.render()).observe(this.box);
      this.render();
    }

    setData(xs, ys) {
      this.xs = xs;
      this.ys = ys;
      this.render();
    }

    render() {
      const w = this.box.clientWidth, h = this.box.clientHeight;
      if (!w || !h) return;
      const svg = this.svg;
      while (svg.firstChild) svg.removeChild(svg.firstChild);
      svg.setAttribute("viewBox", "0 0 " + w + " " + h);
      this.w = w; this.h = h;
      const pw = w - PAD.left - PAD.right, ph = h - PAD.top - PAD.bottom;
      const d = bucket(this.xs, this.ys);
      this.view = d;

      let x0 = d.xs.length ? d.xs[0] : 0, x1 = d.xs.length ? d.xs[d.xs.length - 1] : 60;
      if (x1 - x0 < 10) x1 = x0 + 10;
      let ymax = 0;
      d.ys.forEach((y) => y.forEach((v) => { if (v != null && v > ymax) ymax = v; }));
      if (ymax <= 0) ymax = this.opts.integer ? 5 : 1;
      const ystep = niceStep(ymax, 4);
      const ytop = Math.max(ystep, Math.ceil((ymax * 1.05) / ystep) * ystep);
      const sx = (x) => PAD.left + ((x - x0) / (x1 - x0)) * pw;
      const sy = (y) => PAD.top + ph - (y / ytop) * ph;
      this.sx = sx; this.sy = sy; this.x0 = x0; this.x1 = x1; this.pw = pw;

      const grid = el("g", { class: "grid" }, svg);
      const axis = el("g", { class: "axis" }, svg);
      for (let v = 0; v <= ytop + ystep / 1e6; v += ystep) {
        const y = Math.round(sy(v)) + 0.5;
        el("line", { x1: PAD.left, x2: w - PAD.right, y1: y, y2: y }, grid);
        const t = el("text", { x: PAD.left - 7, y: y + 4, "text-anchor": "end" }, axis);
        t.textContent = fmtNum(v);
      }
      const span = x1 - x0;
      const tstep = TIME_STEPS.find((s) => span / s <= Math.max(2, Math.floor(pw / 80))) || 86400;
      for (let v = Math.ceil(x0 / tstep) * tstep; v <= x1; v += tstep) {
        const x = Math.round(sx(v)) + 0.5;
        el("line", { x1: x, x2: x, y1: PAD.top, y2: PAD.top + ph }, grid);
        const t = el("text", { x: x, y: h - 6, "text-anchor": "middle" }, axis);
        t.textContent = clock(v);
      }
      el("line", { class: "axis-line", x1: PAD.left, x2: w - PAD.right, y1: PAD.top + ph + 0.5, y2: PAD.top + ph + 0.5 }, svg);

      if (!d.xs.length) {
        const t = el("text", { class: "empty-text", x: PAD.left + pw / 2, y: PAD.top + ph / 2, "text-anchor": "middle" }, svg);
        t.textContent = "Waiting for data…";
      }

      this.opts.series.forEach((s, k) => {
        const ys = d.ys[k] || [];
        let path = "", area = "", started = false, first = 0, last = 0;
        for (let i = 0; i < d.xs.length; i++) {
          if (ys[i] == null) { started = false; continue; }
          const x = sx(d.xs[i]).toFixed(1), y = sy(ys[i]).toFixed(1);
          path += (started ? "L" : "M") + x + " " + y;
          if (!started && !area) first = x;
          area += (area ? "L" : "M") + x + " " + y;
          last = x;
          started = true;
        }
        if (!path) return;
        if (s.area) {
          el("path", { d: area + "L" + last + " " + (PAD.top + ph) + "L" + first + " " + (PAD.top + ph) + "Z", fill: s.color, "fill-opacity": "0.10", stroke: "none" }, svg);
        }
        const line = el("path", { d: path, fill: "none", stroke: s.color, "stroke-width": "2", "stroke-linejoin": "round", "stroke-linecap": "round", class: "series" }, svg);
        line.dataset.series = s.label;
        if (d.xs.length === 1) el("circle", { cx: sx(d.xs[0]), cy: sy(ys[0] || 0), r: 3, fill: s.color }, svg);
      });
      this.hover = el("g", { class: "hover" }, svg);
      this.drawHover();
    }

    onMove(ev) {
      const d = this.view;
      if (!d || !d.xs.length) return;
      const rect = this.svg.getBoundingClientRect();
      const px = ((ev.clientX - rect.left) / rect.width) * this.w;
      const x = this.x0 + ((px - PAD.left) / this.pw) * (this.x1 - this.x0);
      let best = 0;
      for (let i = 1; i < d.xs.length; i++) if (Math.abs(d.xs[i] - x) < Math.abs(d.xs[best] - x)) best = i;
      this.hoverIdx = best;
      this.drawHover();
      const tip = this.tip;
      tip.textContent = "";
      const head = document.createElement("b");
      head.textContent = clock(d.xs[best]);
      tip.appendChild(head);
      this.opts.series.forEach((s, k) => {
        const row = document.createElement("div");
        const sw = document.createElement("i");
        sw.style.background = s.color;
        row.appendChild(sw);
        const v = d.ys[k][best];
        row.appendChild(document.createTextNode(s.label + ": " + fmtNum(v) + (this.opts.unit ? " " + this.opts.unit : "")));
        tip.appendChild(row);
      });
      tip.hidden = false;
      const tx = (this.sx(d.xs[best]) / this.w) * rect.width;
      const left = tx + 14 + tip.offsetWidth > rect.width ? tx - 14 - tip.offsetWidth : tx + 14;
      tip.style.left = left + "px";
      tip.style.top = "8px";
    }

    drawHover() {
      if (!this.hover) return;
      while (this.hover.firstChild) this.hover.removeChild(this.hover.firstChild);
      const d = this.view, i = this.hoverIdx;
      if (!d || i < 0 || i >= d.xs.length) return;
      const x = this.sx(d.xs[i]);
      el("line", { class: "hover-line", x1: x, x2: x, y1: PAD.top, y2: this.h - PAD.bottom }, this.hover);
      this.opts.series.forEach((s, k) => {
        const v = d.ys[k][i];
        if (v != null) el("circle", { cx: x, cy: this.sy(v), r: 3.5, fill: "#fff", stroke: s.color, "stroke-width": 2 }, this.hover);
      });
    }
  }

  global.AmpCharts = { LineChart, clock, fmtNum };
})(window);
