"""Request ids and one structured log line per request.

Every request gets an id: the load balancer's `X-Request-ID` when it sends a sane one, else a
new one. It is echoed in the `X-Request-ID` answer header, shown on error pages, and put on every
log line written while the request runs. The request line never holds a query string or a path
segment that is a token (claim links), so access logs carry no secret."""
from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, g, has_request_context, request

REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
log = logging.getLogger("portal.request")


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = (g.get("request_id") if has_request_context() else None) or "-"
        return True


def request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


def _logged_path() -> str:
    """The path, with any token in it (a view argument named …token) replaced."""
    path = request.path
    for name, value in (request.view_args or {}).items():
        if "token" in name and isinstance(value, str) and value:
            path = path.replace(value, "[token]")
    return path


def install(app: Flask) -> None:
    @app.before_request
    def start_request():
        offered = request.headers.get("X-Request-ID", "")
        g.request_id = offered if REQUEST_ID_RE.match(offered) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def log_request(response):
        rid = g.get("request_id") or uuid.uuid4().hex
        response.headers["X-Request-ID"] = rid
        if request.path.startswith("/static/"):
            return response
        took = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
        log.info("request method=%s path=%s status=%d duration_ms=%.1f client=%s",
                 request.method, _logged_path(), response.status_code, took,
                 request.remote_addr or "-")
        return response

    @app.context_processor
    def expose_request_id():
        return {"request_id": request_id()}
