"""Vendors and their customers: organizations, access tokens, team customers, seat subscriptions."""
from __future__ import annotations

import re

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, lazyload

from .. import text
from ..errors import NotFound, PortalError, RuleViolation
from ..models import (
    Customer,
    CustomerType,
    Member,
    Organization,
    OrganizationToken,
    Role,
    Seat,
    SeatStatus,
    Subscription,
    utcnow,
)
from ..security import hash_token, new_token
from . import activity, webhooks
from .access import MEMBER_ANSWER_COLUMNS, Actor, get_member
from .ids import parse_id
from .signin import normalize_email

SCOPES = (
    "members:read",
    "members:write",
    "customer_seats:read",
    "customer_seats:write",
    "customer_sessions:write",
    "customers:read",
    "customers:write",
    "organizations:read",
    "organizations:write",
    "webhooks:read",
    "webhooks:write",
    "user_groups:read",
    "user_groups:write",
)
ORG_TOKEN_PREFIX = "polar_oat_"
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
RESERVED_SLUGS = {"v1", "client", "static", "openapi.json", "healthz", "embed"}


# Built once, run with bound values: every request runs this lookup, and building the statement
# costs SQLAlchemy more than SQLite takes to run it (benchmarks/README.md, step 4).
_BY_SLUG = select(Organization).where(Organization.slug == bindparam("slug"))
_LIVE_CUSTOMER = select(Customer).where(
    Customer.id == bindparam("customer_id"),
    Customer.organization_id == bindparam("organization_id"),
    Customer.deleted_at.is_(None),
).options(lazyload(Customer.organization))  # it is `organization`: no join again


def get_organization(session: Session, slug: str) -> Organization:
    org = session.scalar(_BY_SLUG, {"slug": slug})
    if org is None:
        raise NotFound(f"No organization called {slug!r}.")
    return org


def list_organizations(session: Session) -> list[Organization]:
    """Every organization, by slug (the operator's view: the CLI and the development start page)."""
    return list(session.scalars(select(Organization).order_by(Organization.slug)))


def create_organization(session: Session, slug: str, name: str) -> Organization:
    """Rules: the slug is lower-case letters, digits and dashes, not reserved, and unique."""
    slug = (slug or "").strip()
    if not SLUG_RE.match(slug) or slug in RESERVED_SLUGS:
        raise PortalError(
            f"{slug!r} is not a usable slug: use 1-64 lower-case letters, digits and dashes.",
            field="slug",
        )
    if not (name or "").strip():
        raise PortalError("The organization needs a name.", field="name")
    if len(name.strip()) > 256:
        raise PortalError("The organization needs a name of at most 256 characters.", field="name")
    if text.unsafe(name):
        raise PortalError(f"The organization name: {text.MESSAGE}", field="name")
    if session.scalar(select(Organization.id).where(Organization.slug == slug)):
        raise PortalError(f"An organization with the slug {slug!r} already exists.", field="slug")
    org = Organization(slug=slug, name=name.strip(), embed_origins=[], features={"seats": True})
    session.add(org)
    session.flush()
    return org


def create_token(
    session: Session, organization: Organization, scopes: list[str] | None = None, name: str | None = None
) -> tuple[OrganizationToken, str]:
    """Mint an access token; returns the row and the raw token, which is shown only once."""
    scopes = list(dict.fromkeys(scopes or SCOPES))
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise PortalError(
            f"Unknown scope {unknown[0]!r}; choose from {', '.join(SCOPES)}.", field="scope"
        )
    raw = new_token(ORG_TOKEN_PREFIX)
    row = OrganizationToken(
        organization_id=organization.id, token_hash=hash_token(raw), scopes=scopes, name=name
    )
    session.add(row)
    session.flush()
    return row, raw


def create_team(
    session: Session,
    organization: Organization,
    *,
    name: str,
    owner_email: str,
    owner_name: str | None = None,
    external_id: str | None = None,
    actor: Actor | None = None,
    customer_email: str | None = None,
) -> Customer:
    """Create a team customer and its owner member. The customer's email is `customer_email`
    when given (checked like the owner's), else the owner's.

    Rules: the customer's external id is unique within the organization; a team always has
    exactly one owner, created here. Announces customer.created and member.created (25)."""
    email = normalize_email(owner_email)
    if customer_email is not None:
        normalize_email(customer_email)
    name = (name or "").strip()
    if not name:
        raise RuleViolation("A team needs a name.", field="name")
    if len(name) > 256:
        raise RuleViolation("A team needs a name of at most 256 characters.", field="name")
    if text.unsafe(name):
        raise RuleViolation(text.MESSAGE, field="name")
    external_id = (external_id or "").strip() or None
    if external_id and session.scalar(
        select(Customer.id).where(
            Customer.organization_id == organization.id, Customer.external_id == external_id
        )
    ):
        raise RuleViolation(
            f"A customer with the external id {external_id!r} already exists.", field="external_id"
        )
    customer = Customer(
        organization_id=organization.id,
        organization=organization,
        type=CustomerType.TEAM,
        name=name,
        email=(customer_email or owner_email).strip(),
        external_id=external_id,
        customer_metadata={},
    )
    session.add(customer)
    session.flush()
    owner = Member(customer=customer, customer_id=customer.id, email=owner_email.strip(),
                   name=owner_name, role=Role.OWNER)
    session.add(owner)
    session.flush()
    activity.record(
        session, actor or Actor.operator(), customer, "team.created",
        subject_type="member", subject_id=owner.id, subject_label=email,
        after={"team": name, "owner": email},
    )
    webhooks.announce(session, organization, "customer.created", customer)
    webhooks.announce(session, organization, "member.created", owner)
    return customer


_KEEP = object()


def update_customer(
    session: Session, actor: Actor, customer: Customer, *, name=_KEEP, metadata=_KEEP
) -> Customer:
    """Rename a customer or replace its metadata; a change is written to the activity log.

    Rules: a name is 1-256 characters after trimming (a blank one leaves the name as it is).
    A change announces customer.updated (25)."""
    before = {"name": customer.name, "metadata": customer.customer_metadata or {}}
    if name is not _KEEP and name is not None and name.strip():
        if len(name.strip()) > 256:
            raise RuleViolation("A name can be at most 256 characters.", field="name")
        if text.unsafe(name):
            raise RuleViolation(text.MESSAGE, field="name")
        customer.name = name.strip()
    if metadata is not _KEEP:
        customer.customer_metadata = dict(metadata or {})
    after = {"name": customer.name, "metadata": customer.customer_metadata or {}}
    if after != before:
        changed = [key for key in after if after[key] != before[key]]
        activity.record(session, actor, customer, "customer.updated", subject_type="customer",
                        subject_id=customer.id, subject_label=customer.name or str(customer.id),
                        before={k: before[k] for k in changed}, after={k: after[k] for k in changed})
    session.flush()
    if after != before:
        webhooks.announce(session, customer.organization, "customer.updated", customer)
    return customer


def get_customer(session: Session, organization: Organization, customer_id) -> Customer:
    cid = parse_id(customer_id, "Customer not found.")
    customer = session.scalar(_LIVE_CUSTOMER, {"customer_id": cid, "organization_id": organization.id})
    if customer is None:
        raise NotFound("Customer not found.")
    return customer


# The API's single-member read: the columns of its answer (wire.member_body), as a Core row (no
# ORM instances to build: the read changes nothing), from the live member of a live customer of
# the organization.
_LIVE_MEMBER_ROW_OF_CUSTOMER = (
    select(*MEMBER_ANSWER_COLUMNS)
    .join(Customer, Customer.id == Member.customer_id)
    .where(
        Member.id == bindparam("member_id"),
        Customer.id == bindparam("customer_id"),
        Customer.organization_id == bindparam("organization_id"),
        Member.deleted_at.is_(None),
        Customer.deleted_at.is_(None),
    )
)


def get_customer_member(session: Session, organization: Organization, customer_id, member_id):
    """`get_member(get_customer(…), member_id)` in one query when both are there (the API's
    single-member read): a row with the member's id, created_at, modified_at, customer_id, email,
    name, external_id and role. When not, the same two lookups decide which one is not found."""
    cid = parse_id(customer_id, "Customer not found.")
    try:
        mid = parse_id(member_id, "Member not found.")
    except NotFound:
        mid = None
    row = None if mid is None else session.execute(_LIVE_MEMBER_ROW_OF_CUSTOMER, {
        "member_id": mid, "customer_id": cid, "organization_id": organization.id}).first()
    if row is None:
        return get_member(session, get_customer(session, organization, cid), member_id)
    return row


def seats_in_use(session: Session, subscription: Subscription) -> int:
    return session.scalar(
        select(func.count(Seat.id)).where(
            Seat.subscription_id == subscription.id,
            Seat.status.in_([SeatStatus.PENDING, SeatStatus.CLAIMED]),
        )
    ) or 0


def set_seat_count(
    session: Session,
    customer: Customer,
    seats: int,
    *,
    product_name: str | None = None,
    actor: Actor | None = None,
) -> Subscription:
    """Create or update the customer's seat subscription.

    Rules: seats is a whole number from 0 to 1000; it cannot go below the seats in use
    (pending + claimed), counted under a lock on the subscription row."""
    if not isinstance(seats, int) or isinstance(seats, bool) or not 0 <= seats <= 1000:
        raise RuleViolation("Seats must be a whole number from 0 to 1000.", field="seats")
    subscription = session.scalar(
        select(Subscription)
        .where(Subscription.customer_id == customer.id)
        .order_by(Subscription.created_at)
        .limit(1)
        .with_for_update()
    )
    before = None
    if subscription is None:
        subscription = Subscription(
            customer_id=customer.id,
            customer=customer,
            product_name=(product_name or "Team plan").strip()[:256],
            seats=seats,
        )
        session.add(subscription)
    else:
        in_use = seats_in_use(session, subscription)
        if seats < in_use:
            raise RuleViolation(
                f"{in_use} seats are in use (pending or claimed); revoke some before lowering "
                f"the count to {seats}.",
                field="seats",
            )
        before = {"seats": subscription.seats, "product": subscription.product_name}
        subscription.seats = seats
        if product_name:
            subscription.product_name = product_name.strip()[:256]
    session.flush()
    activity.record(
        session, actor or Actor.operator(), customer, "subscription.seats_set",
        subject_type="subscription", subject_id=subscription.id,
        subject_label=subscription.product_name, before=before,
        after={"seats": subscription.seats, "product": subscription.product_name},
    )
    return subscription


MAX_EMBED_ORIGINS = 20


_HOST_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*")


def normalize_origin(raw: str) -> str:
    """`https://app.example.com[:port]`: a scheme and host, nothing else."""
    from urllib.parse import urlsplit

    value = (raw or "").strip().rstrip("/")
    parts = urlsplit(value)
    if (parts.scheme not in {"http", "https"} or not parts.hostname or parts.path
            or parts.query or parts.fragment or parts.username or parts.password):
        raise RuleViolation(
            f"{raw!r} is not an origin: use scheme://host[:port], e.g. https://app.example.com",
            field="origins",
        )
    try:
        port = parts.port
    except ValueError:
        raise RuleViolation(f"{raw!r} is not an origin: its port is invalid.", field="origins") from None
    host = parts.hostname.lower()
    if ":" in host:  # an IPv6 literal: urlsplit drops its brackets
        import ipaddress

        try:
            host = f"[{ipaddress.IPv6Address(host).compressed}]"
        except ValueError:
            host = ""
    elif not _HOST_RE.fullmatch(host):
        host = ""  # a wildcard, a space or a ';' would widen or break frame-ancestors
    if not host:
        raise RuleViolation(
            f"{raw!r} is not an origin: its host may hold only letters, digits, dots and dashes.",
            field="origins",
        )
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def set_embed_origins(session: Session, organization: Organization, origins: list[str]) -> list[str]:
    """Replace the origins allowed to frame this organization's portal (none: not frameable).

    Rules: each is a bare origin (scheme://host[:port]); at most 20; duplicates collapse."""
    cleaned = list(dict.fromkeys(normalize_origin(o) for o in origins))
    if len(cleaned) > MAX_EMBED_ORIGINS:
        raise RuleViolation(f"At most {MAX_EMBED_ORIGINS} origins can be allowed.", field="origins")
    organization.embed_origins = cleaned
    session.flush()
    return cleaned


def change_embed_origins(session: Session, organization: Organization, *, add=(), remove=()) -> list[str]:
    """Add and remove origins in the list allowed to frame the portal, keeping the others.

    Removing an origin that is not allowed is refused, so a typo does not pass silently."""
    current = list(organization.embed_origins or [])
    for raw in remove:
        origin = normalize_origin(raw)
        if origin not in current:
            raise RuleViolation(f"{origin} is not an allowed origin.", field="origins")
        current.remove(origin)
    return set_embed_origins(session, organization, current + list(add))


def list_customers(session: Session, organization: Organization) -> list[tuple[Customer, int]]:
    """The organization's live customers, by name, each with its count of live members
    (customers.member_count: no count of each team)."""
    rows = session.scalars(
        select(Customer).where(Customer.organization_id == organization.id,
                               Customer.deleted_at.is_(None))
        .order_by(func.lower(Customer.name), Customer.id))
    return [(customer, customer.member_count) for customer in rows]


def allow_signin_in_frame(session: Session, organization: Organization, allowed: bool) -> bool:
    """Whether an ended session inside a vendor's iframe may show the sign-in form (default: no;
    the frame tells the host, which mints a new session)."""
    organization.features = {**(organization.features or {}), "signin_in_frame": bool(allowed)}
    session.flush()
    return bool(allowed)


def list_tokens(session: Session, organization: Organization) -> list[OrganizationToken]:
    """The organization's access tokens, newest first (hashes only; nobody can read a token)."""
    return list(session.scalars(
        select(OrganizationToken)
        .where(OrganizationToken.organization_id == organization.id)
        .order_by(OrganizationToken.created_at.desc())
    ))


def revoke_token(session: Session, organization: Organization, token_id) -> OrganizationToken:
    """Revoke an access token of this organization at once. Revoking twice changes nothing."""
    row = session.scalar(select(OrganizationToken).where(
        OrganizationToken.id == parse_id(token_id, "Token not found."),
        OrganizationToken.organization_id == organization.id,
    ))
    if row is None:
        raise NotFound("Token not found.")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
    return row
