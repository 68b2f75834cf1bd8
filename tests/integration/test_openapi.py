"""docs/openapi.yaml describes every route the server has."""
import os
import re
import subprocess

from conftest import ROOT, tajir_binary


def test_every_route_is_documented():
    routes = subprocess.run([tajir_binary(), "routes"], check=True, capture_output=True, text=True).stdout.split("\n")
    routes = [r.split() for r in routes if r.strip()]
    assert len(routes) > 20
    spec = open(os.path.join(ROOT, "docs", "openapi.yaml")).read()
    documented = {}
    path = None
    for line in spec.splitlines():
        m = re.match(r"^  (/\S*):\s*$", line)
        if m:
            path = m.group(1)
            documented[path] = set()
            continue
        m = re.match(r"^    (get|post|put|delete|patch):\s*$", line)
        if m and path:
            documented[path].add(m.group(1).upper())
    missing = [f"{method} {pattern}" for method, pattern in routes
               if method.upper() not in documented.get(pattern, set())]
    assert not missing, f"routes missing from docs/openapi.yaml: {missing}"
