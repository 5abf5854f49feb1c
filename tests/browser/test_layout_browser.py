"""Layouts from 360 px to wide screens: no page or state scrolls sideways at 360, 390, 768 or
1280 px, and a very long name and email keep the team and seats pages within the viewport
while the full text stays available."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Member, Role
from app.services import groups as group_service
from app.services import seats as seat_service
from tests.browser.a11y import sideways_problem
from tests.browser.portal_pages import OWNER, PLAIN, STATES, Visit, heading, seed_portal
from tests.factories import as_, member

pytestmark = pytest.mark.browser

WIDTHS = [360, 390, 768, 1280]


@pytest.fixture
def portal(app, live_server):
    return seed_portal(live_server)


def open_visit(chromium, app, live_server, mailbox, portal, width: int) -> tuple:
    context = chromium.new_context(viewport={"width": width, "height": 800})
    context.set_default_timeout(10_000)
    return context, Visit(app, live_server, context.new_page(), mailbox, portal)


@pytest.mark.parametrize("state", list(STATES))
def test_no_page_scrolls_sideways(app, live_server, chromium, mailbox, portal, state):
    """The state is reached at the narrowest width, as on that phone, then the window is widened
    to each other width in place. Inside the vendor's frame it is the frame's own document that
    must fit the frame (the host page gives the frame 900 px)."""
    context, visit = open_visit(chromium, app, live_server, mailbox, portal, WIDTHS[0])
    problems = []
    try:
        target = STATES[state](visit)
        for width in WIDTHS:
            visit.page.set_viewport_size({"width": width, "height": 800})
            problem = sideways_problem(target, f"{state} at {width} px")
            if problem:
                problems.append(problem)
    finally:
        visit.close()
        context.close()
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


# --- a very long name and email ----------------------------------------------------------------

LONG_NAME = ("Wolfeschlegelsteinhausenbergerdorff" * 9)[:300]
LONG_EMAIL = ("averyveryverylongmailboxname" * 9)[:250] + "@example.com"


@pytest.fixture
def long_member(portal, live_server):
    """A member with a 300-character name without spaces and a 250-character local part, with
    a pending seat so they show on the seats page too."""
    person = Member(customer_id=portal.team.id, customer=portal.team, email=LONG_EMAIL,
                    name=LONG_NAME, role=Role.MEMBER)
    db.session.add(person)
    db.session.commit()
    seat_service.assign_seat(db.session, as_(portal.team, OWNER), portal.subscription, member=person,
                             base_url=live_server.url)
    db.session.commit()
    return person


AVAILABLE_JS = """(text) => {
    // The full text in a rendered text node (wrapped, or truncated with an ellipsis), not only
    // in a visually hidden label; or in a title attribute.
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (!node.data.includes(text)) continue;
        const r = node.parentElement.getBoundingClientRect();
        if (r.width > 2 && r.height > 2 && node.parentElement.checkVisibility({visibilityProperty: true}))
            return 'text';
    }
    if ([...document.querySelectorAll('[title]')].some(e => e.title.includes(text))) return 'title';
    return null;
}"""


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("path,title", [("/acme/team", "Globex"), ("/acme/seats", "Seats")])
def test_a_long_name_and_email_keep_the_layout(app, live_server, chromium, mailbox, portal,
                                                long_member, path, title, width):
    context, visit = open_visit(chromium, app, live_server, mailbox, portal, width)
    try:
        visit.sign_in(OWNER)
        visit.goto(path)
        heading(visit.page, title)
        expect(visit.page.get_by_role("row").filter(has_text=LONG_EMAIL[:40])).to_have_count(1)
        problem = sideways_problem(visit.page, f"{path} at {width} px with a 300-character name")
        missing = [what for what, text in (("name", LONG_NAME), ("email", LONG_EMAIL))
                   if visit.page.evaluate(AVAILABLE_JS, text) is None]
    finally:
        visit.close()
        context.close()
    if problem:
        pytest.fail(problem, pytrace=False)
    assert not missing, (f"the full {' and '.join(missing)} of the long-named member is not on {path} "
                         f"at {width} px (in visible text or a title attribute)")


# --- a 256-character group name ------------------------------------------------------------------

LONG_GROUP = ("Internationalization" * 13)[:256]


@pytest.mark.parametrize("width", [360, 1280])
def test_a_long_group_name_keeps_every_page_that_shows_it_in_place(app, live_server, chromium, mailbox,
                                                                    portal, width):
    """A group name of the longest allowed length, without spaces, on the pages that show it:
    the groups list, the group's own page, the team page (chip and filter) and the membership
    page of someone in it. Nothing scrolls sideways and the whole name stays readable."""
    owner = as_(portal.team, OWNER)
    group = group_service.create_group(db.session, owner, portal.team, name=LONG_GROUP)
    group_service.add_members(db.session, owner, portal.team, group.id, [member(portal.team, OWNER).id])
    db.session.commit()
    context, visit = open_visit(chromium, app, live_server, mailbox, portal, width)
    problems, missing = [], []
    try:
        visit.sign_in(OWNER)
        for path in ("/acme/groups", f"/acme/groups/{group.id}", f"/acme/groups/{group.id}/delete",
                     "/acme/team", f"/acme/team?group={group.id}", "/acme/me"):
            visit.goto(path)
            problem = sideways_problem(visit.page, f"{path} at {width} px with a 256-character group name")
            if problem:
                problems.append(problem)
            if visit.page.evaluate(AVAILABLE_JS, LONG_GROUP) is None:
                missing.append(path)
    finally:
        visit.close()
        context.close()
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)
    assert not missing, f"the full group name is neither shown nor in a title on {missing} at {width} px"


# --- phone cards: the row menu at the top right, the seat meter as wide as the form -------------

@pytest.mark.parametrize("path,title", [("/acme/team", "Globex"), ("/acme/seats", "Seats")])
def test_on_a_phone_a_tall_rows_menu_sits_at_its_top_right(app, live_server, chromium, mailbox, portal,
                                                           long_member, path, title):
    """A row whose name and email wrap over many lines becomes a tall card: its "⋯" button stays
    at the card's top right, level with the start of the name, not halfway down the card."""
    context, visit = open_visit(chromium, app, live_server, mailbox, portal, 390)
    try:
        visit.sign_in(OWNER)
        visit.goto(path)
        heading(visit.page, title)
        row = visit.page.get_by_role("row").filter(has_text=LONG_EMAIL[:40])
        card, name = row.bounding_box(), row.get_by_text(LONG_NAME[:20]).first.bounding_box()
        button = row.locator("summary").bounding_box()
    finally:
        visit.close()
        context.close()
    assert card["height"] > 150, f"the long-named row is only {card['height']} px tall on a phone"
    assert button["y"] - name["y"] < 12, (
        f"on {path} at 390 px the long-named row's actions button is {button['y'] - name['y']:.0f} px "
        f"below the top of the name (card {card['height']:.0f} px tall): it should sit at the top right")
    assert card["x"] + card["width"] - (button["x"] + button["width"]) < 8, "the actions button is not at the right"


@pytest.mark.parametrize("width", [390, 1280])
def test_the_seat_meter_lines_up_with_the_assign_form_on_a_phone(app, live_server, chromium, mailbox,
                                                                 portal, width):
    """On a phone the card is one column: the meter spans it like the email field below it; on a
    desktop the meter stays a compact block beside the product name."""
    context, visit = open_visit(chromium, app, live_server, mailbox, portal, width)
    try:
        visit.sign_in(OWNER)
        visit.goto("/acme/seats")
        heading(visit.page, "Seats")
        meter = visit.page.locator(".meter").first.bounding_box()
        field = visit.page.get_by_label("Invite by email").bounding_box()
    finally:
        visit.close()
        context.close()
    if width < 800:
        assert abs(meter["x"] - field["x"]) <= 1 and abs(meter["width"] - field["width"]) <= 1, (
            f"at {width} px the seat meter is {meter['width']:.0f} px wide from x={meter['x']:.0f}, "
            f"the email field below it {field['width']:.0f} px from x={field['x']:.0f}")
    else:
        assert meter["width"] <= 400, f"at {width} px the seat meter stretches to {meter['width']:.0f} px"


# --- cards: the same white space inside, above the first thing and below the last ---------------

CARD_GAPS_JS = """() => {
    // Per visible card: how far its first and last painted things (text, form controls and
    // drawn borders) are from its top and bottom border, against its own padding.
    const out = [];
    for (const card of document.querySelectorAll('.card')) {
        if (!card.checkVisibility()) continue;
        const box = card.getBoundingClientRect(), s = getComputedStyle(card);
        const top = box.top + parseFloat(s.borderTopWidth), bottom = box.bottom - parseFloat(s.borderBottomWidth);
        let first = Infinity, last = -Infinity;
        const take = r => { if (r.width > 0 && r.height > 0) { first = Math.min(first, r.top); last = Math.max(last, r.bottom); } };
        const walker = document.createTreeWalker(card, NodeFilter.SHOW_TEXT);
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
            if (!n.data.trim() || !n.parentElement.checkVisibility({visibilityProperty: true})) continue;
            if (n.parentElement.closest('.visually-hidden, caption')) continue;
            const range = document.createRange(); range.selectNodeContents(n);
            for (const r of range.getClientRects()) take(r);
        }
        for (const el of card.querySelectorAll('*')) {
            if (!el.checkVisibility({visibilityProperty: true}) || el.closest('.visually-hidden')) continue;
            const es = getComputedStyle(el), r = el.getBoundingClientRect();
            if (el.matches('input, select, textarea, button, .button')) take(r);
            // A table row's line is drawn by its cells' borders (border-collapse): as wide as the row.
            const span = (el.matches('td, th') ? el.closest('tr') : el).getBoundingClientRect().width;
            if (parseFloat(es.borderBottomWidth) > 0 && es.borderBottomStyle !== 'none' && span > card.clientWidth / 2)
                take({top: r.bottom - 1, bottom: r.bottom, width: r.width, height: 1});
        }
        const heading = card.querySelector('h1, h2');
        out.push({card: (heading ? heading.textContent.trim() : card.getAttribute('aria-label') || card.id).slice(0, 40),
                  padTop: parseFloat(s.paddingTop), padBottom: parseFloat(s.paddingBottom),
                  above: Math.round(first - top), below: Math.round(bottom - last)});
    }
    return out;
}"""


@pytest.mark.parametrize("width", [390, 1280])
def test_cards_have_their_padding_and_no_more_above_and_below_their_content(app, live_server, chromium,
                                                                            mailbox, portal, width):
    """A card's content starts and ends at the card's padding: no stray margin of a last field,
    list or form row, nor a first heading's margin, makes one card look emptier at an edge than
    another (the Profile card's hint sat 40 px above its bottom, the activity log's first day
    44 px below its top, where the card's padding is 24 px)."""
    context, visit = open_visit(chromium, app, live_server, mailbox, portal, width)
    problems = []
    try:
        for who, paths in ((OWNER, ("/acme/team", "/acme/seats", "/acme/groups", "/acme/activity", "/acme/me")),
                           (PLAIN, ("/acme/me",))):
            visit.sign_in(who)
            for path in paths:
                visit.goto(path)
                for c in visit.page.evaluate(CARD_GAPS_JS):
                    if c["above"] > c["padTop"] + 6 or c["below"] > c["padBottom"] + 6:
                        problems.append(f"{path} as {who} at {width} px, card “{c['card']}”: content starts "
                                        f"{c['above']} px below its top and ends {c['below']} px above its bottom "
                                        f"(padding {c['padTop']:.0f}/{c['padBottom']:.0f} px)")
    finally:
        visit.close()
        context.close()
    assert not problems, "\n".join(problems)


# --- the group page's picker on a phone ----------------------------------------------------------

PICKER_LINES_JS = """() => [...document.querySelectorAll('.picker-list .picker-item')].map(item => {
    const lines = el => { if (!el) return 0; const r = document.createRange(); r.selectNodeContents(el.firstChild);
                          return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size; };
    return {text: item.innerText.replace(/\\s+/g, ' ').trim(), name: lines(item.querySelector('.person-name')),
            email: lines(item.querySelector('.person-email'))};
})"""


@pytest.mark.parametrize("width", [360, 390])
def test_the_group_pickers_short_names_and_emails_stay_on_one_line_on_a_phone(app, live_server, chromium,
                                                                              mailbox, portal, width):
    """In the "Add members" list the role badge used to take its width beside the name, so a
    15-character email broke in the middle ("ben@exam / ple.com"); the badge goes under the
    name on a phone and short names and emails read in one piece."""
    owner = as_(portal.team, OWNER)
    group = group_service.create_group(db.session, owner, portal.team, name="Design")
    db.session.commit()
    context, visit = open_visit(chromium, app, live_server, mailbox, portal, width)
    try:
        visit.sign_in(OWNER)
        visit.goto(f"/acme/groups/{group.id}")
        heading(visit.page, "Design")
        expect(visit.page.locator(".picker-list .picker-item").first).to_be_visible()
        items = visit.page.evaluate(PICKER_LINES_JS)
    finally:
        visit.close()
        context.close()
    broken = [i for i in items if i["name"] > 1 or i["email"] > 1]
    assert items and not broken, (f"at {width} px these picker rows break a short name or email over lines: "
                                  f"{[(i['text'], i['name'], i['email']) for i in broken]}")


# --- fields side by side are one height ----------------------------------------------------------

ROW_FIELDS_JS = """(selector) => [...document.querySelector(selector).querySelectorAll('input:not([type=hidden]), select, button[type=submit]')]
    .filter(e => e.checkVisibility()).map(e => { const r = e.getBoundingClientRect();
        return {field: e.labels && e.labels[0] ? e.labels[0].innerText.trim() : (e.name || e.innerText.trim()),
                top: r.top, height: r.height}; })"""


@pytest.mark.parametrize("form", ["#member-filters", "#add-member"])
def test_text_fields_and_selects_side_by_side_have_one_height(app, live_server, chromium, mailbox, portal, form):
    """In the team page's filter bar and "Add a member" form a search or email field stood 2 px
    taller than the selects beside it, so their tops and bottoms did not line up; the form's
    button sat 1 px below the fields."""
    context, visit = open_visit(chromium, app, live_server, mailbox, portal, 1280)
    try:
        visit.sign_in(OWNER)
        visit.goto("/acme/team")
        heading(visit.page, "Globex")
        fields = visit.page.evaluate(ROW_FIELDS_JS, form)
    finally:
        visit.close()
        context.close()
    assert len(fields) >= 3, fields
    heights = {round(f["height"], 1) for f in fields}
    tops = {round(f["top"], 1) for f in fields}
    assert len(heights) == 1 and len(tops) == 1, (
        f"the fields of {form} at 1280 px are not one row of one height: "
        + ", ".join(f"{f['field']} top {f['top']:.1f} px height {f['height']:.1f} px" for f in fields))


# --- the row being edited ------------------------------------------------------------------------

EDIT_ROW_JS = """() => {
    const row = document.querySelector('tr.editing'), card = row.closest('.card');
    const paint = el => getComputedStyle(el).backgroundColor;
    const clear = c => c === 'transparent' || /rgba\\([^)]*,\\s*0\\)$/.test(c);
    const cells = [...row.cells].map(paint).filter(c => !clear(c));
    const tint = clear(paint(row)) ? cells[0] : paint(row);
    const field = row.querySelector('input[name=name]').getBoundingClientRect(), r = row.getBoundingClientRect();
    return {tint: tint || null, card: paint(card), inset: Math.round(field.left - r.left)};
}"""


@pytest.mark.parametrize("width", [390, 1280])
def test_the_row_being_edited_stands_out_on_a_phone_as_on_a_desktop(app, live_server, chromium, mailbox,
                                                                    portal, width):
    """A desktop tints the row whose name and role are being edited; on a phone the tint was
    dropped, and the row's fields sat indented 12 px from every other card's content with
    nothing to show why."""
    from tests.browser.portal_pages import team_edit_mode
    context, visit = open_visit(chromium, app, live_server, mailbox, portal, width)
    try:
        team_edit_mode(visit)
        found = visit.page.evaluate(EDIT_ROW_JS)
    finally:
        visit.close()
        context.close()
    assert found["tint"] and found["tint"] != found["card"], (
        f"at {width} px the row being edited has no background of its own ({found}): it looks like any other row")


# --- a single card's title and its first line ----------------------------------------------------

TITLE_GAP_JS = """() => {
    const h1 = document.querySelector('main .card h1');
    const next = h1 && h1.nextElementSibling;
    if (!next) return null;
    return {title: h1.innerText.trim(), gap: next.getBoundingClientRect().top - h1.getBoundingClientRect().bottom};
}"""


@pytest.mark.parametrize("path,status", [("/acme/login", 200), ("/acme/login/verify?token=not-a-token", 410),
                                         ("/acme/claim?token=not-a-real-invitation", 404), ("/", 200)])
def test_a_cards_title_is_set_apart_from_the_text_under_it(app, live_server, chromium, mailbox, portal,
                                                           path, status):
    """The sign-in, link and claim pages are one card with a title: the title sat on its first
    line of text with no space between them (the page header and the dialogs keep one)."""
    context, visit = open_visit(chromium, app, live_server, mailbox, portal, 390)
    try:
        visit.goto(path, status=status)
        found = visit.page.evaluate(TITLE_GAP_JS)
    finally:
        visit.close()
        context.close()
    assert found is not None, f"{path} has no card with a title and text under it"
    assert found["gap"] >= 8, f"on {path} the title “{found['title']}” is {found['gap']:.0f} px above the text under it"


def test_the_claim_button_keeps_its_focus_ring_off_the_note_under_it(app, live_server, chromium, mailbox, portal):
    """The claim page focuses "Claim seat" on load; its note ("Claiming uses this link up...")
    began 2 px under the button, so the focus ring (2 px, 2 px out) ran into the text."""
    from tests.browser.portal_pages import claim
    context, visit = open_visit(chromium, app, live_server, mailbox, portal, 390)
    try:
        claim(visit)
        button = visit.page.get_by_role("button", name="Claim seat")
        expect(button).to_be_focused()
        gap = gap_under_form_of(visit.page, "Claim seat")
    finally:
        visit.close()
        context.close()
    assert gap >= 8, f"the note under “Claim seat” starts {gap:.0f} px below the focused button"


def gap_under_form_of(page, button: str) -> float:
    """Pixels from the bottom of the button named `button` to what follows its form."""
    return page.evaluate("""name => { const b = [...document.querySelectorAll('button')].find(x => x.innerText.trim() === name);
        return b.closest('form').nextElementSibling.getBoundingClientRect().top - b.getBoundingClientRect().bottom; }""", button)


def test_the_sign_in_code_button_keeps_its_focus_ring_off_the_link_under_it(app, live_server, chromium,
                                                                            mailbox, portal):
    """On "Check your email" the "Use a different email" line began where the form's "Sign in
    with code" button ended, so the button's focus ring ran into the link."""
    from tests.browser.portal_pages import check_email
    context, visit = open_visit(chromium, app, live_server, mailbox, portal, 390)
    try:
        check_email(visit)
        gap = gap_under_form_of(visit.page, "Sign in with code")
    finally:
        visit.close()
        context.close()
    assert gap >= 8, f"the line under “Sign in with code” starts {gap:.0f} px below the button"


# --- the activity log's times ----------------------------------------------------------------------

def test_activity_times_read_like_a_clock_in_the_viewers_locale(app, live_server, chromium, mailbox, portal):
    """In a 12-hour locale the log said "04:24 PM" (a padded hour, as no clock or calendar
    app writes it); it says "4:24 PM". A time zone is picked where the seeded events fall
    between 1 and 9 o'clock."""
    from datetime import UTC, datetime
    n = (datetime.now(UTC).hour - 5) % 24
    n = n - 24 if n > 12 else n  # Etc/GMT+n is UTC-n: local hour 5 (or 4-6 near the hour's end)
    zone = f"Etc/GMT{'+' if n >= 0 else '-'}{abs(n)}"
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, locale="en-US", timezone_id=zone)
    context.set_default_timeout(10_000)
    visit = Visit(app, live_server, context.new_page(), mailbox, portal)
    try:
        visit.sign_in(OWNER)
        visit.goto("/acme/activity")
        heading(visit.page, "Activity")
        times = visit.page.locator("li.event time").all_inner_texts()
        tips = [visit.page.locator("li.event time").first.get_attribute("title")]
    finally:
        visit.close()
        context.close()
    assert times, "the activity log shows no events"
    # Its tooltip is the whole moment in the viewer's words ("Wednesday, December 2, 2026 at
    # 5:46:35 AM GMT-12"), not Date.toString()'s "Wed Dec 02 2026 05:46:35 GMT-1200 (GMT-12:00)".
    assert re.fullmatch(r"[A-Z][a-z]+day, [A-Z][a-z]+ \d{1,2}, 20\d\d at \d{1,2}:\d\d:\d\d [AP]M \S+",
                        tips[0] or ""), tips
    padded = [t for t in times if t.startswith("0")]
    assert not padded, f"in en-US ({zone}) the activity log writes padded hours: {padded[:3]}"
