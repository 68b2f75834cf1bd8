"""No answer about a committed write outruns that write's invalidation.

The server is started with --invalidation-delay-ms, which makes every write wait between its
commit and its invalidation: the window in which a second request (a double tap with the same
Idempotency-Key, a second void) used to be told the write was done while the cache still
served what it replaced.
"""
import threading
import time

import pytest

from conftest import Server

DELAY_MS = 1500


@pytest.fixture
def slow_server(db_url):
    s = Server(db_url, ["--warm", "false", "--refill", "false", "--invalidation-delay-ms", str(DELAY_MS)])
    yield s
    s.stop()


def in_background(fn):
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("reply", fn()))
    t.start()
    return t, out


def test_a_replayed_bill_answers_after_the_first_ones_invalidation(slow_server):
    s = slow_server
    token, _ = s.register()
    p = s.post("/api/products", {"name": "Tea", "sku": "T", "price": 100, "stock": 10}, token).json
    path = f"/api/products/{p['id']}"
    assert s.get(path, token).json["stock"] == 10
    assert s.get(path, token).headers["X-Cache"] == "HIT"
    bill = {"items": [{"product_id": p["id"], "quantity": 3}], "payment_method": "cash"}
    key = {"Idempotency-Key": "double-tap-1"}

    first, out = in_background(lambda: s.post("/api/bills", bill, token, headers=key))
    time.sleep(DELAY_MS / 3000)  # the first has committed and is waiting to invalidate
    retry = s.post("/api/bills", bill, token, headers=key)
    assert retry.status == 200, retry.text
    seen = s.get(path, token)  # what the retrying till reads next
    first.join()
    assert out["reply"].status == 201
    assert retry.json["id"] == out["reply"].json["id"]
    assert seen.json["stock"] == 7, "a read after the replay's answer showed the stock before the bill"


def test_a_second_void_answers_after_the_first_ones_invalidation(slow_server):
    s = slow_server
    token, _ = s.register()
    p = s.post("/api/products", {"name": "Tea", "sku": "T", "price": 100, "stock": 10}, token).json
    b = s.post("/api/bills", {"items": [{"product_id": p["id"], "quantity": 2}], "payment_method": "cash"},
               token).json
    assert s.get(f"/api/bills/{b['id']}", token).json["status"] == "paid"
    assert s.get(f"/api/bills/{b['id']}", token).headers["X-Cache"] == "HIT"

    first, out = in_background(lambda: s.post(f"/api/bills/{b['id']}/void", None, token))
    time.sleep(DELAY_MS / 3000)
    second = s.post(f"/api/bills/{b['id']}/void", None, token)
    assert second.status == 409, second.text
    seen = s.get(f"/api/bills/{b['id']}", token)
    first.join()
    assert out["reply"].status == 200
    assert seen.json["status"] == "void", "a read after the 409 showed the bill still paid"
