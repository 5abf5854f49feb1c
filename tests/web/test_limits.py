"""Limits that hold across routes and parallel requests (issue 13): one client bucket for every
unauthenticated route that mails or checks a secret, invitation emails per address and per team
whatever path sends them, the per-email sign-in limit and the code's attempt counter under
parallel requests. Runs on SQLite, and on PostgreSQL under TEST_DATABASE_URL."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import Role, SignInToken
from app.services import signin
from tests.api.conftest import Api, mint_token
from tests.factories import make_org, make_team, member
from tests.support.concurrency import run_together
from tests.support.web import HX, csrf_token, post_form, sign_in_client

CODE_REQUEST = "/v1/customer-portal/customer-session/request"
CODE_AUTH = "/v1/customer-portal/customer-session/authenticate"


@pytest.fixture
def org(app):
    return make_org("acme", "Acme Analytics")


@pytest.fixture
def team(org):
    return make_team(org, name="Globex", owner="olivia@example.com", seats=3,
                     members={"ben@example.com": Role.BILLING_MANAGER})


def text(response) -> str:
    return " ".join(response.get_data(as_text=True).split())


class TestOneClientBucket:
    def test_sign_in_code_link_and_claim_routes_share_one_count(self, app, client, org, team):
        app.config["SIGNIN_CLIENT_LIMIT"] = "4 per 10 minutes"
        token = csrf_token(client, "/acme/login")
        statuses = [
            post_form(client, "/acme/login", {"email": "a@example.com"}).status_code,
            client.post("/acme/login/code", data={"code": "WRONG", "csrf_token": token}).status_code,
            client.post("/acme/login/verify", data={"token": "x", "csrf_token": token}).status_code,
            client.post("/acme/claim", data={"token": "x", "csrf_token": token}).status_code,
        ]
        assert 429 not in statuses
        refused = client.post("/acme/claim/new-link", data={"token": "x", "csrf_token": token})
        assert refused.status_code == 429
        assert "Too many requests from your connection" in text(refused)
        assert int(refused.headers["Retry-After"]) > 0

    def test_the_api_and_the_pages_count_together(self, app, client, org):
        app.config["SIGNIN_CLIENT_LIMIT"] = "3 per 10 minutes"
        anonymous = Api(client, None)
        body = {"email": "dev@example.com", "organization_id": str(org.id)}
        assert anonymous.post(CODE_REQUEST, json=body).status_code == 202
        assert anonymous.post(CODE_AUTH, json={**body, "code": "X"}).status_code == 401
        assert post_form(client, "/acme/login", {"email": "b@example.com"}).status_code == 303
        refused = anonymous.post("/v1/customer-seats/claim", json={"invitation_token": "x"})
        assert refused.status_code == 429
        assert refused.get_json()["error"] == "TooManyRequests"
        assert int(refused.headers["Retry-After"]) > 0


class TestInvitationEmails:
    """A billing manager assigning and revoking in a loop hits the limit (issue 13)."""

    @pytest.fixture
    def manager(self, client, team):
        sign_in_client(client, member(team, "ben@example.com"))
        return client

    @pytest.fixture
    def sub_id(self, session, team):
        from app.models import Subscription

        return session.scalars(select(Subscription.id).where(Subscription.customer_id == team.id)).one()

    def assign(self, client, sub_id, email, *, htmx=True):
        token = csrf_token(client, "/acme/seats")
        return client.post(f"/acme/seats/subscriptions/{sub_id}/assign",
                           data={"email": email, "csrf_token": token},
                           headers={**HX, "X-CSRFToken": token} if htmx else {})

    def revoke_all(self, client, session):
        from app.models import Seat, SeatStatus

        session.rollback()
        for seat_id in session.scalars(select(Seat.id).where(Seat.status == SeatStatus.PENDING)):
            token = csrf_token(client, "/acme/seats")
            assert client.post(f"/acme/seats/{seat_id}/revoke",
                               data={"csrf_token": token}).status_code == 303

    def test_assign_and_revoke_in_a_loop_stops_at_the_per_address_limit(
            self, app, manager, session, sub_id, mailbox, delivered):
        assert app.config["INVITATIONS_PER_ADDRESS"] == "3 per day"
        for _ in range(3):
            assert self.assign(manager, sub_id, "victim@example.com").status_code == 200
            self.revoke_all(manager, session)
        refused = self.assign(manager, sub_id, "Victim@example.com")
        assert refused.status_code == 429
        assert "Too many invitations were sent to victim@example.com today" in text(refused)
        assert 'aria-invalid="true"' in text(refused)  # inline, next to the email field
        assert int(refused.headers["Retry-After"]) > 3600
        delivered()
        assert len(mailbox.to("victim@example.com")) == 3

    def test_without_javascript_the_refusal_is_the_page_with_the_message(
            self, app, manager, session, sub_id):
        app.config["INVITATIONS_PER_ADDRESS"] = "1 per day"
        assert self.assign(manager, sub_id, "v@example.com", htmx=False).status_code == 303
        self.revoke_all(manager, session)
        refused = self.assign(manager, sub_id, "v@example.com", htmx=False)
        assert refused.status_code == 429 and "Too many invitations" in text(refused)
        assert "<html" in refused.get_data(as_text=True)

    def test_assign_and_resend_count_together_per_team(self, app, manager, session, sub_id):
        app.config.update(INVITATIONS_PER_TEAM="3 per hour", RESEND_COOLDOWN_SECONDS=0)
        assert self.assign(manager, sub_id, "a@example.com").status_code == 200
        assert self.assign(manager, sub_id, "b@example.com").status_code == 200
        from app.models import Seat

        seat_id = session.scalars(select(Seat.id).where(Seat.email == "a@example.com")).one()
        token = csrf_token(manager, "/acme/seats")
        resent = manager.post(f"/acme/seats/{seat_id}/resend", data={"csrf_token": token},
                              headers={**HX, "X-CSRFToken": token})
        assert resent.status_code == 200
        refused = manager.post(f"/acme/seats/{seat_id}/resend", data={"csrf_token": token},
                               headers={**HX, "X-CSRFToken": token})
        assert refused.status_code == 429
        assert "Your team has sent the most invitations allowed for now" in text(refused)
        assert refused.headers["HX-Reswap"] == "none"  # a toast
        assert int(refused.headers["Retry-After"]) > 0
        assert self.assign(manager, sub_id, "c@example.com").status_code == 429

    def test_the_api_loop_is_refused_with_polar_json(self, app, client, session, org, team, sub_id,
                                                     mailbox, delivered):
        api = Api(client, mint_token(org))
        app.config["INVITATIONS_PER_ADDRESS"] = "2 per day"
        for _ in range(2):
            seat = api.post("/v1/customer-seats", json={"subscription_id": str(sub_id),
                                                        "email": "loop@example.com"})
            assert seat.status_code == 200, seat.get_json()
            assert api.delete(f"/v1/customer-seats/{seat.get_json()['id']}").status_code == 200
        refused = api.post("/v1/customer-seats", json={"subscription_id": str(sub_id),
                                                       "email": "loop@example.com"})
        assert refused.status_code == 429
        assert refused.get_json()["error"] == "TooManyRequests"
        assert "Too many invitations" in refused.get_json()["detail"]
        assert refused.headers["Retry-After"].isdigit()
        delivered()
        assert len(mailbox.to("loop@example.com")) == 2


class TestParallelRequests:
    def test_parallel_sign_in_requests_for_one_email_respect_its_limit(self, app, org, team):
        app.config.update(SIGNIN_MAX_PER_EMAIL=3, SIGNIN_CLIENT_LIMIT="1000 per minute")
        body = {"email": "olivia@example.com", "organization_id": str(org.id)}
        calls = [lambda: Api(app.test_client(), None).post(CODE_REQUEST, json=body).status_code
                 for _ in range(12)]
        statuses = run_together(calls)
        assert sorted(statuses) == [202] * 3 + [429] * 9, statuses

    def test_parallel_wrong_codes_are_checked_at_most_the_allowed_times(self, app, session, org,
                                                                        team):
        """32 wrong codes at once: exactly MAX_CODE_ATTEMPTS are checked; then even the right
        code is refused (before: a lost update let a sixth check, and the code, through)."""
        app.config["SIGNIN_CLIENT_LIMIT"] = "1000 per minute"
        _token, code = signin.issue_link(session, org, "olivia@example.com")
        session.commit()
        body = {"email": "olivia@example.com", "organization_id": str(org.id)}
        wrong = "A" * 8 if code != "A" * 8 else "B" * 8
        calls = [lambda: Api(app.test_client(), None).post(CODE_AUTH, json={**body, "code": wrong})
                 for _ in range(32)]
        answers = [r.get_json()["detail"] for r in run_together(calls)]
        assert all(isinstance(a, str) for a in answers), answers
        assert answers.count("That code is not right. Check the email and try again.") \
            == signin.MAX_CODE_ATTEMPTS - 1
        assert set(answers) <= {"That code is not right. Check the email and try again.",
                                "Too many wrong codes. Request a new one.",
                                "That code has expired. Request a new one."}
        right = Api(app.test_client(), None).post(CODE_AUTH, json={**body, "code": code})
        assert right.status_code == 401
        session.rollback()
        row = session.scalars(select(SignInToken)).one()
        assert row.code_attempts == signin.MAX_CODE_ATTEMPTS and row.used_at is not None
