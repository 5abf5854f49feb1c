"""Organization API: /v1/customers/{id}/members…, …/external/…, and the older /v1/members routes."""
from __future__ import annotations

from uuid import uuid4

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Member, Role, utcnow
from tests.api.conftest import Api, member_token, mint_token
from tests.factories import make_individual, make_team, member


def _members(team) -> str:
    return f"/v1/customers/{team.id}/members"


class TestListMembers:
    def test_list_shape_and_paging(self, api, team):
        for i in range(23):
            db.session.add(Member(customer_id=team.id, email=f"p{i:02}@example.com", role=Role.MEMBER))
        db.session.commit()
        first = api.get(_members(team), query_string={"limit": 10})
        assert first.status_code == 200
        body = first.get_json()
        assert body["pagination"] == {"total_count": 26, "max_page": 3}
        assert len(body["items"]) == 10
        assert set(body["items"][0]) == {"id", "created_at", "modified_at", "customer_id", "email",
                                         "name", "external_id", "role"}
        last = api.get(_members(team), query_string={"page": 3, "limit": 10}).get_json()
        assert len(last["items"]) == 6
        seen = {m["email"] for p in (1, 2, 3)
                for m in api.get(_members(team), query_string={"page": p}).get_json()["items"]}
        assert len(seen) == 26

    def test_limit_is_capped_at_100_and_default_is_10(self, api, team):
        assert api.get(_members(team)).get_json()["pagination"]["max_page"] == 1
        body = api.get(_members(team), query_string={"limit": 1000}).get_json()
        assert body["pagination"] == {"total_count": 3, "max_page": 1}

    def test_empty_page_has_max_page_zero_for_no_match(self, api, team):
        body = api.get(_members(team), query_string={"role": "billing_manager"}).get_json()
        assert [m["email"] for m in body["items"]] == ["billing@example.com"]
        db.session.execute(Member.__table__.update().where(Member.role == Role.BILLING_MANAGER)
                           .values(role=Role.MEMBER))
        db.session.commit()
        body = api.get(_members(team), query_string={"role": "billing_manager"}).get_json()
        assert body == {"items": [], "pagination": {"total_count": 0, "max_page": 0}}

    def test_sorting(self, api, team):
        oldest = api.get(_members(team), query_string={"sorting": "created_at"}).get_json()
        newest = api.get(_members(team), query_string={"sorting": "-created_at"}).get_json()
        assert oldest["items"][0]["email"] == "owner@example.com"
        assert [m["id"] for m in newest["items"]] == [m["id"] for m in oldest["items"]][::-1]

    @pytest.mark.parametrize("query,loc", [
        ({"page": 0}, ["query", "page"]),
        ({"limit": "ten"}, ["query", "limit"]),
        ({"role": "admin"}, ["query", "role"]),
        ({"sorting": "name"}, ["query", "sorting", 0]),
    ])
    def test_bad_query_is_422_with_its_location(self, api, team, query, loc):
        response = api.get(_members(team), query_string=query)
        assert response.status_code == 422
        assert response.get_json()["detail"][0]["loc"] == loc

    def test_by_external_customer_id(self, api, team):
        body = api.get("/v1/customers/external/cus_core/members").get_json()
        assert body["pagination"]["total_count"] == 3


class TestCreateMember:
    def test_created_201_with_every_field(self, api, team):
        response = api.post(_members(team), json={"email": "New@Example.com", "name": "New One",
                                                   "external_id": "usr_1", "role": "billing_manager"})
        assert response.status_code == 201
        body = response.get_json()
        assert (body["email"], body["name"], body["external_id"], body["role"]) == (
            "New@Example.com", "New One", "usr_1", "billing_manager")
        assert body["customer_id"] == str(team.id)
        assert db.session.get(Member, __import__("uuid").UUID(body["id"])) is not None

    def test_existing_email_returns_existing_member_unchanged(self, api, team, dev):
        response = api.post(_members(team), json={"email": "DEV@example.com", "name": "Other"})
        assert response.status_code == 201
        assert response.get_json()["id"] == str(dev.id)
        assert response.get_json()["name"] == "Dev"

    def test_owner_role_is_refused_by_the_schema(self, api, team):
        response = api.post(_members(team), json={"email": "x@example.com", "role": "owner"})
        assert response.status_code == 422
        assert response.get_json()["detail"][0]["loc"] == ["body", "role"]

    @pytest.mark.parametrize("body,field", [
        ({"email": "not an email"}, "email"),
        ({"email": "x@example.com", "name": "n" * 257}, "name"),
        ({"email": 12}, "email"),
        ({}, "email"),
    ])
    def test_bad_input_is_422_at_the_field(self, api, team, body, field):
        response = api.post(_members(team), json=body)
        assert response.status_code == 422
        assert response.get_json()["detail"][0]["loc"] == ["body", field]

    def test_duplicate_external_id_is_422(self, api, team):
        assert api.post(_members(team), json={"email": "a@example.com", "external_id": "u"}).status_code == 201
        response = api.post(_members(team), json={"email": "b@example.com", "external_id": "u"})
        assert response.status_code == 422
        assert response.get_json()["detail"][0]["loc"] == ["body", "external_id"]

    def test_individual_customer_is_403_not_permitted(self, api, org):
        solo = make_individual(org)
        response = api.post(_members(solo), json={"email": "x@example.com"})
        assert response.status_code == 403
        assert response.get_json()["error"] == "NotPermitted"

    def test_by_external_customer_id(self, api, team):
        response = api.post("/v1/customers/external/cus_core/members", json={"email": "e@example.com"})
        assert response.status_code == 201
        assert response.get_json()["customer_id"] == str(team.id)


class TestGetUpdateDelete:
    def test_get(self, api, team, dev):
        body = api.get(f"{_members(team)}/{dev.id}").get_json()
        assert body["email"] == "dev@example.com"

    def test_unknown_member_is_404_resource_not_found(self, api, team):
        response = api.get(f"{_members(team)}/{__import__('uuid').uuid4()}")
        assert response.status_code == 404
        assert response.get_json() == {"error": "ResourceNotFound", "detail": "Member not found."}

    def test_get_names_what_is_not_found(self, api, org, team, dev):
        """One query reads a customer's member; when it finds nothing, the answer still says
        whether the customer or the member is missing, as the two lookups did."""
        other = make_team(org, owner="boss@other.example")
        not_found = {"error": "ResourceNotFound"}
        assert api.get(f"/v1/customers/{uuid4()}/members/{dev.id}").get_json() == {
            **not_found, "detail": "Customer not found."}
        assert api.get(f"{_members(other)}/{dev.id}").get_json() == {
            **not_found, "detail": "Member not found."}
        assert api.delete(f"{_members(team)}/{dev.id}").status_code == 204
        response = api.get(f"{_members(team)}/{dev.id}")
        assert (response.status_code, response.get_json()["detail"]) == (404, "Member not found.")
        other.deleted_at = utcnow()  # a deleted customer's live members are not found either
        db.session.commit()
        owner = member(other, "boss@other.example")
        assert api.get(f"{_members(other)}/{owner.id}").get_json() == {
            **not_found, "detail": "Customer not found."}

    def test_bad_uuid_is_422_at_the_path(self, api, team):
        response = api.get(f"{_members(team)}/not-a-uuid")
        assert response.status_code == 422
        assert response.get_json()["detail"][0]["loc"] == ["path", "member_id"]

    def test_update_name_and_email(self, api, team, dev):
        response = api.patch(f"{_members(team)}/{dev.id}", json={"name": "Devon", "email": "devon@example.com"})
        assert response.status_code == 200
        db.session.refresh(dev)
        assert (dev.name, dev.email) == ("Devon", "devon@example.com")

    def test_null_name_clears_it_and_absent_keys_change_nothing(self, api, team, dev):
        api.patch(f"{_members(team)}/{dev.id}", json={"name": None})
        db.session.refresh(dev)
        assert dev.name is None and dev.role is Role.MEMBER

    def test_role_owner_transfers_ownership(self, api, team, dev, owner):
        response = api.patch(f"{_members(team)}/{dev.id}", json={"role": "owner"})
        assert response.get_json()["role"] == "owner"
        db.session.refresh(owner)
        assert owner.role is Role.BILLING_MANAGER

    def test_demoting_the_owner_is_422(self, api, team, owner):
        response = api.patch(f"{_members(team)}/{owner.id}", json={"role": "member"})
        assert response.status_code == 422
        assert response.get_json()["detail"][0]["loc"] == ["body", "role"]

    def test_email_clash_is_422_at_email(self, api, team, dev):
        response = api.patch(f"{_members(team)}/{dev.id}", json={"email": "Owner@example.com"})
        assert response.status_code == 422
        assert response.get_json()["detail"][0]["loc"] == ["body", "email"]

    def test_delete_is_204_and_ends_sessions(self, api, client, team, dev):
        token = member_token(dev)
        response = api.delete(f"{_members(team)}/{dev.id}")
        assert response.status_code == 204 and response.data == b""
        db.session.refresh(dev)
        assert dev.deleted_at is not None
        assert Api(client, token).get("/v1/customer-portal/customer-session/user").status_code == 401

    def test_deleting_the_owner_is_422(self, api, team, owner):
        response = api.delete(f"{_members(team)}/{owner.id}")
        assert response.status_code == 422
        assert response.get_json()["detail"][0]["loc"] == ["path", "id"]

    def test_by_external_ids(self, api, team):
        api.post(_members(team), json={"email": "x@example.com", "external_id": "usr_x"})
        base = "/v1/customers/external/cus_core/members/usr_x"
        assert api.get(base).get_json()["email"] == "x@example.com"
        assert api.patch(base, json={"name": "Ex"}).get_json()["name"] == "Ex"
        assert api.delete(base).status_code == 204
        assert api.get(base).status_code == 404


class TestAuthAndTenancy:
    def test_no_token_or_bad_token_is_401_json(self, anonymous, team):
        for api in (anonymous, anonymous.as_("polar_oat_nope"), anonymous.as_("Basic abc")):
            response = api.get(_members(team))
            assert response.status_code == 401
            assert response.get_json()["error"] == "Unauthorized"
            assert response.headers["WWW-Authenticate"] == "Bearer"

    def test_member_session_token_is_not_an_organization_token(self, client, team, owner):
        response = Api(client, member_token(owner)).get(_members(team))
        assert response.status_code == 401

    def test_missing_scope_is_403(self, client, org, team):
        read_only = Api(client, mint_token(org, ["members:read"]))
        assert read_only.get(_members(team)).status_code == 200
        response = read_only.post(_members(team), json={"email": "x@example.com"})
        assert response.status_code == 403
        assert response.get_json()["error"] == "NotPermitted"
        assert Api(client, mint_token(org, ["customers:read"])).get(_members(team)).status_code == 403

    def test_revoked_token_is_401(self, client, org, team):
        raw = mint_token(org)
        from app.models import OrganizationToken, utcnow
        row = db.session.scalar(select(OrganizationToken).order_by(OrganizationToken.created_at.desc()))
        row.revoked_at = utcnow()
        db.session.commit()
        assert Api(client, raw).get(_members(team)).status_code == 401

    def test_tokens_are_stored_hashed(self, token):
        from app.models import OrganizationToken
        from app.security import hash_token

        stored = db.session.scalars(select(OrganizationToken.token_hash)).all()
        assert token not in stored and hash_token(token) in stored

    def test_another_organizations_objects_are_404(self, client, other_org, team, dev):
        theirs = Api(client, mint_token(other_org))
        assert theirs.get(_members(team)).status_code == 404
        assert theirs.get(f"{_members(team)}/{dev.id}").status_code == 404
        assert theirs.delete(f"{_members(team)}/{dev.id}").status_code == 404
        assert theirs.get("/v1/customers/external/cus_core/members").status_code == 404
        assert theirs.get(f"/v1/members/{dev.id}").status_code == 404
        db.session.refresh(dev)
        assert dev.deleted_at is None

    def test_another_teams_member_is_404_under_this_team(self, api, org, team):
        other = make_team(org, owner="boss@other.example")
        stranger = member(other, "boss@other.example")
        assert api.get(f"{_members(team)}/{stranger.id}").status_code == 404


class TestLegacyMembersRoutes:
    def test_list_needs_no_filter_and_filters_by_customer(self, api, org, team):
        make_team(org, owner="boss@other.example")
        assert api.get("/v1/members").get_json()["pagination"]["total_count"] == 4
        assert api.get("/v1/members/", query_string={"customer_id": str(team.id)}).get_json()[
            "pagination"]["total_count"] == 3
        assert api.get("/v1/members", query_string={"external_customer_id": "cus_core",
                                                    "role": "owner"}).get_json()["items"][0][
            "email"] == "owner@example.com"

    def test_create_with_customer_in_body(self, api, team):
        for path in ("/v1/members", "/v1/members/"):
            response = api.post(path, json={"customer_id": str(team.id), "email": f"n{len(path)}@example.com"})
            assert response.status_code == 201
        response = api.post("/v1/members", json={"customer_id": str(__import__("uuid").uuid4()),
                                                 "email": "x@example.com"})
        assert response.status_code == 404
        assert response.get_json()["error"] == "ResourceNotFound"

    def test_by_id(self, api, dev):
        assert api.get(f"/v1/members/{dev.id}").get_json()["email"] == "dev@example.com"
        assert api.patch(f"/v1/members/{dev.id}", json={"role": "billing_manager"}).get_json()["role"] == "billing_manager"
        assert api.delete(f"/v1/members/{dev.id}").status_code == 204
        assert api.get(f"/v1/members/{dev.id}").status_code == 404

    def test_by_external_id_needs_exactly_one_customer_selector(self, api, team):
        api.post(_members(team), json={"email": "x@example.com", "external_id": "usr_x"})
        neither = api.get("/v1/members/external/usr_x")
        assert neither.status_code == 422
        assert neither.get_json()["detail"][0]["loc"] == ["query"]
        assert neither.get_json()["detail"][0]["type"] == "missing"
        both = api.get("/v1/members/external/usr_x",
                       query_string={"customer_id": str(team.id), "external_customer_id": "cus_core"})
        assert both.status_code == 422
        by_id = api.get("/v1/members/external/usr_x", query_string={"customer_id": str(team.id)})
        assert by_id.get_json()["email"] == "x@example.com"
        patched = api.patch("/v1/members/external/usr_x", query_string={"external_customer_id": "cus_core"},
                            json={"name": "Ex"})
        assert patched.get_json()["name"] == "Ex"
        gone = api.delete("/v1/members/external/usr_x", query_string={"external_customer_id": "cus_core"})
        assert gone.status_code == 204
