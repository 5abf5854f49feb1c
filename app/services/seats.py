"""Seats and invitations (DESIGN.md rules 9-14)."""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..models import Member, Seat, SeatStatus, utcnow

LIVE = (SeatStatus.PENDING, SeatStatus.CLAIMED)


def revoke_member_seats(session: Session, member: Member) -> int:
    """Revoke every live seat of a member (rule 7); returns how many were revoked."""
    result = session.execute(
        update(Seat)
        .where(Seat.member_id == member.id, Seat.status.in_(LIVE))
        .values(status=SeatStatus.REVOKED, revoked_at=utcnow(), invitation_token_hash=None,
                invitation_expires_at=None)
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount or 0


def follow_member_email(session: Session, member: Member) -> None:
    """A member's new email follows onto their live seats."""
    session.execute(
        update(Seat)
        .where(Seat.member_id == member.id, Seat.status.in_(LIVE))
        .values(email=member.email)
        .execution_options(synchronize_session="fetch")
    )


def member_seat_status(session: Session, member_ids: list) -> dict:
    """{member_id: 'claimed' | 'pending'} for the given members: one query for a whole page."""
    if not member_ids:
        return {}
    rows = session.execute(
        select(Seat.member_id, Seat.status).where(Seat.member_id.in_(member_ids), Seat.status.in_(LIVE))
    ).all()
    status: dict = {}
    for member_id, seat_status in rows:
        if status.get(member_id) != SeatStatus.CLAIMED.value:
            status[member_id] = seat_status.value
    return status
