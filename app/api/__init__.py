"""The Polar-compatible JSON API under /v1, and /openapi.json describing it."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/v1")

from . import customers, members, portal, seats, sessions, subscriptions  # noqa: E402,F401
from .openapi import bp as openapi_bp  # noqa: E402

__all__ = ["bp", "openapi_bp"]
