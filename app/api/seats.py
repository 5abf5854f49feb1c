"""Seats: the organization's `/v1/customer-seats…` (with the public claim endpoints) and the
member's `/v1/customer-portal/seats…`. Every rule is the seats service's."""
from __future__ import annotations

import uuid

from flask import current_app, g
from sqlalchemy import select

from ..errors import InvalidToken, NotFound
from ..extensions import db
from ..models import Customer as CustomerRow
from ..models import Seat as SeatRow
from ..models import Subscription
from ..ratelimits import client_limit
from ..services import members as member_service
from ..services import seats as seat_service
from ..services import sessions as session_service
from . import bp
from .auth import member, org
from .customers import customer_from
from .errors import ApiError, issue, validation_error
from .routing import operation
from .schemas import (
    CustomerSeat,
    CustomerSeatAssign,
    CustomerSeatClaimResponse,
    InvitationPath,
    SeatAssign,
    SeatClaim,
    SeatClaimInfo,
    SeatListQuery,
    SeatPath,
    SeatsList,
)

READ = org("customer_seats:read", "customer_seats:write")
WRITE = org("customer_seats:write")
TAG = "customer seats"
PORTAL_TAG = "customer portal: seats"


def seat_out(seat: SeatRow) -> CustomerSeat:
    return CustomerSeat.from_row(seat)


def seats_out(listed) -> SeatsList:
    return SeatsList(seats=[seat_out(s) for s in listed.seats], available_seats=listed.available,
                     total_seats=listed.total)


def _base_url() -> str:
    return current_app.config["BASE_URL"]


def _no_orders() -> NotFound:
    return NotFound("Order not found: seats here belong to subscriptions.")


# --- organization: containers and seats are found within the token's organization ----------------

def _org_subscription(subscription_id: str | None, order_id: str | None) -> Subscription:
    if subscription_id is None:
        if order_id is not None:
            raise _no_orders()
        raise ApiError(400, "BadRequest", "Either subscription_id or order_id must be provided.")
    sub = _in_organization(Subscription, subscription_id, Subscription.customer_id)
    if sub is None:
        raise NotFound("Subscription not found.")
    return sub


def _org_seat(seat_id) -> SeatRow:
    seat = db.session.scalar(
        select(SeatRow).join(Subscription, SeatRow.subscription_id == Subscription.id)
        .join(CustomerRow, Subscription.customer_id == CustomerRow.id)
        .where(SeatRow.id == seat_id, CustomerRow.organization_id == g.organization.id)
    )
    if seat is None:
        raise NotFound("Seat not found.")
    return seat


def _in_organization(model, object_id: str, customer_column):
    try:
        oid = uuid.UUID(str(object_id))
    except ValueError:
        return None
    return db.session.scalar(
        select(model).join(CustomerRow, customer_column == CustomerRow.id)
        .where(model.id == oid, CustomerRow.organization_id == g.organization.id,
               CustomerRow.deleted_at.is_(None))
    )


def _recipient(customer: CustomerRow, body: SeatAssign, *, portal: bool):
    """(member, email) for the seat service from the ways a request may name the person."""
    by_customer = body.customer_id is not None or body.external_customer_id is not None
    by_member = body.member_id is not None or body.external_member_id is not None
    if by_customer and (by_member or portal):
        field = "customer_id" if body.customer_id is not None else "external_customer_id"
        raise validation_error([issue(["body", field], "Name the person by email or member, not "
                                      "by customer, here." if portal else
                                      "Customer ids cannot be combined with member ids.")])
    if by_customer:
        try:
            named = customer_from(body.customer_id, body.external_customer_id)
        except NotFound:
            raise ApiError(400, "BadRequest", "Customer not found for the provided customer_id or "
                           "external_customer_id.") from None
        return None, named.email
    if body.member_id is not None:
        return member_service.get_member(db.session, customer, body.member_id), body.email
    if body.external_member_id is not None:
        try:
            return (member_service.get_member_by_external_id(db.session, customer,
                                                             body.external_member_id), body.email)
        except NotFound:
            if not body.email:
                raise
        person, _created = member_service.add_member(
            db.session, g.actor, customer, email=body.email, external_id=body.external_member_id)
        return person, body.email
    return None, body.email


def _assign(subscription: Subscription, body: SeatAssign, *, portal: bool) -> CustomerSeat:
    if body.order_id is not None or getattr(body, "checkout_id", None) is not None:
        raise _no_orders()
    person, email = _recipient(subscription.customer, body, portal=portal)
    seat = seat_service.assign_seat(
        db.session, g.actor, subscription, email=email, member=person, metadata=body.metadata,
        immediate_claim=body.immediate_claim, base_url=_base_url(),
    )
    return seat_out(seat)


@operation(bp, "GET", "/customer-seats", "customer_seats:list_seats", tag=TAG,
           summary="List a subscription's seats", auth=READ, query=SeatListQuery,
           response=SeatsList, errors=(400, 404))
def list_seats(query: SeatListQuery):
    """Scopes: `customer_seats:read` `customer_seats:write`."""
    subscription = _org_subscription(query.subscription_id, query.order_id)
    return seats_out(seat_service.list_seats(db.session, g.actor, subscription))


@operation(bp, "POST", "/customer-seats", "customer_seats:assign_seat", tag=TAG,
           summary="Assign a seat", auth=WRITE, body=SeatAssign, response=CustomerSeat,
           errors=(400, 404, 429))
def assign_seat(body: SeatAssign):
    """Gives a free seat of `subscription_id` to a person (created as a member if needed) and
    emails them a claim link, or claims it at once with `immediate_claim`. 400 when no seat is
    free or the person already has one. Scope: `customer_seats:write`."""
    return _assign(_org_subscription(body.subscription_id, body.order_id), body, portal=False)


@operation(bp, "DELETE", "/customer-seats/<seat_id>", "customer_seats:revoke_seat", tag=TAG,
           summary="Revoke a seat", auth=WRITE, path=SeatPath, response=CustomerSeat)
def revoke_seat(path: SeatPath):
    """Frees the seat at once; its link stops working. Revoking twice changes nothing. Scope:
    `customer_seats:write`."""
    return seat_out(seat_service.revoke_seat(db.session, g.actor, _org_seat(path.seat_id)))


@operation(bp, "POST", "/customer-seats/<seat_id>/resend", "customer_seats:resend_invitation",
           tag=TAG, summary="Resend a seat invitation", auth=WRITE, path=SeatPath,
           response=CustomerSeat, errors=(400, 429))
def resend_invitation(path: SeatPath):
    """Sends a NEW link with a fresh expiry; the previous link stops working. Pending seats
    only (400 otherwise); at most once a minute per seat (429). Scope: `customer_seats:write`."""
    seat = seat_service.resend_invitation(db.session, g.actor, _org_seat(path.seat_id),
                                          base_url=_base_url())
    return seat_out(seat)


@operation(bp, "GET", "/customer-seats/claim/<invitation_token>", "customer_seats:get_claim_info",
           tag=TAG, summary="What an invitation offers", auth=None, path=InvitationPath,
           response=SeatClaimInfo, errors=(404,))
def get_claim_info(path: InvitationPath):
    """Public, and changes nothing (mail scanners open links). 404 for a link that is unknown,
    expired, used, replaced or revoked, with the reason in `detail`."""
    try:
        seat = seat_service.claim_info(db.session, path.invitation_token)
    except InvalidToken as exc:
        raise ApiError(404, "ResourceNotFound", exc.message) from None
    customer = seat.subscription.customer
    return SeatClaimInfo(
        product_name=seat.subscription.product_name, product_id=seat.subscription.product_id,
        organization_name=customer.organization.name, organization_slug=customer.organization.slug,
        customer_email=seat.email or "", can_claim=True,
    )


@operation(bp, "POST", "/customer-seats/claim", "customer_seats:claim_seat", tag=TAG,
           summary="Claim a seat", auth=None, body=SeatClaim, response=CustomerSeatClaimResponse,
           errors=(400, 429), decorators=(client_limit,))
def claim_seat(body: SeatClaim):
    """Public: the invitation token is the credential. Claims the seat (single use) and returns
    a member session token for the customer-portal API. 400 `InvalidInvitationToken` for a
    link that is unknown, expired, used, replaced or revoked."""
    seat, person = seat_service.claim_seat(db.session, body.invitation_token)
    _row, token, _handoff = session_service.start_api_session(db.session, person)
    return CustomerSeatClaimResponse(seat=seat_out(seat), customer_session_token=token)


# --- customer portal (member session) ------------------------------------------------------------

def _portal_subscription(subscription_id: str | None, order_id: str | None = None) -> Subscription:
    customer = g.member.customer
    if subscription_id is not None:
        return seat_service.get_subscription(db.session, customer, subscription_id)
    if order_id is not None:
        raise _no_orders()
    first = db.session.scalar(select(Subscription).where(Subscription.customer_id == customer.id)
                              .order_by(Subscription.created_at, Subscription.id).limit(1))
    if first is None:
        raise NotFound("Subscription not found: this team has no seats.")
    return first


@operation(bp, "GET", "/customer-portal/seats", "customer_portal:seats:list_seats",
           tag=PORTAL_TAG, summary="List the team's seats", auth=member(), query=SeatListQuery,
           response=SeatsList, errors=(403, 404))
def portal_list_seats(query: SeatListQuery):
    """Any member of the team may read them. Without `subscription_id`, the team's first (usually
    only) seat subscription."""
    subscription = _portal_subscription(query.subscription_id, query.order_id)
    return seats_out(seat_service.list_seats(db.session, g.actor, subscription))


@operation(bp, "POST", "/customer-portal/seats", "customer_portal:seats:assign_seat",
           tag=PORTAL_TAG, summary="Assign a seat", auth=member(), body=CustomerSeatAssign,
           response=CustomerSeat, errors=(400, 403, 404, 429))
def portal_assign_seat(body: CustomerSeatAssign):
    """Owners and billing managers. Name the person by `email`, `member_id` or
    `external_member_id`."""
    return _assign(_portal_subscription(body.subscription_id), body, portal=True)


@operation(bp, "DELETE", "/customer-portal/seats/<seat_id>", "customer_portal:seats:revoke_seat",
           tag=PORTAL_TAG, summary="Revoke a seat", auth=member(), path=SeatPath,
           response=CustomerSeat, errors=(403,))
def portal_revoke_seat(path: SeatPath):
    """Owners and billing managers."""
    seat = seat_service.get_seat(db.session, g.member.customer, path.seat_id)
    return seat_out(seat_service.revoke_seat(db.session, g.actor, seat))


@operation(bp, "POST", "/customer-portal/seats/<seat_id>/resend",
           "customer_portal:seats:resend_invitation", tag=PORTAL_TAG,
           summary="Resend a seat invitation", auth=member(), path=SeatPath,
           response=CustomerSeat, errors=(400, 403, 429))
def portal_resend_invitation(path: SeatPath):
    """Owners and billing managers; a new link, the old one stops working."""
    seat = seat_service.get_seat(db.session, g.member.customer, path.seat_id)
    return seat_out(seat_service.resend_invitation(db.session, g.actor, seat,
                                                   base_url=_base_url()))
