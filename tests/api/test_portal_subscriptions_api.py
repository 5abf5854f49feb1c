"""`GET /v1/customer-portal/seats/subscriptions`: the subscriptions on which the member holds a
claimed seat, in Polar's `CustomerSubscription` shape."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.api.portal_subscriptions import monthly_period
from app.extensions import db
from app.models import Role, Seat, SeatStatus, Subscription
from tests.api.conftest import Api, as_member, member_token
from tests.factories import make_org, make_team, member

URL = "/v1/customer-portal/seats/subscriptions"
SUBSCRIPTION_KEYS = {
    "created_at", "modified_at", "id", "amount", "currency", "recurring_interval",
    "recurring_interval_count", "status", "current_period_start", "current_period_end",
    "current_meter_period_start", "current_meter_period_end", "trial_start", "trial_end",
    "cancel_at_period_end", "canceled_at", "started_at", "ends_at", "ended_at", "past_due_at",
    "pause_at_period_end", "paused_at", "resumes_at", "customer_id", "product_id", "discount_id",
    "checkout_id", "seats", "units", "customer_cancellation_reason",
    "customer_cancellation_comment", "product", "prices", "meters", "pending_update",
}


def subscription_of(team) -> Subscription:
    return db.session.scalar(select(Subscription).where(Subscription.customer_id == team.id))


def claim_for(api: Api, sub: Subscription, person) -> dict:
    """The vendor gives `person` a seat of `sub`, claimed at once."""
    response = api.post("/v1/customer-seats", json={"subscription_id": str(sub.id),
                                                    "member_id": str(person.id),
                                                    "immediate_claim": True})
    assert response.status_code == 200 and response.get_json()["status"] == "claimed"
    return response.get_json()


def listed_ids(api: Api, **params) -> list[str]:
    response = api.get(URL, query_string=params)
    assert response.status_code == 200
    return [item["id"] for item in response.get_json()["items"]]


class TestClaimedSubscriptions:
    def test_a_claimed_seat_shows_its_subscription_with_our_data(self, client, api, org, team, owner,
                                                                 dev):
        sub = subscription_of(team)
        claim_for(api, sub, dev)
        assert listed_ids(as_member(client, owner)) == []  # a teammate's seat is not yours
        body = as_member(client, dev).get(URL).get_json()
        assert body["pagination"] == {"total_count": 1, "max_page": 1}
        [item] = body["items"]
        assert set(item) == SUBSCRIPTION_KEYS
        assert (item["id"], item["product_id"], item["customer_id"]) == (
            str(sub.id), str(sub.product_id), str(team.id))
        assert (item["seats"], item["status"], item["product"]["name"]) == (3, "active", "Team plan")
        assert item["created_at"].endswith("Z") and item["started_at"] == item["created_at"]
        organization = item["product"]["organization"]
        assert (organization["id"], organization["name"], organization["slug"]) == (
            str(org.id), "Acme Analytics", "acme")
        assert item["product"]["organization_id"] == str(org.id)

    def test_billing_fields_are_neutral_placeholders(self, client, api, team, dev):
        claim_for(api, subscription_of(team), dev)
        [item] = as_member(client, dev).get(URL).get_json()["items"]
        assert (item["amount"], item["currency"]) == (0, "usd")
        assert (item["recurring_interval"], item["recurring_interval_count"]) == ("month", 1)
        assert item["cancel_at_period_end"] is False and item["pause_at_period_end"] is False
        assert item["prices"] == item["meters"] == item["product"]["prices"] == []
        assert item["ends_at"] is None and item["canceled_at"] is None and item["trial_end"] is None
        start = datetime.fromisoformat(item["current_period_start"])
        end = datetime.fromisoformat(item["current_period_end"])
        assert start <= datetime.now(UTC) < end

    def test_any_role_may_call_and_without_a_claimed_seat_the_list_is_empty(self, client, owner,
                                                                             billing, dev):
        for person in (owner, billing, dev):
            body = as_member(client, person).get(URL).get_json()
            assert body == {"items": [], "pagination": {"total_count": 0, "max_page": 0}}

    def test_a_pending_seat_does_not_count(self, client, api, team, billing, mailbox):
        sub = subscription_of(team)
        pending = api.post("/v1/customer-seats", json={"subscription_id": str(sub.id),
                                                       "member_id": str(billing.id)})
        assert pending.get_json()["status"] == "pending"
        assert listed_ids(as_member(client, billing)) == []

    def test_a_revoked_seat_no_longer_counts(self, client, api, team, dev):
        sub = subscription_of(team)
        seat = claim_for(api, sub, dev)
        portal = as_member(client, dev)
        assert listed_ids(portal) == [str(sub.id)]
        assert api.delete(f"/v1/customer-seats/{seat['id']}").get_json()["status"] == "revoked"
        assert listed_ids(portal) == []

    def test_another_teams_subscriptions_never_show(self, client, api, org, team, dev):
        ours = subscription_of(team)
        claim_for(api, ours, dev)
        # The same person in a second team of this organization, and in another organization.
        neighbour = make_team(org, owner="boss@example.com", members={"dev@example.com": Role.MEMBER},
                              seats=2)
        claim_for(api, subscription_of(neighbour), member(neighbour, "dev@example.com"))
        globex = make_org("globex", "Globex")
        stranger = make_team(globex, owner="dev@example.com", seats=1)
        db.session.add(Seat(subscription_id=subscription_of(stranger).id, status=SeatStatus.CLAIMED,
                            email="dev@example.com", member_id=member(stranger, "dev@example.com").id,
                            claimed_at=datetime.now(UTC)))
        db.session.commit()
        assert listed_ids(as_member(client, dev)) == [str(ours.id)]
        assert listed_ids(as_member(client, member(neighbour, "dev@example.com"))) == [
            str(subscription_of(neighbour).id)]
        assert listed_ids(as_member(client, member(stranger, "dev@example.com"))) == [
            str(subscription_of(stranger).id)]


class TestPaging:
    @pytest.fixture
    def twelve(self, team, dev) -> list[str]:
        """Twelve subscriptions of the team with a seat claimed by dev, oldest first."""
        base = datetime(2025, 1, 1, tzinfo=UTC)
        ids = []
        for i in range(12):
            sub = Subscription(customer_id=team.id, product_name=f"Plan {i:02}", seats=1,
                               created_at=base + timedelta(days=i))
            db.session.add(sub)
            db.session.flush()
            db.session.add(Seat(subscription_id=sub.id, status=SeatStatus.CLAIMED, email=dev.email,
                                member_id=dev.id, claimed_at=base))
            ids.append(str(sub.id))
        db.session.commit()
        return ids

    def test_pages_walk_every_subscription_once_in_a_stable_order(self, client, dev, twelve):
        portal = as_member(client, dev)
        first = portal.get(URL, query_string={"limit": 5}).get_json()
        assert first["pagination"] == {"total_count": 12, "max_page": 3}
        walked = [i for page in (1, 2, 3) for i in listed_ids(portal, page=page, limit=5)]
        assert walked == twelve
        assert listed_ids(portal, page=4, limit=5) == []

    def test_limit_defaults_to_10_and_is_capped_at_100(self, client, dev, twelve):
        portal = as_member(client, dev)
        default = portal.get(URL).get_json()
        assert len(default["items"]) == 10 and default["pagination"]["max_page"] == 2
        capped = portal.get(URL, query_string={"limit": 500}).get_json()
        assert len(capped["items"]) == 12 and capped["pagination"]["max_page"] == 1

    def test_a_bad_page_is_422(self, client, dev):
        response = as_member(client, dev).get(URL, query_string={"page": 0})
        assert response.status_code == 422
        assert response.get_json()["detail"][0]["loc"] == ["query", "page"]


class TestAuth:
    def test_no_token_is_401(self, anonymous):
        response = anonymous.get(URL)
        assert response.status_code == 401 and response.headers["WWW-Authenticate"] == "Bearer"

    def test_an_organization_token_is_401(self, api, owner):
        response = api.get(URL)
        assert response.status_code == 401 and response.get_json()["error"] == "Unauthorized"

    def test_a_removed_members_token_stops_working(self, client, api, team, dev):
        token = member_token(dev)
        assert Api(client, token).get(URL).status_code == 200
        assert api.delete(f"/v1/customers/{team.id}/members/{dev.id}").status_code == 204
        assert Api(client, token).get(URL).status_code == 401


class TestMonthlyPeriod:
    def test_the_period_containing_now_counted_from_the_anchor(self):
        anchor = datetime(2025, 1, 15, 9, 30, tzinfo=UTC)
        now = datetime(2025, 3, 20, tzinfo=UTC)
        assert monthly_period(anchor, now) == (datetime(2025, 3, 15, 9, 30, tzinfo=UTC),
                                               datetime(2025, 4, 15, 9, 30, tzinfo=UTC))

    def test_before_the_monthly_day_it_is_the_previous_period(self):
        anchor = datetime(2025, 1, 15, 9, 30, tzinfo=UTC)
        now = datetime(2025, 3, 15, 9, 29, tzinfo=UTC)
        assert monthly_period(anchor, now)[0] == datetime(2025, 2, 15, 9, 30, tzinfo=UTC)

    def test_a_day_missing_from_a_month_is_its_last_day(self):
        anchor = datetime(2024, 1, 31, tzinfo=UTC)
        now = datetime(2024, 2, 29, 12, tzinfo=UTC)
        assert monthly_period(anchor, now) == (datetime(2024, 2, 29, tzinfo=UTC),
                                               datetime(2024, 3, 31, tzinfo=UTC))
