"""What the server refuses in a body (trailing bytes, blank names, control characters, unknown
currencies), what an empty update does, and HTTP details: the bearer scheme's case and the
X-DB-Statements setting."""
import socket
import time

import pytest

from conftest import ADMIN_TOKEN, Server


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
