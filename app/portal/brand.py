"""The organization's brand as files: its colours as a stylesheet and its uploaded logo. Public,
because the sign-in and claim pages wear the brand too; both are cacheable by version."""
from __future__ import annotations

from flask import abort, g, make_response

from ..services import branding
from . import bp

ONE_DAY = 86400


@bp.get("/brand.css")
def brand_css():
    """The accent colour and its variants for the light and the dark scheme."""
    response = make_response(branding.stylesheet(g.organization))
    response.headers["Content-Type"] = "text/css; charset=utf-8"
    response.headers["Cache-Control"] = f"public, max-age={ONE_DAY}"
    return response


@bp.get("/brand/logo")
def brand_logo():
    """The uploaded logo, with the type read from its bytes when it was uploaded."""
    org = g.organization
    if not org.logo_type or not org.logo_image:
        abort(404, description="This organization has no uploaded logo.")
    response = make_response(org.logo_image)
    response.headers["Content-Type"] = org.logo_type
    response.headers["Content-Disposition"] = "inline"
    response.headers["Cache-Control"] = f"public, max-age={ONE_DAY}"
    return response
