"""The team page: status codes, fragments, HX-* headers, CSRF, and 403/404 isolation."""
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Member, PortalSession, Role, Seat, SeatStatus
from app.services import organizations, seats, sessions
from app.services.access import Actor
from tests.factories import make_individual, make_org, make_team, member
from tests.support.web import HX, csrf_token, sign_in_client



@pytest.fixture
def org(app):
    return make_org("acme", "Acme")


@pytest.fixture
def team(org):
    return make_team(org, name="Globex", owner="olivia@example.com", members={
        "ben@example.com": Role.BILLING_MANAGER,
        "maya@example.com": Role.MEMBER,
        "sam@example.com": Role.MEMBER,
    })


@pytest.fixture
def other_team(org):
    return make_team(org, name="Initech", owner="zed@other.example", members={"yan@other.example": Role.MEMBER})


def signed_in(client, team, email):
    sign_in_client(client, member(team, email))
    return client


@pytest.fixture
def owner(client, team):
    return signed_in(client, team, "olivia@example.com")


@pytest.fixture
def manager(client, team):
    return signed_in(client, team, "ben@example.com")


def post(client, url, data=None, headers=None):
    data = dict(data or {})
    data["csrf_token"] = csrf_token(client, "/acme/me")
    return client.post(url, data=data, headers=headers or {})


def live_count(team, email=None):
    q = select(func.count(Member.id)).where(Member.customer_id == team.id, Member.deleted_at.is_(None))
    if email:
        q = q.where(func.lower(Member.email) == email.lower())
    return db.session.scalar(q)


def row_html(html, m):
    match = re.search(rf'<tr id="member-{m.id}".*?</tr>', html, re.S)
    assert match, f"no row for {m.email}"
    return match.group(0)


def text(response):
    return response.get_data(as_text=True)


class TestTeamPage:
    def test_table_shows_name_email_role_seat_and_added_date_in_a_stable_order(self, owner, team):
        sub = organizations.set_seat_count(db.session, team, 3)
        maya = member(team, "maya@example.com")
        db.session.add(Seat(subscription_id=sub.id, email=maya.email, member_id=maya.id, status=SeatStatus.CLAIMED))
        db.session.add(Seat(subscription_id=sub.id, email="sam@example.com",
                            member_id=member(team, "sam@example.com").id, status=SeatStatus.PENDING))
        db.session.commit()
        response = owner.get("/acme/team")
        html = text(response)
        assert response.status_code == 200 and "<html" in html
        for heading in ("Member", "Role", "Seat", "Added"):
            assert f'<th scope="col">{heading}</th>' in html
        emails = re.findall(r'<span class="person-email">([a-z]+@example\.com)</span>', html)
        assert emails == ["olivia@example.com", "ben@example.com", "maya@example.com", "sam@example.com"]
        assert "Seat claimed" in row_html(html, maya)
        assert "Invitation pending" in row_html(html, member(team, "sam@example.com"))
        assert "No seat" in row_html(html, member(team, "ben@example.com"))
        assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT', row_html(html, maya))

    def test_search_input_is_active_and_the_url_follows(self, owner):
        html = text(owner.get("/acme/team"))
        search = re.search(r'<input type="search"[^>]*>', html, re.S).group(0)
        assert 'hx-trigger="input changed delay:300ms, search"' in search
        assert 'hx-get="/acme/team"' in search and 'hx-push-url="true"' in search
        assert 'hx-target="#member-table"' in search
        assert '<label for="filter-q">Search</label>' in html

    def test_htmx_search_returns_only_the_table_block(self, owner):
        response = owner.get("/acme/team?q=MAY", headers={**HX, "HX-Target": "member-table"})
        html = text(response)
        assert response.status_code == 200
        assert html.lstrip().startswith('<div id="member-table"')
        assert "<html" not in html and 'id="add-member"' not in html
        assert "maya@example.com" in html and "sam@example.com" not in html
        assert "1–1 of 1 member matching “MAY”" in html
        assert "HX-Request" in response.headers.get("Vary", "")

    def test_without_htmx_search_is_a_full_page_with_the_value_kept(self, owner):
        html = text(owner.get("/acme/team?q=sam"))
        assert "<html" in html and 'value="sam"' in html and "maya@example.com" not in html

    def test_history_restore_gets_the_full_page(self, owner):
        html = text(owner.get("/acme/team?q=sam", headers={**HX, "HX-Target": "member-table",
                                                          "HX-History-Restore-Request": "true"}))
        assert "<html" in html

    def test_role_filter(self, owner):
        html = text(owner.get("/acme/team?role=billing_manager"))
        assert "ben@example.com</span>" in html and "maya@example.com</span>" not in html
        assert '<option value="billing_manager" selected>' in html

    def test_pages_and_page_size(self, owner, team):
        for i in range(21):
            db.session.add(Member(customer_id=team.id, email=f"p{i:02d}@example.com", role=Role.MEMBER))
        db.session.commit()
        first = text(owner.get("/acme/team?size=10"))
        assert first.count('<tr id="member-') == 10
        assert "page 1 of 3" in first
        assert 'href="/acme/team?page=2&amp;size=10"' in first
        last = text(owner.get("/acme/team?size=10&page=3", headers={**HX, "HX-Target": "member-table"}))
        assert last.count('<tr id="member-') == 5 and "page 3 of 3" in last
        assert 'rel="prev"' in last and 'rel="next"' not in last
        beyond = text(owner.get("/acme/team?size=10&page=99"))
        assert "page 3 of 3" in beyond

    @pytest.mark.parametrize("query", ["size=7", "size=abc", "page=-3", "page=x", "role=admin"])
    def test_odd_parameters_fall_back_to_defaults(self, owner, query):
        response = owner.get(f"/acme/team?{query}")
        assert response.status_code == 200 and "4 members" in text(response)

    def test_an_ended_session_redirects_htmx_to_sign_in_instead_of_swapping_a_page(self, client, team):
        response = client.get("/acme/team?q=a", headers={**HX, "HX-Target": "member-table"})
        assert response.status_code == 204
        assert response.headers["HX-Redirect"].startswith("/acme/login")


class TestRowControls:
    def test_own_row_has_no_role_control_and_no_remove(self, owner, team):
        olivia = member(team, "olivia@example.com")
        row = row_html(text(owner.get("/acme/team")), olivia)
        assert '<span class="badge badge-you">You</span>' in row and "Edit name</a>" in row
        assert "Remove" not in row and "Make owner" not in row
        edit = text(owner.get(f"/acme/team/members/{olivia.id}/edit", headers=HX))
        assert 'name="name"' in edit and 'name="role"' not in edit

    def test_owner_row_has_no_demote_or_remove_for_a_billing_manager(self, manager, team):
        olivia = member(team, "olivia@example.com")
        row = row_html(text(manager.get("/acme/team")), olivia)
        assert "Remove" not in row and "Make owner" not in row
        edit = text(manager.get(f"/acme/team/members/{olivia.id}/edit", headers=HX))
        assert 'name="role"' not in edit

    def test_owner_sees_one_actions_menu_with_confirmations_behind_it(self, owner, team):
        maya = member(team, "maya@example.com")
        row = row_html(text(owner.get("/acme/team")), maya)
        assert row.count("<summary") == 1 and "Actions for Maya</span></summary>" in row
        # Without JS each item is a link to its confirmation page; htmx opens it in a dialog.
        for path in (f"/acme/team/members/{maya.id}/owner", f"/acme/team/members/{maya.id}/remove"):
            assert f'href="{path}" hx-get="{path}"\n                       hx-target="#dialog-slot"' in row
        assert "Make owner…</a>" in row and "Remove from team…</a>" in row
        assert row.index("Make owner") < row.index('<li class="menu-danger">') < row.index("Remove from team")
        assert "hx-confirm" not in row, "no native confirm()"

    def test_htmx_asks_for_the_confirmation_as_a_dialog(self, owner, team):
        maya = member(team, "maya@example.com")
        html = text(owner.get(f"/acme/team/members/{maya.id}/remove", headers=HX))
        assert html.lstrip().startswith('<dialog class="confirm-dialog" aria-labelledby="confirm-title" data-open>')
        assert '<h2 id="confirm-title">Remove Maya?</h2>' in html and "<html" not in html
        assert f'hx-target="#member-{maya.id}"' in html and ">Remove member</button>" in html

    def test_billing_manager_is_never_offered_make_owner(self, manager):
        assert "Make owner" not in text(manager.get("/acme/team"))

    def test_add_form_offers_no_owner_role_and_has_labels(self, owner):
        html = text(owner.get("/acme/team"))
        form = re.search(r'<form id="add-member".*?</form>', html, re.S).group(0)
        assert 'value="owner"' not in form
        for field in ("add-email", "add-name", "add-role"):
            assert f'<label for="{field}">' in form and f'id="{field}"' in form


class TestAddMember:
    def test_without_js_adds_and_redirects_with_a_flash(self, owner, team):
        response = post(owner, "/acme/team/members", {"email": "kim@example.com", "name": "Kim", "role": "billing_manager"})
        assert response.status_code == 303 and response.headers["Location"] == "/acme/team"
        assert member(team, "kim@example.com").role is Role.BILLING_MANAGER
        assert "Added Kim." in text(owner.get("/acme/team"))

    def test_with_htmx_the_row_appears_and_the_form_clears(self, owner, team):
        response = post(owner, "/acme/team/members", {"email": "kim@example.com", "name": "Kim", "role": "member"}, HX)
        html = text(response)
        kim = member(team, "kim@example.com")
        assert response.status_code == 200
        assert html.lstrip().startswith('<form id="add-member"')
        form = re.search(r'<form id="add-member".*?</form>', html, re.S).group(0)
        assert 'value="kim@example.com"' not in form and 'value="Kim"' not in form
        assert '<template><tbody hx-swap-oob="afterbegin:#member-rows">' in html
        assert f'<tr id="member-{kim.id}" class="is-new">' in html
        assert re.search(r'<input[^>]*data-focus-next[^>]*id="add-email"', form), "focus goes back to the email"
        assert "Added Kim." in html and 'hx-swap-oob="beforeend"' in html
        assert response.headers["HX-Trigger"] == "members-changed"

    @pytest.mark.parametrize("data, field, message", [
        ({"email": "not-an-email", "name": "Kim"}, "add-email", "Enter a valid email address"),
        ({"email": "", "name": "Kim"}, "add-email", "Enter an email address."),
        ({"email": "kim@example.com", "name": "K" * 257}, "add-name", "at most 256 characters"),
    ])
    def test_bad_input_is_an_inline_422_with_the_typed_values_kept(self, owner, team, data, field, message):
        response = post(owner, "/acme/team/members", {**data, "role": "billing_manager"}, HX)
        html = text(response)
        assert response.status_code == 422
        assert html.lstrip().startswith('<form id="add-member"')
        assert f'<p class="field-error" id="{field}-error">' in html and message in html
        assert f'value="{data["email"]}"' in html if data["email"] else True
        assert f'value="{data["name"]}"' in html
        assert '<option selected value="billing_manager">' in html
        assert live_count(team) == 4

    def test_without_js_bad_input_is_the_whole_page_with_422(self, owner, team):
        response = post(owner, "/acme/team/members", {"email": "nope", "name": "Kim"})
        assert response.status_code == 422
        html = text(response)
        assert "<html" in html and 'value="nope"' in html and "Enter a valid email address" in html

    def test_existing_email_points_at_the_existing_row_and_adds_nothing(self, owner, team):
        maya = member(team, "maya@example.com")
        response = post(owner, "/acme/team/members", {"email": "MAYA@Example.com", "name": "Other"}, HX)
        html = text(response)
        assert response.status_code == 200
        assert "maya@example.com is already on the team." in html
        assert f'href="/acme/team?q=maya@example.com#member-{maya.id}"' in html
        assert live_count(team, "maya@example.com") == 1 and maya.name == "Maya"

    def test_without_js_existing_email_redirects_to_the_row(self, owner, team):
        maya = member(team, "maya@example.com")
        response = post(owner, "/acme/team/members", {"email": "maya@example.com"})
        assert response.status_code == 303
        assert response.headers["Location"] == f"/acme/team?q=maya@example.com#member-{maya.id}"
        assert "already on the team" in text(owner.get("/acme/team?q=maya%40example.com"))

    def test_forged_owner_role_is_refused_with_a_toast(self, owner, team):
        response = post(owner, "/acme/team/members", {"email": "boss@example.com", "role": "owner"}, HX)
        assert response.status_code == 422 and response.headers["HX-Reswap"] == "none"
        assert "Cannot add a member as owner" in text(response)
        assert live_count(team, "boss@example.com") == 0

    def test_forged_owner_role_without_js_is_a_flash_and_redirect(self, owner, team):
        response = post(owner, "/acme/team/members", {"email": "boss@example.com", "role": "owner"})
        assert response.status_code == 303
        assert "Cannot add a member as owner" in text(owner.get("/acme/team"))
        assert live_count(team, "boss@example.com") == 0

    def test_csrf_is_required(self, owner, team):
        response = owner.post("/acme/team/members", data={"email": "kim@example.com"}, headers=HX)
        assert response.status_code == 400 and "expired" in text(response)
        assert live_count(team, "kim@example.com") == 0

    def test_csrf_token_in_the_htmx_header_is_accepted(self, owner, team):
        token = csrf_token(owner, "/acme/me")
        response = owner.post("/acme/team/members", data={"email": "kim@example.com"},
                              headers={**HX, "X-CSRFToken": token})
        assert response.status_code == 200 and live_count(team, "kim@example.com") == 1


class TestEditMember:
    def test_edit_returns_the_row_as_a_form(self, owner, team):
        maya = member(team, "maya@example.com")
        html = text(owner.get(f"/acme/team/members/{maya.id}/edit", headers=HX))
        assert html.lstrip().startswith(f'<tr id="member-{maya.id}" class="editing">')
        assert f'<label for="name-{maya.id}">Name</label>' in html
        assert f'<label for="role-{maya.id}">Role</label>' in html
        assert 'value="owner"' not in html and 'hx-target="closest tr"' in html

    def test_without_js_edit_is_a_page_with_that_row(self, owner, team):
        maya = member(team, "maya@example.com")
        html = text(owner.get(f"/acme/team/members/{maya.id}/edit"))
        assert "<html" in html and 'class="editing"' in html and "sam@example.com" not in html

    def test_save_returns_the_updated_row_and_a_toast(self, owner, team):
        maya = member(team, "maya@example.com")
        response = post(owner, f"/acme/team/members/{maya.id}", {"name": "Maya Patel", "role": "billing_manager"}, HX)
        html = text(response)
        assert response.status_code == 200
        assert html.lstrip().startswith(f'<tr id="member-{maya.id}" class="is-changed">')
        assert "Maya Patel" in html and "Billing manager" in html and "Saved Maya Patel." in html
        assert "<summary data-focus-next>" in html, "focus returns to the row's menu"
        db.session.expire_all()
        assert member(team, "maya@example.com").role is Role.BILLING_MANAGER

    def test_without_js_save_redirects(self, owner, team):
        maya = member(team, "maya@example.com")
        response = post(owner, f"/acme/team/members/{maya.id}", {"name": "M", "role": "member"})
        assert response.status_code == 303 and response.headers["Location"] == "/acme/team"

    def test_a_long_name_is_an_inline_error_in_the_row(self, owner, team):
        maya = member(team, "maya@example.com")
        response = post(owner, f"/acme/team/members/{maya.id}", {"name": "x" * 300, "role": "member"}, HX)
        html = text(response)
        assert response.status_code == 422
        assert f'id="name-{maya.id}-error"' in html and "x" * 300 in html
        db.session.expire_all()
        assert member(team, "maya@example.com").name == "Maya"

    def test_you_can_rename_yourself(self, manager, team):
        ben = member(team, "ben@example.com")
        response = post(manager, f"/acme/team/members/{ben.id}", {"name": "Benjamin"}, HX)
        assert response.status_code == 200 and "Benjamin" in text(response)

    def test_forged_change_of_your_own_role_is_a_toast(self, manager, team):
        ben = member(team, "ben@example.com")
        response = post(manager, f"/acme/team/members/{ben.id}", {"name": "Ben", "role": "member"}, HX)
        assert response.status_code == 422 and response.headers["HX-Reswap"] == "none"
        assert "You cannot change your own role." in text(response)
        db.session.expire_all()
        assert member(team, "ben@example.com").role is Role.BILLING_MANAGER

    def test_forged_demotion_of_the_owner_without_js_is_a_flash_and_redirect(self, manager, team):
        olivia = member(team, "olivia@example.com")
        response = post(manager, f"/acme/team/members/{olivia.id}", {"name": "Olivia", "role": "member"})
        assert response.status_code == 303 and response.headers["Location"] == "/acme/team"
        assert "The owner cannot be demoted" in text(manager.get("/acme/team"))
        db.session.expire_all()
        assert member(team, "olivia@example.com").role is Role.OWNER


class TestMakeOwner:
    def transfer(self, client, maya, typed="maya@example.com", headers=None):
        return post(client, f"/acme/team/members/{maya.id}/owner", {"confirm_email": typed}, headers)

    def test_owner_transfers_and_the_table_comes_back_with_new_controls(self, owner, team):
        maya = member(team, "maya@example.com")
        response = self.transfer(owner, maya, "Maya@Example.com ", headers={
            **HX, "HX-Current-URL": "http://localhost/acme/team?q=example&size=10"})
        html = text(response)
        assert response.status_code == 200
        assert response.headers["HX-Retarget"] == "#member-table"
        assert html.lstrip().startswith('<div id="member-table"')
        assert "matching “example”" in html
        assert "Make owner" not in html  # the former owner is a billing manager now
        olivia_row = row_html(html, member(team, "olivia@example.com"))
        assert "Billing manager" in olivia_row and "badge-you" in olivia_row
        maya_row = row_html(html, maya)
        assert "Remove" not in maya_row and 'tabindex="-1" data-focus-next' in maya_row
        db.session.expire_all()
        assert member(team, "maya@example.com").role is Role.OWNER
        assert member(team, "olivia@example.com").role is Role.BILLING_MANAGER

    @pytest.mark.parametrize("typed", ["", "sam@example.com", "maya@example.co"])
    def test_a_mistyped_email_asks_again_and_changes_nothing(self, owner, team, typed):
        maya = member(team, "maya@example.com")
        response = self.transfer(owner, maya, typed, headers=HX)
        html = text(response)
        assert response.status_code == 422
        assert response.headers["HX-Retarget"] == "#dialog-slot"
        assert html.lstrip().startswith('<dialog class="confirm-dialog"')
        assert 'id="confirm-email-error"' in html and 'aria-invalid="true"' in html
        db.session.expire_all()
        assert member(team, "olivia@example.com").role is Role.OWNER

    def test_the_dialog_warns_when_the_new_owner_never_signed_in(self, app, owner, team):
        maya = member(team, "maya@example.com")
        html = text(owner.get(f"/acme/team/members/{maya.id}/owner", headers=HX))
        assert "Maya has never signed in." in html
        sign_in_client(app.test_client(), maya)
        html = text(owner.get(f"/acme/team/members/{maya.id}/owner", headers=HX))
        assert "never signed in" not in html

    def test_the_warning_follows_the_member_status_not_their_sessions(self, owner, team):
        """A member the vendor's API accepted (a seat claimed at once) has no browser session
        yet, but is Active: no warning. One whose only session the vendor minted is Invited."""
        sub = organizations.set_seat_count(db.session, team, 2)
        sam = member(team, "sam@example.com")
        seats.assign_seat(db.session, Actor(label_override="API"), sub, member=sam,
                          immediate_claim=True, base_url="http://portal.test")
        maya = member(team, "maya@example.com")
        sessions.start_api_session(db.session, maya)
        db.session.commit()
        assert "never signed in" not in text(owner.get(f"/acme/team/members/{sam.id}/owner", headers=HX))
        assert "Maya has never signed in." in text(owner.get(f"/acme/team/members/{maya.id}/owner", headers=HX))

    def test_without_js_a_confirmation_page_says_you_will_become_billing_manager(self, owner, team):
        maya = member(team, "maya@example.com")
        html = text(owner.get(f"/acme/team/members/{maya.id}/owner"))
        assert "Make Maya the owner?" in html and "You become a billing manager." in html
        assert "<html" in html and 'name="confirm_email"' in html
        wrong = self.transfer(owner, maya, "nope@example.com")
        assert wrong.status_code == 422 and "<html" in text(wrong) and "Type it exactly" in text(wrong)
        response = self.transfer(owner, maya)
        assert response.status_code == 303
        db.session.expire_all()
        assert member(team, "maya@example.com").role is Role.OWNER

    def test_billing_manager_forging_a_transfer_gets_the_clear_error(self, manager, team):
        maya = member(team, "maya@example.com")
        response = self.transfer(manager, maya, headers=HX)
        assert response.status_code == 422 and "Only the owner can transfer ownership." in text(response)
        response = self.transfer(manager, maya)
        assert response.status_code == 303
        assert "Only the owner can transfer ownership." in text(manager.get("/acme/team"))
        db.session.expire_all()
        assert member(team, "olivia@example.com").role is Role.OWNER


class TestRemoveMember:
    def test_with_htmx_the_row_goes_away_and_the_person_is_signed_out_at_once(self, app, owner, team):
        sam = member(team, "sam@example.com")
        sams_browser = app.test_client()
        sign_in_client(sams_browser, sam)
        assert sams_browser.get("/acme/me").status_code == 200
        response = post(owner, f"/acme/team/members/{sam.id}/remove", headers=HX)
        html = text(response)
        assert response.status_code == 200
        assert "<tr" not in html and "Removed Sam." in html  # empty main swap: the row goes
        assert response.headers["HX-Trigger"] == "members-changed, seats-changed"
        assert live_count(team, "sam@example.com") == 0
        after = sams_browser.get("/acme/me")
        assert after.status_code == 303 and after.headers["Location"].startswith("/acme/login")
        assert db.session.scalar(select(PortalSession).where(PortalSession.member_id == sam.id)).ended_at

    def test_delete_method_with_the_csrf_header_works_too(self, owner, team):
        sam = member(team, "sam@example.com")
        token = csrf_token(owner, "/acme/me")
        response = owner.delete(f"/acme/team/members/{sam.id}", headers={**HX, "X-CSRFToken": token})
        assert response.status_code == 200 and live_count(team, "sam@example.com") == 0

    def test_delete_without_csrf_is_refused(self, owner, team):
        sam = member(team, "sam@example.com")
        assert owner.delete(f"/acme/team/members/{sam.id}", headers=HX).status_code == 400
        assert live_count(team, "sam@example.com") == 1

    def test_without_js_confirm_page_then_303(self, owner, team):
        sam = member(team, "sam@example.com")
        html = text(owner.get(f"/acme/team/members/{sam.id}/remove"))
        assert "Remove Sam?" in html and "signed out" in html and "<html" in html
        response = post(owner, f"/acme/team/members/{sam.id}/remove")
        assert response.status_code == 303
        assert "Removed Sam." in text(owner.get("/acme/team"))

    @pytest.mark.parametrize("target, message", [
        ("ben@example.com", "You cannot remove yourself from the team."),
        ("olivia@example.com", "The owner cannot be removed. Transfer ownership first."),
    ])
    def test_forged_removals_are_refused(self, manager, team, target, message):
        victim = member(team, target)
        response = post(manager, f"/acme/team/members/{victim.id}/remove", headers=HX)
        assert response.status_code == 422 and message in text(response)
        assert live_count(team, target) == 1


# --- isolation: every route, parametrized ---------------------------------------------------

MEMBER_ROUTES = [
    ("GET", "/acme/team/members/{id}/row"),
    ("GET", "/acme/team/members/{id}/edit"),
    ("POST", "/acme/team/members/{id}"),
    ("GET", "/acme/team/members/{id}/owner"),
    ("POST", "/acme/team/members/{id}/owner"),
    ("GET", "/acme/team/members/{id}/remove"),
    ("POST", "/acme/team/members/{id}/remove"),
    ("DELETE", "/acme/team/members/{id}"),
]
TEAM_ROUTES = [("GET", "/acme/team"), ("POST", "/acme/team/members"), ("GET", "/acme/activity")]


def call(client, method, url, htmx=False):
    token = csrf_token(client, "/acme/me")
    headers = {"X-CSRFToken": token, **(HX if htmx else {})}
    data = {"email": "x@example.com", "name": "X", "role": "member"} if method == "POST" else None
    return client.open(url, method=method, data=data, headers=headers)


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize("method, url", TEAM_ROUTES + MEMBER_ROUTES)
def test_plain_members_get_403_on_every_management_route(client, team, method, url, htmx):
    signed_in(client, team, "maya@example.com")
    response = call(client, method, url.format(id=member(team, "sam@example.com").id), htmx)
    assert response.status_code == 403
    db.session.expire_all()
    assert live_count(team) == 4 and member(team, "sam@example.com").name == "Sam"


@pytest.mark.parametrize("method, url", MEMBER_ROUTES)
def test_another_teams_member_ids_answer_404(client, team, other_team, method, url):
    signed_in(client, team, "olivia@example.com")
    yan = member(other_team, "yan@other.example")
    response = call(client, method, url.format(id=yan.id))
    assert response.status_code == 404
    db.session.expire_all()
    assert member(other_team, "yan@other.example").deleted_at is None
    assert member(other_team, "yan@other.example").name == "Yan"


@pytest.mark.parametrize("method, url", MEMBER_ROUTES)
def test_malformed_member_ids_answer_404(owner, method, url):
    assert call(owner, method, url.format(id="not-a-uuid")).status_code == 404


def test_plain_member_sees_their_membership_and_no_team_controls(client, team):
    signed_in(client, team, "maya@example.com")
    response = client.get("/acme/me")
    html = text(response)
    assert response.status_code == 200
    assert "maya@example.com" in html and "Member" in html and "You have no seat." in html
    forms = re.findall(r'<form[^>]*action="([^"]+)"', html)
    assert forms == ["/acme/logout", "/acme/me/name"]  # sign out and their own name only
    assert 'href="/acme/team"' not in html and 'href="/acme/activity"' not in html


def test_home_sends_managers_to_the_team_and_members_to_me(client, team):
    signed_in(client, team, "maya@example.com")
    assert client.get("/acme/").headers["Location"] == "/acme/me"
    signed_in(client, team, "ben@example.com")
    assert client.get("/acme/").headers["Location"] == "/acme/team"


def test_individual_customers_land_on_me_and_team_says_it_needs_a_team_plan(client, org):
    solo = make_individual(org)
    signed_in(client, solo, "solo@example.com")
    assert client.get("/acme/").headers["Location"] == "/acme/me"
    response = client.get("/acme/team")
    assert response.status_code == 403 and "team customers" in text(response)
