"""Who may manage a team, and the customer lock (DESIGN.md rules 1, 8 and 17).

The bottom of the services: it imports only the models, the errors and `ids`, so every other
service (activity, invitations, seats, groups, members, organizations) takes its access checks
from here and the services form a straight line of dependencies:
access → activity → invitations → seats → groups → members."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, func, select, type_coerce
from sqlalchemy.orm import Session, lazyload

from ..errors import NotFound, NotPermitted
from ..models import Customer, CustomerType, Member, OrganizationToken
from .ids import UuidText, parse_id

# A member as the API answers it (app/wire.member_body), read as a plain row: no ORM instance,
# ids as text.
MEMBER_ANSWER_COLUMNS = (
    type_coerce(Member.id, UuidText()).label("id"), Member.created_at, Member.modified_at,
    type_coerce(Member.customer_id, UuidText()).label("customer_id"), Member.email, Member.name,
    Member.external_id, Member.role,
)

TEAM_PLAN_REQUIRED = (
    "Team management is only available for team customers. "
    "Purchase a seat-based plan to enable team features."
)


@dataclass(frozen=True)
class Actor:
    """Who is acting: a member (portal) or an organization token (API), or the operator (CLI)."""

    member: Member | None = None
    token: OrganizationToken | None = None
    label_override: str | None = None

    @property
    def label(self) -> str:
        if self.label_override:
            return self.label_override
        if self.member is not None:
            return self.member.display_name
        if self.token is not None:
            return f"API token {self.token.name or str(self.token.id)[:8]}"
        return "Operator"

    @classmethod
    def operator(cls) -> Actor:
        return cls(label_override="Operator (CLI)")


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
    elif actor.token is not None and actor.token.organization_id != customer.organization_id:
        raise NotFound("Customer not found.")
    if customer.type is not CustomerType.TEAM:
        raise NotPermitted(TEAM_PLAN_REQUIRED)


def begin_mutation(session: Session, actor: Actor, customer: Customer) -> None:
    """Check rule 1, take the customer lock (rule 8), then check rule 1 again on fresh data.

    The acting member was loaded before the lock; a concurrent request may have demoted or
    removed them meanwhile, so their row is re-read once the lock is held."""
    ensure_can_manage(actor, customer)
    lock_customer(session, customer)
    if actor.member is not None:
        session.refresh(actor.member)
        if actor.member.deleted_at is not None:
            raise NotPermitted("You are no longer a member of this team.")
        ensure_can_manage(actor, customer)


def find_live_member(session: Session, customer: Customer, email: str) -> Member | None:
    return session.scalar(
        select(Member).where(
            Member.customer_id == customer.id,
            Member.deleted_at.is_(None),
            func.lower(Member.email) == email.lower(),
        )
    )


# Built once, run with bound values: every request runs this lookup, and building the statement
# costs SQLAlchemy more than SQLite takes to run it (benchmarks/README.md, step 4).
_LIVE_MEMBER = (
    select(Member)
    .where(Member.id == bindparam("member_id"), Member.customer_id == bindparam("customer_id"),
           Member.deleted_at.is_(None))
    .options(lazyload(Member.customer))  # it is `customer`, already loaded: no join again
    .execution_options(populate_existing=True)
)


def get_member(session: Session, customer: Customer, member_id) -> Member:
    """A live member of this customer; any other id (another team's too) is simply not found."""
    mid = parse_id(member_id, "Member not found.")
    member = session.scalar(_LIVE_MEMBER, {"member_id": mid, "customer_id": customer.id})
    if member is None:
        raise NotFound("Member not found.")
    return member
