"""The activity log: who did what to whom, written in the caller's transaction."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .paging import Page, within

from ..models import ActivityEvent, Customer, Member, OrganizationToken


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


def record(
    session: Session,
    actor: Actor,
    customer: Customer,
    action: str,
    *,
    subject_type: str,
    subject_id: uuid.UUID | None,
    subject_label: str,
    before: dict | None = None,
    after: dict | None = None,
) -> ActivityEvent:
    event = ActivityEvent(
        organization_id=customer.organization_id,
        customer_id=customer.id,
        actor_member_id=actor.member.id if actor.member else None,
        actor_token_id=actor.token.id if actor.token else None,
        actor_label=actor.label[:400],
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        subject_label=subject_label[:400],
        before=before,
        after=after,
    )
    session.add(event)
    return event


ACTION_LABELS = {
    "team.created": "created the team",
    "customer.updated": "updated the team details of",
    "member.added": "added",
    "member.updated": "changed",
    "member.removed": "removed",
    "ownership.transferred": "made owner",
    "subscription.seats_set": "set the seats of",
    "team.filled": "added synthetic members to",
    "seat.assigned": "gave a seat to",
    "seat.invitation_resent": "resent the invitation to",
    "seat.revoked": "revoked the seat of",
    "seat.claimed": "claimed the seat for",
}


def list_events(session: Session, actor: Actor, customer: Customer, *, page: int = 1,
                limit: int = 25) -> Page:
    """A team's events, newest first; only its owner and billing managers read them (rule 1).

    Two queries whatever the length of the log; a page past the end shows the last one."""
    from .members import ensure_can_manage  # members records events: import here, not at the top

    ensure_can_manage(actor, customer)
    limit = max(1, min(limit, 100))
    where = ActivityEvent.customer_id == customer.id
    total = session.scalar(select(func.count(ActivityEvent.id)).where(where)) or 0
    page = within(page, total, limit)
    items = list(session.scalars(
        select(ActivityEvent).where(where)
        .order_by(ActivityEvent.created_at.desc(), ActivityEvent.id.desc())
        .offset((page - 1) * limit).limit(limit)
    ))
    return Page(items=items, total=total, page=page, limit=limit)


def changes(event: ActivityEvent) -> list[tuple[str, object, object]]:
    """(field, before, after) for each value the event mentions, in a stable order; None = absent."""
    before, after = event.before or {}, event.after or {}
    keys = list(dict.fromkeys([*before, *after]))
    return [(key, before.get(key), after.get(key)) for key in keys]


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action.replace(".", " ").replace("_", " "))
