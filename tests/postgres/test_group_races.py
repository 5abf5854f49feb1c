"""User-group races on PostgreSQL (rules 20, 21): concurrent replacements and adds on one group
serialize on the customer lock, so the group ends with one of the requested sets (plus an add
that came last), never a mix; a member removed from the team while being added to groups is in
no group afterwards. Each thread runs the service in its own application context and session."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.errors import NotFound
from app.extensions import db
from app.models import Customer, Member, Role, UserGroupMember
from app.services import groups, members
from app.services.access import Actor
from tests.factories import make_org, make_team, member
from tests.support.concurrency import run_together

pytestmark = pytest.mark.postgres
EMAILS = [f"p{n}@example.com" for n in range(12)]


@pytest.fixture
def team(pg_app):
    return make_team(make_org("acme", "Acme"), owner="olivia@example.com",
                     members={e: Role.MEMBER for e in EMAILS})


def as_owner_in_own_session(app, team_id, owner_id, work):
    def call():
        with app.app_context():
            try:
                customer = db.session.get(Customer, team_id)
                result = work(db.session, Actor(member=db.session.get(Member, owner_id)), customer)
                db.session.commit()
                return result
            except Exception:
                db.session.rollback()
                raise
            finally:
                db.session.remove()
    return call


def group_emails(group_id) -> frozenset:
    db.session.rollback()
    return frozenset(db.session.scalars(select(Member.email).join(
        UserGroupMember, UserGroupMember.member_id == Member.id).where(UserGroupMember.group_id == group_id)))


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_replacements_and_adds_leave_one_requested_set(pg_app, team, round_):
    owner = member(team, "olivia@example.com")
    group = groups.create_group(db.session, Actor(member=owner), team, name="Engineering")
    db.session.commit()
    ids = {e: member(team, e).id for e in EMAILS}
    sets = [EMAILS[0:4], EMAILS[4:8], EMAILS[8:11]]
    extra = [EMAILS[11], EMAILS[0]]
    calls = [as_owner_in_own_session(pg_app, team.id, owner.id,
                                     lambda s, a, c, chosen=chosen: groups.replace_members(
                                         s, a, c, group.id, [ids[e] for e in chosen]))
             for chosen in sets]
    calls.append(as_owner_in_own_session(pg_app, team.id, owner.id, lambda s, a, c: groups.add_members(
        s, a, c, group.id, [ids[e] for e in extra])))
    results = run_together(calls)
    assert not [r for r in results if isinstance(r, Exception)], results
    allowed = {frozenset(s) for s in sets} | {frozenset(s) | frozenset(extra) for s in sets}
    assert group_emails(group.id) in allowed


@pytest.mark.parametrize("round_", range(3))
def test_a_member_removed_while_being_added_is_in_no_group(pg_app, team, round_):
    owner = member(team, "olivia@example.com")
    made = [groups.create_group(db.session, Actor(member=owner), team, name=f"G{n}") for n in range(3)]
    db.session.commit()
    target = member(team, EMAILS[0]).id
    calls = [as_owner_in_own_session(pg_app, team.id, owner.id, lambda s, a, c, g=g: groups.add_members(
        s, a, c, g.id, [target])) for g in made]
    calls.append(as_owner_in_own_session(pg_app, team.id, owner.id,
                                         lambda s, a, c: members.remove_member(s, a, c, target)))
    results = run_together(calls)
    assert all(r is None or not isinstance(r, Exception) or isinstance(r, NotFound) for r in results), results
    assert not isinstance(results[-1], Exception)
    db.session.rollback()
    assert db.session.scalars(select(UserGroupMember).where(UserGroupMember.member_id == target)).all() == []
