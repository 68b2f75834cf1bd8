"""The database's storage fails under a running server: the disk fills up, the database file is
read-only, PostgreSQL stops. Writes answer 503 with an error that says which, reads keep being
answered, nothing is half-written, and once the fault is gone writes work again without a
restart of tajir.

Filling a disk and making a file read-only need mounts (a small tmpfs, a read-only bind mount
of the database file): these tests run as root (as CI does) and are skipped, saying why, where
mounting is not permitted.
"""
import errno
import os
import subprocess
import time

import pytest

from conftest import Postgres, Server

STOCK = 1_000_000
NOTES = "n" * 2000  # the longest notes a bill takes: fills the disk sooner


def mount(*argv):
    """Runs mount(8); skips the test when this process may not mount."""
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs or a read-only bind mount (CI runs as root)")
    r = subprocess.run(["mount", *argv], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"mount {' '.join(argv)} is not permitted here: {r.stderr.strip()}")


def umount(path):
    subprocess.run(["umount", path], capture_output=True)


class Shop:
    """A shop with one product and the bills it got acknowledged."""

    def __init__(self, server):
        self.server = server
        self.token, _ = server.register()
        r = server.post("/api/products", {"name": "Tea", "sku": "T", "price": 250, "stock": STOCK}, self.token)
        assert r.status == 201, r.text
        self.product = r.json["id"]
        self.acked = {}  # bill id -> quantity
        self.sent = 0

    def bill(self, key=None, quantity=1):
        """Posts one bill with an Idempotency-Key; returns (reply, key)."""
        if key is None:
            self.sent += 1
            key = f"till-{self.sent}"
        r = self.server.post("/api/bills", {"items": [{"product_id": self.product, "quantity": quantity}],
                                            "payment_method": "cash", "notes": NOTES},
                             self.token, headers={"Idempotency-Key": key})
        if r.status == 201:
            self.acked[r.json["id"]] = quantity
        return r, key

    def check_books(self):
        """Every acknowledged bill is there and nothing else; numbers have no gap; the stock is the
        initial stock minus what the bills sold."""
        bills, page = [], 1
        while True:
            r = self.server.get(f"/api/bills?per_page=200&page={page}", self.token)
            assert r.status == 200, r.text
            bills += r.json["items"]
            if page * 200 >= r.json["total"]:
                break
            page += 1
        assert {b["id"]: b["items"][0]["quantity"] for b in bills} == self.acked
        assert sorted(b["number"] for b in bills) == list(range(1, len(bills) + 1))
        stock = self.server.get(f"/api/products/{self.product}", self.token).json["stock"]
        assert stock == STOCK - sum(self.acked.values())


def assert_unavailable(reply, code, words):
    assert reply.status == 503, reply.text
    error = reply.error()
    assert error is not None and error["code"] == code, reply.text
    assert words in error["message"], reply.text


def assert_reads_are_served(shop, bill_id):
    """Reads answer 200, one of them certainly from the database (a page not read before)."""
    s, t = shop.server, shop.token
    for path in (f"/api/products/{shop.product}", f"/api/bills/{bill_id}", "/api/dashboard", "/api/shop"):
        r = s.get(path, t)
        assert r.status == 200, (path, r.text)
    r = s.get(f"/api/bills?per_page=7&page=1", t)
    assert r.status == 200 and r.headers.get("X-Cache") == "MISS", r.text
    assert s.get("/healthz").status == 200


def fill(path):
    """Writes a file until the file system has no room left; returns its path."""
    filler = os.path.join(path, "filler")
    chunk = b"\0" * 65536
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(chunk)
                f.flush()
        except OSError as e:
            assert e.errno == errno.ENOSPC, e
    return filler


def test_a_full_disk_refuses_writes_with_503_serves_reads_and_recovers(tmp_path):
    disk = str(tmp_path / "disk")
    os.mkdir(disk)
    mount("-t", "tmpfs", "-o", "size=24m", "tmpfs", disk)
    server = None
    try:
        server = Server(f"sqlite:{disk}/tajir.db")
        shop = Shop(server)
        for _ in range(20):
            assert shop.bill()[0].status == 201
        filler = fill(disk)

        # Bills until the database cannot grow: its WAL had some room left.
        deadline = time.time() + 60
        while time.time() < deadline and shop.sent < 5000:
            refused, key = shop.bill()
            if refused.status != 201:
                break
        else:
            pytest.fail("bills kept being stored on a full disk")
        assert_unavailable(refused, "storage_full", "disk is full")
        assert_unavailable(server.post("/api/products", {"name": "Jam", "sku": "J", "price": 1}, shop.token),
                           "storage_full", "disk is full")
        assert_reads_are_served(shop, next(iter(shop.acked)))
        shop.check_books()  # the refused bill left nothing behind

        os.remove(filler)
        retried, _ = shop.bill(key)  # the till sends its refused bill again
        assert retried.status == 201, retried.text
        for _ in range(20):
            assert shop.bill()[0].status == 201
        shop.check_books()
        assert server.proc.poll() is None
    finally:
        if server:
            server.stop()
        umount(disk)


def test_a_read_only_database_file_refuses_writes_with_503_serves_reads_and_recovers(tmp_path):
    # Linux keeps a file open for writing writable whatever happens to its mount afterwards (a
    # remount read-only is refused as busy), so the server meets a read-only database when it
    # opens it: it is restarted on a file bind-mounted read-only.
    path = str(tmp_path / "tajir.db")
    server = Server(f"sqlite:{path}")
    shop = Shop(server)
    for _ in range(5):
        assert shop.bill()[0].status == 201
    server.stop()

    mount("--bind", path, path)
    try:
        mount("-o", "remount,bind,ro", path)
        server.start()
        refused, key = shop.bill()
        assert_unavailable(refused, "database_read_only", "read-only")
        assert_reads_are_served(shop, next(iter(shop.acked)))
        shop.check_books()

        mount("-o", "remount,bind,rw", path)
        retried, _ = shop.bill(key)
        assert retried.status == 201, retried.text
        assert shop.bill()[0].status == 201
        shop.check_books()
    finally:
        server.stop()
        umount(path)


def test_postgres_stopped_refuses_with_503_and_tajir_recovers_when_it_is_back():
    pg = Postgres()  # its own cluster: the session's is shared by other tests
    server = None
    try:
        server = Server(pg.new_database())
        shop = Shop(server)
        for _ in range(5):
            assert shop.bill()[0].status == 201
        bill_id = next(iter(shop.acked))
        assert server.get(f"/api/bills/{bill_id}", shop.token).status == 200  # now cached

        pg.ctl("stop", "-m", "fast")
        refused, key = shop.bill()
        assert_unavailable(refused, "database_unavailable", "cannot be reached")
        # What the cache holds is still answered; what it does not is a 503, and so is /healthz.
        assert server.get(f"/api/bills/{bill_id}", shop.token).status == 200
        assert_unavailable(server.get("/api/bills?per_page=7", shop.token), "database_unavailable",
                           "cannot be reached")
        health = server.get("/healthz")
        assert (health.status, health.json["status"], health.json["db"]) == (503, "down", "down")
        assert health.headers.get("Retry-After") == "1"  # a balancer knows when to ask again
        assert server.proc.poll() is None

        pg.ctl("start")
        retried, _ = shop.bill(key)
        assert retried.status == 201, retried.text
        assert server.get("/healthz").status == 200
        shop.check_books()
    finally:
        if server:
            server.stop()
        pg.stop()
