"""The activity page: newest first, paginated, before → after, owners and billing managers only."""
import re

import pytest

from app.extensions import db
from app.models import ActivityEvent, Role
from app.services import members
from app.services.activity import Actor
from tests.factories import make_org, make_team, member
from tests.support.web import HX, sign_in_client



@pytest.fixture
def team(app):
    org = make_org("acme", "Acme")
    return make_team(org, name="Globex", owner="olivia@example.com", members={
        "ben@example.com": Role.BILLING_MANAGER, "maya@example.com": Role.MEMBER,
        "sam@example.com": Role.MEMBER})


@pytest.fixture
def history(team):
    """Olivia adds Kim, renames Maya, makes Ben owner; Ben removes Kim."""
    olivia = Actor(member=member(team, "olivia@example.com"))
    kim, _ = members.add_member(db.session, olivia, team, email="kim@example.com", name="Kim")
    members.update_member(db.session, olivia, team, member(team, "maya@example.com").id,
                          name="Maya Patel", role="billing_manager")
    members.transfer_ownership(db.session, olivia, team, member(team, "ben@example.com").id)
    db.session.commit()
    members.remove_member(db.session, Actor(member=member(team, "ben@example.com")), team, kim.id)
    db.session.commit()


def sign_in(client, team, email):
    sign_in_client(client, member(team, email))
    return client


def actions(html):
    return re.findall(r'data-action="([a-z._]+)"', html)


def event_html(html, action):
    match = re.search(rf'<li class="event" id="event-[^"]+" data-action="{re.escape(action)}">.*?</li>', html, re.S)
    assert match, f"no {action} event"
    return match.group(0)


def sentence(html, action):
    return re.search(r'<p class="event-sentence">(.*?)</p>', event_html(html, action)).group(1)


def details(html, action):
    return re.findall(r'<p class="event-detail">(.*?)</p>', event_html(html, action))


@pytest.mark.parametrize("email", ["olivia@example.com", "ben@example.com"])
def test_owners_and_billing_managers_read_the_log_newest_first(client, team, history, email):
    response = sign_in(client, team, email).get("/acme/activity")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert actions(html) == ["member.removed", "ownership.transferred", "member.updated",
                             "member.added", "team.created"]
    assert sentence(html, "member.removed") == "Ben removed Kim (kim@example.com)"


def test_each_event_reads_as_a_sentence_with_human_labels(client, team, history):
    html = sign_in(client, team, "olivia@example.com").get("/acme/activity").get_data(as_text=True)
    assert sentence(html, "member.updated") == "Olivia changed Maya Patel (maya@example.com)"
    assert details(html, "member.updated") == ["Name: Maya → Maya Patel", "Role: Member → Billing manager"]
    assert sentence(html, "ownership.transferred") == "Olivia made ben@example.com the owner"
    assert details(html, "ownership.transferred") == ["olivia@example.com is now a billing manager"]
    assert sentence(html, "member.added") == "Olivia added Kim (kim@example.com) as member"
    assert details(html, "member.removed") == ["Signed out everywhere"]
    assert "<del>" not in html and "_" not in "".join(details(html, "member.updated"))


def test_events_are_grouped_by_day_with_machine_readable_times(client, team, history):
    html = sign_in(client, team, "olivia@example.com").get("/acme/activity").get_data(as_text=True)
    headings = re.findall(r'<li class="day-heading" data-day-heading><h2 class="day"><time datetime="([\d-]+)">', html)
    assert len(headings) == 1, "all of today's events under one heading"
    times = re.findall(r'<time class="event-time" datetime="([^"]+)" data-local="time">\d\d:\d\d UTC</time>', html)
    assert len(times) == 5 and all(t.startswith(headings[0]) for t in times)


def test_filters_by_person_and_by_kind(client, team, history):
    sign_in(client, team, "olivia@example.com")
    page = client.get("/acme/activity").get_data(as_text=True)
    assert '<option value="Ben">Ben</option>' in page and '<option value="Olivia">Olivia</option>' in page
    assert actions(client.get("/acme/activity?person=Ben").get_data(as_text=True)) == ["member.removed"]
    only = client.get("/acme/activity?kind=ownership", headers={**HX, "HX-Target": "event-list"})
    html = only.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="event-list"') and actions(html) == ["ownership.transferred"]
    assert actions(client.get("/acme/activity?kind=members&person=Olivia").get_data(as_text=True)) == [
        "member.updated", "member.added"]
    none = client.get("/acme/activity?person=Nobody").get_data(as_text=True)
    assert actions(none) == [] and "No changes match these filters." in none
    assert len(actions(client.get("/acme/activity?kind=bogus").get_data(as_text=True))) == 5


def test_pages_of_25_with_htmx_fragment(client, team):
    olivia = Actor(member=member(team, "olivia@example.com"))
    for i in range(30):
        members.add_member(db.session, olivia, team, email=f"p{i:02d}@example.com")
    db.session.commit()
    sign_in(client, team, "olivia@example.com")
    first = client.get("/acme/activity").get_data(as_text=True)
    assert first.count('<li class="event" id="event-') == 25 and "Page 1 of 2" in first
    assert 'href="/acme/activity?page=2"' in first
    second = client.get("/acme/activity?page=2", headers={**HX, "HX-Target": "event-list"})
    html = second.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="event-list"') and "<html" not in html
    assert html.count('<li class="event" id="event-') == 6 and "team.created" in html
    assert "HX-Request" in second.headers["Vary"]


def test_plain_member_gets_403(client, team, history):
    response = sign_in(client, team, "sam@example.com").get("/acme/activity")
    assert response.status_code == 403 and "kim@example.com" not in response.get_data(as_text=True)


def test_plain_member_has_no_activity_link_and_managers_do(client, team):
    sign_in(client, team, "sam@example.com")
    assert 'href="/acme/activity"' not in client.get("/acme/me").get_data(as_text=True)
    sign_in(client, team, "ben@example.com")
    assert 'href="/acme/activity"' in client.get("/acme/me").get_data(as_text=True)


def test_another_teams_events_are_not_shown(client, team, history):
    other = make_team(team.organization, name="Initech", owner="zed@other.example")
    sign_in(client, other, "zed@other.example")
    html = client.get("/acme/activity").get_data(as_text=True)
    assert actions(html) == ["team.created"] and "kim@example.com" not in html
    assert db.session.query(ActivityEvent).count() == 6


def test_logged_values_read_like_a_person_wrote_them():
    from app.web import readable

    assert readable("2026-11-30T03:09:50.447760+00:00") == "30 Nov 2026 03:09 UTC"
    assert readable(True) == "yes" and readable(False) == "no"
    assert readable("billing_manager") == "billing_manager" and readable(3) == "3"
