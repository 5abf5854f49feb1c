"""Seat subscriptions (our own API, not Polar's): how many seats a customer has bought.

A customer has one seat subscription; `POST /v1/subscriptions` creates it the first time and
sets its seat count afterwards. The count never goes below the seats in use (422)."""
from __future__ import annotations

from flask import g
from sqlalchemy import select

from ..errors import NotFound
from ..extensions import db
from ..models import Customer as CustomerRow
from ..models import Subscription
from ..services import organizations
from ..services import seats as seat_service
from . import bp
from .auth import org
from .customers import customer_from
from .pagination import ListResource, listing, paginate
from .routing import operation
from .schemas import (
    IdPath,
    SeatSubscription,
    SubscriptionListQuery,
    SubscriptionSeatsSet,
    SubscriptionSeatsUpdate,
)

READ = org("customers:read", "customers:write")
WRITE = org("customers:write")
TAG = "subscriptions (seat counts)"


def subscription_out(subscription: Subscription) -> SeatSubscription:
    counted = seat_service.list_seats(db.session, g.actor, subscription, include_revoked=False)
    return SeatSubscription(
        id=subscription.id, created_at=subscription.created_at,
        modified_at=subscription.modified_at, customer_id=subscription.customer_id,
        product_id=subscription.product_id, product_name=subscription.product_name,
        status=subscription.status, seats=subscription.seats, seats_in_use=counted.used,
        available_seats=counted.available,
    )


def _in_organization():
    return (select(Subscription).join(CustomerRow, Subscription.customer_id == CustomerRow.id)
            .where(CustomerRow.organization_id == g.organization.id,
                   CustomerRow.deleted_at.is_(None)))


def _subscription(subscription_id) -> Subscription:
    found = db.session.scalar(_in_organization().where(Subscription.id == subscription_id))
    if found is None:
        raise NotFound("Subscription not found.")
    return found


@operation(bp, "GET", "/subscriptions", "subscriptions:list", tag=TAG,
           summary="List seat subscriptions", auth=READ, query=SubscriptionListQuery,
           response=ListResource[SeatSubscription], errors=(404,))
def list_subscriptions(query: SubscriptionListQuery):
    """All of the organization's, or one customer's (`customer_id` or `external_customer_id`).
    Scopes: `customers:read` `customers:write`."""
    stmt = _in_organization()
    if query.customer_id is not None or query.external_customer_id is not None:
        customer = customer_from(query.customer_id, query.external_customer_id)
        stmt = stmt.where(Subscription.customer_id == customer.id)
    rows, total = paginate(db.session, stmt, (Subscription.created_at.desc(),
                                              Subscription.id.desc()), query.page, query.limit)
    return listing([subscription_out(s) for s in rows], total, query.limit)


@operation(bp, "POST", "/subscriptions", "subscriptions:set_seats", tag=TAG,
           summary="Set a customer's seat count", auth=WRITE, body=SubscriptionSeatsSet,
           response=SeatSubscription, status=201, errors=(404,),
           other_statuses={200: SeatSubscription})
def set_seats(body: SubscriptionSeatsSet):
    """Creates the customer's seat subscription (201) or changes its seat count (200).
    Scope: `customers:write`."""
    customer = customer_from(body.customer_id, body.external_customer_id)
    existed = db.session.scalar(select(Subscription.id)
                                .where(Subscription.customer_id == customer.id).limit(1))
    subscription = organizations.set_seat_count(db.session, customer, body.seats,
                                                product_name=body.product_name, actor=g.actor)
    return subscription_out(subscription), (200 if existed else 201)


@operation(bp, "GET", "/subscriptions/<id>", "subscriptions:get", tag=TAG,
           summary="Get a seat subscription", auth=READ, path=IdPath, response=SeatSubscription)
def get_subscription(path: IdPath):
    """Scopes: `customers:read` `customers:write`."""
    return subscription_out(_subscription(path.id))


@operation(bp, "PATCH", "/subscriptions/<id>", "subscriptions:update", tag=TAG,
           summary="Change a seat count", auth=WRITE, path=IdPath, body=SubscriptionSeatsUpdate,
           response=SeatSubscription)
def update_subscription(path: IdPath, body: SubscriptionSeatsUpdate):
    """Scope: `customers:write`."""
    subscription = _subscription(path.id)
    subscription = organizations.set_seat_count(db.session, subscription.customer, body.seats,
                                                product_name=body.product_name, actor=g.actor)
    return subscription_out(subscription)
