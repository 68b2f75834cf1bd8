// The cache page (GET /cache) in a real browser: Debian's chromium driven by playwright-core,
// against the real tajir binary on a free loopback port and a fresh SQLite database, seeded
// through the API. Screenshots (laptop and phone) go to $E2E_SCREENSHOTS.
//
//   TAJIR_BIN=build/tajir node --test tests/e2e/cache_page.test.mjs
//
// Every wait is bounded (WAIT_MS); nothing leaves the machine (any request elsewhere fails the
// test).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = process.env.TAJIR_BIN || path.resolve(here, "../../build/tajir");
const SHOTS = process.env.E2E_SCREENSHOTS || path.resolve(here, "../../build/e2e-screenshots");
const ADMIN_TOKEN = "operator-token-for-e2e-0123456789";
const PASSWORD = "correct-horse-1";
const WAIT_MS = 12_000;  // the page refreshes every 5 s

const cleanup = [];
after(async () => {
  for (const f of cleanup.reverse()) await f();
});

// --- the server ------------------------------------------------------------------------------
async function startTajir(dir) {
  const proc = spawn(BIN, ["serve", "--address", "127.0.0.1", "--port", "0", "--db", `sqlite:${dir}/tajir.db`,
                           "--admin-token", ADMIN_TOKEN, "--warm", "false", "--refill", "false", "--log-level", "warn"],
                     { stdio: ["ignore", "pipe", "pipe"] });
  cleanup.push(() => new Promise((resolve) => {
    if (proc.exitCode !== null) return resolve();
    const kill = setTimeout(() => proc.kill("SIGKILL"), 5000);
    proc.once("exit", () => { clearTimeout(kill); resolve(); });
    proc.kill("SIGTERM");
  }));
  let stderr = "";
  proc.stderr.on("data", (d) => { stderr += d; });
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("tajir did not start within 10 s: " + stderr)), 10_000);
    let out = "";
    proc.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    proc.once("exit", (code) => { clearTimeout(timer); reject(new Error(`tajir exited (${code}): ${stderr}`)); });
  });
}

function client(base) {
  return async (method, urlPath, body, token, headers = {}) => {
    const h = { ...headers };
    if (token) h.Authorization = "Bearer " + token;
    if (body !== undefined) h["Content-Type"] = "application/json";
    const r = await fetch(base + urlPath, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body),
                                            signal: AbortSignal.timeout(10_000) });
    const text = await r.text();
    const json = (r.headers.get("content-type") || "").startsWith("application/json") ? JSON.parse(text) : null;
    return { status: r.status, headers: r.headers, json, text };
  };
}

// --- the page --------------------------------------------------------------------------------
const waitFor = (page, fn, arg) => page.waitForFunction(fn, arg, { timeout: WAIT_MS, polling: 100 });
const cardValue = (page, label) =>
  page.$eval(`#cards .card[data-label="${label}"] .value`, (e) => Number(e.textContent.replace(/[^0-9.]/g, "")));
async function signIn(page, username, password) {
  await page.fill("#username", username);
  await page.fill("#password", password);
  await page.click("#owner-form button[type=submit]");
}
// The page refreshes by itself, and at once after each action and sign-in.
async function refreshedAfter(page, t) {
  await waitFor(page, (t) => Number(document.getElementById("dashboard").dataset.refreshed || 0) > t, t);
}
const nextFrame = (page) => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));

test("the cache page: sign in, watch, warm, clear, optimize, each shop its own", async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tajir-e2e-"));
  cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const base = await startTajir(dir);
  const api = client(base);

  // Two shops, seeded through the API.
  const alice = (await api("POST", "/api/auth/register", { shop_name: "Alice's Grocery", username: "alice", password: PASSWORD })).json;
  const bob = (await api("POST", "/api/auth/register", { shop_name: "Bob's Books", username: "bob", password: PASSWORD })).json;
  const ids = [];
  for (let i = 0; i < 6; i++) {
    const r = await api("POST", "/api/products", { name: `Item ${i}`, sku: `SKU${i}`, price: 150 + i, stock: 40 }, alice.token);
    assert.equal(r.status, 201);
    ids.push(r.json.id);
  }
  await api("POST", "/api/customers", { name: "Amina" }, alice.token);

  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "tajir-e2e-chromium-"));
  cleanup.push(() => fs.rmSync(profile, { recursive: true, force: true }));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium", headless: true, viewport: { width: 1280, height: 800 }, timeout: 30_000,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync"],
  });
  cleanup.push(() => context.close());
  context.setDefaultTimeout(WAIT_MS);
  const elsewhere = [], problems = [];
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(base + "/")) return route.continue();
    elsewhere.push(url);
    return route.abort();
  });
  const page = context.pages()[0] || await context.newPage();
  // The refused sign-ins answer 401, which the browser logs as a failed load: expected.
  page.on("console", (m) => { if (m.type() === "error" && !/status of 401/.test(m.text())) problems.push(m.text()); });
  page.on("pageerror", (e) => problems.push(String(e)));
  await page.goto(base + "/cache");

  await t.test("a wrong password shows an error", async () => {
    await signIn(page, "alice", "not-the-password");
    await waitFor(page, () => document.getElementById("signin-error").textContent.includes("Wrong username or password"));
    assert.equal(await page.isHidden("#dashboard"), true);
  });

  await t.test("an owner signs in with a username and password", async () => {
    await signIn(page, "alice", PASSWORD);
    await page.waitForSelector("#dashboard:not([hidden])");
    await waitFor(page, () => document.querySelectorAll("#cards .card").length > 0);
    assert.match(await page.textContent("#who"), /alice · shop \d+/);
    assert.equal(await page.evaluate(() => localStorage.length), 0, "the token is kept in the tab's session only");
    assert.ok(await page.evaluate(() => sessionStorage.getItem("tajir.token")));
    assert.deepEqual(await context.cookies(), []);
  });

  await t.test("the charts fill after some traffic", async () => {
    let hits = 0, misses = 0;
    for (let round = 0; round < 4; round++) {
      for (const p of ["/api/products", `/api/products/${ids[round]}`, "/api/dashboard", "/api/customers"]) {
        const r = await api("GET", p, undefined, alice.token);
        assert.equal(r.status, 200);
        if (r.headers.get("x-cache") === "HIT") hits++; else misses++;
      }
    }
    await waitFor(page, (n) => Number(document.getElementById("chart-requests").dataset.total) >= n, hits + misses);
    assert.equal(await cardValue(page, "hits"), hits);
    assert.equal(await cardValue(page, "misses"), misses);
    assert.ok(Number(await page.getAttribute("#chart-keys", "data-total")) > 0, "the keys chart has the shop's keys");
    assert.ok(await page.$("#chart-requests canvas"), "uPlot drew it");
    const local = await page.textContent("#tiers tr[data-tier=local]");
    assert.match(local, /up/);
    assert.match(local, /µs/, "a hit's latency");
    assert.match(await page.textContent("#tiers tr[data-tier=redis]"), /disabled/);
  });

  await t.test("the history by hour and by day, and the forecast of the coming hours", async () => {
    assert.equal(await page.$$eval("#forecast tbody tr", (rows) => rows.length), 12);
    assert.match(await page.textContent("#forecast tbody"), /no history yet|before/);
    await page.selectOption("#window", "days=30");
    await waitFor(page, () => /per day/.test(document.querySelector("#chart-hitrate h3").textContent));
    await page.selectOption("#window", "minutes=60");
    await waitFor(page, () => /per minute/.test(document.querySelector("#chart-hitrate h3").textContent));
  });

  let clicked = 0;
  await t.test("Warm shows what it loaded and how long it took", async () => {
    clicked = Date.now();
    await page.click("#warm");
    await waitFor(page, () => /Warmed \d+ entr/.test(document.querySelector("#result h3")?.textContent || ""));
    const result = await page.textContent("#result");
    assert.match(result, /in \d+ ms/);
    for (const type of ["products", "customers", "dashboard"]) assert.match(result, new RegExp(type + ": \\d+ entr"));
  });

  await t.test("Clear asks first, then the keys drop", async () => {
    await refreshedAfter(page, clicked);
    const before = await cardValue(page, "keys");
    assert.ok(before > 3, `keys before the clear: ${before}`);
    await page.check("#clear-types input[value=all]");
    await page.click("#clear");
    await page.waitForSelector("#confirm-clear[open]");
    assert.match(await page.textContent("#confirm-text"), /every type/);
    await page.click("#confirm-no");
    assert.equal(await page.isVisible("#confirm-clear"), false);
    assert.equal(await cardValue(page, "keys"), before, "cancelled: nothing cleared");

    await page.click("#clear");
    await page.click("#confirm-yes");
    await waitFor(page, () => /Cleared [1-9]\d* entr/.test(document.querySelector("#result h3")?.textContent || ""));
    await waitFor(page, (b) => Number(document.querySelector('#cards .card[data-label="keys"] .value')
                                        .textContent.replace(/[^0-9]/g, "")) < b, before);
  });

  await t.test("Optimize shows its actions and recommendations with their figures", async () => {
    clicked = Date.now();
    await page.click("#optimize");
    await page.waitForSelector("#recommendations li");
    const recs = await page.$$eval("#recommendations li", (li) => li.map((x) => [x.dataset.advice, x.textContent]));
    assert.ok(recs.length >= 2, JSON.stringify(recs));
    for (const [, text] of recs) assert.match(text, /\d/, "each names its figure");
    assert.ok(recs.some(([advice, text]) => advice === "memory" && /% of the cache's/.test(text)));
    assert.ok(recs.some(([advice, text]) => ["warm", "keep"].includes(advice) && /hit rate 0\.\d+ \(\d+ hits, \d+ misses\)/.test(text)));
    assert.match(await page.textContent("#optimize-actions"), /Removed expired entries/);
  });

  await t.test("readable on a laptop and on a phone", async () => {
    fs.mkdirSync(SHOTS, { recursive: true });
    await refreshedAfter(page, clicked);
    await page.screenshot({ path: path.join(SHOTS, "laptop.png"), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await nextFrame(page);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `nothing wider than the phone (${width} px)`);
    await page.screenshot({ path: path.join(SHOTS, "phone.png"), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  await t.test("another shop's owner sees none of the first shop's figures", async () => {
    const token = await page.evaluate(() => sessionStorage.getItem("tajir.token"));
    await page.click("#signout");
    await page.waitForSelector("#signin:not([hidden])");
    assert.equal(await page.evaluate(() => sessionStorage.getItem("tajir.token")), null);
    assert.equal((await api("GET", "/api/shop", undefined, token)).status, 401, "signing out logged the session out");
    clicked = Date.now();
    await signIn(page, "bob", PASSWORD);
    await page.waitForSelector("#dashboard:not([hidden])");
    await refreshedAfter(page, clicked);
    assert.match(await page.textContent("#who"), /bob · shop \d+/);
    const mine = (await api("GET", "/api/cache/stats", undefined, bob.token)).json;
    assert.equal(mine.shop_id, bob.user.shop_id);
    assert.equal(await cardValue(page, "hits"), 0);
    assert.equal(await cardValue(page, "misses"), 0);
    assert.ok(await cardValue(page, "keys") <= mine.keys, "its own keys at most (its sessions)");
    const products = await page.$$eval("#types tr[data-type=products] td", (td) => td.map((x) => x.textContent));
    assert.deepEqual(products.slice(2, 5), ["0", "0", "0"], "no hits, misses or keys of products: alice's are not his");
    assert.equal(Number(await page.getAttribute("#chart-requests", "data-total")), 0);
  });

  await t.test("the operator sees the whole server, or the shop it picks", async () => {
    await page.click("#signout");
    await page.click("#tab-operator");
    await page.fill("#token", "not-the-operator-token-0000");
    await page.click("#operator-form button[type=submit]");
    await waitFor(page, () => document.getElementById("signin-error").textContent.includes("refused"));
    clicked = Date.now();
    await page.fill("#token", ADMIN_TOKEN);
    await page.click("#operator-form button[type=submit]");
    await refreshedAfter(page, clicked);
    assert.match(await page.textContent("#who"), /operator · whole server/);
    assert.ok(await page.$('#cards .card[data-label="evictions"]'), "the server's own counters");
    const shown = await cardValue(page, "hits");
    const all = (await api("GET", "/api/cache/stats", undefined, ADMIN_TOKEN)).json;
    const aliceHits = (await api("GET", "/api/cache/stats", undefined, alice.token)).json.hits;
    assert.ok(shown <= all.hits && shown >= aliceHits, `${aliceHits} <= ${shown} <= ${all.hits}: every shop's`);
    clicked = Date.now();
    await page.fill("#pick-shop", String(alice.user.shop_id));
    await page.click("#shop-picker button[type=submit]");
    await refreshedAfter(page, clicked);
    const shop = (await api("GET", "/api/cache/stats", undefined, alice.token)).json;
    assert.match(await page.textContent("#who"), new RegExp(`operator · shop ${alice.user.shop_id}`));
    assert.equal(await cardValue(page, "hits"), shop.hits);
    assert.equal(await page.$('#cards .card[data-label="evictions"]'), null, "a shop's figures only");
  });

  await t.test("nothing left the machine, nothing was refused by the page's policy", async () => {
    assert.deepEqual(elsewhere, []);
    assert.deepEqual(problems, []);
    const r = await api("GET", "/cache");
    assert.match(r.headers.get("content-security-policy"), /default-src 'none'; script-src 'self'; style-src 'self'/);
  });
});
