"""The team page costs the same number of SQL queries for 10 members as for 10,000, and no
request loads the whole team."""
import re
from contextlib import contextmanager

from sqlalchemy import event

from app.extensions import db
from app.models import Role
from app.services import groups, members
from app.services.activity import Actor
from tests.factories import make_org, make_team, member
from tests.support.web import sign_in_client

HX = {"HX-Request": "true", "HX-Target": "member-table"}
PAGES = [
    ("page 1", "/acme/team?size=10", {}),
    ("search", "/acme/team?q=member&size=10", HX),
    ("role filter", "/acme/team?role=member&size=10", HX),
    ("last page", "/acme/team?size=10&page=100000", HX),
    ("page 2 of 100 per page", "/acme/team?size=100&page=2", HX),
]


@contextmanager
def counting(engine):
    statements = []

    def count(conn, cursor, statement, params, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def measure(client, extra=()) -> dict:
    result = {}
    for name, url, headers in [*PAGES, *extra]:
        with counting(db.engine) as statements:
            response = client.get(url, headers=headers)
        assert response.status_code == 200, name
        for sql in statements:
            # Every read of the members table is a count, one row by id, or one page (LIMIT,
            # or the ids of one page: `members.id IN (…)`).
            if re.search(r"\bFROM members\b", sql) and "count(" not in sql.lower():
                assert "LIMIT" in sql.upper() or "members.id =" in sql or "members.id IN (" in sql, sql
        result[name] = len(statements)
    return result


def test_query_count_is_the_same_for_10_and_10000_members(app):
    team = make_team(make_org("acme", "Acme"), owner="olivia@example.com",
                     members={"ben@example.com": Role.BILLING_MANAGER})
    members.fill_synthetic(db.session, Actor.operator(), team, 8)
    owner = Actor(member=member(team, "olivia@example.com"))
    # Groups on every row: their chips and the filter's choices are one query for the page.
    everyone = [m.id for m in members.list_members(db.session, owner, team, limit=100).items]
    engineering = groups.create_group(db.session, owner, team, name="Engineering")
    groups.add_members(db.session, owner, team, engineering.id, everyone)
    for n in range(3):
        groups.add_members(db.session, owner, team, groups.create_group(db.session, owner, team,
                           name=f"Group {n}").id, everyone[:5])
    db.session.commit()
    by_group = [("group filter", f"/acme/team?group={engineering.id}&size=10", HX)]
    client = app.test_client()
    sign_in_client(client, member(team, "olivia@example.com"))
    client.get("/acme/team")  # warm up: first connection, caches

    small = measure(client, by_group)
    members.fill_synthetic(db.session, Actor.operator(), team, 9_990)
    db.session.commit()
    large = measure(client, by_group)

    assert small == large
    assert max(small.values()) <= 7, small
    html = client.get("/acme/team?size=100&page=100000").get_data(as_text=True)
    assert "page 100 of 100" in html and html.count('<tr id="member-') == 100
