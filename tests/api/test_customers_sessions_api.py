"""Organization API: customers, seat subscriptions and customer sessions."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Member, PortalSession, Role
from tests.api.conftest import Api, gravatar, mint_token
from tests.factories import make_team, member

CUSTOMER_KEYS = {"id", "created_at", "modified_at", "metadata", "external_id", "email",
                 "email_verified", "type", "name", "billing_name", "billing_address", "tax_id",
                 "locale", "organization_id", "default_payment_method_id", "deleted_at",
                 "first_user_event_at", "avatar_url"}


class TestCustomers:
    def test_create_team_with_owner(self, api, org):
        response = api.post("/v1/customers/", json={
            "type": "team", "name": "Initech", "email": "billing@initech.example",
            "external_id": "cus_ini", "owner": {"email": "Peter@initech.example", "name": "Peter"},
            "metadata": {"plan": "pro", "seats": 5}})
        assert response.status_code == 201
        body = response.get_json()
        assert set(body) == CUSTOMER_KEYS
        assert (body["type"], body["name"], body["email"], body["external_id"], body["metadata"]) == (
            "team", "Initech", "billing@initech.example", "cus_ini", {"plan": "pro", "seats": 5})
        owner = db.session.scalar(select(Member).where(Member.customer_id == uuid.UUID(body["id"])))
        assert (owner.email, owner.name, owner.role) == ("Peter@initech.example", "Peter", Role.OWNER)

    def test_avatar_url_is_the_gravatar_of_the_email(self, api, team):
        """Polar always sends a URL here, and @polar-sh/sdk 0.48.1 refuses anything else."""
        expected = gravatar("owner@example.com")
        assert api.get(f"/v1/customers/{team.id}").get_json()["avatar_url"] == expected
        session = api.post("/v1/customer-sessions/", json={"customer_id": str(team.id)}).get_json()
        assert session["customer"]["avatar_url"] == expected
        me = Api(api.client, session["token"]).get("/v1/customer-portal/customers/me").get_json()
        assert me["avatar_url"] == expected

    def test_owner_defaults_to_the_customer_email(self, api):
        body = api.post("/v1/customers", json={"type": "team", "name": "Solo Co",
                                               "email": "boss@solo.example"}).get_json()
        owner = db.session.scalar(select(Member).where(Member.customer_id == uuid.UUID(body["id"])))
        assert owner.email == "boss@solo.example" and owner.role is Role.OWNER

    @pytest.mark.parametrize("body,loc", [
        ({"name": "X", "email": "a@example.com"}, ["body", "type"]),
        ({"type": "individual", "name": "X", "email": "a@example.com"}, ["body", "type"]),
        ({"type": "team", "name": "X"}, ["body", "owner"]),
        ({"type": "team", "email": "a@example.com"}, ["body", "name"]),
        ({"type": "team", "name": "X", "email": "bad"}, ["body", "email"]),
        ({"type": "team", "name": "X", "email": "useratexample.com", "owner": {"email": "o@example.com"}},
         ["body", "email"]),
        ({"type": "team", "name": "X", "email": "a@example.com", "metadata": {"k": [1]}},
         ["body", "metadata", "k", "str"]),
    ])
    def test_bad_create_is_422(self, api, body, loc):
        response = api.post("/v1/customers", json=body)
        assert response.status_code == 422
        assert response.get_json()["detail"][0]["loc"] == loc

    def test_a_team_without_a_name_is_told_it_needs_one(self, api, org):
        response = api.post("/v1/customers", json={"type": "team", "email": "a@example.com",
                                                   "owner": {"email": "o@example.com"}})
        assert response.status_code == 422
        error = response.get_json()["detail"][0]
        assert (error["loc"], error["msg"]) == (["body", "name"], "A team needs a name.")

    def test_duplicate_external_id_is_422(self, api, team):
        response = api.post("/v1/customers", json={"type": "team", "name": "X", "email": "a@example.com",
                                                   "external_id": "cus_core"})
        assert response.status_code == 422
        assert response.get_json()["detail"][0]["loc"] == ["body", "external_id"]

    def test_get_list_update(self, api, org, team):
        make_team(org, name="Other", owner="boss@other.example")
        assert api.get(f"/v1/customers/{team.id}").get_json()["name"] == "Core Team"
        assert api.get("/v1/customers/external/cus_core").get_json()["id"] == str(team.id)
        listed = api.get("/v1/customers", query_string={"limit": 1}).get_json()
        assert listed["pagination"] == {"total_count": 2, "max_page": 2}
        assert api.get("/v1/customers/", query_string={"query": "core"}).get_json()[
            "pagination"]["total_count"] == 1
        updated = api.patch(f"/v1/customers/{team.id}", json={"name": "Core", "metadata": {"a": 1}})
        assert updated.get_json()["name"] == "Core" and updated.get_json()["metadata"] == {"a": 1}

    def test_other_organization_is_404_and_scopes_apply(self, client, other_org, org, team):
        assert Api(client, mint_token(other_org)).get(f"/v1/customers/{team.id}").status_code == 404
        reader = Api(client, mint_token(org, ["customers:read"]))
        assert reader.get(f"/v1/customers/{team.id}").status_code == 200
        assert reader.patch(f"/v1/customers/{team.id}", json={"name": "x"}).status_code == 403


class TestSubscriptions:
    def test_set_then_change_seat_count(self, api, org):
        customer = make_team(org, name="New", owner="o@new.example", external_id="cus_new")
        created = api.post("/v1/subscriptions", json={"external_customer_id": "cus_new", "seats": 4,
                                                      "product_name": "Pro"})
        assert created.status_code == 201
        body = created.get_json()
        assert (body["seats"], body["seats_in_use"], body["available_seats"], body["product_name"]) == (
            4, 0, 4, "Pro")
        changed = api.post("/v1/subscriptions", json={"customer_id": str(customer.id), "seats": 6})
        assert changed.status_code == 200 and changed.get_json()["id"] == body["id"]
        patched = api.patch(f"/v1/subscriptions/{body['id']}", json={"seats": 2})
        assert patched.get_json()["seats"] == 2
        assert api.get(f"/v1/subscriptions/{body['id']}").get_json()["seats"] == 2
        listed = api.get("/v1/subscriptions", query_string={"customer_id": str(customer.id)}).get_json()
        assert [s["id"] for s in listed["items"]] == [body["id"]]

    def test_cannot_go_below_seats_in_use(self, api, team, owner):
        sub = api.get("/v1/subscriptions", query_string={"external_customer_id": "cus_core"}).get_json()["items"][0]
        api.post("/v1/customer-seats", json={"subscription_id": sub["id"], "email": "a@example.com"})
        api.post("/v1/customer-seats", json={"subscription_id": sub["id"], "email": "b@example.com"})
        response = api.patch(f"/v1/subscriptions/{sub['id']}", json={"seats": 1})
        assert response.status_code == 422
        assert response.get_json()["detail"][0]["loc"] == ["body", "seats"]
        assert api.post("/v1/subscriptions", json={"customer_id": str(team.id), "seats": -1}).status_code == 422

    def test_exactly_one_customer_selector(self, api, team):
        response = api.post("/v1/subscriptions", json={"seats": 1})
        assert response.status_code == 422
        assert response.get_json()["detail"][0]["loc"] == ["body"]

    def test_other_organization_is_404(self, client, other_org, team):
        theirs = Api(client, mint_token(other_org))
        assert theirs.post("/v1/subscriptions", json={"customer_id": str(team.id), "seats": 9}).status_code == 404


class TestCustomerSessions:
    def test_create_for_a_member_201(self, api, team, dev):
        response = api.post("/v1/customer-sessions/", json={"customer_id": str(team.id),
                                                            "member_id": str(dev.id),
                                                            "return_url": "https://vendor.example/app"})
        assert response.status_code == 201
        body = response.get_json()
        assert body["token"].startswith("polar_mst_")
        assert body["return_url"] == "https://vendor.example/app"
        assert body["customer_id"] == str(team.id) and set(body["customer"]) == CUSTOMER_KEYS
        assert body["customer_portal_url"].startswith("http://portal.test/acme/portal/enter?token=")
        assert body["token"] not in body["customer_portal_url"]
        user = api.as_(body["token"]).get("/v1/customer-portal/customer-session/user").get_json()
        assert user["member_id"] == str(dev.id)
        stored = db.session.scalar(select(PortalSession).where(PortalSession.member_id == dev.id))
        assert body["token"] not in (stored.token_hash, stored.handoff_token_hash)

    def test_without_the_slash_too_and_defaults_to_the_owner(self, api, team, owner):
        response = api.post("/v1/customer-sessions", json={"external_customer_id": "cus_core"})
        assert response.status_code == 201
        token = response.get_json()["token"]
        assert api.as_(token).get("/v1/customer-portal/customer-session/user").get_json()[
            "member_id"] == str(owner.id)

    def test_by_external_member_id_and_alias(self, api, team):
        api.post(f"/v1/customers/{team.id}/members", json={"email": "x@example.com", "external_id": "usr_x"})
        response = api.post("/v1/customer-sessions/", json={"customer_external_id": "cus_core",
                                                            "external_member_id": "usr_x"})
        assert response.status_code == 201

    @pytest.mark.parametrize("body,loc", [
        ({}, ["body"]),
        ({"customer_id": str(uuid.uuid4())}, ["body", "customer_id"]),
        ({"external_customer_id": "nope"}, ["body", "external_customer_id"]),
        ({"external_customer_id": "cus_core", "member_id": str(uuid.uuid4())}, ["body", "member_id"]),
        ({"external_customer_id": "cus_core", "external_member_id": "nope"}, ["body", "external_member_id"]),
        ({"external_customer_id": "cus_core", "return_url": "javascript:alert(1)"}, ["body", "return_url"]),
    ])
    def test_bad_body_is_422(self, api, team, body, loc):
        response = api.post("/v1/customer-sessions/", json=body)
        assert response.status_code == 422
        assert response.get_json()["detail"][0]["loc"] == loc

    def test_another_teams_member_is_422(self, api, org, team):
        other = make_team(org, owner="boss@other.example")
        response = api.post("/v1/customer-sessions/", json={
            "customer_id": str(team.id), "member_id": str(member(other, "boss@other.example").id)})
        assert response.status_code == 422

    def test_scope(self, client, org, team):
        response = Api(client, mint_token(org, ["members:write"])).post(
            "/v1/customer-sessions/", json={"customer_id": str(team.id)})
        assert response.status_code == 403
