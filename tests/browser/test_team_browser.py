"""The team page in Chromium: an owner runs the team through htmx, a billing manager is offered
only what they may do."""
import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Role
from app.services import sessions
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


def sign_in_with_cookie(app, page, base, person):
    _row, token = sessions.start_session(db.session, person)
    db.session.commit()
    cookie = app.session_interface.get_signing_serializer(app).dumps({"_user_id": token, "_fresh": True})
    page.context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": base}])


def row(page, email):
    return page.locator("#member-rows tr", has_text=email)


def test_owner_runs_the_team_without_a_page_reload(app, live_server, page, mailbox, team):
    base = live_server.url
    sign_in_by_email(page, base, mailbox, "olivia@example.com")
    page.evaluate("window.__samePage = true")  # gone if anything reloads the page
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.accept()))

    # Add, by keyboard: the row appears and the form clears.
    page.get_by_label("Email", exact=True).fill("kim@example.com")
    page.get_by_label("Name (optional)").fill("Kim")
    page.get_by_label("Role", exact=True).last.select_option("billing_manager")
    page.get_by_label("Email", exact=True).press("Enter")
    new = row(page, "kim@example.com")
    new.wait_for()
    assert "Billing manager" in new.inner_text()
    assert page.get_by_label("Email", exact=True).input_value() == ""
    assert page.locator("#toasts").get_by_text("Added Kim.").is_visible()
    expect(page.locator("#member-summary")).to_contain_text("5 members")  # recounted in place

    # The same email in another case: pointed at the existing row, nothing added.
    page.get_by_label("Email", exact=True).fill("MAYA@example.com")
    page.get_by_role("button", name="Add member").click()
    page.get_by_text("maya@example.com is already on the team.").wait_for()
    assert row(page, "maya@example.com").count() == 1

    # An invalid email: an inline error and the typed values kept.
    page.get_by_label("Email", exact=True).fill("not-an-email")
    page.get_by_label("Name (optional)").fill("Typo")
    page.get_by_role("button", name="Add member").click()
    page.get_by_text("Enter a valid email address").wait_for()
    assert page.get_by_label("Email", exact=True).input_value() == "not-an-email"
    assert page.get_by_label("Name (optional)").input_value() == "Typo"
    assert page.get_by_label("Email", exact=True).get_attribute("aria-invalid") == "true"

    # Edit a role inline.
    page.get_by_role("link", name="Edit Maya").click()
    maya = row(page, "maya@example.com")
    maya.get_by_label("Role").select_option("billing_manager")
    maya.get_by_role("button", name="Save").click()
    page.locator("#toasts").get_by_text("Saved Maya.").wait_for()
    assert "Billing manager" in row(page, "maya@example.com").inner_text()

    # Active search: the URL follows, and Back restores the whole list.
    page.get_by_label("Search").press_sequentially("sam", delay=30)
    page.wait_for_url(re.compile(r"q=sam"))
    expect(page.locator("#member-rows tr")).to_have_count(1)
    assert row(page, "sam@example.com").count() == 1
    page.go_back()
    expect(page.locator("#member-rows tr")).to_have_count(5)
    assert "q=" not in page.url

    # Own row: no role control, no remove. Transfer ownership behind a confirmation.
    mine = row(page, "olivia@example.com")
    assert mine.get_by_role("button", name=re.compile("Remove")).count() == 0
    page.get_by_role("button", name="Make Sam the owner").click()
    page.locator("#toasts").get_by_text("Sam is now the owner.").wait_for()
    assert dialogs[-1] == "Make Sam the owner? You will become a billing manager."
    assert "Billing manager" in row(page, "olivia@example.com").inner_text()
    assert "Owner" in row(page, "sam@example.com").inner_text()
    assert page.get_by_role("button", name=re.compile("Make .* the owner")).count() == 0
    assert row(page, "sam@example.com").get_by_role("button", name=re.compile("Remove")).count() == 0

    # Remove someone: the row goes in place.
    page.get_by_role("button", name="Remove Kim").click()
    row(page, "kim@example.com").wait_for(state="detached")
    assert dialogs[-1].startswith("Remove Kim from the team?")
    page.locator("#toasts").get_by_text(re.compile("Removed Kim")).wait_for()
    expect(page.locator("#member-summary")).to_contain_text("4 members")
    assert page.evaluate("window.__samePage") is True

    # Read the activity.
    page.get_by_role("link", name="Activity").click()
    page.get_by_role("heading", name="Activity").wait_for()
    log = page.locator("#event-list").inner_text()
    for line in ("made owner", "removed", "changed", "added", "kim@example.com", "sam@example.com"):
        assert line in log
    assert re.search(r"owner:\s*olivia@example.com\s*→\s*sam@example.com", log)


def test_focus_is_visible_when_moving_by_keyboard(app, live_server, page, team):
    sign_in_with_cookie(app, page, live_server.url, member(team, "olivia@example.com"))
    page.goto(f"{live_server.url}/acme/team")
    page.get_by_label("Search").focus()
    page.keyboard.press("Tab")
    shadow = page.evaluate("getComputedStyle(document.activeElement).boxShadow")
    assert shadow and shadow != "none"


def test_billing_manager_is_not_offered_make_owner(app, live_server, page, team):
    sign_in_with_cookie(app, page, live_server.url, member(team, "ben@example.com"))
    page.goto(f"{live_server.url}/acme/team")
    page.get_by_role("heading", name="Globex").wait_for()
    assert page.get_by_text("Make owner").count() == 0
    assert row(page, "ben@example.com").get_by_role("button", name=re.compile("Remove")).count() == 0
    assert row(page, "olivia@example.com").get_by_role("button", name=re.compile("Remove")).count() == 0
    assert row(page, "maya@example.com").get_by_role("button", name="Remove Maya").count() == 1
    page.get_by_role("link", name="Edit Ben").click()
    expect(row(page, "ben@example.com").get_by_label("Name")).to_have_count(1)
    assert row(page, "ben@example.com").get_by_label("Role").count() == 0
