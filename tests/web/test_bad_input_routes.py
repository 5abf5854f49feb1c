"""Bad input on the server-rendered routes, as a curious or hostile person sends it: every portal
route without a CSRF token, another team's ids, a plain member or an individual customer on the
management pages, page numbers and headers no page of ours sends, and forged or stale forms.
Each answer is a clear message (a form error, a toast or a 4xx page), never a 500, and what was
refused changes nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ActivityEvent, Member, Role, Seat, Subscription, UserGroup, UserGroupMember
from app.services import groups
from tests.factories import as_, make_individual, make_org, make_team, member
from tests.support.smtp import first_link
from tests.support.web import HX, csrf_token, sign_in_client

HUGE = "9" * 30  # past any 64-bit OFFSET


@pytest.fixture
def org(app):
    return make_org("acme", "Acme Analytics")


@pytest.fixture
def team(org):
    team = make_team(org, name="Globex", owner="olivia@example.com", seats=3, members={
        "bill@example.com": Role.BILLING_MANAGER, "maya@example.com": Role.MEMBER})
    group = groups.create_group(db.session, as_(team, "olivia@example.com"), team, name="Engineering")
    groups.add_members(db.session, as_(team, "olivia@example.com"), team, group.id,
                       [member(team, "maya@example.com").id])
    db.session.commit()
    return team


@pytest.fixture
def other(org):
    """Another team of the same organization, with its own group and seats."""
    other = make_team(org, name="Umbrella", owner="ursula@example.com", seats=1,
                      members={"uma@example.com": Role.MEMBER})
    groups.create_group(db.session, as_(other, "ursula@example.com"), other, name="Umbrella ops")
    db.session.commit()
    return other


def text(response) -> str:
    return " ".join(response.get_data(as_text=True).split())


def as_member(client, team, email: str):
    sign_in_client(client, member(team, email))
    return client


def group_of(team) -> UserGroup:
    return db.session.scalars(select(UserGroup).where(UserGroup.customer_id == team.id)).first()


def sub_of(team) -> Subscription:
    return db.session.scalars(select(Subscription).where(Subscription.customer_id == team.id)).one()


def state() -> tuple:
    """What a refused request must leave as it was: the people, their roles and names, the
    groups and who is in them, the seats, and the activity log."""
    db.session.expire_all()
    return (
        sorted((m.email, m.role.value, m.name, m.deleted_at is None) for m in db.session.scalars(select(Member))),
        sorted(g.name for g in db.session.scalars(select(UserGroup))),
        db.session.scalar(select(func.count(UserGroupMember.id))),
        sorted((s.email, s.status.value) for s in db.session.scalars(select(Seat))),
        db.session.scalar(select(func.count(ActivityEvent.id))),
    )


def post(client, url, data=None, headers=None, page="/acme/me"):
    return client.post(url, data={**(data or {}), "csrf_token": csrf_token(client, page)},
                       headers=headers or {})


def portal_routes(app, methods: set[str]):
    """Every route of the HTML portal (not /v1, /client, static) answering one of `methods`."""
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(("/v1", "/client", "/static", "/openapi")) or not rule.methods & methods:
            continue
        yield rule


def fill(rule, team) -> str:
    """The rule's URL for `team`'s own objects (Maya, its group, seat subscription and seat)."""
    seat = db.session.scalars(select(Seat).join(Subscription).where(Subscription.customer_id == team.id)).first()
    values = {"org_slug": "acme", "member_id": member(team, "maya@example.com").id,
              "group_id": group_of(team).id, "subscription_id": sub_of(team).id,
              "seat_id": seat.id if seat else sub_of(team).id}
    url = rule.rule
    for name in rule.arguments:
        url = url.replace(f"<{name}>", str(values[name]))
    return url


class TestCsrfOnEveryForm:
    def test_every_state_changing_route_refuses_a_request_without_a_token(self, app, client, team):
        """Walks the url_map: a new POST or DELETE route without CSRF fails here."""
        owner = as_member(client, team, "olivia@example.com")
        post(owner, f"/acme/seats/subscriptions/{sub_of(team).id}/assign", {"email": "sam@example.com"},
             page="/acme/seats")
        before = state()
        routes = list(portal_routes(app, {"POST", "DELETE"}))
        assert len(routes) >= 20
        for rule in routes:
            url = fill(rule, team)
            for method in sorted(rule.methods & {"POST", "DELETE"}):
                for data in ({}, {"csrf_token": "forged"}):
                    for headers in ({}, HX):
                        response = owner.open(url, method=method, data=data, headers=headers)
                        assert response.status_code == 400, (method, url, data, headers)
                        assert "This form has expired or was sent from elsewhere" in text(response)
        assert state() == before

    def test_a_token_from_another_browser_is_refused(self, app, team):
        olivia, maya = app.test_client(), app.test_client()
        as_member(olivia, team, "olivia@example.com")
        as_member(maya, team, "maya@example.com")
        before = state()
        stolen = csrf_token(maya, "/acme/me")
        response = olivia.post(f"/acme/team/members/{member(team, 'bill@example.com').id}/remove",
                               data={"csrf_token": stolen})
        assert response.status_code == 400 and state() == before


class TestAnotherTeamsIds:
    """Tenant isolation: ids of another team (or another organization) are not found, and
    nothing of theirs changes."""

    @pytest.fixture
    def foreign(self, app, other):
        initech = make_org("initech", "Initech")
        far = make_team(initech, name="Initech", owner="ivan@example.com", seats=1)
        return {"team": other, "org": far}

    @pytest.mark.parametrize("whose", ["team", "org"])
    def test_member_group_and_seat_ids_of_others_are_404(self, client, team, foreign, whose, mailbox):
        owner = as_member(client, team, "olivia@example.com")
        them = foreign[whose]
        them_owner = db.session.scalars(select(Member).where(Member.customer_id == them.id)).first()
        their_group = groups.create_group(db.session, as_(them, them_owner.email), them, name="Theirs")
        db.session.commit()
        theirs = {"member": them_owner.id, "group": their_group.id, "sub": sub_of(them).id}
        before = state()
        for method, url, data, message in [
            ("GET", f"/acme/team/members/{theirs['member']}/edit", None, "Member not found."),
            ("POST", f"/acme/team/members/{theirs['member']}", {"name": "Hacked"}, "Member not found."),
            ("POST", f"/acme/team/members/{theirs['member']}/remove", {}, "Member not found."),
            ("POST", f"/acme/team/members/{theirs['member']}/owner",
             {"confirm_email": them_owner.email}, "Member not found."),
            ("GET", f"/acme/groups/{theirs['group']}", None, "User group not found."),
            ("POST", f"/acme/groups/{theirs['group']}/rename", {"name": "Hacked"}, "User group not found."),
            ("POST", f"/acme/groups/{theirs['group']}/delete", {}, "User group not found."),
            ("POST", f"/acme/groups/{group_of(team).id}/members", {"member_id": str(theirs["member"])},
             "Not a member of this team"),
            ("POST", f"/acme/seats/subscriptions/{theirs['sub']}/assign", {"email": "x@example.com"},
             "Subscription not found."),
        ]:
            for headers in ({}, HX):
                response = owner.get(url, headers=headers) if method == "GET" else \
                    post(owner, url, data, headers)
                assert response.status_code == 404, (url, headers)
                assert message in text(response)
        assert state() == before
        assert db.session.get(Member, theirs["member"]).name != "Hacked"


class TestWhoMayManage:
    @pytest.mark.parametrize("path", ["/acme/team", "/acme/seats", "/acme/groups", "/acme/activity"])
    def test_a_plain_member_gets_403_with_the_reason(self, client, team, path):
        maya = as_member(client, team, "maya@example.com")
        response = maya.get(path)
        assert response.status_code == 403
        assert "Only the team&#39;s owner and billing managers can manage the team." in text(response)

    def test_a_plain_member_posting_management_forms_gets_403_and_changes_nothing(self, client, team):
        maya = as_member(client, team, "maya@example.com")
        bill = member(team, "bill@example.com")
        before = state()
        for url, data in [
            ("/acme/team/members", {"email": "sam@example.com"}),
            ("/acme/team/members", {"email": "not an email"}),  # a form error would tell too much
            (f"/acme/team/members/{bill.id}", {"name": "Hacked", "role": "member"}),
            (f"/acme/team/members/{bill.id}/remove", {}),
            ("/acme/groups", {"name": "Mine"}),
            ("/acme/groups", {"name": ""}),
            (f"/acme/groups/{group_of(team).id}/delete", {}),
            (f"/acme/seats/subscriptions/{sub_of(team).id}/assign", {"email": "sam@example.com"}),
        ]:
            for headers in ({}, HX):
                response = post(maya, url, data, headers)
                assert response.status_code == 403, (url, data, headers)
                assert "owner and billing managers" in text(response)
        assert state() == before

    def test_an_individual_customer_is_told_team_features_need_a_team_plan(self, client, org, team):
        solo = make_individual(org, "solo@example.com")
        sign_in_client(client, db.session.scalars(select(Member).where(Member.customer_id == solo.id)).one())
        before = state()
        for response in (client.get("/acme/team"), client.get("/acme/seats", headers=HX),
                         post(client, "/acme/team/members", {"email": "sam@example.com"}),
                         post(client, "/acme/groups", {"name": ""}, HX)):
            assert response.status_code == 403
            assert "Team management is only available for team customers." in text(response)
        assert state() == before


class TestPageNumbers:
    @pytest.mark.parametrize("headers", [{}, {**HX, "HX-Target": "group-table"}])
    def test_a_huge_page_of_groups_is_the_last_page(self, client, team, headers):
        owner = as_member(client, team, "olivia@example.com")
        response = owner.get(f"/acme/groups?page={HUGE}", headers=headers)
        assert response.status_code == 200 and "Engineering" in text(response)

    @pytest.mark.parametrize("headers", [{}, {**HX, "HX-Target": "group-members"}])
    def test_a_huge_page_of_a_groups_members_is_the_last_page(self, client, team, headers):
        owner = as_member(client, team, "olivia@example.com")
        response = owner.get(f"/acme/groups/{group_of(team).id}?page={HUGE}", headers=headers)
        assert response.status_code == 200 and "maya@example.com" in text(response)

    @pytest.mark.parametrize("path", ["/acme/team", "/acme/activity"])
    @pytest.mark.parametrize("page", [HUGE, "-1", "abc", "0"])
    def test_team_and_activity_pages_take_any_page_number(self, client, team, path, page):
        owner = as_member(client, team, "olivia@example.com")
        response = owner.get(f"{path}?page={page}")
        assert response.status_code == 200
        assert ("maya@example.com" if path == "/acme/team" else "Activity") in text(response)


class TestTransfers:
    def test_a_malformed_current_url_header_still_answers_the_transfer(self, client, team):
        owner = as_member(client, team, "olivia@example.com")
        maya = member(team, "maya@example.com")
        response = post(owner, f"/acme/team/members/{maya.id}/owner", {"confirm_email": "maya@example.com"},
                        {**HX, "HX-Current-URL": "http://[::1/acme/team"}, page="/acme/team")
        assert response.status_code == 200
        assert "Maya is now the owner. You are a billing manager." in text(response)
        assert 'id="member-table"' in text(response)

    @pytest.mark.parametrize("headers", [{}, HX])
    def test_an_edit_form_cannot_transfer_ownership_without_the_confirmation(self, client, team, headers):
        """The edit form offers member and billing manager; "owner" sent through it (forged, or a
        stale page) must not skip the typed-email confirmation of Make owner."""
        owner = as_member(client, team, "olivia@example.com")
        maya = member(team, "maya@example.com")
        before = state()
        response = post(owner, f"/acme/team/members/{maya.id}", {"name": "Maya", "role": "owner"}, headers,
                        page="/acme/team")
        assert state() == before
        page = text(response) if headers else text(owner.get("/acme/team"))
        assert response.status_code == (422 if headers else 303)
        assert "Ownership moves only with Make owner, which asks you to confirm" in page

    @pytest.mark.parametrize("headers", [{}, HX])
    def test_making_yourself_owner_says_you_already_are(self, client, team, headers):
        owner = as_member(client, team, "olivia@example.com")
        olivia = member(team, "olivia@example.com")
        before = state()
        response = post(owner, f"/acme/team/members/{olivia.id}/owner", {}, headers, page="/acme/team")
        page = text(owner.get("/acme/team")) if not headers else text(response)
        assert "You are a billing manager" not in page
        assert "Olivia is already the owner." in page
        assert state() == before

    def test_a_billing_manager_making_the_owner_owner_is_told_so(self, client, team):
        bill = as_member(client, team, "bill@example.com")
        olivia = member(team, "olivia@example.com")
        before = state()
        response = post(bill, f"/acme/team/members/{olivia.id}/owner", {}, HX, page="/acme/team")
        assert "You are a billing manager" not in text(response)
        assert "Olivia is already the owner." in text(response)
        assert state() == before

    def test_a_double_submitted_transfer_says_it_is_done(self, client, team):
        owner = as_member(client, team, "olivia@example.com")
        maya = member(team, "maya@example.com")
        token = csrf_token(owner, "/acme/team")
        data = {"confirm_email": "maya@example.com", "csrf_token": token}
        first = owner.post(f"/acme/team/members/{maya.id}/owner", data=data, headers=HX)
        assert "Maya is now the owner. You are a billing manager." in text(first)
        after_first = state()
        second = owner.post(f"/acme/team/members/{maya.id}/owner", data=data, headers=HX)
        assert second.status_code == 200 and "Maya is already the owner." in text(second)
        assert state() == after_first


class TestGroupPicker:
    @pytest.mark.parametrize("ticked", [[""], ["", " "]])
    def test_an_empty_tick_is_the_form_error_not_an_empty_id(self, client, team, ticked):
        owner = as_member(client, team, "olivia@example.com")
        before = state()
        response = post(owner, f"/acme/groups/{group_of(team).id}/members", {"member_id": ticked}, HX)
        assert response.status_code == 422
        assert "Tick at least one person to add." in text(response)
        assert "Not a member of this team" not in text(response)
        assert state() == before

    def test_an_empty_tick_beside_a_real_one_adds_the_real_one(self, client, team):
        owner = as_member(client, team, "olivia@example.com")
        bill = member(team, "bill@example.com")
        response = post(owner, f"/acme/groups/{group_of(team).id}/members", {"member_id": ["", str(bill.id)]}, HX)
        assert response.status_code == 200 and "Added Bill to Engineering." in text(response)


class TestPastedEmails:
    """A pasted address often brings a space or a newline at an end; it is the same address."""

    def test_sign_in_takes_an_address_with_spaces_around_it(self, client, team, mailbox, delivered):
        response = post(client, "/acme/login", {"email": " olivia@example.com\n"}, page="/acme/login")
        assert response.status_code == 303 and response.headers["Location"] == "/acme/login/sent"
        assert "olivia@example.com" in text(client.get("/acme/login/sent"))
        delivered()
        assert len(mailbox.to("olivia@example.com")) == 1

    def test_a_seat_goes_to_an_address_with_spaces_around_it(self, client, team):
        owner = as_member(client, team, "olivia@example.com")
        response = post(owner, f"/acme/seats/subscriptions/{sub_of(team).id}/assign",
                        {"email": "  sam@example.com "}, HX, page="/acme/seats")
        assert response.status_code == 200 and "Invitation sent to sam@example.com." in text(response)
        assert [s.email for s in db.session.scalars(select(Seat))] == ["sam@example.com"]

    def test_a_member_is_added_with_the_address_trimmed(self, client, team):
        owner = as_member(client, team, "olivia@example.com")
        response = post(owner, "/acme/team/members", {"email": " sam@example.com ", "name": "Sam"}, HX,
                        page="/acme/team")
        assert response.status_code == 200 and "Added Sam." in text(response)
        assert member(team, "sam@example.com").name == "Sam"


class TestSignInMessages:
    """The sign-in forms answer in the portal's words, not WTForms' defaults."""

    def prove(self, client, mailbox, email: str) -> None:
        post(client, "/acme/login", {"email": email}, page="/acme/login")
        link = first_link(mailbox.wait_for(email), "/login/verify?token=").replace("http://portal.test", "")
        post(client, "/acme/login/verify", {"token": link.split("token=", 1)[1]}, page=link)

    @pytest.mark.parametrize("forged", ["other", "x" * 500])
    def test_a_forged_team_choice_is_told_to_choose_a_listed_team(self, client, org, team, other, mailbox,
                                                                  forged):
        make_team(org, name="Hooli", owner="gavin@example.com", members={"maya@example.com": Role.MEMBER})
        self.prove(client, mailbox, "maya@example.com")
        value = str(member(other, "uma@example.com").id) if forged == "other" else forged
        response = post(client, "/acme/login/choose", {"member_id": value}, page="/acme/login/choose")
        assert response.status_code == 422
        assert "Choose one of the teams listed." in text(response)
        assert "Not a valid choice" not in text(response)
        assert client.get("/acme/me").status_code == 303  # not signed in

    def test_a_long_code_is_a_wrong_code(self, client, team, mailbox):
        post(client, "/acme/login", {"email": "maya@example.com"}, page="/acme/login")
        response = post(client, "/acme/login/code", {"code": "A" * 17}, page="/acme/login/sent")
        assert response.status_code == 422
        assert "That code is not right. Check the email and try again." in text(response)

    @pytest.mark.parametrize("url, page", [("/acme/login", "/acme/login"), ("/acme/team/members", "/acme/team")])
    def test_a_long_email_says_how_long_an_address_may_be(self, client, team, url, page):
        if url != "/acme/login":
            as_member(client, team, "olivia@example.com")
        long = "a" * 320 + "@example.com"
        response = post(client, url, {"email": long}, page=page)
        assert response.status_code == 422
        assert "An email address is at most 320 characters." in text(response)
        assert long in text(response)  # what was typed is kept


class TestNavigation:
    def test_an_individual_customer_is_not_offered_team_pages_that_refuse_them(self, client, org):
        solo = make_individual(org, "solo@example.com")
        sign_in_client(client, db.session.scalars(select(Member).where(Member.customer_id == solo.id)).one())
        page = client.get("/acme/me").get_data(as_text=True)
        assert 'href="/acme/me"' in page
        for path in ("/acme/team", "/acme/seats", "/acme/groups", "/acme/activity"):
            assert f'href="{path}"' not in page
            assert client.get(path).status_code == 403

    @pytest.mark.parametrize("email, shown", [("olivia@example.com", True), ("bill@example.com", True),
                                              ("maya@example.com", False)])
    def test_team_pages_are_in_the_navigation_of_managers_only(self, client, team, email, shown):
        page = as_member(client, team, email).get("/acme/me").get_data(as_text=True)
        for path in ("/acme/team", "/acme/seats", "/acme/groups", "/acme/activity"):
            assert (f'href="{path}"' in page) is shown


class TestActivityFilters:
    @pytest.mark.parametrize("person, matches", [("Oli%00via", True), ("%E2%80%AEOlivia", True),
                                                 ("%07", True), ("Nob%00ody", False)])
    @pytest.mark.parametrize("headers", [{}, {**HX, "HX-Target": "event-list"}])
    def test_a_person_with_refused_characters_is_not_a_500(self, client, team, person, matches, headers):
        """The person filter is a select; a forged value with a NUL was a 500 on PostgreSQL, which
        cannot even compare one (run under TEST_DATABASE_URL to see it). The characters are
        dropped, as the searches drop them."""
        owner = as_member(client, team, "olivia@example.com")
        response = owner.get(f"/acme/activity?person={person}", headers=headers)
        assert response.status_code == 200
        assert ('data-action="group.created"' in text(response)) is matches
        assert ("No changes match these filters." in text(response)) is not matches


class TestLongNext:
    def test_a_huge_next_is_dropped_so_the_session_cookie_stays_within_what_browsers_keep(self, client, team,
                                                                                           mailbox):
        """Browsers ignore a cookie past 4093 bytes; the session's CSRF token would go with it and
        every sign-in from that link would fail as 'expired'."""
        import secrets

        response = client.get("/acme/login", query_string={"next": "/acme/team?q=" + secrets.token_hex(4000)})
        assert response.status_code == 200
        assert len(response.headers.get("Set-Cookie", "")) <= 4093
        TestSignInMessages().prove(client, mailbox, "olivia@example.com")
        assert client.get("/acme/team").status_code == 200  # signed in, at the default landing

    def test_a_long_but_reasonable_next_is_kept(self, client, team, mailbox):
        target = "/acme/team?q=" + "x" * 300
        client.get("/acme/login", query_string={"next": target})
        post(client, "/acme/login", {"email": "olivia@example.com"}, page="/acme/login")
        link = first_link(mailbox.wait_for("olivia@example.com"), "/login/verify?token=").replace("http://portal.test", "")
        response = post(client, "/acme/login/verify", {"token": link.split("token=", 1)[1]}, page=link)
        assert response.status_code == 303 and response.headers["Location"] == target


class TestOversizePosts:
    def test_a_post_past_the_size_limit_says_so_in_words_and_changes_nothing(self, client, team):
        as_member(client, team, "olivia@example.com")
        before = state()
        response = post(client, "/acme/team/members", {"email": "zoe@example.com", "name": "Z" * (2 << 20)},
                        page="/acme/team")
        assert response.status_code == 413
        assert "more than this page accepts at once (at most 1,024 KB), so nothing was saved" in text(response)
        assert "capacity limit" not in text(response)  # Werkzeug's own words
        assert state() == before
