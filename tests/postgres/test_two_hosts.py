"""Several hosts, proven (issue 13): two portal "hosts" (gunicorn, two workers each, on two
ports, as the README's production recipe runs them) share one PostgreSQL database and one real
Redis. A rate limit counts requests to both; a session started on one works on the other; a
sign-out on one ends it on the other; and two delivery workers (`flask worker --once`, one per
host) run at once send each queued email exactly once."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import select

from app.extensions import db
from app.models import EmailStatus, OutboxEmail
from tests.factories import make_org, make_team
from tests.support.redis_server import free_port
from tests.support.smtp import first_link
from tests.support.web import CSRF_RE

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CLIENT_LIMIT = 6


def host_env(database_url: str, redis_url: str, smtp_url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "SMTP_"))}
    env.update(
        PORTAL_ENV="production", SECRET_KEY="two-hosts-" + "c0ffee" * 8, DATABASE_URL=database_url,
        RATELIMIT_STORAGE_URI=redis_url, SMTP_URL=smtp_url, BASE_URL="http://portal.test",
        SESSION_COOKIE_SECURE="0", SIGNIN_CLIENT_LIMIT=f"{CLIENT_LIMIT} per 10 minutes",
        MAIL_DELIVER_ON_COMMIT="0",  # as the README says once workers run: requests only write rows
        PYTHONPATH=str(ROOT), INSTANCE_PATH=str(ROOT / "instance"),
    )
    return env


class Host:
    """`gunicorn --workers 2 wsgi:app` on its own port."""

    def __init__(self, env: dict, log_dir: Path, name: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(log_dir / f"{name}.log", "w")
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{self.port}", "wsgi:app"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (Path(self.log.name).read_text())[-2000:]
            try:
                if requests.get(self.url + "/readyz", timeout=10).status_code == 200:
                    return
            except (requests.ConnectionError, requests.Timeout):
                pass
            time.sleep(0.1)
        raise AssertionError(f"{self.url} did not become ready")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(20)
        self.log.close()


@pytest.fixture
def hosts(pg_app, pg_database, redis_url, smtp_sink, tmp_path):
    org = make_org("acme", "Acme Analytics")
    make_team(org, name="Globex", owner="olivia@example.com", seats=3)
    dead_smtp = f"smtp://127.0.0.1:{free_port()}"  # were a host to send itself, it would fail
    env = host_env(pg_database, redis_url, dead_smtp)
    started = [Host(env, tmp_path, "a"), Host(env, tmp_path, "b")]
    try:
        for host in started:
            host.wait_ready()
        yield started, host_env(pg_database, redis_url, smtp_sink.url)
    finally:
        for host in started:
            host.stop()


def csrf(browser: requests.Session, url: str) -> str:
    match = CSRF_RE.search(browser.get(url, allow_redirects=False).text)
    assert match, f"no CSRF token on {url}"
    return match.group(1) or match.group(2)


def workers_on_both_hosts(env: dict) -> list[subprocess.CompletedProcess]:
    command = [str(BIN / "flask"), "--app", "wsgi", "worker", "--once"]
    running = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for _ in range(2)]
    return [(p.wait(60), p.stdout.read(), p.stderr.read()) for p in running]


def test_two_hosts_share_limits_sessions_sign_out_and_the_outbox(hosts, redis_server, mailbox):
    (a, b), sender_env = hosts
    session = db.session  # the PostgreSQL database both hosts use
    browser = requests.Session()  # one browser behind a load balancer that alternates hosts

    # 1. A rate limit counted across both hosts (and their four gunicorn workers).
    statuses = []
    for i in range(CLIENT_LIMIT + 2):
        host = (a, b)[i % 2]
        token = csrf(browser, host.url + "/acme/login")
        statuses.append(browser.post(host.url + "/acme/login", allow_redirects=False, data={
            "email": f"nobody{i}@example.com", "csrf_token": token}).status_code)
    assert statuses == [303] * CLIENT_LIMIT + [429, 429]
    redis_server.flush()

    # 2. Several sign-in emails queued on both hosts; a worker on each host, at once, sends each
    #    exactly once.
    for host in (a, b, a):
        token = csrf(browser, host.url + "/acme/login")
        assert browser.post(host.url + "/acme/login", allow_redirects=False, data={
            "email": "olivia@example.com", "csrf_token": token}).status_code == 303
    queued = []
    session.rollback()
    queued = session.scalars(select(OutboxEmail).where(OutboxEmail.status == EmailStatus.QUEUED)).all()
    assert len(queued) == 3 and all(m.attempts == 0 for m in queued)  # no request sent anything
    results = workers_on_both_hosts(sender_env)
    assert all(code == 0 for code, _, _ in results), results
    mailbox.wait_for("olivia@example.com", count=3)
    assert len(mailbox.to("olivia@example.com")) == 3
    session.rollback()
    assert {m.status for m in session.scalars(select(OutboxEmail))} == {EmailStatus.SENT}

    # 3. A session started on host A is used on host B.
    link = urlsplit(first_link(mailbox.to("olivia@example.com")[-1], "/login/verify?token="))
    page = f"{link.path}?{link.query}"
    token = csrf(browser, a.url + page)
    signed_in = browser.post(a.url + "/acme/login/verify", allow_redirects=False, data={
        "token": link.query.split("token=", 1)[1], "csrf_token": token})
    assert signed_in.status_code == 303
    cookie = browser.cookies.get("portal_session")
    team_page = browser.get(b.url + "/acme/team", allow_redirects=False)
    assert team_page.status_code == 200 and "olivia@example.com" in team_page.text

    # 4. Signing out on host B ends the session on host A, even for a copy of the old cookie.
    token = csrf(browser, b.url + "/acme/team")
    assert browser.post(b.url + "/acme/logout", allow_redirects=False,
                        data={"csrf_token": token}).status_code == 303
    stolen = requests.get(a.url + "/acme/team", cookies={"portal_session": cookie},
                          allow_redirects=False)
    assert stolen.status_code == 303 and "/acme/login" in stolen.headers["Location"]
