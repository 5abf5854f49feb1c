"""The member list's SQL on PostgreSQL uses the indexes of migration 0007 (issue 14, item 3):
the search's `lower(email|name) LIKE '%…%'` is served by the pg_trgm GIN indexes, and a page's
ids, the last page's too, come from an index-only scan of ix_members_live_page. The plans are
PostgreSQL's own EXPLAIN of the statements the service sends, on a 20,000-member team after
VACUUM ANALYZE (what autovacuum does soon after a bulk fill)."""
from __future__ import annotations

import pytest
from sqlalchemy import event, text

from app.extensions import db
from app.services import members
from app.services.activity import Actor
from tests.factories import make_org, make_team

pytestmark = pytest.mark.postgres


@pytest.fixture
def big_team(pg_app):
    team = make_team(make_org("acme", "Acme"), owner="olivia@example.com")
    members.fill_synthetic(db.session, Actor.operator(), team, 19_999)
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE members"))
        conn.execute(text("VACUUM ANALYZE customers"))
    return team


def plans_of(work) -> list[str]:
    """EXPLAIN of every SELECT on members that `work` sends, as PostgreSQL would run it."""
    sent = []

    def record(conn, cursor, statement, params, context, executemany):
        if "FROM members" in statement:
            sent.append((statement, params))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        work()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    with db.engine.connect() as conn:
        return ["\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + sql, params).all())
                for sql, params in sent]


def test_search_uses_the_trigram_indexes(big_team):
    page = None

    def search():
        nonlocal page
        page = members.list_members(db.session, Actor.operator(), big_team, query="Member 4242")

    plans = plans_of(search)
    assert [m.name for m in page.items] == ["Synthetic Member 4242"] and page.total == 1
    assert "ix_members_live_name_trgm" in plans[0] and "ix_members_live_email_trgm" in plans[0], plans[0]
    assert "Seq Scan on members" not in plans[0]


def test_first_and_last_page_take_their_ids_from_an_index_only_scan(big_team):
    def first_and_last():
        members.list_members(db.session, Actor.operator(), big_team, page=1, limit=25)
        members.list_members(db.session, Actor.operator(), big_team, page=800, limit=25)

    first, last = [p for p in plans_of(first_and_last) if "Limit" in p]
    assert "Index Only Scan using ix_members_live_page" in first, first
    assert "Index Only Scan Backward using ix_members_live_page" in last, last
    assert "Seq Scan on members" not in first + last
