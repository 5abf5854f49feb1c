"""Polar's JSON bodies for a Member, a CustomerSeat and a Customer, built from rows.

Plain functions on models only, so both the API (app/api/schemas.py validates them into its
response models) and the services (webhook payloads, app/services/webhooks.py) use the very same
bodies without importing each other: the SDK's models load what the API answers and what a
webhook carries alike (shared/reference/wire-contract.md §3.2, §3.5, §8)."""
from __future__ import annotations

import hashlib
from datetime import datetime


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a `Z`, as Polar sends datetimes."""
    if value is None:
        return None
    return value.isoformat().replace("+00:00", "Z")


def member_body(m) -> dict:
    return {"id": str(m.id), "created_at": iso(m.created_at), "modified_at": iso(m.modified_at),
            "customer_id": str(m.customer_id), "email": m.email, "name": m.name,
            "external_id": m.external_id, "role": m.role.value}


def seat_body(seat) -> dict:
    pending = seat.status.value == "pending"
    return {
        "created_at": iso(seat.created_at), "modified_at": iso(seat.modified_at),
        "id": str(seat.id), "subscription_id": str(seat.subscription_id), "order_id": None,
        "status": seat.status.value, "customer_id": str(seat.subscription.customer_id),
        "member_id": str(seat.member_id) if seat.member_id else None,
        "member": member_body(seat.member) if seat.member is not None else None,
        "email": seat.email, "customer_email": None,
        "invitation_token_expires_at": iso(seat.invitation_expires_at) if pending else None,
        "claimed_at": iso(seat.claimed_at), "revoked_at": iso(seat.revoked_at),
        "seat_metadata": seat.seat_metadata,
    }


def customer_body(c) -> dict:
    return {"id": str(c.id), "created_at": iso(c.created_at), "modified_at": iso(c.modified_at),
            "metadata": c.customer_metadata or {}, "external_id": c.external_id, "email": c.email,
            "email_verified": False, "type": c.type.value, "name": c.name, "billing_name": None,
            "billing_address": None, "tax_id": None, "locale": None,
            "organization_id": str(c.organization_id), "default_payment_method_id": None,
            "deleted_at": iso(c.deleted_at), "first_user_event_at": None,
            "avatar_url": avatar_url(c.email, str(c.id))}


def avatar_url(email: str | None, fallback: str) -> str:
    """A customer's avatar, derived from its email as Polar does: a Gravatar URL (SHA-256 of the
    trimmed, lowercased email) with `d=404`, so a client whose image fails shows its own
    placeholder. Without an email, the same kind of URL from `fallback` (the customer id)."""
    key = (email or "").strip().lower() or fallback
    return f"https://www.gravatar.com/avatar/{hashlib.sha256(key.encode()).hexdigest()}?d=404"
