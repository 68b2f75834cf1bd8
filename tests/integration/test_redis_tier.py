"""The Redis tier behind the local one (--redis), against a real redis-server the tests start.

These tests run one node at a time (test_nodes.py runs several at once): node B starts after
node A stopped, with an empty local tier, on the same database and Redis. X-Cache-Tier says where a GET's bytes came from
(local, redis or database).
"""
import contextlib
import threading
import time

import pytest

from conftest import ADMIN_TOKEN, Redis, Server

BASE_ARGS = ["--warm", "false", "--refill", "false", "--hot-keys", "off"]


@pytest.fixture
def redis():
    r = Redis()
    yield r
    r.stop()


@pytest.fixture
def durable_redis():
    r = Redis(append_only=True)
    yield r
    r.stop()


@contextlib.contextmanager
def node(db_url, redis, *extra):
    """A tajir node on this database and Redis, stopped when the block ends."""
    s = Server(db_url, BASE_ARGS + ["--redis", redis.url, "--redis-timeout-ms", "200"] + list(extra))
    try:
        yield s
    finally:
        s.stop()


def redis_stats(server):
    return server.get("/api/cache/stats", ADMIN_TOKEN).json["tiers"]["redis"]


def wait_for(predicate, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def product(server, token, name="Tea", price=100):
    r = server.post("/api/products", {"name": name, "sku": name.upper(), "price": price, "stock": 10}, token)
    assert r.status == 201, r.text
    return r.json["id"]


def test_a_value_filled_by_one_node_is_a_redis_hit_for_the_next(db_url, redis):
    with node(db_url, redis) as a:
        assert "serving its local tier" in a.proc.stdout.readline()
        token, _ = a.register()
        pid = product(a, token)
        first = a.get(f"/api/products/{pid}", token)
        assert first.headers["X-Cache"] == "MISS" and first.headers["X-Cache-Tier"] == "database"
        assert a.get(f"/api/products/{pid}", token).headers["X-Cache-Tier"] == "local"
        listed = a.get("/api/products", token)
        assert listed.headers["X-Cache-Tier"] == "database"
        s = redis_stats(a)
        assert s["enabled"] and s["connected"] and s["state"] == "up" and s["stores"] >= 2
    with node(db_url, redis) as b:
        again = b.get(f"/api/products/{pid}", token)
        assert again.headers["X-Cache"] == "MISS" and again.headers["X-Cache-Tier"] == "redis"
        assert again.body == first.body and again.headers["ETag"] == first.headers["ETag"]
        assert b.get(f"/api/products/{pid}", token).headers["X-Cache-Tier"] == "local"
        page = b.get("/api/products", token)
        assert page.headers["X-Cache-Tier"] == "redis" and page.body == listed.body
        s = redis_stats(b)
        assert s["hits"] == 2 and s["errors"] == 0 and s["latency_us"] > 0
        assert s["used_memory"] is None or s["used_memory"] > 0
        assert wait_for(lambda: (redis_stats(b)["used_memory"] or 0) > 0)
        assert redis_stats(b)["used_memory_peak"] >= redis_stats(b)["used_memory"]
        full = b.get("/api/cache/stats", ADMIN_TOKEN).json
        assert full["redis_status"] == "connected"
        mine = b.get("/api/cache/stats", token).json["tiers"]["redis"]
        assert mine == {"enabled": True, "connected": True, "state": "up"}  # no server-wide counts
        assert b.get("/healthz").json == {"status": "ok", "db": "ok", "redis": "ok", "lease": "held"}
        metrics = b.get("/metrics").text
        assert "tajir_redis_hits_total 2" in metrics and "tajir_redis_up 1" in metrics


def test_behind_a_password_the_tier_authenticates_and_a_wrong_one_leaves_it_down(tmp_path, monkeypatch):
    r = Redis(extra=["--requirepass", "tier-s3cret"])
    db = f"sqlite:{tmp_path}/tajir.db"
    try:
        # In the environment, where the process list does not show it.
        monkeypatch.setenv("TAJIR_REDIS", f"redis://:tier-s3cret@127.0.0.1:{r.port}")
        with node_without_url(db) as a:
            assert "tier-s3cret" not in open(f"/proc/{a.proc.pid}/cmdline").read()
            token, _ = a.register()
            pid = product(a, token)
            assert a.get(f"/api/products/{pid}", token).headers["X-Cache-Tier"] == "database"
            s = redis_stats(a)
            assert s["connected"] and s["state"] == "up" and s["stores"] >= 1 and s["errors"] == 0
        assert int(r.cli("-a", "tier-s3cret", "--no-auth-warning", "DBSIZE")) > 0, "it wrote to Redis"
        monkeypatch.setenv("TAJIR_REDIS", f"redis://:wrong-pw@127.0.0.1:{r.port}")
        with node_without_url(db) as b:
            got = b.get(f"/api/products/{pid}", token)
            assert got.status == 200 and got.headers.get("X-Cache-Tier") != "redis", "read from the database"
            s = redis_stats(b)
            assert not s["connected"] and s["state"] == "down"
            assert b.get("/healthz").json["redis"] == "down"
        log = "".join(b.early_log) + b.proc.stdout.read() + b.proc.stderr.read()
        assert "AUTH" in log and "WRONGPASS" in log and "wrong-pw" not in log, log[-2000:]
    finally:
        r.stop()


@contextlib.contextmanager
def node_without_url(db_url):
    """A node whose Redis is given in TAJIR_REDIS."""
    s = Server(db_url, BASE_ARGS + ["--redis-timeout-ms", "200"])
    try:
        yield s
    finally:
        s.stop()


def test_a_write_invalidates_the_value_in_redis(tmp_path, redis):
    db = f"sqlite:{tmp_path}/tajir.db"
    with node(db, redis) as a:
        token, _ = a.register()
        pid = product(a, token)
        a.get(f"/api/products/{pid}", token)
        a.get("/api/products", token)
        assert a.put(f"/api/products/{pid}", {"price": 999}, token).status == 200
    with node(db, redis) as b:
        for path in [f"/api/products/{pid}", "/api/products"]:
            r = b.get(path, token)
            assert r.headers["X-Cache-Tier"] == "database", path
            assert "999" in r.text, path
        assert redis_stats(b)["misses"] == 2
    with node(db, redis) as c:  # what B filled after the write is what Redis now serves
        r = c.get(f"/api/products/{pid}", token)
        assert r.headers["X-Cache-Tier"] == "redis" and r.json["price"] == 999


def test_redis_killed_mid_run_reads_go_on_and_it_is_used_again(tmp_path, durable_redis):
    db = f"sqlite:{tmp_path}/tajir.db"
    redis = durable_redis
    with node(db, redis) as a:
        token, _ = a.register()
        pid, other = product(a, token, "Tea"), product(a, token, "Rice")
        a.get(f"/api/products/{pid}", token)  # in Redis, and kept on disk
        redis.kill()
        # The write's invalidation cannot reach Redis: answered all the same.
        assert a.put(f"/api/products/{pid}", {"price": 555}, token).status == 200
        r = a.get(f"/api/products/{pid}", token)
        assert r.status == 200 and r.json["price"] == 555 and r.headers["X-Cache-Tier"] == "database"
        r = a.get(f"/api/products/{other}", token)
        assert r.status == 200 and r.headers["X-Cache-Tier"] == "database"
        s = redis_stats(a)
        assert s["state"] != "up" and s["errors"] >= 1 and s["missed_invalidations"] == 1
        health = a.get("/healthz")
        assert health.status == 200
        assert {k: health.json[k] for k in ("status", "db", "redis")} == {
            "status": "degraded", "db": "ok", "redis": "down"}
        assert wait_for(lambda: a.get("/healthz").json["lease"] == "lost"), "served past its lease"
        assert a.get("/api/cache/stats", ADMIN_TOKEN).json["redis_status"] == "disconnected"
        # Back, with the old value of pid still in it: used again only once the shop's
        # generation is raised, which makes that value unreadable.
        redis.start()
        assert wait_for(lambda: redis_stats(a)["state"] == "up"), redis_stats(a)
        assert redis_stats(a)["generations_raised"] == 1
        # And its lease back, which raises every shop's generation once more (forget_all): a
        # value stored before that would be unreadable.
        assert wait_for(lambda: a.get("/healthz").json["lease"] == "held")
        third = product(a, token, "Salt")
        assert a.get(f"/api/products/{third}", token).headers["X-Cache-Tier"] == "database"
        assert a.get("/healthz").json["redis"] == "ok"
    with node(db, redis) as b:
        # A node reads Redis once its lease holds; until then it reads the database alone.
        assert wait_for(lambda: b.get("/healthz").json["lease"] == "held")
        r = b.get(f"/api/products/{pid}", token)
        assert r.json["price"] == 555, "Redis served the value the lost invalidation dropped"
        assert b.get(f"/api/products/{third}", token).headers["X-Cache-Tier"] == "redis"


def test_a_fill_racing_a_write_leaves_nothing_stale_in_redis(tmp_path, redis):
    db = f"sqlite:{tmp_path}/tajir.db"
    # Each fill waits 1.5 s between its database load and its store in Redis.
    with node(db, redis, "--redis-store-delay-ms", "1500") as a:
        token, _ = a.register()
        pid = product(a, token, price=100)
        got = {}
        reader = threading.Thread(target=lambda: got.update(r=a.get(f"/api/products/{pid}", token)))
        reader.start()
        time.sleep(0.5)  # the reader has loaded price 100 and waits to store it
        assert a.put(f"/api/products/{pid}", {"price": 200}, token).status == 200
        reader.join()
        assert got["r"].json["price"] in (100, 200)  # it began before the write was answered
        assert a.get(f"/api/products/{pid}", token).json["price"] == 200
        s = redis_stats(a)
        assert s["stale_stores"] == 1
    with node(db, redis) as b:
        r = b.get(f"/api/products/{pid}", token)
        assert r.json["price"] == 200, f"a stale value in Redis ({r.headers.get('X-Cache-Tier')})"


def test_a_write_answers_only_after_redis_dropped_what_it_changed(tmp_path, redis):
    # The write waits between its commit and its invalidation; a read in that window may see the
    # old price, but a node started after the answer never does.
    db = f"sqlite:{tmp_path}/tajir.db"
    with node(db, redis, "--invalidation-delay-ms", "800") as a:
        token, _ = a.register()
        pid = product(a, token, price=100)
        a.get(f"/api/products/{pid}", token)
        done = {}
        writer = threading.Thread(
            target=lambda: done.update(r=a.put(f"/api/products/{pid}", {"price": 300}, token)))
        writer.start()
        time.sleep(0.2)
        assert a.post("/api/cache/clear", {"types": ["products"]}, token).status == 200
        during = a.get(f"/api/products/{pid}", token)  # from the database: committed already
        writer.join()
        assert done["r"].status == 200 and during.json["price"] == 300
    with node(db, redis) as b:
        assert b.get(f"/api/products/{pid}", token).json["price"] == 300
