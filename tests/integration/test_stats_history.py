"""The cache's statistics history kept in the database: it survives a restart and stays
bounded (hourly and daily rows per shop)."""
import signal
import time

import sql
from conftest import ADMIN_TOKEN, Server

HOUR, DAY = 3_600_000, 86_400_000
ARGS = ["--warm", "false", "--refill", "false", "--hot-keys", "off",
        "--stats-history-hours", "3", "--stats-history-days", "5"]


def rows(db_url, shop, span):
    return int(sql.run(db_url, f"SELECT COUNT(*) FROM cache_history WHERE shop_id = {shop} AND span_ms = {span}")[0][0])


def test_history_survives_a_restart_and_stays_bounded(db_url):
    server = Server(db_url, ARGS)
    try:
        token, user = server.register()
        shop = user["shop_id"]
        assert [server.get("/api/products", token).headers["X-Cache"] for _ in range(3)] == ["MISS", "HIT", "HIT"]
        # Rows of earlier runs, inside and outside the bounds (3 hours, 5 days).
        now = int(time.time() * 1000)
        hour, day = now - now % HOUR, now - now % DAY
        for ago in [1] + list(range(5, 15)):
            sql.run(db_url, "INSERT INTO cache_history VALUES "
                            f"({shop}, {HOUR}, {hour - ago * HOUR}, 7, 0, 1, 100)")
        for ago in [1] + list(range(6, 16)):
            sql.run(db_url, "INSERT INTO cache_history VALUES "
                            f"({shop}, {DAY}, {day - ago * DAY}, 5, 0, 1, 100)")
    finally:
        server.stop(signal.SIGTERM)  # a clean stop writes the interval in progress
    assert rows(db_url, shop, HOUR) <= 3 and rows(db_url, shop, DAY) <= 5
    assert rows(db_url, 0, HOUR) >= 1, "and the whole server's"

    server = Server(db_url, ARGS)
    try:
        h = server.get("/api/cache/stats/history?days=5", token)
        assert h.status == 200 and h.json["scope"] == "shop" and h.json["interval_seconds"] == 86400
        points = h.json["points"]
        assert len(points) == 2, points  # yesterday's row from before, and today's
        assert (points[0]["hits"], points[-1]["hits"], points[-1]["misses"]) == (5, 2, 1)
        assert points[-1]["partial"] is True and "partial" not in points[0]
        assert points[-1]["hit_rate"] == 2 / 3 and points[-1]["keys"] >= 1

        h = server.get("/api/cache/stats/history?hours=3", token).json
        assert h["interval_seconds"] == 3600 and h["points"][-1]["hits"] >= 2
        assert 7 in [p["hits"] for p in h["points"]], "the row of an hour ago is kept"
        assert server.get("/api/cache/stats/history?days=1", ADMIN_TOKEN).json["points"][-1]["hits"] >= 2

        assert server.get("/api/cache/stats/history?days=6", token).status == 400  # past the bound
        r = server.get("/api/cache/stats/history?days=1&minutes=5", token)
        assert r.status == 400 and r.error()["field"] in ("days", "hours")
        assert server.get("/api/cache/stats/history?minutes=60", token).status == 200
    finally:
        server.stop()


def test_the_stored_history_can_be_turned_off(tmp_path):
    db = f"sqlite:{tmp_path}/tajir.db"
    server = Server(db, ARGS + ["--stats-history", "false"])
    try:
        token, _ = server.register()
        server.get("/api/products", token)
        h = server.get("/api/cache/stats/history?days=5", token)
        assert h.status == 200 and h.json["points"] == []
    finally:
        server.stop()
    assert sql.run(db, "SELECT COUNT(*) FROM cache_history")[0][0] == 0


def test_the_forecast_is_the_same_hour_of_the_weeks_before_and_says_how_far_it_was_off(tmp_path):
    db = f"sqlite:{tmp_path}/tajir.db"
    server = Server(db, ["--warm", "false", "--refill", "false", "--hot-keys", "off"])
    try:
        token, user = server.register()
        shop = user["shop_id"]
        # Two weeks of a steady rhythm: 100 requests (80 hits) in even hours of the day, 10 (none
        # hit) in odd ones.
        now = int(time.time() * 1000)
        hour = now - now % HOUR
        values = []
        for ago in range(1, 14 * 24 + 1):
            at = hour - ago * HOUR
            busy = (at // HOUR) % 2 == 0
            values.append(f"({shop}, {HOUR}, {at}, {80 if busy else 0}, {20 if busy else 10}, 1, 100)")
        sql.run(db, "INSERT INTO cache_history VALUES " + ", ".join(values))

        f = server.get("/api/cache/stats/forecast?hours=4", token)
        assert f.status == 200 and f.json["scope"] == "shop" and f.json["interval_seconds"] == 3600
        points = f.json["points"]
        assert len(points) == 4
        for i, p in enumerate(points):
            busy = (hour // HOUR + 1 + i) % 2 == 0
            assert (p["basis"], p["seasons"]) == ("week", 2), p
            assert p["requests"] == (100 if busy else 10) and p["hit_rate"] == (0.8 if busy else 0.0), p
        assert f.json["error"] == {"hours": 24, "requests_mape": 0.0, "hit_rate_mae": 0.0}

        # The whole server has no history of its own yet: nothing to go by, and it says so.
        s = server.get("/api/cache/stats/forecast", ADMIN_TOKEN).json
        assert s["scope"] == "server" and len(s["points"]) == 12
        assert all(p["basis"] == "none" and p["requests"] is None for p in s["points"])
        assert server.get("/api/cache/stats/forecast?hours=49", token).status == 400
        assert server.get("/api/cache/stats/forecast?hours=x", token).status == 400
    finally:
        server.stop()
