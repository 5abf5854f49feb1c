"""Tenant isolation of /client/v4 (DESIGN.md rule 17): every user-group route, with another
team's and another organization's ids and credentials, answers 404 in the v4 envelope, never 403,
and changes nothing. Runs on SQLite by default and on PostgreSQL with TEST_DATABASE_URL."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Role, UserGroup, UserGroupMember
from app.services import groups
from app.services.access import Actor
from tests.api.conftest import Api, member_token, mint_token
from tests.factories import make_org, make_team, member

ROUTES = {
    "list groups": ("GET", "/accounts/{A}/iam/user_groups", None),
    "create group": ("POST", "/accounts/{A}/iam/user_groups", {"name": "Intruders"}),
    "get group": ("GET", "/accounts/{A}/iam/user_groups/{G}", None),
    "update group": ("PUT", "/accounts/{A}/iam/user_groups/{G}", {"name": "Renamed"}),
    "delete group": ("DELETE", "/accounts/{A}/iam/user_groups/{G}", None),
    "list members": ("GET", "/accounts/{A}/iam/user_groups/{G}/members", None),
    "add members": ("POST", "/accounts/{A}/iam/user_groups/{G}/members", [{"id": "{U}"}]),
    "replace members": ("PUT", "/accounts/{A}/iam/user_groups/{G}/members", [{"id": "{U}"}]),
    "get member": ("GET", "/accounts/{A}/iam/user_groups/{G}/members/{U}", None),
    "remove member": ("DELETE", "/accounts/{A}/iam/user_groups/{G}/members/{U}", None),
}
GROUP_ROUTES = [name for name, (_m, path, _b) in ROUTES.items() if "{G}" in path]


class Tenant:
    """A team with a group holding its member `dev`, and credentials for it."""

    def __init__(self, org, name, domain, token):
        self.team = make_team(org, name=name, owner=f"owner@{domain}",
                              members={f"dev@{domain}": Role.MEMBER})
        self.owner, self.dev = member(self.team, f"owner@{domain}"), member(self.team, f"dev@{domain}")
        self.group = groups.create_group(db.session, Actor.operator(), self.team, name="Engineering")
        groups.add_members(db.session, Actor.operator(), self.team, self.group.id, [self.dev.id])
        db.session.commit()
        self.token = token
        self.session = member_token(self.owner)

    @property
    def ids(self):
        return {"A": self.team.id.hex, "G": self.group.id.hex, "U": self.dev.id.hex}


@pytest.fixture
def world(app):
    acme, globex = make_org("acme", "Acme"), make_org("globex", "Globex")
    acme_token, globex_token = mint_token(acme), mint_token(globex)
    return {
        "ours": Tenant(acme, "Ours", "ours.example", acme_token),
        "sibling": Tenant(acme, "Sibling", "sibling.example", acme_token),  # same organization
        "foreign": Tenant(globex, "Foreign", "foreign.example", globex_token),  # another one
    }


def call(client, credential, route, **ids):
    method, path, body = ROUTES[route]
    path = "/client/v4" + path.format(**ids)
    if body is not None:
        body = [{"id": ids["U"]}] if isinstance(body, list) else body
    return Api(client, credential).request(method, path, json=body)


def snapshot():
    db.session.expire_all()
    return (sorted((g.customer_id.hex, g.name) for g in db.session.scalars(select(UserGroup))),
            sorted((r.group_id.hex, r.member_id.hex) for r in db.session.scalars(select(UserGroupMember))))


def assert_not_found(response):
    assert response.status_code == 404, response.get_data(as_text=True)
    body = response.get_json()
    assert body["success"] is False and body["errors"][0]["code"] == 1003
    assert response.headers["x-should-retry"] == "false"


def mixed(world, account, group, person):
    return {"A": world[account].ids["A"], "G": world[group].ids["G"], "U": world[person].ids["U"]}


@pytest.mark.parametrize("route", ROUTES)
class TestEveryRoute:
    def test_our_credentials_cannot_reach_another_organizations_team(self, client, world, route):
        before = snapshot()
        foreign = world["foreign"].ids
        for credential in (world["ours"].token, world["ours"].session):
            assert_not_found(call(client, credential, route, **foreign))
        assert snapshot() == before

    def test_another_organizations_token_cannot_reach_our_team(self, client, world, route):
        before = snapshot()
        assert_not_found(call(client, world["foreign"].token, route, **world["ours"].ids))
        assert snapshot() == before

    def test_another_teams_owner_session_cannot_reach_our_team(self, client, world, route):
        before = snapshot()
        for other in ("sibling", "foreign"):
            assert_not_found(call(client, world[other].session, route, **world["ours"].ids))
        assert snapshot() == before

    def test_our_owner_session_cannot_reach_a_sibling_team_of_the_same_organization(self, client, world,
                                                                                    route):
        before = snapshot()
        assert_not_found(call(client, world["ours"].session, route, **world["sibling"].ids))
        assert snapshot() == before


@pytest.mark.parametrize("route", GROUP_ROUTES)
def test_another_teams_group_under_our_account_is_not_found(client, world, route):
    """The organization's token may see both teams, but a group belongs to its own team only."""
    before = snapshot()
    for group_of in ("sibling", "foreign"):
        for credential in (world["ours"].token, world["ours"].session):
            assert_not_found(call(client, credential, route, **mixed(world, "ours", group_of, "ours")))
    assert_not_found(call(client, world["ours"].token, route, **mixed(world, "sibling", "ours", "ours")))
    assert snapshot() == before


@pytest.mark.parametrize("route", ["add members", "replace members", "get member", "remove member"])
def test_another_teams_member_in_our_group_is_not_found(client, world, route):
    before = snapshot()
    for person_of in ("sibling", "foreign"):
        for credential in (world["ours"].token, world["ours"].session):
            assert_not_found(call(client, credential, route, **mixed(world, "ours", "ours", person_of)))
    assert snapshot() == before
