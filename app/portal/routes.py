"""The portal pages for a signed-in member."""
from __future__ import annotations

from flask import g, url_for

from ..auth.session import member_required
from ..web import redirect_to, render
from . import bp


@bp.get("/")
@member_required
def home():
    """Owners and billing managers land on the team page; members on their own membership."""
    if g.member.is_manager:
        return redirect_to(url_for("portal.team"))
    return redirect_to(url_for("portal.me"))


@bp.get("/team")
@member_required
def team():
    """The team page (filled by the Team page issue)."""
    return render("portal/team.html")


@bp.get("/me")
@member_required
def me():
    """Your own membership: team, role, seat."""
    return render("portal/me.html", member=g.member)
