"""Claiming a seat from an invitation link (DESIGN.md rule 13). No sign-in needed: the link is it.

The GET only shows what is offered (mail scanners open links); the POST claims, signs the
invitee in and lands them in the portal. A dead link gets a page that says why."""
from __future__ import annotations

from flask import current_app, g, render_template, request, session, url_for

from ..auth.session import sign_in
from ..errors import InvalidInvitation, RateLimited, RuleViolation
from ..extensions import db
from ..ratelimits import client_limit
from ..services import seats as seat_service
from ..web import redirect_to
from . import bp
from .seat_forms import ClaimForm

INVALID = "portal/claim_invalid.html"


def _invalid(exc: InvalidInvitation, token: str):
    """The page for a link that cannot be used: 404 if unknown, 410 if it is gone."""
    form = ClaimForm(token=token) if exc.can_request_new_link else None
    status = 404 if exc.reason == "unknown" else 410
    return render_template(INVALID, reason=exc.reason, message=exc.message, seat=exc.seat,
                           form=form), status


@bp.get("/claim")
def claim():
    """What the invitation offers, with a 'Claim seat' button. Changes nothing."""
    token = request.args.get("token", "")
    try:
        seat = seat_service.claim_info(db.session, token, organization=g.organization)
    except InvalidInvitation as exc:
        return _invalid(exc, token)
    return render_template("portal/claim.html", seat=seat, form=ClaimForm(token=token))


@bp.post("/claim")
@client_limit
def claim_seat():
    """Claim the seat (single use), sign the invitee in, and land them in the portal."""
    form = ClaimForm()
    token = (form.token.data or "") if form.validate_on_submit() else ""
    try:
        seat, member = seat_service.claim_seat(db.session, token, organization=g.organization)
    except InvalidInvitation as exc:
        db.session.rollback()
        return _invalid(exc, token)
    sign_in(member)
    db.session.commit()
    welcome = (f"Welcome to {seat.subscription.customer.name}, {member.display_name}. "
               f"Your seat on {seat.subscription.product_name} is ready.")
    return redirect_to(url_for("portal.home"), welcome)


@bp.post("/claim/new-link")
@client_limit
def claim_new_link():
    """An expired link asks for a fresh one; it goes to the invited email only."""
    form = ClaimForm()
    token = (form.token.data or "") if form.validate_on_submit() else ""
    try:
        seat = seat_service.request_new_link(db.session, token, organization=g.organization,
                                             base_url=current_app.config["BASE_URL"])
    except InvalidInvitation as exc:
        db.session.rollback()
        return _invalid(exc, token)
    except RuleViolation:
        db.session.rollback()
        return redirect_to(url_for("portal.claim", token=token))
    except RateLimited as exc:
        db.session.rollback()
        response = current_app.make_response(
            (render_template(INVALID, reason="wait", message=exc.message, seat=None, form=None), 429))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    db.session.commit()
    session["claim_link_sent_to"] = seat.email
    return redirect_to(url_for("portal.claim_link_sent"))


@bp.get("/claim/sent")
def claim_link_sent():
    """Tell the invitee where the new link went."""
    email = session.get("claim_link_sent_to")
    if not email:
        return redirect_to(url_for("auth.login"))
    return render_template(INVALID, reason="sent", email=email, seat=None, form=None,
                           message=f"We sent a new invitation link to {email}. It replaces the "
                                   "old one; open the newest email to claim your seat.")
