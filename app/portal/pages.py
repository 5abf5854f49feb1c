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
    """Who did what, newest first; owners and billing managers only."""
    page = activity.list_events(db.session, Actor(member=g.member), g.member.customer,
                                page=_int(request.args.get("page"), 1))
    block = "event_list" if request.headers.get("HX-Target") == "event-list" else None
    return render("portal/activity.html", block, page=page, changes=activity.changes,
                  action_label=activity.action_label)


@bp.get("/me")
@member_required
def me():
    """Your own membership: team, role, seat. Read-only."""
    status = seats.member_seat_status(db.session, [g.member.id]).get(g.member.id)
    return render("portal/me.html", member=g.member, seat=status)
