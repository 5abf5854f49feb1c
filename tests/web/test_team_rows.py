"""The team table's rows print their cells inline (app/portal/team_rows.py, no macro calls per
row); they must stay the markup of templates/portal/_people.html's macros, which the other pages
(groups, seats, membership) still call."""
import re

import pytest
from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import Role, Subscription
from app.services import groups, members, organizations, seats, sessions
from tests.factories import as_, make_org, make_team, member
from tests.support.web import HX, sign_in_client

BASE = "http://portal.test"


@pytest.fixture
def team(app):
    team = make_team(make_org("acme", "Acme"), name="Globex", owner="olivia@example.com", members={
        "ben@example.com": Role.BILLING_MANAGER, "maya@example.com": Role.MEMBER,
        "sam@example.com": Role.MEMBER, "x<y>@example.com": Role.MEMBER})
    member(team, "sam@example.com").name = None  # no name: the email shows once
    member(team, "x<y>@example.com").name = 'Zoë "Q" <b>'  # escaped like the macros do
    organizations.set_seat_count(db.session, team, 3)
    db.session.commit()
    owner = as_(team, "olivia@example.com")
    sub = db.session.scalars(select(Subscription).filter_by(customer_id=team.id)).one()
    seats.assign_seat(db.session, owner, sub, email="ben@example.com", base_url=BASE)
    seats.assign_seat(db.session, owner, sub, email="sam@example.com", base_url=BASE,
                      immediate_claim=True)
    for n, name in enumerate(["Engineering", "a & <b>", "Ops", "Design", "Zed"]):
        group = groups.create_group(db.session, owner, team, name=name)
        everyone = ["maya@example.com", "x<y>@example.com", "ben@example.com"][: 3 - n // 2]
        groups.add_members(db.session, owner, team, group.id, [member(team, e).id for e in everyone])
    sessions.start_session(db.session, member(team, "maya@example.com"))  # signed in: "Last signed in"
    member(team, "ben@example.com").accepted_at = member(team, "olivia@example.com").created_at
    db.session.commit()
    return team


def macros():
    env = current_app.jinja_env
    return {name: env.globals[name] for name in ("person", "status_pill", "seat_badge",
                                                 "group_chips", "when")}


def row_of(html: str, member_id) -> str:
    found = re.search(rf'<tr id="member-{member_id}".*?</tr>', html, re.S)
    assert found, member_id
    return found.group(0)


def expected_cells(team, viewer, m) -> list[str]:
    macro = macros()
    states, last_sign_ins = members.row_facts(db.session, [m.id])
    state, last = states.get(m.id), last_sign_ins.get(m.id)
    chips = groups.groups_for_members(db.session, [m.id]).get(m.id, [])
    return [
        f'<td class="primary-cell">{macro["person"](m, you=m.id == viewer.id)}</td>',
        f'<span class="badge badge-{m.role.value}">{m.role.label}</span>'
        f'{macro["status_pill"](m, last)}</td>',
        f'<span class="cell-label">Seat</span>{macro["seat_badge"](state)}</td>',
        f'<td class="meta">{macro["group_chips"](chips)}</td>',
        f'<span class="cell-label">Added</span>{macro["when"](m.created_at)}</td>',
    ]


def test_every_row_of_the_page_has_the_macros_markup(client, team):
    olivia = member(team, "olivia@example.com")
    sign_in_client(client, olivia)
    html = client.get("/acme/team").get_data(as_text=True)
    everyone = [member(team, e) for e in ("olivia@example.com", "ben@example.com", "maya@example.com",
                                          "sam@example.com", "x<y>@example.com")]
    seen = set()
    for m in everyone:
        row = row_of(html, m.id)
        for cell in expected_cells(team, olivia, m):
            assert cell in row, (m.email, cell)
        seen.add(re.search(r'title="([^"]*)"><span class="dot">', row).group(1))
    # The cases the macros tell apart all occur above.
    assert "Has not signed in yet" in seen and any(t.startswith("Last signed in") for t in seen)
    assert any(t.startswith("Active since") for t in seen)
    assert "chip-more" in html and "badge-you" in html and "badge-pending" in html
    assert "badge-claimed" in html and "badge-none" in html and "&lt;b&gt;" in html


def test_a_single_row_and_the_edit_form_have_the_same_cells(client, team):
    olivia = member(team, "olivia@example.com")
    sign_in_client(client, olivia)
    maya = member(team, "maya@example.com")
    row = row_of(client.get(f"/acme/team/members/{maya.id}/row", headers=HX).get_data(as_text=True),
                 maya.id)
    for cell in expected_cells(team, olivia, maya):
        assert cell in row
    edit = row_of(client.get(f"/acme/team/members/{maya.id}/edit", headers=HX).get_data(as_text=True),
                  maya.id)
    for cell in expected_cells(team, olivia, maya)[2:]:
        assert cell in edit
