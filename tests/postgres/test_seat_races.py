"""Seat races on PostgreSQL (rules 8-10, 12): parallel requests never over-assign, never give one
email two seats, never claim one link twice, and never answer 500 (or 409, which would mean the
locks let two writers through to the database's unique indexes).

Each thread has its own database session: either its own HTTP client (the whole request runs
in that thread with its own application context) or its own application context around a
service call."""
from __future__ import annotations


import pytest
from sqlalchemy import func, select

from app.errors import InvalidInvitation, NoSeatsAvailable, SeatAlreadyAssigned
from app.extensions import db
from app.models import Member, Seat, SeatStatus, Subscription
from app.services import organizations, seats
from app.services.activity import Actor
from tests.support.concurrency import run_together
from tests.factories import make_org, make_team, member
from tests.support.web import csrf_token, sign_in_client

pytestmark = pytest.mark.postgres
BASE = "http://portal.test"


@pytest.fixture
def team(pg_app):
    org = make_org("acme", "Acme")
    return make_team(org, name="Globex", owner="olivia@example.com", seats=3)


@pytest.fixture
def sub(team):
    return db.session.scalars(select(Subscription).where(Subscription.customer_id == team.id)).one()


def in_own_session(app, work):
    """Run `work(session)` in a fresh application context (so a fresh session) and commit."""
    def call():
        with app.app_context():
            try:
                result = work(db.session)
                db.session.commit()
                return result
            except Exception:
                db.session.rollback()
                raise
            finally:
                db.session.remove()
    return call


def live_seats(sub) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(Seat.id)).where(
        Seat.subscription_id == sub.id, Seat.status.in_([SeatStatus.PENDING, SeatStatus.CLAIMED])))


@pytest.mark.parametrize("round_", range(3))
def test_parallel_assignments_over_http_never_over_assign_or_fail(pg_app, team, sub, round_):
    """8 owners' tabs assign 8 different emails at once against 2 free seats."""
    seats.assign_seat(db.session, Actor(member=member(team, "olivia@example.com")), sub,
                      email="first@example.com", base_url=BASE)
    db.session.commit()
    clients = []
    for _ in range(8):
        client = pg_app.test_client()
        sign_in_client(client, member(team, "olivia@example.com"))
        clients.append((client, csrf_token(client, "/acme/seats")))
    url = f"/acme/seats/subscriptions/{sub.id}/assign"

    def assign(client, token, i):
        return lambda: client.post(url, data={"email": f"p{i}@example.com"},
                                   headers={"HX-Request": "true", "X-CSRFToken": token})

    responses = run_together([assign(c, t, i) for i, (c, t) in enumerate(clients)])
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 200] + [422] * 6, statuses
    refused = [r for r in responses if r.status_code == 422]
    assert all("No seat is free" in r.get_data(as_text=True) for r in refused)
    assert live_seats(sub) == 3


def test_parallel_service_calls_give_the_last_seat_once(pg_app, team, sub):
    for email in ("a@example.com", "b@example.com"):
        seats.assign_seat(db.session, Actor(member=member(team, "olivia@example.com")), sub,
                          email=email, base_url=BASE)
    db.session.commit()
    owner_id, sub_id = member(team, "olivia@example.com").id, sub.id

    def assign(i):
        def work(session):
            actor = Actor(member=session.get(Member, owner_id))
            return seats.assign_seat(session, actor, session.get(Subscription, sub_id),
                                     email=f"racer{i}@example.com", base_url=BASE).id
        return in_own_session(pg_app, work)

    results = run_together([assign(i) for i in range(10)])
    won = [r for r in results if not isinstance(r, Exception)]
    lost = [r for r in results if isinstance(r, Exception)]
    assert len(won) == 1 and all(isinstance(e, NoSeatsAvailable) for e in lost), results
    assert live_seats(sub) == 3
    # Members are only created for the winner: a refused assignment leaves nothing behind.
    assert db.session.scalar(select(func.count(Member.id)).where(Member.email.like("racer%"))) == 1


def test_parallel_assignments_of_one_email_give_one_seat(pg_app, team, sub):
    organizations.set_seat_count(db.session, team, 10)
    db.session.commit()
    owner_id, sub_id = member(team, "olivia@example.com").id, sub.id

    def work(session):
        actor = Actor(member=session.get(Member, owner_id))
        return seats.assign_seat(session, actor, session.get(Subscription, sub_id),
                                 email="Same@Example.com", base_url=BASE).id

    results = run_together([in_own_session(pg_app, work) for _ in range(6)])
    lost = [r for r in results if isinstance(r, Exception)]
    assert len(lost) == 5 and all(isinstance(e, SeatAlreadyAssigned) for e in lost), results
    assert live_seats(sub) == 1
    assert db.session.scalar(select(func.count(Member.id)).where(
        func.lower(Member.email) == "same@example.com")) == 1


def test_one_link_claimed_at_once_from_many_places_is_claimed_once(pg_app, team, sub):
    seat = seats.assign_seat(db.session, Actor(member=member(team, "olivia@example.com")), sub,
                             email="new@example.com", base_url=BASE)
    token = seat.invitation_token
    db.session.commit()

    def work(session):
        claimed, person = seats.claim_seat(session, token)
        return person.id

    results = run_together([in_own_session(pg_app, work) for _ in range(5)])
    won = [r for r in results if not isinstance(r, Exception)]
    lost = [r for r in results if isinstance(r, Exception)]
    assert len(won) == 1, results
    assert all(isinstance(e, InvalidInvitation) and e.reason == "used" for e in lost), results
    assert db.session.scalar(select(func.count(Member.id)).where(Member.email == "new@example.com")) == 1


def test_revoke_racing_assignments_frees_exactly_one_seat(pg_app, team, sub):
    actor = Actor(member=member(team, "olivia@example.com"))
    taken = [seats.assign_seat(db.session, actor, sub, email=f"t{i}@example.com", base_url=BASE)
             for i in range(3)]
    db.session.commit()
    owner_id, sub_id, victim = actor.member.id, sub.id, taken[0].id

    def revoke(session):
        person = Actor(member=session.get(Member, owner_id))
        return seats.revoke_seat(session, person, session.get(Seat, victim)).id

    def assign(i):
        def work(session):
            person = Actor(member=session.get(Member, owner_id))
            return seats.assign_seat(session, person, session.get(Subscription, sub_id),
                                     email=f"late{i}@example.com", base_url=BASE).id
        return in_own_session(pg_app, work)

    results = run_together([in_own_session(pg_app, revoke)] + [assign(i) for i in range(5)])
    assert not isinstance(results[0], Exception), results[0]
    others = results[1:]
    assert all(isinstance(r, NoSeatsAvailable) for r in others if isinstance(r, Exception)), others
    assert sum(not isinstance(r, Exception) for r in others) <= 1
    assert live_seats(sub) <= 3
