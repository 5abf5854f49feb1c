"""Settings read from environment variables, with defaults that are safe for local use."""
from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

from limits import parse_many

DEV_SECRET_KEY = "dev-only-insecure-secret-key"
ENVIRONMENTS = ("development", "production")
SMTP_URL_RE = re.compile(r"^smtps?://[^/?#]+")


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message is one line for the operator."""


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None


def _limit(name: str, default: str) -> str:
    value = os.environ.get(name, default).strip() or default
    try:
        parse_many(value)
    except ValueError:  # Flask-Limiter would log it and quietly apply no limit at all
        raise ConfigError(f"{name} must look like '{default}', got {value!r}") from None
    return value


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{name} cannot be negative, got {raw!r}")
    return value


def _delays(name: str) -> tuple[float, ...] | None:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return None
    try:
        delays = tuple(float(part) for part in raw.split(","))
    except ValueError:
        raise ConfigError(f"{name} must be seconds separated by commas, got {raw!r}") from None
    if not delays or any(d < 0 for d in delays):
        raise ConfigError(f"{name} must be seconds separated by commas, got {raw!r}")
    return delays


def from_env(instance_path: str) -> dict:
    """Build the Flask config mapping from the process environment."""
    env = os.environ.get("PORTAL_ENV", "development").strip().lower() or "development"
    if env not in ENVIRONMENTS:
        # A typo such as "prod" must not quietly run with the development key and cookies.
        raise ConfigError(f"PORTAL_ENV must be one of {', '.join(ENVIRONMENTS)}, got {env!r}")
    production = env == "production"
    smtp_url = os.environ.get("SMTP_URL") or None
    if smtp_url and not SMTP_URL_RE.match(smtp_url):
        raise ConfigError("SMTP_URL must look like smtp://host:port, smtps://host:port or "
                          "smtp://user:password@host:port?starttls=1")
    client_limit = _limit("SIGNIN_CLIENT_LIMIT", "20 per 10 minutes")
    secret = os.environ.get("SECRET_KEY", "")
    if production and (not secret or secret == DEV_SECRET_KEY or len(secret) < 16):
        raise ConfigError(
            "SECRET_KEY must be set to a long random value when PORTAL_ENV=production "
            "(for example: python -c 'import secrets; print(secrets.token_hex(32))')"
        )
    storage_uri = os.environ.get("RATELIMIT_STORAGE_URI", "memory://").strip() or "memory://"
    default_db = "sqlite:///" + str(Path(instance_path) / "portal.db")
    base_url = os.environ.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    database_url = normalize_database_url(os.environ.get("DATABASE_URL") or default_db)
    _check_database_url(database_url)
    secure_cookies = _bool(os.environ.get("SESSION_COOKIE_SECURE"),
                           production or secure_context(base_url))
    return {
        "PORTAL_ENV": env,
        "SECRET_KEY": secret or DEV_SECRET_KEY,
        # Old keys still accepted for signed cookies while a new SECRET_KEY rolls out.
        "SECRET_KEY_FALLBACKS": [k.strip() for k in os.environ.get("SECRET_KEY_FALLBACKS", "")
                                 .split(",") if k.strip()],
        "SQLALCHEMY_DATABASE_URI": database_url,
        # SQLALCHEMY_ENGINE_OPTIONS: engine_options(), once the database URL is final.
        "DATABASE_PING_IDLE_SECONDS": _float("DATABASE_PING_IDLE_SECONDS", 1.0),
        "SMTP_URL": smtp_url,
        "SMTP_TIMEOUT": _int("SMTP_TIMEOUT", 10),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "Team Portal <portal@localhost>"),
        # Right after commit, a background thread of the web process tries the new mail once.
        # Keep it for the single-process demo; with `flask worker` running, set it to 0.
        "MAIL_DELIVER_ON_COMMIT": _bool(os.environ.get("MAIL_DELIVER_ON_COMMIT"), True),
        "MAIL_RETRY_SECONDS": _float("MAIL_RETRY_SECONDS", 60),  # first retry; doubles each time
        "MAIL_RETRY_MAX_SECONDS": _float("MAIL_RETRY_MAX_SECONDS", 6 * 3600),
        "MAIL_MAX_ATTEMPTS": _int("MAIL_MAX_ATTEMPTS", 12),  # then the mail is marked failed
        "MAIL_PERMANENT_ATTEMPTS": _int("MAIL_PERMANENT_ATTEMPTS", 3),  # for 5xx and unbuildable
        "MAIL_CLAIM_SECONDS": _float("MAIL_CLAIM_SECONDS", 300),  # a worker's claim on one mail
        "MAIL_BATCH": _int("MAIL_BATCH", 100),  # attempts per run of the mail job at most
        "WORKER_POLL_SECONDS": _float("WORKER_POLL_SECONDS", 1),
        "BASE_URL": base_url,
        "SESSION_COOKIE_NAME": "portal_session",
        "SESSION_COOKIE_HTTPONLY": True,
        **cookie_settings(secure_cookies),
        "PORTAL_SESSION_HOURS": _int("PORTAL_SESSION_HOURS", 12),
        "SIGNIN_TOKEN_MINUTES": 15,
        "SIGNIN_MAX_PER_EMAIL": _int("SIGNIN_MAX_PER_EMAIL", 5),
        "SIGNIN_WINDOW_MINUTES": 15,
        "SIGNIN_CLIENT_LIMIT": client_limit,
        "INVITATION_DAYS": _int("INVITATION_DAYS", 7),
        "RESEND_COOLDOWN_SECONDS": _int("RESEND_COOLDOWN_SECONDS", 60),
        # Invitation emails (assign, resend and an invitee's new-link request, counted together).
        "INVITATIONS_PER_TEAM": _limit("INVITATIONS_PER_TEAM", "50 per hour"),
        "INVITATIONS_PER_ADDRESS": _limit("INVITATIONS_PER_ADDRESS", "3 per day"),
        "RATELIMIT_STORAGE_URI": storage_uri,
        "RATELIMIT_HEADERS_ENABLED": True,
        "TRUSTED_PROXIES": _int("TRUSTED_PROXIES", 0),
        # Strict-Transport-Security in production (seconds; 0 turns it off).
        "HSTS_MAX_AGE": _int("HSTS_MAX_AGE", 31536000) if production else 0,
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        # Webhooks: endpoint secrets are encrypted with a key derived from this (or SECRET_KEY).
        "WEBHOOK_SECRET_KEY": os.environ.get("WEBHOOK_SECRET_KEY") or None,
        "WEBHOOK_TIMEOUT_SECONDS": _int("WEBHOOK_TIMEOUT_SECONDS", 10),
        "WEBHOOK_RETRY_DELAYS": _delays("WEBHOOK_RETRY_DELAYS"),  # None: about 3 days
        "WEBHOOK_BATCH": _int("WEBHOOK_BATCH", 100),
    }


def is_redis(uri: str) -> bool:
    return uri.split("://", 1)[0].startswith(("redis", "rediss"))


def rate_limit_storage_options(uri: str) -> dict:
    """A Redis that stops answering is an outage (503 from the error handlers), never a request
    that hangs: short timeouts, and errors wrapped as limits' StorageError."""
    if not is_redis(uri):
        return {}
    return {"socket_connect_timeout": 2, "socket_timeout": 2, "wrap_exceptions": True}


def redacted(uri: str) -> str:
    """A storage or database URL without its password, for messages."""
    return re.sub(r"//([^:/@]*):[^@/]*@", r"//\1:***@", uri)


LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}


def secure_context(base_url: str) -> bool:
    """Whether browsers keep Secure cookies for this address: https, or a loopback host (which
    browsers treat as secure even over plain http)."""
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    return parts.scheme == "https" or host in LOOPBACK_HOSTS or host.startswith("127.")


def cookie_settings(secure: bool) -> dict:
    """Secure cookies are `SameSite=None; Partitioned`, so the session survives inside a
    vendor's cross-site iframe; SameSite=None is only accepted on Secure cookies, so a plain-http
    deployment gets `Lax` cookies (and no session inside frames)."""
    return {"SESSION_COOKIE_SECURE": secure,
            "SESSION_COOKIE_SAMESITE": "None" if secure else "Lax",
            "SESSION_COOKIE_PARTITIONED": secure}


def engine_options(database_url: str, ping_idle_seconds: float = 1.0) -> dict:
    """On PostgreSQL (psycopg), app.pg_engine: a connection is pinged only when it was idle longer
    than `ping_idle_seconds`, and read-only transactions end with COMMIT so psycopg's prepared
    statements survive; elsewhere pool_pre_ping (a ping at every checkout)."""
    if database_url.startswith("postgresql+psycopg://"):
        from app import pg_engine

        return {"plugins": [pg_engine.PLUGIN], "portal_ping_idle_seconds": ping_idle_seconds}
    return {"pool_pre_ping": True}


def _check_database_url(url: str) -> None:
    """A DATABASE_URL SQLAlchemy cannot use is one line at start, not a traceback later."""
    from sqlalchemy.engine import make_url

    try:
        make_url(url).get_dialect().import_dbapi()
    except Exception as exc:  # noqa: BLE001 - ArgumentError, NoSuchModuleError, ImportError
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        raise ConfigError(
            "DATABASE_URL must be postgresql://user:password@host/database or sqlite:///path "
            f"({reason})") from None


def normalize_database_url(url: str) -> str:
    """Accept the common `postgres://` spellings and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
