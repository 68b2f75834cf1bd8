"""Shop settings, products, customers and employees over HTTP."""


def test_shop_settings(server):
    token, user = server.register(shop="Souq")
    shop = server.get("/api/shop", token).json
    assert shop == {"id": user["shop_id"], "name": "Souq", "currency": "USD", "timezone": "UTC",
                    "cashier_discount_limit_bp": 0, "created_at": shop["created_at"]}
    r = server.put("/api/shop", {"currency": "AED", "timezone": "Asia/Dubai"}, token)
    assert r.status == 200 and r.json["currency"] == "AED" and r.json["timezone"] == "Asia/Dubai"
    for body, field in [({"currency": "dirham"}, "currency"), ({"timezone": "Mars/Base"}, "timezone"),
                        ({"name": ""}, "name"), ({"name": 5}, "name")]:
        r = server.put("/api/shop", body, token)
        assert r.status == 400 and r.error()["field"] == field
    assert server.get("/api/shop", token).json["timezone"] == "Asia/Dubai"


def test_product_lifecycle_and_validation(server):
    token, _ = server.register()
    r = server.post("/api/products", {"name": "Green Tea", "sku": "GT-1", "price": 1250, "cost": 700,
                                      "stock": 10, "category": "Beverages", "barcode": "6291001",
                                      "low_stock_threshold": 3}, token)
    assert r.status == 201
    p = r.json
    assert {k: p[k] for k in ["name", "sku", "price", "cost", "stock", "category", "barcode", "active"]} == {
        "name": "Green Tea", "sku": "GT-1", "price": 1250, "cost": 700, "stock": 10,
        "category": "Beverages", "barcode": "6291001", "active": True}
    assert p["created_at"].endswith("Z")
    assert server.post("/api/products", {"name": "Other", "sku": "GT-1", "price": 1}, token).status == 409

    bad = [({"sku": "A", "price": 1}, "name"), ({"name": "A", "price": 1}, "sku"), ({"name": "A", "sku": "B"}, "price"),
           ({"name": "A", "sku": "B", "price": "12"}, "price"), ({"name": "A", "sku": "B", "price": 12.5}, "price"),
           ({"name": "A", "sku": "B", "price": -1}, "price"), ({"name": "A", "sku": "B", "price": 1, "stock": -2}, "stock"),
           ({"name": "A", "sku": "B", "price": 1, "active": "yes"}, "active"),
           ({"name": "A", "sku": "B", "price": 10**30}, "price")]
    for body, field in bad:
        r = server.post("/api/products", body, token)
        assert r.status == 400 and r.error()["field"] == field, (body, r.text)
    assert server.get("/api/products", token).json["total"] == 1, "failed requests change nothing"

    r = server.put(f"/api/products/{p['id']}", {"price": 1300, "category": None}, token)
    assert r.status == 200 and r.json["price"] == 1300 and r.json["category"] is None and r.json["name"] == "Green Tea"
    assert server.get(f"/api/products/{p['id']}", token).json["price"] == 1300
    assert server.delete(f"/api/products/{p['id']}", token).status == 204
    assert server.get(f"/api/products/{p['id']}", token).status == 404


def test_product_search_filters_and_pages(server):
    token, _ = server.register()
    for i in range(12):
        server.post("/api/products", {"name": f"Item {i} {'Tea' if i % 3 == 0 else 'Soap'}", "sku": f"SKU-{i:03}",
                                      "barcode": f"629{i:04}", "price": 100 + i, "stock": i,
                                      "low_stock_threshold": 2, "category": "Tea" if i % 3 == 0 else "Home",
                                      "active": i != 11}, token)
    def ids(q):
        return [p["sku"] for p in server.get("/api/products" + q, token).json["items"]]
    assert len(ids("?q=tea")) == 4, "name substring, case-insensitive"
    assert ids("?q=SKU-01") == ["SKU-010", "SKU-011"], "sku prefix"
    assert ids("?q=6290003") == ["SKU-003"], "barcode"
    assert len(ids("?category=Tea")) == 4
    assert ids("?low_stock=true") == ["SKU-000", "SKU-001", "SKU-002"]
    assert ids("?active=false") == ["SKU-011"]
    page = server.get("/api/products?page=2&per_page=5", token).json
    assert page["page"] == 2 and page["per_page"] == 5 and page["total"] == 12 and len(page["items"]) == 5
    assert page["items"][0]["sku"] == "SKU-005"
    assert server.get("/api/products?q=%25", token).json["total"] == 0, "LIKE wildcards are literal"


def test_product_on_a_bill_is_deactivated_not_deleted(server):
    token, _ = server.register()
    p = server.post("/api/products", {"name": "Tea", "sku": "T", "price": 100, "stock": 5}, token).json
    server.post("/api/bills", {"items": [{"product_id": p["id"], "quantity": 1}], "payment_method": "cash"}, token)
    assert server.delete(f"/api/products/{p['id']}", token).status == 204
    kept = server.get(f"/api/products/{p['id']}", token)
    assert kept.status == 200 and kept.json["active"] is False


def test_customers(server):
    token, _ = server.register()
    r = server.post("/api/customers", {"name": "Aisha Khan", "phone": "+971501234567", "email": "aisha@example.com"}, token)
    assert r.status == 201 and r.json["bill_count"] == 0 and r.json["total_spent"] == 0
    cid = r.json["id"]
    server.post("/api/customers", {"name": "Omar Haddad", "phone": "+971559999999"}, token)
    assert server.get("/api/customers?q=aisha", token).json["total"] == 1
    assert server.get("/api/customers?q=5599", token).json["total"] == 1
    assert server.get("/api/customers?q=EXAMPLE.COM", token).json["total"] == 1
    assert server.post("/api/customers", {"name": "X", "email": "not-an-email"}, token).error()["field"] == "email"
    assert server.post("/api/customers", {"phone": "1"}, token).error()["field"] == "name"
    r = server.put(f"/api/customers/{cid}", {"notes": "prefers card", "phone": None}, token)
    assert r.status == 200 and r.json["notes"] == "prefers card" and r.json["phone"] is None
    assert server.delete(f"/api/customers/{cid}", token).status == 204
    assert server.get(f"/api/customers/{cid}", token).status == 404


def test_employees(server):
    token, _ = server.register()
    r = server.post("/api/employees", {"name": "Sara", "position": "Cashier", "phone": "+44 20 1234"}, token)
    assert r.status == 201 and r.json["username"] is None and r.json["active"] is True
    eid = r.json["id"]
    assert server.post("/api/employees", {"name": "Bo", "username": "bo"}, token).status == 400
    assert server.post("/api/employees", {"name": "Bo", "username": "bobby", "password": "short"}, token).error()["field"] == "password"
    r = server.put(f"/api/employees/{eid}", {"position": "Manager"}, token)
    assert r.status == 200 and r.json["position"] == "Manager"
    page = server.get("/api/employees", token).json
    assert page["total"] == 1 and page["items"][0]["name"] == "Sara"
    assert server.delete(f"/api/employees/{eid}", token).status == 204
    assert server.get(f"/api/employees/{eid}", token).status == 404
