"""The Polar-compatible JSON API under /v1, and /openapi.json describing it."""
from flask import Blueprint, request
from werkzeug.exceptions import NotFound
from werkzeug.routing import RequestRedirect

bp = Blueprint("api", __name__, url_prefix="/v1")


@bp.route("", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"], strict_slashes=True,
          provide_automatic_options=False)
def root():
    """/v1 itself names nothing (without this, the portal's /<org_slug>/ would redirect it)."""
    raise NotFound()


@bp.before_app_request
def _no_redirects():
    """Nothing under /v1 redirects: the SDKs follow no redirect, and Werkzeug's answer is an HTML
    page. A path that only matches once its slashes are merged (`/v1//customers`) or changed
    (`/v1//` → the portal's `/<org_slug>/`) is not found, in Polar's JSON."""
    if isinstance(request.routing_exception, RequestRedirect) and (
            request.path == "/v1" or request.path.startswith("/v1/")):
        request.routing_exception = NotFound()


from . import customers, members, organization, portal, portal_subscriptions  # noqa: E402,F401
from . import seats, sessions, subscriptions, webhooks  # noqa: E402,F401
from .openapi import bp as openapi_bp  # noqa: E402

__all__ = ["bp", "openapi_bp"]
