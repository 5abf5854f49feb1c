"""Every page and state of the portal, reached as a person would, for the page-wide checks
(axe-core in test_accessibility_browser.py, sideways scrolling in test_layout_browser.py).

Each state is a function of a `Visit` that leaves the browser showing that state and returns
what to check: the Page, or the portal's Frame when it is inside a vendor's page. States are
found by what a person sees (headings, labels, roles, URLs), not by CSS classes, so they
survive a redesign; when something a state needs is missing, it fails saying what.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect
from sqlalchemy import select

from app import config
from app.extensions import db
from app.models import Role, Subscription
from app.services import members as member_service
from app.services import groups as group_service
from app.services import organizations, signin
from app.services import seats as seat_service
from app.services.invitations import claim_seat
from tests.browser.test_embed_browser import HostSite, mint_portal_url, open_framed
from tests.factories import as_, make_org, make_team, member
from tests.support.smtp import first_link

OWNER, MANAGER, PLAIN = "olivia@example.com", "ben@example.com", "maya@example.com"
PENDING = "new@example.com"


@dataclass
class Portal:
    """Acme's team Globex: an owner, a billing manager, two members, three seats (one claimed,
    one pending) and some activity."""
    org: object
    team: object
    subscription: object
    pending_seat_id: str
    extra: dict = field(default_factory=dict)


def seed_portal(live_server) -> Portal:
    org = make_org("acme", "Acme Analytics")
    team = make_team(org, name="Globex", owner=OWNER, seats=3, members={
        MANAGER: Role.BILLING_MANAGER, PLAIN: Role.MEMBER, "sam@example.com": Role.MEMBER,
    })
    owner = as_(team, OWNER)
    member_service.add_member(db.session, owner, team, email="kim@example.com", name="Kim Lee",
                              role="member")
    sub = db.session.scalars(select(Subscription).where(Subscription.customer_id == team.id)).one()
    claimed = seat_service.assign_seat(db.session, owner, sub, member=member(team, PLAIN),
                                       base_url=live_server.url)
    token = claimed.invitation_token
    pending = seat_service.assign_seat(db.session, owner, sub, email=PENDING, base_url=live_server.url)
    db.session.commit()
    claim_seat(db.session, token, organization=org)
    # Groups, so the team page shows its chips and group filter, and the Groups pages have rows.
    engineering = group_service.create_group(db.session, owner, team, name="Engineering")
    finance = group_service.create_group(db.session, owner, team, name="Finance")
    group_service.add_members(db.session, owner, team, engineering.id,
                              [member(team, e).id for e in (PLAIN, "kim@example.com")])
    group_service.add_members(db.session, owner, team, finance.id, [member(team, PLAIN).id])
    db.session.commit()
    return Portal(org=org, team=team, subscription=sub, pending_seat_id=str(pending.id))


class Visit:
    """One browser page on the seeded portal."""

    def __init__(self, app, live_server, page, mailbox, portal: Portal):
        self.app, self.live_server, self.page, self.mailbox, self.portal = app, live_server, page, mailbox, portal
        self.base = live_server.url
        self.hosts: list[HostSite] = []

    def sign_in(self, email: str) -> None:
        sign_in_with_cookie(self.app, self.page, self.base, member(self.portal.team, email))

    def goto(self, path: str, status: int = 200):
        response = self.page.goto(f"{self.base}{path}")
        assert response is not None and response.status == status, (
            f"GET {path} answered {response.status if response else 'nothing'}, expected {status}")
        self.page.wait_for_load_state("networkidle")
        return response

    def member_id(self, email: str) -> str:
        return str(member(self.portal.team, email).id)

    def close(self) -> None:
        for host in self.hosts:
            host.close()


def sign_in_with_cookie(app, page, base: str, person) -> None:
    """Sign `person` in through a real sign-in link (issued here rather than read from an
    email, to keep the mailbox for the tests that read it), so the session cookie is the one
    the portal sets itself.

    Not test_team_browser.sign_in_with_cookie: it adds a plain cookie, and once the portal
    sets its own `Secure; SameSite=None; Partitioned` cookie of the same name (the default on
    loopback), Chromium keeps both and sends the stale one first, so the first form post
    fails its CSRF check ("This form has expired or was sent from elsewhere")."""
    org = person.customer.organization
    token, _code = signin.issue_link(db.session, org, person.email)
    db.session.commit()
    page.goto(signin.link_url(base, org, token))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def fail(message: str):
    pytest.fail(message, pytrace=False)


def heading(target, name) -> None:
    expect(target.get_by_role("heading", name=name).first).to_be_visible()


def menu_button(page, who: str):
    """The actions menu of `who`'s row (a <summary> or a button named "Actions for WHO")."""
    text = f"Actions for {who}"
    found = page.locator("summary", has=page.get_by_text(text, exact=True)).or_(
        page.get_by_role("button", name=text, exact=True))
    if found.count() != 1:
        fail(f"the team page has {found.count()} controls named “{text}” (expected one row actions menu)")
    return found


def open_menu(page, who: str):
    menu_button(page, who).click()


def menu_item(page, who: str, name):
    """The item `name` of `who`'s open row menu (a link or a button)."""
    open_menu(page, who)
    item = page.get_by_role("link", name=name).or_(page.get_by_role("button", name=name))
    item = item.filter(visible=True)
    try:
        expect(item.first).to_be_visible(timeout=3_000)
    except AssertionError:
        fail(f"the actions menu of {who} has no visible item named {name!r}")
    return item.first


# --- team ------------------------------------------------------------------------------------

def team_owner(v: Visit):
    v.sign_in(OWNER)
    v.goto("/acme/team")
    heading(v.page, "Globex")
    return v.page


def team_billing_manager(v: Visit):
    v.sign_in(MANAGER)
    v.goto("/acme/team")
    heading(v.page, "Globex")
    return v.page


def team_row_menu_open(v: Visit):
    team_owner(v)
    menu_item(v.page, "Sam", re.compile(r"^Remove"))
    return v.page


def _dialog(v: Visit, who: str, item, title: str):
    team_owner(v)
    native = []
    v.page.on("dialog", lambda d: (native.append(d.message), d.dismiss()))
    menu_item(v.page, who, item).click()
    dialog = v.page.get_by_role("dialog", name=title)
    try:
        expect(dialog).to_be_visible()
    except AssertionError:
        fail(f"no dialog named “{title}” opened"
             + (f"; the browser's native confirm() asked: {native[0]!r}" if native else ""))
    return dialog


def remove_dialog(v: Visit):
    _dialog(v, "Sam", re.compile(r"^Remove"), "Remove Sam?")
    return v.page


def make_owner_dialog(v: Visit):
    _dialog(v, "Sam", re.compile(r"^Make owner"), "Make Sam the owner?")
    return v.page


def make_owner_dialog_mistyped(v: Visit):
    dialog = _dialog(v, "Sam", re.compile(r"^Make owner"), "Make Sam the owner?")
    field = dialog.get_by_label(re.compile("sam@example.com"))
    field.fill("sam@example.co")
    dialog.get_by_role("button", name="Transfer ownership").click()
    expect(v.page.get_by_role("dialog").get_by_label(re.compile("sam@example.com"))).to_have_attribute(
        "aria-invalid", "true")
    return v.page


def team_edit_mode(v: Visit):
    team_owner(v)
    menu_item(v.page, "Maya", re.compile(r"^Edit")).click()
    expect(v.page.get_by_role("row").filter(has_text=PLAIN).get_by_label("Name", exact=True)).to_be_visible()
    # htmx gives the swapped-in row its attributes (class "editing") only once it settles, a
    # moment after its fields show.
    expect(v.page.locator("tr.editing")).to_have_count(1)
    return v.page


def team_filtered_by_group(v: Visit):
    """The team page filtered by a group from the filter bar's select."""
    team_owner(v)
    v.page.get_by_label("Group", exact=True).select_option(label="Engineering")
    v.page.wait_for_url(re.compile(r"group="))
    expect(v.page.get_by_role("row").filter(has_text="@example.com")).to_have_count(2)
    v.page.wait_for_load_state("networkidle")
    return v.page


def team_search_no_results(v: Visit):
    team_owner(v)
    v.page.get_by_label("Search").fill("nobody-is-called-this")
    v.page.wait_for_url(re.compile(r"q=nobody-is-called-this"))
    expect(v.page.get_by_role("row").filter(has_text="@example.com")).to_have_count(0)
    v.page.wait_for_load_state("networkidle")
    return v.page


def confirm_remove_page(v: Visit):
    """The no-JS confirmation page the row menu's "Remove" item links to."""
    v.sign_in(OWNER)
    v.goto(f"/acme/team/members/{v.member_id('sam@example.com')}/remove")
    expect(v.page.get_by_role("button", name="Remove member")).to_be_visible()
    return v.page


def confirm_owner_page(v: Visit):
    v.sign_in(OWNER)
    v.goto(f"/acme/team/members/{v.member_id('sam@example.com')}/owner")
    expect(v.page.get_by_role("button", name="Transfer ownership")).to_be_visible()
    return v.page


# --- seats -----------------------------------------------------------------------------------

def seats(v: Visit):
    v.sign_in(OWNER)
    v.goto("/acme/seats")
    heading(v.page, re.compile(r"^Seats"))
    return v.page


def seats_revoke_dialog(v: Visit):
    """Revoke from the pending seat's row: a styled <dialog>, as the issue asks (a button in
    the row, or an item of the row's actions menu)."""
    seats(v)
    native = []
    v.page.on("dialog", lambda d: (native.append(d.message), d.dismiss()))
    rows = v.page.get_by_role("row").filter(has_text=PENDING)
    if rows.count() != 1:
        fail(f"the seats page shows {rows.count()} rows for {PENDING} (expected 1)")
    name = re.compile(r"^Revoke")
    control = rows.get_by_role("button", name=name).or_(rows.get_by_role("link", name=name)).filter(visible=True)
    if control.count() == 0:
        menu = rows.locator("summary").or_(rows.get_by_role("button", name=re.compile("^Actions for")))
        if menu.count() == 0:
            fail(f"the seat row of {PENDING} has neither a visible Revoke control nor an actions menu")
        menu.first.click()
        control = v.page.get_by_role("button", name=name).or_(v.page.get_by_role("link", name=name))
        control = control.filter(visible=True)
        if control.count() == 0:
            fail(f"the actions menu of the seat row of {PENDING} has no Revoke item")
    control.first.click()
    dialog = v.page.get_by_role("dialog")
    try:
        expect(dialog).to_be_visible(timeout=5_000)
    except AssertionError:
        fail("Revoke opened no <dialog>"
             + (f"; it uses the browser's native confirm(): {native[0]!r}" if native else ""))
    expect(dialog.get_by_role("button", name=name)).to_be_visible()
    return v.page


def seats_revoke_page(v: Visit):
    """The no-JS confirmation page for revoking a seat."""
    v.sign_in(OWNER)
    v.goto(f"/acme/seats/{v.portal.pending_seat_id}/revoke")
    expect(v.page.get_by_role("button", name=re.compile(r"^Revoke"))).to_be_visible()
    return v.page


# --- activity and membership -----------------------------------------------------------------

def activity(v: Visit):
    v.sign_in(OWNER)
    v.goto("/acme/activity")
    heading(v.page, "Activity")
    return v.page


def membership_owner(v: Visit):
    v.sign_in(OWNER)
    v.goto("/acme/me")
    heading(v.page, "My membership")
    return v.page


def membership_member(v: Visit):
    v.sign_in(PLAIN)
    v.goto("/acme/me")
    heading(v.page, "My membership")
    return v.page


def membership_leave_dialog(v: Visit):
    """A plain member asks to leave the team: the confirmation dialog."""
    membership_member(v)
    native = []
    v.page.on("dialog", lambda d: (native.append(d.message), d.dismiss()))
    leave = v.page.get_by_role("link", name=re.compile(r"^Leave")).or_(
        v.page.get_by_role("button", name=re.compile(r"^Leave"))).filter(visible=True)
    if leave.count() == 0:
        fail("a plain member's membership page offers no visible “Leave…” control")
    leave.first.click()
    dialog = v.page.get_by_role("dialog", name=re.compile(r"^Leave"))
    try:
        expect(dialog).to_be_visible()
    except AssertionError:
        fail("“Leave…” opened no dialog named “Leave …”"
             + (f"; the browser's native confirm() asked: {native[0]!r}" if native else ""))
    return v.page


def leave_confirm_page(v: Visit):
    """The no-JS page behind the leave dialog."""
    v.sign_in(PLAIN)
    v.goto("/acme/me/leave")
    heading(v.page, re.compile(r"^Leave"))
    return v.page


# --- groups ----------------------------------------------------------------------------------

def group_id(v: Visit, name: str) -> str:
    return str(next(x.id for x in group_service.list_groups(db.session, as_(v.portal.team, OWNER),
                                                            v.portal.team, limit=500).items if x.name == name))


def groups_list(v: Visit):
    v.sign_in(OWNER)
    v.goto("/acme/groups")
    heading(v.page, "Groups")
    expect(v.page.get_by_role("link", name="Engineering", exact=True)).to_be_visible()
    return v.page


def groups_empty(v: Visit):
    for name in ("Engineering", "Finance"):
        group_service.delete_group(db.session, as_(v.portal.team, OWNER), v.portal.team, group_id(v, name))
    db.session.commit()
    v.sign_in(OWNER)
    v.goto("/acme/groups")
    expect(v.page.get_by_text("No groups yet.")).to_be_visible()
    return v.page


def groups_row_menu_open(v: Visit):
    groups_list(v)
    menu_item(v.page, "Engineering", re.compile(r"^Delete"))
    return v.page


def groups_rename_mode(v: Visit):
    groups_list(v)
    menu_item(v.page, "Finance", re.compile(r"^Rename")).click()
    expect(v.page.get_by_label("Name of the group")).to_be_focused()
    return v.page


def groups_delete_dialog(v: Visit):
    groups_list(v)
    menu_item(v.page, "Engineering", re.compile(r"^Delete")).click()
    expect(v.page.get_by_role("dialog", name="Delete the group Engineering?")).to_be_visible()
    return v.page


def groups_create_error(v: Visit):
    groups_list(v)
    v.page.get_by_label("Group name").fill("finance")
    v.page.get_by_role("button", name="Create group").click()
    expect(v.page.get_by_label("Group name")).to_have_attribute("aria-invalid", "true")
    return v.page


def group_page(v: Visit):
    v.sign_in(OWNER)
    v.goto(f"/acme/groups/{group_id(v, 'Engineering')}")
    heading(v.page, "Engineering")
    return v.page


def group_picker_search(v: Visit):
    group_page(v)
    v.page.get_by_label("Find people on the team").fill("s")
    expect(v.page.get_by_role("status").filter(has_text="for “s”")).to_be_visible()
    v.page.get_by_role("checkbox").first.check()
    return v.page


def group_picker_error(v: Visit):
    group_page(v)
    v.page.get_by_role("button", name="Add selected").click()
    expect(v.page.get_by_text("Tick at least one person to add.")).to_be_visible()
    return v.page


def group_remove_dialog(v: Visit):
    group_page(v)
    menu_item(v.page, "Kim Lee", re.compile(r"^Remove")).click()
    expect(v.page.get_by_role("dialog", name="Remove Kim Lee from Engineering?")).to_be_visible()
    return v.page


def group_delete_page(v: Visit):
    """The no-JS page behind the delete dialog."""
    v.sign_in(OWNER)
    v.goto(f"/acme/groups/{group_id(v, 'Engineering')}/delete")
    expect(v.page.get_by_role("button", name="Delete group")).to_be_visible()
    return v.page


def group_remove_page(v: Visit):
    """The no-JS page behind the remove-from-group dialog."""
    v.sign_in(OWNER)
    v.goto(f"/acme/groups/{group_id(v, 'Engineering')}/members/{v.member_id(PLAIN)}/remove")
    expect(v.page.get_by_role("button", name="Remove from group")).to_be_visible()
    return v.page


# --- signing in and claiming -----------------------------------------------------------------

def sign_in_page(v: Visit):
    v.goto("/acme/login")
    expect(v.page.get_by_label("Email address")).to_be_visible()
    return v.page


def check_email(v: Visit):
    sign_in_page(v)
    v.page.get_by_label("Email address").fill(OWNER)
    v.page.get_by_role("button", name="Email me a sign-in link").click()
    heading(v.page, "Check your email")
    v.page.wait_for_load_state("networkidle")
    return v.page


def sign_in_confirm(v: Visit):
    """The page a real sign-in link from the email opens (it asks before signing in)."""
    check_email(v)
    v.page.goto(first_link(v.mailbox.wait_for(OWNER), "/acme/login/verify?token="))
    expect(v.page.get_by_role("button", name="Sign in")).to_be_visible()
    v.page.wait_for_load_state("networkidle")
    return v.page


def claim(v: Visit):
    """The page a real invitation email opens."""
    seat_service.assign_seat(db.session, as_(v.portal.team, OWNER), v.portal.subscription,
                             email="invitee@example.com", base_url=v.base)
    db.session.commit()
    v.page.goto(first_link(v.mailbox.wait_for("invitee@example.com"), "/acme/claim?token="))
    expect(v.page.get_by_role("button", name="Claim seat")).to_be_visible()
    v.page.wait_for_load_state("networkidle")
    return v.page


def claim_invalid(v: Visit):
    v.goto("/acme/claim?token=not-a-real-invitation", status=404)
    expect(v.page.get_by_role("heading").first).to_be_visible()
    return v.page


# --- errors ----------------------------------------------------------------------------------

def error_404(v: Visit):
    v.sign_in(OWNER)
    v.goto("/acme/no-such-page", status=404)
    expect(v.page.get_by_role("heading").first).to_be_visible()
    return v.page


def error_403(v: Visit):
    """A plain member opens the team page."""
    v.sign_in(PLAIN)
    v.goto("/acme/team", status=403)
    expect(v.page.get_by_role("heading").first).to_be_visible()
    return v.page


# --- inside a vendor's frame -----------------------------------------------------------------

def framed_team(v: Visit):
    """The team page in an iframe on http://localhost:PORT, with the cookies the portal picks
    by default for its loopback address (as test_embed_browser.py does)."""
    host = HostSite()
    v.hosts.append(host)
    v.app.config.update(config.cookie_settings(config.secure_context(v.base)))
    organizations.set_embed_origins(db.session, v.portal.org, [host.origin])
    db.session.commit()
    open_framed(v.page, host, mint_portal_url(v.live_server, v.portal.org, v.portal.team))
    frame = next((f for f in v.page.frames if f.url.startswith(f"{v.base}/acme/team")), None)
    if frame is None:
        fail(f"no frame shows {v.base}/acme/team; frames: {[f.url for f in v.page.frames]}")
    try:
        frame.wait_for_load_state("networkidle")
    except PlaywrightError:
        pass
    return frame


STATES = {
    "team-owner": team_owner,
    "team-billing-manager": team_billing_manager,
    "team-row-menu-open": team_row_menu_open,
    "team-remove-dialog": remove_dialog,
    "team-make-owner-dialog": make_owner_dialog,
    "team-make-owner-dialog-mistyped-email": make_owner_dialog_mistyped,
    "team-edit-mode": team_edit_mode,
    "team-search-no-results": team_search_no_results,
    "team-filtered-by-group": team_filtered_by_group,
    "seats": seats,
    "seats-revoke-dialog": seats_revoke_dialog,
    "seats-revoke-confirm-page-nojs": seats_revoke_page,
    "activity": activity,
    "membership-owner": membership_owner,
    "membership-plain-member": membership_member,
    "membership-leave-dialog": membership_leave_dialog,
    "leave-confirm-page-nojs": leave_confirm_page,
    "groups": groups_list,
    "groups-empty": groups_empty,
    "groups-row-menu-open": groups_row_menu_open,
    "groups-rename-mode": groups_rename_mode,
    "groups-delete-dialog": groups_delete_dialog,
    "groups-create-name-taken": groups_create_error,
    "group-page": group_page,
    "group-picker-search": group_picker_search,
    "group-picker-nobody-ticked": group_picker_error,
    "group-remove-dialog": group_remove_dialog,
    "group-delete-confirm-page-nojs": group_delete_page,
    "group-remove-confirm-page-nojs": group_remove_page,
    "sign-in": sign_in_page,
    "check-email": check_email,
    "sign-in-confirm": sign_in_confirm,
    "claim": claim,
    "claim-invalid": claim_invalid,
    "error-404": error_404,
    "error-403-member-on-team": error_403,
    "remove-confirm-page-nojs": confirm_remove_page,
    "make-owner-confirm-page-nojs": confirm_owner_page,
    "team-in-vendor-frame": framed_team,
}
