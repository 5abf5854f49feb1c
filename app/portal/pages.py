"""The activity log and your own membership page."""
from __future__ import annotations

from flask import flash, g, request, url_for

from .. import text
from ..auth.session import member_required
from ..extensions import db
from ..errors import PortalError, RuleViolation
from ..services import activity, groups, members, seats
from ..services.access import Actor
from ..web import is_htmx, redirect_to, render
from . import bp
from .forms import NameForm
from .routes import _page


@bp.get("/activity")
@member_required
def activity_log():
    """Who did what, newest first, filtered by person and kind; owners and billing managers only."""
    actor, team = Actor(member=g.member), g.member.customer
    # A select, so refused characters come only from a hand-made URL: dropped, as searches do
    # (PostgreSQL cannot compare a NUL).
    person = text.without_unsafe((request.args.get("person") or "").strip()[:400])
    filters = {"person": person,
               "kind": request.args.get("kind") if request.args.get("kind") in activity.KINDS else ""}
    page = activity.list_events(db.session, actor, team, page=_page(request.args.get("page")),
                                person=filters["person"] or None, kind=filters["kind"] or None)
    block = "event_list" if request.headers.get("HX-Target") == "event-list" else None
    return render("portal/activity.html", block, page=page, filters=filters, kinds=activity.KINDS,
                  people=activity.actors(db.session, actor, team) if block is None else [],
                  describe=activity.describe)


@bp.get("/me")
@member_required
def me():
    """Your own membership: team, role, seats; rename yourself, or leave the team."""
    return _me_page(NameForm(formdata=None, name=g.member.name))


def _me_page(form, *, status: int = 200, block: str | None = None, **extra):
    return render("portal/me.html", block, status=status, member=g.member, form=form,
                  seats=seats.member_seats(db.session, g.member),
                  my_groups=groups.groups_of(db.session, g.member), **extra)


@bp.post("/me/name")
@member_required
def rename_me():
    """Change your own name; an inline error keeps what you typed."""
    form = NameForm()
    if form.validate_on_submit():
        try:
            members.rename_self(db.session, g.member, form.name.data)
        except PortalError as exc:
            db.session.rollback()
            form.name.errors.append(exc.message)
        else:
            db.session.commit()
            message = "Your name is saved."
            if not is_htmx():
                return redirect_to(url_for("portal.me"), message)
            flash(message, "success")
            return _me_page(NameForm(formdata=None, name=g.member.name), block="name_form", saved=True)
    return _me_page(form, status=422, block="name_form")


@bp.get("/me/leave")
@member_required
def confirm_leave():
    """Ask before leaving: a dialog for htmx, a page without JavaScript."""
    return render("portal/me.html", "leave_dialog", member=g.member, confirm=True,
                  form=None, seats=seats.member_seats(db.session, g.member))


@bp.post("/me/leave")
@member_required
def leave():
    """Leave the team: your seats are revoked and you are signed out everywhere."""
    team_name = g.member.customer.name
    try:
        members.leave_team(db.session, g.member)
    except RuleViolation as exc:
        db.session.rollback()
        return redirect_to(url_for("portal.me"), exc.message, "error")
    db.session.commit()
    return redirect_to(url_for("auth.login"), f"You left {team_name}.", "info")
