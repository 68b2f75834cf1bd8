"""scripts/cluster-demo.sh as a user runs it: `up` starts PostgreSQL, Redis, three nodes and nginx,
a product written on one node is read at once on another and through nginx, `status` shows it
all up, a second `up` changes nothing, and `down` leaves no process behind; an `up` that fails
half-way stops what it had started.

Each run is in a temporary state directory, nginx on a free port and a small seed. Every process
the script starts names that directory in its command line, which is how the tests find any left.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest

from conftest import ROOT, Reply, free_port, tajir_binary

SCRIPT = os.path.join(ROOT, "scripts", "cluster-demo.sh")
SEED = "--shops 1 --products 20 --customers 20 --bills 50"


def supports_redis_cluster():
    """Whether the binary's list of settings (`tajir` alone, or `tajir serve --help`) mentions
    redis-cluster://, as scripts/cluster-demo.sh asks too."""
    said = ""
    for argv in ([tajir_binary()], [tajir_binary(), "serve", "--help"]):
        r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        said += r.stdout + r.stderr
    return "redis-cluster" in said


def processes_in(directory):
    """(pid, command line) of every live process whose command line names a path in directory."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # gone meanwhile
        if directory + "/" in cmdline:
            found.append((int(pid), cmdline))
    return found


def running(pid):
    """Whether pid is a live process (a zombie, exited but not yet reaped, is not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def call(base, method, path, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return Reply(resp.status, dict(resp.headers), resp.read())
    except urllib.error.HTTPError as e:
        return Reply(e.code, dict(e.headers), e.read())


class Demo:
    """The script with its settings in the environment, and its state directory."""

    def __init__(self, mode, **settings):
        # A parent open to others: as root, PostgreSQL runs as the postgres user, which must reach it.
        self.parent = tempfile.mkdtemp(prefix="tajir-demo-test-")
        os.chmod(self.parent, 0o755)
        self.dir = os.path.join(self.parent, "state")
        self.port = free_port()
        self.env = dict(os.environ, TAJIR_BIN=tajir_binary(), TAJIR_DEMO_DIR=self.dir,
                        TAJIR_DEMO_PORT=str(self.port), TAJIR_DEMO_REDIS=mode, TAJIR_DEMO_SEED=SEED,
                        **settings)

    def run(self, *args):
        return subprocess.run(["bash", SCRIPT, *args], env=self.env, capture_output=True, text=True,
                              timeout=120)

    def recorded_pids(self):
        pids = []
        for name in os.listdir(os.path.join(self.dir, "run")):
            with open(os.path.join(self.dir, "run", name)) as f:
                pids.append(int(f.read()))
        with open(os.path.join(self.dir, "pg", "data", "postmaster.pid")) as f:
            pids.append(int(f.readline()))
        return pids

    def clean_up(self):
        """After a failed test: down, then whatever it missed."""
        if os.path.exists(os.path.join(self.dir, "demo.env")):
            self.run("down")
        for pid, _ in processes_in(self.dir):
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.parent, ignore_errors=True)


@pytest.fixture
def make_demo():
    made = []

    def make(mode, **settings):
        made.append(Demo(mode, **settings))
        return made[-1]

    yield make
    for d in made:
        d.clean_up()


@pytest.mark.parametrize("mode", [
    "single",
    pytest.param("cluster", marks=pytest.mark.skipif(
        not supports_redis_cluster(),
        reason="this tajir does not take redis-cluster:// yet (neither `tajir` nor `tajir serve --help` mentions it)")),
])
def test_up_serves_every_node_fresh_and_down_leaves_nothing(make_demo, mode):
    demo = make_demo(mode)
    r = demo.run("up")
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    nginx = f"http://127.0.0.1:{demo.port}"
    assert nginx in out
    nodes = re.findall(r"node\d \(its own port\):\s+(http://127\.0\.0\.1:\d+)", out)
    assert len(nodes) == 3, out
    token_line = re.search(r"admin token .*: ([0-9a-f]{32,})$", out, re.M)
    assert token_line, out
    with open(os.path.join(demo.dir, "admin-token")) as f:
        assert f.read().strip() == token_line.group(1)
    password = re.search(r"demo logins \(password (\S+)\)", out).group(1)
    owner = re.search(r"^\s+(\S+)\s+owner\s", out, re.M).group(1)
    assert f"logs:        {demo.dir}/logs/" in out
    assert "down" in out

    login = call(nginx, "POST", "/api/auth/login", {"username": owner, "password": password})
    assert login.status == 200, login.text
    token = login.json["token"]
    sku = f"DEMO-{time.monotonic_ns()}"
    made = call(nodes[0], "POST", "/api/products", {"name": "Cardamom", "sku": sku, "price": 450}, token)
    assert made.status == 201, made.text
    path = f"/api/products/{made.json['id']}"
    # At once, with no retry: the write answered after every other node dropped what it changed.
    other = call(nodes[1], "GET", path, token=token)
    assert other.status == 200 and other.json["sku"] == sku, other.text
    for _ in range(3):  # nginx takes turns over the nodes
        via_nginx = call(nginx, "GET", path, token=token)
        assert via_nginx.status == 200 and via_nginx.json["sku"] == sku, via_nginx.text
    stats = call(nginx, "GET", "/api/cache/stats", token=token_line.group(1))
    assert stats.status == 200, stats.text

    status = demo.run("status")
    assert status.returncode == 0, status.stdout + status.stderr
    for node in nodes:
        assert re.search(rf"running\s+{node} pid \d+ /healthz: 200", status.stdout), status.stdout
    assert re.search(rf"nginx\s+running\s+{nginx} ", status.stdout), status.stdout
    assert re.search(r"postgres\s+running", status.stdout), status.stdout
    redis_lines = [l for l in status.stdout.splitlines() if l.strip().startswith("redis")]
    assert len(redis_lines) == (6 if mode == "cluster" else 1), status.stdout
    for line in redis_lines:
        assert ("cluster_state:ok" if mode == "cluster" else "ping: PONG") in line, status.stdout

    again = demo.run("up")
    assert again.returncode == 0 and "already up" in again.stdout, again.stdout + again.stderr

    pids = demo.recorded_pids()
    assert len(pids) == 1 + (6 if mode == "cluster" else 1) + 3 + 1
    assert all(running(p) for p in pids)
    down = demo.run("down")
    assert down.returncode == 0, down.stdout + down.stderr
    assert not os.path.exists(demo.dir)
    assert [p for p in pids if running(p)] == []
    assert processes_in(demo.dir) == []
    assert demo.run("status").returncode != 0


def test_failed_up_stops_what_it_started(make_demo):
    # PostgreSQL, its seed and Redis come up; then every node refuses the flag.
    demo = make_demo("single", TAJIR_DEMO_NODE_ARGS="--no-such-flag")
    r = demo.run("up")
    assert r.returncode != 0
    assert "node1" in r.stderr and "no-such-flag" in r.stderr, r.stderr
    assert "up failed; stopped what it had started (postgres redis1 node1" in r.stderr, r.stderr
    assert processes_in(demo.dir) == []
    assert not os.path.exists(demo.dir), "a first up that failed leaves no directory"
