"""Alembic migrations build the schema from empty, on SQLite and on PostgreSQL, and the database
itself holds the integrity rules (DESIGN.md "Domain" and rule 2)."""
from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy import inspect, text
from sqlalchemy import insert as insert_into
from sqlalchemy.exc import IntegrityError

from app import models
from app.extensions import db
from app.models import Customer, CustomerType, Member, Organization, Role, utcnow
from tests.conftest import _create_database, _drop_database, make_app, postgres_url, unavailable

TABLES = {
    "organizations", "customers", "members", "subscriptions", "seats", "signin_tokens",
    "portal_sessions", "organization_tokens", "activity_events", "outbox_emails",
    "webhook_endpoints", "webhook_events", "webhook_deliveries", "user_groups", "user_group_members",
}


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def new_database(kind: str, directory) -> str:
    """A brand-new, empty database of the given kind."""
    if kind == "sqlite":
        return f"sqlite:///{directory}/fresh-{uuid.uuid4().hex[:8]}.db"
    url = postgres_url()
    if not url:
        unavailable("no PostgreSQL: set TEST_POSTGRES_URL=postgresql+psycopg://user:pass@host/db")
    try:
        return _create_database(url, None)
    except Exception as exc:  # noqa: BLE001 - any connection failure means "cannot run"
        unavailable(f"PostgreSQL at TEST_POSTGRES_URL is not reachable: {exc.__class__.__name__}")


@pytest.fixture(params=BACKENDS)
def fresh_app(request, tmp_path, smtp_sink):
    """An app on an empty database, for the migration tests themselves."""
    url = new_database(request.param, tmp_path)
    app = make_app(url, smtp_sink, MAIL_DELIVER_ON_COMMIT=False)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    _drop_database(url)


@pytest.fixture
def migrated_app(fresh_app):
    upgrade()
    return fresh_app


@pytest.fixture(scope="module", params=BACKENDS)
def migrated_database(request, tmp_path_factory, smtp_sink):
    """One database per backend built by the migrations, shared by the integrity tests."""
    url = new_database(request.param, tmp_path_factory.mktemp("migrations"))
    app = make_app(url, smtp_sink)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    yield url
    _drop_database(url)


@pytest.fixture
def constrained_app(migrated_database, smtp_sink):
    app = make_app(migrated_database, smtp_sink, MAIL_DELIVER_ON_COMMIT=False)
    with app.app_context():
        yield app
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
        db.engine.dispose()


def head_revision() -> str:
    config = current_app.extensions["migrate"].migrate.get_config()
    return ScriptDirectory.from_config(config).get_current_head()


def tables() -> set[str]:
    return set(inspect(db.engine).get_table_names())


def current_revision() -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


class TestUpgrade:
    def test_upgrade_from_empty_builds_every_table_at_head(self, fresh_app):
        assert tables() == set()
        upgrade()
        assert TABLES <= tables()
        assert current_revision() == head_revision()

    @pytest.mark.filterwarnings("ignore:.*expression-based index")
    def test_migrated_schema_matches_the_models(self, migrated_app):
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={
                "compare_type": True, "include_object": models.migrations_compare})
            diff = compare_metadata(context, db.metadata)
        assert diff == []

    def test_downgrade_to_empty_then_upgrade_again(self, migrated_app):
        downgrade(revision="base")
        assert tables() & TABLES == set()
        assert current_revision() is None
        upgrade()
        assert TABLES <= tables()
        assert current_revision() == head_revision()

    def test_upgrade_twice_is_a_no_op(self, migrated_app):
        upgrade()
        assert current_revision() == head_revision()


# --- integrity held by the database ------------------------------------------------------------

@pytest.fixture
def org(constrained_app):
    org = Organization(slug="acme", name="Acme", embed_origins=[], features={})
    db.session.add(org)
    db.session.commit()
    return org


def customer(org, external_id=None) -> Customer:
    row = Customer(organization_id=org.id, type=CustomerType.TEAM, name="Globex",
                   external_id=external_id, customer_metadata={})
    db.session.add(row)
    db.session.commit()
    return row


def add_member(team, email, role=Role.MEMBER, external_id=None) -> Member:
    row = Member(customer_id=team.id, email=email, role=role, external_id=external_id)
    db.session.add(row)
    db.session.flush()
    return row


def rejected(work) -> None:
    """`work` must be refused by the database itself."""
    with pytest.raises(IntegrityError):
        work()
        db.session.flush()
    db.session.rollback()


class TestOneLiveOwner:
    def test_a_second_live_owner_is_rejected(self, org):
        team = customer(org)
        add_member(team, "olivia@example.com", Role.OWNER)
        db.session.commit()
        rejected(lambda: add_member(team, "ben@example.com", Role.OWNER))

    def test_promoting_a_second_member_to_owner_is_rejected(self, org):
        team = customer(org)
        add_member(team, "olivia@example.com", Role.OWNER)
        ben = add_member(team, "ben@example.com", Role.BILLING_MANAGER)
        db.session.commit()

        def promote():
            ben.role = Role.OWNER

        rejected(promote)

    def test_a_new_owner_is_allowed_once_the_old_one_is_soft_deleted(self, org):
        team = customer(org)
        old = add_member(team, "olivia@example.com", Role.OWNER)
        old.deleted_at = utcnow()
        db.session.commit()
        add_member(team, "ben@example.com", Role.OWNER)
        db.session.commit()

    def test_each_customer_has_its_own_owner(self, org):
        add_member(customer(org), "olivia@example.com", Role.OWNER)
        add_member(customer(org), "peter@example.com", Role.OWNER)
        db.session.commit()


class TestMemberEmail:
    def test_same_live_email_in_another_case_is_rejected(self, org):
        team = customer(org)
        add_member(team, "maya@example.com")
        db.session.commit()
        rejected(lambda: add_member(team, "Maya@Example.COM"))

    def test_same_email_is_rejected_with_a_raw_insert(self, org):
        team = customer(org)
        add_member(team, "maya@example.com")
        db.session.commit()

        def insert():
            db.session.execute(insert_into(Member).values(
                id=uuid.uuid4(), customer_id=team.id, email="MAYA@example.com", role="member",
                created_at=utcnow()))

        rejected(insert)

    def test_same_email_is_allowed_again_once_the_first_member_is_soft_deleted(self, org):
        team = customer(org)
        first = add_member(team, "maya@example.com")
        first.deleted_at = utcnow()
        db.session.commit()
        add_member(team, "Maya@example.com")
        db.session.commit()
        assert db.session.query(Member).filter(Member.customer_id == team.id).count() == 2

    def test_same_email_in_another_customer_is_allowed(self, org):
        add_member(customer(org), "maya@example.com")
        add_member(customer(org), "maya@example.com")
        db.session.commit()


class TestExternalIds:
    def test_duplicate_member_external_id_in_one_customer_is_rejected(self, org):
        team = customer(org)
        add_member(team, "maya@example.com", external_id="u-1")
        db.session.commit()
        rejected(lambda: add_member(team, "sam@example.com", external_id="u-1"))

    def test_member_external_id_may_repeat_across_customers(self, org):
        add_member(customer(org), "maya@example.com", external_id="u-1")
        add_member(customer(org), "sam@example.com", external_id="u-1")
        db.session.commit()

    def test_members_without_external_id_do_not_clash(self, org):
        team = customer(org)
        add_member(team, "maya@example.com")
        add_member(team, "sam@example.com")
        db.session.commit()

    def test_duplicate_customer_external_id_in_one_organization_is_rejected(self, org):
        customer(org, external_id="globex")
        rejected(lambda: customer(org, external_id="globex"))

    def test_customer_external_id_may_repeat_across_organizations(self, org):
        other = Organization(slug="umbrella", name="Umbrella", embed_origins=[], features={})
        db.session.add(other)
        db.session.commit()
        customer(org, external_id="globex")
        customer(other, external_id="globex")
        customer(org)
        customer(org)


class TestForeignKeys:
    def test_member_of_a_missing_customer_is_rejected(self, org):
        rejected(lambda: add_member(type("Missing", (), {"id": uuid.uuid4()})(), "maya@example.com"))

    def test_customer_of_a_missing_organization_is_rejected(self, org):
        def insert():
            db.session.add(Customer(organization_id=uuid.uuid4(), type=CustomerType.TEAM,
                                    name="Ghost", customer_metadata={}))

        rejected(insert)

    def test_deleting_a_customer_with_members_is_rejected(self, org):
        team = customer(org)
        add_member(team, "maya@example.com")
        db.session.commit()
        rejected(lambda: db.session.execute(text("DELETE FROM customers")))

    def test_unknown_role_is_rejected_by_the_database(self, org):
        add_member(customer(org), "maya@example.com")
        db.session.commit()
        rejected(lambda: db.session.execute(text("UPDATE members SET role = 'admin'")))


class TestOutboxRetriesRevision:
    def test_mail_queued_before_0002_is_due_at_once_and_goes_out(self, fresh_app, mailbox):
        """Revision 0002 adds next_attempt_at and the sending/failed states to a live outbox."""
        import sqlalchemy as sa

        from app.models import UTCDateTime
        from app.services import mail

        upgrade(revision="0001")
        old = sa.table("outbox_emails", *(sa.column(n) for n in (
            "to_address", "subject", "text_body", "html_body", "kind", "status", "attempts")),
            sa.column("id", sa.Uuid), sa.column("created_at", UTCDateTime))
        with db.engine.begin() as conn:
            conn.execute(old.insert().values(
                id=uuid.uuid4(), to_address="maya@example.com", subject="Hello", text_body="t",
                html_body="<p>h</p>", kind="notice", status="queued", attempts=1,
                created_at=utcnow()))
        upgrade()
        tally = mail.deliver(db.session, current_app.config)
        assert (tally.sent, tally.failed, tally.retrying) == (1, 0, 0)
        assert mailbox.wait_for("maya@example.com")["Subject"] == "Hello"
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT status, attempts FROM outbox_emails")).one() == ("sent", 2)
        with db.engine.begin() as conn:  # the new states are allowed, anything else is not
            conn.execute(text("UPDATE outbox_emails SET status = 'failed'"))
        rejected(lambda: db.session.execute(text("UPDATE outbox_emails SET status = 'lost'")))


class TestMemberStatusRevision:
    def test_0005_accepts_members_from_their_first_proven_session_or_claimed_seat(self, fresh_app):
        """Revision 0005 adds members.accepted_at: the earliest non-`api` session or claimed
        seat of each member; a member with only a vendor-minted session stays pending."""
        from datetime import timedelta

        import sqlalchemy as sa

        from app.models import UTCDateTime

        upgrade(revision="0004")
        now = utcnow().replace(microsecond=0)
        ids = {name: uuid.uuid4() for name in ("org", "team", "sub", "signed", "claimed", "api", "none")}
        # The rows are written through typed tables so ids and dates take each backend's format.
        def table(name, *cols):
            return sa.table(name, *(sa.column(c, t) for c, t in cols))

        members_t = table("members", ("id", sa.Uuid), ("customer_id", sa.Uuid), ("email", sa.String),
                          ("role", sa.String), ("created_at", UTCDateTime))
        sessions_t = table("portal_sessions", ("id", sa.Uuid), ("member_id", sa.Uuid),
                           ("token_hash", sa.String), ("kind", sa.String), ("expires_at", UTCDateTime),
                           ("created_at", UTCDateTime))
        seats_t = table("seats", ("id", sa.Uuid), ("subscription_id", sa.Uuid), ("member_id", sa.Uuid),
                        ("email", sa.String), ("status", sa.String), ("claimed_at", UTCDateTime),
                        ("created_at", UTCDateTime))
        with db.engine.begin() as conn:
            conn.execute(table("organizations", ("id", sa.Uuid), ("slug", sa.String), ("name", sa.String),
                               ("embed_origins", sa.JSON), ("features", sa.JSON),
                               ("created_at", UTCDateTime)).insert().values(
                id=ids["org"], slug="acme", name="Acme", embed_origins=[], features={}, created_at=now))
            conn.execute(table("customers", ("id", sa.Uuid), ("organization_id", sa.Uuid), ("type", sa.String),
                               ("name", sa.String), ("metadata", sa.JSON),
                               ("created_at", UTCDateTime)).insert().values(
                id=ids["team"], organization_id=ids["org"], type="team", name="Globex",
                metadata={}, created_at=now))
            conn.execute(table("subscriptions", ("id", sa.Uuid), ("customer_id", sa.Uuid),
                               ("product_id", sa.Uuid), ("product_name", sa.String), ("seats", sa.Integer),
                               ("status", sa.String), ("created_at", UTCDateTime)).insert().values(
                id=ids["sub"], customer_id=ids["team"], product_id=uuid.uuid4(), product_name="Pro",
                seats=5, status="active", created_at=now))
            for n, name in enumerate(("signed", "claimed", "api", "none")):
                conn.execute(members_t.insert().values(id=ids[name], customer_id=ids["team"],
                                                       email=f"{name}@example.com",
                                                       role="owner" if n == 0 else "member",
                                                       created_at=now))
            for kind, days, who in (("browser", 5, "signed"), ("embed", 2, "signed"), ("api", 9, "claimed"),
                                    ("api", 1, "api")):
                conn.execute(sessions_t.insert().values(id=uuid.uuid4(), member_id=ids[who],
                                                        token_hash=uuid.uuid4().hex, kind=kind,
                                                        expires_at=now, created_at=now - timedelta(days=days)))
            conn.execute(seats_t.insert().values(id=uuid.uuid4(), subscription_id=ids["sub"],
                                                 member_id=ids["claimed"], email="claimed@example.com",
                                                 status="claimed", claimed_at=now - timedelta(days=4),
                                                 created_at=now))
        upgrade(revision="0005")
        # Columns, not Member rows: the model has columns of later revisions (customers.member_count).
        accepted = {row.email.split("@")[0]: row.accepted_at for row in db.session.execute(
            sa.select(Member.email, Member.accepted_at).order_by(Member.email))}
        assert accepted == {"signed": now - timedelta(days=5), "claimed": now - timedelta(days=4),
                            "api": None, "none": None}


class TestPagingRevision:
    def test_0007_backfills_member_count_and_adds_the_indexes_and_downgrades(self, fresh_app):
        """Revision 0007: customers.member_count from the live members of each customer, the
        live-member paging indexes, and on PostgreSQL the pg_trgm search indexes; downgrading
        to 0006 takes them all away again."""
        import sqlalchemy as sa

        from app.models import UTCDateTime

        upgrade(revision="0006")
        now = utcnow()
        org_id, teams = uuid.uuid4(), {"big": uuid.uuid4(), "gone": uuid.uuid4(), "empty": uuid.uuid4()}
        with db.engine.begin() as conn:
            conn.execute(sa.table("organizations", *(sa.column(c, t) for c, t in (
                ("id", sa.Uuid), ("slug", sa.String), ("name", sa.String), ("embed_origins", sa.JSON),
                ("features", sa.JSON), ("created_at", UTCDateTime)))).insert().values(
                id=org_id, slug="acme", name="Acme", embed_origins=[], features={}, created_at=now))
            customers_t = sa.table("customers", *(sa.column(c, t) for c, t in (
                ("id", sa.Uuid), ("organization_id", sa.Uuid), ("type", sa.String), ("name", sa.String),
                ("metadata", sa.JSON), ("created_at", UTCDateTime))))
            members_t = sa.table("members", *(sa.column(c, t) for c, t in (
                ("id", sa.Uuid), ("customer_id", sa.Uuid), ("email", sa.String), ("role", sa.String),
                ("deleted_at", UTCDateTime), ("created_at", UTCDateTime))))
            for name, team_id in teams.items():
                conn.execute(customers_t.insert().values(id=team_id, organization_id=org_id, type="team",
                                                         name=name, metadata={}, created_at=now))
            rows = [("big", n, None) for n in range(5)] + [("big", 5, now), ("gone", 0, now)]
            for team, n, deleted in rows:
                conn.execute(members_t.insert().values(
                    id=uuid.uuid4(), customer_id=teams[team], email=f"p{n}@example.com",
                    role="owner" if n == 0 else "member", deleted_at=deleted, created_at=now))
        upgrade(revision="0007")
        with db.engine.connect() as conn:
            counts = dict(conn.execute(text("SELECT name, member_count FROM customers")).all())
        assert counts == {"big": 5, "gone": 0, "empty": 0}
        indexes = {ix["name"] for ix in inspect(db.engine).get_indexes("members")}
        trigram = {"ix_members_live_email_trgm", "ix_members_live_name_trgm"}
        assert {"ix_members_live_page", "ix_members_live_role"} <= indexes
        if db.engine.dialect.name == "postgresql":
            assert trigram <= indexes
        else:
            assert not trigram & indexes
        downgrade(revision="0006")
        indexes = {ix["name"] for ix in inspect(db.engine).get_indexes("members")}
        assert not ({"ix_members_live_page", "ix_members_live_role"} | trigram) & indexes
        assert "member_count" not in {c["name"] for c in inspect(db.engine).get_columns("customers")}
        upgrade()
        assert current_revision() == head_revision()

    @pytest.mark.postgres
    def test_0007_goes_on_without_trigram_indexes_when_pg_trgm_cannot_be_created(
            self, tmp_path, smtp_sink, caplog):
        """The fallback: CREATE EXTENSION fails (here: no schema to create it in), the savepoint
        keeps the migration's transaction usable, and a log line says search will scan."""
        import importlib.util
        import logging
        import os

        url = new_database("postgresql", tmp_path)
        try:
            path = os.path.join(os.path.dirname(__file__), "..", "..", "migrations", "versions",
                                "0007_member_paging_indexes.py")
            spec = importlib.util.spec_from_file_location("revision_0007", path)
            revision = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(revision)
            engine = sa_create_engine(url)
            with engine.connect() as conn, caplog.at_level(logging.WARNING):
                conn.execute(text("SET search_path = ''"))
                assert revision._pg_trgm(conn) is False
                assert conn.execute(text("SELECT 1")).scalar() == 1  # the transaction goes on
                assert conn.execute(text("SELECT count(*) FROM pg_catalog.pg_extension"
                                         " WHERE extname = 'pg_trgm'")).scalar() == 0
            engine.dispose()
            assert "pg_trgm is not available" in caplog.text and "scan" in caplog.text
        finally:
            _drop_database(url)


class TestEmbedOriginsRevision:
    def test_0008_drops_stored_origins_the_origin_rule_refuses(self, fresh_app, capsys):
        """Revision 0008: an origin saved before the rule refused wildcards and spaces (it went
        into frame-ancestors as it was) is dropped with a log line; valid ones are kept in their
        normal form, once."""
        import sqlalchemy as sa

        from app.models import UTCDateTime

        upgrade(revision="0007")
        orgs = sa.table("organizations", *(sa.column(c, t) for c, t in (
            ("id", sa.Uuid), ("slug", sa.String), ("name", sa.String), ("embed_origins", sa.JSON),
            ("features", sa.JSON), ("created_at", UTCDateTime))))
        stored = {
            "acme": ["https://app.acme.example", "https://b.example *", "https://*.acme.example",
                     "HTTPS://App.Acme.Example/", "https://x.example;script-src *"],
            "globex": ["https://globex.example:8443"],
        }
        with db.engine.begin() as conn:
            for slug, origins in stored.items():
                conn.execute(orgs.insert().values(id=uuid.uuid4(), slug=slug, name=slug,
                                                  embed_origins=origins, features={},
                                                  created_at=utcnow()))
        capsys.readouterr()
        upgrade(revision="0008")
        # alembic.ini sends alembic's log lines to stderr, which is where the operator reads it.
        warning = capsys.readouterr().err
        with db.engine.connect() as conn:
            now = {slug: origins for slug, origins in
                   conn.execute(sa.select(orgs.c.slug, orgs.c.embed_origins)).all()}
        assert now == {"acme": ["https://app.acme.example"],
                       "globex": ["https://globex.example:8443"]}
        assert "organization acme" in warning and "'https://b.example *'" in warning
        assert "globex" not in warning
        downgrade(revision="0007")
        upgrade()
        assert current_revision() == head_revision()
