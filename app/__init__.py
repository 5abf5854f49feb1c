"""Team Portal: a self-hostable customer portal for team and seat management."""
from __future__ import annotations

import logging
import os
from inspect import iscoroutinefunction

from flask import Flask, g, request
from flask.sessions import SecureCookieSessionInterface
from limits.errors import ConfigurationError
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config as config_module
from . import models
from .extensions import csrf, db, limiter, login_manager, migrate

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, building the signing serializer once per set of keys
    instead of twice per request (opening and saving the session). A changed SECRET_KEY or
    SECRET_KEY_FALLBACKS gives a new one."""

    def __init__(self):
        self._serializers: dict = {}

    def get_signing_serializer(self, app):
        if not app.secret_key:
            return None
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        serializer = self._serializers.get(keys)
        if serializer is None:
            serializer = super().get_signing_serializer(app)
            self._serializers = {keys: serializer}
        return serializer


class PortalFlask(Flask):
    """Flask, remembering which hooks and views are plain functions: `ensure_sync` runs for every
    hook of every request (~12), and `inspect.iscoroutinefunction` unwraps each of them."""

    _SYNC_CACHE_MAX = 4096

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._plain_functions: dict = {}
        self.session_interface = CookieSessions()

    def ensure_sync(self, func):
        try:
            if self._plain_functions.get(func):
                return func
        except TypeError:  # an unhashable callable: ask every time
            return super().ensure_sync(func)
        if iscoroutinefunction(func):
            return self.async_to_sync(func)
        if len(self._plain_functions) < self._SYNC_CACHE_MAX:
            self._plain_functions[func] = True
        return func


def create_app(config: dict | None = None) -> Flask:
    """Build the application; `config` (tests) overrides what the environment gives."""
    app = PortalFlask(
        __name__,
        template_folder=os.path.join(ROOT, "templates"),
        static_folder=os.path.join(ROOT, "static"),
        instance_path=os.environ.get("INSTANCE_PATH") or os.path.join(ROOT, "instance"),
    )
    try:
        app.config.update(config_module.from_env(app.instance_path))
    except config_module.ConfigError as exc:
        raise SystemExit(f"Team Portal cannot start: {exc}") from None
    if config:
        app.config.update(config)
    _configure_logging(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        os.makedirs(app.instance_path, exist_ok=True)
    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", config_module.engine_options(
        app.config["SQLALCHEMY_DATABASE_URI"], app.config["DATABASE_PING_IDLE_SECONDS"]))
    storage_uri = app.config["RATELIMIT_STORAGE_URI"]
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS",
                          config_module.rate_limit_storage_options(storage_uri))
    db.init_app(app)

    # Runs before Flask-SQLAlchemy's own teardown (teardowns run last-registered first): when the
    # connection died after the answer was built, closing the session raises; drop it instead,
    # so the answer goes out instead of a 500 (the pool replaces the dead connection).
    @app.teardown_appcontext
    def release_session(exc):
        try:
            db.session.remove()
        except Exception:  # noqa: BLE001 - the database went away meanwhile
            logging.getLogger("portal.errors").warning("Database connection lost at teardown")
            db.session.registry.clear()

    migrate.init_app(app, db, directory=os.path.join(ROOT, "migrations"),
                     include_object=models.migrations_compare)
    csrf.init_app(app)
    try:
        limiter.init_app(app)
    except ConfigurationError as exc:  # e.g. "'redis' prerequisite not available"
        raise SystemExit(f"Team Portal cannot start: RATELIMIT_STORAGE_URI: {exc}") from None
    if config_module.is_redis(storage_uri) and not _storage_answers():
        raise SystemExit(
            "Team Portal cannot start: Redis at RATELIMIT_STORAGE_URI "
            f"({config_module.redacted(storage_uri)}) is not reachable; start it or fix the URL"
        )
    login_manager.init_app(app)

    from .api import bp as api_bp
    from .api import openapi_bp
    from .auth import bp as auth_bp
    from .auth.embed import install as install_embedding
    from .auth.session import install as install_session
    from .portal import bp as portal_bp
    from .cli import register as register_cli
    from .errors_web import register as register_error_handlers
    from .home import bp as home_bp
    from .iam import bp as iam_bp
    from .observability import install as install_observability
    from .web import avatar_tone, initials, install_macros, readable

    install_observability(app)
    install_session(app)
    install_embedding(app)
    app.register_blueprint(auth_bp)
    app.register_blueprint(portal_bp)
    csrf.exempt(api_bp)  # bearer tokens, no cookies: CSRF does not apply
    app.register_blueprint(api_bp)
    app.register_blueprint(openapi_bp)
    csrf.exempt(iam_bp)  # the Cloudflare-compatible API: bearer tokens too
    app.register_blueprint(iam_bp)
    app.register_blueprint(home_bp)
    register_error_handlers(app)
    app.add_template_filter(readable)
    app.add_template_filter(initials)
    app.add_template_filter(avatar_tone)
    install_macros(app)
    register_cli(app)

    # Every answer carries these; the values only vary with the organization's logo origin and
    # allowed frame ancestors (set by tenancy.org_scoped), so the common CSP is built once.
    hsts = (f"max-age={int(app.config['HSTS_MAX_AGE'])}"
            if app.config.get("HSTS_MAX_AGE") else None)
    default_csp = _csp(None, None)

    @app.after_request
    def security_headers(response):
        ctx_g = g._get_current_object()
        req = request._get_current_object()
        headers = response.headers
        present = {key.lower() for key, _ in headers} if headers else ()
        if "x-content-type-options" not in present:
            headers.add("X-Content-Type-Options", "nosniff")
        if req.args.get("token"):
            # A claim or sign-in link: its page's own requests must not carry the token away.
            headers["Referrer-Policy"] = "no-referrer"
        elif "referrer-policy" not in present:
            headers.add("Referrer-Policy", "same-origin")
        if "content-security-policy" not in present:
            img_origin = getattr(ctx_g, "img_origin", None)
            frame_ancestors = getattr(ctx_g, "frame_ancestors", None)
            headers.add("Content-Security-Policy",
                        _csp(img_origin, frame_ancestors) if img_origin or frame_ancestors
                        else default_csp)
        if hsts and "strict-transport-security" not in present:
            headers.add("Strict-Transport-Security", hsts)
        if req.path.startswith("/static/"):
            return response
        if "cache-control" not in present:
            headers.add("Cache-Control", "no-store")
        return response

    @app.get("/healthz")
    def healthz():
        """Liveness probe for load balancers."""
        return {"status": "ok"}

    if app.config["PORTAL_ENV"] == "production" and not app.config["SMTP_URL"]:
        app.logger.warning("SMTP_URL is not set: email stays queued until it is set.")
    return app


def _csp(img_origin: str | None, frame_ancestors: str | None) -> str:
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"img-src 'self' data:{' ' + img_origin if img_origin else ''}; "
        "base-uri 'self'; form-action 'self'; "
        f"frame-ancestors {frame_ancestors or chr(39) + 'none' + chr(39)}"
    )


def _storage_answers() -> bool:
    try:
        return bool(limiter.storage.check())
    except Exception:  # noqa: BLE001 - any failure to answer means "not reachable"
        return False


def _configure_logging(app: Flask) -> None:
    from .observability import RequestIdFilter

    if not logging.getLogger("portal").handlers:
        handler = logging.StreamHandler()
        handler.addFilter(RequestIdFilter())
        handler.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s request_id=%(request_id)s: %(message)s"))
        logger = logging.getLogger("portal")
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = True


@event.listens_for(Engine, "connect")
def _sqlite_foreign_keys(dbapi_connection, connection_record):
    """SQLite checks foreign keys only when asked, per connection, and its own lower() folds only
    ASCII: use Python's, so `JÖRG@…` and `jörg@…` are one email here as on PostgreSQL."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        dbapi_connection.create_function(
            "lower", 1, lambda s: s.lower() if isinstance(s, str) else s, deterministic=True
        )
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()
