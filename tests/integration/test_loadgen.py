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


@pytest.mark.parametrize("cache", ["on", "off"])
def test_a_short_pos_day_reads_nothing_stale(db_url, tmp_path, cache):
    seed = subprocess.run([tajir_binary(), "seed", "--db", db_url, "--shops", "2", "--products", "60",
                           "--customers", "40", "--bills", "300"], capture_output=True, text=True, timeout=300)
    assert seed.returncode == 0, seed.stderr
    server = Server(db_url, [] if cache == "on" else ["--cache", "false"])
    try:
        out = tmp_path / "day.json"
        run = subprocess.run([loadgen_binary(), "--url", server.base, "--shops", "2", "--connections", "4",
                              "--duration", "3", "--warmup", "1", "--json", str(out)],
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stdout + run.stderr
        day = json.loads(out.read_text())
    finally:
        server.stop()
    assert day["stale_reads"] == 0 and day["errors"] == 0
    assert day["reads"] > 50 and day["writes"] > 5 and day["checks"] > 100
    assert day["by_op"]["create bill"]["count"] > 0 and day["by_op"]["edit price"]["count"] >= 0
    if cache == "on":
        assert day["hit_rate"] > 0.2 and day["reads_without_db"] >= day["hit_rate"] - 0.05
        assert day["statements_per_read"] < 2
    else:
        assert day["hit_rate"] == 0 and day["reads_without_db"] == 0, "every uncached read touches the database"
