"""The database goes away under load and comes back (issue 13): every answer is a 2xx or a 503
with Retry-After, never a 500, and requests work again once it is back (the checkout ping of
app.pg_engine, or reconnecting after the first failed request).

The shared PostgreSQL is not restarted (others use it): a TCP proxy on loopback stands between
the app and it, and the test cuts and restores that proxy while threads send requests."""
from __future__ import annotations

import http.client
import threading

import pytest
from sqlalchemy.engine import make_url

from app.extensions import db
from app.models import Role
from app.services import sessions
from tests.conftest import LiveServer, make_app
from tests.factories import make_org, make_team, member
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.postgres

THREADS = 4
PER_THREAD = 50  # 200 requests in all


@pytest.fixture
def proxied(pg_app, pg_database, smtp_sink):
    """The portal on a live server, talking to PostgreSQL through a proxy the test can cut."""
    org = make_org("acme", "Acme Analytics")
    team = make_team(org, name="Globex", owner="olivia@example.com",
                     members={"maya@example.com": Role.MEMBER})
    _row, session_token = sessions.start_session(db.session, member(team, "olivia@example.com"))
    db.session.commit()
    url = make_url(pg_database)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    app = make_app(url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False),
                   smtp_sink)
    server = LiveServer(app)
    with server:
        yield server, proxy, session_token
    proxy.stop()
    with app.app_context():
        db.engine.dispose()


def test_only_2xx_and_503_while_the_database_is_cut_and_restored(proxied):
    server, proxy, _token = proxied
    paths = ["/readyz", "/acme/login", "/v1/customers", "/acme/login/sent"]
    results: list[tuple] = []  # (status, path, Retry-After, start of body, after the restore)
    lock = threading.Lock()
    done = threading.Semaphore(0)
    restored = threading.Event()

    def worker(n: int):
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        for i in range(PER_THREAD):
            path = paths[(n + i) % len(paths)]
            headers = {"Authorization": "Bearer polar_oat_unknown"} if path.startswith("/v1") else {}
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                body = response.read().decode("utf-8", "replace")
                status = response.status
                retry_after = response.getheader("Retry-After")
            except (OSError, http.client.HTTPException) as exc:  # the server itself must not fail
                status, body, retry_after = -1, repr(exc), None
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            with lock:
                results.append((status, path, retry_after, body[:200], restored.is_set()))
            done.release()
        conn.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for _ in range(40):  # let 40 requests through with the database up
        done.acquire(timeout=60)
    proxy.cut()
    for _ in range(60):  # 60 more while it is down
        done.acquire(timeout=60)
    proxy.restore()
    restored.set()
    for t in threads:
        t.join(120)

    assert len(results) == THREADS * PER_THREAD
    statuses = sorted({status for status, *_ in results})
    assert set(statuses) <= {200, 303, 401, 503}, \
        [r for r in results if r[0] not in (200, 303, 401, 503)][:3]
    outages = [r for r in results if r[0] == 503]
    assert outages, "the cut was never noticed: the test proved nothing"
    assert all(r[2] == "5" for r in outages)  # Retry-After
    assert all(("ServiceUnavailable" in r[3]) if r[1].startswith("/v1") else
               ("unavailable" in r[3] or "Back in a moment" in r[3]) for r in outages)
    # Once restored, the last requests of every thread are answered normally again.
    tail = [r for r in results if r[4]][-THREADS * 5:]
    assert tail and all(r[0] in (200, 303, 401) for r in tail[-THREADS:]), tail[-THREADS:]
