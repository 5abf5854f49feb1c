"""Magic-link sign-in in Chromium: ask for a link, read it from the email, confirm, land signed in,
sign out; a used link does not sign in again; the code works on another device."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.models import Role
from tests.factories import make_org, make_team
from tests.support.smtp import code_of, first_link

pytestmark = pytest.mark.browser


@pytest.fixture
def team(app):
    org = make_org("acme", "Acme Analytics")
    return make_team(org, name="Globex", owner="olivia@example.com",
                     members={"maya@example.com": Role.MEMBER})


def ask_for_link(page, live_server, email: str) -> None:
    page.goto(f"{live_server.url}/acme/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()


def test_link_signs_in_once_and_sign_out_ends_it(live_server, page, mailbox, team):
    ask_for_link(page, live_server, "olivia@example.com")
    link = first_link(mailbox.wait_for("olivia@example.com"), "/acme/login/verify?token=")
    assert link.startswith(f"{live_server.url}/acme/login/verify?token=")

    # Opening the link (as a mail scanner would) signs nobody in: it shows a button.
    page.goto(link)
    expect(page.get_by_role("heading", name="Sign in to Acme Analytics")).to_be_visible()
    expect(page.get_by_text("olivia@example.com")).to_be_visible()
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(f"{live_server.url}/acme/team")
    expect(page.get_by_role("heading", name="Globex")).to_be_visible()
    expect(page.get_by_role("navigation", name="Portal").get_by_role("link", name="Team")).to_be_visible()
    expect(page.locator("#toasts")).to_contain_text("Welcome, Olivia.")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_server.url}/acme/login")
    expect(page.locator("#toasts")).to_contain_text("You are signed out.")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)

    # The portal is closed now, and the used link says so instead of signing in again.
    page.goto(f"{live_server.url}/acme/team")
    expect(page).to_have_url(re.compile(r"/acme/login\?next="))
    page.goto(link)
    expect(page.get_by_role("heading", name="This link was already used")).to_be_visible()
    expect(page.get_by_role("button", name="Sign in")).to_have_count(0)
    page.get_by_role("link", name="Get a new sign-in link").click()
    expect(page).to_have_url(f"{live_server.url}/acme/login")
    page.goto(f"{live_server.url}/acme/team")
    expect(page).to_have_url(re.compile(r"/acme/login"))


def test_code_signs_in_where_the_link_was_asked_for(live_server, page, new_page, mailbox, team):
    """The email is read on a phone; the code is typed on the laptop that asked for it."""
    laptop = new_page()
    ask_for_link(laptop, live_server, "Maya@Example.com")
    message = mailbox.wait_for("maya@example.com")

    laptop.get_by_label("Code from the email").fill(code_of(message).lower())
    laptop.get_by_role("button", name="Sign in with code").click()
    expect(laptop).to_have_url(f"{live_server.url}/acme/me")
    expect(laptop.get_by_role("heading", name="My membership")).to_be_visible()
    expect(laptop.locator(".facts")).to_contain_text("maya@example.com")
    expect(laptop.get_by_role("navigation", name="Portal").get_by_role("link", name="Team")).to_have_count(0)

    # The link of the same email is spent with its code; the phone is not signed in by it.
    page.goto(first_link(message, "/acme/login/verify?token="))
    expect(page.get_by_role("heading", name="This link was already used")).to_be_visible()
    page.goto(f"{live_server.url}/acme/me")
    expect(page).to_have_url(re.compile(r"/acme/login"))


def test_wrong_code_shows_an_inline_error(live_server, page, mailbox, team):
    ask_for_link(page, live_server, "maya@example.com")
    mailbox.wait_for("maya@example.com")
    page.get_by_label("Code from the email").fill("WRONG234")
    page.get_by_role("button", name="Sign in with code").click()
    expect(page.locator(".field-error")).to_have_text(re.compile("That code is not right"))
    expect(page.get_by_label("Code from the email")).to_have_attribute("aria-invalid", "true")


def test_link_opened_on_another_device_signs_in_there(live_server, page, new_page, mailbox, team):
    ask_for_link(page, live_server, "maya@example.com")
    link = first_link(mailbox.wait_for("maya@example.com"), "/acme/login/verify?token=")
    phone = new_page()
    phone.goto(link)
    phone.get_by_role("button", name="Sign in").click()
    expect(phone).to_have_url(f"{live_server.url}/acme/me")
    # The device that asked is not signed in by someone else's click.
    page.goto(f"{live_server.url}/acme/me")
    expect(page).to_have_url(re.compile(r"/acme/login"))


def test_the_wait_after_too_many_links_reads_as_english(live_server, page, mailbox, team):
    """Five links in 15 minutes, the first of them 14½ minutes ago: the sign-in page said
    "Try again in 1 minutes."."""
    from datetime import timedelta

    from app.extensions import db
    from app.models import SignInToken, utcnow
    from app.services import signin

    org = team.organization
    for _ in range(5):
        signin.issue_link(db.session, org, "olivia@example.com")
    db.session.flush()
    first = db.session.query(SignInToken).filter_by(email="olivia@example.com").order_by(SignInToken.created_at).first()
    first.created_at = utcnow() - timedelta(minutes=14, seconds=30)
    db.session.commit()
    page.goto(f"{live_server.url}/acme/login")
    page.get_by_label("Email address").fill("olivia@example.com")
    page.get_by_role("button", name="Email me a sign-in link").click()
    alert = page.get_by_text(re.compile("Too many sign-in links"))
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("Try again in 1 minute.")
