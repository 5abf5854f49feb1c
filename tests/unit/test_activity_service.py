"""The activity log: written in the caller's transaction, read newest first by managers only."""
import pytest
from sqlalchemy import select

from app.errors import NotFound, NotPermitted
from app.models import ActivityEvent, Role
from app.services import activity, members, organizations
from app.services.activity import Actor
from tests.factories import as_, make_individual, make_org, make_team


@pytest.fixture
def org(app):
    return make_org("acme", "Acme")


@pytest.fixture
def team(org):
    return make_team(org, owner="olivia@example.com", members={
        "ben@example.com": Role.BILLING_MANAGER, "maya@example.com": Role.MEMBER})


class TestActor:
    def test_labels(self, session, org, team):
        token, _ = organizations.create_token(session, org, name="CRM sync")
        assert as_(team, "ben@example.com").label == "Ben"
        assert Actor(token=token).label == "API token CRM sync"
        assert Actor.operator().label == "Operator (CLI)"


class TestRecord:
    def test_is_written_with_the_change_and_rolled_back_with_it(self, session, team):
        members.add_member(session, as_(team, "olivia@example.com"), team, email="kim@example.com")
        session.rollback()
        assert session.scalars(select(ActivityEvent).where(ActivityEvent.action == "member.added")).all() == []

    def test_keeps_actor_subject_and_values(self, session, team):
        olivia = as_(team, "olivia@example.com")
        event = activity.record(session, olivia, team, "member.updated", subject_type="member",
                                subject_id=olivia.member.id, subject_label="x" * 500,
                                before={"name": "A"}, after={"name": "B"})
        session.commit()
        assert event.actor_member_id == olivia.member.id and event.actor_label == "Olivia"
        assert len(event.subject_label) == 400 and event.customer_id == team.id
        assert event.organization_id == team.organization_id


class TestListEvents:
    def test_newest_first_in_pages(self, session, team):
        olivia = as_(team, "olivia@example.com")
        for i in range(6):
            members.add_member(session, olivia, team, email=f"p{i}@example.com")
            session.commit()
        first = activity.list_events(session, olivia, team, page=1, limit=4)
        second = activity.list_events(session, olivia, team, page=2, limit=4)
        assert first.total == 7 and first.max_page == 2
        assert [e.subject_label for e in first.items] == ["p5@example.com", "p4@example.com",
                                                          "p3@example.com", "p2@example.com"]
        assert [e.action for e in second.items] == ["member.added", "member.added", "team.created"]
        assert activity.list_events(session, olivia, team, page=50, limit=4).page == 2

    def test_billing_manager_may_read(self, session, team):
        assert activity.list_events(session, as_(team, "ben@example.com"), team).total == 1

    def test_plain_member_may_not(self, session, team):
        with pytest.raises(NotPermitted):
            activity.list_events(session, as_(team, "maya@example.com"), team)

    def test_individual_customer_may_not(self, session, org):
        solo = make_individual(org)
        with pytest.raises(NotPermitted):
            activity.list_events(session, as_(solo, "solo@example.com"), solo)

    def test_another_team_is_not_found(self, session, org, team):
        other = make_team(org, owner="zed@other.example")
        with pytest.raises(NotFound):
            activity.list_events(session, as_(other, "zed@other.example"), team)


class TestChanges:
    def test_pairs_before_and_after_by_field(self):
        event = ActivityEvent(before={"name": "A", "role": "member"}, after={"role": "owner", "seats": 2})
        assert activity.changes(event) == [("name", "A", None), ("role", "member", "owner"), ("seats", None, 2)]

    def test_labels_for_actions(self):
        assert activity.action_label("ownership.transferred") == "made owner"
        assert activity.action_label("seat.revoked") == "revoked the seat of"
        assert activity.action_label("seat.some_new_thing") == "seat some new thing"
