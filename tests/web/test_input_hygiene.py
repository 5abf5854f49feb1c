"""Input hygiene (issue 13): NUL, control and text-direction characters are refused in every
text field (forms inline, API 422), searches treat wildcards as plain text, /v1 bodies must be
JSON (415), and `next` stays inside the same organization's portal. On SQLite, and on
PostgreSQL (where a NUL was a 500) under TEST_DATABASE_URL."""
from __future__ import annotations

import json

import pytest

from app.models import Role
from app.text import MESSAGE
from tests.api.conftest import Api, mint_token
from tests.factories import make_org, make_team, member
from tests.support.smtp import first_link
from tests.support.web import HX, csrf_token, post_form, sign_in_client

BAD = {"nul": "a\x00b", "bell": "Ann\x07", "escape": "\x1b[31mAnn", "rlo": "Ann\u202egnp.exe",
       "isolate": "\u2066Ann\u2069", "c1": "Ann\x85"}


@pytest.fixture
def org(app):
    return make_org("acme", "Acme Analytics")


@pytest.fixture
def team(org):
    return make_team(org, name="Globex", owner="olivia@example.com", seats=2,
                     members={"maya@example.com": Role.MEMBER})


@pytest.fixture
def owner(client, team):
    sign_in_client(client, member(team, "olivia@example.com"))
    return client


def text_of(response) -> str:
    return " ".join(response.get_data(as_text=True).split())


class TestForms:
    @pytest.mark.parametrize("value", BAD.values(), ids=BAD.keys())
    def test_add_member_name_is_an_inline_error(self, owner, value):
        response = post_form(owner, "/acme/team/members", {"email": "new@example.com", "name": value},
                             page="/acme/team", headers=HX)
        assert response.status_code == 422
        assert MESSAGE in text_of(response) and 'aria-invalid="true"' in text_of(response)

    def test_add_member_without_javascript_re_renders_the_page(self, owner):
        response = post_form(owner, "/acme/team/members", {"email": "new@example.com", "name": "a\x00"},
                             page="/acme/team")
        assert response.status_code == 422 and MESSAGE in text_of(response)

    @pytest.mark.parametrize("value", [BAD["nul"], BAD["rlo"]], ids=["nul", "rlo"])
    def test_edit_member_name_is_an_inline_error(self, owner, team, value):
        maya = member(team, "maya@example.com")
        response = post_form(owner, f"/acme/team/members/{maya.id}",
                             {"name": value, "role": "member"}, page="/acme/team", headers=HX)
        assert response.status_code == 422 and MESSAGE in text_of(response)

    @pytest.mark.parametrize("value", ["a\x00b@example.com", "\u202eolivia@example.com"])
    def test_sign_in_email_is_an_inline_error(self, client, team, value):
        response = post_form(client, "/acme/login", {"email": value})
        assert response.status_code == 422 and 'aria-invalid="true"' in text_of(response)

    def test_seat_email_is_an_inline_error(self, owner, session, team):
        from sqlalchemy import select

        from app.models import Subscription

        sub_id = session.scalars(select(Subscription.id)).one()
        response = post_form(owner, f"/acme/seats/subscriptions/{sub_id}/assign",
                             {"email": "x\x00@example.com"}, page="/acme/seats")
        assert response.status_code == 422 and "Enter a valid email address." in text_of(response)

    def test_code_with_nul_is_refused(self, client, team):
        post_form(client, "/acme/login", {"email": "olivia@example.com"})
        response = post_form(client, "/acme/login/code", {"code": "AB\x00CD"}, page="/acme/login/sent")
        assert response.status_code == 422 and MESSAGE in text_of(response)


class TestSearch:
    @pytest.mark.parametrize("query", ["a%00b", "%E2%80%AEmaya", "a%07"])
    def test_team_search_with_control_characters_is_an_inline_error(self, owner, query):
        response = owner.get(f"/acme/team?q={query}")
        assert response.status_code == 422
        assert MESSAGE in text_of(response) and 'id="filter-q-error"' in text_of(response)

    def test_active_search_gets_the_error_in_the_table_fragment(self, owner):
        response = owner.get("/acme/team?q=a%00b", headers={**HX, "HX-Target": "member-table"})
        assert response.status_code == 422
        assert MESSAGE in text_of(response) and "<html" not in text_of(response)

    def test_an_organization_slug_with_nul_is_404(self, client):
        assert client.get("/ac%00me/login").status_code == 404

    @pytest.mark.parametrize("wildcard", ["%", "_", "\\"])
    def test_customer_search_treats_wildcards_as_text(self, client, org, team, wildcard):
        make_team(org, name="Under_score 100%", owner="u@example.com")
        api = Api(client, mint_token(org))
        names = [c["name"] for c in api.get("/v1/customers", query_string={"query": wildcard})
                 .get_json()["items"]]
        assert names == ([] if wildcard == "\\" else ["Under_score 100%"])
        assert [c["name"] for c in api.get("/v1/customers", query_string={"query": "globex"})
                .get_json()["items"]] == ["Globex"]


class TestApi:
    @pytest.mark.parametrize("value", BAD.values(), ids=BAD.keys())
    def test_names_with_control_characters_are_422(self, client, org, team, value):
        api = Api(client, mint_token(org))
        response = api.post(f"/v1/customers/{team.id}/members",
                            json={"email": "new@example.com", "name": value})
        assert response.status_code == 422
        body = response.get_json()
        assert body["error"] == "PolarRequestValidationError"
        assert body["detail"][0]["loc"] == ["body", "name"] and body["detail"][0]["msg"] == MESSAGE

    def test_a_customer_renamed_with_escape_is_422(self, client, org, team):
        api = Api(client, mint_token(org))
        response = api.patch(f"/v1/customers/{team.id}", json={"name": "\x1b]0;owned\x07"})
        assert response.status_code == 422

    @pytest.mark.parametrize("path, body", [
        ("/v1/customer-portal/customer-session/request", '{"email": "olivia@example.com", "organization_id": "%s"}'),
        ("/v1/customer-seats/claim", '{"invitation_token": "x"}'),
    ])
    @pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                              None])
    def test_a_body_that_is_not_application_json_is_415(self, client, org, team, mailbox,
                                                        delivered, path, body, content_type):
        headers = {"Content-Type": content_type} if content_type else {}
        response = client.post(path, data=body.replace("%s", str(org.id)), headers=headers)
        assert response.status_code == 415
        assert response.get_json() == {
            "error": "UnsupportedMediaType",
            "detail": "Send the body as JSON, with the header Content-Type: application/json."}
        delivered()
        assert mailbox.to("olivia@example.com") == []

    @pytest.mark.parametrize("depth", [900, 5000])
    def test_deeply_nested_json_is_422_not_a_500(self, client, org, team, depth):
        api = Api(client, mint_token(org))
        response = api.post("/v1/customers", data="[" * depth + "]" * depth,
                            headers={"Content-Type": "application/json"})
        assert response.status_code == 422
        assert response.get_json()["error"] == "PolarRequestValidationError"

    def test_json_with_a_charset_is_accepted(self, client, org, team):
        response = client.post("/v1/customer-portal/customer-session/request",
                               data=json.dumps({"email": "olivia@example.com", "organization_id": str(org.id)}),
                               headers={"Content-Type": "application/json; charset=utf-8"})
        assert response.status_code == 202


class TestNext:
    @pytest.fixture
    def other(self, app):
        initech = make_org("initech", "Initech")
        return make_team(initech, name="Initech", owner="olivia@example.com")

    @pytest.mark.parametrize("target", ["/acme/../initech/team", "/acme/%2e%2e/initech/team",
                                        "/acme/%2E%2E%2Finitech/team", "/acme/./../initech/",
                                        "/acme/team%00"])
    def test_dot_segments_never_leave_the_portal(self, client, mailbox, team, other, target):
        client.get(f"/acme/login?next={target}")
        assert post_form(client, "/acme/login", {"email": "olivia@example.com"}).status_code == 303
        link = first_link(mailbox.wait_for("olivia@example.com"), "/login/verify?token=")
        path = link.replace("http://portal.test", "")
        token = path.split("token=", 1)[1]
        response = client.post("/acme/login/verify",
                               data={"token": token, "csrf_token": csrf_token(client, path)})
        assert response.status_code == 303 and response.headers["Location"] == "/acme/"

    def test_a_plain_portal_page_is_still_kept(self, client, mailbox, team):
        client.get("/acme/login?next=/acme/activity")
        post_form(client, "/acme/login", {"email": "olivia@example.com"})
        path = first_link(mailbox.wait_for("olivia@example.com"), "/login/verify?token=").replace(
            "http://portal.test", "")
        response = client.post("/acme/login/verify", data={
            "token": path.split("token=", 1)[1], "csrf_token": csrf_token(client, path)})
        assert response.headers["Location"] == "/acme/activity"
