"""Cloudflare's v4 envelope for everything under /client/v4 (wire-contract §6.2, §6.5): one
function builds a success, one turns any exception into an error. Never HTML, never a trace.

    {"success": true, "errors": [], "messages": [], "result": …, "result_info": {…}}   (lists)
    {"success": false, "errors": [{"code": 1003, "message": "…"}], "messages": [], "result": null}

Answers where repeating the request cannot help (every 4xx but 408, 409 and 429) carry
`x-should-retry: false`, so the SDK's default retries (it retries 408, 409, 429 and ≥500) never
send a refused write again."""
from __future__ import annotations

import logging
import math

from flask import Response, jsonify
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, IntegrityError
from werkzeug.exceptions import HTTPException

from ..errors import NotFound, NotPermitted, PortalError, RateLimited, RuleViolation, Unauthorized
from ..extensions import rollback_quietly

log = logging.getLogger("portal.iam")

# Numeric error codes (documented in docs/api.md, "User groups").
INVALID_INPUT = 1001  # 400: a query parameter or body field has the wrong type or value
RULE = 1002  # 400: well formed, but a rule refuses it (name taken, too many groups…)
NOT_FOUND = 1003  # 404: the account, user group or member does not exist for this caller
CONFLICT = 1004  # 409: a concurrent change won; retrying is safe
TOO_LARGE = 1005  # 413
UNAVAILABLE = 1010  # 503: the database or Redis is out for a moment; retry
INTERNAL = 1011  # 500: a bug on our side
BAD_HEADERS = 6003  # 415: the body is not application/json
BAD_JSON = 6007  # 400: the body is not JSON
NO_ROUTE = 7000  # 404: no such path
METHOD = 7001  # 405
BAD_ID = 7003  # 404: an id that is neither 32 hex characters nor a UUID
THROTTLED = 971  # 429
FORBIDDEN = 9109  # 403: the token lacks the scope, or the member may not manage the team
AUTH = 10000  # 401: no, unknown, revoked or expired token

RETRYABLE = (408, 409, 429)


class IamError(Exception):
    """An error decided by this API's own layer (request shape, ids)."""

    def __init__(self, status: int, code: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


def _json(status: int, body: dict, headers: dict | None = None) -> Response:
    response = jsonify(body)
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    if 400 <= status < 500 and status not in RETRYABLE:
        response.headers["x-should-retry"] = "false"
    return response


def success(result, *, status: int = 200) -> Response:
    return _json(status, {"success": True, "errors": [], "messages": [], "result": result})


def listing(result: list, *, page: int, per_page: int, total: int) -> Response:
    info = {"page": page, "per_page": per_page, "count": len(result), "total_count": total,
            "total_pages": math.ceil(total / per_page) if per_page else 0}
    return _json(200, {"success": True, "errors": [], "messages": [], "result": result,
                       "result_info": info})


def failure(status: int, code: int, message: str, headers: dict | None = None) -> Response:
    body = {"success": False, "errors": [{"code": code, "message": message}], "messages": [],
            "result": None}
    return _json(status, body, headers)


def _from_polar_auth(exc) -> Response:
    """The /v1 bearer checks (app/api/auth.py) are reused; their ApiError becomes an envelope."""
    code = {401: AUTH, 403: FORBIDDEN}.get(exc.status, INVALID_INPUT)
    detail = exc.detail if isinstance(exc.detail, str) else "The request is not valid."
    return failure(exc.status, code, detail, exc.headers)


def _from_portal_error(exc: PortalError) -> Response:
    if isinstance(exc, NotFound):
        return failure(404, NOT_FOUND, exc.message)
    if isinstance(exc, NotPermitted):
        return failure(403, FORBIDDEN, exc.message)
    if isinstance(exc, Unauthorized):
        return failure(401, AUTH, exc.message, {"WWW-Authenticate": "Bearer"})
    if isinstance(exc, RateLimited):
        return failure(429, THROTTLED, exc.message, {"Retry-After": str(exc.retry_after)})
    if isinstance(exc, RuleViolation) or exc.status == 422:
        return failure(400, RULE, exc.message)
    status = exc.status if 400 <= exc.status < 500 else 400
    return failure(status, RULE, exc.message)


HTTP = {
    400: (INVALID_INPUT, "The request is not valid."),
    404: (NO_ROUTE, "No route for that URI."),
    405: (METHOD, "Method not allowed for this endpoint."),
    413: (TOO_LARGE, "The request body is too large."),
    415: (BAD_HEADERS, "Send the body as JSON, with the header Content-Type: application/json."),
    429: (THROTTLED, "Too many requests. Wait before trying again."),
}


def _from_http(exc: HTTPException) -> Response:
    status = exc.code or 500
    code, message = HTTP.get(status, (INVALID_INPUT if status < 500 else INTERNAL,
                                      exc.description or "Error."))
    headers = {}
    if status == 405 and getattr(exc, "valid_methods", None):
        headers["Allow"] = ", ".join(exc.valid_methods)
    if status == 429:
        retry_after = getattr(exc, "retry_after", None) or 60
        headers["Retry-After"] = str(int(retry_after))
    return failure(status, code, message, headers)


def unavailable() -> Response:
    """503 while the database or Redis is out (errors_web.unavailable_response logs it)."""
    from ..observability import RETRY_AFTER_SECONDS, UNAVAILABLE as UNAVAILABLE_TEXT

    return failure(503, UNAVAILABLE, UNAVAILABLE_TEXT, {"Retry-After": str(RETRY_AFTER_SECONDS)})


def error_response(exc: BaseException) -> Response:
    """Any exception raised while serving /client/v4, as a v4 error envelope."""
    from ..api.errors import ApiError
    from ..errors_web import unavailable_response
    from ..observability import is_outage

    if is_outage(exc):
        return unavailable_response(exc)
    rollback_quietly()
    if isinstance(exc, IamError):
        return failure(exc.status, exc.code, exc.message, exc.headers)
    if isinstance(exc, ApiError):
        return _from_polar_auth(exc)
    if isinstance(exc, PortalError):
        return _from_portal_error(exc)
    if isinstance(exc, CSRFError):
        return failure(400, INVALID_INPUT, exc.description)
    if isinstance(exc, IntegrityError):
        log.warning("Integrity conflict in /client/v4: %s", exc.orig)
        return failure(409, CONFLICT, "Someone else changed this at the same moment. Retry.")
    if isinstance(exc, DataError):
        log.warning("Data error in /client/v4: %s", exc.orig)
        return failure(400, INVALID_INPUT, "A value is too long or out of range.")
    if isinstance(exc, HTTPException):
        return _from_http(exc)
    log.exception("Unhandled error in /client/v4")
    return failure(500, INTERNAL, "Something went wrong on our side.")
