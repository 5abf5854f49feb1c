"""User groups (DESIGN.md rules 17-23): a class per service function, a test per rule.

Runs on SQLite by default and on PostgreSQL with TEST_DATABASE_URL."""
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.errors import NotFound, NotPermitted, RuleViolation
from app.models import ActivityEvent, Member, OrganizationToken, Role, UserGroup, UserGroupMember
from app.services import groups, members
from app.services.access import Actor
from tests.factories import as_, make_individual, make_org, make_team, member


@pytest.fixture
def org(app):
    return make_org("acme", "Acme")


@pytest.fixture
def team(org):
    return make_team(org, owner="olivia@example.com", members={
        "ben@example.com": Role.BILLING_MANAGER, "maya@example.com": Role.MEMBER,
        "sam@example.com": Role.MEMBER, "ida@example.com": Role.MEMBER})


@pytest.fixture
def other_team(org):
    return make_team(org, owner="zed@other.example", members={"yan@other.example": Role.MEMBER})


@pytest.fixture
def owner(team):
    return as_(team, "olivia@example.com")


@pytest.fixture
def group(session, team, owner):
    g = groups.create_group(session, owner, team, name="Engineering")
    session.commit()
    return g


def ids(team, *emails):
    return [member(team, e).id for e in emails]


def in_group(session, g):
    return sorted(session.scalars(select(Member.email).join(UserGroupMember, UserGroupMember.member_id == Member.id)
                                  .where(UserGroupMember.group_id == g.id)))


def events(session, action):
    return session.scalars(select(ActivityEvent).where(ActivityEvent.action == action)
                           .order_by(ActivityEvent.created_at)).all()


def vendor(session, org):
    token = OrganizationToken(organization_id=org.id, token_hash=uuid.uuid4().hex, name="ci",
                              scopes=["user_groups:write"])
    session.add(token)
    session.flush()
    return Actor(token=token)


class TestCreateGroup:
    def test_owner_billing_manager_and_vendor_may_create(self, session, org, team):
        groups.create_group(session, as_(team, "olivia@example.com"), team, name="A")
        groups.create_group(session, as_(team, "ben@example.com"), team, name="B")
        groups.create_group(session, vendor(session, org), team, name="C")
        assert session.scalar(select(func.count(UserGroup.id))) == 3

    def test_plain_member_is_refused(self, session, team):
        with pytest.raises(NotPermitted):
            groups.create_group(session, as_(team, "maya@example.com"), team, name="A")

    def test_individual_customer_is_refused(self, session, org):
        solo = make_individual(org)
        with pytest.raises(NotPermitted):
            groups.create_group(session, as_(solo, "solo@example.com"), solo, name="A")

    def test_another_organizations_token_gets_not_found(self, session, team):
        with pytest.raises(NotFound):
            groups.create_group(session, vendor(session, make_org("globex")), team, name="A")

    def test_another_teams_manager_gets_not_found(self, session, team, other_team):
        with pytest.raises(NotFound):
            groups.create_group(session, as_(other_team, "zed@other.example"), team, name="A")

    def test_name_is_trimmed_and_1_to_256_characters(self, session, team, owner):
        assert groups.create_group(session, owner, team, name="  Finance ").name == "Finance"
        for bad in ("", "   ", "x" * 257, None):
            with pytest.raises(RuleViolation) as exc:
                groups.create_group(session, owner, team, name=bad)
            assert exc.value.field == "name"
        assert groups.create_group(session, owner, team, name="y" * 256).name == "y" * 256

    def test_name_is_unique_in_the_team_in_any_case(self, session, team, other_team, owner, group):
        with pytest.raises(RuleViolation) as exc:
            groups.create_group(session, owner, team, name="ENGINEERING")
        assert "already exists" in exc.value.message
        groups.create_group(session, as_(other_team, "zed@other.example"), other_team, name="Engineering")

    def test_the_database_refuses_a_duplicate_name_in_another_case(self, session, team, group):
        session.add(UserGroup(customer_id=team.id, name="engineering", policies=[]))
        with pytest.raises(IntegrityError):
            session.flush()
        session.rollback()

    def test_at_most_500_groups_per_team(self, session, team, owner):
        session.add_all([UserGroup(customer_id=team.id, name=f"G{n}", policies=[]) for n in range(500)])
        session.flush()
        with pytest.raises(RuleViolation) as exc:
            groups.create_group(session, owner, team, name="One more")
        assert "at most 500" in exc.value.message

    def test_policies_are_validated_and_kept(self, session, team, owner):
        g = groups.create_group(session, owner, team, name="P", policies=[
            {"access": "allow", "permission_groups": [{"id": "pg_1", "name": "Admin"}],
             "resource_groups": [{"id": "rg_1", "scope": {"key": "acct", "objects": [{"key": "*"}]}}]}])
        assert g.policies[0]["access"] == "allow" and g.policies[0]["id"]
        assert g.policies[0]["resource_groups"][0]["scope"]["objects"] == [{"key": "*"}]
        for bad in ("x", [{"access": "maybe"}], [{"access": "allow", "extra": 1}],
                    [{"access": "allow", "permission_groups": [{"name": "no id"}]}]):
            with pytest.raises(RuleViolation) as exc:
                groups.create_group(session, owner, team, name="Q", policies=bad)
            assert exc.value.field == "policies"

    def test_records_an_event(self, session, team, owner, group):
        (event,) = events(session, "group.created")
        assert event.subject_label == "Engineering" and event.actor_label == owner.label


class TestUpdateGroup:
    def test_rename_and_record(self, session, team, owner, group):
        groups.rename_group(session, owner, team, group.id, " Platform ")
        assert group.name == "Platform"
        (event,) = events(session, "group.renamed")
        assert event.before == {"name": "Engineering"} and event.after == {"name": "Platform"}

    def test_rename_to_another_groups_name_in_another_case_is_refused(self, session, team, owner, group):
        groups.create_group(session, owner, team, name="Finance")
        with pytest.raises(RuleViolation):
            groups.rename_group(session, owner, team, group.id, "finance")

    def test_changing_only_the_case_of_its_own_name_is_allowed(self, session, team, owner, group):
        assert groups.rename_group(session, owner, team, group.id, "ENGINEERING").name == "ENGINEERING"

    def test_set_policies_records_an_event(self, session, team, owner, group):
        groups.set_policies(session, owner, team, group.id, [{"id": "p1", "access": "deny"}])
        assert group.policies == [{"id": "p1", "access": "deny", "permission_groups": [], "resource_groups": []}]
        assert len(events(session, "group.policies_changed")) == 1

    def test_plain_member_is_refused(self, session, team, group):
        with pytest.raises(NotPermitted):
            groups.rename_group(session, as_(team, "maya@example.com"), team, group.id, "X")

    def test_another_teams_group_is_not_found(self, session, team, other_team, group):
        with pytest.raises(NotFound):
            groups.rename_group(session, as_(other_team, "zed@other.example"), other_team, group.id, "X")


class TestDeleteGroup:
    def test_removes_memberships_never_the_members(self, session, team, owner, group):
        groups.add_members(session, owner, team, group.id, ids(team, "maya@example.com", "sam@example.com"))
        groups.delete_group(session, owner, team, group.id)
        session.commit()
        assert session.scalar(select(func.count(UserGroupMember.id))) == 0
        assert member(team, "maya@example.com").deleted_at is None
        (event,) = events(session, "group.deleted")
        assert event.after == {"members_removed": ["maya@example.com", "sam@example.com"]}

    def test_the_database_cascades_memberships_when_a_group_row_is_deleted(self, session, team, owner, group):
        groups.add_members(session, owner, team, group.id, ids(team, "maya@example.com"))
        session.commit()
        session.execute(UserGroup.__table__.delete().where(UserGroup.id == group.id))
        assert session.scalar(select(func.count(UserGroupMember.id))) == 0

    def test_another_teams_group_is_not_found(self, session, team, other_team, group):
        with pytest.raises(NotFound):
            groups.delete_group(session, as_(other_team, "zed@other.example"), other_team, group.id)


class TestListGroups:
    def test_search_paging_and_order(self, session, team, owner):
        for name in ("Finance", "engineering", "Contractors", "Design"):
            groups.create_group(session, owner, team, name=name)
        page = groups.list_groups(session, owner, team, limit=3)
        assert [g.name for g in page.items] == ["Contractors", "Design", "engineering"] and page.total == 4
        assert [g.name for g in groups.list_groups(session, owner, team, query="IN").items] == \
            ["engineering", "Finance"]
        assert groups.list_groups(session, owner, team, page=9).items == []
        assert [g.name for g in groups.list_groups(session, owner, team, descending=True).items][0] == "Finance"

    def test_only_this_teams_groups(self, session, team, other_team, owner, group):
        groups.create_group(session, as_(other_team, "zed@other.example"), other_team, name="Theirs")
        assert [g.name for g in groups.list_groups(session, owner, team).items] == ["Engineering"]

    def test_plain_member_is_refused(self, session, team, group):
        with pytest.raises(NotPermitted):
            groups.list_groups(session, as_(team, "maya@example.com"), team)


class TestListGroupMembers:
    def test_sorted_by_email_searchable_and_paged(self, session, team, owner, group):
        groups.add_members(session, owner, team, group.id, ids(team, "sam@example.com", "ida@example.com",
                                                               "maya@example.com"))
        page = groups.list_group_members(session, owner, team, group.id, limit=2)
        assert [r.member.email for r in page.items] == ["ida@example.com", "maya@example.com"]
        assert page.total == 3
        assert [r.member.email for r in groups.list_group_members(
            session, owner, team, group.id, query="SAM").items] == ["sam@example.com"]
        assert groups.list_group_members(session, owner, team, group.id, page=5, limit=2).items == []

    def test_another_teams_group_is_not_found(self, session, team, other_team, group):
        with pytest.raises(NotFound):
            groups.list_group_members(session, as_(other_team, "zed@other.example"), other_team, group.id)

    def test_email_query_matches_the_email_only_descending(self, session, team, owner, group):
        groups.add_members(session, owner, team, group.id, ids(team, "sam@example.com", "ida@example.com",
                                                               "maya@example.com"))
        # "Sam" is in sam@'s email and name; "ida" only in ida@'s email; "Maya" is maya@'s name.
        assert [r.member.email for r in groups.list_group_members(
            session, owner, team, group.id, email_query="A@EX", descending=True).items] == [
            "maya@example.com", "ida@example.com"]
        member(team, "ida@example.com").name = "Sam Ida"
        session.flush()
        assert [r.member.email for r in groups.list_group_members(
            session, owner, team, group.id, email_query="sam").items] == ["sam@example.com"]
        assert [r.member.email for r in groups.list_group_members(
            session, owner, team, group.id, query="sam").items] == ["ida@example.com", "sam@example.com"]


class TestAddMembers:
    def test_adds_and_records_who_was_added(self, session, team, owner, group):
        groups.add_members(session, owner, team, group.id, ids(team, "maya@example.com", "sam@example.com"))
        assert in_group(session, group) == ["maya@example.com", "sam@example.com"]
        (event,) = events(session, "group.members_added")
        assert event.after == {"members": ["maya@example.com", "sam@example.com"]}
        row = session.scalar(select(UserGroupMember).limit(1))
        assert row.added_by == owner.label and row.created_at is not None

    def test_is_idempotent(self, session, team, owner, group):
        groups.add_members(session, owner, team, group.id, ids(team, "maya@example.com"))
        again = groups.add_members(session, owner, team, group.id, ids(team, "maya@example.com") * 2)
        assert [m.email for m in again] == ["maya@example.com"]
        assert in_group(session, group) == ["maya@example.com"]
        assert len(events(session, "group.members_added")) == 1

    def test_unknown_ids_add_nothing_and_are_named(self, session, team, other_team, owner, group):
        stranger, gone = member(other_team, "yan@other.example"), member(team, "ida@example.com")
        members.remove_member(session, owner, team, gone.id)
        with pytest.raises(NotFound) as exc:
            groups.add_members(session, owner, team, group.id,
                               [member(team, "maya@example.com").id, stranger.id, gone.id, "nonsense"])
        assert exc.value.status == 404
        for name in (stranger.id.hex, gone.id.hex, "nonsense"):
            assert name in exc.value.message
        assert in_group(session, group) == []

    def test_accepts_32_hex_and_dashed_ids(self, session, team, owner, group):
        maya, sam = member(team, "maya@example.com"), member(team, "sam@example.com")
        groups.add_members(session, owner, team, group.id, [maya.id.hex, str(sam.id)])
        assert in_group(session, group) == ["maya@example.com", "sam@example.com"]

    def test_plain_member_is_refused(self, session, team, group):
        with pytest.raises(NotPermitted):
            groups.add_members(session, as_(team, "maya@example.com"), team, group.id, ids(team, "sam@example.com"))

    def test_another_teams_group_is_not_found(self, session, team, other_team, group):
        with pytest.raises(NotFound):
            groups.add_members(session, as_(other_team, "zed@other.example"), other_team, group.id,
                               ids(other_team, "yan@other.example"))

    def test_the_database_refuses_a_duplicate_membership(self, session, team, owner, group):
        groups.add_members(session, owner, team, group.id, ids(team, "maya@example.com"))
        session.commit()
        session.add(UserGroupMember(group_id=group.id, member_id=member(team, "maya@example.com").id, added_by="x"))
        with pytest.raises(IntegrityError):
            session.flush()
        session.rollback()


class TestReplaceMembers:
    def test_sets_exactly_the_given_set_and_records_both_sides(self, session, team, owner, group):
        groups.add_members(session, owner, team, group.id, ids(team, "maya@example.com", "sam@example.com"))
        groups.replace_members(session, owner, team, group.id, ids(team, "sam@example.com", "ida@example.com"))
        assert in_group(session, group) == ["ida@example.com", "sam@example.com"]
        (event,) = events(session, "group.members_replaced")
        assert event.after == {"added": ["ida@example.com"], "removed": ["maya@example.com"]}

    def test_an_unknown_id_changes_nothing(self, session, team, owner, group):
        groups.add_members(session, owner, team, group.id, ids(team, "maya@example.com"))
        with pytest.raises(NotFound):
            groups.replace_members(session, owner, team, group.id, [uuid.uuid4()])
        assert in_group(session, group) == ["maya@example.com"]

    def test_an_empty_list_empties_the_group(self, session, team, owner, group):
        groups.add_members(session, owner, team, group.id, ids(team, "maya@example.com"))
        assert groups.replace_members(session, owner, team, group.id, []) == []
        assert in_group(session, group) == []

    def test_plain_member_is_refused(self, session, team, group):
        with pytest.raises(NotPermitted):
            groups.replace_members(session, as_(team, "maya@example.com"), team, group.id, [])


class TestRemoveMember:
    def test_removes_from_the_group_only_and_records_it(self, session, team, owner, group):
        groups.add_members(session, owner, team, group.id, ids(team, "maya@example.com", "sam@example.com"))
        groups.remove_member(session, owner, team, group.id, member(team, "maya@example.com").id)
        assert in_group(session, group) == ["sam@example.com"]
        assert member(team, "maya@example.com").deleted_at is None
        (event,) = events(session, "group.members_removed")
        assert event.after == {"members": ["maya@example.com"]}

    def test_someone_not_in_the_group_is_not_found(self, session, team, owner, group):
        with pytest.raises(NotFound):
            groups.remove_member(session, owner, team, group.id, member(team, "maya@example.com").id)

    def test_plain_member_is_refused(self, session, team, owner, group):
        groups.add_members(session, owner, team, group.id, ids(team, "sam@example.com"))
        with pytest.raises(NotPermitted):
            groups.remove_member(session, as_(team, "maya@example.com"), team, group.id,
                                 member(team, "sam@example.com").id)


class TestLeavingTheTeam:
    def test_removing_a_member_removes_them_from_every_group(self, session, team, owner, group):
        other = groups.create_group(session, owner, team, name="Finance")
        for g in (group, other):
            groups.add_members(session, owner, team, g.id, ids(team, "maya@example.com", "sam@example.com"))
        members.remove_member(session, owner, team, member(team, "maya@example.com").id)
        session.commit()
        assert in_group(session, group) == in_group(session, other) == ["sam@example.com"]
        removed = events(session, "group.members_removed")
        assert len(removed) == 2 and all(e.after["members"] == ["maya@example.com"] for e in removed)

    def test_leaving_the_team_removes_them_from_every_group(self, session, team, owner, group):
        groups.add_members(session, owner, team, group.id, ids(team, "maya@example.com"))
        session.commit()
        members.leave_team(session, member(team, "maya@example.com"))
        session.commit()
        assert in_group(session, group) == []

    def test_a_failed_removal_keeps_the_groups(self, session, team, owner, group):
        groups.add_members(session, owner, team, group.id, ids(team, "olivia@example.com"))
        session.commit()
        with pytest.raises(RuleViolation):
            members.remove_member(session, as_(team, "ben@example.com"), team, member(team, "olivia@example.com").id)
        session.rollback()
        assert in_group(session, group) == ["olivia@example.com"]


class TestGroupsOf:
    def test_a_member_sees_their_own_groups(self, session, team, owner, group):
        groups.create_group(session, owner, team, name="Finance")
        groups.add_members(session, owner, team, group.id, ids(team, "maya@example.com"))
        assert [g.name for g in groups.groups_of(session, member(team, "maya@example.com"))] == ["Engineering"]


class TestGroupEventsReadAsSentences:
    def test_each_group_event_names_who_was_added_or_removed(self, session, team, owner, group):
        from app.services import activity

        groups.add_members(session, owner, team, group.id, ids(team, "maya@example.com", "sam@example.com"))
        groups.replace_members(session, owner, team, group.id, ids(team, "sam@example.com", "ida@example.com"))
        groups.rename_group(session, owner, team, group.id, "Platform")
        groups.delete_group(session, owner, team, group.id)
        said = {e.action: activity.describe(e) for e in session.scalars(select(ActivityEvent))}
        assert "added maya@example.com, sam@example.com to Engineering" in said["group.members_added"].sentence
        assert said["group.members_replaced"].details == ("Added: ida@example.com", "Removed: maya@example.com")
        assert said["group.renamed"].sentence.endswith("renamed the group Engineering to Platform")
        assert said["group.deleted"].details == ("2 members lost the group: ida@example.com, sam@example.com",)


class TestTeamPageGroups:
    """What the team page reads: chips for a page of members, the filter's choices, and the
    `group_id` filter of members.list_members."""

    def test_page_groups_gives_every_group_once_and_each_members_groups_by_name(self, session, team, owner):
        eng = groups.create_group(session, owner, team, name="engineering")
        fin = groups.create_group(session, owner, team, name="Finance")
        groups.create_group(session, owner, team, name="Contractors")
        groups.add_members(session, owner, team, eng.id, ids(team, "maya@example.com", "sam@example.com"))
        groups.add_members(session, owner, team, fin.id, ids(team, "maya@example.com"))
        maya, sam, ida = ids(team, "maya@example.com", "sam@example.com", "ida@example.com")
        choices, by_member = groups.page_groups(session, owner, team, [maya, sam, ida])
        assert [c.name for c in choices] == ["Contractors", "engineering", "Finance"]
        assert [g.name for g in by_member[maya]] == ["engineering", "Finance"]
        assert [g.name for g in by_member[sam]] == ["engineering"]
        assert ida not in by_member
        assert groups.page_groups(session, owner, team, [])[1] == {}
        assert [g.name for g in groups.groups_for_members(session, [maya])[maya]] == ["engineering", "Finance"]

    def test_page_groups_is_for_managers_only(self, session, team):
        with pytest.raises(NotPermitted):
            groups.page_groups(session, as_(team, "maya@example.com"), team, [])

    def test_list_members_filters_by_group(self, session, team, other_team, owner, group):
        groups.add_members(session, owner, team, group.id, ids(team, "maya@example.com", "ida@example.com"))
        page = members.list_members(session, owner, team, group_id=group.id)
        assert sorted(m.email for m in page.items) == ["ida@example.com", "maya@example.com"]
        assert page.total == 2
        assert members.list_members(session, owner, team, group_id=str(group.id), query="ida").total == 1
        other = groups.create_group(session, as_(other_team, "zed@other.example"), other_team, name="X")
        groups.add_members(session, as_(other_team, "zed@other.example"), other_team, other.id,
                           ids(other_team, "yan@other.example"))
        assert members.list_members(session, owner, team, group_id=other.id).total == 0
        assert members.list_members(session, owner, team, group_id="not-an-id").total == 0


class TestCandidates:
    """The add-members picker: live members of the team not in the group yet (rule 17)."""

    def test_everyone_not_in_the_group_by_name_matching_the_search(self, session, team, owner, group):
        groups.add_members(session, owner, team, group.id, ids(team, "maya@example.com"))
        kept, found = groups.candidates(session, owner, team, group.id)
        assert kept == [] and found.total == 4
        assert [m.email for m in found.items] == ["ben@example.com", "ida@example.com", "olivia@example.com",
                                                  "sam@example.com"]
        assert [m.email for m in groups.candidates(session, owner, team, group.id, query="SA")[1].items] == \
            ["sam@example.com"]
        assert groups.candidates(session, owner, team, group.id, limit=2)[1].total == 4

    def test_ticked_people_are_kept_apart_and_strangers_dropped(self, session, team, other_team, owner, group):
        groups.add_members(session, owner, team, group.id, ids(team, "maya@example.com"))
        keep = ids(team, "sam@example.com", "maya@example.com") + ids(other_team, "yan@other.example") + ["junk"]
        kept, found = groups.candidates(session, owner, team, group.id, query="a", keep=keep)
        assert [m.email for m in kept] == ["sam@example.com"]  # maya is in already, yan is elsewhere
        assert "sam@example.com" not in [m.email for m in found.items]

    def test_removed_members_and_other_teams_groups_are_out(self, session, team, other_team, owner, group):
        members.remove_member(session, owner, team, member(team, "ida@example.com").id)
        assert "ida@example.com" not in [m.email for m in groups.candidates(session, owner, team, group.id)[1].items]
        theirs = groups.create_group(session, as_(other_team, "zed@other.example"), other_team, name="X")
        with pytest.raises(NotFound):
            groups.candidates(session, owner, team, theirs.id)
        with pytest.raises(NotPermitted):
            groups.candidates(session, as_(team, "maya@example.com"), team, group.id)
