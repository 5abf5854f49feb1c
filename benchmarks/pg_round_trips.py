"""PostgreSQL round trips and backend CPU per request, through Flask's test client.

    DATABASE_URL=postgresql+psycopg://… .venv/bin/python benchmarks/pg_round_trips.py \
        --scenario team|fragment|api-list|api-member|seats [--requests 1000] [--show]

A loopback proxy between the app and PostgreSQL parses the frontend protocol: each Query ('Q')
and each Sync ('S') message ends one round trip. Prints round trips and protocol messages per
request (P = Parse: a statement not prepared yet), the CPU the PostgreSQL backend of the app's
connection spent per request (from /proc, so PostgreSQL must run on this machine) and the CPU of
this process; `--show` lists the messages of one request. Makes and drops its own database."""
from __future__ import annotations

import argparse
import collections
import os
import socket
import struct
import sys
import tempfile
import threading
import time

from sqlalchemy import text

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from load_http import SECRET, prepare  # noqa: E402
from team_page import database  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402

SCEN = {
    "team": ("/{slug}/team", {}, True),
    "fragment": ("/{slug}/team", {"HX-Request": "true", "HX-Target": "member-table"}, True),
    "api-list": ("/v1/customers/{customer}/members?limit=25", {}, False),
    "api-member": ("/v1/customers/{customer}/members/{owner}", {}, False),
    "seats": ("/{slug}/seats", {}, True),
}


class Counter:
    def __init__(self, up):
        self.up = up
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.trips = 0
        self.kinds = collections.Counter()
        self.log = []
        self.recording = False
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            c, _ = self.sock.accept()
            s = socket.create_connection(self.up)
            threading.Thread(target=self.front, args=(c, s), daemon=True).start()
            threading.Thread(target=self.pipe, args=(s, c), daemon=True).start()

    def pipe(self, a, b):
        try:
            while d := a.recv(65536):
                b.sendall(d)
        except OSError:
            pass

    def front(self, c, s):
        buf = b""
        started = False
        try:
            while d := c.recv(65536):
                s.sendall(d)
                buf += d
                while True:
                    if not started:
                        if len(buf) < 4:
                            break
                        n = struct.unpack("!I", buf[:4])[0]
                        if len(buf) < n:
                            break
                        code = struct.unpack("!I", buf[4:8])[0]
                        buf = buf[n:]
                        started = code not in (80877103, 80877104, 80877102)
                        continue
                    if len(buf) < 5:
                        break
                    t = buf[:1]
                    n = struct.unpack("!I", buf[1:5])[0]
                    if len(buf) < 1 + n:
                        break
                    body = buf[5:1 + n]
                    buf = buf[1 + n:]
                    if not self.recording:
                        continue
                    self.kinds[t.decode()] += 1
                    if t in (b"Q", b"S"):
                        self.trips += 1
                    if t == b"Q":
                        self.log.append("Q " + body.split(b"\0")[0].decode()[:70])
                    elif t == b"P":
                        name, rest = body.split(b"\0", 1)
                        self.log.append(f"P[{name.decode()}] " + rest.split(b"\0")[0].decode()[:60])
                    elif t == b"B":
                        portal, rest = body.split(b"\0", 1)
                        stmt = rest.split(b"\0")[0].decode()
                        self.log.append(f"B[{stmt}]")
                    elif t == b"S":
                        self.log.append("S")
        except OSError:
            pass


def main():
    import logging
    logging.disable(logging.INFO)
    p = argparse.ArgumentParser()
    p.add_argument("--scenario", default="team")
    p.add_argument("--members", type=int, default=25)
    p.add_argument("--requests", type=int, default=50)
    p.add_argument("--show", action="store_true")
    a = p.parse_args()
    tmp = tempfile.mkdtemp(prefix="portal-rt-")
    url, drop = database(os.environ["DATABASE_URL"], tmp)
    try:
        team = prepare(url, a.members, slug="rt")
        u = make_url(url)
        proxy = Counter((u.host, u.port or 5432))
        app = create_app({"SQLALCHEMY_DATABASE_URI":
                          u.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False),
                          "SECRET_KEY": SECRET})
        client = app.test_client()
        tpl, headers, browser = SCEN[a.scenario]
        path, headers = tpl.format(**team), dict(headers)
        if browser:
            name, _, value = team["cookie"].partition("=")
            client.set_cookie(name, value)
        else:
            headers["Authorization"] = f"Bearer {team['token']}"
        for _ in range(20):
            r = client.get(path, headers=headers)
            assert r.status_code == 200, r.status_code
        with app.app_context():
            pid = db.session.scalar(text("SELECT pg_backend_pid()"))
            db.session.commit()
        def cpu():
            f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
        time.sleep(0.2)
        c0, p0 = cpu(), time.process_time()
        proxy.recording = True
        for i in range(a.requests):
            client.get(path, headers=headers)
            if i == 0:
                time.sleep(0.2)
                first = list(proxy.log)
        c1, p1 = cpu(), time.process_time()
        time.sleep(0.3)
        proxy.recording = False
        print(f"server backend CPU {(c1 - c0) / a.requests * 1000:.3f} ms/request, "
              f"client process CPU {(p1 - p0) / a.requests * 1000:.3f} ms/request")
        print(f"{a.scenario}: {proxy.trips / a.requests:g} round trips per request; "
              f"messages/request: " + ", ".join(f"{k}={v / a.requests:g}" for k, v in sorted(proxy.kinds.items())))
        if a.show:
            print("\n".join(first))
        with app.app_context():
            db.engine.dispose()
    finally:
        drop()


if __name__ == "__main__":
    main()
