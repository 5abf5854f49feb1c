"""My membership: every member renames themselves and may leave the team (not the owner)."""
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ActivityEvent, Member, PortalSession, Role, Seat, SeatStatus
from app.services import organizations
from tests.factories import make_org, make_team, member
from tests.support.web import HX, csrf_token, sign_in_client


@pytest.fixture
def team(app):
    org = make_org("acme", "Acme")
    return make_team(org, name="Globex", owner="olivia@example.com",
                     members={"maya@example.com": Role.MEMBER})


def signed_in(client, team, email):
    sign_in_client(client, member(team, email))
    return client


def post(client, url, data=None, headers=None):
    data = {**(data or {}), "csrf_token": csrf_token(client, "/acme/me")}
    return client.post(url, data=data, headers=headers or {})


class TestRename:
    def test_a_plain_member_renames_themselves_with_htmx(self, client, team):
        maya = signed_in(client, team, "maya@example.com")
        response = post(maya, "/acme/me/name", {"name": "  Maya Patel "}, HX)
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and html.lstrip().startswith('<form id="name-form"')
        assert 'value="Maya Patel"' in html and "Your name is saved." in html
        db.session.expire_all()
        assert member(team, "maya@example.com").name == "Maya Patel"
        event = db.session.scalar(select(ActivityEvent).where(ActivityEvent.action == "member.updated"))
        assert event.actor_label == "Maya Patel" and event.after == {"name": "Maya Patel"}

    def test_without_js_it_redirects_with_a_flash(self, client, team):
        maya = signed_in(client, team, "maya@example.com")
        response = post(maya, "/acme/me/name", {"name": "M. Patel"})
        assert response.status_code == 303 and response.headers["Location"] == "/acme/me"
        assert "Your name is saved." in maya.get("/acme/me").get_data(as_text=True)

    def test_a_long_name_is_an_inline_error_and_changes_nothing(self, client, team):
        maya = signed_in(client, team, "maya@example.com")
        response = post(maya, "/acme/me/name", {"name": "x" * 300}, HX)
        html = response.get_data(as_text=True)
        assert response.status_code == 422 and 'id="my-name-error"' in html and "x" * 300 in html
        db.session.expire_all()
        assert member(team, "maya@example.com").name == "Maya"


class TestLeave:
    def test_a_member_leaves_loses_seats_and_is_signed_out(self, app, client, team):
        sub = organizations.set_seat_count(db.session, team, 2)
        maya_row = member(team, "maya@example.com")
        db.session.add(Seat(subscription_id=sub.id, email=maya_row.email, member_id=maya_row.id,
                            status=SeatStatus.CLAIMED))
        db.session.commit()
        maya = signed_in(client, team, "maya@example.com")
        other_device = signed_in(app.test_client(), team, "maya@example.com")
        page = maya.get("/acme/me").get_data(as_text=True)
        assert "Acme" in page and 'href="/acme/me/leave"' in page
        confirm = maya.get("/acme/me/leave", headers=HX).get_data(as_text=True)
        assert confirm.lstrip().startswith("<dialog") and "your seat is revoked" in confirm
        response = post(maya, "/acme/me/leave")
        assert response.status_code == 303 and response.headers["Location"] == "/acme/login"
        db.session.expire_all()
        gone = db.session.get(Member, maya_row.id)
        assert gone.deleted_at is not None
        assert db.session.scalar(select(Seat.status).where(Seat.member_id == gone.id)) is SeatStatus.REVOKED
        assert all(row.ended_at for row in db.session.scalars(
            select(PortalSession).where(PortalSession.member_id == gone.id)))
        assert other_device.get("/acme/me").status_code == 303
        assert "You left Globex." in client.get("/acme/login").get_data(as_text=True)

    def test_without_js_the_confirmation_is_a_page(self, client, team):
        maya = signed_in(client, team, "maya@example.com")
        html = maya.get("/acme/me/leave").get_data(as_text=True)
        assert "<html" in html and "Leave Globex?" in html
        assert re.search(r'<form method="post" action="/acme/me/leave">', html)

    def test_the_owner_cannot_leave(self, client, team):
        olivia = signed_in(client, team, "olivia@example.com")
        assert 'href="/acme/me/leave"' not in olivia.get("/acme/me").get_data(as_text=True)
        response = post(olivia, "/acme/me/leave")
        assert response.status_code == 303 and response.headers["Location"] == "/acme/me"
        assert "The owner cannot leave the team." in olivia.get("/acme/me").get_data(as_text=True)
        db.session.expire_all()
        assert member(team, "olivia@example.com").deleted_at is None

    def test_leaving_needs_csrf(self, client, team):
        maya = signed_in(client, team, "maya@example.com")
        assert maya.post("/acme/me/leave").status_code == 400
        assert member(team, "maya@example.com").deleted_at is None
