"""Error pages: one place turns errors into HTML (or a toast for htmx)."""
from __future__ import annotations

import logging

from flask import Flask, current_app, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import RequestRedirect

from .errors import PortalError, RateLimited
from .extensions import rollback_quietly
from .observability import RETRY_AFTER_SECONDS, UNAVAILABLE, is_outage
from .web import is_htmx

log = logging.getLogger("portal.errors")

TITLES = {
    400: "Bad request",
    401: "Not signed in",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed",
    409: "Changed meanwhile",
    410: "Link no longer valid",
    413: "Too large",
    422: "Check the form",
    429: "Too many requests",
    500: "Something went wrong",
}


def error_response(status: int, message: str):
    """A full error page, or for htmx a toast that swaps nothing else."""
    rollback_quietly()
    if is_htmx():
        body = render_template("_toasts.html", oob=True, extra=[("error", message)])
        response = (body, status, {"HX-Reswap": "none"})
    else:
        title = TITLES.get(status, "Error")
        try:
            page = render_template("error.html", status=status, title=title, message=message)
        except Exception as exc:  # the page shows who is signed in, which needs the database
            if not is_outage(exc):
                raise
            return unavailable_response(exc)
        response = (page, status)
    return response


def unavailable_response(exc: BaseException):
    """503 with Retry-After while the database or Redis is out: a page that needs neither, a
    toast for htmx, Polar-style JSON under /v1. The next request reconnects: the pool pings a
    connection that sat idle (app/pg_engine.py) and replaces one that failed."""
    log.warning("Service unavailable on %s %s: %s", request.method, request.path,
                exc.__class__.__name__)
    rollback_quietly()
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    api = _api_of(request.path)
    if api == "iam":
        from .iam.envelope import unavailable as iam_unavailable

        return iam_unavailable()
    if api == "polar":
        from .api.errors import json_response

        return json_response(503, {"error": "ServiceUnavailable", "detail": UNAVAILABLE}, headers)
    if is_htmx():
        body = render_template("_toasts.html", oob=True, extra=[("error", UNAVAILABLE)])
        return body, 503, {**headers, "HX-Reswap": "none"}
    return render_template("unavailable.html", message=UNAVAILABLE), 503, headers


def _api_of(path: str) -> str | None:
    """Which JSON API a request path belongs to: "polar" (/v1), "iam" (/client/v4) or None."""
    from .api import serves as polar_serves
    from .iam import serves as iam_serves

    return "polar" if polar_serves(path) else "iam" if iam_serves(path) else None


def _api(exc: BaseException):
    """Errors under /v1 answer Polar's JSON (app/api/errors.py), under /client/v4 Cloudflare's
    v4 envelope (app/iam/envelope.py), never an HTML page."""
    api = _api_of(request.path)
    if api == "polar":
        from .api.errors import api_error_response

        return api_error_response(exc)
    if api == "iam":
        from .iam.envelope import error_response as iam_error_response

        return iam_error_response(exc)
    return None


def register(app: Flask) -> None:
    @app.before_request
    def no_redirects_in_the_apis():
        """Nothing under /v1 or /client/v4 redirects: the SDKs follow no redirect, and Werkzeug's
        308 is an HTML page. A path that only matches once its slashes are merged
        (`/v1//customers`, `accounts//…`) or changed (`/v1//` → the portal's `/<org_slug>/`) is
        not found, in that API's own error format."""
        if isinstance(request.routing_exception, RequestRedirect) and _api_of(request.path):
            request.routing_exception = NotFound()

    @app.errorhandler(PortalError)
    def portal_error(exc: PortalError):
        if (api := _api(exc)) is not None:
            return api
        response = make_response(error_response(exc.status, exc.message))
        if isinstance(exc, RateLimited):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        if (api := _api(exc)) is not None:
            return api
        return error_response(
            400, "This form has expired or was sent from elsewhere. Reload the page and try again."
        )

    @app.errorhandler(IntegrityError)
    def conflict(exc: IntegrityError):
        # The rules are checked under a row lock; this is the database's last word on a race.
        if (api := _api(exc)) is not None:
            return api
        log.warning("Integrity conflict on %s %s: %s", request.method, request.path, exc.orig)
        return error_response(409, "Someone else changed this at the same moment. Reload and try again.")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if (api := _api(exc)) is not None:
            return api
        message = exc.description if exc.code != 405 else "That action is not available here."
        if exc.code == 429:
            message = "Too many requests from your connection. Wait a few minutes and try again."
        elif exc.code == 413:
            limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
            message = (f"That was more than this page accepts at once (at most {limit // 1024:,} KB), "
                       "so nothing was saved. Go back and send less, for example a smaller logo.")
        return error_response(exc.code or 500, message)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        if is_outage(exc):
            return unavailable_response(exc)
        if (api := _api(exc)) is not None:
            return api
        log.exception("Unhandled error on %s %s", request.method, request.path)
        return error_response(500, "Something went wrong on our side. Please try again.")
