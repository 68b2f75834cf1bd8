// GET /cache: the page that plots the cache's history (see cache_page.h).
//
// Vanilla JavaScript and inline SVG, no framework and no download: the binary is the whole
// deployment. The token lives in sessionStorage (gone with the tab); `#token=...&shop=...` in the
// URL fragment, which never reaches the server, fills it for scripted use (a headless screenshot).
#include "api/cache_page.h"

namespace tajir::api {
namespace {

constexpr const char* kPage = R"HTML(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tajir cache</title>
<style>
  :root { --fg: #1d2430; --muted: #667085; --line: #e4e7ec; --bg: #f7f8fa; --card: #fff; --red: #c4320a; --mem: #7a3fd1; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
  header { display: flex; align-items: center; gap: 16px; padding: 12px 24px; background: var(--card); border-bottom: 1px solid var(--line); }
  header h1 { font-size: 18px; margin: 0; }
  header .grow { flex: 1; }
  #status { color: var(--muted); }
  main { padding: 16px 24px; max-width: 1400px; margin: 0 auto; }
  .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 12px; margin-bottom: 16px; }
  .card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
  .card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
  .card .value { font-size: 22px; font-weight: 600; }
  .card .sub { color: var(--muted); font-size: 12px; }
  .bar { height: 6px; background: var(--line); border-radius: 3px; margin-top: 6px; overflow: hidden; }
  .bar div { height: 100%; background: var(--mem); }
  .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 12px; margin-bottom: 16px; }
  .chart { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 8px; }
  .chart svg { width: 100%; height: auto; display: block; }
  .chart text { font-size: 11px; fill: var(--muted); }
  .chart .head { display: flex; justify-content: space-between; padding: 2px 8px 0 8px; }
  .chart .head b { font-size: 13px; }
  .chart .legend span { margin-left: 14px; color: var(--muted); font-size: 12px; }
  .chart .legend i { display: inline-block; width: 10px; height: 10px; margin-right: 5px; border-radius: 2px; }
  .empty { background: #fff8e6; border: 1px solid #f5d48a; border-radius: 8px; padding: 12px 16px; margin-bottom: 16px; }
  table { width: 100%; border-collapse: collapse; background: var(--card); border: 1px solid var(--line); border-radius: 8px; }
  th, td { padding: 6px 10px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
  th:first-child, td:first-child { text-align: left; }
  th { color: var(--muted); font-weight: 600; font-size: 12px; }
  form#login { max-width: 420px; margin: 60px auto; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 20px; }
  form#login label { display: block; margin: 10px 0 4px; }
  form#login input { width: 100%; padding: 6px 8px; font: inherit; }
  form#login button { margin-top: 14px; padding: 6px 14px; font: inherit; }
  #login-message { color: var(--red); min-height: 1.4em; }
  [hidden] { display: none !important; }
</style>
</head>
<body>
<header>
  <h1>tajir cache</h1>
  <span id="status">…</span>
  <span class="grow"></span>
  <label>history <select id="window">
    <option value="60">1 hour</option><option value="360">6 hours</option><option value="1440">24 hours</option>
  </select></label>
  <button id="logout" type="button">change token</button>
</header>

<form id="login" hidden>
  <h2>Cache dashboard</h2>
  <p>An owner's token, or the operator's token (optionally with a shop id).</p>
  <div id="login-message"></div>
  <label for="token">Bearer token</label><input id="token" autocomplete="off" required>
  <label for="shop">Shop id (operator only, optional)</label><input id="shop" inputmode="numeric">
  <button type="submit">Show the cache</button>
</form>

<main id="dashboard" hidden>
  <section class="cards" id="cards"></section>
  <div class="empty" id="empty" hidden>No history yet: the cache records one point per interval (a minute
    by default), so the first point appears a minute after the server starts. The numbers above are live.</div>
  <section class="charts" id="charts"></section>
  <table>
    <thead><tr><th>type</th><th>hit rate</th><th>hits</th><th>misses</th><th>keys</th><th>memory</th>
      <th>invalidations</th><th>median age at invalidation</th><th>evictions</th><th>expirations</th></tr></thead>
    <tbody id="types"></tbody>
  </table>
</main>

<script>
"use strict";
const $ = (id) => document.getElementById(id);
const REFRESH_MS = 10000;
const COLOR = { hit: "#1a7f37", miss: "#c4320a", keys: "#2f6fde", mem: "#7a3fd1" };
let timer = null;

// --- the token ------------------------------------------------------------------------------
function takeFragment() {
  const f = new URLSearchParams(location.hash.slice(1));
  if (f.get("token")) {
    sessionStorage.setItem("tajir.token", f.get("token"));
    if (f.get("shop")) sessionStorage.setItem("tajir.shop", f.get("shop")); else sessionStorage.removeItem("tajir.shop");
    history.replaceState(null, "", location.pathname + location.search);  // the token leaves the address bar
  }
}

function askToken(message) {
  clearTimeout(timer);
  $("dashboard").hidden = true;
  $("login").hidden = false;
  $("login-message").textContent = message || "";
  $("token").focus();
}

$("login").addEventListener("submit", (ev) => {
  ev.preventDefault();
  sessionStorage.setItem("tajir.token", $("token").value.trim());
  const shop = $("shop").value.trim();
  if (shop) sessionStorage.setItem("tajir.shop", shop); else sessionStorage.removeItem("tajir.shop");
  $("token").value = "";
  start();
});
$("logout").addEventListener("click", () => { sessionStorage.removeItem("tajir.token"); askToken(""); });
$("window").addEventListener("change", () => refresh());

async function getJson(path) {
  const headers = { "Authorization": "Bearer " + sessionStorage.getItem("tajir.token") };
  const shop = sessionStorage.getItem("tajir.shop");
  if (shop) headers["X-Shop-Id"] = shop;
  const r = await fetch(path, { headers, cache: "no-store" });
  if (!r.ok) {
    let message = "HTTP " + r.status;
    try { message = (await r.json()).error.message; } catch (e) { /* not JSON */ }
    throw { status: r.status, message };
  }
  return r.json();
}

// --- formatting -----------------------------------------------------------------------------
const count = (n) => Math.round(n).toLocaleString("en-US");
const percent = (x) => (100 * x).toFixed(x >= 0.995 || x === 0 ? 0 : 1) + "%";
function bytes(b) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (b >= 1024 && i < units.length - 1) { b /= 1024; i++; }
  return (i === 0 || b >= 100 ? b.toFixed(0) : b.toFixed(1).replace(/\.0$/, "")) + " " + units[i];
}
function shortCount(n) {
  if (n >= 1e9) return (n / 1e9).toFixed(n >= 1e10 ? 0 : 1) + "G";
  if (n >= 1e6) return (n / 1e6).toFixed(n >= 1e7 ? 0 : 1) + "M";
  if (n >= 1e3) return (n / 1e3).toFixed(n >= 1e4 ? 0 : 1) + "k";
  return String(Math.round(n * 100) / 100);
}
function duration(ms) {
  if (ms < 1000) return Math.round(ms) + " ms";
  if (ms < 120000) return (ms / 1000).toFixed(1) + " s";
  if (ms < 7200000) return (ms / 60000).toFixed(1) + " min";
  return (ms / 3600000).toFixed(1) + " h";
}
const clock = (t, seconds) => new Date(t).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hour12: false,
                                                                    second: seconds ? "2-digit" : undefined });

// --- the numbers ----------------------------------------------------------------------------
function card(label, value, sub, fill) {
  const c = document.createElement("div");
  c.className = "card";
  c.innerHTML = '<div class="label"></div><div class="value"></div><div class="sub"></div>';
  c.children[0].textContent = label;
  c.children[1].textContent = value;
  c.children[2].textContent = sub || "";
  if (fill !== undefined) {
    const bar = document.createElement("div");
    bar.className = "bar";
    bar.innerHTML = "<div></div>";
    bar.firstChild.style.width = Math.min(100, 100 * fill).toFixed(1) + "%";
    c.appendChild(bar);
  }
  return c;
}

function renderStats(s) {
  const limit = s.memory_limit_bytes || 0;
  $("cards").replaceChildren(
    card("hit rate", percent(s.hit_rate), count(s.hits) + " hits, " + count(s.misses) + " misses"),
    card("keys", count(s.keys), (s.policy || "") + " policy"),
    card("memory", bytes(s.memory_bytes), "of " + bytes(limit) + ", peak " + bytes(s.peak_memory_bytes || 0),
         limit > 0 ? s.memory_bytes / limit : 0),
    card("evictions", count(s.evictions), count(s.ghost_hits || 0) + " ghost hits"),
    card("invalidations", count(s.invalidations), "median age " + duration(s.invalidated_age_p50_ms || 0)),
    card("expirations", count(s.expirations), "TTL ran out"),
    card("loads", count(s.loads || 0), count(s.coalesced || 0) + " coalesced, " + count(s.load_errors || 0) + " errors"));
  const rows = Object.entries(s.by_type || {}).map(([name, t]) => {
    const tr = document.createElement("tr");
    const cells = [name, percent(t.hit_rate), count(t.hits), count(t.misses), count(t.keys), bytes(t.memory_bytes),
                   count(t.invalidations),
                   t.invalidated_age_count ? duration(t.invalidated_age_p50_ms) + " (" + count(t.invalidated_age_count) + ")" : "–",
                   count(t.evictions), count(t.expirations)];
    for (const v of cells) tr.appendChild(document.createElement("td")).textContent = v;
    return tr;
  });
  $("types").replaceChildren(...rows);
}

// --- the charts -----------------------------------------------------------------------------
// A tick step of 1, 2 or 5 times a power of ten that cuts [0, max] into about `n` parts.
function niceStep(max, n) {
  const raw = max / n, p = Math.pow(10, Math.floor(Math.log10(raw))), f = raw / p;
  return p * (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10);
}

const NS = "http://www.w3.org/2000/svg";
function el(name, attrs, text) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

// series: [{name, color, values: [number per point]}]; times: [ms]; fmt: y-axis labels;
// opts.max: a fixed top; opts.unit: ticks at nice multiples of it (1024 for bytes).
function lineChart(title, times, series, fmt, opts = {}) {
  const W = 640, H = 220, L = 64, R = 16, T = 10, B = 34;
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title });
  const fixedMax = opts.max;
  let max = fixedMax || Math.max(0, ...series.flatMap((s) => s.values));
  if (max <= 0) max = 1;
  const unit = opts.unit ? Math.pow(opts.unit, Math.max(0, Math.floor(Math.log(max / 4) / Math.log(opts.unit)))) : 1;
  const step = fixedMax ? fixedMax / 4 : niceStep(max / unit, 4) * unit;
  const top = fixedMax || Math.ceil(max / step) * step;
  let t0 = times[0], t1 = times[times.length - 1];
  if (t1 - t0 < 60000) t0 = t1 - 60000;
  const x = (t) => L + (W - L - R) * (t - t0) / (t1 - t0);
  const y = (v) => H - B - (H - T - B) * v / top;
  for (let v = 0; v <= top + step / 1e6; v += step) {  // y grid and labels
    svg.appendChild(el("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: v === 0 ? "#98a2b3" : "#eaecf0" }));
    svg.appendChild(el("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end" }, fmt(v)));
  }
  svg.appendChild(el("line", { x1: L, x2: L, y1: T, y2: H - B, stroke: "#98a2b3" }));
  for (let i = 0; i <= 4; i++) {  // x ticks: five times across the window
    const t = t0 + (t1 - t0) * i / 4;
    svg.appendChild(el("line", { x1: x(t), x2: x(t), y1: H - B, y2: H - B + 4, stroke: "#98a2b3" }));
    svg.appendChild(el("text", { x: x(t), y: H - B + 16, "text-anchor": i === 0 ? "start" : i === 4 ? "end" : "middle" },
                       clock(t, t1 - t0 < 300000)));
  }
  svg.appendChild(el("text", { x: (L + W - R) / 2, y: H - 3, "text-anchor": "middle" }, "time"));
  const legend = document.createElement("span");
  legend.className = "legend";
  for (const s of series) {
    const item = legend.appendChild(document.createElement("span"));
    item.appendChild(document.createElement("i")).style.background = s.color;
    item.appendChild(document.createTextNode(s.name));
    const pts = s.values.map((v, i) => `${x(times[i]).toFixed(1)},${y(v).toFixed(1)}`);
    svg.appendChild(el("polyline", { points: pts.join(" "), fill: "none", stroke: s.color, "stroke-width": 2,
                                     "stroke-linejoin": "round" }));
    if (s.values.length <= 40) {
      s.values.forEach((v, i) => svg.appendChild(el("circle", { cx: x(times[i]), cy: y(v), r: 2.5, fill: s.color })));
    }
  }
  const box = document.createElement("div");
  box.className = "chart";
  const head = box.appendChild(document.createElement("div"));
  head.className = "head";
  head.appendChild(document.createElement("b")).textContent = title;
  head.appendChild(legend);
  box.appendChild(svg);
  return box;
}

function renderHistory(points, stats) {
  $("empty").hidden = points.length > 0;
  if (points.length === 0) { $("charts").replaceChildren(); return; }
  const times = points.map((p) => Date.parse(p.at));
  const limit = stats.memory_limit_bytes;
  $("charts").replaceChildren(
    lineChart("Hit rate per interval", times, [{ name: "hit rate", color: COLOR.hit, values: points.map((p) => p.hit_rate) }],
              (v) => Math.round(v * 100) + "%", { max: 1 }),
    lineChart("Hits and misses per interval", times, [
      { name: "hits", color: COLOR.hit, values: points.map((p) => p.hits) },
      { name: "misses", color: COLOR.miss, values: points.map((p) => p.misses) }], shortCount),
    lineChart("Keys", times, [{ name: "keys", color: COLOR.keys, values: points.map((p) => p.keys) }], shortCount),
    lineChart("Memory (limit " + bytes(limit) + ")", times,
              [{ name: "memory", color: COLOR.mem, values: points.map((p) => p.memory_bytes) }], bytes, { unit: 1024 }));
}

// --- the loop -------------------------------------------------------------------------------
async function refresh() {
  clearTimeout(timer);
  try {
    const [stats, history] = await Promise.all([
      getJson("/api/cache/stats"), getJson("/api/cache/stats/history?minutes=" + $("window").value)]);
    renderStats(stats);
    renderHistory(history.points, stats);
    $("status").textContent = "updated " + new Date().toLocaleTimeString() + " · " + history.points.length + " points";
  } catch (e) {
    if (e.status === 401) { sessionStorage.removeItem("tajir.token"); askToken("That token was refused (401): enter it again."); return; }
    if (e.status === 403) { askToken("That token's role may not read the cache's statistics (403): use an owner's or the operator's."); return; }
    $("status").textContent = "could not refresh: " + (e.message || e) + " (retrying)";
  }
  timer = setTimeout(refresh, REFRESH_MS);
}

function start() {
  if (!sessionStorage.getItem("tajir.token")) { askToken(""); return; }
  $("login").hidden = true;
  $("dashboard").hidden = false;
  refresh();
}

takeFragment();
start();
</script>
</body>
</html>
)HTML";

}  // namespace

const std::shared_ptr<const std::string>& cache_page_html() {
  static const auto page = std::make_shared<const std::string>(kPage);
  return page;
}

}  // namespace tajir::api
