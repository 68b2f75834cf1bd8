"""Nothing acknowledged is lost when the server is killed with SIGKILL mid-stream."""
import signal
import threading
import time

from conftest import Server


def test_kill_9_during_a_stream_of_bills(db_url):
    server = Server(db_url)
    token, _ = server.register()
    p = server.post("/api/products", {"name": "Tea", "sku": "T", "price": 250, "stock": 100000}, token).json
    acked = []
    stop = threading.Event()

    def till(n):
        while not stop.is_set():
            try:
                r = server.post("/api/bills", {"items": [{"product_id": p["id"], "quantity": 1 + n}],
                                               "payment_method": "cash"}, token)
            except OSError:
                return  # the server is gone
            if r.status == 201:
                acked.append((r.json["id"], 1 + n))

    tills = [threading.Thread(target=till, args=(n,)) for n in range(3)]
    for t in tills:
        t.start()
    deadline = time.time() + 20
    while len(acked) < 60 and time.time() < deadline:
        time.sleep(0.05)
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait()
    stop.set()
    for t in tills:
        t.join()
    assert len(acked) >= 60, "the tills made progress before the kill"

    server.start()  # same database
    try:
        for bill_id, qty in acked:
            r = server.get(f"/api/bills/{bill_id}", token)
            assert r.status == 200, f"acknowledged bill {bill_id} lost"
            assert r.json["items"][0]["quantity"] == qty
        bills = server.get("/api/bills?per_page=200", token).json
        sold = 0
        page = 1
        while True:
            listing = server.get(f"/api/bills?per_page=200&page={page}", token).json
            sold += sum(i["quantity"] for b in listing["items"] for i in b["items"])
            if page * 200 >= listing["total"]:
                break
            page += 1
        assert bills["total"] >= len(acked)
        assert server.get(f"/api/products/{p['id']}", token).json["stock"] == 100000 - sold, \
            "stock agrees with the bills that exist"
    finally:
        server.stop()
