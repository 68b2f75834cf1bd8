"""What the server refuses in a body (trailing bytes, blank names, control characters, unknown
currencies), what an empty update does, and HTTP details: the bearer scheme's case and the
X-DB-Statements setting."""
import socket
import time

import pytest

from conftest import ADMIN_TOKEN, Server


def test_a_body_with_bytes_after_the_json_value_answers_400(server):
    token, _ = server.register()
    good = b'{"name": "Tea", "sku": "T1", "price": 100}'
    for raw in [good + b"\x00garbage", good + b"\x00", good + b" \x00{}", b'{"name": "Tea\x00", "sku": "T2", "price": 1}',
                good + b" x", good + b"{}"]:
        r = server.post("/api/products", token=token, raw=raw)
        assert r.status == 400 and r.error()["code"] == "invalid_argument", (raw, r.text)
    assert server.get("/api/products", token).json["total"] == 0
    assert server.post("/api/products", token=token, raw=good + b" \r\n\t").status == 201, "whitespace may follow"


def test_blank_names_and_control_characters_answer_400(server):
    token, _ = server.register()
    product = {"name": "Tea", "sku": "T1", "price": 100}
    cases = [
        ("/api/products", {**product, "name": "   "}, "name"),
        ("/api/products", {**product, "name": "\t"}, "name"),
        ("/api/products", {**product, "name": "Te\u0007a"}, "name"),
        ("/api/products", {**product, "name": "Tea\u0000"}, "name"),
        ("/api/products", {**product, "name": "Tea\u0085"}, "name"),  # C1 control
        ("/api/products", {**product, "name": "Tea\nTime"}, "name"),
        ("/api/products", {**product, "sku": "T\u001b[2J"}, "sku"),
        ("/api/products", {**product, "category": "Home\u007f"}, "category"),
        ("/api/products", {**product, "barcode": "629\r1"}, "barcode"),
        ("/api/customers", {"name": "  "}, "name"),
        ("/api/customers", {"name": "Ann", "phone": "555\u00000"}, "phone"),
        ("/api/customers", {"name": "Ann", "email": "a@b\u0001.c"}, "email"),
        ("/api/customers", {"name": "Ann", "notes": "a\u0000b"}, "notes"),
        ("/api/customers", {"name": "Ann", "address": "a\u001bb"}, "address"),
        ("/api/employees", {"name": " \u00a0 "}, "name"),
        ("/api/employees", {"name": "Sara", "position": "Boss\u0008"}, "position"),
        ("/api/auth/register", {"shop_name": "   ", "username": "blank-shop", "password": "long-enough"}, "shop_name"),
        ("/api/auth/register", {"shop_name": "Shop\u0003", "username": "ctl-shop", "password": "long-enough"}, "shop_name"),
    ]
    for path, body, field in cases:
        r = server.post(path, body, None if path.startswith("/api/auth") else token)
        assert r.status == 400 and r.error()["field"] == field, (path, body, r.text)
    for body, field in [({"name": "  "}, "name"), ({"name": "A\u0000"}, "name")]:
        r = server.put("/api/shop", body, token)
        assert r.status == 400 and r.error()["field"] == field, (body, r.text)
    assert server.get("/api/products", token).json["total"] == 0
    assert server.get("/api/customers", token).json["total"] == 0
    # Notes and addresses are free text over lines: newlines and tabs are kept.
    r = server.post("/api/customers", {"name": "  Ann Lee ", "address": "1 Souq St\r\nDubai", "notes": "card\tonly\n"}, token)
    assert r.status == 201, r.text
    assert r.json["address"] == "1 Souq St\r\nDubai" and r.json["notes"] == "card\tonly\n" and r.json["name"] == "  Ann Lee "


def test_currency_must_be_an_iso_4217_code(server):
    token, _ = server.register()
    for code in ["ZZZ", "AAA", "usd", "US", "USDX", "QQQ"]:
        r = server.put("/api/shop", {"currency": code}, token)
        assert r.status == 400 and r.error()["field"] == "currency", (code, r.text)
    for code in ["AED", "EUR", "JPY", "KWD", "SAR", "GBP", "INR"]:
        r = server.put("/api/shop", {"currency": code}, token)
        assert r.status == 200 and r.json["currency"] == code, (code, r.text)


def test_an_empty_update_changes_nothing(server):
    token, _ = server.register()
    p = server.post("/api/products", {"name": "Tea", "sku": "T1", "price": 100}, token).json
    c = server.post("/api/customers", {"name": "Ann"}, token).json
    e = server.post("/api/employees", {"name": "Sara"}, token).json
    shop = server.get("/api/shop", token).json
    time.sleep(1.1)  # timestamps have second precision
    for path, before in [(f"/api/products/{p['id']}", p), (f"/api/customers/{c['id']}", c),
                         (f"/api/employees/{e['id']}", e), ("/api/shop", shop)]:
        for body in [{}, {"unknown_field": 1}]:
            r = server.put(path, body, token)
            assert r.status == 200 and r.json == before, (path, r.text)
        assert server.get(path, token).json == before, path
    for path in ["/api/products/999999", "/api/customers/999999", "/api/employees/999999"]:
        assert server.put(path, {}, token).status == 404, path
    moved = server.put(f"/api/products/{p['id']}", {"price": 100}, token).json
    assert moved["updated_at"] != p["updated_at"], "a field given is an update, even to the same value"


def test_the_bearer_scheme_is_case_insensitive(server):
    token, _ = server.register()
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"]:
        r = server.get("/api/shop", headers={"Authorization": f"{scheme} {token}"})
        assert r.status == 200, (scheme, r.text)
        r = server.get("/api/cache/stats", headers={"Authorization": f"{scheme} {ADMIN_TOKEN}"})
        assert r.status == 200, (scheme, r.text)
    for header in [f"Bearer{token}", f"Basic {token}", "Bearer ", "bearer", f"Bearerx {token}"]:
        assert server.get("/api/shop", headers={"Authorization": header}).status == 401, header
    assert server.post("/api/auth/logout", headers={"Authorization": f"bearer {token}"}).status == 204
    assert server.get("/api/shop", token).status == 401, "logged out"


def get_raw(server, target):
    host, port = server.base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return int(data.split(b" ", 2)[1])


def test_the_access_log_escapes_what_the_target_holds(db_url):
    server = Server(db_url, ["--log-level", "info", "--warm", "false"])
    try:
        assert get_raw(server, b"/healthz?x=\xff\xfe\\") == 200
    finally:
        server.stop()
    # As bytes: the text streams would refuse raw bytes, were they logged raw. Nothing was read
    # from them since the address line, so nothing is left in their buffers.
    log = (server.proc.stderr.buffer.read() + server.proc.stdout.buffer.read()).decode(errors="surrogateescape")
    line = next(l for l in log.splitlines() if "target=/healthz" in l)
    assert "target=/healthz?x=\\xff\\xfe\\x5c status=200" in line, line


@pytest.mark.parametrize("how", ["off", "flag", "env"])
def test_x_db_statements_is_sent_only_when_asked_for(db_url, monkeypatch, how):
    if how == "env":
        monkeypatch.setenv("TAJIR_DB_STATEMENTS_HEADER", "true")
    server = Server(db_url, ["--warm", "false"] + (["--db-statements-header", "true"] if how == "flag" else []))
    try:
        token, _ = server.register()
        miss, hit = server.get("/api/products", token), server.get("/api/products", token)
        assert miss.headers["X-Cache"] == "MISS" and hit.headers["X-Cache"] == "HIT"
        if how == "off":
            assert "X-DB-Statements" not in miss.headers and "X-DB-Statements" not in hit.headers
        else:
            assert int(miss.headers["X-DB-Statements"]) > 0
            assert hit.headers["X-DB-Statements"] == "0", "a hit says it ran none, so that absence means 'not told'"
    finally:
        server.stop()
