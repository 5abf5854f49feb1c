"""Profile the signed-in team page (25 members) with cProfile, through Flask's test client.

    .venv/bin/python benchmarks/profile_team_page.py                  # SQLite, 200 requests
    .venv/bin/python benchmarks/profile_team_page.py --requests 500 --sort tottime --top 40
    .venv/bin/python benchmarks/profile_team_page.py --time --requests 1000   # no profiler: median ms
    .venv/bin/python benchmarks/profile_team_page.py --scenario api-member    # fragment, api-list too
    DATABASE_URL=postgresql+psycopg://… .venv/bin/python benchmarks/profile_team_page.py

Fills a team as benchmarks/run.py does (its own database), warms up, then profiles
`--requests` GETs of the page (or of the htmx fragment, the API list or the API member with
`--scenario`) and prints the top functions (cumulative time by default), the share of a
request spent in Jinja, url_for and SQLAlchemy, and the SQL statements and Python function
calls per request."""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from load_http import SECRET, prepare  # noqa: E402
from team_page import database  # noqa: E402

from sqlalchemy import event  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402

SCENARIOS = {  # name: (path, headers, browser session?)
    "team": ("/{slug}/team", {}, True),
    "fragment": ("/{slug}/team", {"HX-Request": "true", "HX-Target": "member-table"}, True),
    "api-list": ("/v1/customers/{customer}/members?limit=25", {}, False),
    "api-member": ("/v1/customers/{customer}/members/{owner}", {}, False),
    "seats": ("/{slug}/seats", {}, True),
    "groups": ("/{slug}/groups", {}, True),
    "cf-members": ("/client/v4/accounts/{account}/iam/user_groups/{group}/members?per_page=25", {},
                   False),
}
GROUPS = {  # (file ends with, function name): where the time of a request goes
    "Jinja rendering": ("jinja2/environment.py", "render"),
    "url_for": ("flask/app.py", "url_for"),
    "  org url_defaults hook": ("app/tenancy.py", "add_organization"),
    "  werkzeug Map build": ("werkzeug/routing/map.py", "build"),
    "SQLAlchemy execute": ("sqlalchemy/orm/session.py", "_execute_internal"),
    "member_required (session)": ("app/auth/session.py", "wrapped"),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=25)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--sort", default="cumulative", choices=["cumulative", "tottime"])
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--headers", default="", help="'hx' for the htmx table fragment")
    parser.add_argument("--scenario", default="team", choices=list(SCENARIOS),
                        help="what to request (default: the team page)")
    parser.add_argument("--time", action="store_true",
                        help="no profiler: the median and p90 of --requests requests, in ms")
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="portal-profile-")
    url, drop = database(os.environ.get("DATABASE_URL"), tmp)
    try:
        team = prepare(url, args.members, slug="profile")
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET})
        client = app.test_client()
        template, headers, browser = SCENARIOS[args.scenario]
        path = template.format(account=team["customer"].replace("-", ""), **team)
        headers = dict(headers)
        if browser:
            name, _, value = team["cookie"].partition("=")
            client.set_cookie(name, value)  # the test client's jar would replace a Cookie header
        else:
            headers["Authorization"] = f"Bearer {team['token']}"
        if args.headers == "hx":
            headers.update({"HX-Request": "true", "HX-Target": "member-table"})
        statements = []
        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", lambda *a, **k: statements.append(1))
        for _ in range(20):  # warm up: templates compiled, connections open
            response = client.get(path, headers=headers)
            assert response.status_code == 200, (response.status_code, response.headers.get("Location"))
        if args.time:
            timings = []
            for _ in range(args.requests):
                started = time.perf_counter()
                client.get(path, headers=headers)
                timings.append((time.perf_counter() - started) * 1000)
            timings.sort()
            print(f"{args.requests} requests of {path} ({args.members} members, {url.split(':')[0]}): "
                  f"median {statistics.median(timings):.2f} ms, p90 {timings[int(0.9 * len(timings))]:.2f} ms")
            return 0
        statements.clear()
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.enable()
        for _ in range(args.requests):
            client.get(path, headers=headers)
        profile.disable()
        elapsed = time.perf_counter() - started
        stats = pstats.Stats(profile)
        total = sum(tt for (_cc, _nc, tt, _ct, _callers) in stats.stats.values())
        print(f"{args.requests} requests of {path} ({args.members} members, "
              f"{url.split(':')[0]}): {elapsed / args.requests * 1000:.2f} ms each under the profiler")
        print(f"  {stats.total_calls / args.requests:,.0f} function calls and "
              f"{len(statements) / args.requests:g} SQL statements per request")
        for group, (where, function) in GROUPS.items():
            found = [(nc, ct) for (f, _line, name), (_cc, nc, _tt, ct, _c) in stats.stats.items()
                     if f.endswith(where) and name == function]
            cumulative, calls = sum(ct for _nc, ct in found), sum(nc for nc, _ct in found)
            print(f"  {group:<20} {cumulative / total * 100:5.1f}% of the time, "
                  f"{calls / args.requests:6.1f} calls per request")
        print()
        stats.sort_stats(args.sort).print_stats(args.top)
    finally:
        drop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
