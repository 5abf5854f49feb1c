"""Member status (DESIGN.md rule 22): `accepted_at` is set once, at the first proven sign-in,
seat claim or embed hand-off, and never goes back; a session the vendor minted does not count."""
from datetime import timedelta

import pytest

from app.models import Role, utcnow
from app.services import members, seats, sessions
from tests.factories import as_, make_org, make_team, member

BASE = "http://portal.test"


@pytest.fixture
def org(app):
    return make_org("acme", "Acme")


@pytest.fixture
def team(org):
    return make_team(org, owner="olivia@example.com", members={"maya@example.com": Role.MEMBER},
                     seats=3)


class TestMarkAccepted:
    def test_a_new_member_is_pending(self, session, team):
        maya = member(team, "maya@example.com")
        assert maya.accepted_at is None and maya.status == "pending"

    def test_sets_the_date_once(self, session, team):
        maya = member(team, "maya@example.com")
        first = utcnow() - timedelta(days=3)
        assert sessions.mark_accepted(maya, first) is True
        assert sessions.mark_accepted(maya) is False
        assert maya.accepted_at == first and maya.status == "accepted"


class TestStartSession:
    def test_a_sign_in_accepts_the_member(self, session, team):
        maya = member(team, "maya@example.com")
        sessions.start_session(session, maya)
        session.commit()
        session.expire_all()
        assert member(team, "maya@example.com").status == "accepted"

    def test_a_later_sign_in_keeps_the_first_date(self, session, team):
        maya = member(team, "maya@example.com")
        sessions.start_session(session, maya)
        session.commit()
        first = maya.accepted_at
        sessions.start_session(session, maya)
        session.commit()
        session.expire_all()
        assert member(team, "maya@example.com").accepted_at == first

    def test_a_session_minted_by_the_vendor_does_not_accept(self, session, team):
        maya = member(team, "maya@example.com")
        sessions.start_api_session(session, maya)
        session.commit()
        session.expire_all()
        assert member(team, "maya@example.com").accepted_at is None


class TestExchangeHandoff:
    def test_the_hand_off_accepts_the_member(self, session, org, team):
        maya = member(team, "maya@example.com")
        _row, _api, handoff = sessions.start_api_session(session, maya)
        session.commit()
        sessions.exchange_handoff(session, org, handoff)
        session.commit()
        session.expire_all()
        assert member(team, "maya@example.com").status == "accepted"


class TestClaimSeat:
    def test_a_claim_accepts_the_invitee_at_the_claim_date(self, session, team, sub):
        seat = seats.assign_seat(session, as_(team, "olivia@example.com"), sub,
                                 email="new@example.com", base_url=BASE)
        token = seat.invitation_token
        session.commit()
        assert member(team, "new@example.com").accepted_at is None
        claimed, person = seats.claim_seat(session, token)
        session.commit()
        session.expire_all()
        assert member(team, "new@example.com").accepted_at == claimed.claimed_at

    def test_a_seat_the_vendor_claims_at_once_accepts_the_member_at_the_claim_date(self, session, org, team, sub):
        """Consistent with migration 0005, which accepts members with a claimed seat: the API's
        immediate claim accepts them too, for a new and for an existing member."""
        vendor = seats.Actor(label_override="API token test")
        seat = seats.assign_seat(session, vendor, sub, email="new@example.com", immediate_claim=True,
                                 base_url=BASE)
        maya_seat = seats.assign_seat(session, vendor, sub, member=member(team, "maya@example.com"),
                                      immediate_claim=True, base_url=BASE)
        session.commit()
        session.expire_all()
        assert member(team, "new@example.com").status == "accepted"
        assert member(team, "new@example.com").accepted_at == seat.claimed_at
        assert member(team, "maya@example.com").accepted_at == maya_seat.claimed_at

    def test_a_pending_seat_does_not_accept(self, session, team, sub):
        seats.assign_seat(session, as_(team, "olivia@example.com"), sub, email="new@example.com",
                          base_url=BASE)
        session.commit()
        session.expire_all()
        assert member(team, "new@example.com").status == "pending"

    def test_revoking_the_seat_keeps_the_status(self, session, team, sub):
        seat = seats.assign_seat(session, as_(team, "olivia@example.com"), sub,
                                 email="maya@example.com", base_url=BASE)
        seats.claim_seat(session, seat.invitation_token)
        session.commit()
        seats.revoke_seat(session, as_(team, "olivia@example.com"), seat)
        session.commit()
        session.expire_all()
        assert member(team, "maya@example.com").status == "accepted"


class TestMemberEdits:
    def test_changing_role_or_email_keeps_the_status(self, session, team):
        maya = member(team, "maya@example.com")
        sessions.start_session(session, maya)
        session.commit()
        first = maya.accepted_at
        members.update_member(session, as_(team, "olivia@example.com"), team, maya.id,
                              role=Role.BILLING_MANAGER, email="maya.p@example.com")
        session.commit()
        session.expire_all()
        assert member(team, "maya.p@example.com").accepted_at == first
