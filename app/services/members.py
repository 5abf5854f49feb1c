"""Team members (DESIGN.md rules 1-8). Every function takes the acting member or token explicitly."""
from __future__ import annotations

import math
import uuid
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..errors import NotFound, NotPermitted, RuleViolation
from ..models import Customer, CustomerType, Member, Role, utcnow
from . import activity, seats, sessions
from .activity import Actor
from .signin import normalize_email

NAME_MAX = 256
UNSET = object()

TEAM_PLAN_REQUIRED = (
    "Team management is only available for team customers. "
    "Purchase a seat-based plan to enable team features."
)


@dataclass(frozen=True)
class Page:
    items: list
    total: int
    page: int
    limit: int

    @property
    def max_page(self) -> int:
        return math.ceil(self.total / self.limit) if self.limit else 0


def lock_customer(session: Session, customer: Customer) -> None:
    """Serialize team mutations (rule 8): SELECT … FOR UPDATE on PostgreSQL."""
    session.execute(select(Customer.id).where(Customer.id == customer.id).with_for_update())


def ensure_can_manage(actor: Actor, customer: Customer) -> None:
    """Rule 1: only owners and billing managers of a team customer manage it.

    A vendor token reaches only its own organization's customers (checked when they are looked up)."""
    if actor.member is not None:
        if actor.member.customer_id != customer.id:
            raise NotFound("Member not found.")
        if not actor.member.is_manager:
            raise NotPermitted("Only the team's owner and billing managers can manage the team.")
    if customer.type is not CustomerType.TEAM:
        raise NotPermitted(TEAM_PLAN_REQUIRED)


def _clean_name(name: str | None) -> str | None:
    name = (name or "").strip()
    if len(name) > NAME_MAX:
        raise RuleViolation(f"The name can be at most {NAME_MAX} characters.", field="name")
    return name or None


def _snapshot(member: Member) -> dict:
    return {"email": member.email, "name": member.name, "role": member.role.value}


def find_live_member(session: Session, customer: Customer, email: str) -> Member | None:
    return session.scalar(
        select(Member).where(
            Member.customer_id == customer.id,
            Member.deleted_at.is_(None),
            func.lower(Member.email) == email.lower(),
        )
    )


def get_member(session: Session, customer: Customer, member_id) -> Member:
    """A live member of this customer; any other id (another team's too) is simply not found."""
    try:
        mid = member_id if isinstance(member_id, uuid.UUID) else uuid.UUID(str(member_id))
    except ValueError:
        raise NotFound("Member not found.") from None
    member = session.scalar(
        select(Member).where(
            Member.id == mid, Member.customer_id == customer.id, Member.deleted_at.is_(None)
        )
    )
    if member is None:
        raise NotFound("Member not found.")
    return member


def get_member_by_external_id(session: Session, customer: Customer, external_id: str) -> Member:
    member = session.scalar(
        select(Member).where(
            Member.customer_id == customer.id,
            Member.external_id == external_id,
            Member.deleted_at.is_(None),
        )
    )
    if member is None:
        raise NotFound("Member not found.")
    return member


def list_members(
    session: Session,
    actor: Actor,
    customer: Customer,
    *,
    query: str | None = None,
    role: Role | None = None,
    page: int = 1,
    limit: int = 25,
    newest_first: bool = False,
) -> Page:
    """One page of live members in a stable order (created_at, then id): two queries whatever the size."""
    ensure_can_manage(actor, customer)
    page, limit = max(1, page), max(1, min(limit, 100))
    where = [Member.customer_id == customer.id, Member.deleted_at.is_(None)]
    if query:
        needle = f"%{query.strip().lower()}%"
        where.append(or_(func.lower(Member.email).like(needle), func.lower(Member.name).like(needle)))
    if role is not None:
        where.append(Member.role == role)
    total = session.scalar(select(func.count(Member.id)).where(*where)) or 0
    order = (Member.created_at.desc(), Member.id.desc()) if newest_first else (Member.created_at, Member.id)
    items = list(
        session.scalars(
            select(Member).where(*where).order_by(*order).offset((page - 1) * limit).limit(limit)
        )
    )
    return Page(items=items, total=total, page=page, limit=limit)


def add_member(
    session: Session,
    actor: Actor,
    customer: Customer,
    *,
    email: str,
    name: str | None = None,
    role: Role = Role.MEMBER,
    external_id: str | None = None,
) -> tuple[Member, bool]:
    """Add a person to the team; returns (member, created).

    Rules: managers of team customers only (1); nobody is added as owner (3); an email that is
    already a live member (any case) returns that member unchanged (6); the external id is
    unique in the team; the customer row is locked first (8)."""
    ensure_can_manage(actor, customer)
    role = Role(role)
    if role is Role.OWNER:
        raise RuleViolation(
            "Cannot add a member as owner. There must be exactly one owner; "
            "add them, then transfer ownership.",
            field="role",
        )
    normalized = normalize_email(email)
    name = _clean_name(name)
    external_id = (external_id or "").strip() or None
    lock_customer(session, customer)
    existing = find_live_member(session, customer, normalized)
    if existing is not None:
        return existing, False
    if external_id and session.scalar(
        select(Member.id).where(
            Member.customer_id == customer.id,
            Member.external_id == external_id,
            Member.deleted_at.is_(None),
        )
    ):
        raise RuleViolation("A member with this external id already exists.", field="external_id")
    member = Member(customer_id=customer.id, customer=customer, email=email.strip(), name=name,
                    role=role, external_id=external_id)
    session.add(member)
    session.flush()
    activity.record(session, actor, customer, "member.added", subject_type="member",
                    subject_id=member.id, subject_label=member.email, after=_snapshot(member))
    return member, True


def update_member(
    session: Session,
    actor: Actor,
    customer: Customer,
    member_id,
    *,
    name=UNSET,
    role=UNSET,
    email=UNSET,
) -> Member:
    """Edit a member's name, role or email.

    Rules: managers only (1); making someone owner is a transfer, done by the owner or the
    vendor, and the old owner becomes billing manager (3); you cannot change your own role (4);
    the owner cannot be demoted (5); emails stay unique in the team; the customer is locked (8)."""
    ensure_can_manage(actor, customer)
    lock_customer(session, customer)
    member = get_member(session, customer, member_id)
    before = _snapshot(member)
    if name is not UNSET:
        member.name = _clean_name(name)
    if email is not UNSET and email is not None:
        normalized = normalize_email(email)
        clash = find_live_member(session, customer, normalized)
        if clash is not None and clash.id != member.id:
            raise RuleViolation("A member with this email already exists for this customer.",
                                field="email")
        member.email = email.strip()
        seats.follow_member_email(session, member)
    if role is not UNSET and role is not None and Role(role) is not member.role:
        role = Role(role)
        if actor.member is not None and actor.member.id == member.id:
            raise RuleViolation("You cannot change your own role.", field="id")
        if role is Role.OWNER:
            return _transfer(session, actor, customer, member, before)
        if member.role is Role.OWNER:
            raise RuleViolation(
                "The owner cannot be demoted. Make someone else owner first.", field="role"
            )
        member.role = role
    session.flush()
    after = _snapshot(member)
    if after != before:
        activity.record(session, actor, customer, "member.updated", subject_type="member",
                        subject_id=member.id, subject_label=member.email,
                        before={k: v for k, v in before.items() if before[k] != after[k]},
                        after={k: v for k, v in after.items() if before[k] != after[k]})
    return member


def transfer_ownership(session: Session, actor: Actor, customer: Customer, member_id) -> Member:
    """Make another member owner (rule 3); the old owner becomes billing manager."""
    return update_member(session, actor, customer, member_id, role=Role.OWNER)


def _transfer(session: Session, actor: Actor, customer: Customer, member: Member, before: dict) -> Member:
    if actor.member is not None and actor.member.role is not Role.OWNER:
        raise RuleViolation("Only the owner can transfer ownership.", field="role")
    old_owner = session.scalar(
        select(Member).where(
            Member.customer_id == customer.id, Member.role == Role.OWNER, Member.deleted_at.is_(None)
        )
    )
    # Demote first: the one-live-owner index is checked row by row.
    if old_owner is not None:
        old_owner.role = Role.BILLING_MANAGER
        session.flush()
    member.role = Role.OWNER
    session.flush()
    activity.record(session, actor, customer, "ownership.transferred", subject_type="member",
                    subject_id=member.id, subject_label=member.email,
                    before={"owner": old_owner.email if old_owner else None, "role": before["role"]},
                    after={"owner": member.email,
                           "previous_owner_role": Role.BILLING_MANAGER.value if old_owner else None})
    return member


def remove_member(session: Session, actor: Actor, customer: Customer, member_id) -> Member:
    """Remove a member: soft delete, revoke their seats, end their sessions (rule 7).

    Rules: managers only (1); not yourself (4); not the owner (5); the customer is locked (8)."""
    ensure_can_manage(actor, customer)
    lock_customer(session, customer)
    member = get_member(session, customer, member_id)
    if actor.member is not None and actor.member.id == member.id:
        raise RuleViolation("You cannot remove yourself from the team.", field="id")
    if member.role is Role.OWNER:
        raise RuleViolation("The owner cannot be removed. Transfer ownership first.", field="id")
    member.deleted_at = utcnow()
    revoked = seats.revoke_member_seats(session, member)
    ended = sessions.end_member_sessions(session, member)
    session.flush()
    activity.record(session, actor, customer, "member.removed", subject_type="member",
                    subject_id=member.id, subject_label=member.email, before=_snapshot(member),
                    after={"seats_revoked": revoked, "sessions_ended": ended})
    return member

