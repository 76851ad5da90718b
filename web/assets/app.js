// amp web UI: start, watch and steer a replay. Live state comes from the
// server-sent events of /api/events (polling /api/state when a browser or
// proxy cannot stream); commands go to Locust's REST paths. With ?snapshot=1
// the page loads the state once and draws it without streaming (for a
// headless browser's screenshot), marking <html data-snapshot="ready">.
"use strict";

(function () {
  const { LineChart, clock, fmtNum } = window.AmpCharts;
  const $ = (sel) => document.querySelector(sel);

  const ui = {
    info: null,
    view: null,
    series: [],
    run: -1,
    resets: -1,
    tab: "dashboard",
    sessionsLoaded: 0,
    corrLoaded: false,
    startShown: false,
    selected: -1,
  };

  // ---- formatting ----
  function ms(v) {
    if (v == null || !isFinite(v)) return "–";
    if (v >= 10000) return Math.round(v).toLocaleString("en-US");
    if (v >= 100) return String(Math.round(v));
    if (v >= 10) return v.toFixed(1);
    return v.toFixed(2);
  }
  function int(v) { return (v || 0).toLocaleString("en-US"); }
  function rate(v) { return (v || 0).toFixed(v >= 100 ? 0 : 1); }
  function pct(r) { return (100 * (r || 0)).toFixed(r > 0 && r < 0.001 ? 3 : r < 0.1 ? 2 : 1) + "%"; }
  function bytes(n) {
    if (n == null) return "–";
    if (n < 1024) return Math.round(n) + " B";
    if (n < 1 << 20) return (n / 1024).toFixed(1) + " KiB";
    return (n / (1 << 20)).toFixed(1) + " MiB";
  }
  // si formats a byte count as the console and the HTML report do.
  function si(n) {
    n = n || 0;
    const units = ["B", "kB", "MB", "GB", "TB"];
    let f = n, i = 0;
    while (f >= 1000 && i < units.length - 1) { f /= 1000; i++; }
    if (i === 0) return n + " B";
    return f.toFixed(f < 10 ? 2 : f < 100 ? 1 : 0) + " " + units[i];
  }
  // limitNum keeps 3 significant digits of small limits (rate<0.001).
  function limitNum(v) { return Math.abs(v) >= 100 ? fmtNum(v) : String(Number((v || 0).toPrecision(3))); }
  function statusLabel(code) { return code === "0" ? "no resp" : code; }
  function timeOf(iso) {
    if (!iso || iso.startsWith("0001")) return "–";
    return new Date(iso).toLocaleTimeString();
  }

  function td(text, cls) {
    const c = document.createElement("td");
    if (cls) c.className = cls;
    if (text instanceof Node) c.appendChild(text);
    else c.textContent = text;
    return c;
  }
  function span(text, cls) {
    const s = document.createElement("span");
    s.className = cls;
    s.textContent = text;
    return s;
  }
  function methodTag(m) { return m ? span(m, "method " + m) : document.createTextNode(""); }
  function statusTag(s) { return span(s ? String(s) : "ERR", "status s" + Math.floor((s || 0) / 100)); }
  function slowCell(sd) {
    if (!sd) return td("–", "num muted");
    const v = sd.p50;
    const cls = v < 1.25 ? "ok" : v < 2 ? "warn" : "bad";
    const c = td("", "num");
    const s = span(v.toFixed(2) + "×", "slow " + cls);
    s.title = "p50 " + v.toFixed(2) + "× (" + ms(sd.recorded_p50_ms) + " ms recorded), p95 " + sd.p95.toFixed(2) + "× (" + ms(sd.recorded_p95_ms) + " ms recorded)";
    c.appendChild(s);
    return c;
  }
  function setText(sel, text) { const e = $(sel); if (e.textContent !== text) e.textContent = text; }

  // ---- charts ----
  const charts = {
    rps: new LineChart($("#chart-rps"), { title: "Requests per second", series: [
      { label: "req/s", color: "#2563eb", area: true }, { label: "failures/s", color: "#dc2626" }] }),
    lat: new LineChart($("#chart-lat"), { title: "Response times", unit: "ms", series: [
      { label: "p50", color: "#16a34a" }, { label: "p95", color: "#f59e0b" }, { label: "p99", color: "#7c3aed" }] }),
    users: new LineChart($("#chart-users"), { title: "Users", integer: true, series: [
      { label: "users", color: "#4f46e5", area: true }] }),
    capacity: new LineChart($("#chart-capacity"), { title: "Capacity search: each step's load, req/s and p95 (ms)", series: [
      { label: "users or sessions/s", color: "#4f46e5" }, { label: "req/s", color: "#2563eb" }, { label: "p95 ms", color: "#f59e0b" }] }),
  };
  function legend(sel, items) {
    const box = $(sel);
    for (const [label, cls] of items) {
      const s = document.createElement("span");
      const i = document.createElement("i");
      i.className = cls;
      s.appendChild(i);
      s.appendChild(document.createTextNode(label));
      box.appendChild(s);
    }
  }
  legend("#legend-rps", [["req/s", "swatch-blue"], ["failures/s", "swatch-red"]]);
  legend("#legend-lat", [["p50", "swatch-green"], ["p95", "swatch-amber"], ["p99", "swatch-purple"]]);
  legend("#legend-users", [["users", "swatch-indigo"]]);

  function drawCharts() {
    const s = ui.series;
    const xs = s.map((p) => p.e);
    charts.rps.setData(xs, [s.map((p) => p.r), s.map((p) => p.f)]);
    charts.lat.setData(xs, [s.map((p) => (p.r ? p.p50 : null)), s.map((p) => (p.r ? p.p95 : null)), s.map((p) => (p.r ? p.p99 : null))]);
    charts.users.setData(xs, [s.map((p) => p.u)]);
  }

  // ---- live state ----
  function apply(v) {
    if (v.run !== ui.run || v.resets !== ui.resets || v.full) {
      ui.series = v.series.slice();
    } else if (v.series.length) {
      const from = v.series[0].t;
      ui.series = ui.series.filter((p) => p.t < from).concat(v.series);
    }
    ui.run = v.run;
    ui.resets = v.resets;
    ui.view = v;
    renderHeader(v);
    renderKPIs(v);
    renderStats(v);
    renderThresholds(v);
    renderStatuses(v);
    renderCapacity(v);
    renderFailures(v);
    if (ui.tab === "dashboard") drawCharts();
    if (v.run === 0 && !ui.startShown && ui.info && !ui.info.autostart) {
      ui.startShown = true;
      openStart();
    }
  }

  function renderHeader(v) {
    const st = $("#state");
    const label = { ready: "Ready", spawning: "Spawning", running: "Running", stopping: "Stopping", stopped: "Stopped" }[v.state] || v.state;
    setText("#state", label);
    st.className = "state state-" + v.state;
    setText("#meta-host", v.host || "—");
    setText("#meta-model", v.model === "timeline" ? "timeline × " + v.multiple + (v.speed !== 1 ? ", speed " + v.speed : "") : "closed" + (v.speed !== 1 ? ", speed " + v.speed : ""));
    const live = v.state === "spawning" || v.state === "running";
    $("#btn-new").hidden = live || v.state === "stopping";
    $("#btn-edit").hidden = !live;
    $("#btn-edit").disabled = v.model === "timeline";
    $("#btn-edit").title = v.model === "timeline" ? "a timeline replay follows the recording's arrivals: stop it and start a new one" : "change users and spawn rate";
    $("#btn-stop").hidden = !live;
    $("#btn-reset").hidden = v.run === 0;
    const banner = $("#banner");
    banner.hidden = !v.message;
    if (v.message) banner.textContent = "Could not start: " + v.message;
  }

  function renderKPIs(v) {
    const t = v.totals;
    setText("#kpi-users", int(v.users));
    const live = v.state === "spawning" || v.state === "running";
    setText("#kpi-users-sub", !live && v.run ? "peak " + int(v.peak) : v.model === "timeline" ? "sessions in flight" : "target " + int(v.target) + " · spawn " + fmtNum(v.spawn_rate) + "/s");
    setText("#kpi-requests", int(t.requests));
    setText("#kpi-requests-sub", t.requests ? bytes(t.avg_size) + " avg response" : " ");
    setText("#kpi-rps", rate(t.rps));
    setText("#kpi-rps-sub", "avg " + rate(t.avg_rps) + " over the run");
    const f = $("#kpi-fail");
    setText("#kpi-fail", pct(t.fail_rate));
    f.className = "kpi-value " + (t.failures === 0 ? (t.requests ? "good" : "") : t.fail_rate < 0.01 ? "warn" : "bad");
    setText("#kpi-fail-sub", int(t.failures) + " failed" + (t.fps ? " · " + rate(t.fps) + "/s" : ""));
    const p95 = $("#kpi-p95");
    p95.textContent = t.requests ? ms(t.p95_ms) : "–";
    if (t.requests) { const s = document.createElement("small"); s.textContent = "ms"; p95.appendChild(s); }
    setText("#kpi-p95-sub", t.requests ? "last 10 s: " + ms(v.current.p95_ms) + " ms" : " ");
    $("#kpi-p95-sub").title = t.requests ? "p50 " + ms(t.p50_ms) + " ms · p99 " + ms(t.p99_ms) + " ms · max " + ms(t.max_ms) + " ms (whole run)" : "";
    const sd = t.slowdown;
    const slow = $("#kpi-slow");
    setText("#kpi-slow", sd ? sd.p50.toFixed(2) + "×" : "–");
    slow.className = "kpi-value " + (!sd ? "" : sd.p50 < 1.25 ? "good" : sd.p50 < 2 ? "warn" : "bad");
    setText("#kpi-slow-sub", sd ? "p95 " + sd.p95.toFixed(2) + "×" : "vs the recording (p50)");
    $("#kpi-slow").title = sd ? "replayed service time ÷ recorded duration: p50 " + sd.p50.toFixed(2) + "×, p95 " + sd.p95.toFixed(2) + "× (recorded p50 " + ms(sd.recorded_p50_ms) + " ms)" : "";
    const ss = v.sessions || { completed: 0, failed: 0 };
    setText("#kpi-sessions", int(ss.completed + ss.failed));
    $("#kpi-sessions").className = "kpi-value " + (ss.failed ? "bad" : "");
    setText("#kpi-sessions-sub", int(ss.completed) + " completed · " + int(ss.failed) + " failed");
    setText("#kpi-traffic", si(t.bytes_received));
    setText("#kpi-traffic-sub", "in · " + si(t.bytes_sent) + " out");
    setText("#kpi-elapsed", clock(v.elapsed_s));
    setText("#kpi-elapsed-sub", v.duration_s ? "of " + clock(v.duration_s) + (v.state === "running" || v.state === "spawning" ? " · " + clock(Math.max(0, v.duration_s - v.elapsed_s)) + " left" : "") : v.run ? "until stopped" : " ");
    $("#kpi-progress").style.width = v.duration_s ? Math.min(100, (100 * v.elapsed_s) / v.duration_s) + "%" : "0";
  }

  function statsRow(r, total) {
    const tr = document.createElement("tr");
    tr.appendChild(td(total ? "" : methodTag(r.method)));
    const name = td(r.name, "name");
    if (r.ws_sent || r.ws_received) {
      const ws = document.createElement("small");
      ws.className = "ws";
      ws.textContent = " websocket: " + int(r.ws_sent || 0) + " sent, " + int(r.ws_received || 0) + " received";
      name.appendChild(ws);
    }
    tr.appendChild(name);
    tr.appendChild(td(int(r.requests), "num reqs"));
    tr.appendChild(td(int(r.failures) + (r.requests ? " (" + pct(r.fail_rate) + ")" : ""), "num" + (r.failures ? " fail" : "")));
    const none = !r.requests;
    for (const k of ["avg_ms", "min_ms", "max_ms", "p50_ms", "p95_ms", "p99_ms"]) tr.appendChild(td(none ? "–" : ms(r[k]), "num"));
    tr.appendChild(td(rate(r.rps), "num"));
    tr.appendChild(td(rate(r.fps), "num" + (r.fps ? " fail" : "")));
    tr.appendChild(slowCell(r.slowdown));
    if (total) tr.className = "total";
    return tr;
  }

  function renderStats(v) {
    const body = $("#stats-table tbody"), foot = $("#stats-table tfoot");
    body.replaceChildren(...v.endpoints.map((r) => statsRow(r, false)));
    const journeys = (v.journeys || []).map((r) => {
      const tr = statsRow(r, false);
      tr.className = "journey";
      return tr;
    });
    foot.replaceChildren(...journeys, statsRow(v.totals, true));
    $("#stats-empty").hidden = v.endpoints.length > 0;
  }

  function renderThresholds(v) {
    const ths = v.thresholds || [], checks = v.checks || [];
    const n = ths.length + checks.length;
    $("#thresholds-card").hidden = n === 0;
    if (!n) return;
    const failed = ths.filter((t) => !t.pass).length + checks.filter((c) => !c.pass).length;
    const verdict = $("#thresholds-verdict");
    verdict.className = "verdict " + (failed ? "fail" : "pass");
    setText("#thresholds-verdict", failed ? failed + " of " + n + " failing" : "all " + n + " holding");
    const checkRows = checks.map((c) => {
      const tr = document.createElement("tr");
      tr.className = "check";
      tr.appendChild(td(c.pass ? "pass" : "FAIL", c.pass ? "pass" : "fail"));
      const code = document.createElement("code");
      code.textContent = c.name;
      tr.appendChild(td(code));
      const what = td(c.pass ? "no response failed it" : c.message + (c.detail ? "; " + c.detail : ""), "name");
      what.colSpan = 3;
      tr.appendChild(what);
      return tr;
    });
    $("#thresholds-table tbody").replaceChildren(...checkRows);
    $("#thresholds-table tbody").prepend(...ths.map((t) => {
      const tr = document.createElement("tr");
      tr.appendChild(td(t.pass ? "pass" : "FAIL", t.pass ? "pass" : "fail"));
      const code = document.createElement("code");
      code.textContent = t.expr;
      tr.appendChild(td(code));
      tr.appendChild(td(limitNum(t.observed) + (t.unit ? " " + t.unit : ""), "num"));
      tr.appendChild(td(limitNum(t.limit) + (t.unit ? " " + t.unit : ""), "num"));
      tr.appendChild(td(t.message, "name"));
      return tr;
    }));
  }

  function renderStatuses(v) {
    const cols = v.status_cols || [];
    const head = document.createElement("tr");
    const th = (text, cls) => { const h = document.createElement("th"); h.textContent = text; if (cls) h.className = cls; return h; };
    head.append(th("Type"), th("Name", "name"), ...cols.map((c) => th(statusLabel(c), "num")), th("Sent", "num"), th("Received", "num"));
    $("#statuses-table thead").replaceChildren(head);
    const row = (r, total) => {
      const tr = document.createElement("tr");
      tr.appendChild(td(total ? "" : methodTag(r.method)));
      tr.appendChild(td(r.name, "name"));
      for (const c of cols) {
        const n = (r.statuses || {})[c] || 0;
        const cls = c === "0" || c >= "5" ? " fail" : "";
        tr.appendChild(td(n ? int(n) : "–", "num" + (n ? cls : " muted")));
      }
      tr.appendChild(td(si(r.bytes_sent), "num"));
      tr.appendChild(td(si(r.bytes_received), "num"));
      return tr;
    };
    $("#statuses-table tbody").replaceChildren(...v.endpoints.map((r) => row(r, false)));
    $("#statuses-table tfoot").replaceChildren(row(v.totals, true));
    $("#statuses-empty").hidden = v.endpoints.length > 0;
  }

  function renderCapacity(v) {
    const c = v.capacity;
    $("#capacity-card").hidden = !c;
    if (!c) return;
    $("#capacity-table tbody").replaceChildren(...c.steps.map((s) => {
      const tr = document.createElement("tr");
      tr.appendChild(td(s.arrival_rate ? rate(s.arrival_rate) + "/s" : int(s.users), "num"));
      tr.appendChild(td(int(s.requests), "num reqs"));
      tr.appendChild(td(rate(s.rps), "num"));
      tr.appendChild(td(ms(s.p95_ms), "num"));
      tr.appendChild(td(pct(s.failure_rate), "num" + (s.failure_rate ? " fail" : "")));
      tr.appendChild(td(s.pass ? "held" : "failed: " + (s.failed || []).join("; "), s.pass ? "" : "fail"));
      return tr;
    }));
    if (c.steps.length) {
      const t0 = Date.parse(c.steps[0].start) / 1000;
      charts.capacity.setData(c.steps.map((s) => Date.parse(s.start) / 1000 - t0),
        [c.steps.map((s) => s.arrival_rate || s.users), c.steps.map((s) => s.rps), c.steps.map((s) => s.p95_ms)]);
    }
    const a = c.answer;
    const held = a && (a.users ? a.users + " users" : a.arrival_rate ? rate(a.arrival_rate) + " sessions/s" : "");
    const failed = a && (a.failed_at ? a.failed_at + " users" : a.failed_at_rate ? rate(a.failed_at_rate) + " sessions/s" : "");
    setText("#capacity-answer", !a ? "searching…" : held ? "Capacity: " + held + ", " + rate(a.rps) + " req/s" +
      (failed ? "; " + failed + " failed" : "") + " (search ended: " + a.ended + ")" : "No step met the thresholds (search ended: " + a.ended + ")");
  }

  function renderFailures(v) {
    const body = $("#failures-table tbody");
    body.replaceChildren(...v.errors.map((e) => {
      const tr = document.createElement("tr");
      tr.appendChild(td(int(e.count), "num fail"));
      tr.appendChild(td(methodTag(e.method)));
      tr.appendChild(td(e.name, "name"));
      tr.appendChild(td(e.reason));
      tr.appendChild(td(timeOf(e.first_seen)));
      tr.appendChild(td(timeOf(e.last_seen)));
      return tr;
    }));
    $("#failures-empty").hidden = v.errors.length > 0;
    const n = v.errors.reduce((a, e) => a + e.count, 0);
    const badge = $("#fail-badge");
    badge.hidden = n === 0;
    badge.textContent = n > 9999 ? Math.round(n / 1000) + "k" : String(n);
    const sk = v.skipped || {};
    const keys = Object.keys(sk).sort();
    $("#skipped-card").hidden = keys.length === 0;
    $("#skipped-table tbody").replaceChildren(...keys.map((k) => {
      const tr = document.createElement("tr");
      tr.appendChild(td(int(sk[k]), "num"));
      tr.appendChild(td(k, "name"));
      return tr;
    }));
  }

  // ---- transport ----
  let pollTimer = null;
  function poll() {
    const since = ui.series.length ? ui.series[ui.series.length - 1].t : 0;
    fetch("/api/state" + (since && ui.run >= 0 ? "?since=" + since : ""))
      .then((r) => r.json()).then(apply).catch(() => {});
  }
  function startPolling() {
    if (pollTimer) return;
    poll();
    pollTimer = setInterval(poll, 1500);
  }
  function connect() {
    if (new URLSearchParams(location.search).get("snapshot") === "1") return snapshot();
    if (!window.EventSource) return startPolling();
    const es = new EventSource("/api/events");
    let got = false, failures = 0;
    es.onmessage = (e) => { got = true; failures = 0; $("#conn").hidden = true; apply(JSON.parse(e.data)); };
    es.onerror = () => {
      failures++;
      if (got) $("#conn").hidden = false; // amp stopped or the network went away; EventSource retries
      if (!got && failures >= 3) { es.close(); startPolling(); }
    };
  }

  // snapshot draws the current state once, without streaming: a headless
  // browser's screenshot then returns, and shows current figures.
  function snapshot() {
    ui.startShown = true; // no start form over the figures
    fetch("/api/state").then((r) => r.json()).then((v) => {
      apply(v);
      drawCharts();
      document.documentElement.dataset.snapshot = "ready";
    }).catch((err) => {
      $("#conn").hidden = false;
      document.documentElement.dataset.snapshot = "error: " + err;
    });
  }

  // ---- chart PNG download ----
  // The chart's SVG is cloned with the computed styles its CSS gives it,
  // drawn on a canvas at twice its size on white, and saved as a PNG.
  const STYLE_PROPS = ["fill", "stroke", "stroke-width", "stroke-dasharray", "opacity", "fill-opacity", "font-size", "font-family", "font-weight", "text-anchor"];
  function chartPNG(name) {
    const src = $("#chart-" + name + " svg");
    const box = src.getBoundingClientRect();
    const copy = src.cloneNode(true);
    const from = [src, ...src.querySelectorAll("*")], to = [copy, ...copy.querySelectorAll("*")];
    from.forEach((e, i) => {
      const cs = getComputedStyle(e);
      for (const p of STYLE_PROPS) to[i].style.setProperty(p, cs.getPropertyValue(p));
    });
    copy.setAttribute("width", box.width);
    copy.setAttribute("height", box.height);
    const img = new Image();
    return new Promise((resolve, reject) => {
      img.onload = () => {
        const c = document.createElement("canvas");
        c.width = Math.round(box.width * 2);
        c.height = Math.round(box.height * 2);
        const g = c.getContext("2d");
        g.fillStyle = "#fff";
        g.fillRect(0, 0, c.width, c.height);
        g.scale(2, 2);
        g.drawImage(img, 0, 0, box.width, box.height);
        resolve(c.toDataURL("image/png"));
      };
      img.onerror = () => reject(new Error("the chart could not be drawn"));
      img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(new XMLSerializer().serializeToString(copy));
    });
  }
  window.ampChartPNG = chartPNG; // for tests and the console
  document.querySelectorAll("button.png").forEach((b) => b.addEventListener("click", () => {
    chartPNG(b.dataset.chart).then((url) => {
      const a = document.createElement("a");
      a.href = url;
      a.download = "amp-" + b.dataset.chart + ".png";
      document.body.appendChild(a);
      a.click();
      a.remove();
    });
  }));

  function send(method, url, form) {
    const init = { method };
    if (form) {
      init.body = new URLSearchParams(form);
      init.headers = { "Content-Type": "application/x-www-form-urlencoded" };
    }
    return fetch(url, init).then((r) => r.text().then((t) => {
      let body;
      try { body = JSON.parse(t); } catch (_) { body = { success: r.ok, message: t }; }
      return body;
    }));
  }

  // ---- start / edit / stop / reset ----
  const startDialog = $("#start-dialog"), startForm = $("#start-form");
  function syncModel() {
    startForm.classList.toggle("timeline", startForm.model.value === "timeline");
  }
  function openStart() {
    const d = (ui.info && ui.info.defaults) || {};
    const v = ui.view;
    const f = startForm;
    if (!f.dataset.filled) {
      f.user_count.value = d.user_count || 10;
      f.spawn_rate.value = d.spawn_rate || 10;
      f.host.value = d.host || "";
      f.run_time.value = d.run_time || "";
      f.speed.value = d.speed || 1;
      f.multiple.value = d.multiple || 1;
      f.model.value = d.timeline ? "timeline" : "closed";
      f.dataset.filled = "1";
    } else if (v && v.run) {
      f.host.value = v.host || f.host.value;
      if (v.model === "closed") { f.user_count.value = v.target || f.user_count.value; f.spawn_rate.value = v.spawn_rate || f.spawn_rate.value; }
    }
    syncModel();
    $("#start-error").hidden = true;
    if (!startDialog.open) startDialog.showModal();
    f.user_count.focus();
  }
  startForm.addEventListener("change", syncModel);
  $("#start-cancel").addEventListener("click", () => startDialog.close());
  startForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const f = startForm;
    const timeline = f.model.value === "timeline";
    const form = { host: f.host.value.trim(), run_time: f.run_time.value.trim(), speed: f.speed.value, timeline: String(timeline) };
    if (timeline) form.multiple = f.multiple.value;
    else { form.user_count = f.user_count.value; form.spawn_rate = f.spawn_rate.value; }
    $("#start-submit").disabled = true;
    send("POST", "/swarm", form).then((res) => {
      $("#start-submit").disabled = false;
      if (res.success) {
        startDialog.close();
        $("#banner").hidden = true;
        poll();
      } else {
        const e = $("#start-error");
        e.textContent = res.message || "the replay could not start";
        e.hidden = false;
      }
    }).catch((err) => {
      $("#start-submit").disabled = false;
      $("#start-error").textContent = String(err);
      $("#start-error").hidden = false;
    });
  });

  const editDialog = $("#edit-dialog"), editForm = $("#edit-form");
  $("#btn-edit").addEventListener("click", () => {
    const v = ui.view || {};
    editForm.user_count.value = v.target || 1;
    editForm.spawn_rate.value = v.spawn_rate || 1;
    $("#edit-error").hidden = true;
    editDialog.showModal();
    editForm.user_count.select();
  });
  $("#edit-cancel").addEventListener("click", () => editDialog.close());
  editForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    send("POST", "/swarm", { user_count: editForm.user_count.value, spawn_rate: editForm.spawn_rate.value }).then((res) => {
      if (res.success) { editDialog.close(); poll(); }
      else { $("#edit-error").textContent = res.message; $("#edit-error").hidden = false; }
    });
  });

  $("#btn-new").addEventListener("click", openStart);
  $("#btn-stop").addEventListener("click", () => send("GET", "/stop").then(poll));
  $("#btn-reset").addEventListener("click", () => fetch("/stats/reset").then(poll));

  // ---- tabs ----
  document.querySelectorAll(".tabs .tab").forEach((b) => b.addEventListener("click", () => showTab(b.dataset.tab)));
  function showTab(name) {
    ui.tab = name;
    document.querySelectorAll(".tabs .tab").forEach((b) => b.classList.toggle("active", b.dataset.tab === name));
    document.querySelectorAll("main .panel").forEach((p) => { p.hidden = p.id !== "tab-" + name; });
    if (name === "dashboard") drawCharts();
    if (name === "sessions" && !ui.sessionsLoaded) loadSessions();
    if (name === "correlations" && !ui.corrLoaded) loadCorrelations();
    if (history.replaceState) history.replaceState(null, "", name === "dashboard" ? "#" : "#" + name);
  }

  // ---- sessions ----
  function summaryCard(label, value, sub) {
    const k = document.createElement("div");
    k.className = "kpi";
    const l = document.createElement("div"); l.className = "kpi-label"; l.textContent = label;
    const v = document.createElement("div"); v.className = "kpi-value"; v.textContent = value;
    const s = document.createElement("div"); s.className = "kpi-sub"; s.textContent = sub || " ";
    k.append(l, v, s);
    return k;
  }
  function renderRecording() {
    const r = ui.info && ui.info.recording;
    if (!r) return;
    const hosts = r.hosts.map((h) => h.host + " (" + int(h.requests) + ")");
    $("#rec-summary").replaceChildren(
      summaryCard("Sessions", int(r.sessions), "recorded users"),
      summaryCard("Requests", int(r.exchanges), r.sessions ? (r.exchanges / r.sessions).toFixed(1) + " per session" : ""),
      summaryCard("Span", clock(r.span_s), "first to last request"),
      summaryCard("Hosts", int(r.hosts.length), hosts.slice(0, 3).join(", ")),
      summaryCard("Source", r.source || "–", r.created ? new Date(r.created).toLocaleString() : ""),
    );
    setText("#meta-recording", ui.info.path || "—");
    $("#start-rec").textContent = ui.info.path ? ui.info.path + " · " + int(r.sessions) + " sessions, " + int(r.exchanges) + " requests" : "";
  }

  function loadSessions() {
    const offset = ui.sessionsLoaded;
    fetch("/api/sessions?offset=" + offset + "&limit=200").then((r) => r.json()).then((page) => {
      const body = $("#sessions-table tbody");
      for (const s of page.sessions) {
        const tr = document.createElement("tr");
        tr.dataset.index = s.index;
        tr.appendChild(td(String(s.index + 1), "num"));
        tr.appendChild(td(s.id.length > 18 ? s.id.slice(0, 16) + "…" : s.id));
        tr.appendChild(td(s.client || "–"));
        tr.appendChild(td(int(s.requests), "num"));
        tr.appendChild(td(clock(s.duration_ms / 1000), "num"));
        tr.appendChild(td(s.errors ? int(s.errors) : "–", "num" + (s.errors ? " fail" : " muted")));
        tr.appendChild(td(s.first + (s.requests > 1 ? "  →  " + s.last : ""), "name"));
        tr.addEventListener("click", () => showSession(s.index, tr));
        body.appendChild(tr);
      }
      ui.sessionsLoaded = offset + page.sessions.length;
      setText("#sessions-count", int(page.total) + " sessions");
      $("#sessions-more").hidden = ui.sessionsLoaded >= page.total;
      $("#sessions-empty").hidden = page.total > 0;
      if (offset === 0 && page.sessions.length) showSession(0, body.firstChild);
    });
  }
  $("#sessions-more").addEventListener("click", loadSessions);

  function showSession(i, tr) {
    ui.selected = i;
    document.querySelectorAll("#sessions-table tbody tr").forEach((r) => r.classList.toggle("selected", r === tr));
    fetch("/api/sessions/" + i).then((r) => r.json()).then((d) => {
      if (ui.selected !== i) return;
      setText("#session-title", "Session " + (i + 1));
      setText("#session-sub", d.id + " · " + (d.client || "unknown client") + " · " + int(d.requests) + " requests over " + clock(d.duration_ms / 1000) + (d.truncated ? " · first " + int(d.exchanges.length) + " shown" : ""));
      $("#exchanges-table tbody").replaceChildren(...d.exchanges.map((e, k) => {
        const row = document.createElement("tr");
        row.appendChild(td(String(k), "num muted"));
        row.appendChild(td("+" + (e.offset_ms / 1000).toFixed(2) + "s", "num"));
        row.appendChild(td(methodTag(e.method)));
        const p = td(e.path, "name");
        p.title = e.host + e.path + (e.name !== e.path ? "  (endpoint " + e.name + ")" : "");
        row.appendChild(p);
        row.appendChild(td(statusTag(e.status), "num"));
        row.appendChild(td(ms(e.duration_ms) + " ms", "num"));
        row.appendChild(td(bytes(e.bytes), "num"));
        return row;
      }));
      $("#session-corr-table tbody").replaceChildren(...d.correlations.map((c) => {
        const row = document.createElement("tr");
        row.appendChild(td(c.name));
        row.appendChild(td(String(c.from), "num"));
        row.appendChild(td(c.source, "name"));
        const uses = td("");
        for (const u of c.uses) uses.appendChild(span("#" + u.task + " " + u.where, "pill"));
        row.appendChild(uses);
        return row;
      }));
      $("#session-corr-empty").hidden = d.correlations.length > 0;
    });
  }

  // ---- correlations ----
  function loadCorrelations() {
    ui.corrLoaded = true;
    fetch("/api/correlations").then((r) => r.json()).then((c) => {
      setText("#corr-sub", int(c.rules.length) + " learned from " + int(c.scanned) + (c.scanned < c.sessions ? " of " + int(c.sessions) : "") + " sessions");
      $("#corr-table tbody").replaceChildren(...c.rules.map((g) => {
        const tr = document.createElement("tr");
        tr.appendChild(td(g.name));
        tr.appendChild(td(g.from, ""));
        tr.appendChild(td(g.source, "name"));
        const used = td("", "uses");
        for (const u of g.used_in || []) used.appendChild(span(u, "pill"));
        tr.appendChild(used);
        tr.appendChild(td(int(g.sessions), "num"));
        tr.appendChild(td(int(g.uses), "num"));
        const ex = td(g.example, "muted example");
        ex.title = g.example;
        tr.appendChild(ex);
        return tr;
      }));
      $("#corr-empty").hidden = c.rules.length > 0;
    });
  }

  // ---- boot ----
  fetch("/api/info").then((r) => r.json()).then((info) => {
    ui.info = info;
    renderRecording();
    if (ui.view) apply(ui.view);
  }).finally(connect);
  const first = location.hash.replace("#", "");
  if (first && document.getElementById("tab-" + first)) showTab(first);
})();
