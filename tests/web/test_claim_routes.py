"""Claiming a seat through HTTP (DESIGN.md rule 13): the GET changes nothing, the POST claims
and signs in, a dead link says why, an expired one can ask for a new link (over real SMTP)."""
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select, text as sql

from app.models import ActivityEvent, PortalSession, Role, Seat, SeatStatus, utcnow
from app.services import seats
from app.services.activity import Actor
from tests.factories import make_org, make_team, member
from tests.support.smtp import first_link
from tests.support.web import csrf_token, sign_in_client

BASE = "http://portal.test"


@pytest.fixture
def new_client(app):
    return lambda: app.test_client()


@pytest.fixture
def org(app):
    return make_org("acme", "Acme Analytics")


@pytest.fixture
def team(org):
    return make_team(org, name="Globex", owner="olivia@example.com", seats=3, members={
        "ben@example.com": Role.BILLING_MANAGER, "maya@example.com": Role.MEMBER})


def owner(team):
    return Actor(member=member(team, "olivia@example.com"))


def invite(session, team, sub, email="new@example.com"):
    seat = seats.assign_seat(session, owner(team), sub, email=email, base_url=BASE)
    token = seat.invitation_token
    session.commit()
    return seat, token


def claim_path(token: str) -> str:
    return f"/acme/claim?token={token}"


def body(response) -> str:
    return " ".join(response.get_data(as_text=True).split())


def claim(client, token):
    return client.post("/acme/claim", data={"token": token,
                                            "csrf_token": csrf_token(client, claim_path(token))})


def fresh(session, seat_id):
    session.rollback()
    return session.get(Seat, seat_id)


class TestClaimPage:
    def test_shows_organization_product_team_and_email_with_a_button(self, client, session, team, sub):
        _, token = invite(session, team, sub)
        response = client.get(claim_path(token))
        page = body(response)
        assert response.status_code == 200
        for fact in ("Acme Analytics", "Team plan", "Globex", "new@example.com"):
            assert fact in page
        assert '>Claim seat</button>' in page and 'action="/acme/claim"' in page

    def test_opening_the_link_changes_nothing(self, client, session, team, sub):
        """Mail scanners open links: the GET has no side effect."""
        seat, token = invite(session, team, sub)
        before = session.execute(sql("SELECT * FROM seats")).all()
        events = session.scalar(select(func.count(ActivityEvent.id)))
        for _ in range(3):
            assert client.get(claim_path(token)).status_code == 200
        session.rollback()
        assert session.execute(sql("SELECT * FROM seats")).all() == before
        assert session.scalar(select(func.count(ActivityEvent.id))) == events
        assert session.scalar(select(func.count(PortalSession.id))) == 0

    def test_the_emailed_link_opens_this_page(self, client, session, team, sub, mailbox):
        invite(session, team, sub)
        url = first_link(mailbox.wait_for("new@example.com"), "/claim")
        parts = urlsplit(url)
        assert client.get(f"{parts.path}?{parts.query}").status_code == 200


class TestClaiming:
    def test_claims_signs_in_and_lands_in_the_portal_with_a_welcome(self, client, session, team, sub):
        seat, token = invite(session, team, sub)
        response = claim(client, token)
        assert response.status_code == 303 and response.headers["Location"] == "/acme/"
        landing = client.get("/acme/", follow_redirects=True)
        page = body(landing)
        assert landing.status_code == 200 and "My membership" in page
        assert "Welcome to Globex, new@example.com. Your seat on Team plan is ready." in page
        assert "new@example.com · Globex" in page  # signed in as the invitee
        claimed = fresh(session, seat.id)
        assert claimed.status is SeatStatus.CLAIMED and claimed.member.email == "new@example.com"
        assert claimed.member.role is Role.MEMBER
        assert session.scalar(select(func.count(PortalSession.id))) == 1

    def test_a_manager_invitee_lands_on_the_team_page(self, client, session, team, sub):
        _, token = invite(session, team, sub, "ben@example.com")
        claim(client, token)
        assert client.get("/acme/").headers["Location"] == "/acme/team"

    def test_signed_in_as_someone_else_the_claim_switches_to_the_invitee(self, client, session, team, sub):
        sign_in_client(client, member(team, "olivia@example.com"))
        _, token = invite(session, team, sub, "maya@example.com")
        warning = body(client.get(claim_path(token)))
        assert "You are signed in as <strong>olivia@example.com</strong>" in warning
        assert "claiming it signs you out and in as maya@example.com" in warning
        claim(client, token)
        assert "Maya · Globex" in body(client.get("/acme/me"))

    def test_the_link_is_single_use(self, client, new_client, session, team, sub):
        _, token = invite(session, team, sub)
        claim(client, token)
        other = new_client()
        page = other.get(claim_path(token))
        assert page.status_code == 410 and "This invitation was already used" in body(page)
        assert 'href="/acme/login"' in body(page)
        response = other.post("/acme/claim", data={"token": token,
                                                   "csrf_token": csrf_token(other, "/acme/login")})
        assert response.status_code == 410 and "already used" in body(response)
        assert session.scalar(select(func.count(PortalSession.id))) == 1

    def test_without_csrf_token_nothing_is_claimed(self, client, session, team, sub):
        seat, token = invite(session, team, sub)
        response = client.post("/acme/claim", data={"token": token})
        assert response.status_code == 400
        assert fresh(session, seat.id).status is SeatStatus.PENDING

    def test_a_missing_token_is_not_a_500(self, client, session, team, sub):
        response = client.post("/acme/claim", data={"csrf_token": csrf_token(client, "/acme/login")})
        assert response.status_code == 404 and "not valid" in body(response)

    def test_activity_records_the_claim(self, client, session, team, sub):
        _, token = invite(session, team, sub)
        claim(client, token)
        event = session.scalars(select(ActivityEvent).where(ActivityEvent.action == "seat.claimed")).one()
        assert event.actor_label == "new@example.com"


class TestDeadLinks:
    def test_expired_link_says_so_and_offers_a_new_link(self, client, session, team, sub):
        seat, token = invite(session, team, sub)
        seat.invitation_expires_at = utcnow() - timedelta(hours=1)
        session.commit()
        page = client.get(claim_path(token))
        assert page.status_code == 410 and "This invitation link has expired" in body(page)
        assert ">Send me a new link</button>" in body(page) and "(new@example.com)" in body(page)
        assert claim(client, token).status_code == 410
        assert fresh(session, seat.id).status is SeatStatus.PENDING

    def test_revoked_link_says_it_was_withdrawn(self, client, session, team, sub):
        seat, token = invite(session, team, sub)
        seats.revoke_seat(session, owner(team), seat)
        session.commit()
        page = client.get(claim_path(token))
        assert page.status_code == 410 and "This invitation was withdrawn" in body(page)
        assert "Send me a new link" not in body(page)

    def test_replaced_link_says_a_newer_one_was_sent(self, app, client, session, team, sub):
        seat, token = invite(session, team, sub)
        seats.resend_invitation(session, owner(team), seat, base_url=BASE, cooldown_seconds=0)
        session.commit()
        page = client.get(claim_path(token))
        assert page.status_code == 410 and "This invitation link was replaced" in body(page)
        assert "most recent email" in body(page)

    @pytest.mark.parametrize("token", ["", "nonsense", "0" * 32 + ".abc"])
    def test_unknown_link_is_a_404_page_not_a_bare_error(self, client, org, token):
        page = client.get(claim_path(token))
        assert page.status_code == 404 and "This invitation link is not valid" in body(page)

    def test_a_link_under_another_organization_is_unknown(self, client, session, team, sub):
        make_org("other", "Other Org")
        _, token = invite(session, team, sub)
        assert client.get(f"/other/claim?token={token}").status_code == 404


class TestNewLink:
    def expired(self, session, team, sub):
        seat, token = invite(session, team, sub)
        seat.invitation_expires_at = utcnow() - timedelta(days=1)
        seat.invitation_sent_at = utcnow() - timedelta(days=8)
        session.commit()
        return seat, token

    def ask(self, client, token):
        return client.post("/acme/claim/new-link", data={
            "token": token, "csrf_token": csrf_token(client, claim_path(token))})

    def test_sends_a_fresh_link_to_the_invited_email_only(self, client, new_client, session, team,
                                                         sub, mailbox):
        seat, token = self.expired(session, team, sub)
        response = self.ask(client, token)
        assert response.status_code == 303 and response.headers["Location"] == "/acme/claim/sent"
        assert "We sent a new invitation link to new@example.com" in body(client.get("/acme/claim/sent"))
        message = mailbox.wait_for("new@example.com", count=2)
        assert all(m["To"] == "new@example.com" for m in mailbox.messages)
        new = first_link(message, "/claim").split("token=")[1]
        assert new != token
        assert client.get(claim_path(token)).status_code == 410  # the expired one is replaced
        assert claim(new_client(), new).status_code == 303

    def test_asking_twice_with_the_old_link_sends_nothing_more(self, client, session, team, sub, mailbox):
        _, token = self.expired(session, team, sub)
        self.ask(client, token)
        mailbox.wait_for("new@example.com", count=2)
        again = client.post("/acme/claim/new-link", data={
            "token": token, "csrf_token": csrf_token(client, "/acme/login")})
        assert again.status_code == 410 and "replaced" in body(again)
        assert len(mailbox.to("new@example.com")) == 2

    def test_is_rate_limited_with_a_readable_page(self, app, client, session, team, sub):
        app.config["RESEND_COOLDOWN_SECONDS"] = 600
        seat, token = invite(session, team, sub)
        seat.invitation_expires_at = utcnow() - timedelta(seconds=5)
        session.commit()
        response = self.ask(client, token)
        assert response.status_code == 429 and "Please wait a moment" in body(response)
        assert int(response.headers["Retry-After"]) > 500

    def test_a_working_link_goes_back_to_the_claim_page(self, client, session, team, sub, mailbox):
        _, token = invite(session, team, sub)
        response = self.ask(client, token)
        assert response.status_code == 303 and response.headers["Location"] == claim_path(token)
        assert len(mailbox.to("new@example.com")) <= 1

    def test_without_csrf_token_nothing_is_sent(self, client, session, team, sub, mailbox):
        _, token = self.expired(session, team, sub)
        assert client.post("/acme/claim/new-link", data={"token": token}).status_code == 400
        mailbox.wait_for("new@example.com")
        assert len(mailbox.to("new@example.com")) == 1
