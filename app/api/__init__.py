"""The Polar-compatible JSON API under /v1, and /openapi.json describing it."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/v1")


@bp.route("", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], strict_slashes=True)
def root():
    """/v1 itself names nothing (without this, the portal's /<org_slug>/ would redirect it)."""
    from werkzeug.exceptions import NotFound

    raise NotFound()


from . import customers, members, organization, portal, portal_subscriptions  # noqa: E402,F401
from . import seats, sessions, subscriptions, webhooks  # noqa: E402,F401
from .openapi import bp as openapi_bp  # noqa: E402

__all__ = ["bp", "openapi_bp"]
