"""The SQL of the team page and the member list at 25, 10,000 and 100,000 members (issue 14, item 3).

    .venv/bin/python benchmarks/scale.py                      # a temporary SQLite database
    DATABASE_URL=postgresql+psycopg://… .venv/bin/python benchmarks/scale.py
    .venv/bin/python benchmarks/scale.py --plans              # and the query plans of each statement

Fills three teams with `members.fill_synthetic` (as `flask team fill` does; the fill time is
printed), then times, in-process and without HTTP, what the team page asks the database for:
`list_members` + `team_summary` for page 1, page 200 of 10,000, the last page of 100,000 and a
search at 100,000 (median of `--runs`). `--plans` prints EXPLAIN QUERY PLAN (SQLite) or
EXPLAIN (PostgreSQL) of every statement of each scenario. A script, not a test."""
from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event, text  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.services import members, organizations  # noqa: E402
from app.services.activity import Actor  # noqa: E402
from team_page import database  # noqa: E402


def plans(statements: list, dialect: str) -> list[str]:
    out = []
    with db.engine.connect() as conn:
        for sql, params in statements:
            prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
            rows = conn.exec_driver_sql(prefix + sql, params).all()
            out.append(sql.split("\n")[0][:110])
            out += ["    " + (" ".join(str(c) for c in row[1:]) if dialect == "sqlite" else row[0])
                    for row in rows]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--plans", action="store_true", help="print the query plan of each statement")
    parser.add_argument("--huge", type=int, default=100_000, help="members of the largest team")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url, drop = database(os.environ.get("DATABASE_URL"), tmp)
        try:
            app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "benchmark-only-secret-key"})
            with app.app_context():
                upgrade()
                dialect = db.engine.dialect.name
                org = organizations.create_organization(db.session, "scale", "Scale")
                teams = {}
                for size in (25, 10_000, args.huge):
                    team = organizations.create_team(db.session, org, name=f"Team {size}",
                                                     owner_email=f"owner{size}@scale.example")
                    db.session.commit()
                    started = time.perf_counter()
                    members.fill_synthetic(db.session, Actor.operator(), team, size - 1)
                    db.session.commit()
                    print(f"fill {size - 1:>7,} members: {time.perf_counter() - started:6.2f} s", flush=True)
                    teams[size] = team
                if dialect == "postgresql":
                    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                        conn.execute(text("VACUUM ANALYZE members"))  # what autovacuum does soon after
                        conn.execute(text("VACUUM ANALYZE customers"))
                last = math.ceil(args.huge / 25)
                scenarios = [
                    ("25 members, page 1", teams[25], {}),
                    ("10k, page 1", teams[10_000], {}),
                    ("10k, page 200", teams[10_000], {"page": 200}),
                    (f"{args.huge // 1000}k, page 1", teams[args.huge], {}),
                    (f"{args.huge // 1000}k, page {last // 2} (middle)", teams[args.huge], {"page": last // 2}),
                    (f"{args.huge // 1000}k, last page ({last})", teams[args.huge], {"page": last}),
                    ("25 members, search 'member 12'", teams[25], {"query": "member 12"}),
                    (f"{args.huge // 1000}k, search 'member 4242'", teams[args.huge], {"query": "member 4242"}),
                    (f"{args.huge // 1000}k, search 'zzz' (no match)", teams[args.huge], {"query": "zzz"}),
                    (f"{args.huge // 1000}k, role billing_manager", teams[args.huge], {"role": "billing_manager"}),
                    (f"{args.huge // 1000}k, role member, page 2", teams[args.huge], {"role": "member", "page": 2}),
                ]
                actor = Actor.operator()
                print(f"\n{dialect}: list_members + team_summary, median of {args.runs} runs")
                print(f"{'scenario':<40}{'ms':>9}{'queries':>9}  rows / total")
                statements: list = []

                def record(conn, cursor, statement, params, context, executemany):
                    statements.append((statement, params))

                for name, team, kwargs in scenarios:

                    times = []
                    for run in range(args.runs + 1):
                        statements.clear()
                        event.listen(db.engine, "before_cursor_execute", record)
                        started = time.perf_counter()
                        page = members.list_members(db.session, actor, team, limit=25, **kwargs)
                        members.team_summary(db.session, actor, team)
                        elapsed = time.perf_counter() - started
                        event.remove(db.engine, "before_cursor_execute", record)
                        db.session.rollback()
                        if run:
                            times.append(elapsed * 1000)
                    shown = f"{len(page.items)} / {'more than ' if getattr(page, 'capped', False) else ''}{page.total}"
                    print(f"{name:<40}{statistics.median(times):>9.2f}{len(statements):>9}  {shown}")
                    if args.plans:
                        for line in plans(statements, dialect):
                            print("      " + line)
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        finally:
            drop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
