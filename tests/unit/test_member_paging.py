"""Flat with size (issue 14, item 3): customers.member_count stays equal to the live members
however they come and go, every page of the member list is the page a plain OFFSET would give
(the service walks from the nearer end and loads rows by id), and a search counts exactly up
to members.SEARCH_COUNT_MAX, then says "more than"."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Customer, Member, Role, utcnow
from app.services import members
from app.services.activity import Actor
from tests.factories import as_, make_org, make_team, member
from tests.support.web import sign_in_client


@pytest.fixture
def team(app):
    return make_team(make_org("acme", "Acme"), owner="olivia@example.com", members={
        "ben@example.com": Role.BILLING_MANAGER, "maya@example.com": Role.MEMBER,
        "sam@example.com": Role.MEMBER})


def counted(team) -> tuple[int, int]:
    """(customers.member_count, the live members counted the slow way), from the database."""
    column = db.session.scalar(select(Customer.member_count).where(Customer.id == team.id))
    live = db.session.scalar(select(func.count()).select_from(Member).where(
        Member.customer_id == team.id, Member.deleted_at.is_(None)))
    return column, live


class TestMemberCount:
    def test_follows_every_way_a_member_comes_and_goes(self, session, team):
        olivia = as_(team, "olivia@example.com")
        assert counted(team) == (4, 4)
        members.add_member(session, olivia, team, email="new@example.com")
        session.commit()
        assert counted(team) == (5, 5)
        members.remove_member(session, olivia, team, member(team, "sam@example.com").id)
        session.commit()
        assert counted(team) == (4, 4)
        members.leave_team(session, member(team, "maya@example.com"))
        session.commit()
        assert counted(team) == (3, 3)
        members.fill_synthetic(session, Actor.operator(), team, 50)
        session.commit()
        assert counted(team) == (53, 53)
        assert team.member_count == 53  # the loaded customer re-reads it
        by_hand = member(team, "new@example.com")
        by_hand.deleted_at = utcnow()  # an ORM soft delete outside the services
        session.commit()
        assert counted(team) == (52, 52)
        by_hand.deleted_at = None
        session.commit()
        assert counted(team) == (53, 53)
        session.delete(by_hand)
        session.commit()
        assert counted(team) == (52, 52)

    def test_a_rolled_back_add_leaves_the_count(self, session, team):
        members.add_member(session, as_(team, "olivia@example.com"), team, email="new@example.com")
        session.flush()
        assert counted(team) == (5, 5)
        session.rollback()
        assert counted(team) == (4, 4)

    def test_teams_count_apart(self, session, team):
        other = make_team(team.organization, owner="zed@other.example")
        members.fill_synthetic(session, Actor.operator(), other, 7)
        session.commit()
        assert counted(team) == (4, 4) and counted(other) == (8, 8)


def reference(team, newest_first=False, role=None) -> list:
    """Every live member in the list's order, read the plain way."""
    order = (Member.created_at.desc(), Member.id.desc()) if newest_first else (Member.created_at, Member.id)
    where = [Member.customer_id == team.id, Member.deleted_at.is_(None)]
    if role is not None:
        where.append(Member.role == role)
    return list(db.session.scalars(select(Member.id).where(*where).order_by(*order)))


class TestPages:
    @pytest.mark.parametrize("newest_first", [False, True])
    @pytest.mark.parametrize("role", [None, Role.MEMBER, Role.BILLING_MANAGER])
    def test_every_page_is_the_page_of_the_whole_list(self, session, team, newest_first, role):
        members.fill_synthetic(session, Actor.operator(), team, 97)
        olivia = as_(team, "olivia@example.com")
        for email in ("maya@example.com",):
            members.remove_member(session, olivia, team, member(team, email).id)
        for m in reference(team)[40:45]:  # a few gone from the middle
            if m != olivia.member.id:
                members.remove_member(session, olivia, team, m)
        members.update_member(session, olivia, team, reference(team)[60], role=Role.BILLING_MANAGER)
        session.commit()
        everyone = reference(team, newest_first, role)
        for limit in (1, 7, 10, 25):
            pages = -(-len(everyone) // limit)
            for page in range(1, pages + 2):
                got = members.list_members(session, olivia, team, page=page, limit=limit,
                                           newest_first=newest_first, role=role)
                shown = min(page, pages)  # past the end: the last page
                assert got.page == shown and got.total == len(everyone) and not got.capped
                assert [m.id for m in got.items] == everyone[(shown - 1) * limit:shown * limit], (limit, page)

    def test_an_empty_role_has_one_empty_page(self, session, team):
        got = members.list_members(session, Actor.operator(), team, role=Role.OWNER, page=3)
        assert (got.total, got.page, len(got.items)) == (1, 1, 1)
        members.remove_member(session, as_(team, "olivia@example.com"), team,
                              member(team, "ben@example.com").id)
        got = members.list_members(session, Actor.operator(), team, role=Role.BILLING_MANAGER, page=2)
        assert (got.total, got.page, got.items, got.max_page) == (0, 1, [], 0)


class TestSearch:
    def test_exact_count_and_pages_below_the_bound(self, session, team):
        members.fill_synthetic(session, Actor.operator(), team, 1_200)
        session.commit()
        # names are "Synthetic Member <n>": 'member 11' matches 11, 110-119 and 1100-1199
        wanted = [m for m in reference(team) if "member 11" in (session.get(Member, m).name or "").lower()]
        assert len(wanted) == 111
        for newest_first in (False, True):
            order = wanted[::-1] if newest_first else wanted
            for page in (1, 2, 5, 9):
                got = members.list_members(session, Actor.operator(), team, query="Member 11", page=page,
                                           limit=25, newest_first=newest_first)
                shown = min(page, 5)
                assert (got.total, got.capped, got.page) == (111, False, shown)
                assert [m.id for m in got.items] == order[(shown - 1) * 25:shown * 25]

    def test_more_matches_than_the_bound_say_more_than(self, session, team):
        members.fill_synthetic(session, Actor.operator(), team, members.SEARCH_COUNT_MAX + 5)
        session.commit()
        got = members.list_members(session, Actor.operator(), team, query="synthetic", page=3, limit=25)
        assert (got.total, got.capped, got.page) == (members.SEARCH_COUNT_MAX, True, 3)
        everyone = reference(team)[4:]  # the four people of the fixture came first
        assert [m.id for m in got.items] == everyone[50:75]
        last = members.list_members(session, Actor.operator(), team, query="synthetic", page=10_000)
        assert last.page == members.SEARCH_COUNT_MAX // 25 and len(last.items) == 25

    def test_the_team_page_says_more_than(self, app, session, team):
        members.fill_synthetic(session, Actor.operator(), team, members.SEARCH_COUNT_MAX + 5)
        session.commit()
        client = app.test_client()
        sign_in_client(client, member(team, "olivia@example.com"))
        html = client.get("/acme/team?q=synthetic").get_data(as_text=True)
        assert "1–25 of more than 1000 members matching “synthetic”" in html
        html = client.get("/acme/team?q=member+1004").get_data(as_text=True)
        assert "1–1 of 1 member matching “member 1004”" in html
        html = client.get("/acme/team").get_data(as_text=True)
        assert "1–25 of 1009 members" in html
