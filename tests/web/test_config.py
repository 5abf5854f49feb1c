"""Configuration from the environment: production refuses to start without a real secret, with a
one-line message; cookies fit a third-party iframe in production and plain http when asked."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.config import DEV_SECRET_KEY
from tests.factories import make_org

ROOT = Path(__file__).resolve().parents[2]
GOOD_SECRET = "c0ffee" * 8
PORTAL_VARIABLES = ("PORTAL_ENV", "SECRET_KEY", "SMTP_URL", "SESSION_COOKIE_SECURE", "DATABASE_URL",
                    "BASE_URL", "PORTAL_SESSION_HOURS", "SIGNIN_CLIENT_LIMIT")


def start(tmp_path, **env_vars) -> subprocess.CompletedProcess:
    """`python -c 'from wsgi import app'` (what gunicorn does) with this environment."""
    env = {k: v for k, v in os.environ.items() if k not in PORTAL_VARIABLES}
    env.update(INSTANCE_PATH=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path}/c.db",
               PYTHONPATH=str(ROOT))
    env.update(env_vars)
    return subprocess.run([sys.executable, "-c", "from wsgi import app"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def refused(result, message: str) -> None:
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith("Team Portal cannot start: ")
    assert message in lines[0]


class TestProductionSecret:
    @pytest.mark.parametrize("secret", [None, "", DEV_SECRET_KEY, "short"],
                             ids=["missing", "empty", "default", "short"])
    def test_refuses_to_start_with_a_one_line_message(self, tmp_path, secret):
        env = {"PORTAL_ENV": "production"}
        if secret is not None:
            env["SECRET_KEY"] = secret
        refused(start(tmp_path, **env), "SECRET_KEY must be set to a long random value")

    def test_starts_with_a_real_secret(self, tmp_path):
        result = start(tmp_path, PORTAL_ENV="production", SECRET_KEY=GOOD_SECRET,
                       SMTP_URL="smtp://127.0.0.1:2525")
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""

    def test_without_smtp_the_warning_says_mail_stays_queued(self, tmp_path):
        """In production mail is never written to the log: the warning at start (shown before
        every `flask --app wsgi …` command) must not say it is."""
        result = start(tmp_path, PORTAL_ENV="production", SECRET_KEY=GOOD_SECRET)
        assert result.returncode == 0, result.stderr
        assert "SMTP_URL is not set: email stays queued until it is set." in result.stderr
        assert "written to the log" not in result.stderr

    @pytest.mark.parametrize("url", ["bogus://x", "not a url", "mysql://u:p@h/db"])
    def test_a_database_url_it_cannot_use_is_a_one_line_message(self, tmp_path, url):
        refused(start(tmp_path, DATABASE_URL=url), "DATABASE_URL")

    def test_production_is_recognised_in_any_case(self, tmp_path):
        refused(start(tmp_path, PORTAL_ENV=" Production "), "SECRET_KEY must be set")

    def test_development_runs_without_a_secret(self, tmp_path):
        result = start(tmp_path)
        assert result.returncode == 0, result.stderr

    def test_the_cli_refuses_too(self, tmp_path):
        env = {k: v for k, v in os.environ.items() if k not in PORTAL_VARIABLES}
        env.update(INSTANCE_PATH=str(tmp_path), PORTAL_ENV="production", PYTHONPATH=str(ROOT))
        result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
                                cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode != 0
        assert "SECRET_KEY must be set to a long random value" in result.stderr
        assert "Traceback" not in result.stderr


class TestOtherSettings:
    def test_a_misspelt_environment_is_refused(self, tmp_path):
        refused(start(tmp_path, PORTAL_ENV="prod"), "PORTAL_ENV must be one of development, production")

    def test_a_number_that_is_not_a_number_is_refused(self, tmp_path):
        refused(start(tmp_path, PORTAL_SESSION_HOURS="twelve"),
                "PORTAL_SESSION_HOURS must be a whole number, got 'twelve'")

    def test_a_malformed_smtp_url_is_refused_without_echoing_it(self, tmp_path):
        result = start(tmp_path, SMTP_URL="mailer.internal:25")
        refused(result, "SMTP_URL must look like smtp://host:port")
        assert "mailer.internal" not in result.stderr

    def test_a_client_limit_that_cannot_be_read_is_refused(self, tmp_path):
        # Flask-Limiter would only log it and then limit nothing.
        refused(start(tmp_path, SIGNIN_CLIENT_LIMIT="20 per fortnight"),
                "SIGNIN_CLIENT_LIMIT must look like '20 per 10 minutes', got '20 per fortnight'")

    def test_postgres_urls_use_psycopg_3(self, monkeypatch, tmp_path):
        from app.config import from_env

        for url in ("postgres://u:p@db/portal", "postgresql://u:p@db/portal"):
            monkeypatch.setenv("DATABASE_URL", url)
            assert from_env(str(tmp_path))["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db/portal"

    def test_default_database_is_sqlite_under_the_instance_folder(self, monkeypatch, tmp_path):
        from app.config import from_env

        monkeypatch.delenv("DATABASE_URL", raising=False)
        assert from_env(str(tmp_path))["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/portal.db"


# --- cookies -------------------------------------------------------------------------------------

def session_cookie(app) -> str:
    """The Set-Cookie header of the session cookie, as a browser receives it."""
    response = app.test_client().get("/acme/login")
    assert response.status_code == 200
    [cookie] = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("portal_session=")]
    return cookie


def attributes(cookie: str) -> dict[str, str]:
    parts = [p.strip() for p in cookie.split(";")[1:]]
    return {p.split("=")[0].lower(): (p.split("=", 1)[1] if "=" in p else "") for p in parts}


@pytest.fixture
def environment_app(app, migrated, smtp_sink, monkeypatch):
    """An app built from the environment (as in production), on the test database."""
    make_org("acme", "Acme")
    for name in PORTAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)

    def build(**env_vars):
        for name, value in env_vars.items():
            monkeypatch.setenv(name, value)
        config = {"TESTING": True, "SQLALCHEMY_DATABASE_URI": migrated, "SMTP_URL": smtp_sink.url}
        from app import create_app

        return create_app(config)

    return build


class TestCookies:
    def test_production_cookies_work_inside_a_third_party_iframe(self, environment_app):
        cookie = session_cookie(environment_app(PORTAL_ENV="production", SECRET_KEY=GOOD_SECRET))
        attrs = attributes(cookie)
        assert "secure" in attrs
        assert attrs["samesite"] == "None"
        assert "partitioned" in attrs
        assert "httponly" in attrs

    def test_plain_http_turns_secure_off_and_uses_lax(self, environment_app):
        cookie = session_cookie(environment_app(PORTAL_ENV="production", SECRET_KEY=GOOD_SECRET,
                                                SESSION_COOKIE_SECURE="0"))
        attrs = attributes(cookie)
        assert "secure" not in attrs
        assert attrs["samesite"] == "Lax"
        assert "partitioned" not in attrs
        assert "httponly" in attrs

    def test_development_on_loopback_gets_cookies_that_work_in_a_frame(self, environment_app):
        """Browsers keep Secure cookies on http://127.0.0.1 and http://localhost, so the default
        development address embeds like production."""
        for base_url in (None, "http://localhost:5000", "http://127.0.0.1:8000", "https://team.example"):
            attrs = attributes(session_cookie(
                environment_app(**({"BASE_URL": base_url} if base_url else {}))))
            assert "secure" in attrs and attrs["samesite"] == "None" and "partitioned" in attrs

    def test_development_on_a_plain_http_host_name_gets_lax_cookies(self, environment_app):
        attrs = attributes(session_cookie(environment_app(BASE_URL="http://portal.internal:5000")))
        assert "secure" not in attrs and attrs["samesite"] == "Lax" and "partitioned" not in attrs

    def test_development_can_turn_secure_cookies_off(self, environment_app):
        attrs = attributes(session_cookie(environment_app(SESSION_COOKIE_SECURE="0")))
        assert "secure" not in attrs and attrs["samesite"] == "Lax"

    def test_secure_cookies_can_be_asked_for_in_development(self, environment_app):
        attrs = attributes(session_cookie(environment_app(SESSION_COOKIE_SECURE="1")))
        assert "secure" in attrs and attrs["samesite"] == "None" and "partitioned" in attrs
