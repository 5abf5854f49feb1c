"""The activity log and your own membership page."""
from __future__ import annotations

from flask import g, request

from ..auth.session import member_required
from ..extensions import db
from ..services import activity, seats
from ..services.activity import Actor
from ..web import render
from . import bp
from .routes import _int


@bp.get("/activity")
@member_required
def activity_log():
    """Who did what, newest first, filtered by person and kind; owners and billing managers only."""
    actor, team = Actor(member=g.member), g.member.customer
    filters = {"person": (request.args.get("person") or "").strip()[:400],
               "kind": request.args.get("kind") if request.args.get("kind") in activity.KINDS else ""}
    page = activity.list_events(db.session, actor, team, page=_int(request.args.get("page"), 1),
                                person=filters["person"] or None, kind=filters["kind"] or None)
    block = "event_list" if request.headers.get("HX-Target") == "event-list" else None
    return render("portal/activity.html", block, page=page, filters=filters, kinds=activity.KINDS,
                  people=activity.actors(db.session, actor, team) if block is None else [],
                  describe=activity.describe)


@bp.get("/me")
@member_required
def me():
    """Your own membership: team, role, seat. Read-only."""
    status = seats.member_seat_status(db.session, [g.member.id]).get(g.member.id)
    return render("portal/me.html", member=g.member, seat=status)
