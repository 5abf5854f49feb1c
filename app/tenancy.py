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
        if "org_slug" in values:
            return
        org = g.get("organization")
        if org is None:
            return
        # Whether an endpoint takes <org_slug> never changes once the app serves (Flask refuses
        # new routes after the first request), and a page builds ~160 URLs: ask the map once.
        app = current_app._get_current_object()
        expecting = app.extensions.setdefault("org_slug_endpoints", {})
        takes_slug = expecting.get(endpoint)
        if takes_slug is None:
            takes_slug = expecting[endpoint] = app.url_map.is_endpoint_expecting(endpoint, "org_slug")
        if takes_slug:
            values["org_slug"] = org.slug

    return bp
