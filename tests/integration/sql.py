"""Runs SQL on a test's database behind the server's back: to set up states no request can make
(a lifetime of sales, rows from before a migration)."""
import glob
import os
import sqlite3
import subprocess


def run(db_url, statement):
    """Runs one statement; returns the rows of a query as lists of strings (PostgreSQL) or
    values (SQLite)."""
    if db_url.startswith("sqlite:"):
        con = sqlite3.connect(db_url[len("sqlite:"):], timeout=30)
        try:
            rows = [list(r) for r in con.execute(statement).fetchall()]
            con.commit()
            return rows
        finally:
            con.close()
    bindirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(d.split("/")[-2]))
    out = subprocess.run([os.path.join(bindirs[-1], "psql"), db_url, "-X", "-q", "-A", "-t", "-v",
                          "ON_ERROR_STOP=1", "-c", statement], check=True, capture_output=True, text=True)
    return [line.split("|") for line in out.stdout.splitlines() if line]
