"""Headers (issue 13): HSTS in production with a configurable max-age; pages whose URL holds a
token send no Referer; and no log line of a whole sign-in and claim carries a token or code."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from app import config as config_module
from app.models import Role, Subscription
from app.services import mail
from tests.conftest import make_app
from tests.factories import make_org, make_team, member
from tests.support.smtp import code_of, first_link
from tests.support.web import HX, csrf_token, post_form, sign_in_client


@pytest.fixture
def org(app):
    return make_org("acme", "Acme Analytics")


@pytest.fixture
def team(org):
    return make_team(org, name="Globex", owner="olivia@example.com", seats=2,
                     members={"ben@example.com": Role.BILLING_MANAGER})


def path_of(url: str) -> str:
    return url.replace("http://portal.test", "")


class TestHsts:
    def test_production_sends_hsts_with_the_configured_max_age(self, migrated, smtp_sink, org):
        app = make_app(migrated, smtp_sink, PORTAL_ENV="production", HSTS_MAX_AGE=600)
        response = app.test_client().get("/acme/login")
        assert response.headers["Strict-Transport-Security"] == "max-age=600"

    def test_production_defaults_to_a_year_and_0_turns_it_off(self, monkeypatch, tmp_path):
        monkeypatch.setenv("PORTAL_ENV", "production")
        monkeypatch.setenv("SECRET_KEY", "c0ffee" * 8)
        assert config_module.from_env(str(tmp_path))["HSTS_MAX_AGE"] == 31536000
        monkeypatch.setenv("HSTS_MAX_AGE", "0")
        assert config_module.from_env(str(tmp_path))["HSTS_MAX_AGE"] == 0

    def test_development_sends_none(self, client, org):
        assert "Strict-Transport-Security" not in client.get("/acme/login").headers


class TestReferrer:
    def test_sign_in_link_page_sends_no_referrer(self, client, org, team, mailbox):
        post_form(client, "/acme/login", {"email": "olivia@example.com"})
        page = path_of(first_link(mailbox.wait_for("olivia@example.com"), "/login/verify?token="))
        response = client.get(page)
        assert response.status_code == 200
        assert response.headers["Referrer-Policy"] == "no-referrer"

    def test_claim_page_sends_no_referrer(self, client, session, org, team, mailbox):
        sign_in_client(client, member(team, "olivia@example.com"))
        sub_id = session.scalars(select(Subscription.id)).one()
        post_form(client, f"/acme/seats/subscriptions/{sub_id}/assign", {"email": "n@example.com"},
                  page="/acme/seats")
        page = path_of(first_link(mailbox.wait_for("n@example.com"), "/claim?token="))
        response = client.get(page)
        assert response.status_code == 200
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert client.get("/acme/claim?token=dead").headers["Referrer-Policy"] == "no-referrer"

    def test_other_pages_keep_same_origin(self, client, org):
        assert client.get("/acme/login").headers["Referrer-Policy"] == "same-origin"


class TestLogs:
    def test_no_log_line_of_a_sign_in_and_a_claim_carries_a_token(self, app, client, session,
                                                                   team, mailbox, caplog):
        caplog.set_level(logging.DEBUG)
        secrets = []
        # The owner signs in with the emailed code on one device and the link on another.
        post_form(client, "/acme/login", {"email": "olivia@example.com"})
        message = mailbox.wait_for("olivia@example.com")
        link, code = path_of(first_link(message, "/login/verify?token=")), code_of(message)
        secrets += [link.split("token=", 1)[1], code]
        assert post_form(client, "/acme/login/code", {"code": code},
                         page="/acme/login/sent").status_code == 303
        other = app.test_client()
        post_form(other, "/acme/login", {"email": "ben@example.com"})
        link = path_of(first_link(mailbox.wait_for("ben@example.com"), "/login/verify?token="))
        secrets.append(link.split("token=", 1)[1])
        token = link.split("token=", 1)[1]
        assert other.post("/acme/login/verify", data={
            "token": token, "csrf_token": csrf_token(other, link)}).status_code == 303
        # The owner invites someone, who claims the seat.
        sub_id = session.scalars(select(Subscription.id)).one()
        post_form(client, f"/acme/seats/subscriptions/{sub_id}/assign", {"email": "n@example.com"},
                  page="/acme/seats", headers=HX)
        claim = path_of(first_link(mailbox.wait_for("n@example.com"), "/claim?token="))
        secrets.append(claim.split("token=", 1)[1])
        invitee = app.test_client()
        assert invitee.get(claim).status_code == 200
        assert invitee.post("/acme/claim", data={
            "token": secrets[-1], "csrf_token": csrf_token(invitee, claim)}).status_code == 303
        # Mistakes log too: a dead link, a wrong code.
        invitee.get(claim)
        invitee.get("/acme/login/verify?token=" + secrets[0])
        invitee.get("/v1/customer-seats/claim/" + secrets[-1])  # the API has it in the path
        mail.join_background_delivery()
        cookies = [c.value for c in client._cookies.values()]
        # Everything the portal, its libraries and its server log; not the test's own SMTP sink.
        lines = [r.getMessage() for r in caplog.records if not r.name.startswith("mail.log")]
        assert lines, "nothing was logged: the check would prove nothing"
        assert any("path=/v1/customer-seats/claim/[token]" in line for line in lines)
        for secret in secrets + cookies:
            assert not [line for line in lines if secret in line], secret


class TestSecretKeyRotation:
    def test_a_cookie_signed_with_the_old_key_works_while_it_is_a_fallback(
            self, migrated, smtp_sink, org, team):
        from app.extensions import db
        from app.services import sessions

        _row, token = sessions.start_session(db.session, member(team, "olivia@example.com"))
        db.session.commit()
        old = make_app(migrated, smtp_sink, SECRET_KEY="old-key-" + "a" * 32)
        browser = old.test_client()
        with browser.session_transaction() as s:
            s["_user_id"] = token
        cookie = browser.get_cookie("portal_session").value

        def team_page(**keys):
            client = make_app(migrated, smtp_sink, **keys).test_client()
            client.set_cookie("portal_session", cookie)
            return client.get("/acme/team").status_code

        assert team_page(SECRET_KEY="new-key-" + "b" * 32) == 303  # signed out
        assert team_page(SECRET_KEY="new-key-" + "b" * 32,
                         SECRET_KEY_FALLBACKS=["old-key-" + "a" * 32]) == 200
