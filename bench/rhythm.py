#!/usr/bin/env python3
"""Warming by the clock and warm restart, measured on a compressed week (docs/BENCHMARKS.md).

A shop's week is played against the real server with an hour of it lasting --hour-ms of real
time (the server runs with the same --rhythm-hour-ms). Each day has two busy periods (09:00-11:00
and 17:00-19:00 on the shop's clock); each busy hour reads its own dozen products and a products
page (a breakfast rush is not an evening one), from four tills at once; the other hours read a
product now and then. Entries live two hours of the shop's clock (--cache-ttl), so last week's
reads are not in the cache when the hour comes again: what the cache holds at an hour's start
is what warming put there. The first week teaches; the second is measured, with the clock's
warming on and then off (--warm-ahead-minutes 0), each on a fresh server and database:

  first reads: of each busy hour, the first read of each key, and how many were hits;
  warming's loads: entries the clock's warming loaded, against the busy hours' database loads
  (their misses) without it.

Then a warm restart: a steady Zipf read mix, a clean stop, a start, and the hit rate of the
first --restart-reads reads after it, with the hot keys warmed and with --hot-keys off.

Usage: bench/rhythm.py [--bin build/tajir] [--hour-ms 400] [--weeks 2]
Bounded: every loop ends with its week; no request waits more than 10 s.
"""
import argparse
import datetime
import http.client
import json
import math
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zoneinfo

PASSWORD = "tajir-demo-2026"
BUSY = (9, 10, 17, 18)  # hours of the day, on the shop's clock
TILLS = 4


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    def __init__(self, port, token=None):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        self.token = token

    def request(self, method, path, body=None):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if body is not None:
            headers["Content-Type"] = "application/json"
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=json.dumps(body) if body is not None else None,
                                  headers=headers)
                r = self.conn.getresponse()
                return r.status, r.getheader("X-Cache"), r.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()  # an idle connection the server closed: once more
                if attempt:
                    raise


class Server:
    def __init__(self, binary, db, args):
        self.port = free_port()
        self.proc = subprocess.Popen([binary, "serve", "--db", db, "--port", str(self.port),
                                      "--access-log", "off", "--log-level", "warn", "--admin-token", "rhythm-bench-operator-token"]
                                     + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while time.time() < deadline and self.proc.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("the server did not start")

    def metric(self, name):
        text = Client(self.port).request("GET", "/metrics")[2].decode()
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[-1])
        return 0.0

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        self.proc.wait(timeout=60)


def login(port, username):
    status, _, body = Client(port).request("POST", "/api/auth/login", {"username": username, "password": PASSWORD})
    assert status == 200, body
    return json.loads(body)["token"]


def shop_clock(port, token):
    """The shop's time zone."""
    zone = json.loads(Client(port, token).request("GET", "/api/shop")[2])["timezone"]
    return zoneinfo.ZoneInfo(zone)


def hour_of(real_s, hour_ms, zone):
    """The shop's (day of week, Monday 0; hour of day) at real time real_s, as the server reckons
    it: the compressed instant plus the zone's offset now (ShopRhythm)."""
    offset = zone.utcoffset(datetime.datetime.fromtimestamp(real_s, tz=datetime.timezone.utc))
    local_ms = int(real_s * 1000) * (3_600_000 // hour_ms) + int(offset.total_seconds() * 1000)
    hours = local_ms // 3_600_000
    return (hours // 24 + 3) % 7, hours % 24  # 1970-01-01 was a Thursday


def keys_of(day, hour, products):
    """What a busy hour reads: its own dozen products and one products page."""
    rng = random.Random(day * 24 + hour)
    return [f"/api/products/{p}" for p in rng.sample(products, 12)] + [f"/api/products?page={2 + hour % 5}&per_page=20"]


def play_week(port, tokens, products, hour_ms, zone, start_s, measure):
    """Plays one week from real time start_s; returns the first reads of busy hours (hits, all)."""
    hour_s = hour_ms / 1000
    end_s = start_s + 168 * hour_s
    first = {}  # (hour index, key) -> X-Cache of its first read
    lock = threading.Lock()
    misses_busy = [0]

    def till(i):
        c = Client(port, tokens[i % len(tokens)])
        rng = random.Random(i)
        while True:
            now = time.time()
            if now >= end_s:
                return
            index = math.floor(now / hour_s)
            day, hour = hour_of(now, hour_ms, zone)
            if hour in BUSY:
                keys = keys_of(day, hour, products)
                key = keys[min(int(rng.paretovariate(1.2)) - 1, len(keys) - 1)]
                _, cache, _ = c.request("GET", key)
                with lock:
                    if (index, key) not in first:
                        first[(index, key)] = cache
                    if cache == "MISS":
                        misses_busy[0] += 1
                time.sleep(0.002)
            else:
                c.request("GET", f"/api/products/{rng.choice(products)}")
                time.sleep(hour_s / 4)

    threads = [threading.Thread(target=till, args=(i,)) for i in range(TILLS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if not measure:
        return None
    hits = sum(1 for v in first.values() if v == "HIT")
    return hits, len(first), misses_busy[0]


def seed(binary, directory, products):
    db = f"sqlite:{directory}/tajir.db"
    subprocess.run([binary, "seed", "--db", db, "--shops", "1", "--products", str(products),
                    "--customers", "20", "--bills", "0"], check=True, capture_output=True)
    return db


def clock_arm(binary, hour_ms, weeks, warm_ahead):
    directory = tempfile.mkdtemp(prefix="tajir-rhythm-")
    try:
        db = seed(binary, directory, 2000)
        server = Server(binary, db, ["--rhythm-hour-ms", str(hour_ms), "--warm-ahead-minutes", str(warm_ahead),
                                     "--cache-ttl", str(max(1, 2 * hour_ms // 1000)), "--refill", "false",
                                     "--hot-keys", "off", "--warm-user-keys", "0"])
        try:
            tokens = [login(server.port, "owner1"), login(server.port, "cashier1")]
            zone = shop_clock(server.port, tokens[0])
            page = json.loads(Client(server.port, tokens[0]).request("GET", "/api/products?per_page=200")[2])
            products = [p["id"] for p in page["items"]]
            start = (math.floor(time.time() / (hour_ms / 1000)) + 1) * hour_ms / 1000
            time.sleep(max(0.0, start - time.time()))
            result = None
            for w in range(weeks):
                measure = w == weeks - 1
                before = server.metric('tajir_cache_warmed_total{cause="clock"}')
                r = play_week(server.port, tokens, products, hour_ms, zone, start + w * 168 * hour_ms / 1000, measure)
                if measure:
                    result = r + (server.metric('tajir_cache_warmed_total{cause="clock"}') - before,)
            return result
        finally:
            server.stop()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def restart_arm(binary, hot_keys, reads):
    directory = tempfile.mkdtemp(prefix="tajir-restart-")
    try:
        db = seed(binary, directory, 5000)
        args = ["--refill", "false", "--hot-keys", hot_keys if hot_keys == "off" else f"{directory}/hot"]
        rng = random.Random(7)

        def mix(server, n):
            c = Client(server.port, login(server.port, "owner1"))
            hits = 0
            for _ in range(n):
                rank = min(int(rng.paretovariate(0.8)), 3000)
                target = f"/api/products/{rank}" if rank % 4 else f"/api/products?page={1 + rank % 40}&per_page=20"
                _, cache, _ = c.request("GET", target)
                hits += cache == "HIT"
            return hits

        server = Server(binary, db, args)
        try:
            mix(server, 20_000)
        finally:
            server.stop()  # a clean stop writes the hot keys
        server = Server(binary, db, args)
        try:
            return mix(server, reads)
        finally:
            server.stop()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/tajir")
    ap.add_argument("--hour-ms", type=int, default=400)
    ap.add_argument("--weeks", type=int, default=2)
    ap.add_argument("--restart-reads", type=int, default=2000)
    a = ap.parse_args()
    if 3_600_000 % a.hour_ms:
        raise SystemExit("--hour-ms must divide 3600000")
    print(f"# compressed week: an hour is {a.hour_ms} ms, {a.weeks} weeks per arm, the last measured")
    on = clock_arm(a.bin, a.hour_ms, a.weeks, 10)
    off = clock_arm(a.bin, a.hour_ms, a.weeks, 0)
    for name, (hits, firsts, misses, warmed) in (("clock warming on", on), ("clock warming off", off)):
        print(f"{name}: first reads of busy hours {hits}/{firsts} hits ({hits / max(firsts, 1):.1%}); "
              f"busy-hour misses {misses}; entries the clock loaded {warmed:.0f}")
    print(f"warming's loads / busy-hour database loads without it: {on[3] / max(off[2], 1):.1%}")
    hot = restart_arm(a.bin, "file", a.restart_reads)
    cold = restart_arm(a.bin, "off", a.restart_reads)
    print(f"first {a.restart_reads} reads after a restart: warm restart {hot} hits ({hot / a.restart_reads:.1%}), "
          f"cold {cold} ({cold / a.restart_reads:.1%}); misses {a.restart_reads - hot} against "
          f"{a.restart_reads - cold} ({(a.restart_reads - hot) / max(a.restart_reads - cold, 1):.2f}x)")


if __name__ == "__main__":
    main()
