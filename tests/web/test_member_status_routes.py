"""The team page shows each member's status (rule 22): "Active" with the last sign-in date as
its title once they proved their email, "Invited" until then."""
import re

import pytest

from app.extensions import db
from app.models import Role
from app.services import sessions
from tests.factories import make_org, make_team, member
from tests.support.web import HX, sign_in_client


@pytest.fixture
def team(app):
    return make_team(make_org("acme", "Acme"), owner="olivia@example.com", members={
        "maya@example.com": Role.MEMBER, "sam@example.com": Role.MEMBER})


def row(html, m):
    match = re.search(rf'<tr id="member-{m.id}".*?</tr>', html, re.S)
    assert match, f"no row for {m.email}"
    return match.group(0)


def test_signed_in_members_are_active_and_the_others_invited(client, team):
    sign_in_client(client, member(team, "olivia@example.com"))
    sessions.start_api_session(db.session, member(team, "sam@example.com"))  # vendor-minted only
    db.session.commit()
    html = client.get("/acme/team").get_data(as_text=True)
    owner_row = row(html, member(team, "olivia@example.com"))
    when = member(team, "olivia@example.com").accepted_at.strftime("%-d %b %Y")
    assert re.search(rf'class="badge badge-active" title="Last signed in {when}"', owner_row)
    assert ">Active</span>" in owner_row
    for email in ("maya@example.com", "sam@example.com"):
        other = row(html, member(team, email))
        assert "badge-invited" in other and ">Invited</span>" in other and "badge-active" not in other


def test_the_htmx_row_shows_the_status_too(client, team):
    sign_in_client(client, member(team, "olivia@example.com"))
    maya = member(team, "maya@example.com")
    sessions.start_session(db.session, maya)
    db.session.commit()
    html = client.get(f"/acme/team/members/{maya.id}/row", headers=HX).get_data(as_text=True)
    assert "badge-active" in html and "Last signed in" in html
