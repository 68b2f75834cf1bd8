"""Bills: totals, stock, idempotency, voids, concurrency, what a cashier may do, dates, the
dashboard."""
import datetime
import threading
import time

import sql


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


def test_idempotency_key_reused_for_another_cart_answers_422(server):
    token, _, p = setup_shop(server, stock=10)
    key = {"Idempotency-Key": "till-1-0002"}
    first = server.post("/api/bills", {"items": [{"product_id": p["id"], "quantity": 2}], "payment_method": "card"},
                        token, headers=key)
    assert first.status == 201
    # The same request in other words: key order, whitespace, a default spelled out.
    same = ('{ "payment_method" : "card", "discount": 0,\n "items": [ {"quantity": 2, "product_id": %d} ] }'
            % p["id"]).encode()
    again = server.post("/api/bills", token=token, raw=same, headers=key)
    assert again.status == 200 and again.json["id"] == first.json["id"]
    other = server.post("/api/bills", {"items": [{"product_id": p["id"], "quantity": 3}], "payment_method": "card"},
                        token, headers=key)
    assert other.status == 422, other.text
    assert other.error()["code"] == "idempotency_key_reused" and other.error()["field"] == "Idempotency-Key"
    assert server.get(f"/api/products/{p['id']}", token).json["stock"] == 8
    assert server.get("/api/bills", token).json["total"] == 1
    # Keys belong to a shop: another shop may use the same one.
    token_b, _, p_b = setup_shop(server, stock=10)
    r = server.post("/api/bills", {"items": [{"product_id": p_b["id"], "quantity": 1}], "payment_method": "card"},
                    token_b, headers=key)
    assert r.status == 201 and r.json["id"] != first.json["id"]


def test_idempotency_key_raced_by_two_carts(server):
    token, _, p = setup_shop(server, stock=100)
    carts = [{"items": [{"product_id": p["id"], "quantity": q}], "payment_method": "cash"} for q in (1, 2)]
    results = []
    barrier = threading.Barrier(8)

    def till(i):
        barrier.wait()
        r = server.post("/api/bills", carts[i % 2], token, headers={"Idempotency-Key": "raced"})
        results.append((i % 2, r.status, r.json))

    threads = [threading.Thread(target=till, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    created = [(cart, body) for cart, status, body in results if status == 201]
    assert len(created) == 1, results
    winner, bill_made = created[0]
    for cart, status, body in results:
        if status == 201:
            continue
        if cart == winner:
            assert status == 200 and body["id"] == bill_made["id"], (cart, status, body)
        else:
            assert status == 422 and body["error"]["code"] == "idempotency_key_reused", (cart, status, body)
    assert server.get(f"/api/products/{p['id']}", token).json["stock"] == 100 - (1 + winner)


def cashier_of(server, owner, name="Cara", username=None):
    username = username or f"cashier{time.monotonic_ns()}"
    e = server.post("/api/employees", {"name": name, "username": username, "password": "cashier-pass"}, owner)
    assert e.status == 201, e.text
    login = server.post("/api/auth/login", {"username": username, "password": "cashier-pass"})
    return login.json["token"], e.json


def test_a_cashier_cannot_set_prices_or_who_sold(server):
    owner, _, p = setup_shop(server, stock=100, price=1000)
    cashier, me = cashier_of(server, owner)
    _, other = cashier_of(server, owner, name="Omar")
    line = {"product_id": p["id"], "quantity": 1}
    r = bill(server, cashier, [line])
    assert r.status == 201 and r.json["employee_id"] == me["id"]
    assert bill(server, cashier, [line], employee_id=me["id"]).status == 201
    cases = [
        ([dict(line, unit_price=0)], {}, "items[0].unit_price"),
        ([dict(line, unit_price=999)], {}, "items[0].unit_price"),
        ([line], {"discount": 1}, "discount"),
        ([line], {"employee_id": other["id"]}, "employee_id"),
    ]
    for items, extra, field in cases:
        r = bill(server, cashier, items, **extra)
        assert r.status == 403 and r.error()["field"] == field, (items, extra, r.text)
    assert bill(server, cashier, [dict(line, unit_price=1200)]).status == 201  # above the price: fine
    assert server.get(f"/api/products/{p['id']}", owner).json["stock"] == 97
    # The owner may do all of it.
    r = bill(server, owner, [dict(line, unit_price=0)], discount=0, employee_id=other["id"])
    assert r.status == 201 and r.json["employee_id"] == other["id"]
    assert bill(server, owner, [line], discount=1000).status == 201


def test_the_shop_sets_the_discount_a_cashier_may_give(server):
    owner, user, p = setup_shop(server, stock=100, price=1000)
    cashier, _ = cashier_of(server, owner)
    assert server.get("/api/shop", owner).json["cashier_discount_limit_bp"] == 0
    r = server.put("/api/shop", {"cashier_discount_limit_bp": 1000}, owner)
    assert r.status == 200 and r.json["cashier_discount_limit_bp"] == 1000
    assert server.get("/api/shop", cashier).json["cashier_discount_limit_bp"] == 1000
    assert server.put("/api/shop", {"cashier_discount_limit_bp": 10001}, owner).error()["field"] == "cashier_discount_limit_bp"
    assert server.put("/api/shop", {"cashier_discount_limit_bp": 0}, cashier).status == 403
    line = {"product_id": p["id"], "quantity": 2}  # subtotal 2000: 10% is 200
    assert bill(server, cashier, [line], discount=200).status == 201
    r = bill(server, cashier, [line], discount=201)
    assert r.status == 403 and r.error()["field"] == "discount"


def dated_shop(server):
    """A shop whose local date is not today's UTC date, so a date means another instant there."""
    token, _, p = setup_shop(server, stock=100)
    hour = datetime.datetime.now(datetime.timezone.utc).hour
    zone, offset = ("Etc/GMT-14", 14) if hour >= 10 else ("Etc/GMT+12", -12)
    assert server.put("/api/shop", {"timezone": zone}, token).status == 200
    local = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=offset)).date()
    return token, p, local


def test_date_filters_use_the_shops_midnight(server):
    token, p, today = dated_shop(server)
    made = bill(server, token, [{"product_id": p["id"], "quantity": 1}]).json
    day = datetime.timedelta(days=1)
    listed = server.get(f"/api/bills?from={today}&to={today + day}", token).json
    assert [b["id"] for b in listed["items"]] == [made["id"]]
    assert server.get(f"/api/bills?from={today - day}&to={today}", token).json["total"] == 0
    assert server.get(f"/api/bills?from={today + day}", token).json["total"] == 0
    # A new time zone moves the days, cached lists too.
    assert server.put("/api/shop", {"timezone": "UTC"}, token).status == 200
    assert server.get(f"/api/bills?from={today}&to={today + day}", token).json["total"] == 0


def test_bills_list_in_number_order(server, db_url):
    token, user, p = setup_shop(server, stock=100)
    made = [bill(server, token, [{"product_id": p["id"], "quantity": 1}]).json for _ in range(3)]
    # Two tills in one millisecond, or the later number with the earlier clock: the number rules.
    sql.run(db_url, f"UPDATE bills SET created_at = created_at - 5000 WHERE id = {made[1]['id']}")
    listed = server.get("/api/bills", token).json["items"]
    assert [b["number"] for b in listed] == [3, 2, 1]


def test_concurrent_bills_are_timed_in_number_order(server):
    token, _, p = setup_shop(server, stock=1000)
    barrier = threading.Barrier(8)

    def till():
        barrier.wait()
        for _ in range(5):
            assert bill(server, token, [{"product_id": p["id"], "quantity": 1}]).status == 201

    threads = [threading.Thread(target=till) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    listed = server.get("/api/bills?per_page=100", token).json["items"]
    assert [b["number"] for b in listed] == list(range(40, 0, -1))
    times = [b["created_at"] for b in listed]
    assert times == sorted(times, reverse=True)
