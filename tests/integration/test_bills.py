"""Bills: totals, stock, idempotency, voids, concurrency, the dashboard."""
import threading
import datetime


def setup_shop(server, stock=10, price=1000):
    token, user = server.register()
    p = server.post("/api/products", {"name": "Tea", "sku": "T", "price": price, "stock": stock,
                                      "low_stock_threshold": 2}, token).json
    return token, user, p


def bill(server, token, items, **extra):
    body = {"items": items, "payment_method": "cash"}
    body.update(extra)
    return server.post("/api/bills", body, token)


def test_bill_totals_and_stock(server):
    token, _, p = setup_shop(server, stock=10, price=1000)
    q = server.post("/api/products", {"name": "Dates", "sku": "D", "price": 333, "stock": 5}, token).json
    c = server.post("/api/customers", {"name": "Dan"}, token).json
    r = bill(server, token, [{"product_id": p["id"], "quantity": 2}, {"product_id": q["id"], "quantity": 3, "unit_price": 300}],
             discount=150, tax_rate_bp=500, customer_id=c["id"], notes="first")
    assert r.status == 201, r.text
    b = r.json
    assert b["number"] == 1 and b["status"] == "paid"
    assert b["subtotal"] == 2900 and b["discount"] == 150
    assert b["tax"] == round((2900 - 150) * 500 / 10000) == 138 and b["total"] == 2900 - 150 + 138
    assert [i["line_total"] for i in b["items"]] == [2000, 900] and b["items"][0]["name"] == "Tea"
    assert server.get(f"/api/products/{p['id']}", token).json["stock"] == 8
    assert server.get(f"/api/products/{q['id']}", token).json["stock"] == 2
    cust = server.get(f"/api/customers/{c['id']}", token).json
    assert cust["bill_count"] == 1 and cust["total_spent"] == b["total"]
    assert bill(server, token, [{"product_id": p["id"], "quantity": 1}]).json["number"] == 2
    assert server.get(f"/api/bills/{b['id']}", token).json == b


def test_bill_rejections_change_nothing(server):
    token, _, p = setup_shop(server, stock=3)
    cases = [
        ([{"product_id": p["id"], "quantity": 4}], {}, 409, "items[0].quantity"),
        ([{"product_id": p["id"], "quantity": 1}], {"discount": 5000}, 400, "discount"),
        ([{"product_id": p["id"], "quantity": 0}], {}, 400, "items[0].quantity"),
        ([{"product_id": "7", "quantity": 1}], {}, 400, "items[0].product_id"),
        ([{"product_id": 99999, "quantity": 1}], {}, 404, "items[0].product_id"),
        ([], {}, 400, "items"),
        ([{"product_id": p["id"], "quantity": 1}], {"payment_method": "bitcoin"}, 400, "payment_method"),
        ([{"product_id": p["id"], "quantity": 1}], {"tax_rate_bp": 20000}, 400, "tax_rate_bp"),
        ([{"product_id": p["id"], "quantity": 1}], {"customer_id": 424242}, 404, "customer_id"),
    ]
    for items, extra, status, field in cases:
        r = bill(server, token, items, **extra)
        assert r.status == status and r.error()["field"] == field, (items, extra, r.text)
    assert bill(server, token, [{"product_id": p["id"], "quantity": 4}]).error()["code"] == "insufficient_stock"
    # Two lines of one product that fit separately but not together: all or nothing.
    r = bill(server, token, [{"product_id": p["id"], "quantity": 2}, {"product_id": p["id"], "quantity": 2}])
    assert r.status == 409
    assert server.get(f"/api/products/{p['id']}", token).json["stock"] == 3
    assert server.get("/api/bills", token).json["total"] == 0
    server.put(f"/api/products/{p['id']}", {"active": False}, token)
    assert bill(server, token, [{"product_id": p["id"], "quantity": 1}]).status == 409


def test_idempotency_key(server):
    token, _, p = setup_shop(server, stock=10)
    first = server.post("/api/bills", {"items": [{"product_id": p["id"], "quantity": 2}], "payment_method": "card"},
                        token, headers={"Idempotency-Key": "till-1-0001"})
    assert first.status == 201
    again = server.post("/api/bills", {"items": [{"product_id": p["id"], "quantity": 2}], "payment_method": "card"}, token,
                        headers={"Idempotency-Key": "till-1-0001"})
    assert again.status == 200 and again.json["id"] == first.json["id"]
    assert server.get(f"/api/products/{p['id']}", token).json["stock"] == 8
    assert server.get("/api/bills", token).json["total"] == 1


def test_void_restores_stock_once(server):
    token, _, p = setup_shop(server, stock=5)
    c = server.post("/api/customers", {"name": "Dan"}, token).json
    b = bill(server, token, [{"product_id": p["id"], "quantity": 3}], customer_id=c["id"]).json
    r = server.post(f"/api/bills/{b['id']}/void", token=token)
    assert r.status == 200 and r.json["status"] == "void"
    assert server.get(f"/api/products/{p['id']}", token).json["stock"] == 5
    cust = server.get(f"/api/customers/{c['id']}", token).json
    assert cust["bill_count"] == 0 and cust["total_spent"] == 0
    r = server.post(f"/api/bills/{b['id']}/void", token=token)
    assert r.status == 409
    assert server.get(f"/api/products/{p['id']}", token).json["stock"] == 5


def test_bill_list_filters(server):
    token, _, p = setup_shop(server, stock=100)
    c = server.post("/api/customers", {"name": "Dan"}, token).json
    ids = [bill(server, token, [{"product_id": p["id"], "quantity": 1}], customer_id=c["id"] if i % 2 else None).json["id"]
           for i in range(6)]
    server.post(f"/api/bills/{ids[0]}/void", token=token)
    listed = server.get("/api/bills", token).json
    assert [b["id"] for b in listed["items"]] == ids[::-1], "newest first"
    assert server.get("/api/bills?status=void", token).json["total"] == 1
    assert server.get(f"/api/bills?customer_id={c['id']}", token).json["total"] == 3
    tomorrow = (datetime.datetime.utcnow() + datetime.timedelta(days=1)).strftime("%Y-%m-%d")
    assert server.get(f"/api/bills?from={tomorrow}", token).json["total"] == 0
    assert server.get(f"/api/bills?to={tomorrow}", token).json["total"] == 6
    assert server.get("/api/bills?from=yesterday", token).error()["field"] == "from"
    assert server.get("/api/bills?status=open", token).error()["field"] == "status"


def test_two_tills_race_for_the_last_unit(server):
    token, _, p = setup_shop(server, stock=1)
    results = []
    barrier = threading.Barrier(8)

    def till():
        barrier.wait()
        results.append(bill(server, token, [{"product_id": p["id"], "quantity": 1}]).status)

    threads = [threading.Thread(target=till) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [201] + [409] * 7
    assert server.get(f"/api/products/{p['id']}", token).json["stock"] == 0


def test_dashboard(server):
    token, _, p = setup_shop(server, stock=50, price=1000)
    q = server.post("/api/products", {"name": "Dates", "sku": "D", "price": 500, "stock": 1, "low_stock_threshold": 5}, token).json
    totals = [bill(server, token, [{"product_id": p["id"], "quantity": n}]).json["total"] for n in (1, 2, 3)]
    voided = bill(server, token, [{"product_id": p["id"], "quantity": 4}]).json
    server.post(f"/api/bills/{voided['id']}/void", token=token)
    d = server.get("/api/dashboard", token).json
    assert d["revenue"] == {"today": 6000, "week": 6000, "month": 6000, "all_time": 6000}
    assert d["bills"] == {"today": 3, "week": 3, "month": 3, "all_time": 3}
    assert d["average_bill"] == 2000
    assert d["top_products"] == [{"product_id": p["id"], "name": "Tea", "quantity": 6, "revenue": 6000}]
    assert [x["id"] for x in d["low_stock"]] == [q["id"]]
    assert [b["total"] for b in d["recent_bills"]] == totals[::-1]
    assert d["generated_at"].endswith("Z")
