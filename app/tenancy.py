"""Every portal URL starts with the organization's slug; this loads it once per request."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, g

from . import text
from .errors import NotFound
from .extensions import db
from .services.organizations import get_organization


def origin(url: str | None) -> str | None:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None


def org_scoped(bp: Blueprint) -> Blueprint:
    """Load `g.organization` from `<org_slug>` and fill it in when building URLs."""

    @bp.url_value_preprocessor
    def load_organization(endpoint, values):
        slug = (values or {}).pop("org_slug", None)
        if slug is None:
            return
        try:
            if text.unsafe(slug):  # never reaches the database (PostgreSQL refuses NUL)
                raise NotFound("No such organization.")
            g.organization = get_organization(db.session, slug)
        except NotFound:
            abort(404, description="There is no portal at this address.")
        # Only the organization's allowed origins may frame its portal pages.
        g.frame_ancestors = " ".join(g.organization.embed_origins or []) or None
        # A logo given as a URL is shown from its own origin.
        g.img_origin = origin(g.organization.logo_url)

    @bp.url_defaults
    def add_organization(endpoint, values):
        org = g.get("organization")
        if org is not None and "org_slug" not in values and current_app.url_map.is_endpoint_expecting(
            endpoint, "org_slug"
        ):
            values["org_slug"] = org.slug

    return bp
