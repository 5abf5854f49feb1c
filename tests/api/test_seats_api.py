"""Seats through the API: /v1/customer-seats… (organization, and the public claim endpoints) and
/v1/customer-portal/seats… (member session)."""
from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Seat, SeatStatus, Subscription
from tests.api.conftest import Api, as_member, mint_token
from tests.factories import make_team, member
from tests.support.smtp import first_link

SEAT_KEYS = {"created_at", "modified_at", "id", "subscription_id", "order_id", "status",
             "customer_id", "member_id", "member", "email", "customer_email",
             "invitation_token_expires_at", "claimed_at", "revoked_at", "seat_metadata"}


@pytest.fixture
def sub(team):
    return db.session.scalar(select(Subscription).where(Subscription.customer_id == team.id))


def invitation_token(mailbox, email: str, count: int = 1) -> str:
    link = first_link(mailbox.wait_for(email, count=count), "/claim")
    return parse_qs(urlsplit(link).query)["token"][0]


class TestOrganizationSeats:
    def test_assign_emails_an_invitation_and_lists(self, api, sub, mailbox):
        response = api.post("/v1/customer-seats", json={"subscription_id": str(sub.id),
                                                        "email": "new@example.com",
                                                        "metadata": {"team": "core"}})
        assert response.status_code == 200
        seat = response.get_json()
        assert set(seat) == SEAT_KEYS
        assert (seat["status"], seat["email"], seat["seat_metadata"]) == ("pending", "new@example.com",
                                                                          {"team": "core"})
        assert seat["member"]["email"] == "new@example.com" and seat["member"]["role"] == "member"
        assert seat["invitation_token_expires_at"].endswith("Z")
        assert invitation_token(mailbox, "new@example.com")
        listed = api.get("/v1/customer-seats", query_string={"subscription_id": str(sub.id)}).get_json()
        assert (listed["total_seats"], listed["available_seats"]) == (3, 2)
        assert [s["id"] for s in listed["seats"]] == [seat["id"]]

    def test_assign_to_existing_member_by_id_and_external_id(self, api, team, sub, dev):
        by_id = api.post("/v1/customer-seats", json={"subscription_id": str(sub.id), "member_id": str(dev.id)})
        assert by_id.get_json()["member_id"] == str(dev.id)
        api.post(f"/v1/customers/{team.id}/members", json={"email": "x@example.com", "external_id": "usr_x"})
        by_ext = api.post("/v1/customer-seats", json={"subscription_id": str(sub.id),
                                                      "external_member_id": "usr_x"})
        assert by_ext.get_json()["email"] == "x@example.com"

    def test_external_member_id_with_email_creates_and_links(self, api, sub):
        seat = api.post("/v1/customer-seats", json={"subscription_id": str(sub.id), "email": "y@example.com",
                                                    "external_member_id": "usr_y"}).get_json()
        assert seat["member"]["external_id"] == "usr_y"

    def test_immediate_claim_sends_no_email(self, api, sub, mailbox):
        seat = api.post("/v1/customer-seats", json={"subscription_id": str(sub.id), "email": "now@example.com",
                                                    "immediate_claim": True}).get_json()
        assert seat["status"] == "claimed" and seat["claimed_at"]
        assert mailbox.to("now@example.com") == []

    def test_immediate_claim_must_be_a_boolean(self, api, sub):
        response = api.post("/v1/customer-seats", json={"subscription_id": str(sub.id),
                                                         "email": "later@example.com", "immediate_claim": 1})
        assert response.status_code == 422
        assert response.get_json()["detail"][0]["loc"] == ["body", "immediate_claim"]

    def test_no_seat_left_and_duplicate_are_400(self, api, sub):
        body = {"subscription_id": str(sub.id)}
        for email in ("a@example.com", "b@example.com", "c@example.com"):
            assert api.post("/v1/customer-seats", json={**body, "email": email}).status_code == 200
        full = api.post("/v1/customer-seats", json={**body, "email": "d@example.com"})
        assert full.status_code == 400 and full.get_json()["error"] == "SeatNotAvailable"
        twice = api.post("/v1/customer-seats", json={**body, "email": "A@example.com"})
        assert twice.status_code == 400 and twice.get_json()["error"] == "SeatAlreadyAssigned"

    @pytest.mark.parametrize("body,status", [
        ({"email": "a@example.com"}, 400),
        ({"order_id": "o_1", "email": "a@example.com"}, 404),
        ({"subscription_id": str(uuid.uuid4()), "email": "a@example.com"}, 404),
        ({"subscription_id": "not-a-uuid", "email": "a@example.com"}, 404),
        ({"subscription_id": "SUB"}, 422),
        ({"subscription_id": "SUB", "email": "a@example.com", "metadata": {"k": {"n": 1}}}, 422),
        ({"subscription_id": "SUB", "member_id": str(uuid.uuid4())}, 404),
        ({"subscription_id": "SUB", "customer_id": str(uuid.uuid4())}, 400),
    ])
    def test_bad_assignments(self, api, sub, body, status):
        if body.get("subscription_id") == "SUB":
            body = {**body, "subscription_id": str(sub.id)}
        assert api.post("/v1/customer-seats", json=body).status_code == status

    def test_too_much_metadata_is_422(self, api, sub):
        response = api.post("/v1/customer-seats", json={"subscription_id": str(sub.id), "email": "a@example.com",
                                                        "metadata": {f"k{i}": i for i in range(11)}})
        assert response.status_code == 422
        assert response.get_json()["detail"][0]["loc"] == ["body", "metadata"]

    def test_resend_rotates_the_link_and_revoke_returns_the_seat(self, app, api, sub, mailbox):
        app.config["RESEND_COOLDOWN_SECONDS"] = 0
        seat = api.post("/v1/customer-seats", json={"subscription_id": str(sub.id),
                                                    "email": "r@example.com"}).get_json()
        old = invitation_token(mailbox, "r@example.com")
        resent = api.post(f"/v1/customer-seats/{seat['id']}/resend")
        assert resent.status_code == 200 and resent.get_json()["status"] == "pending"
        new = invitation_token(mailbox, "r@example.com", count=2)
        assert new != old
        assert api.get(f"/v1/customer-seats/claim/{old}").status_code == 404
        assert api.get(f"/v1/customer-seats/claim/{new}").status_code == 200
        revoked = api.delete(f"/v1/customer-seats/{seat['id']}")
        assert revoked.status_code == 200 and revoked.get_json()["status"] == "revoked"
        assert api.delete(f"/v1/customer-seats/{seat['id']}").get_json()["status"] == "revoked"
        not_pending = api.post(f"/v1/customer-seats/{seat['id']}/resend")
        assert not_pending.status_code == 400 and not_pending.get_json()["error"] == "SeatNotPending"

    def test_resend_too_soon_is_429(self, api, sub):
        seat = api.post("/v1/customer-seats", json={"subscription_id": str(sub.id),
                                                    "email": "r@example.com"}).get_json()
        response = api.post(f"/v1/customer-seats/{seat['id']}/resend")
        assert response.status_code == 429 and response.headers["Retry-After"].isdigit()

    def test_other_organization_is_404(self, client, other_org, api, sub):
        seat = api.post("/v1/customer-seats", json={"subscription_id": str(sub.id),
                                                    "email": "a@example.com"}).get_json()
        theirs = Api(client, mint_token(other_org))
        assert theirs.get("/v1/customer-seats", query_string={"subscription_id": str(sub.id)}).status_code == 404
        assert theirs.delete(f"/v1/customer-seats/{seat['id']}").status_code == 404
        assert theirs.post("/v1/customer-seats", json={"subscription_id": str(sub.id),
                                                       "email": "b@example.com"}).status_code == 404
        assert db.session.get(Seat, uuid.UUID(seat["id"])).status is SeatStatus.PENDING

    def test_scopes(self, client, org, sub):
        reader = Api(client, mint_token(org, ["customer_seats:read"]))
        assert reader.get("/v1/customer-seats", query_string={"subscription_id": str(sub.id)}).status_code == 200
        assert reader.post("/v1/customer-seats", json={"subscription_id": str(sub.id),
                                                       "email": "a@example.com"}).status_code == 403


class TestClaim:
    def test_info_then_claim_gives_a_member_session(self, api, anonymous, sub, mailbox):
        api.post("/v1/customer-seats", json={"subscription_id": str(sub.id), "email": "c@example.com"})
        token = invitation_token(mailbox, "c@example.com")
        info = anonymous.get(f"/v1/customer-seats/claim/{token}")
        assert info.get_json() == {"product_name": "Team plan", "product_id": str(sub.product_id),
                                   "organization_name": "Acme Analytics", "organization_slug": "acme",
                                   "customer_email": "c@example.com", "can_claim": True}
        assert anonymous.get(f"/v1/customer-seats/claim/{token}").status_code == 200  # no side effect
        claimed = anonymous.post("/v1/customer-seats/claim", json={"invitation_token": token})
        assert claimed.status_code == 200
        body = claimed.get_json()
        assert body["seat"]["status"] == "claimed"
        user = anonymous.as_(body["customer_session_token"]).get(
            "/v1/customer-portal/customer-session/user").get_json()
        assert user["email"] == "c@example.com" and user["role"] == "member"
        again = anonymous.post("/v1/customer-seats/claim", json={"invitation_token": token})
        assert again.status_code == 400 and again.get_json()["error"] == "InvalidInvitationToken"
        assert anonymous.get(f"/v1/customer-seats/claim/{token}").status_code == 404

    def test_unknown_tokens(self, anonymous):
        assert anonymous.get("/v1/customer-seats/claim/nope").get_json()["error"] == "ResourceNotFound"
        assert anonymous.post("/v1/customer-seats/claim", json={"invitation_token": "nope"}).status_code == 400
        assert anonymous.post("/v1/customer-seats/claim", json={}).status_code == 422


class TestPortalSeats:
    def test_manager_assigns_lists_resends_revokes(self, app, client, owner, sub, mailbox):
        app.config["RESEND_COOLDOWN_SECONDS"] = 0
        api = as_member(client, owner)
        seat = api.post("/v1/customer-portal/seats", json={"email": "p@example.com"})
        assert seat.status_code == 200
        seat_id = seat.get_json()["id"]
        listed = api.get("/v1/customer-portal/seats").get_json()
        assert listed["available_seats"] == 2
        assert api.get("/v1/customer-portal/seats", query_string={"subscription_id": str(sub.id)}).get_json() == listed
        assert api.post(f"/v1/customer-portal/seats/{seat_id}/resend").status_code == 200
        assert len(mailbox.to("p@example.com")) == 2 or mailbox.wait_for("p@example.com", count=2)
        revoked = api.delete(f"/v1/customer-portal/seats/{seat_id}")
        assert revoked.get_json()["status"] == "revoked"

    def test_plain_member_reads_but_cannot_manage(self, client, owner, dev, sub):
        seat_id = as_member(client, owner).post("/v1/customer-portal/seats",
                                                json={"email": "p@example.com"}).get_json()["id"]
        api = as_member(client, dev)
        assert api.get("/v1/customer-portal/seats").status_code == 200
        assert api.post("/v1/customer-portal/seats", json={"email": "q@example.com"}).status_code == 403
        assert api.delete(f"/v1/customer-portal/seats/{seat_id}").status_code == 403
        assert api.post(f"/v1/customer-portal/seats/{seat_id}/resend").status_code == 403

    def test_another_teams_seat_and_subscription_are_404(self, client, org, owner, sub):
        other = make_team(org, owner="boss@other.example", seats=2)
        boss = as_member(client, member(other, "boss@other.example"))
        seat_id = boss.post("/v1/customer-portal/seats", json={"email": "z@example.com"}).get_json()["id"]
        api = as_member(client, owner)
        assert api.delete(f"/v1/customer-portal/seats/{seat_id}").status_code == 404
        assert boss.get("/v1/customer-portal/seats", query_string={"subscription_id": str(sub.id)}).status_code == 404

    def test_customer_ids_are_not_accepted_in_the_portal(self, client, owner, team):
        response = as_member(client, owner).post("/v1/customer-portal/seats",
                                                 json={"customer_id": str(team.id)})
        assert response.status_code == 422
