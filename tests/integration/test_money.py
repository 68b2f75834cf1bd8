"""Money never wraps: amounts past the server's limits answer 400 naming the field, and no input
makes the dashboard or a customer unreadable."""
import sql

MAX_MONEY = 10**12
MAX_QUANTITY = 10**6
MAX_SUBTOTAL = 10**14
MAX_SHOP_VOLUME = 10**18


def bill(server, token, items, **extra):
    body = {"items": items, "payment_method": "cash"}
    body.update(extra)
    return server.post("/api/bills", body, token)


def big_shop(server):
    token, user = server.register()
    p = server.post("/api/products", {"name": "Gold", "sku": "G", "price": MAX_MONEY, "stock": 10**9}, token)
    assert p.status == 201, p.text
    tea = server.post("/api/products", {"name": "Tea", "sku": "T", "price": 1000, "stock": 100}, token).json
    return token, user, p.json, tea


def test_bills_past_the_limits_answer_400_and_store_nothing(server):
    token, _, gold, tea = big_shop(server)
    c = server.post("/api/customers", {"name": "Dan"}, token).json
    line = {"product_id": gold["id"], "quantity": MAX_QUANTITY}
    # 20 lines wrapped to a positive subtotal, 10 to a negative one, 9 fitted but broke the sums.
    for n in (20, 10, 9):
        r = bill(server, token, [line] * n, customer_id=c["id"])
        assert r.status == 400, (n, r.text)
        assert r.error()["code"] == "invalid_argument" and r.error()["field"] == "items[0]", (n, r.text)
    # The cashier's negative tax: 4 lines of 300 at 10^12 with a 100% tax.
    r = bill(server, token, [{"product_id": gold["id"], "quantity": 300, "unit_price": MAX_MONEY}] * 4,
             tax_rate_bp=10000)
    assert r.status == 400 and r.error()["field"] == "items[0]", r.text
    # Lines that fit alone but not together.
    r = bill(server, token, [{"product_id": gold["id"], "quantity": 60}] * 2)
    assert r.status == 400 and r.error()["field"] == "items", r.text
    assert server.get("/api/bills", token).json["total"] == 0
    assert server.get(f"/api/products/{gold['id']}", token).json["stock"] == 10**9

    small = bill(server, token, [{"product_id": tea["id"], "quantity": 1}], customer_id=c["id"])
    assert small.status == 201
    d = server.get("/api/dashboard", token)
    assert d.status == 200, d.text
    assert d.json["revenue"]["all_time"] == small.json["total"] == 1000
    cust = server.get(f"/api/customers/{c['id']}", token)
    assert cust.status == 200 and cust.json["total_spent"] == 1000 and cust.json["bill_count"] == 1


def test_the_largest_bill_is_exact(server):
    token, _, gold, _ = big_shop(server)
    c = server.post("/api/customers", {"name": "Dan"}, token).json
    r = bill(server, token, [{"product_id": gold["id"], "quantity": 100}], tax_rate_bp=10000, customer_id=c["id"])
    assert r.status == 201, r.text
    b = r.json
    assert b["subtotal"] == MAX_SUBTOTAL and b["tax"] == MAX_SUBTOTAL and b["total"] == 2 * MAX_SUBTOTAL
    assert b["items"][0]["line_total"] == MAX_SUBTOTAL
    again = bill(server, token, [{"product_id": gold["id"], "quantity": 100}], tax_rate_bp=10000, customer_id=c["id"])
    assert again.status == 201
    d = server.get("/api/dashboard", token).json
    assert d["revenue"]["all_time"] == 4 * MAX_SUBTOTAL and d["average_bill"] == 2 * MAX_SUBTOTAL
    assert d["top_products"][0]["revenue"] == 2 * MAX_SUBTOTAL
    assert server.get(f"/api/customers/{c['id']}", token).json["total_spent"] == 4 * MAX_SUBTOTAL


def test_a_shops_paid_volume_has_a_limit_that_voids_give_back(server, db_url):
    token, user, _, tea = big_shop(server)
    first = bill(server, token, [{"product_id": tea["id"], "quantity": 1}]).json
    # A lifetime of sales, near the limit: the shop row keeps the sum the dashboard can reach.
    sql.run(db_url, f"UPDATE shops SET paid_volume = {MAX_SHOP_VOLUME - 1500} WHERE id = {user['shop_id']}")
    r = bill(server, token, [{"product_id": tea["id"], "quantity": 2}])
    assert r.status == 400 and r.error()["field"] == "items", r.text
    assert server.get(f"/api/products/{tea['id']}", token).json["stock"] == 99
    assert server.post(f"/api/bills/{first['id']}/void", token=token).status == 200
    r = bill(server, token, [{"product_id": tea["id"], "quantity": 2}])
    assert r.status == 201, r.text
    assert sql.run(db_url, f"SELECT paid_volume FROM shops WHERE id = {user['shop_id']}") == [
        [MAX_SHOP_VOLUME - 500 if db_url.startswith("sqlite:") else str(MAX_SHOP_VOLUME - 500)]]
    assert server.get("/api/dashboard", token).status == 200
