"""Bad input, as a vendor's engineer integrating the JSON APIs sends it: every answer is a clear
4xx in the right shape (Polar's error JSON under /v1, Cloudflare's envelope under /client/v4),
never a 500, a 503, a redirect or an HTML page; a refused write changes nothing; another
organization's ids answer exactly as ids that do not exist.

The first classes pin what an adversarial pass over every route found wrong (each failed before
its fix); the rest pin representative cases of each route family so that a regression fails.
Runs on SQLite by default and on PostgreSQL with TEST_DATABASE_URL."""
from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Member, Role, Subscription, UserGroup, utcnow
from app.services import groups, organizations, sessions
from app.services import seats as seat_service
from app.services.access import Actor
from tests.api.conftest import Api, as_member, member_token, mint_token
from tests.factories import make_endpoint, make_team, member

BASE = "/client/v4/accounts"
ANY_ID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}")


def polar_error(response, status: int) -> dict:
    """Polar's error JSON: {"error": name, "detail": text}, or for 422 a list of issues."""
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    assert "Location" not in response.headers
    body = response.get_json()
    assert isinstance(body["error"], str) and body["error"]
    if status == 422:
        assert body["error"] == "PolarRequestValidationError"
        assert body["detail"] and all(
            isinstance(i["loc"], list) and isinstance(i["msg"], str) and isinstance(i["type"], str)
            for i in body["detail"])
    else:
        assert isinstance(body["detail"], str) and body["detail"]
    if status == 401:
        assert response.headers["WWW-Authenticate"] == "Bearer"
    return body


def cf_error(response, status: int, code: int) -> str:
    """Cloudflare's v4 error envelope, with `x-should-retry: false` where a retry cannot help."""
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    assert "Location" not in response.headers
    body = response.get_json()
    assert body["success"] is False and body["result"] is None and body["messages"] == []
    [error] = body["errors"]
    assert error["code"] == code and error["message"]
    if status not in (408, 409, 429) and status < 500:
        assert response.headers.get("x-should-retry") == "false"
    return error["message"]


@pytest.fixture
def group(team, owner):
    made = groups.create_group(db.session, Actor(member=owner), team, name="Engineering")
    db.session.commit()
    return made


# --- found by the adversarial pass -------------------------------------------------------------

class TestIamPagingNumbersThatAreNotFinite:
    """`float("inf")` parses, and `int()` of it raised: a 500 for `per_page=inf`."""

    @pytest.mark.parametrize("name", ["page", "per_page"])
    @pytest.mark.parametrize("value", ["inf", "-inf", "Infinity", "1e400", "nan"])
    def test_is_a_bad_request(self, api, team, group, name, value):
        for path in (f"{BASE}/{team.id.hex}/iam/user_groups",
                     f"{BASE}/{team.id.hex}/iam/user_groups/{group.id.hex}/members"):
            message = cf_error(api.get(path, query_string={name: value}), 400, 1001)
            assert message.startswith(f"{name} must be a whole number")


class TestCustomerSearchLength:
    """A 100,000-character `query=` made SQLite refuse the LIKE pattern, which answered 503
    "cannot reach its database" (a client retries that); now a 422 naming the parameter."""

    @pytest.mark.parametrize("name", ["query", "email"])
    def test_an_overlong_search_is_422(self, api, team, name):
        body = polar_error(api.get("/v1/customers", query_string={name: "x" * 100_000}), 422)
        assert body["detail"][0]["loc"] == ["query", name]
        assert body["detail"][0]["type"] == "string_too_long"

    def test_a_search_up_to_the_limit_still_answers(self, api, team):
        response = api.get("/v1/customers", query_string={"query": "x" * 320})
        assert response.status_code == 200
        assert response.get_json() == {"items": [], "pagination": {"total_count": 0, "max_page": 0}}
        found = api.get("/v1/customers", query_string={"query": "core"}).get_json()
        assert [c["id"] for c in found["items"]] == [str(team.id)]


class TestNoRedirects:
    """Werkzeug merged doubled slashes with a 308 and an HTML body; the SDKs follow no redirect
    (polar-sdk then fails on the body), so such a path is simply not found, in the API's shape."""

    @pytest.mark.parametrize("path", ["/v1//customers", "/v1/customers//", "/v1//", "/v1///",
                                      "/v1/customers//{team}/members",
                                      "/v1/customers/{team}//members"])
    @pytest.mark.parametrize("method", ["GET", "POST"])
    def test_v1(self, api, team, path, method):
        response = api.request(method, path.format(team=team.id), json={})
        if response.status_code == 405:  # `POST /v1//`: the portal's `/<org_slug>/` is GET only
            polar_error(response, 405)
        else:
            assert polar_error(response, 404) == {"error": "ResourceNotFound",
                                                  "detail": "Not found."}

    @pytest.mark.parametrize("path", ["/client/v4/accounts//{A}/iam/user_groups",
                                      "/client/v4/accounts/{A}//iam/user_groups",
                                      "/client/v4/accounts/{A}/iam//user_groups"])
    def test_client_v4(self, api, team, path):
        cf_error(api.get(path.format(A=team.id.hex)), 404, 7000)

    def test_the_real_paths_still_answer(self, api, team):
        assert api.get("/v1/customers").status_code == 200
        assert api.get("/v1/customers/").status_code == 200
        assert api.get(f"{BASE}/{team.id.hex}/iam/user_groups").status_code == 200


class TestOptions:
    """OPTIONS under /v1 answered an empty 200 (the one answer that was not JSON), while
    /client/v4 answers a 405 envelope: now a JSON 405 naming the methods, as every other
    method a path does not take."""

    @pytest.mark.parametrize("path", ["/v1/customers", "/v1/customers/{team}/members",
                                      "/v1/customer-sessions/", "/v1/customer-seats/claim",
                                      "/v1/customer-portal/members"])
    def test_is_a_json_405_with_allow(self, api, team, path):
        response = api.request("OPTIONS", path.format(team=team.id))
        assert polar_error(response, 405)["error"] == "MethodNotAllowed"
        allowed = set(response.headers["Allow"].replace(" ", "").split(","))
        assert "OPTIONS" not in allowed and allowed & {"GET", "POST"}

    def test_on_v1_itself_is_not_found(self, api):
        polar_error(api.request("OPTIONS", "/v1"), 404)


# --- /v1: request shape, every family ------------------------------------------------------------

class TestQueryParameters:
    @pytest.mark.parametrize("name, value", [
        ("limit", "-1"), ("limit", "0"), ("limit", "abc"), ("limit", "1.5"),
        ("page", "0"), ("page", "-1"), ("page", "abc"), ("page", "9" * 30),
        ("sorting", "unknown"), ("sorting", "email"), ("role", "admin"),
    ])
    def test_members_list_names_the_parameter(self, api, team, name, value):
        body = polar_error(api.get(f"/v1/customers/{team.id}/members",
                                   query_string={name: value}), 422)
        assert body["detail"][0]["loc"][:2] == ["query", name]

    @pytest.mark.parametrize("path", ["/v1/customers", "/v1/subscriptions", "/v1/members",
                                      "/v1/webhooks/endpoints", "/v1/webhooks/deliveries"])
    @pytest.mark.parametrize("query", [{"limit": "abc"}, {"page": "0"}])
    def test_every_list_refuses_bad_paging(self, api, path, query):
        body = polar_error(api.get(path, query_string=query), 422)
        assert body["detail"][0]["loc"][0] == "query"

    def test_a_huge_limit_is_capped_at_100_as_polar_does(self, api, team):
        body = api.get(f"/v1/customers/{team.id}/members", query_string={"limit": 100_000}).get_json()
        assert body["pagination"] == {"total_count": 3, "max_page": 1}

    def test_repeated_parameters_take_the_first_scalar(self, api, team):
        response = api.get(f"/v1/customers/{team.id}/members?limit=1&limit=abc&page=2&page=x")
        assert response.status_code == 200
        assert response.get_json()["pagination"] == {"total_count": 3, "max_page": 3}
        refused = api.get(f"/v1/customers/{team.id}/members?sorting=created_at&sorting=bogus")
        assert polar_error(refused, 422)["detail"][0]["loc"][:2] == ["query", "sorting"]

    @pytest.mark.parametrize("query", [{"start_timestamp": "abc"}, {"succeeded": "maybe"},
                                       {"http_code_class": "6xx"}, {"event_type": "x"},
                                       {"endpoint_id": "abc"}, {"query": "x" * 300}])
    def test_delivery_filters(self, api, query):
        body = polar_error(api.get("/v1/webhooks/deliveries", query_string=query), 422)
        assert body["detail"][0]["loc"][:2] == ["query", next(iter(query))]


BODY_ROUTES = {
    "members create": ("POST", "/v1/customers/{team}/members"),
    "members update": ("PATCH", "/v1/customers/{team}/members/{dev}"),
    "customers create": ("POST", "/v1/customers"),
    "customers update": ("PATCH", "/v1/customers/{team}"),
    "seat assign": ("POST", "/v1/customer-seats"),
    "seat claim": ("POST", "/v1/customer-seats/claim"),
    "session create": ("POST", "/v1/customer-sessions/"),
    "code request": ("POST", "/v1/customer-portal/customer-session/request"),
    "subscriptions set": ("POST", "/v1/subscriptions"),
    "subscription update": ("PATCH", "/v1/subscriptions/{sub}"),
    "webhook create": ("POST", "/v1/webhooks/endpoints"),
    "portal settings": ("PATCH", "/v1/portal-settings"),
}


def _path(template: str, team, dev, sub) -> str:
    return template.format(team=team.id, dev=dev.id, sub=sub.id)


class TestBodies:
    @pytest.mark.parametrize("route", BODY_ROUTES)
    @pytest.mark.parametrize("raw", [b"{", b"{'a': 1}", b'{"a": 1} x', b"\xff\xfe"])
    def test_invalid_json_is_422_json_invalid(self, api, team, dev, sub, route, raw):
        method, template = BODY_ROUTES[route]
        response = api.request(method, _path(template, team, dev, sub), data=raw,
                               headers={"Content-Type": "application/json"})
        body = polar_error(response, 422)
        assert body["detail"][0]["type"] == "json_invalid"

    @pytest.mark.parametrize("route", BODY_ROUTES)
    @pytest.mark.parametrize("raw", [b"[]", b'["x"]', b'"text"', b"42", b"null", b"true"])
    def test_json_that_is_not_an_object_is_422(self, api, team, dev, sub, route, raw):
        method, template = BODY_ROUTES[route]
        response = api.request(method, _path(template, team, dev, sub), data=raw,
                               headers={"Content-Type": "application/json"})
        body = polar_error(response, 422)
        assert body["detail"][0]["loc"][0] == "body"

    @pytest.mark.parametrize("route", BODY_ROUTES)
    @pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                              None])
    def test_not_json_content_is_415(self, api, team, dev, sub, route, content_type):
        method, template = BODY_ROUTES[route]
        headers = {"Content-Type": content_type} if content_type else {}
        response = api.request(method, _path(template, team, dev, sub),
                               data=b'{"email": "a@example.com"}', headers=headers)
        assert polar_error(response, 415)["error"] == "UnsupportedMediaType"

    @pytest.mark.parametrize("route", BODY_ROUTES)
    def test_deep_nesting_is_422(self, api, team, dev, sub, route):
        method, template = BODY_ROUTES[route]
        response = api.request(method, _path(template, team, dev, sub),
                               data=b"[" * 5000 + b"]" * 5000,
                               headers={"Content-Type": "application/json"})
        polar_error(response, 422)

    @pytest.mark.parametrize("payload, field", [
        ({"email": "a@example.com", "name": 5}, "name"),
        ({"email": 42}, "email"),
        ({"email": "a@example.com", "role": "owner"}, "role"),
        ({"email": "a@example.com", "role": True}, "role"),
        ({"email": "a@example.com", "external_id": "x" * 100_000}, "external_id"),
        ({"email": "a\x00@example.com"}, "email"),
        ({"email": "a@example.com", "name": "\u202eevil"}, "name"),
        ({"name": "No email"}, "email"),
    ])
    def test_member_fields(self, api, team, payload, field):
        body = polar_error(api.post(f"/v1/customers/{team.id}/members", json=payload), 422)
        assert body["detail"][0]["loc"][:2] == ["body", field]

    @pytest.mark.parametrize("payload, field", [
        ({"subscription_id": "{sub}", "email": "n@example.com", "immediate_claim": 1},
         "immediate_claim"),
        ({"subscription_id": "{sub}", "email": "n@example.com", "immediate_claim": "true"},
         "immediate_claim"),
        ({"subscription_id": "{sub}", "email": "n@example.com", "metadata": {"a": [1]}},
         "metadata"),
        ({"subscription_id": 5, "email": "n@example.com"}, "subscription_id"),
    ])
    def test_seat_fields(self, api, sub, payload, field):
        payload = {k: (v.format(sub=sub.id) if isinstance(v, str) else v) for k, v in payload.items()}
        body = polar_error(api.post("/v1/customer-seats", json=payload), 422)
        assert body["detail"][0]["loc"][:2] == ["body", field]

    def test_numbers_as_strings_are_read_as_pydantic_does(self, api, team, sub):
        # Lax as Polar's FastAPI: "2" is 2 for an integer field; "two" is refused.
        response = api.patch(f"/v1/subscriptions/{sub.id}", json={"seats": "2"})
        assert response.status_code == 200 and response.get_json()["seats"] == 2
        body = polar_error(api.patch(f"/v1/subscriptions/{sub.id}", json={"seats": "two"}), 422)
        assert body["detail"][0]["loc"] == ["body", "seats"]
        polar_error(api.patch(f"/v1/subscriptions/{sub.id}", json={"seats": 10 ** 30}), 422)

    def test_extra_fields_are_ignored(self, api, team):
        response = api.post(f"/v1/customers/{team.id}/members",
                            json={"email": "extra@example.com", "unknown": 1, "__proto__": {}})
        assert response.status_code == 201 and response.get_json()["email"] == "extra@example.com"

    def test_an_empty_body_where_one_is_needed(self, api, team):
        response = api.post(f"/v1/customers/{team.id}/members", data=b"",
                            headers={"Content-Type": "application/json"})
        assert polar_error(response, 422)["detail"][0]["type"] == "missing"


class TestPathIds:
    @pytest.mark.parametrize("bad", ["abc", "0", "%00", "x" * 5000, "%E2%80%AE", "1e3"])
    @pytest.mark.parametrize("template", ["/v1/customers/{x}", "/v1/customers/{x}/members",
                                          "/v1/members/{x}", "/v1/subscriptions/{x}",
                                          "/v1/webhooks/endpoints/{x}",
                                          "/v1/customer-portal/members/{x}"])
    def test_not_an_id_is_422_at_path(self, api, client, owner, template, bad):
        caller = as_member(client, owner) if "customer-portal" in template else api
        method = "PATCH" if "customer-portal" in template else "GET"
        body = polar_error(caller.request(method, template.format(x=bad), json={}), 422)
        assert body["detail"][0]["loc"][0] == "path"

    def test_unknown_external_ids_are_404(self, api):
        polar_error(api.get("/v1/customers/external/nobody/members"), 404)
        polar_error(api.get("/v1/customers/external/cus_core/members/nobody"), 404)


class TestAuth:
    """401 (with WWW-Authenticate) without a usable token, 403 for a token without the scope."""

    @pytest.fixture
    def tokens(self, org, owner):
        revoked_row, revoked = organizations.create_token(db.session, org)
        revoked_row.revoked_at = utcnow()
        expired_row, expired, _h = sessions.start_api_session(db.session, owner)
        expired_row.expires_at = utcnow().replace(year=2000)
        ended_row, ended, _h = sessions.start_api_session(db.session, owner)
        sessions.end_session(db.session, ended_row)
        db.session.commit()
        return {"revoked": revoked, "expired": expired, "ended": ended,
                "read only": mint_token(org, ["members:read"]),
                "organization": mint_token(org), "member": member_token(owner)}

    @pytest.mark.parametrize("header", [None, "Basic abc", "Bearer", "Bearer garbage",
                                        "Bearer polar_oat_", "Bearer polar_oat_" + "a" * 100_000,
                                        "Bearer polar_mst_nope"])
    @pytest.mark.parametrize("path", ["/v1/customers", "/v1/customer-portal/members"])
    def test_no_usable_token_is_401(self, client, path, header):
        headers = {"Authorization": header} if header else {}
        polar_error(client.get(path, headers=headers), 401)

    @pytest.mark.parametrize("kind, path, status", [
        ("revoked", "/v1/customers", 401),
        ("expired", "/v1/customer-portal/members", 401),
        ("ended", "/v1/customer-portal/members", 401),
        ("member", "/v1/customers", 401),  # a member session is not an organization token
        ("organization", "/v1/customer-portal/members", 401),  # nor the other way round
        ("read only", "/v1/customers", 403),
        ("read only", "/v1/webhooks/endpoints", 403),
    ])
    def test_the_wrong_token(self, client, tokens, kind, path, status):
        response = Api(client, tokens[kind]).get(path)
        body = polar_error(response, status)
        if status == 403:
            assert body["error"] == "NotPermitted" and "scope" in body["detail"]

    def test_a_read_only_token_cannot_write_and_changes_nothing(self, client, tokens, team):
        response = Api(client, tokens["read only"]).post(f"/v1/customers/{team.id}/members",
                                                         json={"email": "new@example.com"})
        polar_error(response, 403)
        assert db.session.scalar(select(func.count()).select_from(Member)
                                 .where(Member.customer_id == team.id)) == 3

    def test_a_plain_member_cannot_manage_the_team(self, client, dev):
        body = polar_error(as_member(client, dev).get("/v1/customer-portal/members"), 403)
        assert body["error"] == "NotPermitted"


# --- other organizations -----------------------------------------------------------------------

@pytest.fixture
def theirs(other_org):
    """Another organization's team with a member, a seat, a group and a webhook endpoint."""
    them = make_team(other_org, name="Their Team", owner="boss@globex.example",
                     external_id="cus_theirs", members={"spy@globex.example": Role.MEMBER}, seats=2)
    spy = member(them, "spy@globex.example")
    spy.external_id = "mem_theirs"
    boss = member(them, "boss@globex.example")
    subscription = db.session.scalars(select(Subscription)
                                      .where(Subscription.customer_id == them.id)).one()
    seat = seat_service.assign_seat(db.session, Actor(member=boss), subscription,
                                    email=spy.email, member=spy, base_url="http://portal.test")
    group = groups.create_group(db.session, Actor(member=boss), them, name="Their group")
    groups.add_members(db.session, Actor(member=boss), them, group.id, [spy.id])
    db.session.commit()
    endpoint, _secret = make_endpoint(other_org, "http://127.0.0.1:9/hook")
    return {"team": them.id, "member": spy.id, "sub": subscription.id, "seat": seat.id,
            "group": group.id, "endpoint": endpoint.id}


FOREIGN = [
    ("GET", "/v1/customers/{team}", None),
    ("PATCH", "/v1/customers/{team}", {"name": "Taken"}),
    ("GET", "/v1/customers/{team}/members", None),
    ("POST", "/v1/customers/{team}/members", {"email": "mole@example.com"}),
    ("GET", "/v1/customers/{team}/members/{member}", None),
    ("PATCH", "/v1/customers/{team}/members/{member}", {"role": "owner"}),
    ("DELETE", "/v1/customers/{team}/members/{member}", None),
    ("GET", "/v1/members/{member}", None),
    ("DELETE", "/v1/members/{member}", None),
    ("GET", "/v1/subscriptions/{sub}", None),
    ("PATCH", "/v1/subscriptions/{sub}", {"seats": 0}),
    ("DELETE", "/v1/customer-seats/{seat}", None),
    ("POST", "/v1/customer-seats/{seat}/resend", None),
    ("GET", "/v1/webhooks/endpoints/{endpoint}", None),
    ("PATCH", "/v1/webhooks/endpoints/{endpoint}", {"enabled": False}),
    ("PATCH", "/v1/webhooks/endpoints/{endpoint}/secret", None),
    ("DELETE", "/v1/webhooks/endpoints/{endpoint}", None),
]


class TestOtherOrganizations:
    """Their ids answer what ids that exist nowhere answer (no oracle), and change nothing."""

    @pytest.mark.parametrize("method, template, payload", FOREIGN,
                             ids=[f"{m} {p}" for m, p, _b in FOREIGN])
    def test_answer_as_unknown_ids(self, api, theirs, method, template, payload):
        theirs_response = api.request(method, template.format(**theirs), json=payload)
        unknown = {key: uuid.uuid4() for key in theirs}
        unknown_response = api.request(method, template.format(**unknown), json=payload)
        polar_error(theirs_response, 404)
        assert theirs_response.status_code == unknown_response.status_code
        assert (ANY_ID.sub("<id>", theirs_response.get_data(as_text=True))
                == ANY_ID.sub("<id>", unknown_response.get_data(as_text=True)))

    def test_their_ids_in_bodies_and_queries(self, api, team, theirs):
        refused = api.post("/v1/customer-sessions/", json={"customer_id": str(theirs["team"])})
        assert polar_error(refused, 422)["detail"][0]["loc"] == ["body", "customer_id"]
        refused = api.post("/v1/customer-seats", json={"subscription_id": str(theirs["sub"]),
                                                       "email": "mole@example.com"})
        polar_error(refused, 404)
        polar_error(api.get("/v1/customer-seats", query_string={"subscription_id": str(theirs["sub"])}), 404)
        polar_error(api.get("/v1/members", query_string={"customer_id": str(theirs["team"])}), 404)
        polar_error(api.get("/v1/subscriptions", query_string={"customer_id": str(theirs["team"])}), 404)
        listed = api.get("/v1/webhooks/endpoints", query_string={"organization_id": str(uuid.uuid4())})
        assert listed.get_json()["items"] == []

    def test_nothing_of_theirs_changed(self, api, theirs):
        for method, template, payload in FOREIGN:
            api.request(method, template.format(**theirs), json=payload)
        assert db.session.get(Member, theirs["member"]).deleted_at is None
        assert db.session.get(Subscription, theirs["sub"]).seats == 2
        assert db.session.scalar(select(func.count()).select_from(Member)
                                 .where(Member.customer_id == theirs["team"])) == 2

    def test_their_member_session_sees_only_their_team(self, client, theirs, team, dev):
        boss = db.session.get(Member, theirs["member"])
        caller = as_member(client, boss)
        polar_error(caller.patch(f"/v1/customer-portal/members/{dev.id}", json={"name": "x"}), 403)
        spy_owner = member(boss.customer, "boss@globex.example")
        caller = as_member(client, spy_owner)
        polar_error(caller.patch(f"/v1/customer-portal/members/{dev.id}", json={"name": "x"}), 404)
        listed = caller.get("/v1/customer-portal/members").get_json()
        assert {m["email"] for m in listed["items"]} == {"boss@globex.example", "spy@globex.example"}


# --- /client/v4 ------------------------------------------------------------------------------------

class TestIamBadInput:
    @pytest.mark.parametrize("raw, code", [(b"{", 6007), (b"{'a': 1}", 6007), (b"[", 6007),
                                           (b"[" * 5000 + b"]" * 5000, 6007)])
    def test_bad_json(self, api, team, raw, code):
        response = api.post(f"{BASE}/{team.id.hex}/iam/user_groups", data=raw,
                            headers={"Content-Type": "application/json"})
        cf_error(response, 400, code)

    @pytest.mark.parametrize("raw", [b"[]", b'"text"', b"42", b"null", b'[{"name": "x"}]'])
    def test_a_group_body_that_is_not_an_object(self, api, team, raw):
        response = api.post(f"{BASE}/{team.id.hex}/iam/user_groups", data=raw,
                            headers={"Content-Type": "application/json"})
        cf_error(response, 400, 1001)

    @pytest.mark.parametrize("payload", [{}, {"name": ""}, {"name": 5}, {"name": "x" * 100_000},
                                         {"name": "ok", "policies": "all"},
                                         {"name": "ok", "policies": [{"access": "maybe"}]}])
    def test_group_rules(self, api, team, payload):
        cf_error(api.post(f"{BASE}/{team.id.hex}/iam/user_groups", json=payload), 400, 1002)
        assert db.session.scalar(select(func.count()).select_from(UserGroup)) == 0

    @pytest.mark.parametrize("payload", [{}, {"id": "x"}, [1], [{"id": 5}], [{"id": ""}], [None]])
    def test_member_lists(self, api, team, group, payload):
        path = f"{BASE}/{team.id.hex}/iam/user_groups/{group.id.hex}/members"
        cf_error(api.post(path, json=payload), 400, 1001)
        cf_error(api.request("PUT", path, json=payload), 400, 1001)

    def test_text_with_control_characters(self, api, team):
        path = f"{BASE}/{team.id.hex}/iam/user_groups"
        cf_error(api.post(path, json={"name": "a\x00b"}), 400, 1001)
        cf_error(api.get(path, query_string={"fuzzyName": "a\x00"}), 400, 1001)

    @pytest.mark.parametrize("query", ["page=0", "page=abc", "per_page=0", "per_page=501",
                                       "per_page=1.5", "direction=up"])
    def test_paging(self, api, team, query):
        cf_error(api.get(f"{BASE}/{team.id.hex}/iam/user_groups?{query}"), 400, 1001)

    @pytest.mark.parametrize("content_type", ["text/plain", None])
    def test_not_json_is_415(self, api, team, content_type):
        headers = {"Content-Type": content_type} if content_type else {}
        response = api.post(f"{BASE}/{team.id.hex}/iam/user_groups", data=b'{"name": "x"}',
                            headers=headers)
        cf_error(response, 415, 6003)

    @pytest.mark.parametrize("bad", ["abc", "0", "x" * 5000, "%00", "g" * 32])
    def test_ids_that_are_not_ids(self, api, team, bad):
        cf_error(api.get(f"{BASE}/{bad}/iam/user_groups"), 404, 7003)
        cf_error(api.get(f"{BASE}/{team.id.hex}/iam/user_groups/{bad}"), 404, 7003)

    @pytest.mark.parametrize("header, code", [(None, 10000), ("Bearer garbage", 10000),
                                              ("Basic abc", 10000)])
    def test_no_usable_token(self, client, team, header, code):
        headers = {"Authorization": header} if header else {}
        cf_error(client.get(f"{BASE}/{team.id.hex}/iam/user_groups", headers=headers), 401, code)

    def test_a_token_without_the_scope(self, client, org, team):
        caller = Api(client, mint_token(org, ["user_groups:read"]))
        cf_error(caller.post(f"{BASE}/{team.id.hex}/iam/user_groups", json={"name": "x"}), 403, 9109)

    def test_other_organizations_answer_as_unknown(self, api, team, theirs):
        for path in (f"{BASE}/{theirs['team'].hex}/iam/user_groups",
                     f"{BASE}/{team.id.hex}/iam/user_groups/{theirs['group'].hex}",
                     f"{BASE}/{team.id.hex}/iam/user_groups/{theirs['group'].hex}/members"):
            theirs_response = api.get(path)
            cf_error(theirs_response, 404, 1003)
            unknown = api.get(path.replace(theirs["team"].hex, uuid.uuid4().hex)
                              .replace(theirs["group"].hex, uuid.uuid4().hex))
            assert theirs_response.get_json() == unknown.get_json()
        refused = api.post(f"{BASE}/{theirs['team'].hex}/iam/user_groups", json={"name": "Mole"})
        cf_error(refused, 404, 1003)
        assert db.session.scalar(select(func.count()).select_from(UserGroup)
                                 .where(UserGroup.customer_id == theirs["team"])) == 1
