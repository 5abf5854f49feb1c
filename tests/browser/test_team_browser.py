"""The team page in Chromium: an owner runs the team through htmx, a billing manager is offered
only what they may do."""
import re

import pytest
from playwright.sync_api import expect

from app.models import Role
from tests.browser.portal_pages import sign_in_with_cookie
from tests.factories import make_org, make_team, member
from tests.support.smtp import first_link

pytestmark = pytest.mark.browser


@pytest.fixture
def team(app):
    org = make_org("acme", "Acme Analytics")
    return make_team(org, name="Globex", owner="olivia@example.com", members={
        "ben@example.com": Role.BILLING_MANAGER,
        "maya@example.com": Role.MEMBER,
        "sam@example.com": Role.MEMBER,
    })


def sign_in_by_email(page, base, mailbox, email):
    """The real flow: ask for a link, open it from the email, press Sign in."""
    page.goto(f"{base}/acme/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Email me a sign-in link").click()
    link = first_link(mailbox.wait_for(email), "/acme/login/verify?token=")
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/acme/team$"))


def row(page, email):
    return page.locator("#member-rows tr", has_text=email)


def open_menu(page, who):
    page.locator("summary", has=page.get_by_text(f"Actions for {who}", exact=True)).click()
    return page.locator("details[data-menu][open] .menu-items")


def focused(page) -> str:
    """A short description of the focused element: its id, its text, or its tag."""
    return page.evaluate("""() => { const e = document.activeElement;
        return e.closest('tr') ? e.closest('tr').id + ' ' + e.tagName : (e.id || e.tagName); }""")


def assert_focus(page, expected: str) -> None:
    """Focus moves after the swap settles: wait a little for it, then compare."""
    for _ in range(40):
        if focused(page) == expected:
            return
        page.wait_for_timeout(50)
    assert focused(page) == expected


def test_owner_runs_the_team_without_a_page_reload(app, live_server, page, mailbox, team):
    base = live_server.url
    sign_in_by_email(page, base, mailbox, "olivia@example.com")
    page.evaluate("window.__samePage = true")  # gone if anything reloads the page
    native = []
    page.on("dialog", lambda d: (native.append(d.message), d.dismiss()))

    # "Add member" at the top puts the cursor in the form; add by keyboard: the row appears,
    # the form clears, focus returns to its first field, and the toast is said once.
    page.get_by_role("link", name="Add member").click()
    expect(page.get_by_label("Email", exact=True)).to_be_focused()
    page.get_by_label("Email", exact=True).fill("kim@example.com")
    page.get_by_label("Name (optional)").fill("Kim")
    page.get_by_label("Role", exact=True).last.select_option("billing_manager")
    page.get_by_label("Email", exact=True).press("Enter")
    new = row(page, "kim@example.com")
    new.wait_for()
    assert "Billing manager" in new.inner_text()
    assert page.get_by_label("Email", exact=True).input_value() == ""
    expect(page.get_by_label("Email", exact=True)).to_be_focused()
    live = page.locator("#toasts[role=status][aria-live=polite]")
    expect(live.get_by_text("Added Kim.")).to_have_count(1)
    expect(page.locator("#member-summary")).to_contain_text("5 members")  # recounted in place
    expect(page.locator("#member-stats")).to_contain_text("5 members")

    # The same email in another case: pointed at the existing row, nothing added.
    page.get_by_label("Email", exact=True).fill("MAYA@example.com")
    page.get_by_role("button", name="Add member").click()
    page.get_by_text("maya@example.com is already on the team.").wait_for()
    assert row(page, "maya@example.com").count() == 1

    # An invalid email: an inline error, the typed values kept, focus on the field in error.
    page.get_by_label("Email", exact=True).fill("not-an-email")
    page.get_by_label("Name (optional)").fill("Typo")
    page.get_by_role("button", name="Add member").click()
    page.get_by_text("Enter a valid email address").wait_for()
    assert page.get_by_label("Email", exact=True).input_value() == "not-an-email"
    assert page.get_by_label("Name (optional)").input_value() == "Typo"
    assert page.get_by_label("Email", exact=True).get_attribute("aria-invalid") == "true"
    expect(page.get_by_label("Email", exact=True)).to_be_focused()

    # Edit a role inline from the row's menu; focus comes back to that row's menu.
    open_menu(page, "Maya").get_by_role("link", name="Edit name and role").click()
    maya = row(page, "maya@example.com")
    expect(maya.get_by_label("Name")).to_be_focused()
    maya.get_by_label("Role").select_option("billing_manager")
    maya.get_by_role("button", name="Save").click()
    page.locator("#toasts").get_by_text("Saved Maya.").wait_for()
    assert "Billing manager" in row(page, "maya@example.com").inner_text()
    maya_id = member(team, "maya@example.com").id
    assert_focus(page, f"member-{maya_id} SUMMARY")

    # Active search: the URL follows, and Back restores the whole list.
    page.get_by_label("Search").press_sequentially("sam", delay=30)
    page.wait_for_url(re.compile(r"q=sam"))
    expect(page.locator("#member-rows tr")).to_have_count(1)
    assert row(page, "sam@example.com").count() == 1
    page.go_back()
    expect(page.locator("#member-rows tr")).to_have_count(5)
    assert "q=" not in page.url

    # Own row: no remove. Transfer ownership in a dialog that asks for the email; Escape
    # cancels and changes nothing, and focus returns to the menu that opened it.
    mine = row(page, "olivia@example.com")
    mine.locator("summary").click()
    assert mine.get_by_role("link", name=re.compile("Remove")).count() == 0
    mine.locator("summary").click()
    open_menu(page, "Sam").get_by_role("link", name="Make owner…").click()
    dialog = page.get_by_role("dialog", name="Make Sam the owner?")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Type sam@example.com to confirm")).to_be_focused()
    assert "Sam has never signed in." in dialog.inner_text()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    sam_id = member(team, "sam@example.com").id
    assert_focus(page, f"member-{sam_id} SUMMARY")
    assert "Owner" in row(page, "olivia@example.com").inner_text()

    open_menu(page, "Sam").get_by_role("link", name="Make owner…").click()
    dialog = page.get_by_role("dialog", name="Make Sam the owner?")
    dialog.get_by_label("Type sam@example.com to confirm").fill("sam@example.co")
    dialog.get_by_role("button", name="Transfer ownership").click()
    dialog.get_by_text("That is not sam@example.com.").wait_for()
    expect(dialog.get_by_label("Type sam@example.com to confirm")).to_be_focused()
    dialog.get_by_label("Type sam@example.com to confirm").fill("sam@example.com")
    dialog.get_by_role("button", name="Transfer ownership").click()
    page.locator("#toasts").get_by_text("Sam is now the owner.").wait_for()
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert "Billing manager" in row(page, "olivia@example.com").inner_text()
    assert "Owner" in row(page, "sam@example.com").inner_text()
    assert_focus(page, f"member-{sam_id} TR")
    assert page.get_by_text("Make owner…").count() == 0
    sams = row(page, "sam@example.com")
    assert sams.get_by_role("link", name=re.compile("Remove"), include_hidden=True).count() == 0

    # Remove someone: confirm in the dialog, the row goes in place, focus moves to the next row.
    kim_row = row(page, "kim@example.com")
    next_id = kim_row.evaluate("r => (r.nextElementSibling || r.previousElementSibling).id")
    open_menu(page, "Kim").get_by_role("link", name="Remove from team…").click()
    dialog = page.get_by_role("dialog", name="Remove Kim?")
    dialog.get_by_role("button", name="Remove member").click()
    row(page, "kim@example.com").wait_for(state="detached")
    page.locator("#toasts").get_by_text(re.compile("Removed Kim")).wait_for()
    expect(page.locator("#member-summary")).to_contain_text("4 members")
    assert_focus(page, f"{next_id} SUMMARY")
    assert native == [], "no native confirm()"
    assert page.evaluate("window.__samePage") is True

    # Read the activity.
    page.get_by_role("link", name="Activity").click()
    page.get_by_role("heading", name="Activity").wait_for()
    log = page.locator("#event-list").inner_text()
    for line in ("Olivia removed Kim (kim@example.com)", "Olivia made sam@example.com the owner",
                 "olivia@example.com is now a billing manager", "Role: Member → Billing manager",
                 "Olivia added Kim (kim@example.com) as billing manager"):
        assert line in log
    # Times in the browser's time zone under a heading per local day, not "UTC".
    assert "UTC" not in log
    assert page.locator("#event-list [data-day-heading]").count() >= 1


def test_focus_is_visible_when_moving_by_keyboard(app, live_server, page, team):
    sign_in_with_cookie(app, page, live_server.url, member(team, "olivia@example.com"))
    page.goto(f"{live_server.url}/acme/team")
    page.get_by_label("Search").focus()
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"


def test_billing_manager_is_not_offered_make_owner(app, live_server, page, team):
    sign_in_with_cookie(app, page, live_server.url, member(team, "ben@example.com"))
    page.goto(f"{live_server.url}/acme/team")
    page.get_by_role("heading", name="Globex").wait_for()
    assert page.get_by_text("Make owner").count() == 0
    olivia = open_menu(page, "Olivia")
    assert olivia.get_by_role("link", name=re.compile("Remove")).count() == 0
    assert olivia.get_by_role("link").all_inner_texts() == ["Edit name"]
    page.keyboard.press("Escape")
    ben = open_menu(page, "Ben")
    assert ben.get_by_role("link", name=re.compile("Remove")).count() == 0
    ben.get_by_role("link", name="Edit name").click()
    expect(row(page, "ben@example.com").get_by_label("Name")).to_have_count(1)
    assert row(page, "ben@example.com").get_by_label("Role").count() == 0
    assert open_menu(page, "Maya").get_by_role("link", name="Remove from team…").count() == 1


def test_toasts_close_pause_and_errors_stay(app, live_server, page, team):
    """Success toasts leave after 5 s unless hovered or focused; errors stay until closed; every
    toast has a close button; none covers the control that caused it."""
    page.clock.install()
    sign_in_with_cookie(app, page, live_server.url, member(team, "olivia@example.com"))
    page.set_viewport_size({"width": 1280, "height": 700})
    page.goto(f"{live_server.url}/acme/team")
    add = page.get_by_role("button", name="Add member")
    page.get_by_label("Email", exact=True).fill("kim@example.com")
    add.click()
    toast = page.locator("#toasts .toast", has_text="Added kim@example.com.")
    for _ in range(50):  # htmx swaps on timers, and the page's clock only moves when told
        page.clock.run_for(100)
        if toast.count():
            break
    expect(toast).to_be_visible()
    toast_box, button_box = toast.bounding_box(), add.bounding_box()
    assert (toast_box["x"] + toast_box["width"] < button_box["x"] or toast_box["y"] > button_box["y"] + button_box["height"]
            or toast_box["y"] + toast_box["height"] < button_box["y"]), "the toast covers the Add button"
    toast.hover()
    page.clock.run_for(8000)
    expect(toast).to_be_visible()  # paused while the pointer is on it
    page.mouse.move(0, 0)
    page.clock.run_for(6000)
    expect(toast).to_have_count(0)

    page.evaluate("document.dispatchEvent(new CustomEvent('htmx:responseError'))")
    error = page.locator("#toasts .toast-error")
    expect(error).to_contain_text("Something went wrong on our side.")
    page.clock.run_for(60_000)
    expect(error).to_be_visible()  # errors wait to be closed
    error.get_by_role("button", name="Dismiss").click()
    expect(error).to_have_count(0)
