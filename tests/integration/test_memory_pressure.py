"""Memory pressure: a cache budget far smaller than what the clients read.

A shop of 5,000 products is read through a server whose cache may hold 192 KiB, while the
products and their pages (20 a page) come to over ten times that (counted in response bytes,
less than what the cache would be charged for them). A skewed stream of reads, with a price edit
now and then, is compared byte for byte with a second server on the same database that does not
cache. Every answer must be the truth; the cache's memory, sampled as it goes, must stay within
the budget; and the hit rate is printed.
"""
import http.client
import json
import random
import subprocess
import time

from conftest import ADMIN_TOKEN, Server, tajir_binary

PRODUCTS = 5000
PER_PAGE = 20
BUDGET = 192 * 1024
READS = 12_000
EDIT_EVERY = 500
# A put may pass the budget by the entry it is putting until it has evicted for it: one in
# flight per thread that fills (a request's, the background refill's), a page being the largest.
PUT_SLACK = 32 * 1024


class Client:
    """One keep-alive connection with a bearer token."""

    def __init__(self, server, token):
        host, port = server.base[len("http://"):].split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=30)
        self.token = token

    def request(self, method, path, body=None):
        headers = {"Authorization": f"Bearer {self.token}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(body)
        self.conn.request(method, path, body=body, headers=headers)
        r = self.conn.getresponse()
        return r.status, r.getheader("X-Cache"), r.read()


def login(server):
    r = server.post("/api/auth/login", {"username": "owner1", "password": "tajir-demo-2026"})
    assert r.status == 200, r.text
    return r.json["token"]


def test_a_working_set_ten_times_the_cache_is_served_right_within_the_budget(tmp_path, capsys):
    db = f"sqlite:{tmp_path}/tajir.db"
    subprocess.run([tajir_binary(), "seed", "--db", db, "--shops", "1", "--products", str(PRODUCTS),
                    "--customers", "10", "--bills", "0"], check=True, capture_output=True)
    cached = Server(db, ["--cache-memory", str(BUDGET)])
    plain = Server(db, ["--cache", "false"])
    try:
        tills = Client(cached, login(cached))
        truth_server = Client(plain, login(plain))
        operator = Client(cached, ADMIN_TOKEN)

        # The truth, and which page each product is on (an edit changes the product and its page).
        truth, page_of = {}, {}
        pages = (PRODUCTS + PER_PAGE - 1) // PER_PAGE
        for page in range(1, pages + 1):
            path = f"/api/products?page={page}&per_page={PER_PAGE}"
            status, _, body = truth_server.request("GET", path)
            assert status == 200
            truth[path] = body
            for p in json.loads(body)["items"]:
                page_of[p["id"]] = path

        def true_body(path):
            if path not in truth:
                status, _, truth[path] = truth_server.request("GET", path)
                assert status == 200
            return truth[path]

        for product in page_of:
            true_body(f"/api/products/{product}")
        assert len(page_of) == PRODUCTS
        working_set = sum(len(b) for b in truth.values())
        assert working_set >= 10 * BUDGET, f"the working set is {working_set} bytes"

        # Popular products and pages first, a long tail after (Zipf-like), shuffled by rank.
        rng = random.Random(7)
        targets = list(truth)
        rng.shuffle(targets)
        stream = rng.choices(targets, weights=[1 / (rank + 1) ** 0.9 for rank in range(len(targets))],
                             k=READS)
        hits = reads = 0
        samples = []
        deadline = time.time() + 120
        for n, path in enumerate(stream, 1):
            if time.time() > deadline:
                break
            status, x_cache, body = tills.request("GET", path)
            assert status == 200, body
            assert body == true_body(path), f"{path} ({x_cache}) differs from the uncached answer"
            reads += 1
            hits += x_cache == "HIT"
            if n % EDIT_EVERY == 0:
                product = rng.choice(list(page_of))
                status, _, body = tills.request("PUT", f"/api/products/{product}",
                                                {"price": rng.randint(1, 100_000)})
                assert status == 200, body
                truth.pop(f"/api/products/{product}")
                truth.pop(page_of[product])
                status, _, body = operator.request("GET", "/api/cache/stats")
                assert status == 200, body
                samples.append(json.loads(body))
        assert reads >= READS // 4, f"only {reads} reads in the time allowed"

        for s in samples:
            assert s["memory_limit_bytes"] == BUDGET
            assert s["memory_bytes"] <= BUDGET, s
        last = samples[-1]
        assert last["peak_memory_bytes"] <= BUDGET + PUT_SLACK, last
        assert last["evictions"] > 0 and hits > 0
        with capsys.disabled():
            print(f"\nmemory pressure: {reads} reads of a {working_set / 1024:.0f} KiB working set "
                  f"through a {BUDGET // 1024} KiB cache: {100 * hits / reads:.1f}% answered as hits "
                  f"(X-Cache), engine hit rate {100 * last['hit_rate']:.1f}% (with the pages' item "
                  f"entries and sessions), {last['evictions']} evictions, memory at most "
                  f"{max(s['memory_bytes'] for s in samples)} of {BUDGET} bytes when sampled "
                  f"(peak {last['peak_memory_bytes']})")
    finally:
        cached.stop()
        plain.stop()


def test_auto_tune_raises_a_crowded_cache_within_its_bound_and_judges_the_change(tmp_path):
    db = f"sqlite:{tmp_path}/tajir.db"
    subprocess.run([tajir_binary(), "seed", "--db", db, "--shops", "1", "--products", "600",
                    "--customers", "10", "--bills", "0"], check=True, capture_output=True)
    budget, bound = 128 * 1024, 200 * 1024
    server = Server(db, ["--cache-memory", str(budget), "--auto-tune", "true", "--auto-tune-period-s", "1",
                         "--auto-tune-memory-max", str(bound), "--warm", "false", "--refill", "false"])
    try:
        till = Client(server, login(server))
        ids = [p["id"] for page in (1, 2, 3) for p in json.loads(
            till.request("GET", f"/api/products?per_page=200&page={page}")[2])["items"]]
        deadline, tune = time.time() + 30, {}
        i = 0
        while time.time() < deadline:
            # A hot set read often, and a scan over more products than the budget holds.
            for _ in range(200):
                target = ids[i % 30] if i % 2 else ids[30 + (i // 2) % 500]
                assert till.request("GET", f"/api/products/{target}")[0] == 200
                i += 1
            stats = server.get("/api/cache/stats", ADMIN_TOKEN).json
            tune = stats["auto_tune"]
            assert (budget // 2) <= stats["memory_limit_bytes"] <= bound, "never outside its bounds"
            if tune["changes"] and tune["changes"][0]["outcome"] != "on trial":
                break
        assert tune["enabled"] and tune["memory_bytes"] == {"min": budget // 2, "max": bound}
        first = tune["changes"][0]
        assert first["setting"] == "cache-memory" and first["from"] == budget and budget < first["to"] <= bound
        assert "recently evicted" in first["because"]
        assert first["outcome"].startswith(("kept: hit rate", "backed out: hit rate")), first
        if len(tune["changes"]) == 1:  # the limit in the same answer is the judged one
            assert stats["memory_limit_bytes"] == (first["to"] if first["outcome"].startswith("kept") else budget)
    finally:
        server.stop()
