"""`flask groups …`: a team's user groups from the operator's shell (list, create, members), with
one clear error line for an unknown or non-team customer."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Role, UserGroup, utcnow
from app.services import groups
from app.services.access import Actor
from tests.factories import make_individual, make_org, make_team, member
from tests.web.test_cli import assert_clear_error, assert_ok, last_line


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=[str(a) for a in args])


@pytest.fixture
def org(app):
    return make_org("acme", "Acme")


@pytest.fixture
def team(org):
    return make_team(org, name="Globex", owner="olivia@globex.example",
                     members={"dev@globex.example": Role.MEMBER})


def test_list_shows_each_group_with_its_id_and_member_count(cli, team):
    eng = groups.create_group(db.session, Actor.operator(), team, name="Engineering")
    groups.create_group(db.session, Actor.operator(), team, name="Finance")
    groups.add_members(db.session, Actor.operator(), team, eng.id,
                       [member(team, "olivia@globex.example").id, member(team, "dev@globex.example").id])
    db.session.commit()
    result = cli("groups", "list", team.id)
    assert_ok(result)
    lines = result.stdout.splitlines()
    assert lines[0] == f"2 groups in 'Globex' (account id {team.id.hex}):"
    assert lines[1].split() == ["ID", "MEMBERS", "NAME"]
    assert lines[2].split() == [eng.id.hex, "2", "Engineering"]
    assert lines[3].split()[1:] == ["0", "Finance"]


def test_list_of_a_team_without_groups_says_how_to_create_one(cli, team):
    result = cli("groups", "list", team.id.hex)  # the API's 32-hex form works too
    assert_ok(result)
    assert "No groups in 'Globex' yet" in result.stdout and f"groups create {team.id.hex}" in result.stdout


def test_an_unknown_customer_is_one_clear_error_line(cli, app):
    missing = uuid.uuid4()
    assert_clear_error(cli("groups", "list", missing), f"No customer with id {missing}.")
    assert_clear_error(cli("groups", "list", "globex"), "'globex' is not a valid id (expected a UUID).")


def test_an_individual_customer_is_refused_with_the_reason(cli, org):
    solo = make_individual(org)
    assert_clear_error(cli("groups", "list", solo.id),
                       "Team management is only available for team customers.")


def test_create_prints_the_id_last_and_refuses_a_taken_name(cli, team):
    result = cli("groups", "create", team.id, "--name", "  Engineering ")
    assert_ok(result)
    group = db.session.get(UserGroup, uuid.UUID(last_line(result)))
    assert group.name == "Engineering" and group.customer_id == team.id
    assert_clear_error(cli("groups", "create", team.id, "--name", "ENGINEERING"),
                       "A group named 'ENGINEERING' already exists in this team.")


def test_members_lists_who_is_in_a_group_with_their_status(cli, team):
    eng = groups.create_group(db.session, Actor.operator(), team, name="Engineering")
    olivia, dev = member(team, "olivia@globex.example"), member(team, "dev@globex.example")
    olivia.accepted_at = utcnow()
    groups.add_members(db.session, Actor.operator(), team, eng.id, [dev.id, olivia.id])
    db.session.commit()
    result = cli("groups", "members", team.id, eng.id.hex)
    assert_ok(result)
    assert result.stdout.splitlines() == [
        "2 in 'Engineering':",
        f"{dev.id.hex}  pending   dev@globex.example  Dev",
        f"{olivia.id.hex}  accepted  olivia@globex.example  Olivia",
    ]
    assert_clear_error(cli("groups", "members", team.id, uuid.uuid4()), "User group not found.")


def test_every_groups_command_has_help(cli):
    for command in ("list", "create", "members"):
        result = cli("groups", command, "--help")
        assert_ok(result)
        assert "CUSTOMER_ID" in result.stdout


def test_token_create_knows_the_user_group_scopes(cli, org):
    from app.models import OrganizationToken

    help_text = cli("token", "create", "--help").stdout
    assert "user_groups:read" in help_text and "user_groups:write" in help_text
    result = cli("token", "create", "acme", "--scope", "user_groups:read")
    assert_ok(result)
    assert "with scopes: user_groups:read" in result.stdout
    assert db.session.scalars(select(OrganizationToken.scopes)).one() == ["user_groups:read"]
