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


class TestDescribe:
    """Every action the services record reads as a sentence, with details in plain words."""

    @staticmethod
    def event(action, subject="maya@example.com", before=None, after=None, who="Olivia Owner"):
        from app.models import ActivityEvent

        return ActivityEvent(action=action, actor_label=who, subject_label=subject,
                             subject_type="member", before=before, after=after)

    @pytest.mark.parametrize("action, before, after, sentence, details", [
        ("member.added", None, {"email": "maya@example.com", "name": "Maya Patel", "role": "billing_manager"},
         "Olivia Owner added Maya Patel (maya@example.com) as billing manager", ()),
        ("member.removed", {"name": "Maya Patel", "role": "member"}, {"seats_revoked": 2, "sessions_ended": 1},
         "Olivia Owner removed Maya Patel (maya@example.com)", ("2 seats revoked", "Signed out everywhere")),
        ("member.updated", {"role": "member"}, {"role": "billing_manager"},
         "Olivia Owner changed maya@example.com", ("Role: Member → Billing manager",)),
        ("ownership.transferred", {"owner": "olivia@example.com", "role": "member"}, {"owner": "maya@example.com"},
         "Olivia Owner made maya@example.com the owner", ("olivia@example.com is now a billing manager",)),
        ("seat.assigned", None, {"product": "Acme Pro"},
         "Olivia Owner gave a seat on Acme Pro to maya@example.com", ("An invitation email was sent",)),
        ("seat.invitation_resent", None, {"previous_link": "revoked"},
         "Olivia Owner resent the invitation to maya@example.com", ("The previous link stopped working",)),
        ("seat.invitation_resent", None, {"requested_by": "invitee"},
         "maya@example.com asked for a new invitation link", ()),
        ("seat.revoked", {"status": "pending"}, {"status": "revoked"},
         "Olivia Owner revoked the seat of maya@example.com", ("The seat is free again",)),
        ("seat.claimed", {"status": "pending"}, {"status": "claimed"}, "maya@example.com claimed their seat", ()),
        ("customer.updated", {"name": "Globex"}, {"name": "Globex Corp"},
         "Olivia Owner updated the team's details", ("Name: Globex → Globex Corp",)),
        ("team.filled", None, {"members_added": 1}, "Olivia Owner added 1 synthetic member", ()),
        ("something.new", None, {"flag": True}, "Olivia Owner something new maya@example.com", ("Flag: yes",)),
    ])
    def test_sentences(self, action, before, after, sentence, details):
        from app.services.activity import describe

        described = describe(self.event(action, before=before, after=after))
        assert described.sentence == sentence
        assert described.details == details

    def test_seat_counts_say_what_they_were(self):
        from app.services.activity import describe

        described = describe(self.event("subscription.seats_set", subject="Acme Pro",
                                        before={"seats": 5}, after={"seats": 10}, who="Operator (CLI)"))
        assert described.sentence == "Operator (CLI) set Acme Pro to 10 seats"
        assert described.details == ("Was 5",)
