"""The peer of tajir's cached GET /api/products: the original Python design, Flask in front of
Redis, which cached each API response as its JSON string.

A request costs what it cost there: the bearer token's session looked up in Redis, then the
page's cached bytes, two round trips. There is no database here: a miss answers 503, and the
benchmark pre-loads Redis with load.py (the session and the very bytes tajir served).
"""
import hashlib
import os
from urllib.parse import urlencode

import redis
from flask import Flask, Response, jsonify, request

# decode_responses=False: the cached bytes go out exactly as stored, never through str.
pool = redis.ConnectionPool(host=os.environ.get("REDIS_HOST", "127.0.0.1"),
                            port=int(os.environ.get("REDIS_PORT", "6379")),
                            decode_responses=False)
db = redis.Redis(connection_pool=pool)
app = Flask(__name__)


def session_key(token):
    # Only a hash of the token is stored, so a dump of Redis leaks no usable token.
    return "session:" + hashlib.sha256(token.encode()).hexdigest()


def products_key(shop, args):
    """args: (name, value) pairs. page and per_page get their defaults and go first, the rest
    sorted, so `?per_page=50` and `?page=1&per_page=50` share one entry."""
    page, per_page = int(args.get("page", 1)), int(args.get("per_page", 50))
    if page < 1 or not 1 <= per_page <= 200:
        raise ValueError("page or per_page out of range")
    rest = sorted((k, v) for k, v in args.items(multi=True) if k not in ("page", "per_page"))
    return f"products:{shop}:" + urlencode([("page", page), ("per_page", per_page)] + rest)


def error(status, code, message):
    return jsonify(error={"code": code, "message": message}), status


@app.get("/api/products")
def products():
    auth = request.headers.get("Authorization", "")
    shop = db.get(session_key(auth[7:])) if auth.startswith("Bearer ") else None
    if shop is None:
        return error(401, "unauthorized", "missing or invalid token")
    try:
        key = products_key(shop.decode(), request.args)
    except ValueError:
        return error(400, "invalid_query", "page must be >= 1 and per_page 1..200")
    body = db.get(key)
    if body is None:
        # The original queried the database here, json.dumps'ed and SETEX'ed the page.
        return error(503, "unavailable", "not cached and this peer has no database")
    return Response(body, content_type="application/json", headers={"X-Cache": "HIT"})
