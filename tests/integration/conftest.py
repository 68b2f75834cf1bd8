"""Integration tests: the real tajir binary, over HTTP, against SQLite and a real PostgreSQL.

The PostgreSQL cluster is started by these fixtures themselves (initdb + pg_ctl on a free
loopback port, as the postgres user when run as root) and removed afterwards. Each test gets a
fresh database and a fresh server process.
"""
import glob
import json
import os
import pwd
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ADMIN_TOKEN = "operator-token-for-tests-0123456789"
# Tests register and fail logins from one address far more than a client would: the servers
# they start have rate limits that never trip, unless a test asks for the real ones.
RELAXED_LIMITS = ["--login-failures-per-user", "1000000", "--login-failures-per-address", "1000000",
                  "--registrations-per-address", "1000000"]


def tajir_binary():
    path = os.environ.get("TAJIR_BIN", os.path.join(ROOT, "build", "tajir"))
    if not os.access(path, os.X_OK):
        pytest.fail(f"tajir binary not found at {path} (build first, or set TAJIR_BIN)")
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_cluster_port():
    """A port for a Redis Cluster node: at most 55535, free with its bus port (10000 above)."""
    for _ in range(1000):
        port = random.randint(20000, 49999)
        try:
            for p in (port, port + 10000):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", p))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port pair for a Redis Cluster node")


class Postgres:
    """A throwaway cluster: trust auth, superuser 'tajir', socket and data in a temp dir."""

    def __init__(self):
        bindirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(d.split("/")[-2]))
        if not bindirs:
            pytest.fail("PostgreSQL server binaries not found (scripts/install-deps.sh installs them)")
        self.bindir = bindirs[-1]
        self.dir = tempfile.mkdtemp(prefix="tajir-pg-")
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self.data = os.path.join(self.dir, "data")
        self._run(["initdb", "-D", self.data, "-A", "trust", "-U", "tajir", "-E", "UTF8", "--no-sync"])
        self.ctl("start")
        self.counter = 0

    def ctl(self, action, *args):
        """pg_ctl start, or stop with its arguments ("-m", "fast"), waiting until it is done."""
        if action == "start":
            opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
            args = ("-o", opts, "-l", os.path.join(self.dir, "log")) + args
        self._run(["pg_ctl", "-D", self.data, "-w", *args, action])

    def _run(self, argv):
        argv = [os.path.join(self.bindir, argv[0])] + argv[1:]
        if self.as_root:
            argv = ["runuser", "-u", "postgres", "--"] + argv
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def new_database(self):
        self.counter += 1
        name = f"t{self.counter}"
        self._run(["createdb", "-h", self.dir, "-p", str(self.port), "-U", "tajir", name])
        return f"postgresql://tajir@127.0.0.1:{self.port}/{name}"

    def stop(self):
        try:
            self.ctl("stop", "-m", "immediate")
        except subprocess.CalledProcessError:
            pass  # a test stopped it already
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres():
    pg = Postgres()
    yield pg
    pg.stop()


class Server:
    """A running `tajir serve` and a small JSON client for it."""

    def __init__(self, db_url, extra_args=(), relaxed_limits=True):
        self.db_url = db_url
        self.extra_args = (RELAXED_LIMITS if relaxed_limits else []) + list(extra_args)
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(
            [tajir_binary(), "serve", "--port", "0", "--db", self.db_url, "--admin-token", ADMIN_TOKEN,
             "--log-level", "warn"] + self.extra_args,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.warmed = []  # the "warmed ..." lines printed before "listening"
        self.early_log = []  # log lines before it ("[time] [warning] ...": Redis refused, say)
        line = self.proc.stdout.readline()
        while line.startswith("warmed") or line.startswith("["):
            (self.warmed if line.startswith("warmed") else self.early_log).append(line)
            line = self.proc.stdout.readline()
        m = re.search(r"http://([\d.]+):(\d+)", line)
        if not m:
            self.proc.kill()
            raise RuntimeError(f"tajir did not start: {line!r} {self.proc.stderr.read()}")
        self.base = f"http://{m.group(1)}:{m.group(2)}"

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def request(self, method, path, body=None, token=None, headers=None, raw=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None and not (headers and "Content-Type" in headers):
            req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return Reply(resp.status, dict(resp.headers), resp.read())
        except urllib.error.HTTPError as e:
            return Reply(e.code, dict(e.headers), e.read())

    # Shorthands.
    def get(self, path, token=None, **kw):
        return self.request("GET", path, token=token, **kw)

    def post(self, path, body=None, token=None, **kw):
        return self.request("POST", path, body, token=token, **kw)

    def put(self, path, body=None, token=None, **kw):
        return self.request("PUT", path, body, token=token, **kw)

    def delete(self, path, token=None, **kw):
        return self.request("DELETE", path, token=token, **kw)

    def register(self, shop="Test Shop", username=None, password="correct-horse-1"):
        username = username or f"owner{time.monotonic_ns()}"
        r = self.post("/api/auth/register", {"shop_name": shop, "username": username, "password": password})
        assert r.status == 201, r.text
        return r.json["token"], r.json["user"]


class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        self.text = body.decode(errors="replace")
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    def error(self):
        return self.json["error"] if self.json and "error" in self.json else None


class Redis:
    """A redis-server on a free loopback port; append_only keeps its data across a kill."""

    def __init__(self, append_only=False, extra=(), port=None):
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="tajir-redis-")
        self.append_only = append_only
        self.extra = list(extra)  # more redis-server arguments
        self.proc = None
        self.start()

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}"

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir, "--save", "",
             "--appendonly", "yes" if self.append_only else "no", "--appendfsync", "always",
             *self.extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(500):
            if self.cli("PING") in ("PONG", "NOAUTH Authentication required."):  # up, maybe behind a password
                return
            time.sleep(0.01)
        raise RuntimeError("redis-server did not start")

    def cli(self, *args):
        r = subprocess.run(["redis-cli", "-p", str(self.port), *args], capture_output=True, text=True)
        return r.stdout.strip()

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


class RedisCluster:
    """A Redis Cluster on loopback: `masters` masters and a replica each (Redis instances with
    cluster mode on and a node timeout of 1 s, joined by `redis-cli --cluster create`)."""

    def __init__(self, masters=3):
        self.nodes = []
        try:
            for _ in range(2 * masters):
                self.nodes.append(Redis(extra=["--cluster-enabled", "yes", "--cluster-config-file",
                                               "nodes.conf", "--cluster-node-timeout", "1000"],
                                        port=free_cluster_port()))
            subprocess.run(["redis-cli", "--cluster", "create",
                            *[f"127.0.0.1:{n.port}" for n in self.nodes],
                            "--cluster-replicas", "1", "--cluster-yes"],
                           check=True, capture_output=True, timeout=30)
            if not self.wait_ok() or not self.wait_replicated():
                raise RuntimeError("the Redis Cluster did not reach cluster_state:ok, or never synced")
        except Exception:
            self.stop()
            raise

    @property
    def url(self):
        return "redis-cluster://" + ",".join(f"127.0.0.1:{n.port}" for n in self.nodes)

    def wait_ok(self, seconds=20):
        """Whether every running node says cluster_state:ok within `seconds`."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if all("cluster_state:ok" in n.cli("CLUSTER", "INFO") for n in self.nodes if n.running()):
                return True
            time.sleep(0.05)
        return False

    def wait_replicated(self, seconds=20):
        """Whether every master has a replica in sync (state=online) within `seconds`."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            infos = [n.cli("INFO", "replication") for n in self.nodes if n.running()]
            if all("role:master" not in i or "state=online" in i for i in infos):
                return True
            time.sleep(0.05)
        return False

    def slot(self, key):
        return int(self.nodes[0].cli("CLUSTER", "KEYSLOT", key))

    def node_id(self, node):
        return node.cli("CLUSTER", "MYID")

    def masters(self):
        """{node: [(first, last) slot ranges]} of the masters not failed, as a running node sees
        them."""
        seen = next(n for n in self.nodes if n.running())
        by_port = {n.port: n for n in self.nodes}
        out = {}
        for line in seen.cli("CLUSTER", "NODES").splitlines():
            words = line.split()
            if "master" not in words[2] or "fail" in words[2]:
                continue
            port = int(words[1].split("@")[0].split(":")[1])
            ranges = [tuple(int(x) for x in (r.split("-") * 2)[:2]) for r in words[8:] if not r.startswith("[")]
            out[by_port[port]] = ranges
        return out

    def master_of(self, slot):
        return next((n for n, ranges in self.masters().items() if any(a <= slot <= b for a, b in ranges)), None)

    def migrate_slot(self, slot, target):
        """Moves `slot` with its keys to the master `target` (IMPORTING, MIGRATING, MIGRATE,
        SETSLOT NODE), as `redis-cli --cluster reshard` does."""
        source = self.master_of(slot)
        if source is target:
            return
        target_id, source_id = self.node_id(target), self.node_id(source)
        target.cli("CLUSTER", "SETSLOT", str(slot), "IMPORTING", source_id)
        source.cli("CLUSTER", "SETSLOT", str(slot), "MIGRATING", target_id)
        for _ in range(1000):
            keys = source.cli("CLUSTER", "GETKEYSINSLOT", str(slot), "100").split()
            if not keys:
                break
            source.cli("MIGRATE", "127.0.0.1", str(target.port), "", "0", "5000", "REPLACE", "KEYS", *keys)
        for n in [target, source] + [m for m in self.masters() if m not in (target, source)]:
            n.cli("CLUSTER", "SETSLOT", str(slot), "NODE", target_id)

    def stop(self):
        for n in self.nodes:
            n.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request):
    return request.param


@pytest.fixture
def db_url(backend, request, tmp_path):
    if backend == "sqlite":
        return f"sqlite:{tmp_path}/tajir.db"
    return request.getfixturevalue("postgres").new_database()


@pytest.fixture
def server(db_url):
    # Background warming, refilling and the warm restart are off here, so that tests see exactly
    # what a request did; test_cache.py and test_warm_restart.py start servers with them on.
    s = Server(db_url, ["--warm", "false", "--refill", "false", "--hot-keys", "off"])
    yield s
    s.stop()
