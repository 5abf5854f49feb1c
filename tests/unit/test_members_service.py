"""Team member rules (DESIGN.md 1-8): a class per service function, a test per rule.

Runs on SQLite by default and on PostgreSQL with TEST_DATABASE_URL."""
import uuid

import pytest
from sqlalchemy import create_engine, event, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from app.errors import NotFound, NotPermitted, PortalError, RuleViolation
from app.extensions import db
from app.models import ActivityEvent, Member, PortalSession, Role, Seat, SeatStatus, Subscription
from app.services import members, organizations, sessions
from app.services.activity import Actor
from tests.factories import as_, make_individual, make_org, make_team, member


@pytest.fixture
def org(app):
    return make_org("acme", "Acme")


@pytest.fixture
def team(org):
    return make_team(org, owner="olivia@example.com", members={
        "ben@example.com": Role.BILLING_MANAGER,
        "maya@example.com": Role.MEMBER,
        "sam@example.com": Role.MEMBER,
    })


@pytest.fixture
def other_team(org):
    return make_team(org, owner="zed@other.example", members={"yan@other.example": Role.MEMBER})


def owners(session, team):
    return session.scalars(select(Member).where(
        Member.customer_id == team.id, Member.role == Role.OWNER, Member.deleted_at.is_(None))).all()


def events(session, action):
    return session.scalars(select(ActivityEvent).where(ActivityEvent.action == action)).all()


class TestEnsureCanManage:
    def test_owner_and_billing_manager_may_manage(self, team):
        members.ensure_can_manage(as_(team, "olivia@example.com"), team)
        members.ensure_can_manage(as_(team, "ben@example.com"), team)

    def test_plain_member_is_refused_with_403(self, team):
        with pytest.raises(NotPermitted) as exc:
            members.ensure_can_manage(as_(team, "maya@example.com"), team)
        assert exc.value.status == 403
        assert "owner and billing managers" in exc.value.message

    def test_individual_customer_is_told_team_features_need_a_team_plan(self, org):
        solo = make_individual(org)
        with pytest.raises(NotPermitted) as exc:
            members.ensure_can_manage(as_(solo, "solo@example.com"), solo)
        assert exc.value.status == 403 and "team" in exc.value.message.lower()

    def test_member_of_another_team_gets_404(self, team, other_team):
        with pytest.raises(NotFound):
            members.ensure_can_manage(as_(other_team, "zed@other.example"), team)

    def test_token_of_another_organization_gets_404(self, session, team):
        token, _raw = organizations.create_token(session, make_org("elsewhere", "Elsewhere"))
        with pytest.raises(NotFound):
            members.ensure_can_manage(Actor(token=token), team)


class TestLockCustomer:
    def test_every_mutation_locks_the_customer_row_before_writing(self, app, session, team):
        """Rule 8: the customer row is selected (FOR UPDATE on PostgreSQL) before any write."""
        statements = []
        engine = db.engine

        def capture(conn, cursor, statement, params, context, executemany):
            statements.append(statement.upper())

        event.listen(engine, "before_cursor_execute", capture)
        try:
            actor = as_(team, "olivia@example.com")
            maya = member(team, "maya@example.com")
            sam = member(team, "sam@example.com")
            for work in (
                lambda: members.add_member(session, actor, team, email="new@example.com"),
                lambda: members.update_member(session, actor, team, maya.id, name="Maya P"),
                lambda: members.remove_member(session, actor, team, sam.id),
                lambda: members.transfer_ownership(session, actor, team, maya.id),
            ):
                session.flush()
                statements.clear()
                work()
                lock = next(i for i, s in enumerate(statements) if "FROM CUSTOMERS" in s
                            and s.lstrip().startswith("SELECT CUSTOMERS.ID"))
                first_write = next(i for i, s in enumerate(statements)
                                   if s.lstrip().startswith(("INSERT", "UPDATE", "DELETE")))
                assert lock < first_write, statements[:3]
                if engine.dialect.name == "postgresql":
                    assert "FOR UPDATE" in statements[lock]
        finally:
            event.remove(engine, "before_cursor_execute", capture)
            session.rollback()

    def test_lock_blocks_a_second_transaction_on_postgresql(self, app, session, team, database_url):
        if not database_url.startswith("postgresql"):
            pytest.skip("row locks are a PostgreSQL feature; SQLite serializes writers itself")
        members.lock_customer(session, team)
        other = create_engine(database_url)
        try:
            with other.connect() as conn, pytest.raises(OperationalError):
                conn.execute(text("SELECT id FROM customers WHERE id = :id FOR UPDATE NOWAIT"),
                             {"id": team.id})
        finally:
            other.dispose()
            session.rollback()


class TestGetMember:
    def test_returns_a_live_member_of_the_team(self, team):
        maya = member(team, "maya@example.com")
        assert members.get_member(db.session, team, str(maya.id)) is maya

    def test_another_teams_member_is_not_found(self, team, other_team):
        with pytest.raises(NotFound):
            members.get_member(db.session, team, member(other_team, "yan@other.example").id)

    @pytest.mark.parametrize("bad", ["not-a-uuid", "", str(uuid.UUID(int=0))])
    def test_unknown_or_malformed_id_is_not_found(self, team, bad):
        with pytest.raises(NotFound):
            members.get_member(db.session, team, bad)

    def test_removed_member_is_not_found(self, session, team):
        sam = member(team, "sam@example.com")
        members.remove_member(session, as_(team, "olivia@example.com"), team, sam.id)
        with pytest.raises(NotFound):
            members.get_member(session, team, sam.id)


class TestGetMemberByExternalId:
    def test_finds_by_external_id_within_the_team_only(self, session, team, other_team):
        members.add_member(session, as_(team, "olivia@example.com"), team,
                           email="ext@example.com", external_id="crm-1")
        assert members.get_member_by_external_id(session, team, "crm-1").email == "ext@example.com"
        with pytest.raises(NotFound):
            members.get_member_by_external_id(session, other_team, "crm-1")


class TestListMembers:
    def test_plain_member_cannot_list(self, session, team):
        with pytest.raises(NotPermitted):
            members.list_members(session, as_(team, "maya@example.com"), team)

    def test_stable_order_and_pages(self, session, team):
        actor = as_(team, "ben@example.com")
        for i in range(7):
            members.add_member(session, actor, team, email=f"p{i}@example.com")
        session.commit()
        first = members.list_members(session, actor, team, page=1, limit=5)
        second = members.list_members(session, actor, team, page=2, limit=5)
        assert first.total == 11 and first.max_page == 3
        seen = [m.email for m in first.items + second.items]
        assert len(set(seen)) == 10
        assert first.items[0].email == "olivia@example.com"
        again = members.list_members(session, actor, team, page=1, limit=5)
        assert [m.id for m in again.items] == [m.id for m in first.items]

    def test_a_page_past_the_end_shows_the_last_page(self, session, team):
        page = members.list_members(session, as_(team, "ben@example.com"), team, page=99, limit=3)
        assert page.page == 2 and [m.email for m in page.items] == ["sam@example.com"]

    def test_search_by_part_of_name_or_email_any_case(self, session, team):
        actor = as_(team, "ben@example.com")
        assert [m.email for m in members.list_members(session, actor, team, query="MAY").items] == \
            ["maya@example.com"]
        members.update_member(session, actor, team, member(team, "sam@example.com").id, name="Samuel Rivers")
        assert [m.email for m in members.list_members(session, actor, team, query="rivers").items] == \
            ["sam@example.com"]

    def test_search_wildcards_are_plain_characters(self, session, team):
        actor = as_(team, "ben@example.com")
        assert members.list_members(session, actor, team, query="%").total == 0
        assert members.list_members(session, actor, team, query="_").total == 0

    def test_role_filter(self, session, team):
        page = members.list_members(session, as_(team, "ben@example.com"), team, role=Role.MEMBER)
        assert {m.email for m in page.items} == {"maya@example.com", "sam@example.com"}

    def test_removed_members_are_not_listed(self, session, team):
        actor = as_(team, "olivia@example.com")
        members.remove_member(session, actor, team, member(team, "sam@example.com").id)
        assert "sam@example.com" not in {m.email for m in members.list_members(session, actor, team).items}


class TestAddMember:
    def test_adds_a_member_and_records_the_event(self, session, team):
        new, created = members.add_member(session, as_(team, "ben@example.com"), team,
                                          email=" Kim@Example.com ", name="Kim", role="billing_manager")
        session.commit()
        assert created and new.email == "Kim@Example.com" and new.role is Role.BILLING_MANAGER
        (added,) = events(session, "member.added")
        assert added.actor_label == "Ben" and added.after["email"] == "Kim@Example.com"

    def test_plain_member_cannot_add(self, session, team):
        with pytest.raises(NotPermitted):
            members.add_member(session, as_(team, "maya@example.com"), team, email="x@example.com")

    def test_individual_customer_cannot_add(self, session, org):
        solo = make_individual(org)
        with pytest.raises(NotPermitted):
            members.add_member(session, as_(solo, "solo@example.com"), solo, email="x@example.com")

    def test_nobody_is_added_as_owner(self, session, team):
        with pytest.raises(RuleViolation) as exc:
            members.add_member(session, as_(team, "olivia@example.com"), team,
                               email="boss@example.com", role=Role.OWNER)
        assert exc.value.field == "role" and "exactly one owner" in exc.value.message
        assert len(owners(session, team)) == 1

    def test_existing_email_in_any_case_returns_the_existing_member_unchanged(self, session, team):
        maya = member(team, "maya@example.com")
        again, created = members.add_member(session, as_(team, "ben@example.com"), team,
                                            email="MAYA@example.COM", name="Other", role="billing_manager")
        assert not created and again.id == maya.id
        assert again.name == "Maya" and again.role is Role.MEMBER
        assert events(session, "member.added") == []

    def test_case_is_ignored_beyond_ascii_too(self, session, team):
        actor = as_(team, "olivia@example.com")
        jorg, created = members.add_member(session, actor, team, email="JÖRG@example.com")
        again, created_again = members.add_member(session, actor, team, email="jörg@example.com")
        assert created and not created_again and again.id == jorg.id

    def test_a_removed_email_can_be_added_again_as_a_new_row(self, session, team):
        actor = as_(team, "olivia@example.com")
        sam = member(team, "sam@example.com")
        members.remove_member(session, actor, team, sam.id)
        again, created = members.add_member(session, actor, team, email="sam@example.com")
        assert created and again.id != sam.id

    @pytest.mark.parametrize("bad", ["", "no-at-sign", "a@", "two@@example.com"])
    def test_invalid_email_is_a_form_error(self, session, team, bad):
        with pytest.raises(PortalError) as exc:
            members.add_member(session, as_(team, "olivia@example.com"), team, email=bad)
        assert exc.value.field == "email" and exc.value.status == 422

    def test_name_over_256_characters_is_refused(self, session, team):
        with pytest.raises(RuleViolation) as exc:
            members.add_member(session, as_(team, "olivia@example.com"), team,
                               email="long@example.com", name="x" * 257)
        assert exc.value.field == "name"
        new, _ = members.add_member(session, as_(team, "olivia@example.com"), team,
                                    email="long@example.com", name="x" * 256)
        assert len(new.name) == 256

    def test_unknown_role_is_a_rule_violation_not_a_crash(self, session, team):
        with pytest.raises(RuleViolation) as exc:
            members.add_member(session, as_(team, "olivia@example.com"), team,
                               email="r@example.com", role="admin")
        assert exc.value.field == "role"

    def test_external_id_is_unique_in_the_team(self, session, team):
        actor = as_(team, "olivia@example.com")
        members.add_member(session, actor, team, email="a@example.com", external_id="e1")
        with pytest.raises(RuleViolation) as exc:
            members.add_member(session, actor, team, email="b@example.com", external_id="e1")
        assert exc.value.field == "external_id"

    def test_the_database_refuses_a_second_live_row_for_an_email(self, session, team):
        """Rule 6 holds even for code that skips the service: the partial unique index."""
        session.add(Member(customer_id=team.id, email="MAYA@example.com", role=Role.MEMBER))
        with pytest.raises(IntegrityError):
            session.flush()
        session.rollback()


class TestUpdateMember:
    def test_edits_name_and_role_and_records_before_and_after(self, session, team):
        maya = member(team, "maya@example.com")
        members.update_member(session, as_(team, "ben@example.com"), team, maya.id,
                              name="Maya Patel", role="billing_manager")
        session.commit()
        assert maya.name == "Maya Patel" and maya.role is Role.BILLING_MANAGER
        (updated,) = events(session, "member.updated")
        assert updated.before == {"name": "Maya", "role": "member"}
        assert updated.after == {"name": "Maya Patel", "role": "billing_manager"}

    def test_no_change_writes_no_event(self, session, team):
        maya = member(team, "maya@example.com")
        members.update_member(session, as_(team, "ben@example.com"), team, maya.id, name="Maya", role="member")
        assert events(session, "member.updated") == []

    def test_plain_member_cannot_edit(self, session, team):
        with pytest.raises(NotPermitted):
            members.update_member(session, as_(team, "maya@example.com"), team,
                                  member(team, "sam@example.com").id, name="S")

    def test_you_cannot_change_your_own_role(self, session, team):
        ben = member(team, "ben@example.com")
        with pytest.raises(RuleViolation) as exc:
            members.update_member(session, as_(team, "ben@example.com"), team, ben.id, role="member")
        assert exc.value.message == "You cannot change your own role."
        session.rollback()
        assert member(team, "ben@example.com").role is Role.BILLING_MANAGER

    def test_you_can_edit_your_own_name(self, session, team):
        ben = member(team, "ben@example.com")
        members.update_member(session, as_(team, "ben@example.com"), team, ben.id, name="Benjamin", role="billing_manager")
        assert ben.name == "Benjamin"

    @pytest.mark.parametrize("actor_email", ["ben@example.com"])
    def test_the_owner_cannot_be_demoted(self, session, team, actor_email):
        olivia = member(team, "olivia@example.com")
        with pytest.raises(RuleViolation) as exc:
            members.update_member(session, as_(team, actor_email), team, olivia.id, role="member")
        assert "owner cannot be demoted" in exc.value.message
        session.rollback()
        assert [m.email for m in owners(session, team)] == ["olivia@example.com"]

    def test_a_failed_rule_changes_nothing_else(self, session, team):
        olivia = member(team, "olivia@example.com")
        with pytest.raises(RuleViolation):
            members.update_member(session, as_(team, "ben@example.com"), team, olivia.id,
                                  name="Renamed", role="member")
        assert olivia.name == "Olivia"

    def test_making_someone_owner_here_is_a_transfer(self, session, team):
        maya = member(team, "maya@example.com")
        members.update_member(session, as_(team, "olivia@example.com"), team, maya.id, role="owner")
        session.commit()
        assert [m.email for m in owners(session, team)] == ["maya@example.com"]
        assert member(team, "olivia@example.com").role is Role.BILLING_MANAGER

    def test_name_over_256_characters_is_refused(self, session, team):
        with pytest.raises(RuleViolation):
            members.update_member(session, as_(team, "olivia@example.com"), team,
                                  member(team, "maya@example.com").id, name="y" * 257)

    def test_email_stays_unique_in_the_team(self, session, team):
        with pytest.raises(RuleViolation) as exc:
            members.update_member(session, as_(team, "olivia@example.com"), team,
                                  member(team, "maya@example.com").id, email="SAM@example.com")
        assert exc.value.field == "email"

    def test_another_teams_member_is_not_found(self, session, team, other_team):
        with pytest.raises(NotFound):
            members.update_member(session, as_(team, "olivia@example.com"), team,
                                  member(other_team, "yan@other.example").id, name="Hacked")

    def test_a_demoted_actor_is_refused_even_with_a_stale_copy(self, session, team):
        """Rule 8: the actor is re-read under the lock, not trusted from before it."""
        ben = member(team, "ben@example.com")
        stale = Actor(member=ben)
        session.execute(update(Member).where(Member.id == ben.id).values(role=Role.MEMBER)
                        .execution_options(synchronize_session=False))
        assert ben.role is Role.BILLING_MANAGER  # the copy in hand is stale
        with pytest.raises(NotPermitted):
            members.update_member(session, stale, team, member(team, "sam@example.com").id, name="S")


class TestTransferOwnership:
    def test_owner_transfers_and_becomes_billing_manager_in_one_step(self, session, team):
        maya = member(team, "maya@example.com")
        members.transfer_ownership(session, as_(team, "olivia@example.com"), team, maya.id)
        session.commit()
        assert maya.role is Role.OWNER
        assert member(team, "olivia@example.com").role is Role.BILLING_MANAGER
        assert len(owners(session, team)) == 1
        (moved,) = events(session, "ownership.transferred")
        assert moved.before == {"owner": "olivia@example.com", "role": "member"}
        assert moved.after["owner"] == "maya@example.com"
        assert moved.after["previous_owner_role"] == "billing_manager"

    def test_billing_manager_cannot_transfer(self, session, team):
        with pytest.raises(RuleViolation) as exc:
            members.transfer_ownership(session, as_(team, "ben@example.com"), team,
                                       member(team, "maya@example.com").id)
        assert exc.value.message == "Only the owner can transfer ownership."
        session.rollback()
        assert [m.email for m in owners(session, team)] == ["olivia@example.com"]

    def test_plain_member_cannot_transfer(self, session, team):
        with pytest.raises(NotPermitted):
            members.transfer_ownership(session, as_(team, "maya@example.com"), team,
                                       member(team, "sam@example.com").id)

    def test_the_vendor_can_transfer(self, session, org, team):
        token, _raw = organizations.create_token(session, org)
        members.transfer_ownership(session, Actor(token=token), team, member(team, "ben@example.com").id)
        session.commit()
        assert [m.email for m in owners(session, team)] == ["ben@example.com"]
        assert member(team, "olivia@example.com").role is Role.BILLING_MANAGER

    def test_a_former_owner_cannot_transfer_again(self, session, team):
        actor = as_(team, "olivia@example.com")
        members.transfer_ownership(session, actor, team, member(team, "maya@example.com").id)
        session.commit()
        with pytest.raises(RuleViolation):
            members.transfer_ownership(session, actor, team, member(team, "sam@example.com").id)

    def test_the_database_refuses_a_second_owner(self, session, team):
        """Rule 2 holds even for code that skips the service: the partial unique index."""
        maya = member(team, "maya@example.com")
        maya.role = Role.OWNER
        with pytest.raises(IntegrityError):
            session.flush()
        session.rollback()


class TestRemoveMember:
    @pytest.fixture
    def seated(self, session, team):
        """Maya holds a claimed seat and a pending one is addressed to her, and she is signed in."""
        sub = organizations.set_seat_count(session, team, 5)
        maya = member(team, "maya@example.com")
        session.add(Seat(subscription_id=sub.id, email=maya.email, member_id=maya.id, status=SeatStatus.CLAIMED))
        other = Subscription(customer_id=team.id, product_name="Add-on", seats=2)
        session.add(other)
        session.flush()
        session.add(Seat(subscription_id=other.id, email=maya.email, member_id=maya.id, status=SeatStatus.PENDING))
        _row, token = sessions.start_session(session, maya)
        session.commit()
        return maya, token

    def test_removal_soft_deletes_revokes_seats_and_ends_sessions(self, session, team, seated):
        maya, token = seated
        members.remove_member(session, as_(team, "ben@example.com"), team, maya.id)
        session.commit()
        row = session.get(Member, maya.id)
        assert row is not None and row.deleted_at is not None
        assert {s.status for s in session.scalars(select(Seat).where(Seat.member_id == maya.id))} == \
            {SeatStatus.REVOKED}
        assert sessions.load_session(session, token) is None
        assert session.scalar(select(PortalSession).where(PortalSession.member_id == maya.id)).ended_at
        (removed,) = events(session, "member.removed")
        assert removed.after == {"seats_revoked": 2, "sessions_ended": 1}
        assert removed.subject_label == "maya@example.com"

    def test_plain_member_cannot_remove(self, session, team):
        with pytest.raises(NotPermitted):
            members.remove_member(session, as_(team, "maya@example.com"), team,
                                  member(team, "sam@example.com").id)

    def test_you_cannot_remove_yourself(self, session, team):
        with pytest.raises(RuleViolation) as exc:
            members.remove_member(session, as_(team, "ben@example.com"), team, member(team, "ben@example.com").id)
        assert exc.value.message == "You cannot remove yourself from the team."

    def test_the_owner_cannot_be_removed(self, session, team):
        with pytest.raises(RuleViolation) as exc:
            members.remove_member(session, as_(team, "ben@example.com"), team,
                                  member(team, "olivia@example.com").id)
        assert "Transfer ownership first" in exc.value.message
        session.rollback()
        assert member(team, "olivia@example.com").deleted_at is None

    def test_another_teams_member_is_not_found(self, session, team, other_team):
        with pytest.raises(NotFound):
            members.remove_member(session, as_(team, "olivia@example.com"), team,
                                  member(other_team, "yan@other.example").id)

    def test_removing_twice_is_not_found(self, session, team):
        actor = as_(team, "olivia@example.com")
        sam = member(team, "sam@example.com")
        members.remove_member(session, actor, team, sam.id)
        with pytest.raises(NotFound):
            members.remove_member(session, actor, team, sam.id)

    def test_a_removed_actor_can_no_longer_manage(self, session, team):
        ben_actor = as_(team, "ben@example.com")
        members.remove_member(session, as_(team, "olivia@example.com"), team, ben_actor.member.id)
        session.commit()
        with pytest.raises(NotPermitted):
            members.remove_member(session, ben_actor, team, member(team, "sam@example.com").id)


class TestFillSynthetic:
    def test_adds_members_in_bulk_with_unique_emails_and_one_event(self, session, team):
        assert members.fill_synthetic(session, Actor.operator(), team, 1200) == 1200
        members.fill_synthetic(session, Actor.operator(), team, 3)
        session.commit()
        rows = session.scalars(select(Member).where(Member.customer_id == team.id)).all()
        assert len(rows) == 4 + 1203 and len({m.email.lower() for m in rows}) == len(rows)
        assert {m.role for m in rows if m.email.endswith("@fill.example")} == {Role.MEMBER}
        assert [e.after["members_added"] for e in events(session, "team.filled")] == [1200, 3]
        assert len(owners(session, team)) == 1

    @pytest.mark.parametrize("count", [0, -1, members.FILL_MAX + 1])
    def test_count_out_of_range_is_refused(self, session, team, count):
        with pytest.raises(RuleViolation):
            members.fill_synthetic(session, Actor.operator(), team, count)

    def test_individual_customer_is_refused(self, session, org):
        with pytest.raises(NotPermitted):
            members.fill_synthetic(session, Actor.operator(), make_individual(org), 5)

    def test_cli_prints_the_count_and_errors_in_one_line(self, app, session, team):
        runner = app.test_cli_runner()
        result = runner.invoke(args=["team", "fill", str(team.id), "--count", "250"])
        assert result.exit_code == 0, result.output
        assert result.output.strip().splitlines()[-1] == "250"
        assert members.list_members(session, Actor.operator(), team).total == 254
        added = session.scalars(select(Member).where(Member.customer_id == team.id,
                                                     Member.email.like("member-%@fill.example"))).all()
        assert len(added) == 250 and {m.name for m in added} == {f"Synthetic Member {n}" for n in range(1, 251)}
        assert [e.after["members_added"] for e in events(session, "team.filled")] == [250]  # one event
        last = members.list_members(session, Actor.operator(), team, page=11, limit=25).items
        assert [m.name for m in last][-1] == "Synthetic Member 250"  # added in order, after the team
        bad = runner.invoke(args=["team", "fill", "nope", "--count", "5"])
        assert bad.exit_code != 0 and "not a valid id" in bad.output
        missing = runner.invoke(args=["team", "fill", str(uuid.uuid4()), "--count", "5"])
        assert missing.exit_code != 0 and "No customer with id" in missing.output
        zero = runner.invoke(args=["team", "fill", str(team.id), "--count", "0"])
        assert zero.exit_code != 0 and "--count" in zero.output


class TestAllowedActions:
    """What the page offers; each offer matches a rule the mutations enforce."""

    def test_owner_on_others(self, team):
        olivia = member(team, "olivia@example.com")
        assert members.allowed_actions(olivia, member(team, "maya@example.com")) == \
            {"edit_name", "edit_role", "remove", "make_owner"}

    def test_nobody_changes_their_own_role_or_removes_themselves(self, team):
        for email in ("olivia@example.com", "ben@example.com"):
            me = member(team, email)
            assert members.allowed_actions(me, me) == {"edit_name"}

    def test_billing_manager_is_never_offered_make_owner_nor_touches_the_owner(self, team):
        ben = member(team, "ben@example.com")
        assert members.allowed_actions(ben, member(team, "maya@example.com")) == {"edit_name", "edit_role", "remove"}
        assert members.allowed_actions(ben, member(team, "olivia@example.com")) == {"edit_name"}

    def test_plain_members_and_other_teams_get_nothing(self, team, other_team):
        assert members.allowed_actions(member(team, "maya@example.com"), member(team, "sam@example.com")) == set()
        assert members.allowed_actions(member(team, "olivia@example.com"), member(other_team, "yan@other.example")) == set()


class TestFindLiveMember:
    def test_any_case_and_live_rows_only(self, session, team):
        assert members.find_live_member(session, team, "SAM@EXAMPLE.COM").email == "sam@example.com"
        members.remove_member(session, as_(team, "olivia@example.com"), team, member(team, "sam@example.com").id)
        assert members.find_live_member(session, team, "sam@example.com") is None


class TestParseRole:
    def test_known_and_unknown(self):
        assert members.parse_role("billing_manager") is Role.BILLING_MANAGER
        with pytest.raises(RuleViolation) as exc:
            members.parse_role("admin")
        assert exc.value.field == "role" and exc.value.status == 422


class TestRenameSelf:
    def test_a_plain_member_renames_themselves_and_it_is_logged(self, session, team):
        from app.services.members import rename_self

        maya = member(team, "maya@example.com")
        rename_self(session, maya, "  Maya Patel ")
        assert maya.name == "Maya Patel"
        event = session.scalars(select(ActivityEvent).where(ActivityEvent.action == "member.updated")).one()
        assert event.before == {"name": "Maya"} and event.after == {"name": "Maya Patel"}

    def test_too_long_is_refused(self, session, team):
        from app.services.members import rename_self

        with pytest.raises(RuleViolation, match="at most 256"):
            rename_self(session, member(team, "maya@example.com"), "x" * 257)


class TestLeaveTeam:
    def test_a_member_leaves_and_their_seats_and_sessions_end(self, session, team):
        from app.services.members import leave_team

        maya = member(team, "maya@example.com")
        leave_team(session, maya)
        assert maya.deleted_at is not None
        event = session.scalars(select(ActivityEvent).where(ActivityEvent.action == "member.left")).one()
        assert event.actor_label == "Maya" and event.subject_label == "maya@example.com"

    def test_the_owner_cannot_leave(self, session, team):
        from app.services.members import leave_team

        with pytest.raises(RuleViolation, match="The owner cannot leave"):
            leave_team(session, member(team, "olivia@example.com"))
