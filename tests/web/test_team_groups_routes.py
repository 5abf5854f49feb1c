"""The team page shows each member's groups and filters by group (issue 11, item 4)."""
import re
import uuid

import pytest

from app.extensions import db
from app.models import Role
from app.services import groups, members
from tests.factories import as_, make_org, make_team, member
from tests.support.web import HX, sign_in_client


@pytest.fixture
def team(app):
    return make_team(make_org("acme", "Acme"), name="Globex", owner="olivia@example.com", members={
        "ben@example.com": Role.BILLING_MANAGER, "maya@example.com": Role.MEMBER,
        "sam@example.com": Role.MEMBER, "ida@example.com": Role.MEMBER})


@pytest.fixture
def engineering(team):
    owner = as_(team, "olivia@example.com")
    eng = groups.create_group(db.session, owner, team, name="Engineering")
    fin = groups.create_group(db.session, owner, team, name="Finance")
    groups.add_members(db.session, owner, team, eng.id,
                       [member(team, e).id for e in ("maya@example.com", "sam@example.com")])
    groups.add_members(db.session, owner, team, fin.id, [member(team, "maya@example.com").id])
    db.session.commit()
    return eng


@pytest.fixture
def owner(client, team):
    sign_in_client(client, member(team, "olivia@example.com"))
    return client


def rows(html):
    return {m.group(1): m.group(0) for m in re.finditer(r'<tr id="member-([0-9a-f-]+)".*?</tr>', html, re.S)}


def emails(html):
    return sorted(set(re.findall(r'class="person-email">([^<]+)<', html)))


def test_each_row_shows_the_members_groups_as_chips(owner, team, engineering):
    html = owner.get("/acme/team").get_data(as_text=True)
    by_id = rows(html)
    maya, sam, ida = (str(member(team, e).id) for e in ("maya@example.com", "sam@example.com", "ida@example.com"))
    assert re.findall(r'class="chip"[^>]*>([^<]+)<', by_id[maya]) == ["Engineering", "Finance"]
    assert re.findall(r'class="chip"[^>]*>([^<]+)<', by_id[sam]) == ["Engineering"]
    assert 'class="chip"' not in by_id[ida]
    assert "<th scope=\"col\">Groups</th>" in html


def test_more_than_three_groups_fold_into_a_count(owner, team):
    owner_actor = as_(team, "olivia@example.com")
    maya = member(team, "maya@example.com")
    for name in ("A", "B", "C", "D", "E"):
        groups.add_members(db.session, owner_actor, team,
                           groups.create_group(db.session, owner_actor, team, name=name).id, [maya.id])
    db.session.commit()
    row = rows(owner.get("/acme/team").get_data(as_text=True))[str(maya.id)]
    assert re.findall(r'class="chip"[^>]*>([^<]+)<', row) == ["A", "B", "C"]
    assert "+2<span class=\"visually-hidden\"> more: D, E</span>" in row


def test_the_filter_bar_offers_the_teams_groups_and_filters_by_one(owner, team, engineering):
    html = owner.get("/acme/team").get_data(as_text=True)
    select = re.search(r'<select id="filter-group".*?</select>', html, re.S).group(0)
    assert re.findall(r"<option[^>]*>([^<]+)<", select) == ["All groups", "Engineering", "Finance"]
    filtered = owner.get(f"/acme/team?group={engineering.id}").get_data(as_text=True)
    assert emails(filtered) == ["maya@example.com", "sam@example.com"]
    assert f'<option value="{engineering.id}" selected>Engineering</option>' in filtered
    assert "2 members in group “Engineering”" in filtered


def test_the_htmx_fragment_and_32_hex_ids_filter_too(owner, team, engineering):
    response = owner.get(f"/acme/team?group={engineering.id.hex}",
                         headers={**HX, "HX-Target": "member-table"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert emails(html) == ["maya@example.com", "sam@example.com"]
    # the summary that recounts itself after a change keeps the filter
    assert re.search(rf'id="member-summary"[^>]*hx-get="[^"]*group={engineering.id}', html, re.S)


def test_paging_links_keep_the_group(owner, team, engineering):
    html = owner.get(f"/acme/team?group={engineering.id}&size=10").get_data(as_text=True)
    assert "rel=\"next\"" not in html  # two members: one page
    owner_actor = as_(team, "olivia@example.com")
    members.fill_synthetic(db.session, owner_actor, team, 12)
    everyone = [m.id for m in members.list_members(db.session, owner_actor, team, limit=100).items]
    groups.add_members(db.session, owner_actor, team, engineering.id, everyone)
    db.session.commit()
    html = owner.get(f"/acme/team?group={engineering.id}&size=10").get_data(as_text=True)
    nxt = re.search(r'<a href="([^"]+)"[^>]*rel="next"', html).group(1).replace("&amp;", "&")
    assert f"group={engineering.id}" in nxt and "page=2" in nxt
    assert "11–17 of 17 members in group" in owner.get(nxt).get_data(as_text=True)


def test_an_unknown_or_foreign_group_shows_no_one_and_says_so(owner, team, engineering, app):
    other = make_team(make_org("other", "Other"), owner="zed@other.example",
                      members={"yan@other.example": Role.MEMBER})
    foreign = groups.create_group(db.session, as_(other, "zed@other.example"), other, name="Theirs")
    groups.add_members(db.session, as_(other, "zed@other.example"), other, foreign.id,
                       [member(other, "yan@other.example").id])
    db.session.commit()
    for value in (foreign.id, uuid.uuid4()):
        html = owner.get(f"/acme/team?group={value}").get_data(as_text=True)
        assert emails(html) == [] and "0 members in an unknown group" in html
        assert "No members match. Try another search, role or group." in html
        assert "Theirs" not in html
    # something that is no id at all is ignored, like an unknown role
    html = owner.get("/acme/team?group=%27%3Bdrop").get_data(as_text=True)
    assert len(emails(html)) == 5


def test_no_group_select_when_the_team_has_no_groups(owner):
    assert 'id="filter-group"' not in owner.get("/acme/team").get_data(as_text=True)
