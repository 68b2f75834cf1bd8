"""Writes a session and one cached products page into the peer's Redis.

/usr/bin/python3 load.py --redis-port P --token T --shop 1 --key-query 'page=1&per_page=50' \
    --file products.json
"""
import argparse
from urllib.parse import parse_qsl

import redis
from werkzeug.datastructures import MultiDict

from app import products_key, session_key

p = argparse.ArgumentParser()
p.add_argument("--redis-host", default="127.0.0.1")
p.add_argument("--redis-port", type=int, default=6379)
p.add_argument("--token", required=True)
p.add_argument("--shop", required=True)
p.add_argument("--key-query", default="page=1&per_page=50")
p.add_argument("--file", required=True, help="the response body, stored byte for byte")
a = p.parse_args()

db = redis.Redis(host=a.redis_host, port=a.redis_port)
key = products_key(a.shop, MultiDict(parse_qsl(a.key_query)))
with open(a.file, "rb") as f:
    db.set(key, f.read())  # no TTL: the entry must outlive the run
db.set(session_key(a.token), a.shop)
print(key)
