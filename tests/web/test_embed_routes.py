"""Framing headers and the hand-off route."""
import pytest

from app.extensions import db
from app.models import Role
from app.services import organizations, sessions
from tests.factories import make_org, make_team, member


@pytest.fixture
def org(app):
    org = make_org("acme", "Acme")
    organizations.set_embed_origins(db.session, org, ["https://dash.example.com", "http://localhost:3000"])
    db.session.commit()
    return org


def frame_ancestors(response) -> str:
    csp = response.headers["Content-Security-Policy"]
    return next(p.strip() for p in csp.split(";") if p.strip().startswith("frame-ancestors"))


def test_portal_pages_name_exactly_the_allowed_origins(client, org):
    response = client.get("/acme/login")
    assert frame_ancestors(response) == "frame-ancestors https://dash.example.com http://localhost:3000"


def test_organization_without_origins_cannot_be_framed(client, app):
    make_org("plain")
    assert frame_ancestors(client.get("/plain/login")) == "frame-ancestors 'none'"


def test_pages_outside_the_portal_cannot_be_framed(client, org):
    assert frame_ancestors(client.get("/healthz")) == "frame-ancestors 'none'"
    assert frame_ancestors(client.get("/no-such-org/login")) == "frame-ancestors 'none'"


def test_hand_off_redirects_to_a_clean_url_and_signs_in(client, org):
    team = make_team(org, name="Globex", owner="olivia@example.com")
    _row, _api, handoff = sessions.start_api_session(db.session, member(team, "olivia@example.com"))
    db.session.commit()
    response = client.get(f"/acme/portal/enter?token={handoff}")
    assert response.status_code == 303
    assert response.headers["Location"] == "/acme/"
    assert "token" not in response.headers["Location"]
    page = client.get("/acme/team")
    assert page.status_code == 200 and "Globex" in page.get_data(as_text=True)
    assert 'class="embedded"' in page.get_data(as_text=True)


@pytest.mark.parametrize("token", ["", "nope", "x" * 5000])
def test_bad_hand_off_tokens_get_a_clear_page(client, org, token):
    response = client.get(f"/acme/portal/enter?token={token}")
    assert response.status_code == 410
    assert "This link is not valid" in response.get_data(as_text=True)


def test_expired_session_in_a_frame_shows_no_sign_in_form(client, org):
    response = client.get("/acme/team", headers={"Sec-Fetch-Dest": "iframe"})
    assert response.status_code == 303 and response.headers["Location"] == "/acme/portal/expired"
    page = client.get("/acme/portal/expired").get_data(as_text=True)
    assert "Your session has ended" in page and 'name="email"' not in page


def test_htmx_request_in_a_frame_after_expiry_is_redirected_whole(client, org):
    response = client.get("/acme/team", headers={"Sec-Fetch-Dest": "empty", "HX-Request": "true"})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/acme/login")


def test_an_organization_may_allow_the_sign_in_form_inside_frames(client, org):
    organizations.allow_signin_in_frame(db.session, org, True)
    db.session.commit()
    response = client.get("/acme/team", headers={"Sec-Fetch-Dest": "iframe"})
    assert response.status_code == 303 and response.headers["Location"].startswith("/acme/login")


def test_signing_in_inside_a_frame_keeps_the_embedded_look(client, org, mailbox):
    from tests.support.smtp import first_link
    from tests.support.web import post_form

    team = make_team(org, name="Globex", owner="olivia@example.com")
    _row, _api, handoff = sessions.start_api_session(db.session, member(team, "olivia@example.com"))
    organizations.allow_signin_in_frame(db.session, org, True)
    db.session.commit()
    client.get(f"/acme/portal/enter?token={handoff}")
    for row in db.session.query(sessions.PortalSession).filter_by(kind="embed"):
        sessions.end_session(db.session, row)
    db.session.commit()
    assert client.get("/acme/team").headers["Location"].startswith("/acme/login")
    post_form(client, "/acme/login", {"email": "olivia@example.com"})
    link = first_link(mailbox.wait_for("olivia@example.com"), "/login/verify")
    token = link.split("token=", 1)[1]
    post_form(client, "/acme/login/verify", {"token": token}, page=f"/acme/login/verify?token={token}")
    page = client.get("/acme/team").get_data(as_text=True)
    assert 'class="embedded"' in page and "Globex" in page


def _enter(client, org, referrer=None):
    team = make_team(org, name="Globex", owner="olivia@example.com",
                     members={"sam@example.com": Role.MEMBER})
    _row, _api, handoff = sessions.start_api_session(db.session, member(team, "olivia@example.com"))
    db.session.commit()
    headers = {"Referer": referrer} if referrer else {}
    client.get(f"/acme/portal/enter?token={handoff}", headers=headers)
    return team


@pytest.mark.parametrize("referrer, parent", [
    ("http://localhost:3000/settings/team", "http://localhost:3000"),
    ("https://evil.example/", ""),  # not allowed: never addressed
    (None, ""),
])
def test_the_framing_page_is_remembered_only_when_allowed(client, org, referrer, parent):
    _enter(client, org, referrer)
    html = client.get("/acme/team").get_data(as_text=True)
    assert f'data-parent-origin="{parent}"' in html


def test_a_removal_inside_the_frame_tells_the_host_which_member(client, org):
    import json

    from tests.support.web import HX, csrf_token

    team = _enter(client, org, "https://dash.example.com/")
    sam = member(team, "sam@example.com")
    response = client.delete(f"/acme/team/members/{sam.id}",
                             headers={**HX, "X-CSRFToken": csrf_token(client, "/acme/me")})
    assert response.status_code == 200
    trigger = json.loads(response.headers["HX-Trigger"])
    assert trigger["portal-event"]["events"] == [{"type": "member.removed", "member_id": str(sam.id)}]


@pytest.mark.parametrize("theme, attribute", [("dark", ' data-theme="dark"'), ("light", ' data-theme="light"'),
                                              ("neon", ""), (None, "")])
def test_the_host_may_force_the_colour_scheme(client, org, theme, attribute):
    team = make_team(org, name="Globex", owner="olivia@example.com")
    _row, _api, handoff = sessions.start_api_session(db.session, member(team, "olivia@example.com"))
    db.session.commit()
    client.get(f"/acme/portal/enter?token={handoff}" + (f"&theme={theme}" if theme else ""))
    html = client.get("/acme/team").get_data(as_text=True)
    assert f'<html lang="en"{attribute}>' in html
