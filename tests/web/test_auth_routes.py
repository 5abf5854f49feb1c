"""Magic-link sign-in through HTTP (DESIGN.md rules 15 and 16), with CSRF on as in production."""
from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, update

from app.models import OutboxEmail, PortalSession, Role, SignInToken, utcnow
from app.services import mail
from app.services import members as members_service
from app.services.activity import Actor
from app.services.sessions import load_session
from tests.factories import make_org, make_team, member
from tests.support.smtp import code_of, first_link, text_of
from tests.support.web import csrf_token, post_form, sign_in_client

LOGIN = "/acme/login"
COOKIE = "portal_session"


@pytest.fixture
def new_client(app):
    """Another browser."""
    return app.test_client


@pytest.fixture
def org(app):
    return make_org("acme", "Acme Analytics")


@pytest.fixture
def team(org):
    return make_team(org, name="Globex", owner="olivia@example.com",
                     members={"maya@example.com": Role.MEMBER, "ben@example.com": Role.BILLING_MANAGER})


def ask_for_link(client, email: str):
    return post_form(client, LOGIN, {"email": email})


def link_path(message) -> str:
    """The emailed link, as a path the test client can open (BASE_URL is http://portal.test)."""
    url = first_link(message, "/login/verify?token=")
    assert url.startswith("http://portal.test/acme/login/verify?token=")
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def emailed_link(client, mailbox, email: str) -> str:
    assert ask_for_link(client, email).status_code == 303
    return link_path(mailbox.wait_for(email))


def confirm(client, path: str):
    """Press the "Sign in" button of the page behind a link."""
    token = path.split("token=", 1)[1]
    return post_form(client, "/acme/login/verify", {"token": token}, page=path)


def without_csrf(html: str) -> str:
    html = re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "", html)
    return re.sub(r'"X-CSRFToken": "[^"]+"', "", html)


def landed(response) -> str:
    return response.request.path


def body(response) -> str:
    return response.get_data(as_text=True)


class TestLoginPage:
    def test_renders_a_form_with_an_email_field(self, client, org):
        response = client.get(LOGIN)
        assert response.status_code == 200
        html = body(response)
        assert "Sign in to Acme Analytics" in html
        assert 'name="email"' in html and 'name="csrf_token"' in html

    def test_signed_in_member_is_sent_to_the_portal(self, client, org, team):
        sign_in_client(client, member(team, "maya@example.com"))
        response = client.get(LOGIN)
        assert response.status_code == 303
        assert response.headers["Location"] == "/acme/"

    def test_unknown_organization_is_404_not_500(self, client, org):
        response = client.get("/nope/login")
        assert response.status_code == 404
        assert "There is no portal at this address." in body(response)

    def test_unknown_organization_post_is_404(self, client, org):
        response = client.post("/nope/login", data={"email": "a@example.com"})
        assert response.status_code == 404

    def test_post_without_csrf_token_is_refused_with_a_clear_message(self, client, org, team, mailbox):
        response = client.post(LOGIN, data={"email": "maya@example.com"})
        assert response.status_code == 400
        assert "This form has expired or was sent from elsewhere" in body(response)
        assert mailbox.to("maya@example.com") == []


class TestRequestLink:
    def test_known_and_unknown_email_get_the_same_answer_and_only_known_gets_mail(
        self, new_client, org, team, mailbox, delivered
    ):
        known_client, unknown_client = new_client(), new_client()
        known = ask_for_link(known_client, "maya@example.com")
        unknown = ask_for_link(unknown_client, "nobody@example.com")
        assert known.status_code == unknown.status_code == 303
        assert known.headers["Location"] == unknown.headers["Location"] == "/acme/login/sent"

        known_page = body(known_client.get("/acme/login/sent"))
        unknown_page = body(unknown_client.get("/acme/login/sent"))
        assert without_csrf(known_page).replace("maya@example.com", "EMAIL") == without_csrf(
            unknown_page).replace("nobody@example.com", "EMAIL")
        assert "Check your email" in known_page

        delivered()
        assert len(mailbox.to("maya@example.com")) == 1
        assert mailbox.to("nobody@example.com") == []

    def test_email_holds_link_and_code_built_from_base_url(self, client, org, team, mailbox):
        ask_for_link(client, "Maya@Example.com")
        message = mailbox.wait_for("maya@example.com")
        assert message["Subject"] == "Sign in to Acme Analytics"
        assert first_link(message).startswith("http://portal.test/acme/login/verify?token=")
        assert re.fullmatch(r"[A-Z2-9]{8}", code_of(message))

    def test_invalid_email_is_422_with_inline_error_and_keeps_the_value(self, client, org, mailbox):
        response = ask_for_link(client, "not-an-email")
        assert response.status_code == 422
        html = body(response)
        assert 'class="field-error"' in html
        assert "Enter a valid email address." in html
        assert 'value="not-an-email"' in html
        assert 'aria-invalid="true"' in html

    def test_empty_email_is_422(self, client, org):
        response = ask_for_link(client, "   ")
        assert response.status_code == 422
        assert "Enter your email address." in body(response)

    def test_per_email_limit_is_429_with_a_message_and_retry_after(self, app, new_client, org, team,
                                                                    mailbox, delivered):
        limit = app.config["SIGNIN_MAX_PER_EMAIL"]
        for _ in range(limit):
            assert ask_for_link(new_client(), "maya@example.com").status_code == 303
        response = ask_for_link(new_client(), "MAYA@example.com")
        assert response.status_code == 429
        assert "Too many sign-in links were requested for this email" in body(response)
        assert 0 < int(response.headers["Retry-After"]) <= 15 * 60
        assert 'value="MAYA@example.com"' in body(response)
        delivered()
        assert len(mailbox.to("maya@example.com")) == limit

    def test_per_email_limit_says_the_same_for_unknown_emails(self, app, new_client, org, team):
        for _ in range(app.config["SIGNIN_MAX_PER_EMAIL"]):
            ask_for_link(new_client(), "nobody@example.com")
        response = ask_for_link(new_client(), "nobody@example.com")
        assert response.status_code == 429
        assert "Too many sign-in links were requested for this email" in body(response)

    def test_per_client_limit_is_429_with_a_readable_page(self, app, client, org, team, mailbox,
                                                          delivered):
        app.config["SIGNIN_CLIENT_LIMIT"] = "3 per minute"
        for email in ("a@example.com", "b@example.com", "c@example.com"):
            assert ask_for_link(client, email).status_code == 303
        response = ask_for_link(client, "maya@example.com")
        assert response.status_code == 429
        assert response.mimetype == "text/html"
        html = body(response)
        assert "Too many requests from your connection" in html
        assert "<h1>Too many requests</h1>" in html
        assert int(response.headers["Retry-After"]) > 0
        delivered()
        assert mailbox.to("maya@example.com") == []
        # The page itself still loads: only sending is limited.
        assert client.get(LOGIN).status_code == 200

    def test_per_client_limit_for_htmx_is_a_toast(self, app, client, org, team):
        app.config["SIGNIN_CLIENT_LIMIT"] = "1 per minute"
        ask_for_link(client, "a@example.com")
        token = csrf_token(client, LOGIN)
        response = client.post(LOGIN, data={"email": "b@example.com", "csrf_token": token},
                               headers={"HX-Request": "true"})
        assert response.status_code == 429
        assert response.headers["HX-Reswap"] == "none"
        assert "Too many requests from your connection" in body(response)
        assert "<html" not in body(response)

    def test_a_new_request_invalidates_the_older_link(self, client, org, team, mailbox):
        first = emailed_link(client, mailbox, "maya@example.com")
        ask_for_link(client, "maya@example.com")
        mailbox.wait_for("maya@example.com", count=2)
        response = client.get(first)
        assert response.status_code == 410
        assert "already used or replaced by a newer one" in body(response)


class TestLink:
    def test_get_shows_a_button_and_consumes_nothing(self, client, session, org, team, mailbox):
        path = emailed_link(client, mailbox, "maya@example.com")
        for _ in range(2):
            response = client.get(path)
            assert response.status_code == 200
            html = body(response)
            assert re.search(r'<button[^>]*type="submit"[^>]*>Sign in</button>', html)
            assert "maya@example.com" in html
        assert session.scalar(select(SignInToken.used_at)) is None
        assert session.scalar(select(PortalSession.id)) is None

        response = confirm(client, path)
        assert response.status_code == 303
        assert client.get("/acme/me").status_code == 200

    def test_owner_lands_on_the_team_page(self, client, org, team, mailbox):
        path = emailed_link(client, mailbox, "olivia@example.com")
        response = client.get(path)
        token = re.search(r'name="token" type="hidden" value="([^"]+)"', body(response)).group(1)
        response = client.post("/acme/login/verify", follow_redirects=True,
                               data={"token": token, "csrf_token": csrf_token(client, path)})
        assert response.status_code == 200
        assert landed(response) == "/acme/team"
        assert "Globex" in body(response)
        assert "Sign out" in body(response)

    def test_billing_manager_lands_on_the_team_page(self, client, org, team, mailbox):
        path = emailed_link(client, mailbox, "ben@example.com")
        confirm(client, path)
        response = client.get("/acme/", follow_redirects=True)
        assert landed(response) == "/acme/team"

    def test_plain_member_lands_on_their_own_membership(self, client, org, team, mailbox):
        path = emailed_link(client, mailbox, "maya@example.com")
        response = confirm(client, path)
        assert response.headers["Location"] == "/acme/"
        response = client.get(response.headers["Location"], follow_redirects=True)
        assert landed(response) == "/acme/me"
        html = body(response)
        assert "My membership" in html and "maya@example.com" in html and "Member" in html

    def test_used_link_says_it_was_used_and_does_not_sign_in(self, new_client, client, org, team, mailbox):
        path = emailed_link(client, mailbox, "maya@example.com")
        confirm(client, path)

        other = new_client()
        response = other.get(path)
        assert response.status_code == 410
        assert "This link was already used" in body(response)
        assert "Get a new sign-in link" in body(response)

        token = path.split("token=", 1)[1]
        response = other.post("/acme/login/verify",
                              data={"token": token, "csrf_token": csrf_token(other, LOGIN)})
        assert response.status_code == 410
        assert "This link was already used" in body(response)
        assert landed(other.get("/acme/me", follow_redirects=True)) == LOGIN

    def test_expired_link_says_it_expired(self, client, session, org, team, mailbox):
        path = emailed_link(client, mailbox, "maya@example.com")
        session.execute(update(SignInToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()
        response = client.get(path)
        assert response.status_code == 410
        assert "This link has expired" in body(response)
        token = path.split("token=", 1)[1]
        response = client.post("/acme/login/verify",
                               data={"token": token, "csrf_token": csrf_token(client, LOGIN)})
        assert response.status_code == 410
        assert "This link has expired" in body(response)
        assert session.scalar(select(PortalSession.id)) is None

    def test_made_up_token_is_refused(self, client, org):
        response = client.get("/acme/login/verify?token=not-a-real-token")
        assert response.status_code == 410
        assert "This link is not valid" in body(response)

    def test_link_of_another_organization_does_not_work_here(self, client, org, team, mailbox):
        other = make_org("umbrella", "Umbrella")
        make_team(other, owner="maya@example.com")
        path = emailed_link(client, mailbox, "maya@example.com")
        response = client.get(path.replace("/acme/", "/umbrella/"))
        assert response.status_code == 410

    def test_post_without_csrf_token_is_refused(self, client, org, team, mailbox):
        path = emailed_link(client, mailbox, "maya@example.com")
        token = path.split("token=", 1)[1]
        response = client.post("/acme/login/verify", data={"token": token})
        assert response.status_code == 400
        assert "This form has expired or was sent from elsewhere" in body(response)
        assert client.get(path).status_code == 200  # still usable


class TestCode:
    def test_sign_in_with_the_code(self, client, org, team, mailbox):
        ask_for_link(client, "maya@example.com")
        code = code_of(mailbox.wait_for("maya@example.com"))
        response = post_form(client, "/acme/login/code", {"code": code.lower()},
                             page="/acme/login/sent")
        assert response.status_code == 303
        assert landed(client.get("/acme/", follow_redirects=True)) == "/acme/me"

    def test_wrong_code_is_422_with_an_inline_error(self, client, org, team, mailbox):
        ask_for_link(client, "maya@example.com")
        mailbox.wait_for("maya@example.com")
        response = post_form(client, "/acme/login/code", {"code": "WRONG222"}, page="/acme/login/sent")
        assert response.status_code == 422
        assert "That code is not right" in body(response)

    def test_code_is_single_use(self, new_client, client, org, team, mailbox):
        ask_for_link(client, "maya@example.com")
        message = mailbox.wait_for("maya@example.com")
        post_form(client, "/acme/login/code", {"code": code_of(message)}, page="/acme/login/sent")
        # The link of the same email is spent with its code.
        assert new_client().get(link_path(message)).status_code == 410

    def test_code_page_without_a_request_sends_back_to_login(self, client, org):
        response = client.get("/acme/login/sent")
        assert response.status_code == 303
        assert response.headers["Location"] == LOGIN


class TestSignOut:
    def test_sign_out_is_post_only(self, client, session, org, team):
        sign_in_client(client, member(team, "maya@example.com"))
        response = client.get("/acme/logout")
        assert response.status_code == 405
        assert client.get("/acme/me").status_code == 200

    def test_sign_out_ends_the_session_row_and_the_old_cookie_stops_working(
        self, new_client, client, session, org, team
    ):
        token = sign_in_client(client, member(team, "maya@example.com"))
        assert client.get("/acme/me").status_code == 200
        old_cookie = client.get_cookie(COOKIE).value

        response = post_form(client, "/acme/logout", page="/acme/me")
        assert response.status_code == 303
        assert response.headers["Location"] == LOGIN
        session.expire_all()
        assert load_session(session, token) is None
        assert session.scalar(select(PortalSession.ended_at)) is not None

        assert client.get("/acme/me").status_code == 303
        replay = new_client()
        replay.set_cookie(COOKIE, old_cookie)
        response = replay.get("/acme/me")
        assert response.status_code == 303
        assert response.headers["Location"].startswith(LOGIN)

    def test_sign_out_without_csrf_token_is_refused(self, client, session, org, team):
        sign_in_client(client, member(team, "maya@example.com"))
        response = client.post("/acme/logout")
        assert response.status_code == 400
        assert client.get("/acme/me").status_code == 200


class TestSessions:
    def test_removed_member_is_signed_out_at_once(self, client, session, org, team):
        sign_in_client(client, member(team, "maya@example.com"))
        assert client.get("/acme/me").status_code == 200
        owner = member(team, "olivia@example.com")
        members_service.remove_member(session, Actor(member=owner), team, member(team, "maya@example.com").id)
        session.commit()
        response = client.get("/acme/me")
        assert response.status_code == 303
        assert response.headers["Location"].startswith(LOGIN)
        assert "Your session has ended. Sign in to continue." in body(client.get(LOGIN))

    def test_session_for_one_organization_does_not_open_another(self, client, session, org, team):
        other = make_org("umbrella", "Umbrella")
        make_team(other, owner="maya@example.com")
        sign_in_client(client, member(team, "maya@example.com"))
        response = client.get("/umbrella/me")
        assert response.status_code == 303
        assert response.headers["Location"].startswith("/umbrella/login")
        assert "Sign in to Umbrella to continue." in body(client.get("/umbrella/login"))
        assert client.get("/umbrella/team").status_code == 303
        assert client.get("/acme/me").status_code == 200  # still signed in where it belongs

    def test_first_visit_is_asked_to_sign_in_not_told_a_session_ended(self, client, org, team):
        response = client.get("/acme/me", follow_redirects=True)
        assert landed(response) == LOGIN
        assert "Sign in to continue." in body(response)
        assert "session has ended" not in body(response)

    def test_htmx_request_without_a_session_gets_hx_redirect_and_no_body(self, client, org, team):
        response = client.get("/acme/team", headers={"HX-Request": "true"})
        assert response.status_code == 204
        assert response.headers["HX-Redirect"] == LOGIN
        assert response.get_data() == b""

    def test_page_without_a_session_redirects_to_login_with_next(self, client, org, team):
        response = client.get("/acme/team")
        assert response.status_code == 303
        assert response.headers["Location"] == "/acme/login?next=/acme/team"


class TestTeamChoice:
    @pytest.fixture
    def two_teams(self, org, team):
        return make_team(org, name="Initech", owner="peter@example.com",
                         members={"Maya@Example.com": Role.BILLING_MANAGER})

    def test_choice_comes_only_after_proof(self, client, org, team, two_teams, mailbox):
        response = client.get("/acme/login/choose")
        assert response.status_code == 303
        assert response.headers["Location"] == LOGIN
        assert "Initech" not in body(client.get("/acme/login/sent"))

        path = emailed_link(client, mailbox, "maya@example.com")
        assert "Initech" not in body(client.get(path))
        response = confirm(client, path)
        assert response.headers["Location"] == "/acme/login/choose"
        html = body(client.get("/acme/login/choose"))
        assert "Globex (Member)" in html and "Initech (Billing manager)" in html

        initech_member = member(two_teams, "Maya@Example.com")
        response = post_form(client, "/acme/login/choose", {"member_id": str(initech_member.id)})
        assert response.status_code == 303
        response = client.get("/acme/", follow_redirects=True)
        assert landed(response) == "/acme/team"
        assert "Initech" in body(response)

    def test_the_code_also_leads_to_the_choice(self, client, org, team, two_teams, mailbox):
        ask_for_link(client, "maya@example.com")
        code = code_of(mailbox.wait_for("maya@example.com"))
        response = post_form(client, "/acme/login/code", {"code": code}, page="/acme/login/sent")
        assert response.headers["Location"] == "/acme/login/choose"
        assert "Initech (Billing manager)" in body(client.get("/acme/login/choose"))

    def test_proof_expires_after_ten_minutes(self, client, org, team, two_teams, mailbox):
        confirm(client, emailed_link(client, mailbox, "maya@example.com"))
        with client.session_transaction() as s:
            s["proven"] = {**s["proven"], "at": s["proven"]["at"] - 11 * 60}
        response = client.get("/acme/login/choose")
        assert response.status_code == 303
        assert response.headers["Location"] == LOGIN

    def test_proof_in_one_organization_is_no_proof_in_another(self, client, org, team, two_teams,
                                                              mailbox):
        other = make_org("umbrella", "Umbrella")
        make_team(other, owner="maya@example.com")
        make_team(other, owner="x@example.com", members={"maya@example.com": Role.MEMBER})
        confirm(client, emailed_link(client, mailbox, "maya@example.com"))
        assert client.get("/acme/login/choose").status_code == 200
        response = client.get("/umbrella/login/choose")
        assert response.status_code == 303
        assert response.headers["Location"] == "/umbrella/login"

    def test_choose_without_proof_cannot_pick_a_team_by_post(self, client, org, team, two_teams):
        token = csrf_token(client, LOGIN)
        response = client.post("/acme/login/choose",
                               data={"member_id": str(member(two_teams, "Maya@Example.com").id),
                                     "csrf_token": token})
        assert response.status_code == 303
        assert response.headers["Location"] == LOGIN
        assert client.get("/acme/me").status_code == 303

    def test_cannot_choose_a_team_the_email_is_not_in(self, client, org, team, two_teams, mailbox):
        confirm(client, emailed_link(client, mailbox, "maya@example.com"))
        owner = member(two_teams, "peter@example.com")
        response = post_form(client, "/acme/login/choose", {"member_id": str(owner.id)})
        assert response.status_code == 422
        assert client.get("/acme/me").status_code == 303


def test_sign_in_mail_is_redacted_after_delivery(client, session, org, team, mailbox, delivered):
    ask_for_link(client, "maya@example.com")
    assert "login/verify" in text_of(mailbox.wait_for("maya@example.com"))
    delivered()
    row = session.scalar(select(OutboxEmail))
    assert "login/verify" not in row.text_body


class TestErrorPages:
    """Domain errors raised anywhere in the HTML portal become one readable page or toast."""

    @pytest.fixture
    def raising(self, app, org):
        from app.errors import RateLimited

        def view(org_slug):
            raise RateLimited("An invitation was just sent. You can resend it in 42 seconds.",
                              retry_after=42)

        app.add_url_rule("/<org_slug>/_test_rate_limited", "test_rate_limited", view)
        return "/acme/_test_rate_limited"

    def test_a_rate_limit_from_a_service_is_429_with_retry_after(self, client, raising):
        response = client.get(raising)
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "42"
        assert "<h1>Too many requests</h1>" in body(response)
        assert "You can resend it in 42 seconds." in body(response)

    def test_for_htmx_it_is_a_toast_with_retry_after(self, client, raising):
        response = client.get(raising, headers={"HX-Request": "true"})
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "42"
        assert response.headers["HX-Reswap"] == "none"
        assert 'hx-swap-oob="beforeend"' in body(response)
        assert "You can resend it in 42 seconds." in body(response)


class TestReturnAfterSignIn:
    def test_lands_on_the_page_that_asked_for_sign_in(self, client, mailbox, team):
        bounced = client.get("/acme/activity")
        assert bounced.status_code == 303 and bounced.headers["Location"] == "/acme/login?next=/acme/activity"
        client.get(bounced.headers["Location"])
        path = emailed_link(client, mailbox, "olivia@example.com")
        response = confirm(client, path)
        assert response.status_code == 303 and response.headers["Location"] == "/acme/activity"

    @pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/acme/", "/other/team",
                                        "/acme/\\\\evil.example"])
    def test_never_sends_anyone_elsewhere(self, client, mailbox, team, target):
        client.get(f"{LOGIN}?next={target}")
        response = confirm(client, emailed_link(client, mailbox, "olivia@example.com"))
        assert response.headers["Location"] == "/acme/"


def test_old_sign_in_rows_are_pruned_on_the_next_request(client, session, mailbox, team):
    ask_for_link(client, "olivia@example.com")
    mail.join_background_delivery()
    session.execute(update(SignInToken).values(created_at=utcnow() - timedelta(days=2)))
    session.commit()
    ask_for_link(client, "olivia@example.com")
    mail.join_background_delivery()
    rows = session.scalars(select(SignInToken)).all()
    assert len(rows) == 1 and rows[0].created_at > utcnow() - timedelta(minutes=1)
