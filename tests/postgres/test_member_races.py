"""Races on PostgreSQL (rule 8): concurrent transfers of ownership, demotions of the owner and
adds of the same email, sent in parallel over real HTTP to a real server. Afterwards the team
has exactly one owner and one member per email, and no request got a 500 (or a 409, which would
mean the customer lock let two writers through to the database's unique indexes)."""
from __future__ import annotations

import http.client
import re
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Member, Role
from app.services import sessions
from tests.conftest import LiveServer
from tests.support.concurrency import run_together
from tests.factories import make_org, make_team, member

pytestmark = pytest.mark.postgres
ROUNDS = 3


class Browser:
    """A signed-in person talking HTTP to the server, cookie and CSRF token included."""

    def __init__(self, app, base_url: str, person: Member):
        _row, token = sessions.start_session(db.session, person)
        db.session.commit()
        self.cookie_name = app.config["SESSION_COOKIE_NAME"]
        self.cookie = app.session_interface.get_signing_serializer(app).dumps(
            {"_user_id": token, "_fresh": True})
        self.host, self.port = urlsplit(base_url).hostname, urlsplit(base_url).port
        status, html = self.request("GET", "/acme/me")
        assert status == 200
        self.csrf = re.search(r'"X-CSRFToken": "([^"]+)"', html).group(1)

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        headers = {"Cookie": f"{self.cookie_name}={self.cookie}", "HX-Request": "true"}
        body = None
        if method != "GET":
            headers["X-CSRFToken"] = self.csrf
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = urlencode(form or {})
        try:
            conn.request(method, path, body, headers)
            response = conn.getresponse()
            text = response.read().decode()
            for value in response.headers.get_all("Set-Cookie") or []:
                match = re.match(rf"{self.cookie_name}=([^;]*)", value)
                if match and match.group(1):
                    self.cookie = match.group(1)
            return response.status, text
        finally:
            conn.close()


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_concurrent_transfers_demotions_and_adds_keep_the_rules(pg_app, round_):
    team = make_team(make_org("acme", "Acme"), owner="olivia@example.com", members={
        "ben@example.com": Role.BILLING_MANAGER,
        "bea@example.com": Role.BILLING_MANAGER,
        "maya@example.com": Role.MEMBER,
        "sam@example.com": Role.MEMBER,
        "kim@example.com": Role.MEMBER,
    })
    ids = {email: member(team, email).id for email in
           ("olivia@example.com", "maya@example.com", "sam@example.com", "kim@example.com")}
    with LiveServer(pg_app) as server:
        olivia = [Browser(pg_app, server.url, member(team, "olivia@example.com")) for _ in range(3)]
        managers = [Browser(pg_app, server.url, member(team, e))
                    for e in ("ben@example.com", "bea@example.com") * 3]
        transfers = [
            (lambda b=b, t=t: b.request("POST", f"/acme/team/members/{ids[t]}/owner",
                                        {"confirm_email": t}))
            for b, t in zip(olivia, ("maya@example.com", "sam@example.com", "kim@example.com"), strict=False)
        ]
        demotions = [
            (lambda b=b: b.request("POST", f"/acme/team/members/{ids['olivia@example.com']}",
                                   {"name": "Olivia", "role": "member"}))
            for b in managers[:2]
        ]
        adds = [
            (lambda b=b, e=e: b.request("POST", "/acme/team/members", {"email": e, "role": "member"}))
            # Billing managers add: nobody in this burst changes their role.
            for b, e in zip(managers, ["race@example.com", "RACE@example.com", "Race@Example.com",
                                       "race@EXAMPLE.com", "race@example.com", "RACE@EXAMPLE.COM"], strict=False)
        ]
        results = [(0, repr(r)) if isinstance(r, Exception) else r
                   for r in run_together(transfers + demotions + adds)]

    statuses = [status for status, _ in results]
    assert all(s in (200, 403, 422) for s in statuses), list(zip(statuses, [b[-300:] for _, b in results], strict=False))
    transfer_statuses = statuses[:3]
    assert transfer_statuses.count(200) <= 1, "a former owner transferred ownership again"
    refused = [body for status, body in results[:3] if status != 200]
    assert all("Only the owner can transfer ownership." in body or "owner and billing managers" in body
               for body in refused)
    assert all(status == 200 for status in statuses[5:]), "every add either added or found the member"
    assert sum("is already on the team" in body for _, body in results[5:]) == len(adds) - 1

    db.session.expire_all()
    live = select(Member).where(Member.customer_id == team.id, Member.deleted_at.is_(None))
    owners = db.session.scalars(live.where(Member.role == Role.OWNER)).all()
    assert len(owners) == 1
    duplicates = db.session.execute(
        select(func.lower(Member.email), func.count()).where(Member.customer_id == team.id,
                                                            Member.deleted_at.is_(None))
        .group_by(func.lower(Member.email)).having(func.count() > 1)
    ).all()
    assert duplicates == []
    assert len(db.session.scalars(live).all()) == 7
