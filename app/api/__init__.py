"""The Polar-compatible JSON API under /v1, and /openapi.json describing it."""
from flask import Blueprint
from werkzeug.exceptions import NotFound

PREFIX = "/v1"

bp = Blueprint("api", __name__, url_prefix=PREFIX)


def serves(path: str) -> bool:
    """Whether a request path belongs to this API (its errors answer Polar's JSON)."""
    return path == PREFIX or path.startswith(PREFIX + "/")


@bp.route("", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"], strict_slashes=True,
          provide_automatic_options=False)
def root():
    """/v1 itself names nothing (without this, the portal's /<org_slug>/ would redirect it)."""
    raise NotFound()


from . import customers, members, organization, portal, portal_subscriptions  # noqa: E402,F401
from . import seats, sessions, subscriptions, webhooks  # noqa: E402,F401
from .openapi import bp as openapi_bp  # noqa: E402

__all__ = ["PREFIX", "bp", "openapi_bp", "serves"]
