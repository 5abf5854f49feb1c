"""The activity log: who did what to whom, written in the caller's transaction."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import text
from ..models import ActivityEvent, Customer
from .access import Actor, ensure_can_manage  # noqa: F401 - Actor re-exported
from .paging import Page, within


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
    "member.left": "left the team:",
    "ownership.transferred": "made owner",
    "subscription.seats_set": "set the seats of",
    "team.filled": "added synthetic members to",
    "seat.assigned": "gave a seat to",
    "seat.invitation_resent": "resent the invitation to",
    "seat.revoked": "revoked the seat of",
    "seat.claimed": "claimed the seat for",
    "group.created": "created the group",
    "group.renamed": "renamed the group",
    "group.policies_changed": "changed the policies of",
    "group.deleted": "deleted the group",
    "group.members_added": "added members to",
    "group.members_removed": "removed members from",
    "group.members_replaced": "set the members of",
}


# Kinds of change the log can be filtered by, and the actions each one covers.
KINDS = {
    "members": ("Members added, changed or removed", ("member.added", "member.updated", "member.removed",
                                                      "member.left", "team.filled")),
    "ownership": ("Ownership transfers", ("ownership.transferred",)),
    "seats": ("Seats and invitations", ("seat.assigned", "seat.invitation_resent", "seat.revoked",
                                        "seat.claimed", "subscription.seats_set")),
    "team": ("Team details", ("team.created", "customer.updated")),
    "groups": ("User groups", ("group.created", "group.renamed", "group.policies_changed",
                               "group.deleted", "group.members_added", "group.members_removed",
                               "group.members_replaced")),
}


def list_events(session: Session, actor: Actor, customer: Customer, *, page: int = 1,
                limit: int = 25, person: str | None = None, kind: str | None = None) -> Page:
    """A team's events, newest first; only its owner and billing managers read them (rule 1).

    `person` keeps the events of one actor (as labelled in the log), `kind` one of KINDS; an
    unknown kind is ignored. Two queries whatever the length of the log; a page past the end
    shows the last one."""
    ensure_can_manage(actor, customer)
    limit = max(1, min(limit, 100))
    where = [ActivityEvent.customer_id == customer.id]
    if person:
        where.append(ActivityEvent.actor_label == person)
    if kind in KINDS:
        where.append(ActivityEvent.action.in_(KINDS[kind][1]))
    total = session.scalar(select(func.count(ActivityEvent.id)).where(*where)) or 0
    page = within(page, total, limit)
    items = list(session.scalars(
        select(ActivityEvent).where(*where)
        .order_by(ActivityEvent.created_at.desc(), ActivityEvent.id.desc())
        .offset((page - 1) * limit).limit(limit)
    ))
    return Page(items=items, total=total, page=page, limit=limit)


def actors(session: Session, actor: Actor, customer: Customer) -> list[str]:
    """Everyone who appears as the doer in the team's log, by name (the person filter's choices)."""
    ensure_can_manage(actor, customer)
    return list(session.scalars(
        select(ActivityEvent.actor_label).where(ActivityEvent.customer_id == customer.id)
        .group_by(ActivityEvent.actor_label).order_by(func.lower(ActivityEvent.actor_label))
        .limit(200)))


def changes(event: ActivityEvent) -> list[tuple[str, object, object]]:
    """(field, before, after) for each value the event mentions, in a stable order; None = absent."""
    before, after = event.before or {}, event.after or {}
    keys = list(dict.fromkeys([*before, *after]))
    return [(key, before.get(key), after.get(key)) for key in keys]


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action.replace(".", " ").replace("_", " "))


# --- the log as sentences ---------------------------------------------------------------------

FIELD_LABELS = {
    "email": "Email", "name": "Name", "role": "Role", "status": "Status", "product": "Product",
    "expires_at": "Link expires", "sent_at": "Sent", "owner": "Owner", "seats": "Seats",
    "members_added": "Members added", "emails": "Their emails", "team": "Team",
    "external_id": "External id", "requested_by": "Asked for by", "member": "Member",
    "previous_owner_role": "The previous owner is now", "previous_link": "Previous link",
    "seats_revoked": "Seats revoked", "sessions_ended": "Sessions ended",
}
VALUE_LABELS = {"owner": "Owner", "billing_manager": "Billing manager", "member": "Member",
                "pending": "Pending", "claimed": "Claimed", "revoked": "Revoked",
                "invitee": "the invitee"}


@dataclass(frozen=True)
class Described:
    """One event as a person reads it: a sentence, the details under it, and how it looks."""

    sentence: str
    details: tuple[str, ...]
    icon: str
    tone: str = ""


def _value(value) -> str:
    from ..web import readable

    if value is None or value == "":
        return "none"
    return VALUE_LABELS.get(value, readable(value)) if isinstance(value, str) else readable(value)


def describe(event: ActivityEvent) -> Described:
    """'Olivia Owner removed Maya Patel', with '2 seats revoked' under it: every action the
    services record reads as a sentence; an unknown one falls back to its label."""
    before, after = event.before or {}, event.after or {}
    who, subject = event.actor_label, event.subject_label
    name = after.get("name") or before.get("name")
    person = f"{name} ({subject})" if name and name != subject else subject
    action = event.action
    if action == "member.added":
        return Described(f"{who} added {person} as {_value(after.get('role', 'member')).lower()}",
                         (), "user-plus", "success")
    if action == "member.removed":
        seats = int(after.get("seats_revoked") or 0)
        detail = (text.counted(seats, "seat") + " revoked",) if seats else ()
        return Described(f"{who} removed {person}", detail + ("Signed out everywhere",), "user-minus", "danger")
    if action == "member.left":
        seats = int(after.get("seats_revoked") or 0)
        detail = (text.counted(seats, "seat") + " revoked",) if seats else ()
        return Described(f"{person} left the team", detail, "user-minus", "danger")
    if action == "member.updated":
        return Described(f"{who} changed {person}", _changes(before, after), "edit")
    if action == "ownership.transferred":
        detail = (f"{before.get('owner')} is now a billing manager",) if before.get("owner") else ()
        return Described(f"{who} made {subject} the owner", detail, "crown")
    if action == "seat.assigned":
        product = after.get("product")
        detail = "An invitation email was sent" if after.get("status", "pending") == "pending" \
            else "Claimed at once, without an email"
        return Described(f"{who} gave a seat{f' on {product}' if product else ''} to {subject}",
                         (detail,), "mail", "success")
    if action == "seat.invitation_resent":
        if after.get("requested_by") == "invitee":
            return Described(f"{subject} asked for a new invitation link", (), "refresh")
        return Described(f"{who} resent the invitation to {subject}",
                         ("The previous link stopped working",), "refresh")
    if action == "seat.revoked":
        return Described(f"{who} revoked the seat of {subject}", ("The seat is free again",), "ban", "danger")
    if action == "seat.claimed":
        return Described(f"{subject} claimed their seat", (), "check", "success")
    if action == "subscription.seats_set":
        was = before.get("seats")
        detail = (f"Was {was}",) if was is not None else ()
        return Described(f"{who} set {subject} to {text.counted(int(after.get('seats') or 0), 'seat')}",
                         detail, "seat")
    if action == "team.created":
        return Described(f"{who} created the team {after.get('team') or ''} with {subject} as owner".replace("  ", " "),
                         (), "users")
    if action == "customer.updated":
        return Described(f"{who} updated the team's details", _changes(before, after), "edit")
    if action == "team.filled":
        return Described(f"{who} added {text.counted(int(after.get('members_added') or 0), 'synthetic member')}",
                         (), "users")
    if action.startswith("group."):
        return _describe_group(event, who, subject, before, after)
    return Described(f"{who} {action_label(action)} {subject}", _changes(before, after), "info")


def _names(emails) -> str:
    return ", ".join(emails or []) or "nobody"


def _describe_group(event: ActivityEvent, who: str, subject: str, before: dict, after: dict) -> Described:
    """The user-group events (rule 23) as sentences naming who was added or removed."""
    action = event.action
    if action == "group.created":
        return Described(f"{who} created the group {subject}", (), "users", "success")
    if action == "group.renamed":
        return Described(f"{who} renamed the group {before.get('name')} to {after.get('name')}", (), "edit")
    if action == "group.policies_changed":
        return Described(f"{who} changed the policies of {subject}",  # "N now"
                         (f"Policies: {int(after.get('policies') or 0)} now",),
                         "edit")
    if action == "group.deleted":
        lost = after.get("members_removed") or []
        detail = (f"{text.counted(len(lost), 'member')} lost the group: {_names(lost)}",) if lost else ()
        return Described(f"{who} deleted the group {before.get('name') or subject}", detail, "ban", "danger")
    if action == "group.members_added":
        return Described(f"{who} added {_names(after.get('members'))} to {subject}", (), "user-plus", "success")
    if action == "group.members_removed":
        detail = ("They left the team",) if after.get("reason") else ()
        return Described(f"{who} removed {_names(after.get('members'))} from {subject}", detail,
                         "user-minus", "danger")
    details = tuple(f"{label}: {_names(after.get(key))}" for key, label in
                    (("added", "Added"), ("removed", "Removed")) if after.get(key))
    return Described(f"{who} set the members of {subject}", details, "users")


def _changes(before: dict, after: dict) -> tuple[str, ...]:
    lines = []
    for key in dict.fromkeys([*before, *after]):
        label = FIELD_LABELS.get(key, key.replace("_", " ").capitalize())
        old, new = before.get(key), after.get(key)
        lines.append(f"{label}: {_value(old)} → {_value(new)}" if key in before else f"{label}: {_value(new)}")
    return tuple(lines)
