"""PortalLimiter skips Flask-Limiter's before_request pass only when that pass has nothing to
apply: default limits still apply to every route, a route's own limit still applies without them.
A limiter of its own per test (the app's is a process-wide singleton)."""
from __future__ import annotations

from flask import Flask
from flask_limiter.util import get_remote_address

from app.extensions import PortalLimiter


def _app(limiter: PortalLimiter) -> Flask:
    app = Flask(__name__)
    app.config["RATELIMIT_STORAGE_URI"] = "memory://"
    # A moving window: a fixed one-minute window restarts at the minute, between two requests.
    app.config["RATELIMIT_STRATEGY"] = "moving-window"
    limiter.init_app(app)

    @app.get("/open")
    def open_route():
        return "ok"

    @app.get("/limited")
    @limiter.limit("2 per minute")
    def limited_route():
        return "ok"

    return app


def test_default_limits_still_apply_to_routes_without_their_own():
    limiter = PortalLimiter(key_func=get_remote_address, default_limits=["1 per minute"])
    client = _app(limiter).test_client()
    assert limiter._has_middleware_limits()
    assert [client.get("/open").status_code for _ in range(2)] == [200, 429]


def test_a_routes_own_limit_applies_without_any_default():
    limiter = PortalLimiter(key_func=get_remote_address, default_limits=[])
    client = _app(limiter).test_client()
    assert not limiter._has_middleware_limits()
    assert [client.get("/limited").status_code for _ in range(3)] == [200, 200, 429]
    assert [client.get("/open").status_code for _ in range(5)] == [200] * 5


def test_the_pass_runs_when_flask_limiters_internals_are_not_what_it_expects():
    limiter = PortalLimiter(key_func=get_remote_address, default_limits=[])
    _app(limiter)
    del limiter._meta_limits  # as if a release had renamed it
    assert limiter._has_middleware_limits()
