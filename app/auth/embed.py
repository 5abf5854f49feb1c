"""Embedding the portal in a vendor's dashboard: the hand-off, the expired page, and the events
the framed portal tells its host page about."""
from __future__ import annotations

import json

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

# Activity actions that the host page hears about, under the names it hears them by.
HOST_EVENTS = {
    "member.added": "member.added",
    "member.removed": "member.removed",
    "seat.assigned": "seat.assigned",
    "seat.claimed": "seat.claimed",
}


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
        events = [{"type": HOST_EVENTS[a]} for a in actions]
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
            orm_session.info.setdefault("host_events", []).append(obj.action)


@event.listens_for(OrmSession, "after_rollback")
def _forget_host_events(orm_session: OrmSession) -> None:
    orm_session.info.pop("host_events", None)
