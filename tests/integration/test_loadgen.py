"""tajir-loadgen end to end: a short POS day against the real server on both backends, with and
without the cache, closed and open loop, on one node or the same server named twice; every read
it checks must be fresh, and the cache must serve some of them."""
import json
import os
import subprocess

import pytest

from conftest import ROOT, Server, tajir_binary


def loadgen_binary():
    path = os.environ.get("TAJIR_LOADGEN", os.path.join(ROOT, "build", "tajir-loadgen"))
    if not os.path.exists(path):
        pytest.fail(f"tajir-loadgen not found at {path} (build first, or set TAJIR_LOADGEN)")
    return path


def pos_day(db_url, tmp_path, server_args, seconds=3, loadgen_args=(), urls=1):
    """Seeds, serves with `server_args`, runs a short day (the server named `urls` times):
    (its JSON, its printed report)."""
    seed = subprocess.run([tajir_binary(), "seed", "--db", db_url, "--shops", "2", "--products", "60",
                           "--customers", "40", "--bills", "300"], capture_output=True, text=True, timeout=300)
    assert seed.returncode == 0, seed.stderr
    server = Server(db_url, server_args)
    try:
        out = tmp_path / "day.json"
        run = subprocess.run([loadgen_binary(), "--url", ",".join([server.base] * urls), "--shops", "2",
                              "--connections", "4", "--duration", str(seconds), "--warmup", "1",
                              "--json", str(out)] + list(loadgen_args),
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stdout + run.stderr
        return json.loads(out.read_text()), run.stdout + run.stderr
    finally:
        server.stop()


@pytest.mark.parametrize("cache", ["on", "off"])
def test_a_short_pos_day_reads_nothing_stale(db_url, tmp_path, cache):
    day, _ = pos_day(db_url, tmp_path, ["--db-statements-header", "true"] + ([] if cache == "on" else ["--cache", "false"]))
    assert day["stale_reads"] == 0 and day["errors"] == 0
    assert day["reads"] > 50 and day["writes"] > 5 and day["checks"] > 100
    assert day["by_op"]["create bill"]["count"] > 0 and day["by_op"]["edit price"]["count"] >= 0
    if cache == "on":
        assert day["hit_rate"] > 0.2 and day["reads_without_db"] >= day["hit_rate"] - 0.05
        assert day["statements_per_read"] < 2
    else:
        assert day["hit_rate"] == 0 and day["reads_without_db"] == 0, "every uncached read touches the database"


def test_without_the_statements_header_it_reports_no_database_figure(db_url, tmp_path):
    # The server sends X-DB-Statements only when asked to: without it, every read would look as
    # if it touched no database.
    day, report = pos_day(db_url, tmp_path, ["--cache", "false"], seconds=1)
    assert day["reads"] > 0 and day["stale_reads"] == 0
    assert day["reads_without_db"] is None and day["statements_per_read"] is None
    assert "statements per request: not measured" in report and "--db-statements-header true" in report


LATENCY_FIELDS = {"count", "p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms"}


def assert_latency_split(day):
    """Hits, misses and writes each have their percentiles; together they are every request."""
    latency = day["latency"]
    for name in ("hits", "misses", "writes", "reads", "all"):
        assert set(latency[name]) == LATENCY_FIELDS, name
        x = latency[name]
        assert x["p50_ms"] <= x["p90_ms"] <= x["p99_ms"] <= x["p999_ms"] <= x["max_ms"], name
    assert latency["hits"]["count"] + latency["misses"]["count"] == latency["reads"]["count"]
    assert latency["reads"]["count"] + latency["writes"]["count"] == latency["all"]["count"] == day["requests"]
    assert latency["writes"]["count"] > 0 and latency["misses"]["count"] > 0


def test_an_open_loop_day_reads_nothing_stale_and_reports_the_schedule_kept(db_url, tmp_path):
    day, report = pos_day(db_url, tmp_path, ["--db-statements-header", "true"], seconds=3,
                          loadgen_args=["--rate", "150"])
    assert day["stale_reads"] == 0 and day["errors"] == 0 and day["checks"] > 100
    assert day["mode"] == "open"
    o = day["open_loop"]
    assert o["target_rate"] == 150 and o["arrivals"] == "poisson" and o["late_after_ms"] == 10
    assert o["due"] == o["sent"] + o["unsent"] and o["sent"] == day["requests"] > 100
    assert 0 <= o["late"] <= o["sent"] and o["achieved_rate"] > 0 and o["max_start_delay_ms"] >= 0
    assert_latency_split(day)
    assert day["latency"]["hits"]["count"] > 0
    # The fields the closed loop had are all there still (bench/posday.sh reads them).
    for field in ("throughput", "read_p50_ms", "read_p99_ms", "write_p99_ms", "hit_rate", "first_reads",
                  "reads_without_db", "statements_per_request", "server_statements_per_request", "by_op"):
        assert field in day, field
    assert "open loop: target 150 req/s (poisson arrivals" in report
    for name in ("hits", "misses", "writes"):
        assert f"\n  {name} " in report, name


def test_a_closed_loop_day_splits_hits_misses_and_writes_and_stops_at_a_request_count(db_url, tmp_path):
    day, report = pos_day(db_url, tmp_path, [], seconds=60, loadgen_args=["--requests", "300"])
    assert day["mode"] == "closed" and day["open_loop"] is None
    assert day["requests"] == 300, "60 s is far more than 300 requests take"
    assert day["stale_reads"] == 0 and day["errors"] == 0
    assert_latency_split(day)
    assert "from each request's send" in report


def test_tills_spread_over_two_urls_and_reads_are_checked_against_writes_on_either(tmp_path):
    # One server named twice: two nodes to the load generator, one cache (two servers on one SQLite
    # file would each have their own cache, and read stale by design).
    day, report = pos_day(f"sqlite:{tmp_path}/tajir.db", tmp_path, [], seconds=2, urls=2,
                          loadgen_args=["--rate", "150", "--arrivals", "constant"])
    assert len(day["urls"]) == 2 and day["urls"][0] == day["urls"][1]
    assert len(day["requests_by_node"]) == 2 and sum(day["requests_by_node"]) == day["requests"]
    assert all(n > 0 for n in day["requests_by_node"]), "4 tills over 2 nodes: 2 each"
    assert day["open_loop"]["arrivals"] == "constant"
    assert day["stale_reads"] == 0 and day["errors"] == 0 and day["checks"] > 100
    assert "requests by node:" in report
