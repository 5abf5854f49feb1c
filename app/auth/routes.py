"""Magic-link sign-in, team choice and sign-out. Thin: parse, call the signin service, render."""
from __future__ import annotations

import time
from urllib.parse import unquote, urlsplit
from datetime import timedelta

from flask import current_app, g, render_template, request, session, url_for
from flask_login import current_user

from .. import text
from ..errors import InvalidToken, PortalError, RateLimited
from ..extensions import db
from ..ratelimits import client_limit
from ..services import signin
from ..web import redirect_to
from . import bp
from .forms import ChooseTeamForm, CodeForm, ConfirmLinkForm, EmailForm, EmptyForm
from .session import sign_in, sign_out

PROOF_MINUTES = 10
NEXT_MAX = 1024  # kept in the session cookie, which browsers drop past 4 KB (and its CSRF token with it)


def _policy() -> signin.SignInPolicy:
    c = current_app.config
    return signin.SignInPolicy(
        token_minutes=c["SIGNIN_TOKEN_MINUTES"],
        max_per_email=c["SIGNIN_MAX_PER_EMAIL"],
        window_minutes=c["SIGNIN_WINDOW_MINUTES"],
    )


@bp.route("/login", methods=["GET", "POST"])
@client_limit
def login():
    """Ask for an email and send a sign-in link to it."""
    if current_user.is_authenticated and current_user.organization.id == g.organization.id:
        return redirect_to(url_for("portal.home"))
    if request.method == "GET" and _safe_next(request.args.get("next")):
        session["next"] = request.args["next"]
    form = EmailForm()
    if form.validate_on_submit():
        try:
            signin.request_sign_in(
                db.session, g.organization, form.email.data,
                base_url=current_app.config["BASE_URL"], policy=_policy(),
            )
        except RateLimited as exc:
            db.session.rollback()
            response = current_app.make_response(
                (render_template("auth/login.html", form=form, error=exc.message), 429)
            )
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        except PortalError as exc:
            form.email.errors.append(exc.message)
        else:
            db.session.commit()
            session["signin_email"] = form.email.data.strip()
            return redirect_to(url_for("auth.check_email"))
    status = 422 if form.errors else 200
    return render_template("auth/login.html", form=form), status


@bp.get("/login/sent")
def check_email():
    """Tell the person to open the link, or type the code on this device."""
    email = session.get("signin_email")
    if not email:
        return redirect_to(url_for("auth.login"))
    return render_template("auth/check_email.html", email=email, form=CodeForm())


@bp.post("/login/code")
@client_limit
def enter_code():
    """Sign in with the short code instead of the link."""
    email = session.get("signin_email")
    if not email:
        return redirect_to(url_for("auth.login"), "Enter your email to get a new code.", "info")
    form = CodeForm()
    if form.validate_on_submit():
        try:
            proven = signin.verify_code(db.session, g.organization, email, form.code.data)
        except InvalidToken as exc:
            db.session.commit()  # keeps the count of wrong attempts
            form.code.errors.append(exc.message)
        else:
            return _after_proof(proven)
    return render_template("auth/check_email.html", email=email, form=form), 422


@bp.get("/login/verify")
def confirm_link():
    """The link from the email: shows a button, consumes nothing (mail scanners open links)."""
    token = request.args.get("token", "")
    try:
        email = signin.peek_link(db.session, g.organization, token)
    except InvalidToken as exc:
        return render_template("auth/link_invalid.html", message=exc.message, reason=exc.reason), 410
    return render_template("auth/confirm.html", form=ConfirmLinkForm(token=token), email=email)


@bp.post("/login/verify")
@client_limit
def consume_link():
    """Sign in with the link's token (single use)."""
    form = ConfirmLinkForm()
    if not form.validate_on_submit():
        return render_template("auth/link_invalid.html", message="This sign-in link is not valid.",
                               reason="unknown"), 400
    try:
        email = signin.verify_link(db.session, g.organization, form.token.data)
    except InvalidToken as exc:
        db.session.rollback()
        return render_template("auth/link_invalid.html", message=exc.message, reason=exc.reason), 410
    return _after_proof(email)


def _safe_next(target: str | None) -> bool:
    """Only a page of this organization's portal: never another site or another portal.

    The path is judged as the browser will resolve it: `/acme/../initech/team` (or its
    percent-encoded `%2e%2e`) leaves the portal, so any `.` or `..` segment is refused."""
    if not target or len(target) > NEXT_MAX or text.unsafe(target) or "\\" in target:
        return False
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return False
    prefix = f"/{g.organization.slug}/"
    for path in (parts.path, unquote(parts.path)):
        if not path.startswith(prefix) or "//" in path or "\\" in path:
            return False
        if any(segment in (".", "..") for segment in path.split("/")):
            return False
    return True


def _enter(member):
    """Sign in and go where the person was heading before sign-in, else to their landing page."""
    target = session.pop("next", None)
    sign_in(member)
    db.session.commit()
    destination = target if _safe_next(target) else url_for("portal.home")
    return redirect_to(destination, f"Welcome, {member.display_name}.")


def _after_proof(email: str):
    """The email is proven: enter its only team, or let the person choose (rule 16)."""
    try:
        member = signin.choose_member(db.session, g.organization, email)
    except PortalError as exc:
        if exc.field != "member_id":
            db.session.commit()
            return render_template("auth/link_invalid.html", message=exc.message, reason="nomember"), 403
        db.session.commit()
        session["proven"] = {"org": str(g.organization.id), "email": email, "at": time.time()}
        return redirect_to(url_for("auth.choose_team"))
    return _enter(member)


def _proven_email() -> str | None:
    proof = session.get("proven") or {}
    fresh = time.time() - proof.get("at", 0) < timedelta(minutes=PROOF_MINUTES).total_seconds()
    if proof.get("org") == str(g.organization.id) and fresh:
        return proof["email"]
    return None


@bp.route("/login/choose", methods=["GET", "POST"])
def choose_team():
    """Several teams share the proven email: pick one."""
    email = _proven_email()
    if email is None:
        return redirect_to(url_for("auth.login"), "Sign in again to choose a team.", "info")
    members = signin.live_members_for_email(db.session, g.organization, email)
    form = ChooseTeamForm()
    form.member_id.choices = [(str(m.id), f"{m.customer.name} ({m.role.label})") for m in members]
    if form.validate_on_submit():
        try:
            member = signin.choose_member(db.session, g.organization, email, form.member_id.data)
        except PortalError as exc:
            form.member_id.errors = [exc.message]
        else:
            return _enter(member)
    return render_template("auth/choose.html", form=form, email=email), 422 if form.errors else 200


@bp.post("/logout")
def logout():
    """Sign out: the session row ends now, on every device holding this cookie."""
    form = EmptyForm()
    if form.validate_on_submit():
        sign_out()
        db.session.commit()
    return redirect_to(url_for("auth.login"), "You are signed out.", "info")


