"""/client/v4 under concurrent requests on PostgreSQL, over HTTP through a threaded live server:
simultaneous PUT replacements and a POST add on one group all answer 200 and leave one of the
requested sets (plus the add when it came last), never a mix; simultaneous creates of one name
in different cases give one group and clear 400s, never a 500 (rules 18, 20 and 8)."""
from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Member, Role, UserGroup, UserGroupMember
from app.services import groups, organizations
from app.services.access import Actor
from tests.conftest import LiveServer
from tests.factories import make_org, make_team, member
from tests.support.concurrency import run_together

pytestmark = pytest.mark.postgres
EMAILS = [f"p{n}@example.com" for n in range(12)]


@pytest.fixture
def world(pg_app):
    org = make_org("acme", "Acme")
    team = make_team(org, owner="olivia@example.com", members={e: Role.MEMBER for e in EMAILS})
    _row, token = organizations.create_token(db.session, org, ["user_groups:write"])
    db.session.commit()
    with LiveServer(pg_app) as server:
        yield server, team, token


def send(server, token, method, path, body):
    def call():
        with httpx.Client(base_url=f"{server.url}/client/v4", timeout=60,
                          headers={"Authorization": f"Bearer {token}"}) as http:
            return http.request(method, path, json=body)
    return call


def group_emails(group_id) -> frozenset:
    db.session.rollback()
    return frozenset(db.session.scalars(select(Member.email).join(
        UserGroupMember, UserGroupMember.member_id == Member.id).where(UserGroupMember.group_id == group_id)))


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_puts_and_an_add_leave_one_requested_set(world, round_):
    server, team, token = world
    group = groups.create_group(db.session, Actor.operator(), team, name="Engineering")
    db.session.commit()
    ids = {e: member(team, e).id.hex for e in EMAILS}
    path = f"/accounts/{team.id.hex}/iam/user_groups/{group.id.hex}/members"
    sets = [EMAILS[0:4], EMAILS[4:8], EMAILS[8:11]]
    extra = [EMAILS[11], EMAILS[0]]
    calls = [send(server, token, "PUT", path, [{"id": ids[e]} for e in chosen]) for chosen in sets]
    calls.append(send(server, token, "POST", path, [{"id": ids[e]} for e in extra]))
    answers = run_together(calls)
    assert [getattr(a, "status_code", a) for a in answers] == [200, 200, 200, 200]
    for answer, chosen in zip(answers[:3], sets, strict=True):
        assert sorted(m["email"] for m in answer.json()["result"]) == sorted(chosen)
    allowed = {frozenset(s) for s in sets} | {frozenset(s) | frozenset(extra) for s in sets}
    assert group_emails(group.id) in allowed


def test_concurrent_creates_of_one_name_make_one_group(world):
    server, team, token = world
    path = f"/accounts/{team.id.hex}/iam/user_groups"
    names = ["Ops", "OPS", "ops", " Ops "]
    answers = run_together([send(server, token, "POST", path, {"name": n}) for n in names])
    statuses = sorted(getattr(a, "status_code", a) for a in answers)
    assert statuses == [200, 400, 400, 400], [getattr(a, "text", a) for a in answers]
    for answer in answers:
        if answer.status_code == 400:
            assert answer.json()["errors"][0]["code"] == 1002
            assert answer.headers["x-should-retry"] == "false"
    db.session.rollback()
    assert len(db.session.scalars(select(UserGroup).where(UserGroup.customer_id == team.id)).all()) == 1
