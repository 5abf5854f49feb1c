"""Seat rules (DESIGN.md 9-14): a class per service function, a test per rule.

Runs on SQLite by default and on PostgreSQL with TEST_DATABASE_URL. Mail goes through the
outbox to the real SMTP sink (`mailbox`) when a test commits."""
import hashlib
import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import event, select, text

from app.errors import (
    InvalidInvitation,
    NoSeatsAvailable,
    NotFound,
    NotPermitted,
    PortalError,
    RateLimited,
    RuleViolation,
    SeatAlreadyAssigned,
    SeatNotPending,
)
from app.extensions import db
from app.models import (
    ActivityEvent, Member, OutboxEmail, Role, Seat, SeatStatus, utcnow,
)
from app.services import members, organizations, seats
from app.services.activity import Actor
from tests.factories import as_, make_individual, make_org, make_team, member
from tests.support.smtp import first_link, html_of, text_of

BASE = "http://portal.test"


@pytest.fixture
def org(app):
    return make_org("acme", "Acme Analytics")


@pytest.fixture
def team(org):
    return make_team(org, name="Globex", owner="olivia@example.com", seats=3, members={
        "ben@example.com": Role.BILLING_MANAGER,
        "maya@example.com": Role.MEMBER,
    })


@pytest.fixture
def other_team(org):
    return make_team(org, name="Initech", owner="zed@other.example", seats=2,
                     members={"yan@other.example": Role.MEMBER})


def owner(team):
    return as_(team, "olivia@example.com")


def assign(session, team, sub, email, *, commit=True, **kwargs):
    seat = seats.assign_seat(session, owner(team), sub, email=email, base_url=BASE, **kwargs)
    token = seat.invitation_token
    if commit:
        session.commit()
    return seat, token


def events(session, action):
    return session.scalars(select(ActivityEvent).where(ActivityEvent.action == action)).all()


def token_of(message) -> str:
    return re.search(r"token=([\w.\-]+)", first_link(message, "/claim")).group(1)


class TestGetSubscription:
    def test_returns_the_customers_subscription(self, session, team, sub):
        assert seats.get_subscription(session, team, str(sub.id)) is sub

    @pytest.mark.parametrize("bad", ["nope", "", str(uuid.UUID(int=0))])
    def test_unknown_or_malformed_id_is_not_found(self, session, team, bad):
        with pytest.raises(NotFound):
            seats.get_subscription(session, team, bad)

    def test_another_customers_subscription_is_not_found(self, session, team, other_team):
        theirs = seats.seat_overview(session, as_(other_team, "zed@other.example"), other_team)[0]
        with pytest.raises(NotFound):
            seats.get_subscription(session, team, theirs.subscription.id)


class TestListSeats:
    def test_available_is_seats_minus_pending_and_claimed(self, session, team, sub):
        """Rule 9: revoked seats do not count."""
        a, _ = assign(session, team, sub, "a@example.com")
        b, tb = assign(session, team, sub, "b@example.com")
        seats.claim_seat(session, tb)
        seats.revoke_seat(session, owner(team), a)
        assign(session, team, sub, "c@example.com")
        listed = seats.list_seats(session, owner(team), sub)
        assert (listed.total, listed.pending, listed.claimed, listed.available) == (3, 1, 1, 1)
        assert len(listed.seats) == 2  # a's revoked row was reused for c

    def test_live_seats_come_before_revoked_ones(self, session, team, sub):
        a, _ = assign(session, team, sub, "a@example.com")
        assign(session, team, sub, "b@example.com")
        seats.revoke_seat(session, owner(team), a)
        listed = seats.list_seats(session, owner(team), sub)
        assert [s.status for s in listed.seats] == [SeatStatus.PENDING, SeatStatus.REVOKED]
        assert seats.list_seats(session, owner(team), sub, include_revoked=False).seats[0].email == \
            "b@example.com"

    def test_any_member_may_read_but_only_managers_may_manage(self, session, team, sub):
        maya = as_(team, "maya@example.com")
        assert seats.list_seats(session, maya, sub).total == 3
        with pytest.raises(NotPermitted):
            seats.list_seats(session, maya, sub, manage=True)

    def test_member_of_another_team_gets_404(self, session, team, sub, other_team):
        with pytest.raises(NotFound):
            seats.list_seats(session, as_(other_team, "zed@other.example"), sub)


class TestSeatOverview:
    def test_managers_see_every_subscription(self, session, team):
        overview = seats.seat_overview(session, as_(team, "ben@example.com"), team)
        assert [o.total for o in overview] == [3]

    def test_plain_member_gets_403(self, session, team):
        with pytest.raises(NotPermitted):
            seats.seat_overview(session, as_(team, "maya@example.com"), team)

    def test_individual_customer_is_told_it_needs_a_team_plan(self, session, org):
        solo = make_individual(org)
        with pytest.raises(NotPermitted) as exc:
            seats.seat_overview(session, as_(solo, "solo@example.com"), solo)
        assert "team" in exc.value.message.lower()


class TestAssignSeat:
    def test_creates_a_pending_seat_and_a_plain_member(self, session, team, sub):
        """Rule 11: an unknown email becomes a member with role `member`."""
        seat, _ = assign(session, team, sub, "New.Person@Example.com")
        assert seat.status is SeatStatus.PENDING and seat.email == "New.Person@Example.com"
        created = member(team, "New.Person@Example.com")
        assert created.role is Role.MEMBER and seat.member_id == created.id
        assert len(events(session, "member.added")) == 1
        (assigned,) = events(session, "seat.assigned")
        assert assigned.actor_label == "Olivia" and assigned.subject_id == seat.id

    def test_an_existing_member_is_reused_whatever_the_case(self, session, team, sub):
        seat, _ = assign(session, team, sub, "MAYA@example.com")
        assert seat.member_id == member(team, "maya@example.com").id
        assert seat.email == "maya@example.com"
        assert events(session, "member.added") == []

    def test_assigning_by_member(self, session, team, sub):
        maya = member(team, "maya@example.com")
        seat = seats.assign_seat(session, owner(team), sub, member=maya, base_url=BASE)
        assert seat.member_id == maya.id and seat.email == maya.email

    def test_a_member_of_another_team_is_not_found(self, session, team, sub, other_team):
        with pytest.raises(NotFound):
            seats.assign_seat(session, owner(team), sub, member=member(other_team, "yan@other.example"),
                              base_url=BASE)

    def test_token_is_random_hashed_and_expires_after_the_configured_days(self, app, session, team, sub):
        """Rule 12: ≥ 32 random bytes, only the SHA-256 stored, INVITATION_DAYS (default 7)."""
        app.config["INVITATION_DAYS"] = 3
        seat, token = assign(session, team, sub, "a@example.com")
        _, other = assign(session, team, sub, "b@example.com")
        random_part = token.split(".", 1)[1]
        assert len(random_part) >= 43 and token != other
        assert seat.invitation_token_hash == hashlib.sha256(token.encode()).hexdigest()
        stored = session.execute(text("SELECT * FROM seats")).all()
        assert token not in repr(stored) and random_part not in repr(stored)
        left = seat.invitation_expires_at - utcnow()
        assert timedelta(days=3) - timedelta(minutes=1) < left <= timedelta(days=3)

    def test_default_expiry_is_seven_days(self, session, team, sub):
        seat = seats.assign_seat(session, owner(team), sub, email="a@example.com", base_url=BASE,
                                 invitation_days=None)
        assert timedelta(days=6, hours=23) < seat.invitation_expires_at - utcnow() <= timedelta(days=7)

    def test_invitation_email_says_who_what_team_link_and_expiry(self, session, team, sub, mailbox,
                                                                 delivered):
        """Rule 11, over real SMTP: the outbox delivers it after commit."""
        seat, token = assign(session, team, sub, "new@example.com")
        message = mailbox.wait_for("new@example.com")
        assert "Olivia" in message["Subject"] and "Team plan" in message["Subject"]
        body = text_of(message)
        assert "Olivia (olivia@example.com) invited you" in body
        assert "Team plan" in body and "Globex" in body and "Acme Analytics" in body
        assert first_link(message, "/claim") == f"{BASE}/acme/claim?token={token}"
        assert f"{seat.invitation_expires_at:%-d %B %Y}" in body and "in 7 days" in body
        html = html_of(message)
        assert ">Claim seat</a>" in html and f"/acme/claim?token={token}" in html
        # The message arrives before the sender marks its row sent and redacts it: wait for that.
        delivered()
        session.expire_all()
        row = session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "invitation")).one()
        assert token not in row.text_body  # a delivered one-time link is redacted from the outbox

    def test_no_free_seat_fails_clearly_and_writes_nothing(self, session, team, sub, mailbox):
        """Rule 9."""
        for email in ("a@example.com", "b@example.com", "c@example.com"):
            assign(session, team, sub, email)
        with pytest.raises(NoSeatsAvailable) as exc:
            assign(session, team, sub, "d@example.com")
        session.rollback()
        assert exc.value.error == "SeatNotAvailable" and exc.value.field == "email"
        assert "No seat is free" in exc.value.message and "all 3" in exc.value.message
        assert members.find_live_member(session, team, "d@example.com") is None
        assert session.scalar(select(db.func.count(Seat.id))) == 3

    def test_one_live_seat_per_email_per_subscription(self, session, team, sub):
        """Rule 10, compared case-insensitively."""
        assign(session, team, sub, "a@example.com")
        with pytest.raises(SeatAlreadyAssigned) as exc:
            assign(session, team, sub, "A@EXAMPLE.COM")
        assert exc.value.error == "SeatAlreadyAssigned" and "already has a seat" in exc.value.message

    def test_same_email_may_hold_a_seat_on_another_teams_subscription(self, session, team, sub,
                                                                      other_team):
        assign(session, team, sub, "shared@example.com")
        theirs = seats.seat_overview(session, as_(other_team, "zed@other.example"), other_team)[0]
        seat = seats.assign_seat(session, as_(other_team, "zed@other.example"), theirs.subscription,
                                 email="shared@example.com", base_url=BASE)
        assert seat.status is SeatStatus.PENDING

    def test_a_revoked_row_is_reused(self, session, team, sub):
        """Rule 11: revoking and assigning again does not grow the table."""
        first, _ = assign(session, team, sub, "a@example.com")
        seats.revoke_seat(session, owner(team), first)
        session.commit()
        again, _ = assign(session, team, sub, "a@example.com")
        assert again.id == first.id and again.status is SeatStatus.PENDING
        assert again.revoked_at is None
        assert session.scalar(select(db.func.count(Seat.id))) == 1

    def test_plain_member_gets_403(self, session, team, sub):
        with pytest.raises(NotPermitted):
            seats.assign_seat(session, as_(team, "maya@example.com"), sub, email="x@example.com",
                              base_url=BASE)

    def test_manager_of_another_team_gets_404(self, session, sub, other_team):
        with pytest.raises(NotFound):
            seats.assign_seat(session, as_(other_team, "zed@other.example"), sub,
                              email="x@example.com", base_url=BASE)

    def test_token_of_the_organization_may_assign(self, session, org, team, sub, mailbox):
        token, _raw = organizations.create_token(session, org, name="backend")
        seat = seats.assign_seat(session, Actor(token=token), sub, email="api@example.com",
                                 base_url=BASE)
        session.commit()
        assert seat.status is SeatStatus.PENDING
        assert "Olivia (olivia@example.com) invited you" in text_of(mailbox.wait_for("api@example.com"))

    @pytest.mark.parametrize("bad", ["", "   ", "not-an-email", "a@b"])
    def test_a_bad_email_is_a_422_on_the_email_field(self, session, team, sub, bad):
        with pytest.raises(PortalError) as exc:
            assign(session, team, sub, bad)
        assert exc.value.status == 422 and exc.value.field == "email"

    @pytest.mark.parametrize("metadata", [
        {f"k{i}": i for i in range(11)},
        {"big": "x" * 1100},
        ["not", "an", "object"],
        {"when": object()},
    ])
    def test_metadata_is_at_most_ten_keys_and_one_kilobyte(self, session, team, sub, metadata):
        with pytest.raises(RuleViolation) as exc:
            assign(session, team, sub, "a@example.com", metadata=metadata)
        assert exc.value.field == "metadata"

    def test_metadata_is_stored(self, session, team, sub):
        seat, _ = assign(session, team, sub, "a@example.com", metadata={"desk": 12})
        assert seat.seat_metadata == {"desk": 12}

    def test_immediate_claim_claims_without_email(self, session, team, sub, mailbox):
        seat, token = assign(session, team, sub, "now@example.com", immediate_claim=True)
        assert seat.status is SeatStatus.CLAIMED and seat.claimed_at and token is None
        assert seat.invitation_token_hash is None
        assert session.scalars(select(OutboxEmail)).all() == []

    def test_customer_then_subscription_are_locked_before_any_write(self, session, team, sub):
        """Rules 8 and 9: the count happens under a lock on the subscription row."""
        statements = []

        def capture(conn, cursor, statement, params, context, executemany):
            statements.append(" ".join(statement.upper().split()))

        event.listen(db.engine, "before_cursor_execute", capture)
        try:
            assign(session, team, sub, "a@example.com", commit=False)
        finally:
            event.remove(db.engine, "before_cursor_execute", capture)
            session.rollback()
        customer_lock = next(i for i, s in enumerate(statements) if s.startswith("SELECT CUSTOMERS.ID"))
        sub_lock = next(i for i, s in enumerate(statements)
                        if s.startswith("SELECT SUBSCRIPTIONS.") and "FROM SUBSCRIPTIONS" in s)
        count = next(i for i, s in enumerate(statements) if "COUNT(SEATS.ID)" in s)
        first_write = next(i for i, s in enumerate(statements) if s.startswith(("INSERT", "UPDATE")))
        assert customer_lock < sub_lock < count < first_write
        if db.engine.dialect.name == "postgresql":
            assert "FOR UPDATE" in statements[customer_lock] and "FOR UPDATE" in statements[sub_lock]


class TestGetSeat:
    def test_returns_a_seat_of_the_customer(self, session, team, sub):
        seat, _ = assign(session, team, sub, "a@example.com")
        assert seats.get_seat(session, team, str(seat.id)) is seat

    def test_another_teams_seat_is_not_found(self, session, team, sub, other_team):
        seat, _ = assign(session, team, sub, "a@example.com")
        with pytest.raises(NotFound):
            seats.get_seat(session, other_team, seat.id)

    @pytest.mark.parametrize("bad", ["x", str(uuid.UUID(int=1))])
    def test_unknown_id_is_not_found(self, session, team, bad):
        with pytest.raises(NotFound):
            seats.get_seat(session, team, bad)


class TestResendInvitation:
    def resend(self, session, team, seat, **kwargs):
        kwargs.setdefault("cooldown_seconds", 0)
        seat = seats.resend_invitation(session, owner(team), seat, base_url=BASE, **kwargs)
        session.commit()
        return seat

    def test_rotates_the_token_so_the_old_link_dies(self, session, team, sub):
        """Rule 12 (Polar re-sends the same link; we fix that)."""
        seat, old = assign(session, team, sub, "a@example.com")
        new = self.resend(session, team, seat).invitation_token
        assert new != old
        with pytest.raises(InvalidInvitation) as exc:
            seats.claim_info(session, old)
        assert exc.value.reason == "replaced" and "newer invitation" in exc.value.message
        assert seats.claim_info(session, new).id == seat.id

    def test_resets_the_expiry_so_an_expired_invitation_revives(self, session, team, sub):
        seat, old = assign(session, team, sub, "a@example.com")
        seat.invitation_expires_at = utcnow() - timedelta(days=1)
        session.commit()
        seat = self.resend(session, team, seat)
        assert seat.invitation_expires_at > utcnow() + timedelta(days=6)
        assert seats.claim_info(session, seat.invitation_token).id == seat.id

    def test_is_rate_limited_per_seat(self, session, team, sub):
        seat, _ = assign(session, team, sub, "a@example.com")
        other, _ = assign(session, team, sub, "b@example.com")
        with pytest.raises(RateLimited) as exc:
            self.resend(session, team, seat, cooldown_seconds=60)
        session.rollback()
        assert 55 <= exc.value.retry_after <= 60 and exc.value.status == 429
        assert "resend it in" in exc.value.message
        # The wait in words (ratelimits.wait_words, which says "1 second", not "1 seconds").
        assert exc.value.message.endswith(f"You can resend it in {exc.value.retry_after} seconds.")
        assert seats.resend_wait(other, 60) > 0 and seats.resend_wait(seat, 0) == 0
        seat.invitation_sent_at = utcnow() - timedelta(seconds=61)
        session.commit()
        self.resend(session, team, seat, cooldown_seconds=60)

    def test_cooldown_comes_from_config(self, app, session, team, sub):
        app.config["RESEND_COOLDOWN_SECONDS"] = 3600
        seat, _ = assign(session, team, sub, "a@example.com")
        assert 3590 < seats.resend_wait(seat) <= 3600

    def test_sends_the_new_link_to_the_seats_email(self, session, team, sub, mailbox):
        seat, old = assign(session, team, sub, "a@example.com")
        new = self.resend(session, team, seat).invitation_token
        message = mailbox.wait_for("a@example.com", count=2)
        assert message["Subject"].startswith("Reminder: ")
        assert token_of(message) == new and old not in text_of(message)
        assert "earlier invitation link for this seat no longer works" in text_of(message)
        (event_,) = events(session, "seat.invitation_resent")
        assert event_.actor_label == "Olivia"

    @pytest.mark.parametrize("state", ["claimed", "revoked"])
    def test_only_a_pending_seat_can_be_resent(self, session, team, sub, state):
        seat, token = assign(session, team, sub, "a@example.com")
        if state == "claimed":
            seats.claim_seat(session, token)
        else:
            seats.revoke_seat(session, owner(team), seat)
        with pytest.raises(SeatNotPending) as exc:
            self.resend(session, team, seat)
        assert exc.value.error == "SeatNotPending"

    def test_plain_member_gets_403(self, session, team, sub):
        seat, _ = assign(session, team, sub, "a@example.com")
        with pytest.raises(NotPermitted):
            seats.resend_invitation(session, as_(team, "maya@example.com"), seat, base_url=BASE,
                                    cooldown_seconds=0)


class TestRevokeSeat:
    def test_frees_the_seat_and_kills_its_link(self, session, team, sub):
        """Rule 14."""
        seat, token = assign(session, team, sub, "a@example.com")
        assert seats.list_seats(session, owner(team), sub).available == 2
        seats.revoke_seat(session, owner(team), seat)
        session.commit()
        assert seat.status is SeatStatus.REVOKED and seat.revoked_at is not None
        assert seat.invitation_token_hash is None
        assert seats.list_seats(session, owner(team), sub).available == 3
        with pytest.raises(InvalidInvitation) as exc:
            seats.claim_info(session, token)
        assert exc.value.reason == "revoked" and "revoked" in exc.value.message

    def test_revoking_twice_changes_nothing(self, session, team, sub):
        seat, _ = assign(session, team, sub, "a@example.com")
        seats.revoke_seat(session, owner(team), seat)
        session.commit()
        revoked_at = seat.revoked_at
        again = seats.revoke_seat(session, owner(team), seat)
        session.commit()
        assert again.status is SeatStatus.REVOKED and again.revoked_at == revoked_at
        assert len(events(session, "seat.revoked")) == 1

    def test_a_claimed_seat_can_be_revoked_and_the_member_stays(self, session, team, sub):
        seat, token = assign(session, team, sub, "a@example.com")
        _, person = seats.claim_seat(session, token)
        seats.revoke_seat(session, owner(team), seat)
        session.commit()
        assert seat.status is SeatStatus.REVOKED and person.deleted_at is None

    def test_plain_member_gets_403(self, session, team, sub):
        seat, _ = assign(session, team, sub, "a@example.com")
        with pytest.raises(NotPermitted):
            seats.revoke_seat(session, as_(team, "maya@example.com"), seat)


class TestClaimInfo:
    def test_shows_the_seat_and_changes_nothing(self, session, team, sub):
        """Rule 13: the GET that mail scanners open has no side effect."""
        seat, token = assign(session, team, sub, "a@example.com")
        before = session.execute(text("SELECT * FROM seats")).all()
        count = session.scalar(select(db.func.count(ActivityEvent.id)))
        for _ in range(3):
            assert seats.claim_info(session, token).id == seat.id
        session.commit()
        assert session.execute(text("SELECT * FROM seats")).all() == before
        assert session.scalar(select(db.func.count(ActivityEvent.id))) == count

    def test_an_expired_link_says_so_and_may_ask_for_a_new_one(self, session, team, sub):
        seat, token = assign(session, team, sub, "a@example.com")
        seat.invitation_expires_at = utcnow() - timedelta(minutes=1)
        session.commit()
        with pytest.raises(InvalidInvitation) as exc:
            seats.claim_info(session, token)
        assert exc.value.reason == "expired" and exc.value.can_request_new_link
        assert exc.value.seat.id == seat.id and exc.value.error == "InvalidInvitationToken"

    @pytest.mark.parametrize("token", ["", "garbage", "x" * 500, f"{uuid.uuid4().hex}.abc"])
    def test_unknown_links_are_unknown(self, session, token):
        with pytest.raises(InvalidInvitation) as exc:
            seats.claim_info(session, token)
        assert exc.value.reason == "unknown" and not exc.value.can_request_new_link

    def test_a_link_of_another_organization_is_unknown_here(self, session, team, sub):
        _, token = assign(session, team, sub, "a@example.com")
        elsewhere = make_org("elsewhere", "Elsewhere")
        with pytest.raises(InvalidInvitation) as exc:
            seats.claim_info(session, token, organization=elsewhere)
        assert exc.value.reason == "unknown"


    def test_a_link_of_a_deleted_team_is_unknown(self, session, team, sub):
        _, token = assign(session, team, sub, "a@example.com")
        team.deleted_at = utcnow()
        session.commit()
        with pytest.raises(InvalidInvitation) as exc:
            seats.claim_info(session, token)
        assert exc.value.reason == "unknown"


class TestClaimSeat:
    def test_claims_the_seat_and_returns_the_member(self, session, team, sub):
        seat, token = assign(session, team, sub, "a@example.com")
        claimed, person = seats.claim_seat(session, token)
        session.commit()
        assert claimed.id == seat.id and claimed.status is SeatStatus.CLAIMED
        assert claimed.claimed_at is not None and claimed.invitation_token_hash is None
        assert person.email == "a@example.com" and person.role is Role.MEMBER
        (event_,) = events(session, "seat.claimed")
        assert event_.actor_member_id == person.id

    def test_the_link_is_single_use(self, session, team, sub):
        """Rule 12."""
        _, token = assign(session, team, sub, "a@example.com")
        seats.claim_seat(session, token)
        session.commit()
        with pytest.raises(InvalidInvitation) as exc:
            seats.claim_seat(session, token)
        assert exc.value.reason == "used" and "already used" in exc.value.message

    def test_creates_the_member_if_there_is_none(self, session, team, sub):
        seat, token = assign(session, team, sub, "a@example.com")
        person = member(team, "a@example.com")
        seat.member_id = None
        person.deleted_at = utcnow()  # e.g. removed by hand; the seat was never revoked
        session.commit()
        _, claimer = seats.claim_seat(session, token)
        session.commit()
        assert claimer.id != person.id and claimer.role is Role.MEMBER and claimer.deleted_at is None
        assert seat.member_id == claimer.id

    def test_an_expired_link_cannot_claim(self, session, team, sub):
        seat, token = assign(session, team, sub, "a@example.com")
        seat.invitation_expires_at = utcnow() - timedelta(seconds=1)
        session.commit()
        with pytest.raises(InvalidInvitation) as exc:
            seats.claim_seat(session, token)
        assert exc.value.reason == "expired"
        assert session.get(Seat, seat.id).status is SeatStatus.PENDING


class TestRequestNewLink:
    def expire(self, session, seat, sent_days_ago=8):
        seat.invitation_expires_at = utcnow() - timedelta(days=1)
        seat.invitation_sent_at = utcnow() - timedelta(days=sent_days_ago)
        session.commit()

    def test_an_expired_link_gets_a_new_one_sent_to_the_invited_email(self, session, team, sub,
                                                                      mailbox):
        seat, old = assign(session, team, sub, "a@example.com")
        self.expire(session, seat)
        seats.request_new_link(session, old, base_url=BASE)
        session.commit()
        message = mailbox.wait_for("a@example.com", count=2)
        new = token_of(message)
        assert new != old and seats.claim_info(session, new).id == seat.id
        with pytest.raises(InvalidInvitation) as exc:
            seats.claim_info(session, old)
        assert exc.value.reason == "replaced"
        assert [m["To"] for m in mailbox.messages] == ["a@example.com", "a@example.com"]
        (event_,) = events(session, "seat.invitation_resent")
        assert event_.actor_label == "a@example.com (invitee)"

    def test_a_working_link_needs_no_new_one(self, session, team, sub, mailbox):
        _, token = assign(session, team, sub, "a@example.com")
        with pytest.raises(RuleViolation):
            seats.request_new_link(session, token, base_url=BASE)

    @pytest.mark.parametrize("state", ["claimed", "revoked", "unknown"])
    def test_only_for_a_still_pending_seat(self, session, team, sub, state, mailbox):
        seat, token = assign(session, team, sub, "a@example.com")
        self.expire(session, seat)
        if state == "claimed":
            seat.invitation_expires_at = utcnow() + timedelta(days=1)
            seats.claim_seat(session, token)
        elif state == "revoked":
            seats.revoke_seat(session, owner(team), seat)
        else:
            token = f"{uuid.uuid4().hex}.{token.split('.')[1]}"
        session.commit()
        with pytest.raises(InvalidInvitation) as exc:
            seats.request_new_link(session, token, base_url=BASE)
        assert exc.value.reason == {"claimed": "used"}.get(state, state)
        assert session.scalar(select(db.func.count(OutboxEmail.id))) == 1

    def test_is_rate_limited(self, session, team, sub):
        seat, token = assign(session, team, sub, "a@example.com")
        seat.invitation_expires_at = utcnow() - timedelta(seconds=1)
        session.commit()  # sent a moment ago, expired already (a very short INVITATION_DAYS)
        with pytest.raises(RateLimited):
            seats.request_new_link(session, token, base_url=BASE, cooldown_seconds=60)


class TestRemovingAMember:
    def test_revokes_their_seats_and_kills_their_link(self, session, team, sub):
        """Rule 7, wired through the members service."""
        seat, token = assign(session, team, sub, "a@example.com")
        members.remove_member(session, owner(team), team, member(team, "a@example.com").id)
        session.commit()
        assert session.get(Seat, seat.id).status is SeatStatus.REVOKED
        assert seats.list_seats(session, owner(team), sub).available == 3
        with pytest.raises(InvalidInvitation) as exc:
            seats.claim_info(session, token)
        assert exc.value.reason == "revoked"


class TestSetSeatCount:
    def test_cannot_go_below_pending_plus_claimed(self, session, team, sub):
        """Rule 9: the vendor cannot lower the count under what is in use."""
        assign(session, team, sub, "a@example.com")
        _, token = assign(session, team, sub, "b@example.com")
        seats.claim_seat(session, token)
        session.commit()
        with pytest.raises(RuleViolation) as exc:
            organizations.set_seat_count(session, team, 1)
        assert "2 seats are in use" in exc.value.message
        session.rollback()
        assert organizations.set_seat_count(session, team, 2).seats == 2

    def test_revoked_seats_do_not_hold_the_count_up(self, session, team, sub):
        seat, _ = assign(session, team, sub, "a@example.com")
        seats.revoke_seat(session, owner(team), seat)
        assert organizations.set_seat_count(session, team, 0).seats == 0


class TestMemberSeatStatus:
    def test_reports_claimed_over_pending(self, session, team, sub):
        maya = member(team, "maya@example.com")
        assign(session, team, sub, "maya@example.com")
        assert members.row_facts(session, [maya.id])[0] == {maya.id: "pending"}
        assert members.row_facts(session, []) == ({}, {})
        assert isinstance(maya, Member)
