"""Request ids and one structured log line per request.

Every request gets an id: the load balancer's `X-Request-ID` when it sends a sane one, else a
new one. It is echoed in the `X-Request-ID` answer header, shown on error pages, and put on every
log line written while the request runs. The request line never holds a query string or a path
segment that is a token (claim links), so access logs carry no secret."""
from __future__ import annotations

import logging
import os
import re
import time

from flask import Flask, g, has_request_context, request
from limits.errors import StorageError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

RETRY_AFTER_SECONDS = 5
UNAVAILABLE = (
    "The service cannot reach its database or cache right now. Please try again in a few seconds."
)
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
log = logging.getLogger("portal.request")


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = (g.get("request_id") if has_request_context() else None) or "-"
        return True


def is_outage(exc: BaseException) -> bool:
    """A lost or refused database connection, an exhausted pool, or a rate-limit storage that
    does not answer: the request may work in a moment, so it is a 503, not a 500."""
    if isinstance(exc, (OperationalError, InterfaceError, PoolTimeout, StorageError)):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def new_request_id() -> str:
    """32 random hex digits, the format `uuid.uuid4().hex` gave (0.4 µs instead of 1.6 µs)."""
    return os.urandom(16).hex()


def request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


def _logged_path(req) -> str:
    """The path, with any token in it (a view argument named …token) replaced."""
    path = req.path
    for name, value in (req.view_args or {}).items():
        if "token" in name and isinstance(value, str) and value:
            path = path.replace(value, "[token]")
    return path


def install(app: Flask) -> None:
    # An app-level URL value preprocessor runs before the blueprints' ones (which load the
    # organization from the database) and before any before_request: the id exists even when
    # the very first query fails.
    # The two hooks below run on every request: each proxy (`g`, `request`) is resolved once.
    @app.url_value_preprocessor
    def start_request(endpoint, values):
        ctx_g = g._get_current_object()
        offered = request.environ.get("HTTP_X_REQUEST_ID", "")
        ctx_g.request_id = offered if offered and REQUEST_ID_RE.match(offered) else new_request_id()
        ctx_g.request_started = time.perf_counter()

    @app.after_request
    def log_request(response):
        ctx_g = g._get_current_object()
        req = request._get_current_object()
        rid = getattr(ctx_g, "request_id", None) or new_request_id()
        response.headers["X-Request-ID"] = rid
        path = req.path
        if path.startswith("/static/"):
            return response
        if log.isEnabledFor(logging.INFO):
            started = getattr(ctx_g, "request_started", None)
            took = (time.perf_counter() - started) * 1000 if started is not None else 0.0
            log.info("request method=%s path=%s status=%d duration_ms=%.1f client=%s",
                     req.method, _logged_path(req) if req.view_args else path,
                     response.status_code, took, req.remote_addr or "-")
        return response

    @app.get("/readyz")
    def readyz():
        """Readiness probe: 200 when the database (and Redis, when configured) answer, else 503."""
        from . import config as config_module
        from .extensions import db, limiter

        checks = {}
        try:
            with db.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception:  # noqa: BLE001 - any failure means "not ready"
            log.warning("readyz: the database does not answer")
            checks["database"] = "unavailable"
        if config_module.is_redis(app.config["RATELIMIT_STORAGE_URI"]):
            try:
                checks["redis"] = "ok" if limiter.storage.check() else "unavailable"
            except Exception:  # noqa: BLE001
                checks["redis"] = "unavailable"
        ready = all(v == "ok" for v in checks.values())
        headers = {} if ready else {"Retry-After": str(RETRY_AFTER_SECONDS)}
        return {"status": "ok" if ready else "unavailable", "checks": checks}, \
            200 if ready else 503, headers

    @app.context_processor
    def expose_request_id():
        return {"request_id": request_id()}
