"""Auth, roles, tenancy and the error contract of API.md."""
import time

import sql
from conftest import ADMIN_TOKEN


def test_register_login_logout(server):
    token, user = server.register(shop="Corner Shop", username="alice", password="secret-pass-1")
    assert user["role"] == "owner" and user["username"] == "alice" and user["shop_id"] > 0
    assert server.get("/api/shop", token).json["name"] == "Corner Shop"

    r = server.post("/api/auth/login", {"username": "alice", "password": "secret-pass-1"})
    assert r.status == 200 and len(r.json["token"]) == 64 and r.json["user"]["id"] == user["id"]
    assert server.post("/api/auth/login", {"username": "alice", "password": "wrong-pass-1"}).status == 401
    assert server.post("/api/auth/login", {"username": "nobody", "password": "secret-pass-1"}).status == 401

    assert server.post("/api/auth/logout", token=token).status == 204
    r = server.get("/api/shop", token)
    assert r.status == 401 and r.error()["code"] == "unauthorized"


def test_register_rules(server):
    server.register(username="taken")
    r = server.post("/api/auth/register", {"shop_name": "X", "username": "taken", "password": "long-enough"})
    assert r.status == 409 and r.error()["field"] == "username"
    r = server.post("/api/auth/register", {"shop_name": "X", "username": "bob", "password": "short"})
    assert r.status == 400 and r.error()["field"] == "password"
    r = server.post("/api/auth/register", {"shop_name": "X", "username": "bob"})
    assert r.status == 400 and r.error()["field"] == "password"
    r = server.post("/api/auth/register", {"shop_name": 7, "username": "bob", "password": "long-enough"})
    assert r.status == 400 and r.error()["field"] == "shop_name"


def test_errors_have_the_contract_shape(server):
    token, _ = server.register()
    cases = [
        (server.get("/api/products"), 401, "unauthorized"),
        (server.get("/api/products", "f" * 64), 401, "unauthorized"),
        (server.get("/api/nothing-here", token), 404, "not_found"),
        (server.request("PATCH", "/api/products", token=token), 405, "method_not_allowed"),
        (server.post("/api/products", token=token, raw=b"{not json"), 400, "invalid_argument"),
        (server.post("/api/products", token=token, raw=b"[1,2]"), 400, "invalid_argument"),
        (server.post("/api/products", token=token, raw=b"name=x", headers={"Content-Type": "text/plain"}), 415, "unsupported_media_type"),
        (server.post("/api/products", token=token, raw=b'{"a":"' + b"x" * (2 << 20) + b'"}'), 413, "payload_too_large"),
        (server.get("/api/products/abc", token), 400, "invalid_argument"),
        (server.get("/api/products/0", token), 400, "invalid_argument"),
        (server.get("/api/products/999999", token), 404, "not_found"),
        (server.get("/api/products?per_page=0", token), 400, "invalid_argument"),
        (server.get("/api/products?per_page=201", token), 400, "invalid_argument"),
        (server.get("/api/products?page=x", token), 400, "invalid_argument"),
    ]
    for reply, status, code in cases:
        assert reply.status == status, (status, reply.text[:200])
        assert reply.headers.get("Content-Type", "").startswith("application/json")
        assert reply.error()["code"] == code, reply.text[:200]
        assert isinstance(reply.error()["message"], str) and reply.error()["message"]


def test_roles(server):
    owner, _ = server.register()
    r = server.post("/api/employees", {"name": "Cara", "username": "cara", "password": "cashier-pass"}, owner)
    assert r.status == 201 and r.json["username"] == "cara"
    employee_id = r.json["id"]
    cashier = server.post("/api/auth/login", {"username": "cara", "password": "cashier-pass"})
    assert cashier.json["user"]["role"] == "cashier"
    cashier = cashier.json["token"]
    p = server.post("/api/products", {"name": "Tea", "sku": "T1", "price": 100, "stock": 5}, owner).json
    assert server.get("/api/products", cashier).status == 200
    assert server.get("/api/dashboard", cashier).status == 200
    assert server.post("/api/customers", {"name": "Dan"}, cashier).status == 201
    bill = server.post("/api/bills", {"items": [{"product_id": p["id"], "quantity": 1}], "payment_method": "cash"}, cashier)
    assert bill.status == 201
    for reply in [server.post("/api/products", {"name": "X", "sku": "X", "price": 1}, cashier),
                  server.put(f"/api/products/{p['id']}", {"price": 1}, cashier),
                  server.get("/api/employees", cashier),
                  server.post(f"/api/bills/{bill.json['id']}/void", token=cashier),
                  server.put("/api/shop", {"name": "Mine"}, cashier)]:
        assert reply.status == 403 and reply.error()["code"] == "forbidden"
    # Deleting the employee ends its logins at once.
    assert server.delete(f"/api/employees/{employee_id}", owner).status == 204
    assert server.get("/api/products", cashier).status == 401
    assert server.post("/api/auth/login", {"username": "cara", "password": "cashier-pass"}).status == 401


def test_tenancy_other_shops_ids_are_not_found(server):
    a, _ = server.register(shop="A")
    b, _ = server.register(shop="B")
    p = server.post("/api/products", {"name": "Tea", "sku": "T1", "price": 100, "stock": 5}, a).json
    c = server.post("/api/customers", {"name": "Dan"}, a).json
    e = server.post("/api/employees", {"name": "Eve"}, a).json
    bill = server.post("/api/bills", {"items": [{"product_id": p["id"], "quantity": 1}], "payment_method": "card"}, a).json
    for path in [f"/api/products/{p['id']}", f"/api/customers/{c['id']}", f"/api/employees/{e['id']}", f"/api/bills/{bill['id']}"]:
        assert server.get(path, b).status == 404
        assert server.get(path, a).status == 200
    assert server.put(f"/api/products/{p['id']}", {"price": 1}, b).status == 404
    assert server.delete(f"/api/customers/{c['id']}", b).status == 404
    assert server.post(f"/api/bills/{bill['id']}/void", token=b).status == 404
    r = server.post("/api/bills", {"items": [{"product_id": p["id"], "quantity": 1}], "payment_method": "cash"}, b)
    assert r.status == 404
    assert server.get("/api/products", b).json["total"] == 0
    assert server.get(f"/api/products/{p['id']}", a).json["stock"] == 4


def test_operator_acts_on_a_named_shop(server):
    a, user = server.register(shop="A")
    server.post("/api/products", {"name": "Tea", "sku": "T1", "price": 100}, a)
    r = server.get(f"/api/products?shop_id={user['shop_id']}", ADMIN_TOKEN)
    assert r.status == 200 and r.json["total"] == 1
    r = server.get("/api/products", ADMIN_TOKEN)
    assert r.status == 400 and r.error()["field"] == "shop_id"
    assert server.get("/api/products?shop_id=987654", ADMIN_TOKEN).status == 404


def test_healthz(server):
    r = server.get("/healthz")
    assert r.status == 200 and r.json == {"status": "ok", "db": "ok", "redis": "disabled"}


def test_a_new_password_ends_the_logins_sessions(server):
    owner, _ = server.register()
    e = server.post("/api/employees", {"name": "Cara", "username": "cara", "password": "cashier-pass"}, owner).json
    tokens = [server.post("/api/auth/login", {"username": "cara", "password": "cashier-pass"}).json["token"]
              for _ in range(2)]
    for t in tokens:
        assert server.get("/api/products", t).status == 200  # and now cached
    assert server.put(f"/api/employees/{e['id']}", {"password": "new-cashier-pass"}, owner).status == 200
    for t in tokens:
        assert server.get("/api/products", t).status == 401
    assert server.post("/api/auth/login", {"username": "cara", "password": "cashier-pass"}).status == 401
    fresh = server.post("/api/auth/login", {"username": "cara", "password": "new-cashier-pass"})
    assert fresh.status == 200 and server.get("/api/products", fresh.json["token"]).status == 200
    assert server.get("/api/products", owner).status == 200
    # A change that leaves the password alone leaves the sessions alone.
    assert server.put(f"/api/employees/{e['id']}", {"position": "till 2"}, owner).status == 200
    assert server.get("/api/products", fresh.json["token"]).status == 200


def test_usernames_are_unique_in_any_case(server):
    owner, user = server.register(username="owner1", password="secret-pass-1")
    r = server.post("/api/auth/register", {"shop_name": "X", "username": "Owner1", "password": "long-enough"})
    assert r.status == 409 and r.error()["field"] == "username"
    r = server.post("/api/employees", {"name": "Cara", "username": "OWNER1", "password": "cashier-pass"}, owner)
    assert r.status == 409 and r.error()["field"] == "username"
    r = server.post("/api/auth/login", {"username": "OWNER1", "password": "secret-pass-1"})
    assert r.status == 200 and r.json["user"]["id"] == user["id"] and r.json["user"]["username"] == "owner1"


def test_accounts_that_differ_in_case_from_before_keep_their_logins(server, db_url):
    """Duplicates made before the unique index must not block its migration, nor lose a login."""
    _, first = server.register(username="alice", password="first-pass-1")
    server.stop()
    # Back to the schema before the index, with a second account that differs only in case.
    sql.run(db_url, "DROP INDEX users_username_lower")
    sql.run(db_url, "ALTER TABLE users DROP COLUMN case_duplicate")
    sql.run(db_url, "DELETE FROM schema_migrations WHERE version = 5")
    sql.run(db_url, "INSERT INTO users(shop_id, username, password_hash, role, created_at) "
                    "SELECT shop_id, 'ALICE', password_hash, role, created_at FROM users WHERE username = 'alice'")
    second = int(sql.run(db_url, "SELECT id FROM users WHERE username = 'ALICE'")[0][0])
    server.start()  # migrates again
    r = server.post("/api/auth/login", {"username": "ALICE", "password": "first-pass-1"})
    assert r.status == 200 and r.json["user"]["id"] == second
    for name in ("alice", "Alice"):
        r = server.post("/api/auth/login", {"username": name, "password": "first-pass-1"})
        assert r.status == 200 and r.json["user"]["id"] == first["id"]
    r = server.post("/api/auth/register", {"shop_name": "X", "username": "aLiCe", "password": "long-enough"})
    assert r.status == 409


def test_login_takes_as_long_for_an_unknown_username(server):
    server.register(username="timed", password="secret-pass-1")

    def took(username):
        start = time.perf_counter()
        assert server.post("/api/auth/login", {"username": username, "password": "wrong-pass-1"}).status == 401
        return time.perf_counter() - start

    took("timed")  # warm
    wrong, unknown = [], []
    for i in range(7):  # interleaved, so that a noisy neighbour slows both alike
        wrong.append(took("timed"))
        unknown.append(took(f"nobody{i}"))
    wrong.sort()
    unknown.sort()
    assert unknown[3] >= 0.5 * wrong[3], (unknown, wrong)
