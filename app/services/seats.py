"""Seats (DESIGN.md rules 9-14): counting, assigning, resending and revoking.

Every mutation takes the customer lock, then the subscription or seat row lock (rule 8), in
that order everywhere, so concurrent requests queue up instead of over-assigning or deadlocking.
Invitation links (tokens, email, claim) live in `invitations`; its public functions are
re-exported here so callers need only this module.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.orm import Session

from .. import ratelimits, text
from ..errors import (
    NoSeatsAvailable,
    NotFound,
    RateLimited,
    RuleViolation,
    SeatAlreadyAssigned,
    SeatNotPending,
)
from ..models import Customer, Member, Seat, SeatStatus, Subscription, utcnow
from . import access, activity, sessions, signin, webhooks
from .access import Actor
from .ids import parse_id
from .invitations import (  # noqa: F401 - re-exported for the portal and the API
    INVITATION_DAYS,
    RESEND_COOLDOWN_SECONDS,
    claim_info,
    claim_seat,
    claim_url,
    inviter_label,
    iso,
    issue_token,
    lock_seat,
    new_member,
    queue_invitation,
    request_new_link,
    resend_wait,
    setting,
)

LIVE = (SeatStatus.PENDING, SeatStatus.CLAIMED)
METADATA_MAX_KEYS = 10
METADATA_MAX_BYTES = 1024


@dataclass(frozen=True)
class SeatList:
    """A subscription's seats and its counts. Rule 9: available = seats − (pending + claimed)."""

    subscription: Subscription
    seats: list
    total: int
    pending: int
    claimed: int

    @property
    def used(self) -> int:
        return self.pending + self.claimed

    @property
    def available(self) -> int:
        return max(0, self.total - self.used)


# --- reading -----------------------------------------------------------------------------------

def get_subscription(session: Session, customer: Customer, subscription_id) -> Subscription:
    """A seat subscription of this customer; another customer's id is simply not found."""
    sid = parse_id(subscription_id, "Subscription not found.")
    subscription = session.scalar(
        select(Subscription).where(Subscription.id == sid, Subscription.customer_id == customer.id)
    )
    if subscription is None:
        raise NotFound("Subscription not found.")
    return subscription


def get_seat(session: Session, customer: Customer, seat_id) -> Seat:
    """A seat on one of this customer's subscriptions; any other id is not found."""
    sid = parse_id(seat_id, "Seat not found.")
    seat = session.scalar(
        select(Seat).where(
            Seat.id == sid,
            Seat.subscription_id.in_(select(Subscription.id).where(Subscription.customer_id == customer.id)),
        )
    )
    if seat is None:
        raise NotFound("Seat not found.")
    return seat


def _ensure_can_read(actor: Actor, customer: Customer) -> None:
    if actor.member is not None and actor.member.customer_id != customer.id:
        raise NotFound("Subscription not found.")
    if actor.token is not None and actor.token.organization_id != customer.organization_id:
        raise NotFound("Subscription not found.")


def list_seats(session: Session, actor: Actor, subscription: Subscription, *, manage: bool = False,
               include_revoked: bool = True) -> SeatList:
    """The seats of a subscription (live ones first) and its counts (rule 9).

    Any member of the team may read them (Polar's UnionRead); with `manage=True`, as on the
    managers' seats page, only owners and billing managers of a team may (rule 1)."""
    if manage:
        access.ensure_can_manage(actor, subscription.customer)
    else:
        _ensure_can_read(actor, subscription.customer)
    query = select(Seat).where(Seat.subscription_id == subscription.id)
    if not include_revoked:
        query = query.where(Seat.status.in_(LIVE))
    rows = list(session.scalars(
        query.order_by(case((Seat.status == SeatStatus.REVOKED, 1), else_=0), Seat.created_at, Seat.id)
    ))
    pending = sum(1 for s in rows if s.status is SeatStatus.PENDING)
    claimed = sum(1 for s in rows if s.status is SeatStatus.CLAIMED)
    return SeatList(subscription=subscription, seats=rows, total=subscription.seats,
                    pending=pending, claimed=claimed)


def seat_overview(session: Session, actor: Actor, customer: Customer) -> list[SeatList]:
    """Every seat subscription of a team with its seats: the managers' seats page (rule 1)."""
    access.ensure_can_manage(actor, customer)
    subscriptions = session.scalars(
        select(Subscription).where(Subscription.customer_id == customer.id)
        .order_by(Subscription.created_at, Subscription.id)
    )
    return [list_seats(session, actor, s) for s in subscriptions]


# --- locks and helpers for changes -------------------------------------------------------------

def _lock_subscription(session: Session, subscription: Subscription) -> Subscription:
    return session.scalar(
        select(Subscription).where(Subscription.id == subscription.id)
        .with_for_update(of=Subscription).execution_options(populate_existing=True)
    )


def _clean_metadata(metadata) -> dict | None:
    if metadata is None:
        return None
    if not isinstance(metadata, dict) or not all(isinstance(k, str) for k in metadata):
        raise RuleViolation("Seat metadata must be an object with text keys.", field="metadata")
    if len(metadata) > METADATA_MAX_KEYS:
        raise RuleViolation(f"Seat metadata can have at most {METADATA_MAX_KEYS} keys.", field="metadata")
    size = text.json_size(metadata)
    if size is None:
        raise RuleViolation("Seat metadata must be plain JSON values.", field="metadata")
    if size > METADATA_MAX_BYTES:
        raise RuleViolation(f"Seat metadata can be at most {METADATA_MAX_BYTES} bytes of JSON.",
                            field="metadata")
    return metadata


# --- assign, resend, revoke --------------------------------------------------------------------

def assign_seat(
    session: Session,
    actor: Actor,
    subscription: Subscription,
    *,
    email: str | None = None,
    member: Member | None = None,
    metadata: dict | None = None,
    immediate_claim: bool = False,
    base_url: str,
    invitation_days: int | None = None,
) -> Seat:
    """Give a seat to a person by email, or to an existing member of the team.

    Rules: managers of a team only (1); the customer, then the subscription row are locked
    before counting, so parallel assignments cannot over-assign (8); none free →
    NoSeatsAvailable (9); one live seat per email per subscription → SeatAlreadyAssigned (10);
    the member is created with role `member` if needed, a revoked row is reused, and an
    invitation is queued (11); its token is random, stored hashed and expires after
    INVITATION_DAYS (12). With `immediate_claim` (API only) the seat is claimed at once and no
    email is sent, and the member is accepted (22). The raw token is on the returned object as `seat.invitation_token`.
    Announces customer_seat.assigned (and .claimed with `immediate_claim`) (25)."""
    customer = subscription.customer
    days = setting("INVITATION_DAYS", invitation_days, INVITATION_DAYS)
    metadata = _clean_metadata(metadata)
    if member is None and not (email or "").strip():
        raise RuleViolation("Enter the email address of the person to invite.", field="email")
    normalized = signin.normalize_email(email) if (email or "").strip() else None
    access.begin_mutation(session, actor, customer)
    subscription = _lock_subscription(session, subscription)
    if member is not None:
        member = access.get_member(session, customer, member.id)
        if normalized and normalized != member.email.lower():
            raise RuleViolation("The email does not match the member's email.", field="email")
    else:
        member = access.find_live_member(session, customer, normalized)
    address = member.email if member is not None else email.strip()
    same_person = func.lower(Seat.email) == address.lower()
    if member is not None:
        same_person = or_(same_person, Seat.member_id == member.id)
    if session.scalar(select(Seat.id).where(Seat.subscription_id == subscription.id,
                                            Seat.status.in_(LIVE), same_person)):
        raise SeatAlreadyAssigned(f"{address} already has a seat on {subscription.product_name}.",
                                  field="email")
    in_use = session.scalar(select(func.count(Seat.id)).where(
        Seat.subscription_id == subscription.id, Seat.status.in_(LIVE))) or 0
    if subscription.seats - in_use <= 0:
        raise NoSeatsAvailable(
            f"No seat is free on {subscription.product_name}: all {subscription.seats} are "
            "pending or claimed. Revoke a seat first, or ask for more seats.", field="email")
    if member is None:
        member = new_member(session, actor, customer, address)
    seat = session.scalar(
        select(Seat).where(Seat.subscription_id == subscription.id, Seat.status == SeatStatus.REVOKED)
        .order_by(Seat.revoked_at, Seat.id).limit(1).with_for_update(of=Seat)
    )
    if seat is None:
        seat = Seat(id=uuid.uuid4(), subscription_id=subscription.id, subscription=subscription)
        session.add(seat)
    seat.email, seat.member_id, seat.member = address, member.id, member
    seat.seat_metadata, seat.revoked_at, seat.claimed_at = metadata, None, None
    token = None
    if immediate_claim:
        seat.status, seat.claimed_at = SeatStatus.CLAIMED, utcnow()
        # The vendor vouches for the person: a claimed seat accepts them, as a claim through the
        # link does and as migration 0005 did for seats claimed before (rule 22).
        sessions.mark_accepted(member, seat.claimed_at)
        seat.invitation_token_hash = seat.invitation_expires_at = seat.invitation_sent_at = None
        seat.invitation_token = None
    else:
        seat.status = SeatStatus.PENDING
        token = issue_token(seat, days)
    session.flush()
    if token:
        queue_invitation(session, seat, token, inviter=inviter_label(session, actor, customer),
                          base_url=base_url, days=days)
    activity.record(session, actor, customer, "seat.assigned", subject_type="seat",
                    subject_id=seat.id, subject_label=address,
                    after={"email": address, "status": seat.status.value,
                           "product": subscription.product_name,
                           "expires_at": iso(seat.invitation_expires_at)})
    webhooks.announce(session, customer.organization, "customer_seat.assigned", seat)
    if immediate_claim:
        webhooks.announce(session, customer.organization, "customer_seat.claimed", seat)
    return seat


def resend_invitation(
    session: Session,
    actor: Actor,
    seat: Seat,
    *,
    base_url: str,
    cooldown_seconds: int | None = None,
    invitation_days: int | None = None,
) -> Seat:
    """Send a pending seat's invitation again, with a NEW link.

    Rules: managers only (1); customer, then seat locked (8); only a pending seat →
    SeatNotPending; the token is rotated and the expiry reset, so the previous link stops
    working (12; Polar re-sends the same, possibly dead, link); one send per seat per
    RESEND_COOLDOWN_SECONDS → RateLimited (429)."""
    customer = seat.subscription.customer
    days = setting("INVITATION_DAYS", invitation_days, INVITATION_DAYS)
    access.begin_mutation(session, actor, customer)
    seat = lock_seat(session, seat)
    if seat.status is not SeatStatus.PENDING or not seat.email:
        raise SeatNotPending(f"Only a pending invitation can be resent; this seat is {seat.status.value}.")
    wait = resend_wait(seat, cooldown_seconds)
    if wait:
        raise RateLimited(f"An invitation was just sent to {seat.email}. You can resend it in "
                          f"{ratelimits.wait_words(wait)}.", retry_after=wait)
    before = {"expires_at": iso(seat.invitation_expires_at), "sent_at": iso(seat.invitation_sent_at)}
    token = issue_token(seat, days)
    session.flush()
    queue_invitation(session, seat, token, inviter=inviter_label(session, actor, customer),
                      base_url=base_url, days=days, reminder=True)
    activity.record(session, actor, customer, "seat.invitation_resent", subject_type="seat",
                    subject_id=seat.id, subject_label=seat.email, before=before,
                    after={"expires_at": iso(seat.invitation_expires_at), "previous_link": "revoked"})
    return seat


def revoke_seat(session: Session, actor: Actor, seat: Seat) -> Seat:
    """Take a seat back: it is free at once and its invitation link dies.

    Rules: managers only (1); customer, then seat locked (8); revoking a revoked seat changes
    and logs nothing (14). The person stays a member of the team. Announces
    customer_seat.revoked (25)."""
    customer = seat.subscription.customer
    access.begin_mutation(session, actor, customer)
    seat = lock_seat(session, seat)
    if seat.status is SeatStatus.REVOKED:
        return seat
    before = {"status": seat.status.value, "email": seat.email}
    seat.status, seat.revoked_at = SeatStatus.REVOKED, utcnow()
    seat.invitation_token_hash = seat.invitation_expires_at = None
    session.flush()
    activity.record(session, actor, customer, "seat.revoked", subject_type="seat",
                    subject_id=seat.id, subject_label=seat.email or "seat", before=before,
                    after={"status": SeatStatus.REVOKED.value})
    webhooks.announce(session, customer.organization, "customer_seat.revoked", seat)
    return seat


# --- used by member removal and the team page --------------------------------------------------

def revoke_member_seats(session: Session, member: Member) -> int:
    """Revoke every live seat of a member (rule 7), each announced as `customer_seat.revoked`
    (rule 25); returns how many were revoked. The caller holds the customer lock."""
    live = list(session.scalars(
        select(Seat).where(Seat.member_id == member.id, Seat.status.in_(LIVE))
        .order_by(Seat.id).with_for_update(of=Seat).execution_options(populate_existing=True)
    ))
    now = utcnow()
    for seat in live:
        seat.status, seat.revoked_at = SeatStatus.REVOKED, now
        seat.invitation_token_hash = seat.invitation_expires_at = None
    session.flush()
    for seat in live:
        webhooks.announce(session, member.customer.organization, "customer_seat.revoked", seat)
    return len(live)


def follow_member_email(session: Session, member: Member) -> None:
    """A member's new email follows onto their live seats."""
    session.execute(
        update(Seat)
        .where(Seat.member_id == member.id, Seat.status.in_(LIVE))
        .values(email=member.email)
        .execution_options(synchronize_session="fetch")
    )


def member_seats(session: Session, member: Member) -> list[Seat]:
    """A member's own pending and claimed seats, with their subscriptions (their membership page)."""
    return list(session.scalars(
        select(Seat).join(Subscription).where(Seat.member_id == member.id, Seat.status.in_(LIVE))
        .order_by(Subscription.product_name, Seat.created_at)))


def live_seat_count(session: Session, member: Member) -> int:
    """How many pending or claimed seats a member holds (what removing them would revoke)."""
    return session.scalar(select(func.count(Seat.id)).where(
        Seat.member_id == member.id, Seat.status.in_(LIVE))) or 0
