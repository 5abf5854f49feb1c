"""The Cloudflare-compatible API under /client/v4: IAM user groups and their members
(wire-contract §6), so `Cloudflare(base_url="https://<host>/client/v4")` works unchanged.
Its own envelope and errors (envelope.py); the rules stay in app/services/groups.py."""
from flask import Blueprint
from werkzeug.exceptions import NotFound

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


from . import routes  # noqa: E402,F401

__all__ = ["PREFIX", "bp", "serves"]
