"""The activity log: who did what to whom, written in the caller's transaction."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

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
    def operator(cls) -> "Actor":
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
