"""Flask-Login on top of server-side session rows: the cookie carries a token, the row decides."""
from __future__ import annotations

from functools import wraps

from flask import abort, current_app, g, request, session, url_for
from flask_login import UserMixin, current_user, login_user, logout_user

from ..extensions import db, login_manager
from ..models import Member, PortalSession
from ..services import sessions as session_service
from ..web import redirect_to


class PortalUser(UserMixin):
    """The signed-in member, as seen by Flask-Login. `get_id` is the raw session token."""

    def __init__(self, row: PortalSession, token: str):
        self.row = row
        self.token = token

    def get_id(self) -> str:
        return self.token

    @property
    def member(self) -> Member:
        return self.row.member

    @property
    def organization(self):
        return self.row.member.customer.organization


def install(app) -> None:
    login_manager.session_protection = None  # the server-side row is the protection

    @login_manager.user_loader
    def load_user(token: str):
        row = session_service.load_session(db.session, token)
        return PortalUser(row, token) if row else None

    @login_manager.unauthorized_handler
    def unauthorized():
        org = g.get("organization")
        if org is None:
            abort(401)
        if _framed() and not org.features.get("signin_in_frame"):
            # No sign-in form trapped inside a vendor's iframe: the host mints a new session.
            return redirect_to(url_for("auth.expired", org_slug=org.slug))
        target = url_for("auth.login", org_slug=org.slug)
        if request.method == "GET" and not request.headers.get("HX-Request"):
            target = url_for("auth.login", org_slug=org.slug, next=request.full_path.rstrip("?"))
        if current_user.is_authenticated:
            message = f"Sign in to {org.name} to continue."
        elif session.get("_user_id"):
            message = "Your session has ended. Sign in to continue."
        else:
            message = "Sign in to continue."
        return redirect_to(target, message, "info")


def adopt_session(row: PortalSession, token: str) -> None:
    """Make an existing session row this browser's session (the caller commits)."""
    session.clear()
    login_user(PortalUser(row, token))


def _framed() -> bool:
    return bool(session.get("embedded")) or request.headers.get("Sec-Fetch-Dest") == "iframe"


def sign_in(member: Member, *, kind: str = "browser", return_url: str | None = None) -> None:
    """Start a fresh session for `member` (the caller commits). Inside a vendor's frame the
    portal stays in its embedded look."""
    framing = {key: session[key] for key in ("embedded", "return_url", "parent_origin", "theme")
               if key in session}
    session.clear()
    session.update(framing)
    row, token = session_service.start_session(
        db.session,
        member,
        kind=kind,
        hours=current_app.config["PORTAL_SESSION_HOURS"],
        return_url=return_url,
    )
    login_user(PortalUser(row, token))


def sign_out() -> None:
    if current_user.is_authenticated:
        session_service.end_session(db.session, current_user.row)
    logout_user()
    session.clear()


def member_required(view):
    """The view needs a member signed in to this URL's organization."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated or current_user.organization.id != g.organization.id:
            return login_manager.unauthorized()
        g.member = current_user.member
        return view(*args, **kwargs)

    return wrapped
