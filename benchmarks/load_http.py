"""Load the portal over real HTTP on loopback: gunicorn workers, a team of 10,000 members.

    .venv/bin/python benchmarks/load_http.py                      # a temporary SQLite database
    DATABASE_URL=postgresql+psycopg://… .venv/bin/python benchmarks/load_http.py --workers 4

Starts gunicorn on 127.0.0.1, then for each scenario runs `--clients` threads for `--seconds`
and reports requests per second and latency percentiles. Scenarios: the team page (signed-in
owner, page 1 and a search) and the JSON API member list (organization token). A script, not
a test; the numbers depend on the machine."""
from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import select  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Member  # noqa: E402
from app.services import groups, members, organizations, sessions  # noqa: E402
from app.services.activity import Actor  # noqa: E402

SECRET = "benchmark-secret-key-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(database_url: str, size: int, slug: str | None = None) -> dict:
    """Schema, an organization with a token, a team of `size` members and an owner's cookie."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": SECRET})
    with app.app_context():
        upgrade()
        org = organizations.create_organization(db.session, slug or f"bench{int(time.time())}", "Bench")
        team = organizations.create_team(db.session, org, name="Big team",
                                         owner_email="owner@bench.example")
        if size > 1:
            members.fill_synthetic(db.session, Actor.operator(), team, size - 1)
        _row, api_token = organizations.create_token(db.session, org)
        owner = db.session.query(Member).filter_by(customer_id=team.id, role="owner").one()
        # A user group of (up to) 100 members, for the Cloudflare group-members scenario.
        group = groups.create_group(db.session, Actor.operator(), team, name="Bench group")
        ids = db.session.scalars(select(Member.id).where(Member.customer_id == team.id)
                                 .order_by(Member.created_at).limit(100)).all()
        groups.add_members(db.session, Actor.operator(), team, group.id, list(ids))
        _row, session_token = sessions.start_session(db.session, owner)
        db.session.commit()
        cookie = app.session_interface.get_signing_serializer(app).dumps(
            {"_user_id": session_token, "_fresh": True})
        return {"slug": org.slug, "customer": str(team.id), "token": api_token, "owner": str(owner.id),
                "group": group.id.hex,
                "cookie": f"{app.config['SESSION_COOKIE_NAME']}={cookie}"}


def hammer(port: int, path: str, headers: dict, clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker():
        nonlocal errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, bad = [], 0
        while time.monotonic() < stop:
            start = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    bad += 1
            except OSError:
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            mine.append(time.perf_counter() - start)
        conn.close()
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    begun = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - begun
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else 0

    return {"requests": len(latencies), "rps": len(latencies) / elapsed, "errors": errors,
            "p50": pct(0.50), "p95": pct(0.95), "p99": pct(0.99),
            "mean": statistics.fmean(latencies) * 1000 if latencies else 0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="portal-load-")
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/load.db"
    print(f"Preparing {args.members:,} members on {database_url.split('://')[0]} …", flush=True)
    data = prepare(database_url, args.members)

    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": SECRET,
           "INSTANCE_PATH": tmp, "PORTAL_ENV": "development"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(args.workers), "--threads", "4",
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
        cwd=ROOT, env=env)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        slug, customer = data["slug"], data["customer"]
        browser = {"Cookie": data["cookie"]}
        api = {"Authorization": f"Bearer {data['token']}"}
        scenarios = [
            ("team page, page 1", f"/{slug}/team", browser),
            ("team page, search", f"/{slug}/team?q=member-42", browser),
            ("team page, htmx table", f"/{slug}/team?page=50", {**browser, "HX-Request": "true",
                                                                 "HX-Target": "member-table"}),
            ("API members list", f"/v1/customers/{customer}/members?page=100&limit=100", api),
        ]
        print(f"gunicorn: {args.workers} workers × 4 threads; {args.clients} clients, "
              f"{args.seconds:.0f} s each")
        print(f"{'scenario':<24}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}")
        for name, path, headers in scenarios:
            hammer(port, path, headers, 2, 1)  # warm up
            r = hammer(port, path, headers, args.clients, args.seconds)
            print(f"{name:<24}{r['rps']:>8.1f}{r['p50']:>9.1f}{r['p95']:>9.1f}{r['p99']:>9.1f}"
                  f"{r['errors']:>8}")
    finally:
        server.terminate()
        server.wait(10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
