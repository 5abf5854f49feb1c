from flask import Blueprint

from ..tenancy import org_scoped

bp = org_scoped(Blueprint("auth", __name__, url_prefix="/<org_slug>"))

from . import embed, routes  # noqa: E402,F401
