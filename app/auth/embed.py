"""Embedding the portal in a vendor's dashboard: the hand-off, the expired page, and the events
the framed portal tells its host page about."""
from __future__ import annotations

import json
from urllib.parse import urlsplit

from flask import Flask, g, render_template, request, session, url_for
from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession

from ..errors import InvalidToken
from ..extensions import db
from ..models import ActivityEvent
from ..services import sessions
from ..web import redirect_to
from . import bp
from .session import adopt_session

# Activity actions that the host page hears about: the name it hears, and the key of the
# subject's id in the message.
HOST_EVENTS = {
    "member.added": ("member.added", "member_id"),
    "member.removed": ("member.removed", "member_id"),
    "seat.assigned": ("seat.assigned", "seat_id"),
    "seat.claimed": ("seat.claimed", "seat_id"),
}


THEMES = ("light", "dark")


def _host_event(action: str, subject_id) -> dict:
    name, key = HOST_EVENTS[action]
    return {"type": name, key: str(subject_id) if subject_id else None}


def _origin(url: str | None) -> str | None:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


@bp.get("/portal/enter")
def enter():
    """Exchange the one-time token of `customer_portal_url` for a cookie, then drop it from the URL."""
    try:
        row, token = sessions.exchange_handoff(db.session, g.organization, request.args.get("token"))
    except InvalidToken as exc:
        db.session.rollback()
        return render_template("embed/expired.html", message=exc.message, reason=exc.reason), 410
    adopt_session(row, token)
    session["embedded"] = True
    session["return_url"] = row.return_url
    # The host page that framed us (browsers send its origin as the Referer of the frame's first
    # request): messages then go to that origin alone, not to every allowed one.
    parent = _origin(request.referrer)
    session["parent_origin"] = parent if parent in (g.organization.embed_origins or []) else None
    # The host may force the colour scheme to match its own (`&theme=dark` on the URL).
    theme = request.args.get("theme")
    session["theme"] = theme if theme in THEMES else None
    db.session.commit()
    return redirect_to(url_for("portal.home"))


@bp.get("/portal/expired")
def expired():
    """Shown inside the frame when the session has ended; tells the host to mint a new one."""
    return render_template(
        "embed/expired.html",
        message="Your session has ended. Reopen the team page to continue.",
        reason="expired",
        events=[{"type": "session.expired"}],
    )


def install(app: Flask) -> None:
    @app.before_request
    def detect_embedding():
        g.embedded = bool(session.get("embedded"))

    @app.after_request
    def tell_host(response):
        actions = db.session.info.pop("host_events", None) if g.get("embedded") else None
        if not actions or response.status_code >= 400:
            return response
        events = [_host_event(action, subject_id) for action, subject_id in actions]
        if request.headers.get("HX-Request") == "true":
            response.headers["HX-Trigger"] = _merge_trigger(
                response.headers.get("HX-Trigger"), {"portal-event": {"events": events}}
            )
        else:
            session["portal_events"] = session.get("portal_events", []) + events
        return response


def _merge_trigger(existing: str | None, extra: dict) -> str:
    """Add events to an `HX-Trigger` header that may already name some (plain or JSON)."""
    triggers: dict = {}
    if existing:
        try:
            triggers = json.loads(existing)
        except ValueError:
            triggers = {name.strip(): None for name in existing.split(",") if name.strip()}
    triggers.update(extra)
    return json.dumps(triggers)


@event.listens_for(OrmSession, "after_flush")
def _collect_host_events(orm_session: OrmSession, flush_context) -> None:
    for obj in orm_session.new:
        if isinstance(obj, ActivityEvent) and obj.action in HOST_EVENTS:
            orm_session.info.setdefault("host_events", []).append((obj.action, obj.subject_id))


@event.listens_for(OrmSession, "after_rollback")
def _forget_host_events(orm_session: OrmSession) -> None:
    orm_session.info.pop("host_events", None)
