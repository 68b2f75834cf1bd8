"""Several tajir nodes on one PostgreSQL and one Redis: no node serves a stale read.

A randomized checker drives the nodes from several client threads. Each thread owns some
products and the bills sold from them and writes them one request at a time, so the state after
each of its writes is known exactly; any thread reads anything, on any node, and each read is
compared with what was acknowledged before the read began (a write still in flight while the
read ran may or may not show). Faults are injected mid-run: Redis killed and restarted, a node
paused, a node's Redis connections killed, a node cut off from Redis while the others reach it,
a node killed in the middle of a bill. Then
PostgreSQL stopped and started under a node, and three nodes migrating one empty database at
once.
"""
import collections
import contextlib
import dataclasses
import http.client
import math
import os
import random
import re
import selectors
import signal
import socket
import subprocess
import threading
import time
import traceback
import uuid

import pytest

import sql
from conftest import Postgres, Redis, Server, free_port

# Flags every node gets, after --redis: cross-node invalidation will add its own here (e.g.
# "--lease-ms", "1000"). The server refuses a flag it does not know.
NODE_ARGS = ["--lease-ms", "1000"]
BASE_ARGS = ["--hot-keys", "off", "--redis-timeout-ms", "200"]
NODES = 3
WORKERS = 4
OPERATIONS = 3000
SECONDS = 40  # a run stops at this time even short of OPERATIONS
# Added to each test's seed: TAJIR_CHECKER_SEED=7 runs other histories.
SEED = int(os.environ.get("TAJIR_CHECKER_SEED", "0"))
WRITE_PATIENCE = 20  # seconds a write is retried, on other nodes, before it is given up
RECOVERY = 5  # seconds after a fault ends in which reads may still fail (a 503, a lost connection)


class Node(Server):
    """A `tajir serve` whose output is read all along (a full pipe would block its logging) and
    kept for the report."""

    def __init__(self, name, db_url, redis_url, extra=()):
        self.name = name
        self.log = collections.deque(maxlen=500)
        super().__init__(db_url, BASE_ARGS + ["--redis", redis_url] + NODE_ARGS + list(extra))

    def start(self):
        super().start()
        for stream in (self.proc.stdout, self.proc.stderr):
            threading.Thread(target=self._drain, args=(stream,), daemon=True).start()

    def _drain(self, stream):
        for line in stream:
            self.log.append(line.rstrip("\n"))

    def signal(self, sig):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)


class Cluster:
    """NODES tajir nodes on one database and one Redis; the nodes the clients may read from and
    write to (a fault takes a node out of them while it is down)."""

    def __init__(self, db_url, redis, count=NODES, extra=None, urls=None):
        self.db_url = db_url
        self.redis = redis
        extra = extra or {}
        urls = urls or {}
        self.nodes = []
        try:
            for i in range(count):
                self.nodes.append(Node(f"node{i}", db_url, urls.get(i, redis.url), extra.get(i, ())))
        except Exception:
            self.stop()
            raise
        self.readers = list(self.nodes)
        self.writers = list(self.nodes)

    def reader(self, rng):
        return rng.choice(list(self.readers))

    def writer(self, rng):
        return rng.choice(list(self.writers))

    def stop(self):
        for n in self.nodes:
            n.signal(signal.SIGCONT)  # a paused node would not see its SIGTERM
            n.stop()


@pytest.fixture
def make_cluster(postgres):
    made = []

    def make(count=NODES, append_only=False, extra=None, redis_class=None, urls=None):
        """`redis_class`: what to start instead of one Redis (test_redis_cluster.py's cluster);
        `urls`: a node's own way to Redis, by index (a function of the Redis started)."""
        redis = redis_class() if redis_class else Redis(append_only=append_only)
        try:
            cluster = Cluster(postgres.new_database(), redis, count, extra,
                              {i: url(redis) for i, url in (urls or {}).items()})
        except Exception:
            redis.stop()
            raise
        made.append(cluster)
        return cluster

    yield make
    for c in made:
        c.stop()
        c.redis.stop()


# ---------------------------------------------------------------------------------------------
# The oracle: what was written, and when.


@dataclasses.dataclass
class Version:
    state: object  # what a read shows once this write is in: a product's fields, a bill's status
    started: float  # before the write was first sent
    acked: float = math.inf  # once its answer came back; inf: not yet, or never known


class Entity:
    """A product's or a bill's versions, in the order its one writer wrote them."""

    def __init__(self, key):
        self.key = key
        self.versions = []

    def required(self, began):
        """The index of the newest version acknowledged before `began`; -1: none."""
        index = -1
        for i, v in enumerate(self.versions):
            if v.acked <= began:
                index = i
        return index

    def allowed(self, began, ended):
        """The states a read that ran from `began` to `ended` may show (None: absent)."""
        index = self.required(began)
        states = [None] if index < 0 else []
        states += [v.state for v in self.versions[max(index, 0):] if v.started < ended]
        return states


@dataclasses.dataclass
class Sale:
    """A bill a worker made: its status as an Entity ("paid", then "void")."""
    entity: Entity
    items: list  # [(product id, quantity)]
    total: int
    id: int = None
    number: int = None
    reply: object = None

    def paid_for_sure(self, began, ended):
        v = self.entity.versions
        return v[0].acked <= began and not (len(v) > 1 and v[1].started < ended)

    def maybe_paid(self, began, ended):
        v = self.entity.versions
        return v[0].started < ended and not (len(v) > 1 and v[1].acked <= began)


@dataclasses.dataclass
class Read:
    """One GET that was answered, and what it showed that it should not have."""
    node: Node
    path: str
    reply: object
    began: float
    ended: float
    mismatches: list = dataclasses.field(default_factory=list)

    def expect(self, what, expected, seen):
        self.mismatches.append(f"{what}: expected {expected}, saw {seen}")


def product_state(body):
    return {"name": body["name"], "price": body["price"], "stock": body["stock"]}


def header(reply, name):
    return next((v for k, v in reply.headers.items() if k.lower() == name.lower()), None)


# ---------------------------------------------------------------------------------------------
# The checker.


class Checker:
    def __init__(self, cluster, seed, workers=WORKERS, operations=OPERATIONS, seconds=SECONDS):
        self.cluster = cluster
        self.seed = seed + SEED
        self.workers = workers
        self.operations = operations
        self.seconds = seconds
        self.lock = threading.Lock()
        self.epoch = time.monotonic()
        self.products = {}  # id -> Entity of (name, price, stock)
        self.sales = []  # every Sale, ids known or not
        self.bills = {}  # id -> Sale
        self.counts = collections.Counter()
        self.stale = []
        self.errors = []
        self.started_ops = 0
        self.token = None
        self.outages = []  # [began, ended] of each fault
        self.failed_reads = []  # (node, path, began, ended, what) of reads not answered

    def now(self):
        return time.monotonic()

    def since(self, t):
        return f"{t - self.epoch:.3f}s"

    # --- requests

    def call(self, node, method, path, body=None, headers=None):
        """The reply, or None when the connection was lost (refused, reset, timed out)."""
        try:
            return node.request(method, path, body, token=self.token, headers=headers)
        except (OSError, http.client.HTTPException):  # URLError and socket timeouts are OSErrors
            return None

    def write(self, rng, method, path, body=None, headers=None, ok=(200, 201), done_after_loss=()):
        """Sends a write until it is answered, again on another node after a lost connection or
        a 503. Returns the reply, or None when it was given up. A status in
        `done_after_loss` after a lost attempt means that attempt went through."""
        deadline = self.now() + WRITE_PATIENCE
        lost = False
        attempts = 0
        while self.now() < deadline:
            node = self.cluster.writer(rng)
            attempts += 1
            r = self.call(node, method, path, body, headers)
            if r is not None and (r.status in ok or (lost and r.status in done_after_loss)):
                if attempts > 1:
                    self.count("write retried")
                return r
            if r is None or r.status == 503:
                self.count("write lost connection" if r is None else "write 503")
                # Committed, but not every node could be told: it went through, as a lost answer.
                refused = r is not None and (r.error() or {}).get("code") == "not_acknowledged"
                lost = lost or r is None or refused
                if refused:
                    self.count("write not acknowledged")
                time.sleep(0.05)
                continue
            self.error(f"{node.name} {method} {path} {body}: {r.status} {r.text}")
            return None
        self.count("write given up")
        return None

    def count(self, what, n=1):
        with self.lock:
            self.counts[what] += n

    def error(self, message):
        with self.lock:
            self.errors.append(message)

    # --- setup

    def setup(self):
        first = self.cluster.nodes[0]
        self.token, _ = first.register("Nodes Shop")
        rng = random.Random(self.seed)
        self.owned = [[] for _ in range(self.workers + 1)]  # the last: the faults'
        for w in range(self.workers + 1):
            for j in range(3):
                self.owned[w].append(self.create_product(rng, w, j))

    def create_product(self, rng, worker, j):
        name = f"w{worker}p{j}-v0"
        body = {"name": name, "sku": f"W{worker}-{j}-{uuid.uuid4().hex[:8]}",
                "price": rng.randint(100, 999), "stock": 40}
        started = self.now()
        r = self.call(self.cluster.writer(rng), "POST", "/api/products", body)
        if r is None or r.status != 201:
            # Not retried: a retry after a lost answer would find the sku taken.
            self.error(f"create product {body}: {r and r.status} {r and r.text}")
            return None
        entity = Entity(f"product {r.json['id']}")
        entity.versions.append(Version(product_state(r.json), started, self.now()))
        with self.lock:
            self.products[r.json["id"]] = entity
        return r.json["id"]

    # --- writes (each by the one worker that owns the product or bill)

    def update_product(self, rng, worker, pid):
        entity = self.products[pid]
        current = entity.versions[-1].state
        body = {}
        if rng.random() < 0.6:
            base, version = current["name"].rsplit("-v", 1)
            body["name"] = f"{base}-v{int(version) + 1}"
        if rng.random() < 0.5 or not body:
            body["price"] = rng.randint(100, 999)
        if rng.random() < 0.4 or current["stock"] < 5:
            body["stock"] = rng.randint(20, 60)
        new = dict(current, **body)
        version = self.begin(entity, new)
        r = self.write(rng, "PUT", f"/api/products/{pid}", body)
        if r is None:
            return False
        if product_state(r.json) != new:
            self.error(f"PUT /api/products/{pid} {body} answered {product_state(r.json)}, not {new}")
        self.acknowledge(version)
        return True

    def sell(self, rng, worker, pids, on_sent=None):
        """A bill of some of `pids` (sent by `on_sent` first when given): its Sale once it is
        answered, with the answer in `reply`; None otherwise."""
        lines = []
        for pid in pids:
            stock = self.products[pid].versions[-1].state["stock"]
            if stock >= 1:
                lines.append((pid, rng.randint(1, min(3, stock))))
        if not lines:
            self.update_product(rng, worker, pids[0])  # restocks
            return None
        total = sum(q * self.products[p].versions[-1].state["price"] for p, q in lines)
        body = {"items": [{"product_id": p, "quantity": q} for p, q in lines], "payment_method": "cash"}
        key = {"Idempotency-Key": uuid.uuid4().hex}
        with self.lock:
            started = self.now()
            versions = []
            for pid, q in lines:
                state = self.products[pid].versions[-1].state
                versions.append(Version(dict(state, stock=state["stock"] - q), started))
                self.products[pid].versions.append(versions[-1])
            sale = Sale(Entity("bill ?"), lines, total)
            sale.entity.versions.append(Version("paid", started))
            versions.append(sale.entity.versions[0])
            self.sales.append(sale)
        r = on_sent(body, key) if on_sent else None
        if on_sent and (r is None or r.status not in (200, 201)):
            self.count("write lost connection" if r is None else f"write {r.status}")
            self.count("write retried")
        if r is None or r.status not in (200, 201):
            r = self.write(rng, "POST", "/api/bills", body, key)
        if r is None:
            return None
        if r.json["total"] != total or r.json["status"] != "paid":
            self.error(f"POST /api/bills {body} answered {r.text}, expected total {total}")
        with self.lock:
            sale.id, sale.number = r.json["id"], r.json["number"]
            sale.entity.key = f"bill {sale.id}"
            if sale.id in self.bills:
                self.error(f"bill {sale.id} answered twice: {r.text}")
            self.bills[sale.id] = sale
        for v in versions:
            self.acknowledge(v)
        sale.reply = r
        return sale

    def void(self, rng, worker, sale):
        with self.lock:
            started = self.now()
            versions = [Version("void", started)]
            sale.entity.versions.append(versions[0])
            for pid, q in sale.items:
                state = self.products[pid].versions[-1].state
                versions.append(Version(dict(state, stock=state["stock"] + q), started))
                self.products[pid].versions.append(versions[-1])
        r = self.write(rng, "POST", f"/api/bills/{sale.id}/void", done_after_loss=(409,))
        if r is None:
            return False
        for v in versions:
            self.acknowledge(v)
        return True

    @contextlib.contextmanager
    def outage(self):
        """Marks the time something is down: reads may fail then (and for RECOVERY after)."""
        window = [self.now(), math.inf]
        with self.lock:
            self.outages.append(window)
        try:
            yield
        finally:
            window[1] = self.now()

    def read_failed_with_nothing_down(self, began, ended):
        return not any(began <= end + RECOVERY and ended >= start for start, end in self.outages)

    def begin(self, entity, state):
        with self.lock:
            version = Version(state, self.now())
            entity.versions.append(version)
        return version

    def acknowledge(self, version):
        with self.lock:
            version.acked = self.now()

    # --- reads (by anyone, on any node)

    def read(self, node, path):
        """A GET on `node`, as a Read to check; None when it was not answered with 200 or 404."""
        began = self.now()
        r = self.call(node, "GET", path)
        ended = self.now()
        if r is None or r.status == 503:
            with self.lock:
                self.failed_reads.append((node.name, path, began, ended, r and r.text))
        if r is None:
            self.count("read lost connection")
        elif r.status == 503:
            self.count("read 503")
            if not (r.error() and header(r, "Retry-After")):
                self.error(f"{node.name} GET {path}: a 503 without an error code or Retry-After: {r.text}")
        elif r.status not in (200, 404):
            self.error(f"{node.name} GET {path}: {r.status} {r.text}")
        else:
            self.count("read")
            return Read(node, path, r, began, ended)
        return None

    def judge(self, read):
        """Counts `read` stale when anything it showed was."""
        if read.mismatches:
            r = read.reply
            where = f"X-Cache {header(r, 'X-Cache')}, tier {header(r, 'X-Cache-Tier')}"
            with self.lock:
                self.stale.append(f"{read.node.name} GET {read.path} [{where}] at "
                                  f"{self.since(read.began)}: " + "; ".join(read.mismatches))

    def check_entity(self, read, entity, seen):
        with self.lock:
            allowed = entity.allowed(read.began, read.ended)
            index = entity.required(read.began)
            newest = entity.versions[index] if index >= 0 else None
            old = [i for i, v in enumerate(entity.versions) if v.state == seen]
        if seen in allowed:
            return
        expected = (f"version {index} {newest.state}, acknowledged "
                    f"{read.began - newest.acked:.3f}s before the read began" if newest else "absent")
        if len(allowed) > 1:
            expected += f" (or one of the {len(allowed) - 1} written while it ran)"
        read.expect(entity.key, expected, f"version {old[-1]} {seen}" if old else f"{seen}, never written")

    def check_items(self, read, entities, state_of, acked):
        """Each item of a page against its entity (by id), and the page's total against the
        count of those `acked` before the read began."""
        body = read.reply.json
        for item in body["items"]:
            entity = entities.get(item["id"])
            if entity is not None:  # else one whose creation was not answered yet
                self.check_entity(read, entity, state_of(item))
        if body["total"] < acked:
            read.expect("total", f">= {acked}", body["total"])

    def read_product(self, node, pid):
        read = self.read(node, f"/api/products/{pid}")
        if read:
            body = read.reply.json
            self.check_entity(read, self.products[pid], product_state(body) if read.reply.status == 200 else None)
            self.judge(read)

    def read_product_page(self, node, page, per_page=20):
        read = self.read(node, f"/api/products?page={page}&per_page={per_page}")
        if not read or read.reply.status != 200:
            return
        body = read.reply.json
        with self.lock:
            acked = sorted(p for p, e in self.products.items() if e.versions[0].acked <= read.began)
        self.check_items(read, self.products, product_state, len(acked))
        ids = [item["id"] for item in body["items"]]
        if ids:
            last = math.inf if len(ids) < per_page else ids[-1]
            missing = [p for p in acked if ids[0] <= p <= last and p not in ids]
            if missing:
                read.expect("products", f"ids {missing} on the page", ids)
        self.judge(read)

    def read_bill(self, node, sale):
        read = self.read(node, f"/api/bills/{sale.id}")
        if read:
            self.check_entity(read, sale.entity, read.reply.json["status"] if read.reply.status == 200 else None)
            self.judge(read)

    def read_bill_page(self, node, per_page=20):
        read = self.read(node, f"/api/bills?per_page={per_page}")
        if not read or read.reply.status != 200:
            return
        body = read.reply.json
        with self.lock:
            acked = [s for s in self.sales if s.entity.versions[0].acked <= read.began]
            entities = {i: sale.entity for i, sale in self.bills.items()}
        self.check_items(read, entities, lambda item: item["status"], len(acked))
        numbers = [item["number"] for item in body["items"]]
        lowest = numbers[-1] if len(numbers) == per_page else 0
        missing = sorted(s.number for s in acked if s.number > lowest and s.number not in numbers)
        if missing:
            read.expect("bills", f"numbers {missing} on the page", numbers)
        self.judge(read)

    def read_dashboard(self, node):
        read = self.read(node, "/api/dashboard")
        if not read or read.reply.status != 200:
            return
        body = read.reply.json
        with self.lock:
            sure = [s for s in self.sales if s.paid_for_sure(read.began, read.ended)]
            maybe = [s for s in self.sales if s.maybe_paid(read.began, read.ended)]
        for what, seen, low, high in [
                ("bills.all_time", body["bills"]["all_time"], len(sure), len(maybe)),
                ("revenue.all_time", body["revenue"]["all_time"], sum(s.total for s in sure),
                 sum(s.total for s in maybe))]:
            if not low <= seen <= high:
                read.expect(what, f"{low}..{high}", seen)
        self.judge(read)

    def sweep(self, node):
        """Reads everything known on `node`."""
        for pid in list(self.products):
            self.read_product(node, pid)
        with self.lock:
            sales = [s for s in self.sales if s.id is not None]
        for sale in sales[-100:]:
            self.read_bill(node, sale)
        for page in range(1, self.pages() + 1):
            self.read_product_page(node, page)
        self.read_bill_page(node)
        self.read_dashboard(node)

    def pages(self, per_page=20):
        return max(1, math.ceil(len(self.products) / per_page))

    # --- the run

    def worker(self, w):
        rng = random.Random(f"{self.seed}-{w}")
        mine = self.owned[w]
        my_sales = []
        created = 0
        while self.next_operation():
            live = [p for p in mine if p is not None]
            choice = rng.random()
            if choice < 0.15:
                self.update_product(rng, w, rng.choice(live))
            elif choice < 0.30:
                sale = self.sell(rng, w, rng.sample(live, rng.randint(1, 2)))
                if sale:
                    my_sales.append(sale)
            elif choice < 0.36 and my_sales:
                self.void(rng, w, my_sales.pop(rng.randrange(len(my_sales))))
            elif choice < 0.38 and created < 4:
                created += 1
                mine.append(self.create_product(rng, w, 3 + created))
            elif choice < 0.68:
                self.read_product(self.cluster.reader(rng), rng.choice(list(self.products)))
            elif choice < 0.80:
                self.read_product_page(self.cluster.reader(rng), rng.randint(1, self.pages()))
            elif choice < 0.90 and self.bills:
                self.read_bill(self.cluster.reader(rng), rng.choice(list(self.bills.values())))
            elif choice < 0.95:
                self.read_bill_page(self.cluster.reader(rng))
            else:
                self.read_dashboard(self.cluster.reader(rng))

    def next_operation(self):
        with self.lock:
            if self.errors or self.now() > self.deadline:
                return False
            if self.started_ops >= self.operations and self.fault_done.is_set():
                return False
            self.started_ops += 1
            if self.started_ops == self.operations // 3:
                self.fault_start.set()
            return True

    def run(self, fault=None):
        self.setup()
        self.deadline = self.now() + self.seconds
        self.fault_start = threading.Event()
        self.fault_done = threading.Event()
        began = self.now()
        threads = [threading.Thread(target=self.guarded, args=(self.worker, w)) for w in range(self.workers)]
        if fault is None:
            self.fault_done.set()
        else:
            threads.append(threading.Thread(target=self.guarded, args=(self.run_fault, fault)))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for node in self.cluster.readers:
            self.sweep(node)
        return Report(self, self.now() - began)

    def run_fault(self, fault):
        try:
            self.fault_start.wait(self.seconds)
            fault(self)
        finally:
            self.fault_done.set()

    def guarded(self, fn, arg):
        try:
            fn(arg)
        except Exception:  # noqa: BLE001 - reported by the test
            self.error(traceback.format_exc())


class Report:
    def __init__(self, checker, seconds):
        self.checker = checker
        self.seconds = seconds
        self.counts = dict(checker.counts)
        self.stale = list(checker.stale)
        self.errors = list(checker.errors)

    def summary(self):
        c = self.counts
        reads = c.get("read", 0)
        capped = " (stopped by the time cap)" if self.checker.started_ops < self.checker.operations else ""
        return (f"{self.checker.started_ops} operations{capped} in {self.seconds:.1f} s on "
                f"{len(self.checker.cluster.nodes)} nodes: {reads} reads answered, "
                f"{len(self.stale)} stale; {c.get('read 503', 0)} reads 503, "
                f"{c.get('read lost connection', 0)} lost; {len(self.checker.sales)} bills; "
                f"writes: {c.get('write retried', 0)} retried "
                f"({c.get('write 503', 0)} 503s, {c.get('write lost connection', 0)} lost "
                f"connections), {c.get('write given up', 0)} given up")

    def problems(self):
        problems = []
        if self.stale:
            by_node = collections.Counter(s.split(" ", 1)[0] for s in self.stale)
            by_kind = collections.Counter(re.sub(r"/\d+", "/{id}", s.split(" ")[2].split("?")[0])
                                          for s in self.stale)
            problems.append(f"{len(self.stale)} stale reads: by node {dict(by_node)}, by path "
                            f"{dict(by_kind)}; the first:\n  " + "\n  ".join(self.stale[:12]))
        if self.errors:
            logs = [f"{n.name}: {line}" for n in self.checker.cluster.nodes for line in list(n.log)[-5:]]
            problems.append(f"{len(self.errors)} errors:\n  " + "\n  ".join(self.errors[:5]) +
                            "\nthe nodes' last log lines:\n  " + "\n  ".join(logs))
        numbers = sorted(s.number for s in self.checker.sales if s.number is not None)
        if numbers != list(range(1, len(numbers) + 1)):
            problems.append(f"bill numbers {numbers}: not 1..{len(numbers)} (one made twice?)")
        unexpected = [f for f in self.checker.failed_reads
                      if self.checker.read_failed_with_nothing_down(f[2], f[3])]
        if unexpected:
            problems.append(f"{len(unexpected)} reads failed with nothing down: " + "; ".join(
                f"{n} GET {p} at {self.checker.since(b)}: {t or 'connection lost'}" for n, p, b, _, t in unexpected[:5]))
        if self.counts.get("write given up"):
            problems.append(f"{self.counts['write given up']} writes given up")
        return problems


def check(checker, fault=None, verify=None):
    """Runs the checker (with `fault`), then fails on stale reads, errors, writes given up, and
    whatever `verify` (a function of the report: a list of problems) finds."""
    report = checker.run(fault)
    print(f"\n{os.environ.get('PYTEST_CURRENT_TEST', '').split(' ')[0]}: {report.summary()}")
    problems = (verify(report) if verify else []) + report.problems()
    assert not problems, report.summary() + "\n" + "\n".join(problems)
    return report


# ---------------------------------------------------------------------------------------------
# Without faults, and with each fault.


def test_the_checker_finds_nothing_stale_on_one_node(make_cluster):
    # The control: one node's own writes invalidate its own cache, so whatever this finds is
    # the checker's mistake, not the server's.
    check(Checker(make_cluster(count=1), seed=1))


def test_no_read_on_any_node_is_stale(make_cluster):
    check(Checker(make_cluster(), seed=1))


def test_no_read_is_stale_when_redis_is_killed_and_restarted_with_its_data(make_cluster):
    cluster = make_cluster(append_only=True)

    def kill_redis(checker):
        time.sleep(0.5)
        with checker.outage():
            cluster.redis.kill()
            time.sleep(2)  # writes go on, their invalidations cannot reach Redis
            cluster.redis.start()
        time.sleep(3)  # long enough for each node's repair (every 2 s) to use Redis again
        for node in cluster.nodes:
            checker.sweep(node)

    check(Checker(cluster, seed=2), kill_redis)


def test_no_read_is_stale_when_a_node_is_paused_longer_than_a_lease(make_cluster):
    cluster = make_cluster()
    paused = cluster.nodes[2]

    def pause(checker):
        cluster.writers.remove(paused)  # the others' writes go on; reads still go to it
        with checker.outage():
            paused.signal(signal.SIGSTOP)
            time.sleep(3)
            paused.signal(signal.SIGCONT)
        checker.sweep(paused)  # at once: what it kept from before the pause is out of date
        cluster.writers.append(paused)

    check(Checker(cluster, seed=3), pause)


def redis_connections(redis, node):
    """The client addresses of `node`'s connections to `redis`, from ss(8)."""
    out = subprocess.run(["ss", "-Htnp", "state", "established", "dst", f"127.0.0.1:{redis.port}"],
                         capture_output=True, text=True, check=True).stdout
    return [line.split()[2] for line in out.splitlines() if f"pid={node.proc.pid}," in line]


def test_no_read_is_stale_when_a_nodes_redis_connections_are_killed(make_cluster):
    cluster = make_cluster()
    victim = cluster.nodes[1]
    killed = []

    def kill_connections(checker):
        with checker.outage():
            for _ in range(8):
                for address in redis_connections(cluster.redis, victim):
                    if cluster.redis.cli("CLIENT", "KILL", "ADDR", address) == "1":
                        killed.append(address)
                time.sleep(0.25)
        checker.sweep(victim)

    def verify(report):
        print(f"killed {len(killed)} of {victim.name}'s Redis connections")
        return [] if killed else ["the node had no connection to Redis to kill"]

    check(Checker(cluster, seed=4), kill_connections, verify=verify)


class Link:
    """A TCP proxy from a free loopback port to `port`: one node's own way to Redis, which the
    test can cut (every connection closed, new ones closed at once) and heal."""

    def __init__(self, port):
        self.target = port
        self.port = free_port()
        self.up = True
        self.lock = threading.Lock()
        self.pairs = []
        self.server = socket.create_server(("127.0.0.1", self.port))
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}"

    def _accept(self):
        while not self.stopped:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            with self.lock:
                if not self.up:
                    client.close()
                    continue
                try:
                    upstream = socket.create_connection(("127.0.0.1", self.target), timeout=1)
                except OSError:
                    client.close()
                    continue
                pair = (client, upstream)
                self.pairs.append(pair)
            threading.Thread(target=self._pump, args=(pair,), daemon=True).start()

    def _pump(self, pair):
        sel = selectors.DefaultSelector()
        for s in pair:
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ)
        try:
            while True:
                for key, _ in sel.select(timeout=0.5):
                    data = key.fileobj.recv(65536)
                    if not data:
                        return
                    other = pair[1] if key.fileobj is pair[0] else pair[0]
                    other.setblocking(True)
                    other.sendall(data)
                    other.setblocking(False)
        except OSError:
            return
        finally:
            sel.close()
            self._drop(pair)

    def _drop(self, pair):
        with self.lock:
            if pair in self.pairs:
                self.pairs.remove(pair)
        for s in pair:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def cut(self):
        with self.lock:
            self.up = False
            pairs = list(self.pairs)
        for pair in pairs:
            self._drop(pair)

    def heal(self):
        with self.lock:
            self.up = True

    def stop(self):
        self.stopped = True
        self.cut()
        self.server.close()


def test_no_read_is_stale_when_a_node_is_cut_off_from_redis_while_the_others_reach_it(make_cluster):
    # Node 2 reaches Redis through a link the test cuts: its writes cannot tell the others, who
    # go on serving from their local tiers. The database is the witness that tells this from an
    # outage of Redis for everyone: such a write is answered 503 (committed, not acknowledged)
    # and the client sends it again, on another node.
    links = {}

    def link(redis):
        links[2] = Link(redis.port)
        return links[2].url

    cluster = make_cluster(urls={2: link})
    cut = cluster.nodes[2]

    def partition(checker):
        time.sleep(0.5)
        with checker.outage():
            links[2].cut()
            time.sleep(5)  # five leases: node 2's writes are refused, the others' answered
            links[2].heal()
        time.sleep(2)  # node 2 renews, clears its tier and serves again
        checker.sweep(cut)

    def verify(report):
        refused = [line for line in cut.log if "not acknowledged" in line]
        print(f"{report.counts.get('write not acknowledged', 0)} writes not acknowledged "
              f"({len(refused)} logged by {cut.name})")
        if not report.counts.get("write not acknowledged"):
            return ["no write on the cut-off node was refused: the fault did not bite"]
        return []

    try:
        check(Checker(cluster, seed=6), partition, verify=verify)
    finally:
        links[2].stop()


def test_a_bill_retried_on_another_node_after_its_node_was_killed_is_the_same_bill(make_cluster):
    # Node 2 waits 2 s between a write's commit and its invalidation: killed in that window, its
    # bill is committed and answered to nobody. The clients write only to nodes 0 and 1.
    cluster = make_cluster(extra={2: ["--invalidation-delay-ms", "2000"]})
    victim = cluster.nodes[2]
    cluster.writers.remove(victim)
    outcome = {}

    def kill_mid_bill(checker):
        rng = random.Random(5)
        products = [p for p in checker.owned[-1] if p is not None]
        for pid in products:  # cached on every node, so a node that kept them would be stale
            for node in cluster.nodes:
                checker.read_product(node, pid)

        def send_then_kill(body, key):
            sent = {}
            t = threading.Thread(target=lambda: sent.update(r=checker.call(victim, "POST", "/api/bills", body, key)))
            t.start()
            time.sleep(0.7)  # committed; waiting before its invalidation
            cluster.readers.remove(victim)
            victim.signal(signal.SIGKILL)
            t.join()
            outcome["first"] = sent["r"]
            outcome["body"], outcome["key"] = body, key
            return sent["r"]

        with checker.outage():
            outcome["retry"] = checker.sell(rng, len(checker.owned) - 1, products, send_then_kill)
            victim.proc.wait()
            # Once more, on the other node: still the one bill.
            outcome["again"] = checker.call(cluster.nodes[0], "POST", "/api/bills", outcome["body"],
                                            outcome["key"])
            for node in cluster.readers:
                checker.sweep(node)
            victim.start()
            cluster.readers.append(victim)
        checker.sweep(victim)

    def verify(report):
        if "retry" not in outcome:
            return ["the fault did not run"]
        retry, again = outcome["retry"] and outcome["retry"].reply, outcome["again"]
        problems = []
        if outcome["first"] is not None:
            problems.append(f"the bill was answered before its node was killed: {outcome['first'].text}")
        if retry is None or retry.status != 200:
            problems.append(f"the retry was not a replay of the committed bill: {retry and retry.text}")
        if again is None or again.status != 200 or again.json != retry.json:
            problems.append(f"a second retry answered another bill: {again and again.text}")
        print(f"the retry answered {retry and retry.status}: bill {retry and retry.json['id']}")
        return problems

    check(Checker(cluster, seed=5), kill_mid_bill, verify=verify)


# ---------------------------------------------------------------------------------------------
# PostgreSQL down, and the migration of an empty database.


def test_postgres_stopped_answers_503_and_the_same_node_recovers_when_it_is_back():
    pg = Postgres()  # its own: stopping the session's cluster would fail other tests
    redis = Redis()
    node = None
    try:
        node = Node("node0", pg.new_database(), redis.url)
        token, _ = node.register()
        pid = node.post("/api/products", {"name": "Tea", "sku": "TEA", "price": 100, "stock": 10}, token).json["id"]
        assert node.get(f"/api/products/{pid}", token).status == 200  # cached now
        pg.ctl("stop", "-m", "fast")
        began = time.monotonic()
        writes = [node.post("/api/products", {"name": "Rice", "sku": "RICE", "price": 5, "stock": 1}, token),
                  node.put(f"/api/products/{pid}", {"price": 200}, token),
                  node.post("/api/bills", {"items": [{"product_id": pid, "quantity": 1}],
                                           "payment_method": "cash"}, token)]
        for r in writes:
            assert r.status == 503, r.text
            assert r.error()["code"] == "database_unavailable" and r.error()["message"], r.text
            assert int(header(r, "Retry-After")) >= 1
        uncached = node.get("/api/bills?status=void", token)
        assert uncached.status == 503 and uncached.error()["code"] == "database_unavailable", uncached.text
        cached = node.get(f"/api/products/{pid}", token)
        # From the cache while its last beat holds; then not (docs/CACHE.md, "A node cut off
        # from Redis": without a beat in the database a node does not serve its local tier).
        assert (cached.status == 200 and cached.json["price"] == 100) or \
            (cached.status == 503 and cached.error()["code"] == "database_unavailable"), cached.text
        health = node.get("/healthz")
        assert health.status == 503 and health.json["db"] == "down", health.text
        assert time.monotonic() - began < 10, "requests waited for the database instead of failing"
        time.sleep(1.5)  # a lease and a half (NODE_ARGS)
        cached = node.get(f"/api/products/{pid}", token)
        assert cached.status == 503 and cached.error()["code"] == "database_unavailable", cached.text
        assert node.get("/healthz").json["lease"] == "lost"
        assert node.proc.poll() is None
        pg.ctl("start")
        deadline = time.monotonic() + 15
        while (r := node.put(f"/api/products/{pid}", {"price": 300}, token)).status == 503:
            assert time.monotonic() < deadline, f"the node did not recover: {r.text}"
            time.sleep(0.2)
        assert r.status == 200, r.text
        assert node.get(f"/api/products/{pid}", token).json["price"] == 300
        sold = node.post("/api/bills", {"items": [{"product_id": pid, "quantity": 1}], "payment_method": "cash"}, token)
        assert sold.status == 201, sold.text
        assert node.get("/healthz").json["db"] == "ok"
        assert node.get("/api/bills?status=void", token).status == 200
    finally:
        if node:
            node.stop()
        redis.stop()
        pg.stop()


def test_three_nodes_started_at_once_migrate_an_empty_database_once(postgres):
    db_url = postgres.new_database()
    # Every DDL statement on this database goes to the cluster's log, after what is there now.
    sql.run(db_url, f"ALTER DATABASE {db_url.rsplit('/', 1)[1]} SET log_statement = 'ddl'")
    log = os.path.join(postgres.dir, "log")
    offset = os.path.getsize(log)
    redis = Redis()
    nodes, failures = [None] * 3, []
    gate = threading.Barrier(3)

    def start(i):
        gate.wait()
        try:
            nodes[i] = Node(f"node{i}", db_url, redis.url)
        except Exception as e:  # noqa: BLE001 - reported below
            failures.append(f"node{i}: {e}")

    threads = [threading.Thread(target=start, args=(i,)) for i in range(3)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not failures, failures
        token, _ = nodes[0].register()
        for node in nodes:
            assert node.get("/api/products", token).status == 200
        rows = sql.run(db_url, "SELECT version, count(*) FROM schema_migrations GROUP BY version ORDER BY version")
        versions = [int(v) for v, _ in rows]
        assert versions == list(range(1, len(versions) + 1)) and all(c == "1" for _, c in rows), rows
        with open(log, errors="replace") as f:
            f.seek(offset)
            text = f.read()
        statements = [s.strip() for s in
                      re.findall(r"LOG:  (?:statement|execute [^:]+): (.*?)(?=\n\S|\Z)", text, re.S)]
        schema = [s for s in statements if "schema_migrations" not in s]
        assert len(schema) > 20, f"the log shows too few migration statements: {text[:2000]}"
        assert sum("CREATE TABLE shops" in s for s in schema) == 1, schema[:5]
        repeated = [s for s, n in collections.Counter(schema).items() if n > 1]
        assert not repeated, repeated
        print(f"\n{len(schema)} migration statements, each run once; versions 1..{len(versions)}")
    finally:
        for node in nodes:
            if node:
                node.stop()
        redis.stop()
