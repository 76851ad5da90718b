package watch

// page is the browser view of amp report watch --web: one self-contained
// file (no external URL) that polls /view.json every second, so that a
// page loaded for a screenshot shows the current figures. Every text from
// the shards is set with textContent, never as HTML.
const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>amp watch</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d2430;background:#f6f7f9}
header{background:#1d2430;color:#fff;padding:10px 20px;display:flex;gap:16px;align-items:baseline;flex-wrap:wrap}
header h1{font-size:17px;margin:0}
main{padding:16px 20px;max-width:1200px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:10px}
.card{background:#fff;border-radius:6px;padding:10px 12px;box-shadow:0 1px 2px #0002}
.card b{display:block;font-size:22px}
.card span{color:#5b6474;font-size:12px}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:10px;margin:14px 0}
svg{width:100%;height:160px;background:#fff;border-radius:6px;box-shadow:0 1px 2px #0002}
table{border-collapse:collapse;background:#fff;width:100%;box-shadow:0 1px 2px #0002}
th,td{padding:5px 10px;text-align:right;border-bottom:1px solid #e6e8ec}
th:first-child,td:first-child{text-align:left;word-break:break-all}
.bad{color:#b42318}
#errors{color:#b42318;white-space:pre-wrap}
</style></head>
<body>
<header><h1>amp watch</h1><span id="shards">waiting for the shards…</span><span id="run"></span><span id="state"></span></header>
<main>
<div class="cards">
<div class="card"><span>req/s now</span><b id="rpsnow">–</b></div>
<div class="card"><span>req/s over the run</span><b id="rps">–</b></div>
<div class="card"><span>requests</span><b id="requests">–</b></div>
<div class="card"><span>failed</span><b id="failed">–</b></div>
<div class="card"><span>p50 / p95 / p99 ms</span><b id="pcts">–</b></div>
<div class="card"><span>users / target</span><b id="users">–</b></div>
<div class="card"><span>sessions completed / failed</span><b id="sessions">–</b></div>
</div>
<div class="charts">
<svg id="c-rps" viewBox="0 0 400 160" preserveAspectRatio="none" aria-label="requests per second"></svg>
<svg id="c-p95" viewBox="0 0 400 160" preserveAspectRatio="none" aria-label="p95 latency"></svg>
</div>
<p id="reasons"></p>
<table><thead><tr><th>endpoint</th><th>req/s now</th><th>requests</th><th>failed</th><th>p95 ms</th></tr></thead><tbody id="eps"></tbody></table>
<p id="errors"></p>
</main>
<script>
"use strict";
const $ = id => document.getElementById(id);
const fmt = (n, d) => Number(n).toLocaleString("en", {maximumFractionDigits: d, minimumFractionDigits: d});
function chart(svg, pts, key, label, color) {
  const ns = "http://www.w3.org/2000/svg";
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  const max = Math.max(1e-9, ...pts.map(p => p[key]));
  const t0 = pts.length ? pts[0].t : 0, t1 = pts.length ? pts[pts.length - 1].t : 1;
  const x = t => 4 + 392 * (t - t0) / Math.max(1, t1 - t0), y = v => 150 - 130 * v / max;
  const line = document.createElementNS(ns, "polyline");
  line.setAttribute("points", pts.map(p => x(p.t) + "," + y(p[key])).join(" "));
  line.setAttribute("fill", "none"); line.setAttribute("stroke", color); line.setAttribute("stroke-width", "2");
  line.setAttribute("vector-effect", "non-scaling-stroke");
  svg.appendChild(line);
  const txt = document.createElementNS(ns, "text");
  txt.setAttribute("x", "8"); txt.setAttribute("y", "16"); txt.setAttribute("font-size", "12");
  txt.textContent = label + " (max " + fmt(max, 1) + ")";
  svg.appendChild(txt);
}
function cell(tr, text, cls) { const td = document.createElement("td"); td.textContent = text; if (cls) td.className = cls; tr.appendChild(td); }
function show(s) {
  if (!s) return;
  $("shards").textContent = s.shards_up + "/" + s.shards + " shards up";
  $("run").textContent = s.runs && s.runs.length ? (s.runs.length > 1 ? "several runs: " : "run ") + s.runs.join(", ") : "";
  $("state").textContent = s.done ? "the shards stopped answering: last figures" : fmt(s.duration_s, 1) + " s";
  $("rpsnow").textContent = fmt(s.rps_now, 1);
  $("rps").textContent = fmt(s.rps, 1);
  $("requests").textContent = fmt(s.requests, 0);
  $("failed").textContent = fmt(100 * s.failure_rate, 2) + " %";
  $("failed").className = s.failures > 0 ? "bad" : "";
  $("pcts").textContent = fmt(s.p50_ms, 1) + " / " + fmt(s.p95_ms, 1) + " / " + fmt(s.p99_ms, 1);
  $("users").textContent = fmt(s.users, 0) + " / " + fmt(s.target_users, 0);
  $("sessions").textContent = fmt(s.sessions[0], 0) + " / " + fmt(s.sessions[1], 0);
  const reasons = Object.entries(s.reasons || {}).sort((a, b) => b[1] - a[1]).slice(0, 8);
  $("reasons").textContent = reasons.length ? "failures: " + reasons.map(r => r[0] + " " + fmt(r[1], 0)).join(" · ") : "";
  chart($("c-rps"), s.history || [], "rps", "req/s", "#2563eb");
  chart($("c-p95"), s.history || [], "p95_ms", "p95 ms", "#c2410c");
  const body = $("eps");
  while (body.firstChild) body.removeChild(body.firstChild);
  for (const e of (s.endpoints || []).sort((a, b) => b.requests - a.requests)) {
    const tr = document.createElement("tr");
    cell(tr, e.label); cell(tr, fmt(e.rps_now, 1)); cell(tr, fmt(e.requests, 0));
    cell(tr, fmt(e.requests ? 100 * e.failures / e.requests : 0, 1) + " %", e.failures > 0 ? "bad" : "");
    cell(tr, fmt(e.p95_ms, 1));
    body.appendChild(tr);
  }
  $("errors").textContent = (s.errors || []).join("\n");
}
async function poll() {
  try { const r = await fetch("view.json", {cache: "no-store"}); if (r.ok) show(await r.json()); } catch (e) {}
}
poll();
setInterval(poll, 1000);
</script>
</body></html>
`
