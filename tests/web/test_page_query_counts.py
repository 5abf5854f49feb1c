"""Constant SQL per page (issue 14, item 4): the htmx team fragment, the seats page, the
activity page and each list API cost the same number of queries for 10 members as for 10,000.
A count that grows with the team is an N+1; the fix belongs in the service, as one query."""
from sqlalchemy import select

from app.extensions import db
from app.models import Subscription
from app.services import members, organizations, seats
from app.services.activity import Actor
from tests.factories import make_org, make_team, member
from tests.support.web import sign_in_client
from tests.web.test_team_query_count import counting


def pages(team, subscription) -> list[tuple[str, str, dict]]:
    fragment = {"HX-Request": "true", "HX-Target": "member-table"}
    return [
        ("htmx team fragment", "/acme/team?size=25", fragment),
        ("htmx fragment, page 200", "/acme/team?size=25&page=200", fragment),
        ("seats page", "/acme/seats", {}),
        ("activity page", "/acme/activity", {}),
        ("activity fragment", "/acme/activity", {"HX-Request": "true", "HX-Target": "event-list"}),
        ("API members", f"/v1/customers/{team.id}/members?limit=25", "api"),
        ("API members, page 200", f"/v1/customers/{team.id}/members?limit=25&page=200", "api"),
        ("API customer seats", f"/v1/customer-seats?subscription_id={subscription.id}", "api"),
        ("API customers", "/v1/customers?limit=25", "api"),
    ]


def measure(client, team, subscription, token) -> dict:
    result = {}
    for name, url, headers in pages(team, subscription):
        if headers == "api":
            headers = {"Authorization": f"Bearer {token}"}
        with counting(db.engine) as statements:
            response = client.get(url, headers=headers)
        assert response.status_code == 200, (name, response.status_code, response.get_data(as_text=True)[:300])
        result[name] = len(statements)
    return result


def test_query_counts_are_the_same_for_10_and_10000_members(app):
    org = make_org("acme", "Acme")
    team = make_team(org, owner="olivia@example.com", seats=3)
    for n in range(3):  # a few more customers for /v1/customers, each with members of its own
        make_team(org, owner=f"owner{n}@other.example")
    subscription = db.session.scalars(select(Subscription).filter_by(customer_id=team.id)).one()
    olivia = member(team, "olivia@example.com")
    for email in ("a@example.com", "b@example.com"):
        seats.assign_seat(db.session, Actor(member=olivia), subscription, email=email,
                          base_url="http://portal.test")
    members.fill_synthetic(db.session, Actor.operator(), team, 7)
    _row, token = organizations.create_token(db.session, org)
    db.session.commit()
    client = app.test_client()
    sign_in_client(client, olivia)
    measure(client, team, subscription, token)  # warm up: first connection, caches

    small = measure(client, team, subscription, token)
    members.fill_synthetic(db.session, Actor.operator(), team, 9_990)
    db.session.commit()
    large = measure(client, team, subscription, token)

    assert small == large, (small, large)
    assert max(small.values()) <= 8, small  # today: 3 to 6
    api = client.get(f"/v1/customers/{team.id}/members?limit=25&page=200",
                     headers={"Authorization": f"Bearer {token}"}).get_json()
    assert api["pagination"]["total_count"] == 10_000 and len(api["items"]) == 25
    listed = client.get("/v1/customers?limit=25", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert len(listed["items"]) == 4
    html = client.get("/acme/seats").get_data(as_text=True)
    assert "a@example.com" in html and "b@example.com" in html
