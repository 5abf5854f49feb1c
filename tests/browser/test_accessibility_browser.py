"""WCAG 2.2 AA in Chromium: axe-core over every page and state of the portal, in light and in
dark, stand-alone and inside a vendor's frame, with zero violations; and the team page walked
with the keyboard alone, every focused control showing where focus is."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Member
from tests.browser.a11y import axe_violations, describe_violations, focus_problem, serve_axe
from tests.browser.portal_pages import OWNER, STATES, Visit, menu_button, seed_portal, sign_in_with_cookie
from tests.factories import member

pytestmark = pytest.mark.browser


@pytest.fixture
def portal(app, live_server):
    return seed_portal(live_server)


@pytest.fixture
def visit(app, live_server, chromium, mailbox, portal):
    """A fresh browser context, able to load axe-core from the portal's own origin (see
    tests/browser/a11y.py for why not `bypass_csp`)."""
    context = chromium.new_context(color_scheme="light", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    serve_axe(context, live_server.url)
    v = Visit(app, live_server, context.new_page(), mailbox, portal)
    yield v
    v.close()
    context.close()


@pytest.mark.parametrize("state", list(STATES))
def test_axe_finds_no_violations_in_light_and_dark(visit, state):
    """Each state is reached once, then checked in the light scheme and, switched in place, in
    the dark one (the page and its frames follow the emulated preference)."""
    target = STATES[state](visit)
    failures = []
    for scheme in ("light", "dark"):
        visit.page.emulate_media(color_scheme=scheme)
        violations = axe_violations(target)
        if violations:
            failures.append(describe_violations(f"{state} [{scheme}]", violations))
    if failures:
        pytest.fail("\n\n".join(failures), pytrace=False)


# --- the keyboard alone ----------------------------------------------------------------------

class Keyboard:
    """Presses keys on the team page; after every press, the focused element must show a focus
    indicator. Everything it moved through is kept, to say where it went when something fails."""

    def __init__(self, page):
        self.page = page
        self.trail: list[str] = []

    def where(self) -> str:
        return self.page.evaluate("""() => { const e = document.activeElement;
            if (!e || e === document.body) return '<body>';
            const name = (e.getAttribute('aria-label') || e.innerText || e.value || e.name || '').trim();
            return `<${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}> ${name.slice(0, 50)}`; }""")

    def press(self, key: str, *, sends: bool = False) -> None:
        """Press `key`; with `sends`, the key starts a request (its button is disabled while it
        runs, so focus is looked at only once it has landed: see `expect_focus`)."""
        self.page.keyboard.press(key)
        if sends:
            self.trail.append(f"{key} (sends a request)")
            return
        self.page.wait_for_timeout(50)  # let focus handlers run (not a timing assertion)
        self.trail.append(f"{key} -> {self.where()}")
        self.check_indicator(key)

    def check_indicator(self, after: str) -> None:
        problem = focus_problem(self.page)
        if problem is not None:
            pytest.fail(f"after {after}: {problem}\nkeys so far:\n  " + "\n  ".join(self.trail), pytrace=False)

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)

    def until(self, locator, key: str = "Tab", limit: int = 60, what: str = "") -> None:
        """Press `key` until `locator` has focus."""
        for _ in range(limit):
            self.press(key)
            if locator.evaluate("e => e === document.activeElement"):
                return
        pytest.fail(f"{limit} × {key} never reached {what or locator}; went through:\n  "
                    + "\n  ".join(self.trail[-limit:]), pytrace=False)

    def expect_dialog(self, dialog, title: str) -> None:
        """The dialog is open, and focus is inside it and visible."""
        try:
            expect(dialog).to_be_visible()
        except AssertionError:
            pytest.fail(f"no dialog “{title}” opened; keys so far:\n  " + "\n  ".join(self.trail), pytrace=False)
        try:
            dialog.page.wait_for_function("() => !!document.activeElement?.closest('dialog')", timeout=3_000)
        except Exception:  # noqa: BLE001 - a timeout says it
            pytest.fail(f"the dialog “{title}” opened but focus is on {self.where()}", pytrace=False)
        self.trail.append(f"  dialog open, focus on {self.where()}")
        self.check_indicator(f"the dialog “{title}” opened")

    def expect_focus(self, locator, what: str) -> None:
        try:
            expect(locator).to_be_focused(timeout=3_000)
        except AssertionError:
            pytest.fail(f"expected focus on {what}, it is on {self.where()}; keys so far:\n  "
                        + "\n  ".join(self.trail), pytrace=False)
        self.check_indicator(f"focus landed on {what}")


def live_members(team) -> set[str]:
    db.session.rollback()  # see what the server committed
    return {m.email for m in db.session.query(Member).filter(
        Member.customer_id == team.id, Member.deleted_at.is_(None))}


def test_the_team_page_works_with_the_keyboard_alone(app, live_server, page, mailbox, portal):
    base = live_server.url
    sign_in_with_cookie(app, page, base, member(portal.team, OWNER))
    page.goto(f"{base}/acme/team")
    native = []
    page.on("dialog", lambda d: (native.append(d.message), d.dismiss()))
    keys = Keyboard(page)

    # From the top of the page to the search, then back to the primary action.
    search = page.get_by_label("Search")
    keys.until(search, "Tab", what="the Search field")
    add_link = page.get_by_role("link", name="Add member")
    keys.until(add_link, "Shift+Tab", what="the “Add member” link")

    # Enter on "Add member" puts the cursor in the form's first field; add Zoe by keyboard.
    keys.press("Enter")
    email = page.get_by_label("Email", exact=True)
    keys.expect_focus(email, "the add form's Email field")
    keys.type("zoe@example.com")
    keys.press("Tab")
    keys.expect_focus(page.get_by_label("Name (optional)"), "the add form's Name field")
    keys.type("Zoe Quinn")
    submit = page.get_by_role("button", name="Add member")
    keys.until(submit, "Tab", limit=6, what="the “Add member” button")
    keys.press("Enter", sends=True)
    expect(page.get_by_role("row").filter(has_text="zoe@example.com")).to_have_count(1)
    assert "zoe@example.com" in live_members(portal.team)
    keys.expect_focus(email, "the add form's Email field again, after the add")
    expect(email).to_have_value("")

    # Back up to Sam's row menu; Enter opens it, ArrowDown moves through its items.
    before = live_members(portal.team)
    sam_menu = menu_button(page, "Sam")
    keys.until(sam_menu, "Shift+Tab", limit=80, what="the actions menu of Sam")
    keys.press("Enter")
    # Focus moves into the menu once it has opened (under load, after a moment).
    page.wait_for_function("() => !!document.activeElement?.closest('.menu-items')")
    items = page.get_by_role("link").or_(page.get_by_role("button")).filter(visible=True)
    first = page.evaluate("document.activeElement.innerText.trim()")
    assert first and "Actions for" not in first, f"Enter on the menu focused no item ({keys.where()})"
    keys.press("ArrowDown")
    second = page.evaluate("document.activeElement.innerText.trim()")
    assert second != first, f"ArrowDown did not move from “{first}”"
    remove_item = items.filter(has_text=re.compile(r"^\s*Remove"))
    keys.until(remove_item.first, "ArrowDown", limit=5, what="the menu's Remove item")

    # The remove dialog: Escape closes it, nothing changes, focus returns to the menu button.
    keys.press("Enter", sends=True)
    dialog = page.get_by_role("dialog", name="Remove Sam?")
    keys.expect_dialog(dialog, "Remove Sam?")
    keys.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert live_members(portal.team) == before, "Escape changed the team"
    keys.expect_focus(menu_button(page, "Sam"), "the actions menu of Sam, after Escape")

    # Again, and confirm with the keyboard: the row goes, focus lands on the next row's menu.
    sam_row = page.get_by_role("row").filter(has_text="sam@example.com")
    next_name = sam_row.evaluate("""r => { const n = r.nextElementSibling || r.previousElementSibling;
        const s = n && [...n.querySelectorAll('*')].find(e => /^Actions for /.test(e.textContent.trim())
                                                           && !e.children.length);
        return s ? s.textContent.trim().replace(/^Actions for /, '') : null; }""")
    assert next_name, "Sam's row has no neighbour row with an actions menu"
    keys.press("Enter")
    page.wait_for_function("() => !!document.activeElement?.closest('.menu-items')")
    keys.until(remove_item.first, "ArrowDown", limit=5, what="the menu's Remove item")
    keys.press("Enter", sends=True)
    keys.expect_dialog(dialog, "Remove Sam?")
    confirm = dialog.get_by_role("button", name="Remove member")
    keys.until(confirm, "Tab", limit=6, what="the dialog's “Remove member” button")
    keys.press("Space", sends=True)
    expect(sam_row).to_have_count(0)
    assert live_members(portal.team) == before - {"sam@example.com"}
    keys.expect_focus(menu_button(page, next_name), f"the actions menu of {next_name}, the next row")
    assert native == [], f"the browser's native dialog was used: {native}"
