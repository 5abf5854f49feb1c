from flask import Blueprint

from ..tenancy import org_scoped

bp = org_scoped(Blueprint("portal", __name__, url_prefix="/<org_slug>"))

from . import brand, claim, group_members, groups, pages, routes, seats  # noqa: E402,F401
