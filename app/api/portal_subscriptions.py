"""`GET /v1/customer-portal/seats/subscriptions`: the seat subscriptions on which the signed-in
member holds a claimed seat, as Polar's `CustomerSubscription` (polar-sdk 1.0.2 parses every key
strictly, so each required key is here, nullable ones as null).

The portal sells nothing, so the billing fields are placeholders (docs/api.md, "Differences from
Polar"): amount 0 in usd, a monthly period anchored on the day the subscription was created, no
trial, discount, prices, meters, benefits or cancellation."""
from __future__ import annotations

import calendar
import uuid
from datetime import datetime
from typing import Literal

from flask import g
from pydantic import BaseModel
from sqlalchemy import select

from ..extensions import db
from ..models import Organization, Seat, SeatStatus, Subscription, utcnow
from . import bp
from .auth import member
from .pagination import ListResource, PageQuery, listing, paginate
from .routing import operation

SubscriptionStatus = Literal["incomplete", "incomplete_expired", "trialing", "active", "past_due",
                             "canceled", "unpaid", "paused"]
Interval = Literal["day", "week", "month", "year"]


class CustomerPortalUsageSettings(BaseModel):
    show: bool


class CustomerPortalSubscriptionSettings(BaseModel):
    update_seats: bool
    update_plan: bool


class OrganizationCustomerPortalSettings(BaseModel):
    usage: CustomerPortalUsageSettings
    subscription: CustomerPortalSubscriptionSettings


class CustomerOrganization(BaseModel):
    created_at: datetime
    modified_at: datetime | None
    id: uuid.UUID
    name: str
    slug: str
    avatar_url: str | None
    proration_behavior: Literal["invoice", "prorate", "next_period", "reset"]
    allow_customer_updates: bool
    customer_portal_settings: OrganizationCustomerPortalSettings

    @classmethod
    def from_row(cls, org: Organization) -> CustomerOrganization:
        # Members cannot change a seat count or a plan here: the vendor sets them.
        settings = OrganizationCustomerPortalSettings(
            usage=CustomerPortalUsageSettings(show=False),
            subscription=CustomerPortalSubscriptionSettings(update_seats=False, update_plan=False),
        )
        return cls(created_at=org.created_at, modified_at=org.modified_at, id=org.id,
                   name=org.name, slug=org.slug, avatar_url=None, proration_behavior="prorate",
                   allow_customer_updates=False, customer_portal_settings=settings)


class CustomerSubscriptionProduct(BaseModel):
    id: uuid.UUID
    created_at: datetime
    modified_at: datetime | None
    trial_interval: Interval | None
    trial_interval_count: int | None
    name: str
    description: str | None
    visibility: Literal["draft", "private", "public"]
    recurring_interval: Interval | None
    recurring_interval_count: int | None
    meter_interval: Interval | None
    meter_interval_count: int | None
    is_recurring: bool
    is_archived: bool
    organization_id: uuid.UUID
    prices: list[dict]
    benefits: list[dict]
    medias: list[dict]
    organization: CustomerOrganization


class CustomerSubscription(BaseModel):
    """A seat subscription in Polar's shape; billing fields are placeholders."""

    created_at: datetime
    modified_at: datetime | None
    id: uuid.UUID
    amount: int
    currency: str
    recurring_interval: Interval
    recurring_interval_count: int
    status: SubscriptionStatus
    current_period_start: datetime
    current_period_end: datetime
    current_meter_period_start: datetime | None
    current_meter_period_end: datetime | None
    trial_start: datetime | None
    trial_end: datetime | None
    cancel_at_period_end: bool
    canceled_at: datetime | None
    started_at: datetime | None
    ends_at: datetime | None
    ended_at: datetime | None
    past_due_at: datetime | None
    pause_at_period_end: bool
    paused_at: datetime | None
    resumes_at: datetime | None
    customer_id: uuid.UUID
    product_id: uuid.UUID
    discount_id: uuid.UUID | None
    checkout_id: uuid.UUID | None
    seats: int | None
    units: int | None
    customer_cancellation_reason: str | None
    customer_cancellation_comment: str | None
    product: CustomerSubscriptionProduct
    prices: list[dict]
    meters: list[dict]
    pending_update: dict | None

    @classmethod
    def from_row(cls, sub: Subscription, now: datetime) -> CustomerSubscription:
        org = sub.customer.organization
        product = CustomerSubscriptionProduct(
            id=sub.product_id, created_at=sub.created_at, modified_at=sub.modified_at,
            trial_interval=None, trial_interval_count=None, name=sub.product_name,
            description=None, visibility="private", recurring_interval="month",
            recurring_interval_count=1, meter_interval=None, meter_interval_count=None,
            is_recurring=True, is_archived=False, organization_id=org.id, prices=[], benefits=[],
            medias=[], organization=CustomerOrganization.from_row(org),
        )
        start, end = monthly_period(sub.created_at, now)
        return cls(
            created_at=sub.created_at, modified_at=sub.modified_at, id=sub.id, amount=0,
            currency="usd", recurring_interval="month", recurring_interval_count=1,
            status=sub.status, current_period_start=start, current_period_end=end,
            current_meter_period_start=None, current_meter_period_end=None, trial_start=None,
            trial_end=None, cancel_at_period_end=False, canceled_at=None,
            started_at=sub.created_at, ends_at=None, ended_at=None, past_due_at=None,
            pause_at_period_end=False, paused_at=None, resumes_at=None,
            customer_id=sub.customer_id, product_id=sub.product_id, discount_id=None,
            checkout_id=None, seats=sub.seats, units=None, customer_cancellation_reason=None,
            customer_cancellation_comment=None, product=product, prices=[], meters=[],
            pending_update=None,
        )


def _add_months(moment: datetime, months: int) -> datetime:
    year, month = divmod(moment.month - 1 + months, 12)
    year, month = moment.year + year, month + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def monthly_period(anchor: datetime, now: datetime) -> tuple[datetime, datetime]:
    """The month-long period, counted from `anchor`, that contains `now` (the first one when
    `now` is earlier)."""
    months = max(0, (now.year - anchor.year) * 12 + now.month - anchor.month)
    while months > 0 and _add_months(anchor, months) > now:
        months -= 1
    return _add_months(anchor, months), _add_months(anchor, months + 1)


@operation(bp, "GET", "/customer-portal/seats/subscriptions",
           "customer_portal:seats:list_claimed_subscriptions", tag="customer portal: seats",
           summary="Subscriptions on which you hold a claimed seat", auth=member(),
           query=PageQuery, response=ListResource[CustomerSubscription])
def list_claimed_subscriptions(query: PageQuery):
    """Any member. Pending and revoked seats do not count. Billing fields are placeholders."""
    person = g.member
    stmt = (select(Subscription)
            .where(Subscription.customer_id == person.customer_id,
                   Subscription.id.in_(select(Seat.subscription_id)
                                       .where(Seat.member_id == person.id,
                                              Seat.status == SeatStatus.CLAIMED))))
    rows, total = paginate(db.session, stmt, (Subscription.created_at, Subscription.id),
                           query.page, query.limit)
    now = utcnow()
    return listing([CustomerSubscription.from_row(s, now) for s in rows], total, query.limit)
