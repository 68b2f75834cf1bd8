"""The cache as clients see it: X-Cache, ETags, tenancy of cached bytes, precise invalidation,
single-flight, no stale reads under racing writers, and the management endpoints."""
import math
import random
import re
import threading
import time

import pytest

from conftest import ADMIN_TOKEN, Server


def shop_with_products(server, n=5, stock=50):
    token, user = server.register()
    ids = [server.post("/api/products", {"name": f"Item {i}", "sku": f"S{i}", "price": 100 + i, "stock": stock,
                                         "low_stock_threshold": 2}, token).json["id"] for i in range(n)]
    return token, user, ids


def metric(server, name):
    text = server.get("/metrics").text
    return sum(float(v) for v in re.findall(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M))


def warmed_by(server, cause):
    found = re.search(rf'^tajir_cache_warmed_total{{cause="{cause}"}} (\S+)$', server.get("/metrics").text, re.M)
    return float(found.group(1))


def test_hit_miss_etag_304(server):
    token, _, ids = shop_with_products(server)
    first = server.get("/api/products", token)
    assert first.headers["X-Cache"] == "MISS" and first.headers["ETag"].startswith('"')
    second = server.get("/api/products", token)
    assert second.headers["X-Cache"] == "HIT" and second.body == first.body
    assert second.headers["ETag"] == first.headers["ETag"]
    r = server.get("/api/products", token, headers={"If-None-Match": first.headers["ETag"]})
    assert r.status == 304 and r.body == b""
    server.put(f"/api/products/{ids[0]}", {"price": 999}, token)
    r = server.get("/api/products", token, headers={"If-None-Match": first.headers["ETag"]})
    assert r.status == 200 and r.json["items"][0]["price"] == 999 and r.headers["ETag"] != first.headers["ETag"]


def test_a_page_a_bill_kept_has_the_etag_of_its_new_bytes(server):
    """A bill keeps the cached first page of bills, brought up to date: its ETag is that of the new
    bytes (what the page answers when loaded afresh), so a client's old ETag gets the new page."""
    token, _, ids = shop_with_products(server, n=1)
    sale = {"items": [{"product_id": ids[0], "quantity": 1}], "payment_method": "cash"}
    server.post("/api/bills", sale, token)
    first = server.get("/api/bills", token)
    assert first.headers["X-Cache"] == "MISS"
    server.post("/api/bills", sale, token)
    kept = server.get("/api/bills", token, headers={"If-None-Match": first.headers["ETag"]})
    assert kept.status == 200 and kept.headers["X-Cache"] == "HIT" and len(kept.json["items"]) == 2
    assert kept.headers["ETag"] != first.headers["ETag"]
    server.post("/api/cache/clear", {"types": ["bills"]}, token)
    loaded = server.get("/api/bills", token)
    assert loaded.headers["X-Cache"] == "MISS" and loaded.body == kept.body
    assert loaded.headers["ETag"] == kept.headers["ETag"]
    assert server.get("/api/bills", token, headers={"If-None-Match": kept.headers["ETag"]}).status == 304


def test_cached_bytes_never_cross_shops(server):
    a, _, a_ids = shop_with_products(server, n=3)
    b, _, _ = shop_with_products(server, n=1)
    server.post("/api/customers", {"name": "Ann"}, a)
    server.post("/api/customers", {"name": "Bob"}, b)
    server.post("/api/bills", {"items": [{"product_id": a_ids[0], "quantity": 1}], "payment_method": "cash"}, a)
    for path in ["/api/products", "/api/products?page=1&per_page=50", "/api/dashboard", "/api/shop", "/api/customers"]:
        ra1, ra2 = server.get(path, a), server.get(path, a)
        rb = server.get(path, b)
        assert ra2.headers["X-Cache"] == "HIT"
        assert rb.headers["X-Cache"] == "MISS", path
        assert rb.body != ra1.body, path
    assert server.get("/api/products", b).json["total"] == 1


def test_a_query_value_cannot_spell_another_querys_key(server):
    # category "Food&q=x" and category "Food" with q "x" are different reads.
    token, _, _ = shop_with_products(server, n=1)
    server.post("/api/products", {"name": "Box", "sku": "BX", "price": 5, "category": "Food"}, token)
    odd = server.get("/api/products?category=Food%26q%3Dx", token)
    assert odd.status == 200 and odd.json["total"] == 0
    real = server.get("/api/products?category=Food&q=Box", token)
    assert real.headers["X-Cache"] == "MISS" and real.json["total"] == 1


def test_precise_invalidation_drops_exactly_what_changed(server):
    token, _, ids = shop_with_products(server)
    c = server.post("/api/customers", {"name": "Dan"}, token).json
    # Details before the lists: rebuilding a list stores the items it loads again.
    paths = [f"/api/products/{i}" for i in ids] + ["/api/products", f"/api/customers/{c['id']}", "/api/customers",
                                                   "/api/dashboard", "/api/bills", "/api/shop"]
    for p in paths:
        server.get(p, token)
    server.put(f"/api/products/{ids[1]}", {"price": 555}, token)
    state = {p: server.get(p, token).headers["X-Cache"] for p in paths}
    assert state[f"/api/products/{ids[1]}"] == "MISS" and state["/api/products"] == "MISS"
    assert all(state[f"/api/products/{i}"] == "HIT" for i in ids if i != ids[1])
    assert state["/api/customers"] == state["/api/dashboard"] == state["/api/bills"] == state["/api/shop"] == "HIT"
    # A bill drops its customer; the products it sold, the lists that show them, the bill lists
    # and the dashboard it keeps up to date (hits that show it).
    stock = server.get(f"/api/products/{ids[2]}", token).json["stock"]
    bill = server.post("/api/bills", {"items": [{"product_id": ids[2], "quantity": 1}], "customer_id": c["id"],
                                      "payment_method": "cash"}, token).json
    replies = {p: server.get(p, token) for p in paths}
    state = {p: r.headers["X-Cache"] for p, r in replies.items()}
    for p in [f"/api/customers/{c['id']}", "/api/customers"]:
        assert state[p] == "MISS", p
    assert state[f"/api/products/{ids[2]}"] == state["/api/products"] == "HIT"
    assert replies[f"/api/products/{ids[2]}"].json["stock"] == stock - 1
    assert [p["stock"] for p in replies["/api/products"].json["items"] if p["id"] == ids[2]] == [stock - 1]
    assert state["/api/bills"] == state["/api/dashboard"] == "HIT"
    assert replies["/api/bills"].json["items"][0]["id"] == bill["id"]
    assert replies["/api/dashboard"].json["recent_bills"][0]["id"] == bill["id"]
    assert replies["/api/dashboard"].json["bills"]["all_time"] == 1
    assert state[f"/api/products/{ids[0]}"] == "HIT" and state["/api/shop"] == "HIT"
    assert server.get(f"/api/customers/{c['id']}", token).json["bill_count"] == 1


def test_coarse_invalidation_setting(db_url):
    server = Server(db_url, ["--invalidation", "coarse"])
    try:
        token, _, ids = shop_with_products(server, n=2)
        for i in ids:
            server.get(f"/api/products/{i}", token)
        server.put(f"/api/products/{ids[0]}", {"price": 1}, token)
        assert server.get(f"/api/products/{ids[1]}", token).headers["X-Cache"] == "MISS", "coarse drops the type"
        assert server.get("/api/cache/stats", token).json["invalidation"] == "coarse"
    finally:
        server.stop()


def test_concurrent_cold_dashboard_loads_once(server):
    token, _, _ = shop_with_products(server)
    server.get("/api/dashboard", token)  # the session is cached now
    server.post("/api/cache/clear", {"types": ["dashboard"]}, token)
    before = metric(server, "tajir_db_statements_total")
    results = []
    barrier = threading.Barrier(40)

    def reader():
        barrier.wait()
        results.append(server.get("/api/dashboard", token).status)

    threads = [threading.Thread(target=reader) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 40
    spent = metric(server, "tajir_db_statements_total") - before
    assert spent <= 6, f"40 concurrent cold dashboards ran {spent} statements: one load is 5"


def test_no_stale_reads_under_racing_writers(server):
    token, _, ids = shop_with_products(server, n=6, stock=10**6)
    acked = {i: 0 for i in ids}  # the newest price acknowledged to a writer
    lock = threading.Lock()
    stale = []
    reads = [0]
    stop = threading.Event()

    def writer(seed):
        # Each writer owns two products, so that each product's prices only grow.
        rng = random.Random(seed)
        mine = ids[2 * seed:2 * seed + 2]
        for _ in range(150):
            pid = rng.choice(mine)
            with lock:
                price = max(acked.values()) + 1
            if rng.random() < 0.3:  # a sale moves stock too
                server.post("/api/bills", {"items": [{"product_id": pid, "quantity": 1}], "payment_method": "cash"}, token)
            r = server.put(f"/api/products/{pid}", {"price": price}, token)
            assert r.status == 200
            with lock:
                acked[pid] = max(acked[pid], price)
        stop.set()

    def reader(seed):
        rng = random.Random(seed)
        while not stop.is_set():
            pid = rng.choice(ids)
            with lock:
                floor = acked[pid]
            if rng.random() < 0.5:
                seen = server.get(f"/api/products/{pid}", token).json["price"]
            else:
                page = server.get("/api/products", token).json["items"]
                seen = next(p["price"] for p in page if p["id"] == pid)
            reads[0] += 1
            if floor > 0 and seen < floor:
                stale.append((pid, seen, floor))

    threads = [threading.Thread(target=writer, args=(s,)) for s in range(3)] + \
              [threading.Thread(target=reader, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert reads[0] > 300
    assert stale == [], f"{len(stale)} stale reads of {reads[0]}, e.g. {stale[:3]}"
    stats = server.get("/api/cache/stats", ADMIN_TOKEN).json  # invalidations: the whole server's
    assert stats["hits"] > 0 and stats["invalidations"] > 0


def test_management_endpoints(server):
    token, user, ids = shop_with_products(server, n=3)
    server.post("/api/employees", {"name": "Cy", "username": "cashier_cy", "password": "cashier-pass"}, token)
    cashier = server.post("/api/auth/login", {"username": "cashier_cy", "password": "cashier-pass"}).json["token"]
    assert server.get("/api/cache/stats", cashier).status == 403

    w = server.post("/api/cache/warm", {"types": ["products", "dashboard"]}, token)
    assert w.status == 200 and w.json["warmed"] == {"products": 1, "dashboard": 1} and w.json["total"] == 2
    assert server.get("/api/products", token).headers["X-Cache"] == "HIT", "warming filled what a GET reads"
    w = server.post("/api/cache/warm", {"cache_type": "all"}, token)
    assert set(w.json["warmed"]) == {"products", "dashboard", "customers"}

    bad = server.post("/api/cache/clear", {"types": ["products", "bogus"]}, token)
    assert bad.status == 400 and bad.error()["field"] == "types"
    assert server.get("/api/products", token).headers["X-Cache"] == "HIT", "a refused clear changes nothing"
    cleared = server.post("/api/cache/clear", {"types": ["products"]}, token)
    assert cleared.status == 200 and cleared.json["cleared"] >= 1
    assert server.get("/api/products", token).headers["X-Cache"] == "MISS"
    assert server.get("/api/dashboard", token).headers["X-Cache"] == "HIT"

    s = server.get("/api/cache/stats", token).json
    for field in ["hits", "misses", "hit_rate", "keys", "memory_bytes", "memory_limit_bytes", "by_type", "tiers",
                  "memory_usage", "total_keys", "redis_status"]:
        assert field in s, field
    assert 0 <= s["hit_rate"] <= 1 and s["scope"] == "shop"
    assert {"hits", "misses", "keys", "memory_bytes"} <= set(s["by_type"]["products"])
    assert s["tiers"]["redis"] == {"enabled": False, "connected": False, "state": "disabled"}
    s = server.get("/api/cache/stats", ADMIN_TOKEN).json
    for field in ["hits", "misses", "hit_rate", "invalidations", "warmups", "evictions", "keys", "memory_bytes",
                  "peak_memory_bytes", "memory_limit_bytes", "by_type", "tiers", "memory_usage", "total_keys",
                  "redis_status"]:
        assert field in s, field
    assert 0 <= s["hit_rate"] <= 1 and s["warmups"] >= 2 and s["scope"] == "server"
    assert {"hits", "misses", "keys", "invalidations"} <= set(s["by_type"]["products"])

    o = server.post("/api/cache/optimize", token=token)
    assert o.status == 200 and o.json["actions"][0]["action"] == "reclaim_expired"
    for rec in o.json["recommendations"]:
        assert rec["because"], "every recommendation names its figure"
    assert "before" in o.json and "after" in o.json
    h = server.get("/api/cache/stats/history?minutes=60", token)
    assert h.status == 200 and isinstance(h.json["points"], list)
    assert server.get("/api/cache/stats/history?minutes=0", token).status == 400

    # The operator: all shops, or one.
    w = server.post("/api/cache/warm", {"types": "all"}, ADMIN_TOKEN)
    assert w.status == 200 and w.json["shops"] >= 1
    w = server.post("/api/cache/warm", {"types": ["products"]}, ADMIN_TOKEN, headers={"X-Shop-Id": str(user["shop_id"])})
    assert w.status == 200 and w.json["shops"] == 1
    assert server.post("/api/cache/clear", {"types": "all", "shop_id": user["shop_id"]}, ADMIN_TOKEN).json["cleared"] >= 1
    metrics = server.get("/metrics")
    assert metrics.status == 200 and "tajir_cache_hits_total{type=\"products\"}" in metrics.text


def test_optimize_advises_ttls_from_ages_at_invalidation(server):
    token, _, ids = shop_with_products(server, n=3)
    for i in range(12):  # each round: read, then edit one product (its detail and the page go)
        for pid in ids:
            server.get(f"/api/products/{pid}", token)
        server.get("/api/products", token)
        server.put(f"/api/products/{ids[i % 3]}", {"price": 200 + i}, token)
    # Ages and TTLs are the whole server's figures and settings: the operator's.
    products = server.get("/api/cache/stats", ADMIN_TOKEN).json["by_type"]["products"]
    assert products["invalidated_age_count"] >= 24 and products["invalidated_age_p50_ms"] >= 0

    o = server.post("/api/cache/optimize", token=ADMIN_TOKEN)
    assert o.status == 200
    ttl = {r["type"]: r for r in o.json["recommendations"] if r["setting"] == "cache-ttl"}
    assert "sessions" not in ttl and "dashboard" not in ttl, "their TTLs are set by meaning"
    rec = ttl["products"]
    assert rec["invalidations"] == products["invalidated_age_count"] and rec["expirations"] == 0
    assert rec["median_age_at_invalidation_ms"] == products["invalidated_age_p50_ms"]
    assert rec["recommended_seconds"] == rec["current_seconds"], "writes end these entries: keep the TTL"
    assert "median age at invalidation" in rec["because"]
    assert f"over {rec['invalidations']} invalidations" in rec["because"], rec["because"]

    # A clear is no write: it records no age.
    assert server.post("/api/cache/clear", {"types": ["products"]}, token).json["cleared"] >= 1
    after = server.get("/api/cache/stats", ADMIN_TOKEN).json
    assert after["by_type"]["products"]["invalidated_age_count"] == products["invalidated_age_count"]
    assert metric(server, "tajir_cache_invalidated_age_seconds_count") == after["invalidated_age_count"]


def test_the_cache_page_and_its_files_are_served_from_the_binary(server):
    r = server.get("/cache")
    assert r.status == 200 and r.headers["Content-Type"].startswith("text/html")
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp, "no inline script or style"
    for src in re.findall(r'(?:src|href)="([^"]+)"', r.text):
        assert src.startswith("/cache/"), f"{src}: everything from this server"
        f = server.get(src)
        assert f.status == 200 and f.body, src
    js = server.get("/cache/cache.js")
    assert js.headers["Content-Type"].startswith("text/javascript")
    assert '"/api/auth/login"' in js.text and "sessionStorage" in js.text and "localStorage" not in js.text
    uplot = server.get("/cache/uPlot.iife.min.js")
    assert uplot.text.startswith("/*! uPlot") and "MIT License" in uplot.text[:2000], "the licence notice is kept"
    assert "MIT License" in server.get("/cache/uPlot.min.css").text[:2000]
    assert server.get("/cache/nothing.js").status == 404
    assert server.get("/cache/..%2Fetc%2Fpasswd").status == 404


def test_login_warms_and_bills_refill_in_the_background(db_url):
    server = Server(db_url)
    try:
        check_background_warming(server)
    finally:
        server.stop()


def test_a_login_warms_what_that_user_reads_most_and_not_what_others_do(tmp_path):
    server = Server(f"sqlite:{tmp_path}/habits.db", ["--refill", "false"])
    try:
        owner, user, ids = shop_with_products(server, n=6)
        assert server.post("/api/employees", {"name": "Cara", "username": "cara", "password": "cashier-pass"},
                           owner).status == 201
        cashier = server.post("/api/auth/login", {"username": "cara", "password": "cashier-pass"}).json["token"]
        owners_page, cashiers_page = "/api/products?page=2&per_page=2", "/api/products?page=3&per_page=2"
        for _ in range(3):
            assert server.get(owners_page, owner).status == 200
            assert server.get(f"/api/products/{ids[0]}", owner).status == 200
            assert server.get(cashiers_page, cashier).status == 200

        def settled_warmups():  # once the login's warmers are done: the count stands still
            last, deadline = -1, time.time() + 10
            while time.time() < deadline:
                now = metric(server, "tajir_cache_warmups_total")
                if now == last:
                    return now
                last = now
                time.sleep(0.3)
            return last

        server.post("/api/cache/clear", {"types": "all"}, owner)
        before = metric(server, "tajir_cache_warmups_total")
        assert server.post("/api/auth/login", {"username": "cara", "password": "cashier-pass"}).status == 200
        assert settled_warmups() > before
        assert server.get(cashiers_page, cashier).headers["X-Cache"] == "HIT", "her own read was warmed"
        assert server.get(owners_page, cashier).headers["X-Cache"] == "MISS", "the owner's was not"

        server.post("/api/cache/clear", {"types": "all"}, owner)
        login = server.post("/api/auth/login", {"username": user["username"], "password": "correct-horse-1"})
        assert login.status == 200
        settled_warmups()
        assert server.get(owners_page, owner).headers["X-Cache"] == "HIT"
        assert server.get(f"/api/products/{ids[0]}", owner).headers["X-Cache"] == "HIT"
        assert server.get(cashiers_page, owner).headers["X-Cache"] == "MISS"
    finally:
        server.stop()

    # Turned off, a login warms only the shop's essentials.
    off = Server(f"sqlite:{tmp_path}/habits.db", ["--refill", "false", "--warm-user-keys", "0"])
    try:
        token = off.post("/api/auth/login", {"username": "cara", "password": "cashier-pass"}).json["token"]
        assert off.get("/api/products?page=3&per_page=2", token).status == 200
        off.post("/api/cache/clear", {"types": "all"}, ADMIN_TOKEN)
        off.post("/api/auth/login", {"username": "cara", "password": "cashier-pass"})
        time.sleep(1)
        assert off.get("/api/products?page=3&per_page=2", token).headers["X-Cache"] == "MISS"
    finally:
        off.stop()


def test_a_busy_hour_is_warmed_ahead_from_what_the_shop_read_in_it_the_day_before(tmp_path):
    hour = 0.2  # an hour of the shops' week lasts 200 ms here: a day turns in 4.8 s
    day = 24 * hour
    server = Server(f"sqlite:{tmp_path}/clock.db", ["--refill", "false", "--rhythm-hour-ms", "200"])
    try:
        token, _, ids = shop_with_products(server, n=3)
        busy, later = f"/api/products/{ids[1]}", f"/api/products/{ids[2]}"

        def read_in_one_hour(target, starting):  # 25 reads inside the hour that starts then
            time.sleep(max(0.0, starting + 0.01 - time.time()))
            for _ in range(25):
                assert server.get(target, token).status == 200
            assert time.time() < starting + hour, "25 reads did not fit in one hour of the week"

        start = (math.floor(time.time() / hour) + 1) * hour
        read_in_one_hour(busy, start)
        read_in_one_hour(later, start + 5 * hour)
        server.post("/api/cache/clear", {"types": "all"}, token)
        before = server.get("/api/cache/stats", ADMIN_TOKEN).json["warmups_by_cause"]["clock"]
        assert before == 0

        # A day on (a shop watched for less than a week is judged by the hours of its day), the
        # busy hour is warmed as it comes (the clock's counter moves), and only with what was
        # read in it: the later hour's read is not warmed yet.
        time.sleep(max(0.0, start + day - 2 * hour - time.time()))
        deadline = start + day + 3 * hour
        while time.time() < deadline and warmed_by(server, "clock") == 0:
            time.sleep(0.01)
        assert warmed_by(server, "clock") == 1
        assert server.get(busy, token).headers["X-Cache"] == "HIT"
        assert server.get(later, token).headers["X-Cache"] == "MISS"
        stats = server.get("/api/cache/stats", ADMIN_TOKEN).json
        assert stats["warmups_by_cause"]["clock"] == 1
        assert set(stats["warmups_by_cause"]) == {"startup", "restart", "login", "user", "clock", "midnight",
                                                  "manual", "optimize"}
        assert sum(stats["warmups_by_cause"].values()) == stats["warmups"]
    finally:
        server.stop()


def check_background_warming(server):
    token, user, ids = shop_with_products(server, n=2)
    customers = [server.post("/api/customers", {"name": name}, token).json["id"] for name in ("Ann", "Bob")]
    username = user["username"]
    server.post("/api/cache/clear", {"types": "all"}, token)
    server.post("/api/auth/login", {"username": username, "password": "correct-horse-1"})
    deadline = time.time() + 10
    while time.time() < deadline and server.get("/api/cache/stats", token).json["by_type"]["dashboard"]["keys"] == 0:
        time.sleep(0.05)
    assert server.get("/api/dashboard", token).headers["X-Cache"] == "HIT", "login warmed the dashboard"
    # The warmed first pages stored their items' entries; of the customers only the second is read.
    assert server.get(f"/api/products/{ids[1]}", token).headers["X-Cache"] == "HIT"
    assert server.get(f"/api/customers/{customers[1]}", token).headers["X-Cache"] == "HIT"
    refills = metric(server, "tajir_cache_refills_total")
    rewrites = metric(server, "tajir_cache_rewrites_total")
    for customer in customers:
        server.post("/api/bills", {"items": [{"product_id": ids[0], "quantity": 1},
                                             {"product_id": ids[1], "quantity": 1}],
                                   "customer_id": customer, "payment_method": "cash"}, token)
    # The bills kept the dashboard and the products up to date. Of what they dropped, customer 1
    # was read since it was stored; customer 0 was only warmed, never read.
    assert metric(server, "tajir_cache_rewrites_total") >= rewrites + 2
    deadline = time.time() + 10
    while time.time() < deadline and metric(server, "tajir_cache_refills_total") < refills + 1:
        time.sleep(0.05)
    d = server.get("/api/dashboard", token)
    assert d.headers["X-Cache"] == "HIT", "the bills' invalidations kept it"
    assert d.json["bills"]["all_time"] == 2, "and it shows the bills"
    for i in ids:
        p = server.get(f"/api/products/{i}", token)
        assert p.headers["X-Cache"] == "HIT" and p.json["stock"] == 48, "kept up to date"
    c1 = server.get(f"/api/customers/{customers[1]}", token)
    assert c1.headers["X-Cache"] == "HIT" and c1.json["bill_count"] == 1, "refilled"
    c0 = server.get(f"/api/customers/{customers[0]}", token)
    assert c0.headers["X-Cache"] == "MISS" and c0.json["bill_count"] == 1, "an entry never hit is not refilled"
    stats = server.get("/api/cache/stats", ADMIN_TOKEN).json["refill"]
    assert stats["enabled"] and stats["refilled"] >= refills + 1 and stats["dropped"] == 0


def test_product_pages_are_built_from_the_products_entries(server):
    token, _, ids = shop_with_products(server, n=4, stock=10)
    page = server.get("/api/products", token)
    assert page.headers["X-Cache"] == "MISS"
    assert server.get(f"/api/products/{ids[2]}", token).headers["X-Cache"] == "HIT", "the page stored its products"
    r = server.post("/api/bills", {"items": [{"product_id": ids[1], "quantity": 3}], "payment_method": "cash"}, token)
    assert r.status == 201
    after_bill = metric(server, "tajir_db_statements_total")
    again = server.get("/api/products", token)
    assert again.headers["X-Cache"] == "HIT" and again.json["items"][1]["stock"] == 7, "the sale kept it up to date"
    assert metric(server, "tajir_db_statements_total") == after_bill
    # A price edit drops the page; it is rebuilt from its index and its products read again in
    # one snapshot (the shop's change number, then the products: two statements).
    assert server.put(f"/api/products/{ids[0]}", {"price": 77}, token).status == 200
    after_edit = metric(server, "tajir_db_statements_total")
    again = server.get("/api/products", token)
    assert again.headers["X-Cache"] == "MISS" and again.json["items"][0]["price"] == 77
    assert metric(server, "tajir_db_statements_total") - after_edit == 2
    # Byte for byte what the database would give.
    server.post("/api/cache/clear", {"types": "all"}, token)
    fresh = server.get("/api/products", token)
    assert fresh.headers["X-Cache"] == "MISS" and fresh.body == again.body
    assert server.get("/api/products", token).headers["X-Cache"] == "HIT"


def test_a_new_bill_is_cached_as_it_is_created(server):
    token, _, ids = shop_with_products(server, n=1)
    bill = server.post("/api/bills", {"items": [{"product_id": ids[0], "quantity": 1}], "payment_method": "card"}, token)
    got = server.get(f"/api/bills/{bill.json['id']}", token)
    assert got.headers["X-Cache"] == "HIT" and got.json == bill.json
    server.post("/api/cache/clear", {"types": ["bills"]}, token)
    loaded = server.get(f"/api/bills/{bill.json['id']}", token)
    assert loaded.headers["X-Cache"] == "MISS" and loaded.body == got.body
    voided = server.post(f"/api/bills/{bill.json['id']}/void", None, token)
    assert voided.status == 200
    assert server.get(f"/api/bills/{bill.json['id']}", token).json["status"] == "void"


def test_cache_ttl_setting(tmp_path):
    server = Server(f"sqlite:{tmp_path}/ttl.db", ["--cache-ttl", "1", "--warm", "false", "--refill", "false"])
    try:
        token, _, _ = shop_with_products(server, n=1)
        assert server.get("/api/products", token).headers["X-Cache"] == "MISS"
        assert server.get("/api/products", token).headers["X-Cache"] == "HIT"
        time.sleep(1.3)
        assert server.get("/api/products", token).headers["X-Cache"] == "MISS", "the TTL ran out"
    finally:
        server.stop()
    with pytest.raises(RuntimeError):
        Server(f"sqlite:{tmp_path}/ttl.db", ["--cache-ttl", "-5"])


def test_customer_search_stores_the_customers_it_found(server):
    token, _, ids = shop_with_products(server, n=1)
    ann = server.post("/api/customers", {"name": "Ann Lee", "phone": "555-0101"}, token).json
    server.post("/api/customers", {"name": "Bob Ray"}, token)
    found = server.get("/api/customers?q=ann", token)
    assert found.headers["X-Cache"] == "MISS" and [c["id"] for c in found.json["items"]] == [ann["id"]]
    assert server.get(f"/api/customers/{ann['id']}", token).headers["X-Cache"] == "HIT"
    server.post("/api/bills", {"items": [{"product_id": ids[0], "quantity": 1}], "customer_id": ann["id"],
                               "payment_method": "cash"}, token)
    again = server.get("/api/customers?q=ann", token)
    assert again.headers["X-Cache"] == "MISS" and again.json["items"][0]["bill_count"] == 1
    server.post("/api/cache/clear", {"types": "all"}, token)
    assert server.get("/api/customers?q=ann", token).body == again.body


def shop_with_bills(server):
    """A shop with two paid bills (Layla's and Yusuf's) and one void one."""
    token, _, ids = shop_with_products(server, n=1)
    bills = []
    for name in ["Layla", "Yusuf", "Yusuf"]:
        c = server.post("/api/customers", {"name": name}, token).json
        bills.append(server.post("/api/bills", {"items": [{"product_id": ids[0], "quantity": 1}], "customer_id": c["id"],
                                                "payment_method": "cash"}, token).json)
    assert server.post(f"/api/bills/{bills[2]['id']}/void", None, token).status == 200
    return token


def test_a_parameter_given_twice_answers_400_in_either_order(server):
    # Handlers read one value; the key held both, sorted: the second order hit the first's entry.
    token = shop_with_bills(server)
    assert server.get("/api/employees", token).status == 200
    for path in ["/api/bills?status=void&status=paid", "/api/bills?status=paid&status=void",
                 "/api/bills?page=3&page=1", "/api/bills?page=1&page=3",
                 "/api/bills?per_page=5&per_page=500", "/api/bills?per_page=500&per_page=5",
                 "/api/customers?q=Yusuf&q=Layla", "/api/customers?q=Layla&q=Yusuf",
                 "/api/products?low_stock=true&low_stock=false", "/api/products?active=1&active=1",
                 "/api/products?category=a&category=b", "/api/employees?page=1&page=1",
                 "/api/bills?customer_id=1&customer_id=2", "/api/bills?from=2026-01-01&from=2020-01-01",
                 "/api/cache/stats/history?minutes=5&minutes=60"]:
        for _ in range(2):  # not cached either
            r = server.get(path, token)
            assert r.status == 400, (path, r.status, r.text)
            name = path.split("?")[1].split("=")[0]
            assert r.error() == {"code": "invalid_argument", "field": name, "message": r.error()["message"]}, path
            assert name in r.error()["message"]


def test_the_key_holds_the_values_read_in_any_order_and_nothing_else(server):
    token = shop_with_bills(server)
    first = server.get("/api/bills?status=paid&per_page=5", token)
    assert first.headers["X-Cache"] == "MISS" and first.json["total"] == 2
    for path in ["/api/bills?per_page=5&status=paid",          # another order
                 "/api/bills?status=paid&per_page=05",         # the same integer
                 "/api/bills?status=paid&per_page=5&utm=x",    # a parameter no handler reads
                 "/api/bills?utm=1&utm=2&per_page=5&status=paid"]:
        r = server.get(path, token)
        assert r.status == 200 and r.headers["X-Cache"] == "HIT" and r.body == first.body, path
    void = server.get("/api/bills?status=void&per_page=5", token)
    assert void.headers["X-Cache"] == "MISS" and void.json["total"] == 1
    found = server.get("/api/customers?q=Yusuf&utm=1", token)
    assert found.headers["X-Cache"] == "MISS" and found.json["total"] == 2
    assert server.get("/api/customers?q=Yusuf", token).headers["X-Cache"] == "HIT"
    assert server.get("/api/products?active=1", token).headers["X-Cache"] == "MISS"
    assert server.get("/api/products?active=true", token).headers["X-Cache"] == "HIT"


def test_an_owner_sees_its_own_shops_figures_and_the_operator_every_shops(server):
    a, a_user, a_ids = shop_with_products(server, n=3)
    b, b_user, _ = shop_with_products(server, n=1)
    answered = []
    for _ in range(4):
        for path in ["/api/products", f"/api/products/{a_ids[0]}", "/api/dashboard"]:
            answered.append(server.get(path, a).headers["X-Cache"])
    hits, misses = answered.count("HIT"), answered.count("MISS")
    assert hits >= 8 and misses >= 2

    mine = server.get("/api/cache/stats", a).json
    assert mine["scope"] == "shop" and mine["shop_id"] == a_user["shop_id"]
    assert (mine["hits"], mine["misses"]) == (hits, misses), "its GETs, as X-Cache answered them"
    assert mine["by_type"]["products"]["hits"] + mine["by_type"]["dashboard"]["hits"] == hits
    assert mine["by_type"]["products"]["keys"] >= 2 and mine["memory_bytes"] > 0
    assert mine["memory_limit_bytes"] > 0, "a setting: it tells nothing of other shops"
    assert mine["tiers"]["local"]["state"] == "up" and mine["tiers"]["local"]["hits"] == hits
    assert mine["tiers"]["redis"]["state"] == "disabled"

    theirs = server.get("/api/cache/stats", b).json
    assert theirs["shop_id"] == b_user["shop_id"]
    assert theirs["hits"] == 0 and theirs["misses"] == 0 and theirs["hit_rate"] == 0
    assert theirs["by_type"]["products"]["keys"] == 0 and theirs["by_type"]["products"]["memory_bytes"] == 0
    assert theirs["by_type"]["dashboard"]["keys"] == 0
    assert theirs["keys"] < mine["keys"], "B's own session entry at most"
    for server_wide in ["invalidations", "evictions", "expirations", "peak_memory_bytes", "ghost_hits", "tags",
                        "loads", "puts"]:
        assert server_wide not in theirs, server_wide
    assert "refilled" not in theirs["refill"], "the refill's counts are the whole server's"

    history = server.get("/api/cache/stats/history?minutes=60", a).json
    assert history["scope"] == "shop" and history["points"][-1]["partial"] is True
    assert sum(p["hits"] for p in history["points"]) == hits
    assert history["points"][-1]["keys"] == mine["keys"]
    other = server.get("/api/cache/stats/history?minutes=60", b).json["points"]
    assert len(other) >= 1 and sum(p["hits"] + p["misses"] for p in other) == 0
    assert all(p["keys"] <= theirs["keys"] for p in other)

    # The operator: the whole server, or the shop it names.
    everything = server.get("/api/cache/stats", ADMIN_TOKEN).json
    assert everything["scope"] == "server" and everything["hits"] >= hits
    assert everything["keys"] >= mine["keys"] + theirs["keys"] and "invalidations" in everything
    assert "refilled" in everything["refill"]
    named = server.get(f"/api/cache/stats?shop_id={a_user['shop_id']}", ADMIN_TOKEN).json
    assert named["scope"] == "shop" and named["hits"] == hits and named["keys"] == mine["keys"]
    named = server.get("/api/cache/stats", ADMIN_TOKEN, headers={"X-Shop-Id": str(b_user["shop_id"])}).json
    assert named["shop_id"] == b_user["shop_id"] and named["hits"] == 0
    h = server.get(f"/api/cache/stats/history?shop_id={a_user['shop_id']}", ADMIN_TOKEN).json
    assert sum(p["hits"] for p in h["points"]) == hits
    assert server.get("/api/cache/stats/history", ADMIN_TOKEN).json["scope"] == "server"

    # Optimize for an owner rests on its own figures too.
    o = server.post("/api/cache/optimize", token=b).json
    assert o["before"]["scope"] == "shop" and o["before"]["hits"] == 0
    assert all(r["because"] for r in o["recommendations"]) and o["recommendations"]
    assert not [r for r in o["recommendations"] if r.get("setting") in ("cache-memory", "cache-ttl")], \
        "server settings rest on every shop's figures: the operator's"
