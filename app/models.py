"""The data model: SQLAlchemy 2 typed models. Integrity rules that the database can hold live here too."""
from __future__ import annotations

import enum
import uuid
from datetime import datetime, UTC

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Boolean,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
    event,
    func,
    inspect,
    text,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from .extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite hands back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Role(str, enum.Enum):
    OWNER = "owner"
    BILLING_MANAGER = "billing_manager"
    MEMBER = "member"

    @property
    def label(self) -> str:
        return {"owner": "Owner", "billing_manager": "Billing manager", "member": "Member"}[self.value]


class CustomerType(str, enum.Enum):
    INDIVIDUAL = "individual"
    TEAM = "team"


class SeatStatus(str, enum.Enum):
    PENDING = "pending"
    CLAIMED = "claimed"
    REVOKED = "revoked"


class EmailStatus(str, enum.Enum):
    QUEUED = "queued"  # waiting for its next attempt (next_attempt_at)
    SENDING = "sending"  # claimed by a worker until locked_until; reclaimed after that
    SENT = "sent"
    FAILED = "failed"  # given up: last_error says why


def _enum(cls, length: int = 20):
    """Enums stored as their plain string values, checked by the database."""
    return db.Enum(
        cls,
        values_callable=lambda e: [m.value for m in e],
        native_enum=False,
        length=length,
        validate_strings=True,
        create_constraint=True,
        name=cls.__name__.lower(),
    )


class TimestampMixin:
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    modified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, onupdate=utcnow)


class Organization(TimestampMixin, db.Model):
    __tablename__ = "organizations"

    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(256))
    # Origins (scheme://host[:port]) allowed to frame this organization's portal.
    embed_origins: Mapped[list] = mapped_column(JSON, default=list)
    # Portal features that are switched on, e.g. {"seats": true, "signin_in_frame": false}.
    features: Mapped[dict] = mapped_column(JSON, default=dict)
    # The brand the portal and its emails wear: an accent colour (#rrggbb, checked for
    # contrast), a logo given as an https URL or uploaded (bytes and type), and the URL of the
    # vendor's product (the "Open …" link on a member's seats).
    accent_color: Mapped[str | None] = mapped_column(String(7))
    logo_url: Mapped[str | None] = mapped_column(String(2048))
    logo_image: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    logo_type: Mapped[str | None] = mapped_column(String(32))
    product_url: Mapped[str | None] = mapped_column(String(2048))


class Customer(TimestampMixin, db.Model):
    __tablename__ = "customers"
    __table_args__ = (
        Index(
            "uq_customers_org_external_id",
            "organization_id",
            "external_id",
            unique=True,
            sqlite_where=text("external_id IS NOT NULL"),
            postgresql_where=text("external_id IS NOT NULL"),
        ),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    type: Mapped[CustomerType] = mapped_column(_enum(CustomerType), default=CustomerType.TEAM)
    email: Mapped[str | None] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String(256))
    external_id: Mapped[str | None] = mapped_column(String(256))
    customer_metadata: Mapped[dict] = mapped_column("metadata", JSON, default=dict)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Live members (deleted_at IS NULL), kept in the transaction that changes them by
    # `count_live_members` below (and by the bulk fill), so no page counts the team (issue 14).
    member_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    organization: Mapped[Organization] = relationship(lazy="joined", innerjoin=True)


class Member(TimestampMixin, db.Model):
    __tablename__ = "members"
    __table_args__ = (
        Index(
            "uq_members_live_email",
            "customer_id",
            func.lower(text("email")),
            unique=True,
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index(
            "uq_members_live_external_id",
            "customer_id",
            "external_id",
            unique=True,
            sqlite_where=text("deleted_at IS NULL AND external_id IS NOT NULL"),
            postgresql_where=text("deleted_at IS NULL AND external_id IS NOT NULL"),
        ),
        Index(
            "uq_members_live_owner",
            "customer_id",
            unique=True,
            sqlite_where=text("deleted_at IS NULL AND role = 'owner'"),
            postgresql_where=text("deleted_at IS NULL AND role = 'owner'"),
        ),
        Index("ix_members_customer_created", "customer_id", "created_at"),
        # The team page and the member list page through live members in (created_at, id)
        # order from these alone (covering: the page's ids, then 25 rows by id). Migration
        # 0007 also adds GIN trigram indexes for the search on PostgreSQL (not declared here:
        # they exist only where pg_trgm does).
        Index("ix_members_live_page", "customer_id", "created_at", "id",
              sqlite_where=text("deleted_at IS NULL"), postgresql_where=text("deleted_at IS NULL")),
        Index("ix_members_live_role", "customer_id", "role", "created_at", "id",
              sqlite_where=text("deleted_at IS NULL"), postgresql_where=text("deleted_at IS NULL")),
    )

    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String(256))
    external_id: Mapped[str | None] = mapped_column(String(256))
    role: Mapped[Role] = mapped_column(_enum(Role), default=Role.MEMBER)
    # active_history: a change always knows the old value (customers.member_count follows it).
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, active_history=True)
    # Member status (rule 22): set at the first proven sign-in, claim or hand-off; never reset.
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    customer: Mapped[Customer] = relationship(lazy="joined", innerjoin=True)

    @property
    def status(self) -> str:
        """`pending` until the person first proves their email here, then `accepted`."""
        return "accepted" if self.accepted_at is not None else "pending"

    @property
    def is_manager(self) -> bool:
        return self.role in (Role.OWNER, Role.BILLING_MANAGER)

    @property
    def display_name(self) -> str:
        return self.name or self.email


class Subscription(TimestampMixin, db.Model):
    """A seat container set by the vendor: a product and a number of seats."""

    __tablename__ = "subscriptions"
    __table_args__ = (CheckConstraint("seats >= 0", name="seats_not_negative"),)

    customer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("customers.id", ondelete="RESTRICT"), index=True
    )
    product_id: Mapped[uuid.UUID] = mapped_column(Uuid, default=uuid.uuid4)
    product_name: Mapped[str] = mapped_column(String(256))
    seats: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default="active")

    customer: Mapped[Customer] = relationship(lazy="joined", innerjoin=True)


class Seat(TimestampMixin, db.Model):
    __tablename__ = "seats"
    __table_args__ = (
        Index(
            "uq_seats_live_email",
            "subscription_id",
            func.lower(text("email")),
            unique=True,
            sqlite_where=text("status IN ('pending', 'claimed')"),
            postgresql_where=text("status IN ('pending', 'claimed')"),
        ),
        Index("ix_seats_subscription_status", "subscription_id", "status"),
        Index("ix_seats_member", "member_id"),
    )

    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE")
    )
    status: Mapped[SeatStatus] = mapped_column(_enum(SeatStatus), default=SeatStatus.PENDING)
    email: Mapped[str | None] = mapped_column(String(320))
    member_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL")
    )
    invitation_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    invitation_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invitation_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    seat_metadata: Mapped[dict | None] = mapped_column(JSON)

    subscription: Mapped[Subscription] = relationship(lazy="joined", innerjoin=True)
    member: Mapped[Member | None] = relationship(lazy="joined")


class SignInToken(TimestampMixin, db.Model):
    """A magic link and its short code. Only hashes are stored."""

    __tablename__ = "signin_tokens"
    __table_args__ = (Index("ix_signin_tokens_org_email", "organization_id", "email", "created_at"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    email: Mapped[str] = mapped_column(String(320))  # normalised (lower case)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    code_attempts: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PortalSession(TimestampMixin, db.Model):
    """A signed-in member: browser sessions, API member sessions and embed hand-offs."""

    __tablename__ = "portal_sessions"

    member_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # browser | api
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    return_url: Mapped[str | None] = mapped_column(String(2048))
    # One-time token carried in the embed URL; exchanged for a browser session.
    handoff_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    handoff_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    member: Mapped[Member] = relationship(lazy="joined", innerjoin=True)


class OrganizationToken(TimestampMixin, db.Model):
    """An organization access token (`polar_oat_…`) with scopes. Only the hash is stored."""

    __tablename__ = "organization_tokens"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(256))
    scopes: Mapped[list] = mapped_column(JSON, default=list)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organization: Mapped[Organization] = relationship(lazy="joined", innerjoin=True)


class UserGroup(TimestampMixin, db.Model):
    """A named set of members of one team customer (DESIGN.md rules 17-23)."""

    __tablename__ = "user_groups"
    __table_args__ = (
        # Rule 18: unique in the team, any case.
        Index("uq_user_groups_name", "customer_id", func.lower(text("name")), unique=True),
    )

    customer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(256))
    # Cloudflare's shape: [{"id", "access", "permission_groups", "resource_groups"}], validated.
    policies: Mapped[list] = mapped_column(JSON, default=list)

    customer: Mapped[Customer] = relationship(lazy="joined", innerjoin=True)


class UserGroupMember(db.Model):
    """A member in a group: who added them, when. Deleting the group deletes these rows."""

    __tablename__ = "user_group_members"
    __table_args__ = (
        UniqueConstraint("group_id", "member_id", name="uq_user_group_members"),
        Index("ix_user_group_members_member", "member_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    group_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_groups.id", ondelete="CASCADE"))
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    added_by: Mapped[str] = mapped_column(String(400))

    member: Mapped[Member] = relationship(lazy="joined", innerjoin=True)


class ActivityEvent(db.Model):
    """Who did what to whom, written in the same transaction as the change."""

    __tablename__ = "activity_events"
    __table_args__ = (Index("ix_activity_customer_created", "customer_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    customer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE")
    )
    actor_member_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL")
    )
    actor_token_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organization_tokens.id", ondelete="SET NULL")
    )
    actor_label: Mapped[str] = mapped_column(String(400))
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    subject_label: Mapped[str] = mapped_column(String(400))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)


class OutboxEmail(TimestampMixin, db.Model):
    """An email written with the change that causes it; delivered by the worker (or a thread
    right after commit), retried with growing delays, and failed with its reason when poisoned."""

    __tablename__ = "outbox_emails"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    organization_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(400))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32))  # signin | invitation | …
    status: Mapped[EmailStatus] = mapped_column(_enum(EmailStatus), default=EmailStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # While `sending`: the claim expires then, so a worker killed mid-send loses nothing.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebhookEndpoint(TimestampMixin, db.Model):
    """A vendor's URL that receives signed events (DESIGN.md rules 24-28)."""

    __tablename__ = "webhook_endpoints"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2048))
    name: Mapped[str | None] = mapped_column(String(256))
    format: Mapped[str] = mapped_column(String(16), default="raw")
    api_version: Mapped[str] = mapped_column(String(16), default="2026-10")
    events: Mapped[list] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # The signing secret (`whsec_…`), Fernet-encrypted with a key derived from SECRET_KEY or
    # WEBHOOK_SECRET_KEY; shown in clear only when created or reset.
    secret_encrypted: Mapped[str] = mapped_column(Text)
    # Set at the first failed attempt after a success; 3 days later the endpoint is disabled.
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_reason: Mapped[str | None] = mapped_column(String(512))

    organization: Mapped[Organization] = relationship(lazy="joined", innerjoin=True)


class WebhookEvent(TimestampMixin, db.Model):
    """One change for one endpoint, written in the transaction of the change; sent by a worker.

    `next_attempt_at` is when it is due (NULL: nothing left to do — delivered, given up or
    skipped). Every attempt carries the same `webhook_id`."""

    __tablename__ = "webhook_events"
    __table_args__ = (
        Index("ix_webhook_events_due", "next_attempt_at"),
        Index("ix_webhook_events_endpoint_created", "endpoint_id", "created_at"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    endpoint_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    type: Mapped[str] = mapped_column(String(64))
    api_version: Mapped[str] = mapped_column(String(16))
    payload: Mapped[str] = mapped_column(Text)
    webhook_id: Mapped[str] = mapped_column(String(64), unique=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Attempts since it was (re)queued: the retry schedule's position; a redelivery resets it.
    round_attempts: Mapped[int] = mapped_column(Integer, default=0)
    succeeded: Mapped[bool | None] = mapped_column(Boolean)
    skipped: Mapped[bool] = mapped_column(Boolean, default=False)
    last_http_code: Mapped[int | None] = mapped_column(Integer)

    endpoint: Mapped[WebhookEndpoint] = relationship(lazy="joined", innerjoin=True)


class WebhookDelivery(TimestampMixin, db.Model):
    """One attempt to send an event: its outcome, how long it took, the first KB of the answer."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_event", "event_id", "created_at"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook_events.id", ondelete="CASCADE"))
    succeeded: Mapped[bool] = mapped_column(Boolean)
    http_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[str | None] = mapped_column(Text)  # first KB of the body, or the error
    duration_ms: Mapped[int] = mapped_column(Integer)

    event: Mapped[WebhookEvent] = relationship(lazy="joined", innerjoin=True)


OPTIONAL_INDEXES = ("ix_members_live_email_trgm", "ix_members_live_name_trgm")


def migrations_compare(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's include_object: the pg_trgm indexes of migration 0007 exist only where the
    extension does, so they are not in the models and autogenerate must not drop them."""
    return not (type_ == "index" and name in OPTIONAL_INDEXES)


# --- customers.member_count -------------------------------------------------------------------

def _live(member: Member, *, before: bool) -> bool:
    """Was (before=True) or is the member live, by the deleted_at of the pending flush."""
    if not before:
        return member.deleted_at is None
    history = inspect(member).attrs.deleted_at.history
    if history.deleted:  # active_history: the value it had before this flush
        return history.deleted[0] is None
    return member.deleted_at is None


def add_to_member_count(connection, customer_id, delta: int) -> None:
    """customers.member_count += delta, in SQL (atomic under concurrent writers)."""
    if delta:
        connection.execute(update(Customer.__table__).where(Customer.__table__.c.id == customer_id)
                           .values(member_count=Customer.__table__.c.member_count + delta))


@event.listens_for(Session, "after_flush")
def count_live_members(session: Session, _context) -> None:
    """Keep customers.member_count equal to the customer's live members, in the same flush
    (so the same transaction) as the insert, soft delete, undelete or delete of a Member done
    through the ORM. A database trigger would fire once per row of a 100,000-row bulk fill;
    the bulk fill (members.fill_synthetic) adds its count itself."""
    deltas: dict = {}
    for member in session.new:
        if isinstance(member, Member) and member.deleted_at is None:
            deltas[member.customer_id] = deltas.get(member.customer_id, 0) + 1
    for member in session.dirty:
        if isinstance(member, Member):
            was, now = _live(member, before=True), _live(member, before=False)
            if was != now:
                deltas[member.customer_id] = deltas.get(member.customer_id, 0) + (1 if now else -1)
    for member in session.deleted:
        if isinstance(member, Member) and _live(member, before=True):
            deltas[member.customer_id] = deltas.get(member.customer_id, 0) - 1
    deltas = {cid: d for cid, d in deltas.items() if d and cid is not None}
    if not deltas:
        return
    connection = session.connection()
    for customer_id, delta in deltas.items():
        add_to_member_count(connection, customer_id, delta)
    session.info.setdefault("stale_member_counts", set()).update(deltas)


@event.listens_for(Session, "after_flush_postexec")
def _expire_member_counts(session: Session, _context) -> None:
    """A loaded Customer re-reads member_count after the UPDATE above."""
    for customer_id in session.info.pop("stale_member_counts", ()):
        customer = session.identity_map.get((Customer, (customer_id,), None))
        if customer is not None:
            session.expire(customer, ["member_count"])
