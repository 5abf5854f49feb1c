"""Seats in Chromium: the owner gives, chases and takes back seats; invitees claim in a fresh
browser. Mail goes through the outbox to the real SMTP sink."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.models import Role
from tests.factories import make_org, make_team
from tests.support.smtp import first_link

pytestmark = pytest.mark.browser


@pytest.fixture
def team(app):
    org = make_org("acme", "Acme Analytics")
    return make_team(org, name="Globex", owner="olivia@example.com", seats=2,
                     members={"maya@example.com": Role.MEMBER})


def sign_in(page, server, mailbox, email: str) -> None:
    """The real magic-link flow."""
    page.goto(f"{server.url}/acme/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.goto(first_link(mailbox.wait_for(email), "/login/verify"))
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".whoami")).to_contain_text(email.split("@")[0].title())


def open_seats(page, server, mailbox):
    sign_in(page, server, mailbox, "olivia@example.com")
    page.get_by_role("link", name="Seats").click()
    expect(page.get_by_role("heading", name="Seats")).to_be_visible()


def assign(page, email: str) -> None:
    page.get_by_label("Invite by email").fill(email)
    page.get_by_role("button", name="Assign seat").click()
    expect(page.locator("tr", has_text=email)).to_be_visible()


def counter(page):
    return page.locator(".seat-counter")


def test_owner_assigns_and_the_invitee_claims_in_a_fresh_browser(app, team, live_server, page,
                                                                 new_page, mailbox):
    open_seats(page, live_server, mailbox)
    expect(counter(page)).to_have_text("0 of 2 seats used · 0 pending")
    assign(page, "new@example.com")
    row = page.locator("tr", has_text="new@example.com")
    expect(row).to_contain_text("Pending")
    expect(row).to_contain_text("Expires in 7 days")
    expect(counter(page)).to_have_text("1 of 2 seats used · 1 pending")  # HX-Trigger: seats-changed
    expect(page.get_by_label("Invite by email")).to_have_value("")  # the form refreshed itself
    expect(page.locator(".toast", has_text="Invitation sent to new@example.com.")).to_be_visible()

    link = first_link(mailbox.wait_for("new@example.com"), "/claim")
    assert link.startswith(f"{live_server.url}/acme/claim?token=")
    invitee = new_page()
    invitee.goto(link)
    expect(invitee.get_by_role("heading", name="Claim your seat on Team plan")).to_be_visible()
    expect(invitee.locator(".facts")).to_contain_text("Globex")
    expect(invitee.locator(".facts")).to_contain_text("new@example.com")
    invitee.get_by_role("button", name="Claim seat").click()
    expect(invitee).to_have_url(re.compile(r"/acme/me$"))
    expect(invitee.locator(".whoami")).to_contain_text("new@example.com · Globex")
    expect(invitee.locator(".toast", has_text="Welcome to Globex")).to_be_visible()

    page.reload()
    expect(page.locator("tr", has_text="new@example.com")).to_contain_text("Claimed")
    expect(counter(page)).to_have_text("1 of 2 seats used · 0 pending")


def open_menu(page, email):
    page.locator("summary", has=page.get_by_text(f"Actions for the seat of {email}", exact=True)).click()
    return page.locator("details[data-menu][open] .menu-items")


def test_resend_kills_the_earlier_link_and_the_new_one_works(app, team, live_server, page, new_page,
                                                            mailbox):
    app.config["RESEND_COOLDOWN_SECONDS"] = 0
    open_seats(page, live_server, mailbox)
    assign(page, "new@example.com")
    first = first_link(mailbox.wait_for("new@example.com"), "/claim")
    open_menu(page, "new@example.com").get_by_role("button", name="Resend").click()
    expect(page.locator(".toast", has_text="previous link no longer works")).to_be_visible()
    second = first_link(mailbox.wait_for("new@example.com", count=2), "/claim")
    assert second != first

    invitee = new_page()
    invitee.goto(first)
    expect(invitee.get_by_role("heading", name="This invitation link was replaced")).to_be_visible()
    expect(invitee.locator("#claim-invalid")).to_contain_text("Use the link in the most recent email")
    invitee.goto(second)
    invitee.get_by_role("button", name="Claim seat").click()
    expect(invitee.locator(".whoami")).to_contain_text("new@example.com · Globex")


def test_resend_shows_its_cooldown(app, team, live_server, page, mailbox):
    app.config["RESEND_COOLDOWN_SECONDS"] = 3
    open_seats(page, live_server, mailbox)
    assign(page, "new@example.com")
    row = page.locator("tr", has_text="new@example.com")
    waiting = open_menu(page, "new@example.com").get_by_role("button", name=re.compile(r"Resend in \d s"))
    expect(waiting).to_be_disabled()
    # The row refreshes itself when the cooldown ends.
    expect(row.get_by_role("button", name="Resend", exact=True, include_hidden=True)).to_have_count(1, timeout=8000)
    expect(open_menu(page, "new@example.com").get_by_role("button", name="Resend", exact=True)).to_be_enabled()


def test_a_full_subscription_disables_assigning(app, team, live_server, page, mailbox):
    open_seats(page, live_server, mailbox)
    assign(page, "a@example.com")
    expect(page.get_by_role("button", name="Assign seat")).to_be_enabled()
    assign(page, "b@example.com")
    expect(counter(page)).to_have_text("2 of 2 seats used · 2 pending")
    expect(page.get_by_role("button", name="Assign seat")).to_be_disabled()
    expect(page.get_by_label("Invite by email")).to_be_disabled()
    expect(page.locator(".assign")).to_contain_text("All 2 seats are in use")


def test_revoke_frees_a_seat_and_kills_its_link(app, team, live_server, page, new_page, mailbox):
    open_seats(page, live_server, mailbox)
    assign(page, "a@example.com")
    assign(page, "b@example.com")
    expect(page.get_by_role("button", name="Assign seat")).to_be_disabled()
    link = first_link(mailbox.wait_for("a@example.com"), "/claim")

    native = []
    page.on("dialog", lambda dialog: (native.append(dialog.message), dialog.dismiss()))
    row = page.locator("tr", has_text="a@example.com")
    open_menu(page, "a@example.com").get_by_role("link", name="Revoke seat…").click()
    dialog = page.get_by_role("dialog", name="Revoke the seat of a@example.com?")
    dialog.get_by_role("button", name="Revoke seat").click()
    expect(row).to_contain_text("Revoked")
    expect(dialog).to_have_count(0)
    expect(row).to_be_focused()
    assert native == [], "no native confirm()"
    expect(counter(page)).to_have_text("1 of 2 seats used · 1 pending")
    expect(page.get_by_role("button", name="Assign seat")).to_be_enabled()

    invitee = new_page()
    invitee.goto(link)
    expect(invitee.get_by_role("heading", name="This invitation was withdrawn")).to_be_visible()
    expect(invitee.get_by_role("button", name="Claim seat")).to_have_count(0)

    assign(page, "c@example.com")  # the freed seat is given again
    expect(counter(page)).to_have_text("2 of 2 seats used · 2 pending")


def test_dismissing_the_confirmation_keeps_the_seat(app, team, live_server, page, mailbox):
    open_seats(page, live_server, mailbox)
    assign(page, "a@example.com")
    row = page.locator("tr", has_text="a@example.com")
    open_menu(page, "a@example.com").get_by_role("link", name="Revoke seat…").click()
    dialog = page.get_by_role("dialog", name="Revoke the seat of a@example.com?")
    dialog.get_by_role("link", name="Cancel").click()
    expect(dialog).to_have_count(0)
    expect(row.locator("summary")).to_be_focused()
    expect(row).to_contain_text("Pending")
    expect(counter(page)).to_have_text("1 of 2 seats used · 1 pending")


def test_a_plain_member_has_no_seats_page(app, team, live_server, page, mailbox):
    sign_in(page, live_server, mailbox, "maya@example.com")
    expect(page.get_by_role("link", name="Seats")).to_have_count(0)
    response = page.goto(f"{live_server.url}/acme/seats")
    assert response.status == 403


def test_a_claimed_or_revoked_seat_still_says_when_its_invitation_was_sent(app, team, live_server, page,
                                                                          new_page, mailbox):
    """"Last sent" said "Not sent" for every seat that was no longer pending, so a seat claimed
    from its emailed invitation, or revoked after one was sent, claimed no email had gone out."""
    open_seats(page, live_server, mailbox)
    assign(page, "new@example.com")
    assign(page, "gone@example.com")
    invitee = new_page()
    invitee.goto(first_link(mailbox.wait_for("new@example.com"), "/claim"))
    invitee.get_by_role("button", name="Claim seat").click()
    expect(invitee).to_have_url(re.compile(r"/acme/me$"))
    page.reload()
    open_menu(page, "gone@example.com").get_by_role("link", name="Revoke seat…").click()
    page.get_by_role("dialog", name="Revoke the seat of gone@example.com?").get_by_role("button", name="Revoke seat").click()
    expect(page.locator("tr", has_text="gone@example.com")).to_contain_text("Revoked")
    for email, state in (("new@example.com", "Claimed"), ("gone@example.com", "Revoked")):
        row = page.locator("tr", has_text=email)
        expect(row).to_contain_text(state)
        expect(row.locator("td").nth(3)).to_contain_text(re.compile(r"^\s*(Last sent\s*)?Sent "))
        expect(row).not_to_contain_text("Not sent")
