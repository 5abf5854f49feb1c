"""Every scenario of issue 14 over real HTTP, as a ratio to a bare Flask hello-world.

    .venv/bin/python benchmarks/run.py                    # SQLite in a temporary directory, 10 s each
    .venv/bin/python benchmarks/run.py --quick            # 1 s each (CI smoke: does it still work?)
    .venv/bin/python benchmarks/run.py --huge             # and a 100,000-member team (page 1, last page, search)
    DATABASE_URL=postgresql+psycopg://… .venv/bin/python benchmarks/run.py

Starts a hello-world and the portal under gunicorn (2 sync workers each) on free loopback ports,
fills a small (25) and a large (10,000) team in their own organizations, signs the owners in,
and runs `wrk -t2 -c16 -d<duration> --latency` on each scenario. Prints req/s, p50/p99, the
ratio to hello-world measured in the same run, non-2xx answers, and the peak RSS (VmHWM) of
each portal worker. With DATABASE_URL it creates a database of its own next to the one named
and drops it at the end; the named database's data is never touched. A benchmark, not a test:
the numbers depend on the machine (and on what else it runs)."""
from __future__ import annotations

import argparse
import http.client
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import floor  # noqa: E402
from load_http import SECRET, free_port, prepare  # noqa: E402
from team_page import database  # noqa: E402

WRK = shutil.which("wrk") or "/usr/bin/wrk"
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|"X-CSRFToken": "([^"]+)"')

# A wrk script: POST the htmx add-member form with a unique email per request.
ADD_LUA = """
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end
local n = 0
request = function()
  n = n + 1
  local body = "csrf_token=%(csrf)s&name=Bench+Add&role=member&email=add-%(run)s-" .. tid .. "-" .. n .. "%%40bench.example"
  return wrk.format("POST", "%(path)s", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "%(cookie)s",
    ["HX-Request"] = "true",
    ["HX-Target"] = "add-member",
  }, body)
end
"""


def gunicorn(app: str, port: int, env: dict, cwd: str, log) -> subprocess.Popen:
    """2 sync workers on 127.0.0.1:port, as the issue measures; their log goes to `log`."""
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", app], cwd=cwd, env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn {app} exited with {process.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz" if app == "wsgi:app" else "/")
            conn.getresponse().read()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"gunicorn {app} did not start on port {port}")


def vacuum_analyze(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for table in ("members", "customers", "portal_sessions"):
            conn.execute(text(f"VACUUM ANALYZE {table}"))
    engine.dispose()


def workers(master: int) -> list[int]:
    with open(f"/proc/{master}/task/{master}/children") as f:
        return [int(pid) for pid in f.read().split()]


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def cpu_seconds(master: int) -> float:
    """User + system CPU time the master's workers have used so far."""
    total = 0
    for pid in workers(master):
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / os.sysconf("SC_CLK_TCK")


def wrk(port: int, path: str, headers: dict, duration: float, script: str | None = None,
        master: int | None = None) -> dict:
    command = [WRK, "-t2", "-c16", f"-d{max(1, round(duration))}s", "--latency", "--timeout", "10s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    if script:
        command += ["-s", script]
    command.append(f"http://127.0.0.1:{port}{path}")
    cpu_before = cpu_seconds(master) if master else 0.0
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    cpu = cpu_seconds(master) - cpu_before if master else 0.0
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    done = re.search(r"(\d+) requests in", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    if not (rps and p50 and p99):
        raise SystemExit(f"could not read wrk's output:\n{out}")
    return {"rps": float(rps.group(1)), "p50": _ms(p50.group(1)), "p99": _ms(p99.group(1)),
            "cpu_ms": cpu * 1000 / max(1, int(done.group(1))) if done else float("nan"),
            "bad": int(bad.group(1)) if bad else 0, "socket": errors.group(0) if errors else ""}


def fetch(port: int, path: str, headers: dict) -> tuple[int, str, list[str]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read().decode()
    cookies = [v.split(";", 1)[0] for k, v in response.getheaders() if k.lower() == "set-cookie"]
    conn.close()
    return response.status, body, cookies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per scenario (default 10)")
    parser.add_argument("--quick", action="store_true", help="1 s per scenario, for a CI smoke run")
    parser.add_argument("--small", type=int, default=25, help="members of the small team (default 25)")
    parser.add_argument("--large", type=int, default=10_000, help="members of the large team (default 10,000)")
    parser.add_argument("--huge", type=int, nargs="?", const=100_000, default=None, metavar="N",
                        help="also a team of N members (100,000 when N is left out): its page 1, last "
                             "page and search against the small team's")
    args = parser.parse_args()
    duration = 1 if args.quick else args.duration

    tmp = tempfile.mkdtemp(prefix="portal-bench-")
    url, drop = database(os.environ.get("DATABASE_URL"), tmp)
    servers: list[subprocess.Popen] = []
    try:
        backend = url.split("://")[0].split("+")[0]
        print(f"Filling a {args.small:,}- and a {args.large:,}-member team on {backend} …", flush=True)
        run = uuid.uuid4().hex[:6]
        small = prepare(url, args.small, slug=f"small{run}")
        started = time.perf_counter()
        large = prepare(url, args.large, slug=f"large{run}")
        print(f"  ({args.large:,} members ready in {time.perf_counter() - started:.1f} s)", flush=True)
        huge = None
        if args.huge:
            started = time.perf_counter()
            huge = prepare(url, args.huge, slug=f"huge{run}")
            print(f"  ({args.huge:,} members ready in {time.perf_counter() - started:.1f} s)", flush=True)
        floor.prepare(url)
        if backend == "postgresql":  # what autovacuum does within a minute of a bulk fill
            vacuum_analyze(url)

        env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET, "INSTANCE_PATH": tmp,
               "PORTAL_ENV": "development"}
        hello_port, portal_port, floor_port = free_port(), free_port(), free_port()
        log = open(os.path.join(tmp, "gunicorn.log"), "w")  # the request log, kept off the table
        servers.append(gunicorn("hello:app", hello_port, env, HERE, log))
        servers.append(gunicorn("wsgi:app", portal_port, env, ROOT, log))
        servers.append(gunicorn("floor:app", floor_port, {**env, "FLOOR_DATABASE_URL": url}, HERE, log))
        floor_cookie = fetch(floor_port, "/login", {})[2][-1]

        # The add-member form's CSRF token lives in the session: take the cookie the page sets,
        # and send it from then on, as a browser does (else every page mints a new CSRF token
        # and sends a new session cookie, which no browser sees after its first page).
        for team in [t for t in (large, huge, small) if t is not None]:
            status, html, cookies = fetch(portal_port, f"/{team['slug']}/team", {"Cookie": team["cookie"]})
            match = CSRF_RE.search(html)
            if status != 200 or not match:
                raise SystemExit(f"the signed-in team page answered {status} without a CSRF token")
            team["cookie"] = cookies[-1] if cookies else team["cookie"]
            team["csrf"] = match.group(1) or match.group(2)
        form_cookie = small["cookie"]
        script = os.path.join(tmp, "add_member.lua")
        with open(script, "w") as f:
            f.write(ADD_LUA % {"csrf": small["csrf"], "run": run,
                               "path": f"/{small['slug']}/team/members", "cookie": form_cookie})

        last = max(1, math.ceil(args.large / 25))
        page = min(200, last)
        hx = {"HX-Request": "true", "HX-Target": "member-table"}

        def browser(team):
            return {"Cookie": team["cookie"]}

        def api(team):
            return {"Authorization": f"Bearer {team['token']}"}

        s, big = small, large
        scenarios = [
            # The floor: the portal's own request pipeline (request id, log line, headers,
            # limiter), no database, no template.
            ("portal /healthz (pipeline)", "/healthz", {}),
            ("team page, 25 members", f"/{s['slug']}/team", browser(s)),
            ("htmx table fragment", f"/{s['slug']}/team", {**browser(s), **hx}),
            ("API members ?limit=25", f"/v1/customers/{s['customer']}/members?limit=25", api(s)),
            ("API member {mid}", f"/v1/customers/{s['customer']}/members/{s['owner']}", api(s)),
            (f"10k team page, page {page}", f"/{big['slug']}/team?page={page}", browser(big)),
            (f"10k htmx fragment, page {page}", f"/{big['slug']}/team?page={page}", {**browser(big), **hx}),
            (f"10k API members, page {page}",
             f"/v1/customers/{big['customer']}/members?limit=25&page={page}", api(big)),
            ("10k API member {mid}", f"/v1/customers/{big['customer']}/members/{big['owner']}", api(big)),
            ("10k search 'member-4242'", f"/{big['slug']}/team?q=member-4242", {**browser(big), **hx}),
            ("seats page", f"/{s['slug']}/seats", browser(s)),
            ("groups page", f"/{s['slug']}/groups", browser(s)),
            ("Cloudflare group members", f"/client/v4/accounts/{uuid.UUID(s['customer']).hex}"
             f"/iam/user_groups/{s['group']}/members?per_page=25", api(s)),
        ]
        pairs = [(scenarios[1][0], scenarios[5][0]), (scenarios[2][0], scenarios[6][0]),
                 (scenarios[3][0], scenarios[7][0]), (scenarios[4][0], scenarios[8][0])]
        if huge is not None:
            h, k = huge, f"{args.huge // 1000:,}k" if args.huge >= 1000 else f"{args.huge:,}"
            huge_last = max(1, math.ceil(args.huge / 25))
            scenarios += [
                # one match each: "Synthetic Member <n>" for the last n of each team
                ("search, small team (1 match)", f"/{s['slug']}/team?q=member+{args.small - 1}",
                 {**browser(s), **hx}),
                (f"{k} team page 1", f"/{h['slug']}/team", browser(h)),
                (f"{k} team page, last ({huge_last})", f"/{h['slug']}/team?page={huge_last}", browser(h)),
                (f"{k} search (1 match)", f"/{h['slug']}/team?q=member+{args.huge - 1}",
                 {**browser(h), **hx}),
                (f"{k} API members, last page", f"/v1/customers/{h['customer']}/members?limit=25&page={huge_last}",
                 api(h)),
            ]
            pairs += [(scenarios[1][0], scenarios[-4][0]), (scenarios[1][0], scenarios[-3][0]),
                      (scenarios[-5][0], scenarios[-2][0]), (scenarios[3][0], scenarios[-1][0])]
        scenarios.append(("member add (htmx POST)", f"/{s['slug']}/team/members", None))
        for name, path, headers in scenarios:  # fail loudly before measuring a page of errors
            if headers is not None:
                status, _body, _c = fetch(portal_port, path, headers)
                if status != 200:
                    raise SystemExit(f"{name}: GET {path} answered {status}")

        print(f"wrk -t2 -c16 -d{duration:g}s; gunicorn 2 sync workers; {backend}", flush=True)
        wrk(hello_port, "/", {}, 1)  # warm up
        hello = wrk(hello_port, "/", {}, duration, master=servers[0].pid)
        rows = [("hello-world (Flask)", hello)]
        # The stack's own floor (benchmarks/floor.py): the cheapest version of each scenario.
        for name, path, headers in [
            ("floor: one ORM row as JSON", "/orm-row", {}),
            ("floor: one Core row as JSON", "/core-row", {}),
            ("floor: 25 ORM rows as JSON", "/orm-25", {}),
            ("floor: signed-in page", "/signed-in", {"Cookie": floor_cookie}),
            ("floor: signed-in 25-row table", "/table-25", {"Cookie": floor_cookie}),
        ]:
            if not args.quick:
                wrk(floor_port, path, headers, 1)
            rows.append((name, wrk(floor_port, path, headers, duration, master=servers[2].pid)))
        for name, path, headers in scenarios:
            if headers is None:
                rows.append((name, wrk(portal_port, path, {}, duration, script=script, master=servers[1].pid)))
            else:
                if not args.quick:
                    wrk(portal_port, path, headers, 1)  # warm up both workers
                rows.append((name, wrk(portal_port, path, headers, duration, master=servers[1].pid)))

        # CPU ms/req: the workers' user + system CPU time per answered request. On a busy machine
        # it moves far less than req/s does, so its ratio to hello-world's is the steadier figure.
        print(f"\n{'scenario':<32}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'ratio':>8}{'non-2xx':>9}"
              f"{'CPU ms/req':>12}{'CPU ratio':>10}")
        for name, r in rows:
            cpu_ratio = hello["cpu_ms"] / r["cpu_ms"] if r["cpu_ms"] else float("nan")
            print(f"{name:<32}{r['rps']:>9.1f}{r['p50']:>9.2f}{r['p99']:>9.2f}"
                  f"{r['rps'] / hello['rps']:>8.3f}{r['bad']:>9}{r['cpu_ms']:>12.3f}{cpu_ratio:>10.3f}"
                  + (f"  {r['socket']}" if r["socket"] else ""))
        by_name = dict(rows)
        print(f"\n{'req/s of the large team / the 25-member figure':<58}{'ratio':>8}")
        for small_name, large_name in pairs:
            print(f"{large_name + ' / ' + small_name:<58}"
                  f"{by_name[large_name]['rps'] / by_name[small_name]['rps']:>8.3f}")
        rss = [peak_rss_mb(pid) for pid in workers(servers[1].pid)]
        print("peak RSS per portal worker (VmHWM): " + ", ".join(f"{mb:.1f} MB" for mb in rss))
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
        drop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
