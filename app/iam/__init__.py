"""The Cloudflare-compatible API under /client/v4: IAM user groups and their members
(wire-contract §6), so `Cloudflare(base_url="https://<host>/client/v4")` works unchanged.
Its own envelope and errors (envelope.py); the rules stay in app/services/groups.py."""
from flask import Blueprint, request
from werkzeug.exceptions import NotFound
from werkzeug.routing import RequestRedirect

PREFIX = "/client/v4"

bp = Blueprint("iam", __name__, url_prefix=PREFIX)


def serves(path: str) -> bool:
    """Whether a request path belongs to this API (its errors answer the v4 envelope)."""
    return path == PREFIX or path.startswith(PREFIX + "/")


@bp.route("", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], strict_slashes=True,
          provide_automatic_options=False)
def root():
    """/client/v4 itself names nothing."""
    raise NotFound()


@bp.before_app_request
def _no_redirects():
    """Nothing under /client/v4 redirects (Werkzeug's 308 for `accounts//…` is an HTML page, and
    not the envelope): such a path is not found."""
    if isinstance(request.routing_exception, RequestRedirect) and serves(request.path):
        request.routing_exception = NotFound()


from . import routes  # noqa: E402,F401

__all__ = ["PREFIX", "bp", "serves"]
