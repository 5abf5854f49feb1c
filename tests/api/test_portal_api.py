"""Customer portal API with a member session token: /v1/customer-portal/members, customers/me,
and the session endpoints (sign-in code, introspect, user)."""
from __future__ import annotations

import uuid

from sqlalchemy import select

from app.extensions import db
from app.models import Member, Role, SignInToken
from app.services import members as members_service
from app.services.activity import Actor
from tests.api.conftest import Api, as_member, member_token
from tests.factories import make_individual, make_team, member
from tests.support.smtp import code_of

MEMBERS = "/v1/customer-portal/members"


class TestPortalMembers:
    def test_owner_lists_without_customer_or_external_ids(self, client, owner):
        body = as_member(client, owner).get(MEMBERS).get_json()
        assert body["pagination"] == {"total_count": 3, "max_page": 1}
        assert set(body["items"][0]) == {"id", "created_at", "modified_at", "email", "name", "role"}

    def test_paging(self, client, team, owner):
        for i in range(12):
            db.session.add(Member(customer_id=team.id, email=f"p{i}@example.com", role=Role.MEMBER))
        db.session.commit()
        api = as_member(client, owner)
        body = api.get(MEMBERS, query_string={"page": 2, "limit": 10}).get_json()
        assert body["pagination"] == {"total_count": 15, "max_page": 2}
        assert len(body["items"]) == 5

    def test_billing_manager_adds_201_and_existing_email_returns_existing(self, client, billing, dev):
        api = as_member(client, billing)
        created = api.post(MEMBERS, json={"email": "new@example.com", "name": "New"})
        assert created.status_code == 201 and created.get_json()["role"] == "member"
        again = api.post(MEMBERS, json={"email": "DEV@example.com"})
        assert again.status_code == 201 and again.get_json()["id"] == str(dev.id)

    def test_adding_an_owner_is_422_at_role(self, client, owner):
        response = as_member(client, owner).post(MEMBERS, json={"email": "x@example.com", "role": "owner"})
        assert response.status_code == 422
        item = response.get_json()["detail"][0]
        assert item["loc"] == ["body", "role"] and item["type"] == "value_error"
        assert "owner" in item["msg"].lower()

    def test_plain_member_is_403(self, client, dev):
        api = as_member(client, dev)
        assert api.get(MEMBERS).status_code == 403
        response = api.post(MEMBERS, json={"email": "x@example.com"})
        assert response.status_code == 403
        assert response.get_json()["error"] == "NotPermitted"

    def test_individual_customer_is_403(self, client, org):
        solo = make_individual(org)
        response = as_member(client, member(solo, "solo@example.com")).get(MEMBERS)
        assert response.status_code == 403
        assert "team" in response.get_json()["detail"].lower()

    def test_own_role_change_is_422_at_path_id(self, client, billing):
        response = as_member(client, billing).patch(f"{MEMBERS}/{billing.id}", json={"role": "member"})
        assert response.status_code == 422
        assert response.get_json()["detail"][0]["loc"] == ["path", "id"]
        assert response.get_json()["detail"][0]["input"] == str(billing.id)

    def test_own_name_change_is_fine(self, client, billing):
        response = as_member(client, billing).patch(f"{MEMBERS}/{billing.id}", json={"name": "Bill"})
        assert response.status_code == 200 and response.get_json()["name"] == "Bill"

    def test_billing_manager_cannot_transfer_ownership(self, client, billing, dev):
        response = as_member(client, billing).patch(f"{MEMBERS}/{dev.id}", json={"role": "owner"})
        assert response.status_code == 422
        assert response.get_json()["detail"][0]["loc"] == ["body", "role"]

    def test_owner_transfers_ownership(self, client, owner, dev):
        response = as_member(client, owner).patch(f"{MEMBERS}/{dev.id}", json={"role": "owner"})
        assert response.get_json()["role"] == "owner"
        db.session.refresh(owner)
        assert owner.role is Role.BILLING_MANAGER

    def test_remove_self_is_422_and_remove_owner_is_422(self, client, billing, owner):
        api = as_member(client, billing)
        assert api.delete(f"{MEMBERS}/{billing.id}").get_json()["detail"][0]["loc"] == ["path", "id"]
        assert api.delete(f"{MEMBERS}/{owner.id}").status_code == 422

    def test_remove_is_204(self, client, owner, dev):
        response = as_member(client, owner).delete(f"{MEMBERS}/{dev.id}")
        assert response.status_code == 204
        db.session.refresh(dev)
        assert dev.deleted_at is not None

    def test_another_teams_member_is_404(self, client, org, owner):
        other = make_team(org, owner="boss@other.example")
        stranger = member(other, "boss@other.example")
        api = as_member(client, owner)
        assert api.patch(f"{MEMBERS}/{stranger.id}", json={"name": "x"}).status_code == 404
        assert api.delete(f"{MEMBERS}/{stranger.id}").get_json()["error"] == "ResourceNotFound"

    def test_organization_token_or_none_is_401(self, api, anonymous, owner):
        assert api.get(MEMBERS).status_code == 401
        assert anonymous.get(MEMBERS).status_code == 401

    def test_removed_members_token_stops_working(self, client, owner, dev):
        token = member_token(dev)
        members_service.remove_member(db.session, Actor(member=owner), owner.customer, dev.id)
        db.session.commit()
        assert Api(client, token).get("/v1/customer-portal/customer-session/user").status_code == 401

    def test_customers_me(self, client, team, dev):
        body = as_member(client, dev).get("/v1/customer-portal/customers/me").get_json()
        assert body["id"] == str(team.id) and body["type"] == "team" and body["oauth_accounts"] == {}


class TestWhoIsSignedIn:
    def test_user_and_introspect(self, client, billing):
        api = as_member(client, billing)
        user = api.get("/v1/customer-portal/customer-session/user").get_json()
        assert user == {"type": "member", "name": "Billing", "email": "billing@example.com",
                        "customer_id": str(billing.customer_id), "member_id": str(billing.id),
                        "role": "billing_manager"}
        session = api.get("/v1/customer-portal/customer-session/introspect").get_json()
        assert set(session) == {"expires_at", "return_url"} and session["expires_at"].endswith("Z")


class TestSignInWithCode:
    REQUEST = "/v1/customer-portal/customer-session/request"
    AUTH = "/v1/customer-portal/customer-session/authenticate"

    def test_request_then_authenticate_gives_a_member_token(self, anonymous, org, dev, mailbox):
        response = anonymous.post(self.REQUEST, json={"email": "dev@example.com",
                                                      "organization_id": str(org.id)})
        assert response.status_code == 202 and response.data == b""
        code = code_of(mailbox.wait_for("dev@example.com"))
        token = anonymous.post(self.AUTH, json={"code": code, "email": "dev@example.com",
                                                "organization_id": str(org.id)}).get_json()["token"]
        assert token.startswith("polar_mst_")
        user = anonymous.as_(token).get("/v1/customer-portal/customer-session/user").get_json()
        assert user["member_id"] == str(dev.id)
        again = anonymous.post(self.AUTH, json={"code": code, "email": "dev@example.com",
                                                "organization_id": str(org.id)})
        assert again.status_code == 401
        assert again.get_json()["error"] == "CustomerSessionCodeInvalidOrExpired"

    def test_unknown_email_and_unknown_org_answer_the_same(self, anonymous, org, team, mailbox):
        for body in ({"email": "nobody@example.com", "organization_id": str(org.id)},
                     {"email": "dev@example.com", "organization_id": str(uuid.uuid4())}):
            response = anonymous.post(self.REQUEST, json=body)
            assert (response.status_code, response.data) == (202, b"")
        anonymous.post(self.REQUEST, json={"email": "owner@example.com", "organization_id": str(org.id)})
        mailbox.wait_for("owner@example.com")  # sent after the two requests above
        assert [str(m["To"]) for m in mailbox.messages] == ["owner@example.com"]

    def test_wrong_code_is_401(self, anonymous, org, dev):
        anonymous.post(self.REQUEST, json={"email": "dev@example.com", "organization_id": str(org.id)})
        response = anonymous.post(self.AUTH, json={"code": "WRONG123", "email": "dev@example.com",
                                                   "organization_id": str(org.id)})
        assert response.status_code == 401
        row = db.session.scalar(select(SignInToken))
        db.session.refresh(row)
        assert row.code_attempts == 1

    def test_several_teams_choose_after_the_code(self, anonymous, org, dev, mailbox):
        make_team(org, name="Second", owner="dev@example.com")
        anonymous.post(self.REQUEST, json={"email": "dev@example.com", "organization_id": str(org.id)})
        code = code_of(mailbox.wait_for("dev@example.com"))
        body = {"code": code, "email": "dev@example.com", "organization_id": str(org.id)}
        choice = anonymous.post(self.AUTH, json=body)
        assert choice.status_code == 409
        listed = choice.get_json()
        assert listed["error"] == "customer_selection_required"
        assert {c["name"] for c in listed["customers"]} == {"Core Team", "Second"}
        second = next(c for c in listed["customers"] if c["name"] == "Second")
        token = anonymous.post(self.AUTH, json={**body, "customer_id": second["id"]}).get_json()["token"]
        user = anonymous.as_(token).get("/v1/customer-portal/customer-session/user").get_json()
        assert user["customer_id"] == second["id"] and user["role"] == "owner"

    def test_bad_email_is_422(self, anonymous, org):
        response = anonymous.post(self.REQUEST, json={"email": "nope", "organization_id": str(org.id)})
        assert response.status_code == 422
        assert response.get_json()["detail"][0]["loc"] == ["body", "email"]

    def test_client_rate_limit_is_429_with_integer_retry_after(self, app, anonymous, org):
        app.config["SIGNIN_CLIENT_LIMIT"] = "2 per minute"
        body = {"email": "dev@example.com", "organization_id": str(org.id)}
        statuses = [anonymous.post(self.REQUEST, json=body).status_code for _ in range(3)]
        assert statuses == [202, 202, 429]
        response = anonymous.post(self.AUTH, json={**body, "code": "X"})
        response = anonymous.post(self.AUTH, json={**body, "code": "X"})
        response = anonymous.post(self.AUTH, json={**body, "code": "X"})
        assert response.status_code == 429
        assert response.get_json()["error"] == "TooManyRequests"
        assert int(response.headers["Retry-After"]) > 0

    def test_per_email_limit_is_429_with_integer_retry_after(self, app, anonymous, org, dev):
        app.config["SIGNIN_MAX_PER_EMAIL"] = 2
        body = {"email": "dev@example.com", "organization_id": str(org.id)}
        statuses = [anonymous.post(self.REQUEST, json=body).status_code for _ in range(3)]
        assert statuses == [202, 202, 429]
        response = anonymous.post(self.REQUEST, json=body)
        assert response.headers["Retry-After"].isdigit()
