"""Shared fixtures.

Databases: the suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL points
at one. Tests marked `postgres` always need PostgreSQL, from TEST_POSTGRES_URL (or
TEST_DATABASE_URL when that is PostgreSQL). Under CI=true a test that cannot get PostgreSQL
or Chromium fails instead of skipping.

Mail goes to a real SMTP server (aiosmtpd) on loopback; `mailbox` holds what it received.
"""
from __future__ import annotations

import os
import shutil
import threading
import uuid

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db, limiter
from app.models import Subscription
from app.services import mail
from tests.support.clients import IsolatedClient
from tests.support.redis_server import RedisServer
from tests.support.smtp import SmtpSink

CI = os.environ.get("CI", "").lower() == "true"


def unavailable(reason: str):
    """Skip locally; fail under CI, where everything must run."""
    if CI:
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


def postgres_url() -> str | None:
    url = os.environ.get("TEST_POSTGRES_URL")
    main = os.environ.get("TEST_DATABASE_URL", "")
    if not url and main.startswith("postgresql"):
        url = main
    return url


# --- mail ---------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def smtp_sink():
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def delivered():
    """Mail sent after commit leaves from a background thread: a test calls this to wait for it
    before looking (the app fixture waits again when the test ends)."""
    yield mail.join_background_delivery
    mail.join_background_delivery()


@pytest.fixture
def mailbox(smtp_sink):
    smtp_sink.clear()
    return smtp_sink


# --- Redis (rate limits shared by processes and hosts) ---------------------------------------

@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A real redis-server on a free loopback port, for this test session."""
    if not shutil.which("redis-server"):
        unavailable("redis-server is not installed (apt-get install redis-server)")
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server) -> str:
    """The Redis URL, emptied before the test."""
    redis_server.flush()
    return redis_server.url


# --- the application ------------------------------------------------------------------------

def _create_database(url: str, tmp_dir) -> str:
    """A fresh database for this test session, migrated to head."""
    if url.startswith("postgresql"):
        base = make_url(url)
        name = f"portal_test_{uuid.uuid4().hex[:10]}"
        admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return base.set(database=name).render_as_string(hide_password=False)
    return f"sqlite:///{tmp_dir}/portal-test.db"


def _drop_database(url: str) -> None:
    if url.startswith("postgresql"):
        target = make_url(url)
        admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        admin.dispose()


def make_app(database_url: str, smtp_sink: SmtpSink, **overrides):
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SMTP_URL": smtp_sink.url,
        "BASE_URL": "http://portal.test",
        "SERVER_NAME": None,
        "RATELIMIT_STORAGE_URI": "memory://",
    }
    config.update(overrides)
    app = create_app(config)
    # Each test request gets its own context, `g` and database session, as in production.
    app.test_client_class = IsolatedClient
    return app


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    url = os.environ.get("TEST_DATABASE_URL") or "sqlite"
    created = _create_database(url, tmp_path_factory.mktemp("db"))
    yield created
    _drop_database(created)


@pytest.fixture(scope="session")
def migrated(database_url, smtp_sink):
    app = make_app(database_url, smtp_sink)
    with app.app_context():
        upgrade()
    return database_url


def _wipe(app) -> None:
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
        db.engine.dispose()


def _app_for_one_test(database_url: str, smtp_sink: SmtpSink):
    """An app on a migrated database, inside its context; emptied again after the test."""
    app = make_app(database_url, smtp_sink)
    limiter.reset()
    with app.app_context():
        yield app
        mail.join_background_delivery()  # no mail of this test may land in the next one
        db.session.remove()
    _wipe(app)


@pytest.fixture
def app(migrated, smtp_sink, mailbox):
    yield from _app_for_one_test(migrated, smtp_sink)


@pytest.fixture
def session(app):
    """The database session of the app under test."""
    return db.session


@pytest.fixture
def sub(session, team):
    """The seat subscription of the module's `team` fixture."""
    return session.scalars(select(Subscription).where(Subscription.customer_id == team.id)).one()


@pytest.fixture
def client(app):
    """A browser: each request gets its own context, `g` and database session (IsolatedClient)."""
    return app.test_client()


# --- a real server on loopback (browser and SDK tests) ----------------------------------------

class LiveServer:
    def __init__(self, app):
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def live_server(app):
    app.config["BASE_URL"] = "http://127.0.0.1:0"
    server = LiveServer(app)
    app.config["BASE_URL"] = server.url
    with server:
        yield server


# --- PostgreSQL-only tests --------------------------------------------------------------------

@pytest.fixture(scope="session")
def pg_database(tmp_path_factory, smtp_sink):
    url = postgres_url()
    if not url:
        unavailable("no PostgreSQL: set TEST_POSTGRES_URL=postgresql+psycopg://user:pass@host/db")
    try:
        created = _create_database(url, None)
    except Exception as exc:  # noqa: BLE001 - any connection failure means "cannot run"
        unavailable(f"PostgreSQL at TEST_POSTGRES_URL is not reachable: {exc.__class__.__name__}")
    app = make_app(created, smtp_sink)
    with app.app_context():
        upgrade()
    yield created
    _drop_database(created)


@pytest.fixture
def pg_app(pg_database, smtp_sink, mailbox):
    yield from _app_for_one_test(pg_database, smtp_sink)
