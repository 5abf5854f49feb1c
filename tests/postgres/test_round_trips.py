"""app.pg_engine on PostgreSQL: a read-only transaction ends with COMMIT so psycopg's prepared
statements survive the request; anything that wrote is still rolled back; a connection idle
longer than the ping threshold is pinged and replaced when the database dropped it."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, func, select, text

from app.extensions import db
from app.models import Organization
from tests.conftest import make_app
from tests.factories import make_org

pytestmark = pytest.mark.postgres


def read_organizations(times: int) -> None:
    for _ in range(times):
        db.session.scalars(select(Organization).where(Organization.slug == "acme")).all()
        db.session.close()  # as at the end of a request: no commit


def test_reads_keep_prepared_statements_across_requests(pg_app):
    make_org("acme", "Acme")
    read_organizations(8)  # more than psycopg's prepare_threshold (5)
    prepared = db.session.scalar(text(
        "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%FROM organizations%'"))
    assert prepared >= 1


def test_a_write_in_a_session_closed_without_commit_is_rolled_back(pg_app):
    make_org("acme", "Acme")
    db.session.add(Organization(slug="ghost", name="Ghost"))
    db.session.flush()
    db.session.scalars(select(Organization)).all()  # a SELECT after the write
    db.session.close()
    assert db.session.scalar(select(func.count()).select_from(Organization)
                             .where(Organization.slug == "ghost")) == 0


def test_a_failed_transaction_is_rolled_back_and_the_connection_reused(pg_app):
    with pytest.raises(Exception):  # noqa: B017,PT011 - division by zero from the server
        db.session.execute(text("SELECT 1 / 0"))
    db.session.close()
    assert db.session.scalar(text("SELECT 2")) == 2


def test_an_idle_connection_dropped_by_the_server_is_pinged_and_replaced(
        pg_database, smtp_sink, mailbox):
    app = make_app(pg_database, smtp_sink,
                   SQLALCHEMY_ENGINE_OPTIONS={"plugins": ["portal_postgres"],
                                              "portal_ping_idle_seconds": 0})
    with app.app_context():
        first = db.session.scalar(text("SELECT pg_backend_pid()"))
        db.session.close()
        admin = create_engine(pg_database)  # the database drops the pooled connection
        with admin.begin() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        admin.dispose()
        # The checkout's ping fails, the pool opens a new connection: no error for this request.
        second = db.session.scalar(text("SELECT pg_backend_pid()"))
        assert second != first
        db.session.remove()
        db.engine.dispose()


def server_transaction_status() -> str:
    return db.session.connection().connection.dbapi_connection.info.transaction_status.name


def test_plain_reads_run_outside_a_transaction_locking_reads_inside_one(pg_app):
    make_org("acme", "Acme")
    db.session.scalars(select(Organization)).all()
    assert server_transaction_status() == "IDLE"  # autocommit: no BEGIN, no COMMIT
    db.session.scalars(select(Organization).with_for_update()).all()
    assert server_transaction_status() == "INTRANS"  # the row lock lasts until the commit
    db.session.commit()
    db.session.execute(select(func.pg_advisory_xact_lock(42)))
    assert server_transaction_status() == "INTRANS"
    db.session.rollback()
    db.session.scalars(select(Organization)).all()
    assert server_transaction_status() == "IDLE"
