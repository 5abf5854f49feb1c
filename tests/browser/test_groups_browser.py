"""The Groups pages in Chromium (issue 11): an owner creates a group, adds three people with the
picker, filters the team page by the group, removes one and deletes the group; the picker works
with the keyboard alone, and the same is possible with JavaScript turned off."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Member, UserGroup, UserGroupMember
from tests.browser.a11y import focus_problem
from tests.browser.portal_pages import OWNER, menu_button, seed_portal, sign_in_with_cookie
from tests.factories import member

pytestmark = pytest.mark.browser


@pytest.fixture
def portal(app, live_server):
    return seed_portal(live_server)


def in_group(team, name: str) -> list[str] | None:
    """What the server committed: the group's members' emails, or None when there is no group."""
    db.session.rollback()
    group = db.session.scalar(select(UserGroup).where(UserGroup.customer_id == team.id, UserGroup.name == name))
    if group is None:
        return None
    return sorted(db.session.scalars(select(Member.email).join(UserGroupMember, UserGroupMember.member_id == Member.id)
                                     .where(UserGroupMember.group_id == group.id)))


def assert_visible_focus(page, after: str) -> None:
    problem = focus_problem(page)
    assert problem is None, f"after {after}: {problem}"


def test_owner_organizes_a_group_from_creation_to_deletion(app, live_server, page, mailbox, portal):
    base, team = live_server.url, portal.team
    sign_in_with_cookie(app, page, base, member(team, OWNER))
    native = []
    page.on("dialog", lambda d: (native.append(d.message), d.dismiss()))

    # The nav leads to Groups; "New group" puts the cursor in the form.
    page.goto(f"{base}/acme/team")
    page.get_by_role("navigation", name="Portal").get_by_role("link", name="Groups").click()
    expect(page.get_by_role("heading", name="Groups", exact=True)).to_be_visible()
    page.get_by_role("link", name="New group").first.click()
    name = page.get_by_label("Group name")
    expect(name).to_be_focused()

    # A taken name (any case) is refused inline, focus on the field; then a new one is created
    # and the browser lands on its page, at the picker.
    name.fill("engineering")
    name.press("Enter")
    expect(page.get_by_text("A group named 'engineering' already exists in this team.")).to_be_visible()
    expect(page.get_by_label("Group name")).to_be_focused()
    page.get_by_label("Group name").fill("Contractors")
    page.get_by_role("button", name="Create group").click()
    page.wait_for_url(re.compile(r"/acme/groups/[0-9a-f-]+#add-members$"))
    expect(page.get_by_role("heading", name="Contractors", level=1)).to_be_visible()
    expect(page.get_by_text("No one is in Contractors yet.")).to_be_visible()
    assert in_group(team, "Contractors") == []
    page.evaluate("window.__samePage = true")  # gone if anything below reloads the page

    # The picker searches as you type; its count is said by a polite live region; ticks stay
    # ticked across searches.
    find = page.get_by_label("Find people on the team")
    status = page.locator("#picker-status")
    assert status.get_attribute("role") == "status"
    find.fill("sam")
    expect(status).to_have_text("1 person found for “sam”.")
    page.get_by_role("checkbox", name=re.compile("Sam")).check()
    find.fill("kim")
    expect(status).to_have_text("1 person found for “kim”. 1 selected.")
    expect(page.get_by_role("checkbox", name=re.compile("Sam"))).to_be_checked()
    page.get_by_role("checkbox", name=re.compile("Kim Lee")).check()
    find.fill("ben")
    expect(status).to_have_text("1 person found for “ben”. 2 selected.")
    page.get_by_role("checkbox", name=re.compile("Ben")).check()
    page.get_by_role("button", name="Add selected").click()

    # All three at once: the list shows them, the count follows, focus is back in the search.
    rows = page.locator("#group-members tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("#group-count")).to_contain_text("3 members")
    expect(page.get_by_role("status").filter(has_text="Added Ben, Kim Lee and Sam to Contractors.")).to_be_visible()
    expect(page.get_by_label("Find people on the team")).to_be_focused()
    expect(page.get_by_label("Find people on the team")).to_have_value("")
    assert in_group(team, "Contractors") == ["ben@example.com", "kim@example.com", "sam@example.com"]
    assert page.evaluate("window.__samePage") is True

    # The team page filters by the group, from the filter bar's select; the rows carry the chip.
    group_url = page.url.split("#")[0]
    page.goto(f"{base}/acme/team")
    page.get_by_label("Group", exact=True).select_option(label="Contractors")
    page.wait_for_url(re.compile(r"group="))
    team_rows = page.locator("#member-rows tr")
    expect(team_rows).to_have_count(3)
    expect(page.locator("#member-summary")).to_contain_text("3 members in group “Contractors”")
    for email in ("ben@example.com", "kim@example.com", "sam@example.com"):
        expect(team_rows.filter(has_text=email).locator(".chip", has_text="Contractors")).to_have_count(1)
    page.reload()  # the URL keeps the filter
    expect(page.get_by_label("Group", exact=True)).to_have_value(re.compile(r"[0-9a-f-]{36}"))
    expect(team_rows).to_have_count(3)

    # Remove one: a styled dialog that names who and what stays; the row goes, the count follows.
    page.goto(group_url)
    menu_button(page, "Sam").click()
    page.get_by_role("link", name=re.compile(r"^Remove from group")).click()
    dialog = page.get_by_role("dialog", name="Remove Sam from Contractors?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("stays on the team")
    dialog.get_by_role("button", name="Remove from group").click()
    expect(rows.filter(has_text="sam@example.com")).to_have_count(0)
    expect(rows).to_have_count(2)
    expect(page.locator("#group-count")).to_contain_text("2 members")
    assert in_group(team, "Contractors") == ["ben@example.com", "kim@example.com"]
    assert member(team, "sam@example.com").deleted_at is None
    expect(page.get_by_role("checkbox", name=re.compile("Sam"))).to_be_visible()  # offered again

    # Delete the group: the dialog says how many lose it; back on the list, it is gone.
    page.get_by_role("link", name="Delete group…").click()
    dialog = page.get_by_role("dialog", name="Delete the group Contractors?")
    expect(dialog).to_contain_text("Its 2 members lose the group and stay on the team.")
    dialog.get_by_role("button", name="Delete group").click()
    page.wait_for_url(re.compile(r"/acme/groups$"))
    expect(page.get_by_role("status").filter(has_text="Deleted the group Contractors.")).to_be_visible()
    expect(page.get_by_role("link", name="Contractors", exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="Engineering", exact=True)).to_be_visible()
    assert in_group(team, "Contractors") is None
    assert native == [], f"the browser's native dialog was used: {native}"


def test_the_picker_and_the_groups_list_work_with_the_keyboard_alone(app, live_server, page, mailbox, portal):
    base, team = live_server.url, portal.team
    sign_in_with_cookie(app, page, base, member(team, OWNER))
    page.goto(f"{base}/acme/groups")

    # From the list: Tab to Finance's menu, open it with Enter, reach Delete with the arrows,
    # Escape closes the dialog and focus returns to the menu.
    finance_menu = menu_button(page, "Finance")
    for _ in range(40):
        page.keyboard.press("Tab")
        assert_visible_focus(page, "Tab on the groups page")
        if finance_menu.evaluate("e => e === document.activeElement"):
            break
    else:
        pytest.fail("Tab never reached the actions menu of Finance")
    page.keyboard.press("Enter")
    # As a person waits for the menu to appear: focus moves into it when it has opened (under
    # load that can come after the next key press, which then lands on the summary).
    page.wait_for_function("() => !!document.activeElement?.closest('.menu-items')")
    for _ in range(6):
        if page.evaluate("document.activeElement.innerText.trim()").startswith("Delete"):
            break
        page.keyboard.press("ArrowDown")
    else:
        pytest.fail("ArrowDown never reached Delete in Finance's menu")
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Delete the group Finance?")
    expect(dialog).to_be_visible()
    page.wait_for_function("() => !!document.activeElement?.closest('dialog')")
    assert_visible_focus(page, "the delete dialog opened")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(finance_menu).to_be_focused()
    assert in_group(team, "Finance") == ["maya@example.com"]

    # On Engineering's page: "Add members" jumps to the search; type, Tab into the results,
    # Space ticks, Tab to "Add selected", Enter adds.
    page.get_by_role("link", name="Engineering", exact=True).click()
    # As a person waits for the page to finish loading: until app.js has run, Enter on the
    # link only follows its #add-members anchor (under CI's load the key came that early).
    page.wait_for_url(re.compile(r"/acme/groups/[0-9a-f-]+$"), wait_until="load")
    expect(page.get_by_role("heading", name="Engineering", level=1)).to_be_visible()
    add = page.get_by_role("link", name="Add members").first
    add.focus()
    page.keyboard.press("Enter")
    find = page.get_by_label("Find people on the team")
    expect(find).to_be_focused()
    page.keyboard.type("sam")
    expect(page.locator("#picker-status")).to_have_text("1 person found for “sam”.")
    page.keyboard.press("Tab")
    sam = page.get_by_role("checkbox", name=re.compile("Sam"))
    expect(sam).to_be_focused()
    assert_visible_focus(page, "Tab into the picker's results")
    page.keyboard.press("Space")
    expect(sam).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Add selected")).to_be_focused()
    assert_visible_focus(page, "Tab to “Add selected”")
    page.keyboard.press("Enter")
    expect(page.locator("#group-members tbody tr").filter(has_text="sam@example.com")).to_have_count(1)
    expect(find).to_be_focused()
    assert in_group(team, "Engineering") == ["kim@example.com", "maya@example.com", "sam@example.com"]


def test_without_javascript_groups_are_made_and_filled_with_plain_forms(app, live_server, chromium, portal):
    context = chromium.new_context(java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        base, team = live_server.url, portal.team
        sign_in_with_cookie(app, page, base, member(team, OWNER))
        page.goto(f"{base}/acme/groups")
        page.get_by_label("Group name").fill("Contractors")
        page.get_by_role("button", name="Create group").click()
        expect(page.get_by_role("heading", name="Contractors", level=1)).to_be_visible()

        # The picker is a search form (its button shows without JavaScript), a checkbox list
        # and a submit.
        page.get_by_label("Find people on the team").fill("e")
        page.get_by_role("button", name="Search").click()
        expect(page.get_by_label("Find people on the team")).to_have_value("e")
        page.get_by_role("checkbox", name=re.compile("Ben")).check()
        page.get_by_role("checkbox", name=re.compile("Kim Lee")).check()
        page.get_by_role("button", name="Add selected").click()
        expect(page.locator("#group-members tbody tr")).to_have_count(2)
        assert in_group(team, "Contractors") == ["ben@example.com", "kim@example.com"]

        # Remove and delete go through their confirmation pages.
        menu_button(page, "Ben").click()  # a <details> menu opens without JavaScript too
        page.get_by_role("link", name=re.compile(r"Remove from group")).click()
        expect(page.get_by_role("heading", name="Remove Ben from Contractors?")).to_be_visible()
        page.get_by_role("button", name="Remove from group").click()
        expect(page.locator("#group-members tbody tr")).to_have_count(1)
        page.get_by_role("link", name="Delete group…").click()
        expect(page.get_by_text("Its member loses the group and stays on the team.")).to_be_visible()
        page.get_by_role("button", name="Delete group").click()
        page.wait_for_url(re.compile(r"/acme/groups$"))
        assert in_group(team, "Contractors") is None
    finally:
        context.close()
