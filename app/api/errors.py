"""Polar's error JSON, for everything under /v1: one function turns any exception into it.

Shapes (see shared/reference/wire-contract.md §3.9):
  {"error": "<Name>", "detail": "<message>"}           401, 403, 404, 405, 409, 413, 429…
  {"error": "PolarRequestValidationError",
   "detail": [{"loc": [...], "msg": "...", "type": "...", "input": ...}]}   422
"""
from __future__ import annotations

import logging

from flask import Response, jsonify
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, IntegrityError
from werkzeug.exceptions import HTTPException

from ..errors import InvalidToken, PortalError, RateLimited
from ..extensions import rollback_quietly

log = logging.getLogger("portal.api")

HTTP_NAMES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "NotPermitted",
    404: "ResourceNotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType",
    429: "TooManyRequests",
}


class ApiError(Exception):
    """An error decided by the API layer itself (auth, request shape)."""

    def __init__(self, status: int, error: str, detail, *, headers: dict | None = None,
                 extra: dict | None = None):
        super().__init__(detail)
        self.status = status
        self.error = error
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra or {}


def validation_error(items: list[dict]) -> ApiError:
    return ApiError(422, "PolarRequestValidationError", items)


def issue(loc: list, msg: str, type_: str = "value_error", input_=None) -> dict:
    return {"loc": list(loc), "msg": msg, "type": type_, "input": input_}


def from_pydantic(errors: list[dict], where: str) -> ApiError:
    """Pydantic's errors, located like FastAPI's: ["body", "role"], ["query", "page"]…"""
    return validation_error([
        issue([where, *e["loc"]], e["msg"], e["type"], _plain(e.get("input")))
        for e in errors
    ])


def _plain(value):
    """Keep `input` JSON-serializable whatever pydantic saw."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def json_response(status: int, body, headers: dict | None = None) -> Response:
    response = jsonify(body)
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _portal_error(exc: PortalError, path_input=None) -> Response:
    if exc.status == 422 and exc.field:
        loc = ["path", "id"] if exc.field == "id" else ["body", exc.field]
        item = issue(loc, exc.message, "value_error", path_input if exc.field == "id" else None)
        return json_response(422, {"error": "PolarRequestValidationError", "detail": [item]})
    if exc.status == 422:
        return json_response(422, {"error": "PolarRequestValidationError",
                                   "detail": [issue(["body"], exc.message)]})
    headers = {}
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    error = exc.error
    if type(exc) in (PortalError, InvalidToken):
        error = HTTP_NAMES.get(exc.status, exc.error)
    return json_response(exc.status, {"error": error, "detail": exc.message}, headers)


def api_error_response(exc: BaseException) -> Response:
    """Any exception raised while serving /v1, as Polar's error JSON. Never HTML, never a trace."""
    from ..observability import is_outage

    if is_outage(exc):
        from ..errors_web import unavailable_response

        return unavailable_response(exc)
    rollback_quietly()
    if isinstance(exc, ApiError):
        body = {"error": exc.error, "detail": exc.detail, **exc.extra}
        return json_response(exc.status, body, exc.headers)
    if isinstance(exc, PortalError):
        from flask import request

        return _portal_error(exc, (request.view_args or {}).get("id"))
    if isinstance(exc, CSRFError):
        return json_response(400, {"error": "BadRequest", "detail": exc.description})
    if isinstance(exc, IntegrityError):
        log.warning("Integrity conflict in the API: %s", exc.orig)
        return json_response(409, {"error": "Conflict", "detail": "Someone else changed this "
                                                                  "at the same moment. Retry."})
    if isinstance(exc, DataError):
        # A value the database refuses (too long, out of range): bad input, not a server fault.
        log.warning("Data error in the API: %s", exc.orig)
        return json_response(422, {"error": "PolarRequestValidationError", "detail": [
            issue(["body"], "A value is too long or out of range.", "value_error")]})
    if isinstance(exc, HTTPException):
        status = exc.code or 500
        detail = {
            404: "Not found.",
            405: "This method is not allowed on this path.",
            413: "The request body is too large.",
        }.get(status, exc.description or "Error.")
        if status == 429:
            detail = "Too many requests. Wait before trying again."
        headers = {}
        if status == 405 and getattr(exc, "valid_methods", None):
            headers["Allow"] = ", ".join(exc.valid_methods)
        return json_response(status, {"error": HTTP_NAMES.get(status, "Error"), "detail": detail},
                             headers)
    log.exception("Unhandled error in the API")
    return json_response(500, {"error": "InternalServerError",
                               "detail": "Something went wrong on our side."})
