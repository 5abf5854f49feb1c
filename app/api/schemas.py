"""Pydantic models of the wire format (shared/reference/wire-contract.md §3). The same models
validate requests and produce /openapi.json; responses are built from them too.

Business rules (name length, who may do what, seat limits…) live in the services, not here:
these models check only the shape of a request.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlparse

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .. import wire
from ..services.members import NAME_MAX
from .pagination import PageQuery

RoleName = Literal["owner", "billing_manager", "member"]
MetadataValue = str | int | float | bool
Email = str  # checked (and normalised) by the services; documented as format "email"
EXTERNAL_ID_MAX = 256


def _email_field(**kw) -> Any:
    return Field(json_schema_extra={"format": "email"}, **kw)


def _name_field() -> Any:
    # The limit is the members service's rule (checked after trimming), so it is described here
    # rather than enforced a second time.
    return Field(None, description=f"At most {NAME_MAX} characters (after trimming spaces); "
                                   "`\"\"` clears it.")


def _external_id_field(description: str) -> Any:
    return Field(None, max_length=EXTERNAL_ID_MAX, description=description)


# --- errors -------------------------------------------------------------------------------------

class Error(BaseModel):
    error: str
    detail: str


class ValidationIssue(BaseModel):
    loc: list[str | int]
    msg: str
    type: str
    input: Any = None


class HTTPValidationError(BaseModel):
    error: str | None = None
    detail: list[ValidationIssue] | None = None


class CustomerChoice(BaseModel):
    id: uuid.UUID
    member_id: uuid.UUID
    name: str | None


class CustomerSelectionRequired(BaseModel):
    error: Literal["customer_selection_required"]
    detail: str
    customers: list[CustomerChoice]


# --- paths --------------------------------------------------------------------------------------

class IdPath(BaseModel):
    id: uuid.UUID


class CustomerMemberPath(BaseModel):
    id: uuid.UUID
    member_id: uuid.UUID


class ExternalCustomerPath(BaseModel):
    external_id: str


class ExternalMemberPath(BaseModel):
    external_id: str
    member_external_id: str


class ExternalIdPath(BaseModel):
    external_id: str


class SeatPath(BaseModel):
    seat_id: uuid.UUID


class InvitationPath(BaseModel):
    invitation_token: str


# --- members (organization API) -----------------------------------------------------------------

class Member(BaseModel):
    """A member of a customer."""

    id: uuid.UUID
    created_at: datetime
    modified_at: datetime | None
    customer_id: uuid.UUID
    email: str
    name: str | None
    external_id: str | None
    role: RoleName

    @classmethod
    def from_row(cls, m) -> Member:
        return cls.model_validate(wire.member_body(m))


class MemberCreateFromCustomer(BaseModel):
    email: Email = _email_field()
    name: str | None = _name_field()
    external_id: str | None = _external_id_field("Your id for this member, unique in the customer.")
    role: Literal["member", "billing_manager"] = Field(
        "member", description="Owners are never added: transfer ownership with an update."
    )


class MemberCreate(MemberCreateFromCustomer):
    """The older `POST /v1/members` body: the customer is named in the body."""

    customer_id: uuid.UUID


class MemberUpdate(BaseModel):
    name: str | None = _name_field()
    email: Email | None = _email_field(default=None)
    role: RoleName | None = Field(
        None, description="`owner` transfers ownership; the previous owner becomes billing_manager."
    )


class MemberListQuery(PageQuery):
    role: RoleName | None = None
    sorting: list[Literal["created_at", "-created_at"]] | None = None

    @property
    def newest_first(self) -> bool:
        return not self.sorting or self.sorting[0] == "-created_at"


class LegacyMemberListQuery(MemberListQuery):
    customer_id: str | None = None
    external_customer_id: str | None = None


def _exactly_one_customer(model):
    given = [n for n in ("customer_id", "external_customer_id") if getattr(model, n) is not None]
    if not given:
        raise PydanticCustomError(
            "missing", "One of customer_id or external_customer_id must be provided."
        )
    if len(given) > 1:
        raise PydanticCustomError(
            "value_error", "Only one of customer_id or external_customer_id may be provided."
        )
    return model


class CustomerSelector(BaseModel):
    """`?customer_id=` or `?external_customer_id=`: exactly one."""

    customer_id: str | None = None
    external_customer_id: str | None = None

    _one = model_validator(mode="after")(_exactly_one_customer)


# --- customer portal ----------------------------------------------------------------------------

class CustomerPortalMember(BaseModel):
    id: uuid.UUID
    created_at: datetime
    modified_at: datetime | None
    email: str
    name: str | None
    role: RoleName

    @classmethod
    def from_row(cls, m) -> CustomerPortalMember:
        return cls(id=m.id, created_at=m.created_at, modified_at=m.modified_at, email=m.email,
                   name=m.name, role=m.role.value)


class CustomerPortalMemberCreate(BaseModel):
    email: Email = _email_field()
    name: str | None = _name_field()
    role: RoleName = Field("member", description="`owner` is refused: there is exactly one owner.")


class CustomerPortalMemberUpdate(BaseModel):
    name: str | None = _name_field()
    role: RoleName | None = None


class CustomerCustomerSession(BaseModel):
    expires_at: datetime
    return_url: str | None


class PortalAuthenticatedUser(BaseModel):
    type: Literal["member"]
    name: str | None
    email: str
    customer_id: uuid.UUID
    member_id: uuid.UUID
    role: RoleName


class CustomerPortalCustomer(BaseModel):
    created_at: datetime
    modified_at: datetime | None
    id: uuid.UUID
    email: str | None
    email_verified: bool
    name: str | None
    billing_name: str | None
    billing_address: dict | None
    tax_id: list | None
    oauth_accounts: dict
    type: Literal["individual", "team"]
    avatar_url: str


class CustomerSessionCodeRequest(BaseModel):
    email: Email = _email_field()
    organization_id: uuid.UUID
    customer_id: uuid.UUID | None = Field(None, description="Accepted and ignored: the team is "
                                          "chosen after the code is proven.")


class CustomerSessionCodeAuthenticate(BaseModel):
    code: str = Field(max_length=64)
    email: Email = _email_field()
    organization_id: uuid.UUID
    member_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None


class CustomerSessionCodeAuthenticateResponse(BaseModel):
    token: str


# --- customers ----------------------------------------------------------------------------------

class Customer(BaseModel):
    id: uuid.UUID
    created_at: datetime
    modified_at: datetime | None
    metadata: dict[str, MetadataValue]
    external_id: str | None
    email: str | None
    email_verified: bool
    type: Literal["individual", "team"]
    name: str | None
    billing_name: str | None
    billing_address: dict | None
    tax_id: list | None
    locale: str | None
    organization_id: uuid.UUID
    default_payment_method_id: str | None
    deleted_at: datetime | None
    first_user_event_at: datetime | None
    avatar_url: str = Field(description="A Gravatar URL derived from the email (`d=404`).")

    @classmethod
    def from_row(cls, c) -> Customer:
        return cls.model_validate(wire.customer_body(c))


Metadata = dict[str, MetadataValue]


def _check_metadata(value: Metadata | None) -> Metadata | None:
    if value is None:
        return value
    if len(value) > 50:
        raise ValueError("At most 50 metadata keys.")
    for key, item in value.items():
        if len(key) > 40:
            raise ValueError("Metadata keys are at most 40 characters.")
        if isinstance(item, str) and len(item) > 500:
            raise ValueError("Metadata string values are at most 500 characters.")
    return value


class MemberOwnerCreate(BaseModel):
    email: Email = _email_field()
    name: str | None = _name_field()


class CustomerCreate(BaseModel):
    """A team customer and its owner. The owner is `owner`, or else the customer's email."""

    type: Literal["team"] = Field(description="Only team customers are created through the API.")
    name: str | None = _name_field()
    email: Email | None = _email_field(default=None)
    external_id: str | None = _external_id_field("Your id for this customer, unique in the "
                                                 "organization.")
    owner: MemberOwnerCreate | None = None
    metadata: Metadata | None = None

    _metadata = field_validator("metadata")(_check_metadata)


class CustomerUpdate(BaseModel):
    name: str | None = Field(None, max_length=NAME_MAX)
    metadata: Metadata | None = None

    _metadata = field_validator("metadata")(_check_metadata)


SEARCH_MAX = 320  # as the members and groups searches (services), and an email's length


class CustomerListQuery(PageQuery):
    # Bounded: SQLite refuses a LIKE pattern of 50,000 bytes or more (an error that read as an
    # outage, 503), and no name, email or external id is longer than this anyway.
    email: str | None = Field(None, max_length=SEARCH_MAX)
    query: str | None = Field(None, max_length=SEARCH_MAX,
                              description="Filter by name, email or external id.")


# --- seat subscriptions (our own) ---------------------------------------------------------------

class SeatSubscription(BaseModel):
    """A customer's seat container: a product name and a number of seats."""

    id: uuid.UUID
    created_at: datetime
    modified_at: datetime | None
    customer_id: uuid.UUID
    product_id: uuid.UUID
    product_name: str
    status: str
    seats: int
    seats_in_use: int = Field(description="Pending and claimed seats.")
    available_seats: int


def _seats_field() -> Any:
    return Field(description="Number of seats, 0 to 1000; never below the seats in use.",
                 json_schema_extra={"minimum": 0, "maximum": 1000})


class SubscriptionSeatsSet(BaseModel):
    """Set a customer's seat count, creating its seat subscription the first time."""

    customer_id: str | None = None
    external_customer_id: str | None = None
    seats: int = _seats_field()
    product_name: str | None = Field(None, max_length=256)

    _one = model_validator(mode="after")(_exactly_one_customer)


class SubscriptionSeatsUpdate(BaseModel):
    seats: int = _seats_field()
    product_name: str | None = Field(None, max_length=256)


class SubscriptionListQuery(PageQuery):
    customer_id: str | None = None
    external_customer_id: str | None = None


# --- customer sessions --------------------------------------------------------------------------

class CustomerSessionCreate(BaseModel):
    """Name the customer by `customer_id` or `external_customer_id` (exactly one), and optionally
    the member (`member_id` or `external_member_id`); without one, the session is the owner's."""

    model_config = ConfigDict(populate_by_name=True)

    customer_id: str | None = None
    external_customer_id: str | None = Field(
        None, validation_alias=AliasChoices("external_customer_id", "customer_external_id")
    )
    member_id: str | None = None
    external_member_id: str | None = None
    return_url: str | None = Field(None, max_length=2048, json_schema_extra={"format": "uri"})

    _one = model_validator(mode="after")(_exactly_one_customer)

    @field_validator("return_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parsed = urlparse(value)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError("return_url must be an http(s) URL.")
        return value


class CustomerSession(BaseModel):
    created_at: datetime
    modified_at: datetime | None
    id: uuid.UUID
    token: str
    expires_at: datetime
    return_url: str | None
    customer_portal_url: str
    customer_id: uuid.UUID
    customer: Customer


# --- seats --------------------------------------------------------------------------------------

class CustomerSeat(BaseModel):
    created_at: datetime
    modified_at: datetime | None
    id: uuid.UUID
    subscription_id: uuid.UUID | None
    order_id: uuid.UUID | None
    status: Literal["pending", "claimed", "revoked"]
    customer_id: uuid.UUID | None
    member_id: uuid.UUID | None
    member: Member | None
    email: str | None
    customer_email: str | None
    invitation_token_expires_at: datetime | None
    claimed_at: datetime | None
    revoked_at: datetime | None
    seat_metadata: dict[str, MetadataValue] | None

    @classmethod
    def from_row(cls, seat) -> CustomerSeat:
        return cls.model_validate(wire.seat_body(seat))


class SeatsList(BaseModel):
    seats: list[CustomerSeat]
    available_seats: int
    total_seats: int


class SeatListQuery(BaseModel):
    subscription_id: str | None = None
    order_id: str | None = None


class SeatAssign(BaseModel):
    """Who gets the seat: `email`, `member_id`, `external_member_id` (with or without `email`),
    `customer_id` or `external_customer_id` (the customer's email). Which container: the
    subscription."""

    subscription_id: str | None = None
    order_id: str | None = None
    email: Email | None = _email_field(default=None)
    external_customer_id: str | None = None
    customer_id: str | None = None
    external_member_id: str | None = None
    member_id: str | None = None
    metadata: dict[str, MetadataValue] | None = Field(None, description="At most 10 keys, 1 KB.")
    immediate_claim: StrictBool = False  # `0`, `"yes"`… are refused, not read as booleans


class CustomerSeatAssign(SeatAssign):
    checkout_id: str | None = None


class SeatClaim(BaseModel):
    invitation_token: str = Field(max_length=512)


class SeatClaimInfo(BaseModel):
    product_name: str
    product_id: uuid.UUID
    organization_name: str
    organization_slug: str
    customer_email: str
    can_claim: bool


class CustomerSeatClaimResponse(BaseModel):
    seat: CustomerSeat
    customer_session_token: str
