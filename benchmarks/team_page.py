"""Time the team page at 10,000 members with Flask's test client.

    .venv/bin/python benchmarks/team_page.py                  # a temporary SQLite database
    DATABASE_URL=postgresql+psycopg://… .venv/bin/python benchmarks/team_page.py --members 10000

Fills the team with `flask team fill`, then times page 1, a search, and the last page (median
and worst of several runs) and counts the SQL queries of each. A script, not a test."""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import create_engine, event, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.services import organizations, sessions  # noqa: E402


def database(url: str | None, tmp: str) -> tuple[str, callable]:
    """A fresh database; returns its URL and a function that drops it."""
    if not url:
        return f"sqlite:///{tmp}/bench.db", lambda: None
    base = make_url(url)
    name = f"portal_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return base.set(database=name).render_as_string(hide_password=False), drop


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url, drop = database(os.environ.get("DATABASE_URL"), tmp)
        try:
            app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "benchmark-only-secret-key",
                              "SESSION_COOKIE_SECURE": False})
            with app.app_context():
                upgrade()
                org = organizations.create_organization(db.session, "bench", "Bench")
                team = organizations.create_team(db.session, org, name="Big team",
                                                 owner_email="owner@bench.example", owner_name="Owner")
                db.session.commit()
                team_id, owner = str(team.id), team.id
                started = time.perf_counter()
                result = app.test_cli_runner().invoke(
                    args=["team", "fill", team_id, "--count", str(args.members - 1)])
                fill_seconds = time.perf_counter() - started
                if result.exit_code != 0:
                    print(result.output, file=sys.stderr)
                    return 1
                from app.models import Member

                owner = db.session.query(Member).filter_by(customer_id=owner).first()
                _row, token = sessions.start_session(db.session, owner)
                db.session.commit()
                db.session.remove()

            client = app.test_client()
            with client.session_transaction() as s:
                s["_user_id"], s["_fresh"] = token, True
            last = (args.members + 24) // 25
            cases = [
                ("page 1", "/bench/team", {}),
                ("search 'member 4242'", "/bench/team?q=member%204242", {"HX-Request": "true", "HX-Target": "member-table"}),
                ("search '@fill' (all match)", "/bench/team?q=%40fill", {"HX-Request": "true", "HX-Target": "member-table"}),
                (f"last page ({last})", f"/bench/team?page={last}", {"HX-Request": "true", "HX-Target": "member-table"}),
            ]
            with app.app_context():
                engine = db.engine
            queries: list[str] = []
            event.listen(engine, "before_cursor_execute", lambda *a: queries.append(a[2]))
            print(f"{args.members} members on {make_url(url).get_backend_name()}; "
                  f"team fill took {fill_seconds:.2f} s")
            print(f"{'request':32} {'median ms':>10} {'worst ms':>10} {'queries':>8}")
            for name, path, headers in cases:
                client.get(path, headers=headers)  # warm up
                timings = []
                for _ in range(args.runs):
                    queries.clear()
                    t = time.perf_counter()
                    response = client.get(path, headers=headers)
                    timings.append((time.perf_counter() - t) * 1000)
                    assert response.status_code == 200, (path, response.status_code)
                print(f"{name:32} {statistics.median(timings):10.1f} {max(timings):10.1f} {len(queries):8}")
        finally:
            drop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
