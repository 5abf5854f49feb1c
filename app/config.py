"""Settings read from environment variables, with defaults that are safe for local use."""
from __future__ import annotations

import os
import re
from pathlib import Path

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
    client_limit = os.environ.get("SIGNIN_CLIENT_LIMIT", "20 per 10 minutes")
    try:
        parse_many(client_limit)
    except ValueError:  # Flask-Limiter would log it and quietly apply no limit at all
        raise ConfigError(
            f"SIGNIN_CLIENT_LIMIT must look like '20 per 10 minutes', got {client_limit!r}"
        ) from None
    secret = os.environ.get("SECRET_KEY", "")
    if production and (not secret or secret == DEV_SECRET_KEY or len(secret) < 16):
        raise ConfigError(
            "SECRET_KEY must be set to a long random value when PORTAL_ENV=production "
            "(for example: python -c 'import secrets; print(secrets.token_hex(32))')"
        )
    default_db = "sqlite:///" + str(Path(instance_path) / "portal.db")
    # Cookies are Secure by default; plain-http local use turns that off explicitly.
    secure_cookies = _bool(os.environ.get("SESSION_COOKIE_SECURE"), production)
    return {
        "PORTAL_ENV": env,
        "SECRET_KEY": secret or DEV_SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": normalize_database_url(
            os.environ.get("DATABASE_URL") or default_db
        ),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SMTP_URL": smtp_url,
        "SMTP_TIMEOUT": _int("SMTP_TIMEOUT", 10),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "Team Portal <portal@localhost>"),
        "BASE_URL": os.environ.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "SESSION_COOKIE_NAME": "portal_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SECURE": secure_cookies,
        # SameSite=None (needed inside a cross-site iframe) is only accepted on Secure cookies.
        "SESSION_COOKIE_SAMESITE": "None" if secure_cookies else "Lax",
        "SESSION_COOKIE_PARTITIONED": secure_cookies,
        "PORTAL_SESSION_HOURS": _int("PORTAL_SESSION_HOURS", 12),
        "SIGNIN_TOKEN_MINUTES": 15,
        "SIGNIN_MAX_PER_EMAIL": _int("SIGNIN_MAX_PER_EMAIL", 5),
        "SIGNIN_WINDOW_MINUTES": 15,
        "SIGNIN_CLIENT_LIMIT": client_limit,
        "INVITATION_DAYS": _int("INVITATION_DAYS", 7),
        "RESEND_COOLDOWN_SECONDS": _int("RESEND_COOLDOWN_SECONDS", 60),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "TRUSTED_PROXIES": _int("TRUSTED_PROXIES", 0),
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        # Webhooks: endpoint secrets are encrypted with a key derived from this (or SECRET_KEY).
        "WEBHOOK_SECRET_KEY": os.environ.get("WEBHOOK_SECRET_KEY") or None,
        "WEBHOOK_TIMEOUT_SECONDS": _int("WEBHOOK_TIMEOUT_SECONDS", 10),
        "WEBHOOK_RETRY_DELAYS": _delays("WEBHOOK_RETRY_DELAYS"),  # None: about 3 days
        "WEBHOOK_BATCH": _int("WEBHOOK_BATCH", 100),
    }


def normalize_database_url(url: str) -> str:
    """Accept the common `postgres://` spellings and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
