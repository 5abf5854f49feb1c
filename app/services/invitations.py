"""Invitation links: issue, email, claim, renew (DESIGN.md rules 11-13).

An invitation token looks like `<seat id hex>.<43 random characters>` (32 random bytes); only
the SHA-256 of the whole token is stored (Seat.invitation_token_hash). The seat id in front lets
a dead link say *why* it is dead (revoked, already used, replaced by a newer one) although its
hash is gone; it opens nothing by itself. `app.services.seats` re-exports the public functions.
"""
from __future__ import annotations

import math
import secrets
import uuid
from datetime import timedelta

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import ratelimits
from ..errors import InvalidInvitation, RateLimited, RuleViolation
from ..models import Customer, Member, Role, Seat, SeatStatus, utcnow
from ..security import hash_token
from . import access, activity, mail, sessions, webhooks
from .access import Actor

INVITATION_DAYS = 7
RESEND_COOLDOWN_SECONDS = 60


def setting(name: str, value, default):
    if value is not None:
        return value
    return current_app.config.get(name, default) if has_app_context() else default


def iso(value) -> str | None:
    return value.isoformat() if value else None


def lock_seat(session: Session, seat: Seat) -> Seat:
    """SELECT … FOR UPDATE on the seat row, re-read."""
    return session.scalar(
        select(Seat).where(Seat.id == seat.id)
        .with_for_update(of=Seat).execution_options(populate_existing=True)
    )


def claim_url(base_url: str, seat: Seat, token: str) -> str:
    return f"{base_url}/{seat.subscription.customer.organization.slug}/claim?token={token}"


def resend_wait(seat: Seat, cooldown_seconds: int | None = None) -> int:
    """Seconds until the seat's invitation may be sent again (0 when it may be now)."""
    cooldown = setting("RESEND_COOLDOWN_SECONDS", cooldown_seconds, RESEND_COOLDOWN_SECONDS)
    if seat.status is not SeatStatus.PENDING or seat.invitation_sent_at is None:
        return 0
    left = (seat.invitation_sent_at + timedelta(seconds=cooldown) - utcnow()).total_seconds()
    return max(0, math.ceil(left))


def issue_token(seat: Seat, days: int) -> str:
    """A fresh invitation link for the seat: the old one, if any, stops working (rule 12)."""
    token = f"{seat.id.hex}.{secrets.token_urlsafe(32)}"
    now = utcnow()
    seat.invitation_token_hash = hash_token(token)
    seat.invitation_expires_at = now + timedelta(days=days)
    seat.invitation_sent_at = now
    seat.invitation_token = token  # the raw token, on this object only; never stored
    return token


def inviter_label(session: Session, actor: Actor, customer: Customer) -> str:
    person = actor.member or session.scalar(
        select(Member).where(Member.customer_id == customer.id, Member.role == Role.OWNER,
                             Member.deleted_at.is_(None))
    )
    if person is None:
        return customer.name or "Your team"
    return f"{person.name} ({person.email})" if person.name else person.email


def spend_invitation_quota(team: Customer, address: str) -> None:
    """Invitation emails are limited per team and per address, whichever path sends them, so a
    manager cannot mail any address without end by assigning and revoking in a loop.

    Counted in the rate-limit storage (Redis in production: every process and host)."""
    address = address.strip().lower()
    ratelimits.spend("invite-address", setting("INVITATIONS_PER_ADDRESS", None, "3 per day"),
                     team.id, address,
                     message=f"Too many invitations were sent to {address} today. "
                             "Try again in {wait}.")
    ratelimits.spend("invite-team", setting("INVITATIONS_PER_TEAM", None, "50 per hour"), team.id,
                     message="Your team has sent the most invitations allowed for now. "
                             "Try again in {wait}.")


def queue_invitation(session: Session, seat: Seat, token: str, *, inviter: str, base_url: str,
                      days: int, reminder: bool = False) -> None:
    subscription = seat.subscription
    team = subscription.customer
    spend_invitation_quota(team, seat.email)
    mail.queue_email(
        session, to=seat.email, kind="invitation", template="invitation",
        subject=f"{'Reminder: ' if reminder else ''}{inviter} invited you to {subscription.product_name}",
        organization=team.organization, inviter=inviter, team=team.name,
        product=subscription.product_name, link=claim_url(base_url, seat, token),
        expires_at=seat.invitation_expires_at, days=days, reminder=reminder,
    )


def new_member(session: Session, actor: Actor, customer: Customer, email: str) -> Member:
    """Rule 11: the invitee becomes a plain member of the team."""
    member = Member(customer_id=customer.id, customer=customer, email=email, role=Role.MEMBER)
    session.add(member)
    session.flush()
    activity.record(session, actor, customer, "member.added", subject_type="member",
                    subject_id=member.id, subject_label=member.email,
                    after={"email": member.email, "name": None, "role": Role.MEMBER.value})
    webhooks.announce(session, customer.organization, "member.created", member)
    return member


# --- claiming ----------------------------------------------------------------------------------

def _reachable(seat: Seat | None, organization) -> Seat | None:
    """The seat, unless its team is gone or it belongs to another organization than the URL's."""
    if seat is None or seat.subscription.customer.deleted_at is not None:
        return None
    if organization is not None and seat.subscription.customer.organization_id != organization.id:
        return None
    return seat


def _dead_link(session: Session, token: str, organization) -> InvalidInvitation:
    """Why a token that matches no live invitation does not work."""
    head, dot, _ = token.partition(".")
    seat = None
    if dot:
        try:
            seat = session.get(Seat, uuid.UUID(hex=head), populate_existing=True)
        except ValueError:
            seat = None
    seat = _reachable(seat, organization)
    if seat is None:
        return InvalidInvitation("This invitation link is not valid. Check that you opened the whole "
                                 "link, or ask your team to invite you again.", reason="unknown")
    if seat.status is SeatStatus.REVOKED:
        return InvalidInvitation("This invitation was withdrawn: the seat has been revoked. Ask your "
                                 "team if you still need access.", reason="revoked")
    if seat.status is SeatStatus.CLAIMED:
        return InvalidInvitation("This invitation was already used to claim the seat. If that was "
                                 "you, sign in to open the portal.", reason="used")
    return InvalidInvitation("A newer invitation was sent for this seat, so this link no longer "
                             "works. Use the link in the most recent email.", reason="replaced")


def _find_by_token(session: Session, token: str, *, organization=None, lock: bool = False) -> Seat:
    """The pending seat this token opens, or InvalidInvitation saying why not."""
    token = (token or "").strip()
    seat = None
    if token and len(token) <= 200:
        query = select(Seat).where(Seat.invitation_token_hash == hash_token(token))
        if lock:
            query = query.with_for_update(of=Seat).execution_options(populate_existing=True)
        seat = session.scalar(query)
    seat = _reachable(seat, organization)
    if seat is None or seat.status is not SeatStatus.PENDING:
        raise _dead_link(session, token, organization)
    expires = seat.invitation_expires_at
    if expires is None or expires <= utcnow():
        when = f" on {expires:%-d %b %Y}" if expires else ""
        raise InvalidInvitation(f"This invitation link expired{when}.", reason="expired", seat=seat,
                                can_request_new_link=True)
    return seat


def claim_info(session: Session, token: str, *, organization=None) -> Seat:
    """What a claim link offers, changing nothing (mail scanners open links; rule 13).

    Raises InvalidInvitation with reason expired, used, revoked, replaced or unknown."""
    return _find_by_token(session, token, organization=organization)


def claim_seat(session: Session, token: str, *, organization=None) -> tuple[Seat, Member]:
    """Claim the seat a link offers: the seat becomes `claimed` and the link dies (rule 13).

    The invitee becomes a member (role `member`) if they are not one; the customer, then the
    seat are locked, so a link claimed twice at once succeeds once. The caller signs them in.
    Announces customer_seat.claimed (25)."""
    seat = _find_by_token(session, token, organization=organization)
    customer = seat.subscription.customer
    access.lock_customer(session, customer)
    seat = _find_by_token(session, token, organization=organization, lock=True)
    member = seat.member if seat.member is not None and seat.member.deleted_at is None else None
    if member is None:
        member = access.find_live_member(session, customer, seat.email) or new_member(
            session, Actor(label_override=f"{seat.email} (invitee)"), customer, seat.email)
    seat.member_id, seat.member = member.id, member
    seat.status, seat.claimed_at = SeatStatus.CLAIMED, utcnow()
    seat.invitation_token_hash = seat.invitation_expires_at = None
    sessions.mark_accepted(member, seat.claimed_at)  # rule 22
    session.flush()
    activity.record(session, Actor(member=member), customer, "seat.claimed", subject_type="seat",
                    subject_id=seat.id, subject_label=seat.email,
                    before={"status": SeatStatus.PENDING.value},
                    after={"status": SeatStatus.CLAIMED.value, "member": member.email})
    webhooks.announce(session, customer.organization, "customer_seat.claimed", seat)
    return seat, member


def request_new_link(
    session: Session,
    token: str,
    *,
    base_url: str,
    organization=None,
    cooldown_seconds: int | None = None,
    invitation_days: int | None = None,
) -> Seat:
    """An invitee whose link expired asks for a fresh one (rule 13).

    Only for an expired link of a seat that is still pending; the new link goes to the invited
    email only, never to an address the requester names, at most once per cooldown."""
    try:
        _find_by_token(session, token, organization=organization)
    except InvalidInvitation as exc:
        if not exc.can_request_new_link:
            raise
        seat = exc.seat
    else:
        raise RuleViolation("This invitation link still works: open it to claim your seat.")
    days = setting("INVITATION_DAYS", invitation_days, INVITATION_DAYS)
    customer = seat.subscription.customer
    access.lock_customer(session, customer)
    seat = lock_seat(session, seat)
    if seat.status is not SeatStatus.PENDING or seat.invitation_token_hash != hash_token(token.strip()):
        raise _dead_link(session, token.strip(), organization)
    wait = resend_wait(seat, cooldown_seconds)
    if wait:
        raise RateLimited(f"A new link was just sent. You can ask again in {ratelimits.wait_words(wait)}.",
                          retry_after=wait)
    new = issue_token(seat, days)
    session.flush()
    invitee = Actor(label_override=f"{seat.email} (invitee)")
    queue_invitation(session, seat, new, inviter=inviter_label(session, invitee, customer),
                      base_url=base_url, days=days, reminder=True)
    activity.record(session, invitee, customer, "seat.invitation_resent", subject_type="seat",
                    subject_id=seat.id, subject_label=seat.email,
                    after={"expires_at": iso(seat.invitation_expires_at), "requested_by": "invitee"})
    return seat
