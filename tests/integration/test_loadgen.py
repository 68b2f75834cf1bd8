"""tajir-loadgen end to end: a short POS day against the real server on both backends, with and
without the cache; every read it checks must be fresh, and the cache must serve some of them."""
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


def pos_day(db_url, tmp_path, server_args, seconds=3):
    """Seeds, serves with `server_args`, runs a short day: (its JSON, its printed report)."""
    seed = subprocess.run([tajir_binary(), "seed", "--db", db_url, "--shops", "2", "--products", "60",
                           "--customers", "40", "--bills", "300"], capture_output=True, text=True, timeout=300)
    assert seed.returncode == 0, seed.stderr
    server = Server(db_url, server_args)
    try:
        out = tmp_path / "day.json"
        run = subprocess.run([loadgen_binary(), "--url", server.base, "--shops", "2", "--connections", "4",
                              "--duration", str(seconds), "--warmup", "1", "--json", str(out)],
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
