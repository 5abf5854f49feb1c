"""The root page: where a newcomer lands when they open the portal's bare address."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template

from .extensions import db
from .services import organizations

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    """In development, every organization's sign-in page and how to get demo links; in
    production a short neutral page, because the list of vendors is nobody's business."""
    development = current_app.config["PORTAL_ENV"] != "production"
    orgs = organizations.list_organizations(db.session) if development else []
    return render_template("index.html", development=development, organizations=orgs)
