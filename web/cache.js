// The cache page (GET /cache): sign in, the current figures and their history, and the three
// actions on the cache (warm, clear, optimize) with what each did.
//
// Everything it loads comes from this server (its Content-Security-Policy allows nothing else);
// the charts are uPlot's. The token lives in sessionStorage: it goes with the tab, and no
// cookie carries it. An owner sees its own shop; the operator the whole server, or a shop it
// picks (sent as X-Shop-Id).
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const REFRESH_MS = 5000;
  const WARMABLE = ["products", "customers", "dashboard"];
  const CLEARABLE = ["products", "customers", "employees", "bills", "dashboard", "shop", "sessions"];
  const COLOR = { hit: "#1a7f37", miss: "#c4320a", keys: "#2f6fde", mem: "#7a3fd1" };
  let timer = null;
  let busy = false;
  let lastStats = null;  // the last statistics shown

  // --- who is signed in (this tab only) -----------------------------------------------------
  const session = {
    get token() { return sessionStorage.getItem("tajir.token"); },
    get role() { return sessionStorage.getItem("tajir.role"); },
    get name() { return sessionStorage.getItem("tajir.name") || ""; },
    get shop() { return sessionStorage.getItem("tajir.shop") || ""; },
    set(values) {
      for (const [k, v] of Object.entries(values)) {
        if (v === null || v === "") sessionStorage.removeItem("tajir." + k);
        else sessionStorage.setItem("tajir." + k, String(v));
      }
    },
    clear() { for (const k of ["token", "role", "name", "shop"]) sessionStorage.removeItem("tajir." + k); },
  };

  class ApiError extends Error {
    constructor(status, message, retryAfter) {
      super(message);
      this.status = status;
      this.retryAfter = retryAfter;
    }
  }

  async function api(method, path, body) {
    const headers = {};
    if (session.token) headers.Authorization = "Bearer " + session.token;
    if (session.role === "operator" && session.shop) headers["X-Shop-Id"] = session.shop;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const r = await fetch(path, { method, headers, cache: "no-store",
                                  body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { /* not JSON */ }
    if (!r.ok) {
      const message = data && data.error ? data.error.message : "HTTP " + r.status;
      throw new ApiError(r.status, message, r.headers.get("Retry-After"));
    }
    return data;
  }

  // --- formatting ---------------------------------------------------------------------------
  const count = (n) => (n === undefined || n === null ? "–" : Math.round(n).toLocaleString("en-US"));
  const percent = (x) => (100 * x).toFixed(x >= 0.995 || x === 0 ? 0 : 1) + "%";
  function bytes(b) {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (b >= 1024 && i < units.length - 1) { b /= 1024; i++; }
    return (i === 0 || b >= 100 ? b.toFixed(0) : b.toFixed(1).replace(/\.0$/, "")) + " " + units[i];
  }
  function shortCount(n) {
    if (n >= 1e6) return (n / 1e6).toFixed(n >= 1e7 ? 0 : 1) + "M";
    if (n >= 1e3) return (n / 1e3).toFixed(n >= 1e4 ? 0 : 1) + "k";
    return String(Math.round(n * 100) / 100);
  }
  const ms = (t) => (t < 1000 ? Math.round(t) + " ms" : (t / 1000).toFixed(1) + " s");
  const plural = (n, one, many) => count(n) + " " + (n === 1 ? one : many);

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v;
      else e.setAttribute(k, v);
    }
    for (const c of children) e.append(c);
    return e;
  }

  // --- signing in and out -------------------------------------------------------------------
  function showSignin(message) {
    clearTimeout(timer);
    $("dashboard").hidden = true;
    $("signout").hidden = true;
    $("window-label").hidden = true;
    $("who").textContent = "";
    $("status").textContent = "";
    $("signin").hidden = false;
    $("signin-error").textContent = message || "";
    (session.role === "operator" ? $("token") : $("username")).focus();
  }

  function pickTab(operator) {
    $("tab-owner").setAttribute("aria-selected", String(!operator));
    $("tab-operator").setAttribute("aria-selected", String(operator));
    $("owner-form").hidden = operator;
    $("operator-form").hidden = !operator;
    $("signin-error").textContent = "";
  }
  $("tab-owner").addEventListener("click", () => pickTab(false));
  $("tab-operator").addEventListener("click", () => pickTab(true));

  function signinMessage(e) {
    if (e.status === 429) return "Too many failed sign-ins: try again in " + (e.retryAfter || "a few") + " s.";
    return e.message;
  }

  $("owner-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const button = ev.submitter || $("owner-form").querySelector("button");
    button.disabled = true;
    $("signin-error").textContent = "";
    try {
      session.clear();
      const r = await api("POST", "/api/auth/login", { username: $("username").value.trim(), password: $("password").value });
      if (r.user.role !== "owner") {
        await fetch("/api/auth/logout", { method: "POST", headers: { Authorization: "Bearer " + r.token } });
        $("signin-error").textContent = "This is a cashier's account: only the shop's owner manages its cache.";
        return;
      }
      session.set({ token: r.token, role: "owner", name: r.user.username, shop: r.user.shop_id });
      $("password").value = "";
      start();
    } catch (e) {
      $("signin-error").textContent = e.status === 401 ? "Wrong username or password." : signinMessage(e);
    } finally {
      button.disabled = false;
    }
  });

  $("operator-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const shop = $("shop").value.trim();
    session.set({ token: $("token").value.trim(), role: "operator", name: "operator", shop });
    try {
      await api("GET", "/api/cache/stats");
      $("token").value = "";
      start();
    } catch (e) {
      session.clear();
      $("signin-error").textContent =
        e.status === 401 ? "That token was refused." : e.status === 404 ? "There is no shop " + shop + "." : signinMessage(e);
    }
  });

  $("signout").addEventListener("click", async () => {
    if (session.role === "owner") {
      try { await api("POST", "/api/auth/logout"); } catch (e) { /* the session is gone either way */ }
    }
    session.clear();
    $("result").hidden = true;
    pickTab(false);
    showSignin("Signed out.");
  });

  // The operator's shop: one, or the whole server.
  $("shop-picker").addEventListener("submit", (ev) => {
    ev.preventDefault();
    session.set({ shop: $("pick-shop").value.trim() });
    $("result").hidden = true;
    start();
  });
  $("whole-server").addEventListener("click", () => {
    session.set({ shop: "" });
    $("pick-shop").value = "";
    $("result").hidden = true;
    start();
  });

  // --- the figures --------------------------------------------------------------------------
  function card(label, value, sub, fill) {
    const c = el("div", { class: "card" }, el("div", { class: "label" }, label), el("div", { class: "value" }, value),
                 el("div", { class: "sub" }, sub || ""));
    if (fill !== undefined) {
      const inner = el("div");
      inner.style.width = Math.min(100, 100 * fill).toFixed(1) + "%";
      c.append(el("div", { class: "bar" }, inner));
    }
    return c;
  }

  function renderCards(s) {
    const limit = s.memory_limit_bytes || 0;
    const cards = [
      card("hit rate", percent(s.hit_rate), count(s.hits + s.misses) + " cached reads"),
      card("hits", count(s.hits), "answered from the cache"),
      card("misses", count(s.misses), "read from the database"),
      card("keys", count(s.keys), "entries cached now"),
      card("memory", bytes(s.memory_bytes || 0), "of the " + bytes(limit) + " limit", limit > 0 ? s.memory_bytes / limit : 0),
    ];
    if (s.scope === "server") {
      cards.push(card("evictions", count(s.evictions), count(s.ghost_hits || 0) + " ghost hits"),
                 card("invalidations", count(s.invalidations), "by writes and clears"),
                 card("expirations", count(s.expirations), "TTL ran out"));
    } else {
      cards.push(card("load errors", count(s.load_errors || 0), "failed reads"));
    }
    $("cards").replaceChildren(...cards);
    for (const c of $("cards").children) c.dataset.label = c.firstChild.textContent;
  }

  function renderTiers(s) {
    const tiers = s.tiers || {};
    const rows = [["local", tiers.local || {}], ["redis", tiers.redis || {}]].map(([name, t]) => {
      const state = t.state || (t.enabled ? "up" : "disabled");
      const tr = el("tr", { class: t.enabled ? "" : "disabled" },
                    el("td", {}, name === "local" ? "local" : "Redis",
                       el("small", {}, name === "local" ? "in process" : "second tier")),
                    el("td", {}, el("span", { class: "state " + state }), state),
                    el("td", {}, t.latency_us === undefined || t.latency_us === null ? "–" : t.latency_us.toFixed(1) + " µs"),
                    el("td", {}, t.enabled ? count(t.errors || 0) : "–"),
                    el("td", {}, t.enabled && t.keys !== undefined ? count(t.keys) : "–"),
                    el("td", {}, !t.enabled ? "–" : name === "local" ? bytes(t.memory_bytes || 0)
                                 : t.used_memory === undefined || t.used_memory === null ? "–" : bytes(t.used_memory)));
      tr.dataset.tier = name;
      return tr;
    });
    $("tiers").tBodies[0].replaceChildren(...rows);
  }

  function renderTypes(s) {
    const rows = Object.entries(s.by_type || {}).map(([name, t]) => {
      const tr = el("tr", {}, el("td", {}, name), el("td", {}, t.hits + t.misses ? percent(t.hit_rate) : "–"),
                    el("td", {}, count(t.hits)), el("td", {}, count(t.misses)), el("td", {}, count(t.keys)),
                    el("td", {}, bytes(t.memory_bytes || 0)));
      tr.dataset.type = name;
      return tr;
    });
    $("types").tBodies[0].replaceChildren(...rows);
  }

  function renderForecast(f) {
    const rows = (f.points || []).map((p) => el("tr", {},
      el("td", {}, new Date(p.at).toLocaleString([], { weekday: "short", hour: "2-digit", minute: "2-digit", hour12: false })),
      el("td", {}, p.requests === null ? "–" : count(Math.round(p.requests))),
      el("td", {}, p.hit_rate === null ? "–" : percent(p.hit_rate)),
      el("td", {}, p.basis === "none" ? "no history yet" : p.seasons + (p.basis === "week" ? " weeks" : " days") + " before")));
    $("forecast").tBodies[0].replaceChildren(...rows);
    const e = f.error || {};
    $("forecast-error").textContent = e.hours ? "off by " + Math.round(e.requests_mape * 100) + "% of the requests over the last " + e.hours + " hours"
                                              : "(not yet checked against what happened)";
  }

  // --- the charts (uPlot) -------------------------------------------------------------------
  const charts = {};
  let xWindow = [0, 1];  // the time axis' range, seconds

  function chart(key, title, series, yFormat, yMax) {
    if (charts[key]) {
      charts[key].box.querySelector("h3").textContent = title;  // the window's interval
      return charts[key];
    }
    const box = el("div", { class: "chart", id: "chart-" + key }, el("h3", {}, title));
    const empty = el("p", { class: "empty" }, "");
    const plot = el("div", { class: "plot" });
    box.append(empty, plot);
    $("charts").append(box);
    const u = new uPlot({
      width: Math.max(200, box.clientWidth - 20), height: 190,
      cursor: { drag: { x: false, y: false } },
      legend: { live: false },
      scales: {
        x: { time: true, range: () => xWindow },
        y: { range: (u, min, max) => [0, yMax || Math.max(1, max * 1.15)] },
      },
      axes: [{ stroke: "#5d6675", grid: { stroke: "#eceef1" } },
             { stroke: "#5d6675", grid: { stroke: "#eceef1" }, size: 62, values: (u, vals) => vals.map(yFormat) }],
      series: [{}, ...series.map((s) => Object.assign({ width: 2, points: { size: 6 } }, s,
                                                      { value: (u, v) => (v === null ? "–" : yFormat(v)) }))],
    }, [[], ...series.map(() => [])], plot);
    new ResizeObserver(() => u.setSize({ width: Math.max(200, box.clientWidth - 20), height: 190 })).observe(box);
    charts[key] = { box, empty, u };
    return charts[key];
  }

  function setChart(c, times, columns, note) {
    c.u.setData([times, ...columns]);
    c.box.dataset.points = String(times.length);
    c.box.dataset.total = String(columns.flat().reduce((a, v) => a + (v || 0), 0));
    c.empty.textContent = note || "";
    c.empty.hidden = !note;
  }

  function renderHistory(h, s) {
    const points = h.points || [];
    const interval = h.interval_seconds || 60;
    const times = points.map((p) => Date.parse(p.at) / 1000);
    const now = Date.now() / 1000;
    const span = Math.max(15 * 60, times.length ? now - times[0] + interval : 0);
    const [unit, n] = $("window").value.split("=");
    const shown = Math.min(span, Number(n) * { minutes: 60, hours: 3600, days: 86400 }[unit]);
    xWindow = [now - shown, now + Math.max(interval, shown / 10)];  // room for the last bars
    const per = { 60: "minute", 3600: "hour", 86400: "day" }[interval] || interval + " s";
    const bars = uPlot.paths.bars;
    const note = points.length === 0 ? "No point yet: the server records one per " + per + "." :
      points.length === 1 && points[0].partial ? "This " + per + " so far; a point is recorded every " + per + "." : "";
    setChart(chart("hitrate", "Hit rate per " + per, [{ label: "hit rate", stroke: COLOR.hit }], (v) => Math.round(v * 100) + "%", 1),
             times, [points.map((p) => (p.hits + p.misses ? p.hit_rate : null))], note);
    setChart(chart("requests", "Hits and misses per " + per, [
      { label: "hits", stroke: COLOR.hit, fill: COLOR.hit + "cc", paths: bars({ size: [0.4, 16], align: -1 }), points: { show: false } },
      { label: "misses", stroke: COLOR.miss, fill: COLOR.miss + "cc", paths: bars({ size: [0.4, 16], align: 1 }), points: { show: false } },
    ], shortCount), times, [points.map((p) => p.hits), points.map((p) => p.misses)], note);
    setChart(chart("keys", "Keys", [{ label: "keys", stroke: COLOR.keys }], shortCount),
             times, [points.map((p) => p.keys)], note);
    setChart(chart("memory", "Memory (limit " + bytes(s.memory_limit_bytes || 0) + ")", [{ label: "memory", stroke: COLOR.mem }], bytes),
             times, [points.map((p) => p.memory_bytes)], note);
  }

  // --- the actions --------------------------------------------------------------------------
  function typeBoxes(containerId, types, checked) {
    const all = el("input", { type: "checkbox", value: "all" });
    all.checked = checked;
    const boxes = types.map((t) => {
      const b = el("input", { type: "checkbox", value: t, name: containerId });
      b.checked = checked;
      b.addEventListener("change", () => { all.checked = boxes.every((x) => x.checked); });
      return b;
    });
    all.addEventListener("change", () => boxes.forEach((b) => { b.checked = all.checked; }));
    $(containerId).replaceChildren(el("label", {}, all, " all"), ...boxes.map((b) => el("label", {}, b, " " + b.value)));
    return () => (all.checked ? "all" : boxes.filter((b) => b.checked).map((b) => b.value));
  }
  const warmChoice = typeBoxes("warm-types", WARMABLE, true);
  const clearChoice = typeBoxes("clear-types", CLEARABLE, false);

  function scopeText() {
    if (session.role !== "operator") return "shop " + session.shop;
    return session.shop ? "shop " + session.shop : "every shop";
  }

  function showResult(title, lines, failed) {
    const r = $("result");
    r.className = failed ? "failed" : "";
    r.replaceChildren(el("h3", {}, title), ...lines);
    r.hidden = false;
  }

  async function act(name, run) {
    if (busy) return;
    busy = true;
    for (const id of ["warm", "clear", "optimize"]) $(id).disabled = true;
    const started = performance.now();
    try {
      await run(() => performance.now() - started);
    } catch (e) {
      if (e.status === 401) { session.clear(); showSignin("Your session has ended: sign in again."); return; }
      showResult(name + " failed: " + e.message, [], true);
    } finally {
      busy = false;
      for (const id of ["warm", "clear", "optimize"]) $(id).disabled = false;
    }
    refresh();
  }

  $("warm").addEventListener("click", () => {
    const types = warmChoice();
    if (types.length === 0) { showResult("Choose at least one type to warm.", [], true); return; }
    act("Warm", async (took) => {
      const r = await api("POST", "/api/cache/warm", { types });
      const rows = Object.entries(r.warmed).map(([t, n]) => el("li", {}, t + ": " + plural(n, "entry", "entries")));
      showResult("Warmed " + plural(r.total, "entry", "entries") + " in " + ms(r.ms) +
                 (r.shops > 1 ? " across " + count(r.shops) + " shops" : ""),
                 [el("ul", {}, ...rows), el("p", { class: "figures" }, "round trip " + ms(took()))]);
    });
  });

  $("clear").addEventListener("click", () => {
    const types = clearChoice();
    if (types.length === 0) { showResult("Choose what to clear: tick the types, or all.", [], true); return; }
    const what = types === "all" ? "every type" : types.join(", ");
    $("confirm-text").textContent = "Clear " + what + " from the cache for " + scopeText() +
      "? No data is lost: the next reads load it from the database again, a little slower.";
    $("confirm-clear").showModal();
    $("confirm-yes").onclick = () => {
      $("confirm-clear").close();
      act("Clear", async (took) => {
        const keysBefore = lastStats ? lastStats.keys : null;
        const r = await api("POST", "/api/cache/clear", { types });
        const lines = [el("p", { class: "figures" }, "types: " + what + " · took " + ms(took()))];
        if (keysBefore !== null) lines.unshift(el("p", {}, "Keys before: " + count(keysBefore) + "."));
        showResult("Cleared " + plural(r.cleared, "entry", "entries"), lines);
      });
    };
  });
  $("confirm-no").addEventListener("click", () => $("confirm-clear").close());

  function actionLine(a) {
    if (a.action === "reclaim_expired") {
      return el("li", {}, "Removed expired entries" + (a.entries !== undefined ? ": " + count(a.entries) : "") + ".");
    }
    return el("li", {}, "Warmed " + a.type + ": " + plural(a.entries, "entry", "entries"), el("br"),
              el("span", { class: "figures" }, "because " + a.because));
  }

  function recommendationLine(r) {
    const kind = r.advice || r.setting;
    const head = [el("span", { class: "badge " + kind }, kind)];
    if (r.type) head.push(r.type + " ");
    if (r.recommended_bytes !== undefined) head.push("set " + bytes(r.recommended_bytes) + " (now " + bytes(r.current_bytes) + ") ");
    if (r.recommended_seconds !== undefined) head.push("set " + count(r.recommended_seconds) + " s (now " + count(r.current_seconds) + " s) ");
    const li = el("li", {}, ...head, el("br"), el("span", { class: "figures" }, r.because));
    li.dataset.advice = kind;
    return li;
  }

  $("optimize").addEventListener("click", () => act("Optimize", async (took) => {
    const r = await api("POST", "/api/cache/optimize", {});
    const recs = r.recommendations.map(recommendationLine);
    showResult("Optimized " + scopeText() + " in " + ms(took()), [
      el("p", {}, "Done:"), el("ul", { id: "optimize-actions" }, ...r.actions.map(actionLine)),
      el("p", {}, recs.length ? "Recommended, from the measured figures:" : "Nothing to recommend."),
      el("ul", { id: "recommendations" }, ...recs)]);
  }));

  // --- the loop -----------------------------------------------------------------------------
  async function refresh() {
    clearTimeout(timer);
    try {
      const [stats, history, forecast] = await Promise.all([
        api("GET", "/api/cache/stats"), api("GET", "/api/cache/stats/history?" + $("window").value),
        api("GET", "/api/cache/stats/forecast?hours=12")]);
      lastStats = stats;
      renderCards(stats);
      renderTiers(stats);
      renderTypes(stats);
      renderHistory(history, stats);
      renderForecast(forecast);
      $("status").className = "";
      $("status").textContent = "updated " + new Date().toLocaleTimeString([], { hour12: false });
      $("dashboard").dataset.refreshed = String(Date.now());
    } catch (e) {
      if (e.status === 401) { session.clear(); showSignin("Your session has ended: sign in again."); return; }
      if (e.status === 403) { session.clear(); showSignin("This account may not manage the cache."); return; }
      $("status").className = "stale";
      $("status").textContent = "could not refresh: " + e.message + " (retrying)";
    }
    timer = setTimeout(refresh, REFRESH_MS);
  }
  $("window").addEventListener("change", refresh);

  function start() {
    if (!session.token) { showSignin(""); return; }
    $("signin").hidden = true;
    $("dashboard").hidden = false;
    $("signout").hidden = false;
    $("window-label").hidden = false;
    const operator = session.role === "operator";
    $("who").textContent = operator ? "operator · " + (session.shop ? "shop " + session.shop : "whole server")
                                    : session.name + " · shop " + session.shop;
    $("shop-picker").hidden = !operator;
    $("pick-shop").value = session.shop;
    $("acts-on").textContent = "(" + scopeText() + ")";
    refresh();
  }

  start();
})();
