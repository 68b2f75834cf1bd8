"""A warm restart: a clean stop writes the keys of the reads that were hot, and the next start
warms them, so the first reads of what was hot are hits."""
import os
import signal

import pytest

from conftest import ADMIN_TOKEN, Server

PLAIN = ["--warm", "false", "--refill", "false"]  # only the hot keys warm the cache


def hot_keys_args(backend, tmp_path):
    # SQLite: the default file beside the database; PostgreSQL needs the setting.
    return [] if backend == "sqlite" else ["--hot-keys", str(tmp_path / "pg.hotkeys")]


def hot_keys_file(backend, tmp_path):
    return tmp_path / ("tajir.db.hotkeys" if backend == "sqlite" else "pg.hotkeys")


def shop_and_reads(server):
    token, _ = server.register()
    for i in range(3):
        server.post("/api/products", {"name": f"Item {i}", "sku": f"S{i}", "price": 100 + i}, token)
    hot = ["/api/products", "/api/customers", "/api/dashboard", "/api/employees"]
    for path in hot:  # a miss that fills, then a hit: read while cached
        assert server.get(path, token).headers["X-Cache"] == "MISS", path
        assert server.get(path, token).headers["X-Cache"] == "HIT", path
    cold = "/api/products?q=Item+1"
    assert server.get(cold, token).headers["X-Cache"] == "MISS"  # filled, never read again
    return token, hot, cold


def test_a_warm_restart_brings_back_the_hot_set(backend, db_url, tmp_path):
    args = PLAIN + hot_keys_args(backend, tmp_path)
    server = Server(db_url, args)
    try:
        token, hot, cold = shop_and_reads(server)
    finally:
        server.stop(signal.SIGTERM)
    lines = hot_keys_file(backend, tmp_path).read_text().splitlines()
    assert lines[0] == "# tajir hot keys 1"
    assert len(lines) == 1 + len(hot), lines  # the hot reads, not the one read once, nor sessions

    server = Server(db_url, args)
    try:
        assert len(server.warmed) == 1 and f"warmed {len(hot)} of {len(hot)} hot keys" in server.warmed[0]
        assert server.get("/api/cache/stats", ADMIN_TOKEN).json["warmups"] == len(hot)
        for path in hot:
            assert server.get(path, token).headers["X-Cache"] == "HIT", path
        assert server.get(cold, token).headers["X-Cache"] == "MISS"
    finally:
        server.stop(signal.SIGINT)
    # Read again since they were warmed; the cold read was filled, never hit.
    assert len(hot_keys_file(backend, tmp_path).read_text().splitlines()) == 1 + len(hot)


def test_hot_keys_are_bounded_and_can_be_warmed_in_the_background(tmp_path):
    db = f"sqlite:{tmp_path}/tajir.db"
    server = Server(db, PLAIN + ["--hot-keys-max", "2"])
    try:
        token, hot, _ = shop_and_reads(server)
    finally:
        server.stop()
    assert len((tmp_path / "tajir.db.hotkeys").read_text().splitlines()) == 1 + 2

    server = Server(db, PLAIN + ["--hot-keys-background", "true"])
    try:
        assert server.warmed == []  # said listening first
        line = server.proc.stdout.readline()
        assert line.startswith("warmed 2 of 2 hot keys"), line
        assert server.get("/api/cache/stats", ADMIN_TOKEN).json["warmups"] == 2
    finally:
        server.stop()


def test_without_a_file_setting_postgresql_keeps_no_hot_keys(postgres, tmp_path):
    server = Server(postgres.new_database(), PLAIN)
    try:
        shop_and_reads(server)
    finally:
        server.stop()
    assert not [f for f in os.listdir(tmp_path) if "hotkeys" in f]


def test_an_unreadable_hot_key_file_stops_the_start(tmp_path):
    (tmp_path / "tajir.db.hotkeys").write_text("not a hot key file\n")
    with pytest.raises(RuntimeError, match="hot keys"):
        Server(f"sqlite:{tmp_path}/tajir.db", PLAIN)
