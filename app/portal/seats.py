"""The seats page: give, chase and take back seats (managers only, enforced by the service).

Thin views: parse, call one seats-service function, commit once, then answer with the page
(303 + flash without JavaScript) or one named block of it for htmx. Changes to the counts
send `HX-Trigger: seats-changed`; the counter and the assign form listen for it."""
from __future__ import annotations

import math

from flask import current_app, flash, g, url_for
from jinja2_fragments.flask import render_block

from .. import text
from ..auth.session import member_required
from ..errors import PortalError, RateLimited
from ..extensions import db
from ..models import utcnow
from ..services import seats as seat_service
from ..services.access import Actor
from ..web import is_htmx, redirect_to, render
from . import bp
from .seat_forms import AssignSeatForm

PAGE = "portal/seats.html"
SEATS_CHANGED = "seats-changed"


def _span(seconds: float) -> str | None:
    seconds = int(abs(seconds))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = round(seconds / size)
            return text.counted(n, unit)
    return None


def since(moment) -> str:
    """'4 days ago', 'just now'."""
    span = _span((utcnow() - moment).total_seconds())
    return f"{span} ago" if span else "just now"


def until(moment) -> str:
    """'in 3 days', 'in less than a minute'."""
    span = _span((moment - utcnow()).total_seconds())
    return f"in {span}" if span else "in less than a minute"


def short_wait(seconds: int) -> str:
    """The wait on a disabled Resend button: '42 s', '2 min'."""
    return f"{seconds} s" if seconds < 60 else f"{math.ceil(seconds / 60)} min"


def _actor() -> Actor:
    return Actor(member=g.member)


def _context(**extra) -> dict:
    """Everything the page and each of its blocks need; checks that the viewer may manage."""
    context = {
        "overview": seat_service.seat_overview(db.session, _actor(), g.member.customer),
        "forms": {},
        "now": utcnow(),
        "since": since,
        "until": until,
        "short_wait": short_wait,
        "resend_wait": seat_service.resend_wait,
    }
    context.update(extra)
    return context


def _with_list(subscription, **extra) -> dict:
    context = _context(**extra)
    context["sl"] = next(s for s in context["overview"] if s.subscription.id == subscription.id)
    return context


def _subscription(subscription_id):
    return seat_service.get_subscription(db.session, g.member.customer, subscription_id)


def _seat(seat_id):
    return seat_service.get_seat(db.session, g.member.customer, seat_id)


def _base_url() -> str:
    return current_app.config["BASE_URL"]


def _done(block: str, message: str, *, changed: bool, also: str | None = None, **context):
    """After a change: 303 back to the page, or for htmx the changed block plus a toast (and
    the block `also`, swapped out of band)."""
    if not is_htmx():
        return redirect_to(url_for("portal.seats"), message)
    flash(message, "success")
    response = render(PAGE, block, **context)
    if also:
        response.set_data(response.get_data() + render_block(PAGE, also, oob=True, **context).encode())
    if changed:
        response.headers["HX-Trigger"] = SEATS_CHANGED
    return response


@bp.get("/seats")
@member_required
def seats():
    """Every seat subscription of the team: counter, assign form, seats and their actions."""
    return render(PAGE, **_context())


@bp.get("/seats/subscriptions/<subscription_id>/counter")
@member_required
def seat_counter(subscription_id):
    """The '7 of 10 seats used · 2 pending' line, re-fetched on `seats-changed`."""
    return render(PAGE, "seat_counter", **_with_list(_subscription(subscription_id)))


@bp.get("/seats/subscriptions/<subscription_id>/assign")
@member_required
def seat_assign_form(subscription_id):
    """A fresh assign form, enabled or disabled by the free seats, re-fetched on `seats-changed`."""
    return render(PAGE, "assign_form", **_with_list(_subscription(subscription_id)))


@bp.post("/seats/subscriptions/<subscription_id>/assign")
@member_required
def assign_seat(subscription_id):
    """Give a seat to an email: the invitation goes out through the outbox."""
    subscription = _subscription(subscription_id)
    form = AssignSeatForm()
    limited = None
    if form.validate_on_submit():
        try:
            seat = seat_service.assign_seat(db.session, _actor(), subscription,
                                            email=form.email.data, base_url=_base_url())
        except PortalError as exc:
            if exc.status in (401, 403, 404):
                raise
            db.session.rollback()
            form.email.errors.append(exc.message)
            limited = exc if isinstance(exc, RateLimited) else None
        else:
            db.session.commit()
            return _done("seat_table", f"Invitation sent to {seat.email}.", changed=True,
                         also="assign_form", **_with_list(subscription))
    response = render(PAGE, "assign_form", status=429 if limited else 422,
                      **_with_list(subscription, forms={subscription.id: form}))
    if limited:
        response.headers["Retry-After"] = str(limited.retry_after)
    if is_htmx():
        response.headers["HX-Retarget"] = f"#assign-{subscription.id}"
        response.headers["HX-Reswap"] = "outerHTML"
    return response


@bp.get("/seats/<seat_id>/row")
@member_required
def seat_row(seat_id):
    """One seat's row (re-fetched when its resend cooldown ends)."""
    seat = _seat(seat_id)
    return render(PAGE, "seat_row", **_context(seat=seat))


@bp.post("/seats/<seat_id>/resend")
@member_required
def resend_seat(seat_id):
    """Send a pending invitation again with a new link; the previous link stops working."""
    try:
        seat = seat_service.resend_invitation(db.session, _actor(), _seat(seat_id), base_url=_base_url())
    except RateLimited as exc:
        if is_htmx():
            raise  # a toast beside the menu
        db.session.rollback()  # without JavaScript: back to the seats page, which says when
        return redirect_to(url_for("portal.seats"), exc.message, "error")
    db.session.commit()
    return _done("seat_row", f"New invitation link sent to {seat.email}; the previous link no "
                 "longer works.", changed=False, **_context(seat=seat, focus="menu"))


@bp.get("/seats/<seat_id>/revoke")
@member_required
def confirm_revoke_seat(seat_id):
    """Ask before revoking: a dialog for htmx, a page without JavaScript."""
    return render(PAGE, "revoke_dialog", **_context(confirm=_seat(seat_id)))


@bp.post("/seats/<seat_id>/revoke")
@member_required
def revoke_seat(seat_id):
    """Take a seat back: it is free at once and its invitation link dies. Twice is harmless."""
    seat = _seat(seat_id)
    already = seat.status.value == "revoked"
    seat = seat_service.revoke_seat(db.session, _actor(), seat)
    db.session.commit()
    message = "This seat was already revoked." if already else \
        f"Seat of {seat.email} revoked; it is free again."
    return _done("seat_row", message, changed=not already, **_context(seat=seat, focus="row"))
