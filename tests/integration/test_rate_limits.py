"""Rate limits on failed logins and registrations (src/api/rate_limit.h), over HTTP.

The servers here trust 127.0.0.1 as a proxy, so X-Forwarded-For stands for the client's
address and one test can play two clients."""
import re

import pytest

from conftest import Server

PROXIED = ["--warm", "false", "--refill", "false", "--trusted-proxies", "127.0.0.1"]
A, B = "198.51.100.1", "198.51.100.2"


def limited_server(db_url, *args):
    """A server with the default limits, but for those given."""
    return Server(db_url, PROXIED + list(args), relaxed_limits=False)


@pytest.fixture
def limited(db_url):
    s = limited_server(db_url)
    yield s
    s.stop()


def login(server, username, password, address):
    return server.post("/api/auth/login", {"username": username, "password": password},
                       headers={"X-Forwarded-For": address})


def register(server, username, address, password="correct-horse-1"):
    return server.post("/api/auth/register", {"shop_name": "S", "username": username, "password": password},
                       headers={"X-Forwarded-For": address})


def assert_limited(reply, most_seconds):
    assert reply.status == 429, reply.text
    assert reply.error()["code"] == "rate_limited"
    assert 1 <= int(reply.headers["Retry-After"]) <= most_seconds


def rate_limited(server, what):
    text = server.get("/metrics").text
    return int(re.search(r'^tajir_rate_limited_total\{what="%s"\} (\d+)$' % what, text, re.M).group(1))


def test_failed_logins_lock_a_username_even_for_the_right_password(limited):
    assert register(limited, "alice", A).status == 201
    for _ in range(5):  # the default: 5 per 15 minutes
        assert login(limited, "alice", "wrong-pass-1", A).status == 401
    # A right guess now must look like any other: refused, before the password is checked.
    assert_limited(login(limited, "alice", "correct-horse-1", A), 900)
    assert_limited(login(limited, "ALICE", "correct-horse-1", A), 900)  # logins ignore case
    assert_limited(login(limited, "alice", "wrong-pass-1", A), 900)
    # Another address is not locked out, and its failures are its own.
    assert login(limited, "alice", "correct-horse-1", B).status == 200
    assert login(limited, "alice", "wrong-pass-1", B).status == 401
    # Nor is another username from the same address.
    assert register(limited, "bob", B).status == 201
    assert login(limited, "bob", "correct-horse-1", A).status == 200
    assert rate_limited(limited, "login_user") == 3
    assert rate_limited(limited, "login_address") == 0


def test_logins_that_succeed_are_not_failures(limited):
    assert register(limited, "carol", A).status == 201
    for _ in range(12):
        assert login(limited, "carol", "correct-horse-1", A).status == 200
    for _ in range(5):
        assert login(limited, "carol", "wrong-pass-1", A).status == 401
    assert login(limited, "carol", "correct-horse-1", A).status == 429


def test_unknown_usernames_count_like_known_ones(limited):
    """Else the limit would tell which usernames exist."""
    for _ in range(5):
        assert login(limited, "nobody-here", "wrong-pass-1", A).status == 401
    assert_limited(login(limited, "nobody-here", "wrong-pass-1", A), 900)


def test_failed_logins_from_one_address_are_limited_over_every_username(db_url):
    server = limited_server(db_url, "--login-failures-per-address", "6")
    try:
        assert register(server, "dave", B).status == 201
        for i in range(6):
            assert login(server, f"guess{i}", "wrong-pass-1", A).status == 401
        assert_limited(login(server, "dave", "correct-horse-1", A), 900)
        assert login(server, "dave", "correct-horse-1", B).status == 200
        assert rate_limited(server, "login_address") == 1
    finally:
        server.stop()


def test_registrations_are_limited_per_address(limited):
    for i in range(9):  # the default: 10 an hour, whatever their outcome
        assert register(limited, f"shop{i}", A).status == 201
    assert register(limited, "shop0", A).status == 409
    assert_limited(register(limited, "shop-late", A), 3600)
    assert register(limited, "shop-late", B).status == 201
    assert rate_limited(limited, "registration") == 1


def test_x_forwarded_for_counts_only_from_a_trusted_proxy(db_url):
    server = Server(db_url, ["--warm", "false", "--login-failures-per-user", "2"], relaxed_limits=False)
    try:
        assert register(server, "erin", A).status == 201
        for address in (A, B):  # the peer is 127.0.0.1 both times: not a proxy of ours
            assert login(server, "erin", "wrong-pass-1", address).status == 401
        assert_limited(login(server, "erin", "correct-horse-1", "203.0.113.9"), 900)
    finally:
        server.stop()


def test_zero_turns_a_limit_off(db_url):
    server = limited_server(db_url, "--login-failures-per-user", "0", "--login-failures-per-address", "0")
    try:
        assert register(server, "fay", A).status == 201
        for _ in range(12):
            assert login(server, "fay", "wrong-pass-1", A).status == 401
        assert login(server, "fay", "correct-horse-1", A).status == 200
    finally:
        server.stop()


def test_password_hashing_is_bounded_and_reads_are_answered_meanwhile(db_url):
    """argon2id runs on the worker pool, at most --password-hashes at once: a flood of logins
    gets 503 busy (with Retry-After) at once instead of holding every worker, and reads go on."""
    from concurrent.futures import ThreadPoolExecutor
    s = Server(db_url, ["--warm", "false", "--password-hashes", "1", "--workers", "4"])
    try:
        token, _ = s.register(username="hammered")
        product = s.post("/api/products", {"name": "Tea", "sku": "TEA-1", "price": 250, "stock": 5}, token=token)
        assert product.status == 201, product.text
        path = f"/api/products/{product.json['id']}"
        assert s.get(path, token=token).status == 200  # now cached

        def hammer(_):
            return s.post("/api/auth/login", {"username": "hammered", "password": "wrong-pass-1"})

        busy = None
        reads = []
        with ThreadPoolExecutor(16) as pool:
            for _ in range(20):  # rounds of 16 logins at once, until one finds the bound reached
                futures = [pool.submit(hammer, i) for i in range(16)]
                reads.append(s.get(path, token=token))
                replies = [f.result() for f in futures]
                assert {r.status for r in replies} <= {401, 503}, [r.text for r in replies]
                busy = next((r for r in replies if r.status == 503), None)
                if busy:
                    break
        assert busy is not None, "16 logins at once never met the bound of 1 hash"
        assert busy.error()["code"] == "busy"
        assert busy.headers["Retry-After"] == "1"
        assert all(r.status == 200 and r.headers["X-Cache"] == "HIT" for r in reads)
        # The bound is on hashes at once, not a lock-out: the right password works.
        assert s.post("/api/auth/login", {"username": "hammered", "password": "correct-horse-1"}).status == 200
    finally:
        s.stop()
