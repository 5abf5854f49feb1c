"""The Groups pages (issue 11, item 4): every route with and without htmx, inline errors, CSRF,
who may see them, and tenant isolation (another team's or organization's ids are not found)."""
import html as html_module
import re
import uuid

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Member, Role, UserGroup, UserGroupMember
from app.services import groups, members
from tests.factories import as_, make_individual, make_org, make_team, member
from tests.support.web import HX, csrf_token, sign_in_client
from tests.web.test_team_query_count import counting

OWNER, MANAGER, PLAIN = "olivia@example.com", "ben@example.com", "maya@example.com"


@pytest.fixture
def org(app):
    return make_org("acme", "Acme")


@pytest.fixture
def team(org):
    return make_team(org, name="Globex", owner=OWNER, members={
        MANAGER: Role.BILLING_MANAGER, PLAIN: Role.MEMBER,
        "sam@example.com": Role.MEMBER, "ida@example.com": Role.MEMBER})


@pytest.fixture
def eng(team):
    """Engineering with Maya and Sam; Finance with Maya."""
    owner = as_(team, OWNER)
    group = groups.create_group(db.session, owner, team, name="Engineering")
    groups.add_members(db.session, owner, team, group.id, ids(team, PLAIN, "sam@example.com"))
    finance = groups.create_group(db.session, owner, team, name="Finance")
    groups.add_members(db.session, owner, team, finance.id, ids(team, PLAIN))
    db.session.commit()
    return group


def ids(team, *emails):
    return [member(team, e).id for e in emails]


def signed_in(client, team, email):
    sign_in_client(client, member(team, email))
    return client


@pytest.fixture
def owner(client, team):
    return signed_in(client, team, OWNER)


def post(client, url, data=None, headers=None):
    data = dict(data or {})
    data["csrf_token"] = csrf_token(client, "/acme/me")
    return client.post(url, data=data, headers=headers or {})


def text(response):
    """The answer's HTML with entities read (&#39; is ')."""
    return html_module.unescape(response.get_data(as_text=True))


def in_group(group):
    return sorted(db.session.scalars(select(Member.email).join(UserGroupMember, UserGroupMember.member_id == Member.id)
                                     .where(UserGroupMember.group_id == group.id)))


def group_named(team, name):
    return db.session.scalar(select(UserGroup).where(UserGroup.customer_id == team.id, UserGroup.name == name))


def picker_emails(html):
    return re.findall(r'<input type="checkbox" name="member_id" value="[^"]+"[^>]*>.*?class="person-email">([^<]+)<',
                      html, re.S)


def member_rows(html):
    return re.findall(r'<tr id="gm-[^"]+">.*?class="person-email">([^<]+)<', html, re.S)


class TestWhoMaySee:
    def test_the_nav_has_groups_for_managers_and_not_for_plain_members(self, app, team):
        html = text(signed_in(app.test_client(), team, MANAGER).get("/acme/team"))
        assert '>Groups</a>' in html
        html = text(signed_in(app.test_client(), team, PLAIN).get("/acme/me"))
        assert '>Groups</a>' not in html

    @pytest.mark.parametrize("path", ["/acme/groups", "/acme/groups/{gid}", "/acme/groups/{gid}/delete",
                                      "/acme/groups/{gid}/rename"])
    def test_a_plain_member_gets_403(self, app, team, eng, path):
        response = signed_in(app.test_client(), team, PLAIN).get(path.format(gid=eng.id))
        assert response.status_code == 403
        assert "Only the team's owner and billing managers" in text(response)

    def test_a_plain_member_cannot_post_either(self, app, team, eng):
        client = signed_in(app.test_client(), team, PLAIN)
        assert post(client, "/acme/groups", {"name": "Mine"}).status_code == 403
        assert post(client, f"/acme/groups/{eng.id}/members", {"member_id": ids(team, "ida@example.com")}).status_code == 403
        assert post(client, f"/acme/groups/{eng.id}/delete").status_code == 403
        db.session.expire_all()
        assert group_named(team, "Mine") is None and len(in_group(eng)) == 2

    def test_an_individual_customer_is_told_groups_need_a_team_plan(self, app, org):
        solo = make_individual(org)
        response = signed_in(app.test_client(), solo, "solo@example.com").get("/acme/groups")
        assert response.status_code == 403 and "team customers" in text(response)

    def test_signed_out_goes_to_sign_in(self, client, eng):
        response = client.get(f"/acme/groups/{eng.id}")
        assert response.status_code in (302, 303) and "/acme/login" in response.headers["Location"]


class TestGroupsPage:
    def test_empty_state_offers_to_create_the_first_group(self, owner):
        html = text(owner.get("/acme/groups"))
        assert "No groups yet. Create the first one to organize your team." in html
        assert 'href="#new-group"' in html and 'id="group-name"' in html

    def test_lists_groups_by_name_with_member_counts_and_links(self, owner, team, eng):
        html = text(owner.get("/acme/groups"))
        assert re.findall(r'class="group-name" href="[^"]+">([^<]+)<', html) == ["Engineering", "Finance"]
        row = re.search(rf'<tr id="group-{eng.id}".*?</tr>', html, re.S).group(0)
        assert '<span class="count">2</span>' in row and f'href="/acme/groups/{eng.id}"' in row
        assert "Actions for Engineering" in row and "Delete group…" in row
        assert "1–2 of 2 groups" in html

    def test_search_and_its_htmx_fragment(self, owner, eng):
        response = owner.get("/acme/groups?q=fin", headers={**HX, "HX-Target": "group-table"})
        html = text(response)
        assert response.status_code == 200 and "<html" not in html
        assert re.findall(r'class="group-name" href="[^"]+">([^<]+)<', html) == ["Finance"]
        assert "No group matches “nobody”." in text(owner.get("/acme/groups?q=nobody"))

    def test_a_page_past_the_end_shows_the_last_page(self, owner, eng):
        html = text(owner.get("/acme/groups?page=99"))
        assert "1–2 of 2 groups" in html

    def test_refused_characters_in_the_search_are_said(self, owner, eng):
        response = owner.get("/acme/groups?q=%00x")
        assert response.status_code == 422 and 'id="groups-q-error"' in text(response)


class TestCreate:
    def test_creating_goes_to_the_new_groups_page(self, owner, team):
        response = post(owner, "/acme/groups", {"name": "  Contractors "})
        group = group_named(team, "Contractors")
        assert response.status_code == 303
        assert response.headers["Location"] == f"/acme/groups/{group.id}#add-members"
        html = text(owner.get(f"/acme/groups/{group.id}"))
        assert "Created the group Contractors." in html and "<h1>Contractors</h1>" in html

    def test_with_htmx_it_redirects_the_whole_page(self, owner, team):
        response = post(owner, "/acme/groups", {"name": "Contractors"}, headers=HX)
        assert response.status_code == 204
        assert response.headers["HX-Redirect"].startswith(f"/acme/groups/{group_named(team, 'Contractors').id}")

    @pytest.mark.parametrize("name, message", [
        ("", "Give the group a name."),
        ("   ", "Give the group a name."),
        ("x" * 257, "A group name can be at most 256 characters."),
        ("eNgineering", "A group named 'eNgineering' already exists in this team."),
    ])
    def test_errors_are_inline_with_htmx_and_without(self, owner, team, eng, name, message):
        response = post(owner, "/acme/groups", {"name": name}, headers=HX)
        html = text(response)
        assert response.status_code == 422 and "<html" not in html
        assert html.lstrip().startswith('<form id="new-group"')
        assert 'id="group-name-error"' in html and message in html
        assert 'aria-invalid="true"' in html and "data-focus-next" in html
        page = post(owner, "/acme/groups", {"name": name})
        assert page.status_code == 422 and "<html" in text(page) and message in text(page)
        db.session.expire_all()
        assert db.session.scalar(select(func.count(UserGroup.id)).where(UserGroup.customer_id == team.id)) == 2

    def test_without_a_csrf_token_nothing_is_created(self, owner, team):
        response = owner.post("/acme/groups", data={"name": "Sneaky"})
        assert response.status_code == 400 and "expired or was sent from elsewhere" in text(response)
        assert group_named(team, "Sneaky") is None


class TestRename:
    def test_the_row_becomes_a_form_and_saves_with_htmx(self, owner, team, eng):
        html = text(owner.get(f"/acme/groups/{eng.id}/rename", headers=HX))
        assert html.lstrip().startswith(f'<tr id="group-{eng.id}" class="editing"')
        assert f'id="rename-{eng.id}"' in html and 'value="Engineering"' in html
        response = post(owner, f"/acme/groups/{eng.id}/rename", {"name": "Platform"}, headers=HX)
        html = text(response)
        assert response.status_code == 200 and 'class="is-changed"' in html and ">Platform</a>" in html
        assert "Renamed the group to Platform." in html  # the toast travels with the row
        db.session.expire_all()
        assert group_named(team, "Platform") is not None

    def test_cancel_gives_the_row_back(self, owner, eng):
        html = text(owner.get(f"/acme/groups/{eng.id}/row", headers=HX))
        assert html.lstrip().startswith(f'<tr id="group-{eng.id}">')
        assert owner.get(f"/acme/groups/{eng.id}/row").status_code == 303

    def test_a_taken_name_stays_inline(self, owner, team, eng):
        response = post(owner, f"/acme/groups/{eng.id}/rename", {"name": "FINANCE"}, headers=HX)
        html = text(response)
        assert response.status_code == 422 and "A group named 'FINANCE' already exists" in html
        assert f'id="rename-{eng.id}-error"' in html and 'value="FINANCE"' in html

    def test_without_js_a_page_with_the_row_then_303(self, owner, team, eng):
        html = text(owner.get(f"/acme/groups/{eng.id}/rename"))
        assert "<html" in html and f'id="rename-{eng.id}"' in html and ">Finance</a>" not in html
        response = post(owner, f"/acme/groups/{eng.id}/rename", {"name": "Platform"})
        assert response.status_code == 303 and response.headers["Location"] == "/acme/groups"
        assert post(owner, f"/acme/groups/{eng.id}/rename", {"name": ""}).status_code == 422

    def test_from_the_groups_own_page_it_goes_back_there(self, owner, team, eng):
        response = post(owner, f"/acme/groups/{eng.id}/rename", {"name": "Platform", "back": "group"}, headers=HX)
        assert response.headers["HX-Redirect"] == f"/acme/groups/{eng.id}"
        response = post(owner, f"/acme/groups/{eng.id}/rename", {"name": "Finance", "back": "group"})
        html = text(response)
        assert response.status_code == 422 and "<h1>Platform</h1>" in html
        assert "A group named 'Finance' already exists" in html


class TestDelete:
    def test_the_dialog_says_how_many_members_lose_the_group(self, owner, team, eng):
        html = text(owner.get(f"/acme/groups/{eng.id}/delete", headers=HX))
        assert html.lstrip().startswith('<dialog class="confirm-dialog"')
        assert "Delete the group Engineering?" in html
        assert "Its 2 members lose the group and stay on the team." in html
        assert f'hx-post="/acme/groups/{eng.id}/delete"' in html and "Delete group</button>" in html
        empty = groups.create_group(db.session, as_(team, OWNER), team, name="Empty")
        db.session.commit()
        assert "The group has no members." in text(owner.get(f"/acme/groups/{empty.id}/delete", headers=HX))

    def test_without_js_a_confirmation_page_then_303(self, owner, team, eng):
        html = text(owner.get(f"/acme/groups/{eng.id}/delete"))
        assert "<html" in html and "Its 2 members lose the group" in html and 'class="card narrow confirm-page"' in html
        response = post(owner, f"/acme/groups/{eng.id}/delete")
        assert response.status_code == 303 and response.headers["Location"] == "/acme/groups"
        assert "Deleted the group Engineering. Its members stay on the team." in text(owner.get("/acme/groups"))
        db.session.expire_all()
        assert group_named(team, "Engineering") is None
        assert db.session.scalar(select(func.count(Member.id)).where(Member.customer_id == team.id,
                                                                      Member.deleted_at.is_(None))) == 5

    def test_with_htmx_the_row_goes_and_the_count_refreshes(self, owner, team, eng):
        response = post(owner, f"/acme/groups/{eng.id}/delete", headers=HX)
        assert response.status_code == 200 and response.headers["HX-Trigger"] == "group-changed"
        assert "<tr" not in text(response) and "Deleted the group Engineering." in text(response)
        summary = text(owner.get("/acme/groups", headers={**HX, "HX-Target": "group-summary"}))
        assert summary.lstrip().startswith('<p class="table-summary" id="group-summary"') and "1 group" in summary

    def test_deleting_the_last_group_reloads_the_page_for_its_empty_state(self, owner, team, eng):
        post(owner, f"/acme/groups/{group_named(team, 'Finance').id}/delete", headers=HX)
        response = post(owner, f"/acme/groups/{eng.id}/delete", headers=HX)
        assert response.headers["HX-Redirect"] == "/acme/groups"

    def test_from_the_groups_page_the_dialog_posts_a_plain_form(self, owner, eng):
        html = text(owner.get(f"/acme/groups/{eng.id}/delete?from=group", headers=HX))
        assert "hx-post" not in html and 'name="back" value="group"' in html
        response = post(owner, f"/acme/groups/{eng.id}/delete", {"back": "group"}, headers=HX)
        assert response.headers["HX-Redirect"] == "/acme/groups"

    def test_without_a_csrf_token_nothing_is_deleted(self, owner, team, eng):
        assert owner.post(f"/acme/groups/{eng.id}/delete").status_code == 400
        assert group_named(team, "Engineering") is not None


class TestGroupPage:
    def test_shows_the_members_the_picker_and_the_settings(self, owner, team, eng):
        html = text(owner.get(f"/acme/groups/{eng.id}"))
        assert "<h1>Engineering</h1>" in html and "2 members · created" in html
        assert member_rows(html) == ["maya@example.com", "sam@example.com"]
        assert "Actions for Maya" in html and "Remove from group…" in html
        assert "by Olivia" in html
        # the picker offers the team's other people, not those already in
        assert picker_emails(html) == ["ben@example.com", "ida@example.com", "olivia@example.com"]
        assert 'id="picker-status" class="muted small picker-status" role="status">3 people found.' in html
        assert 'value="Engineering"' in html and "Delete group…" in html

    def test_search_paging_and_the_htmx_fragment(self, owner, team, eng):
        owner_actor = as_(team, OWNER)
        members.fill_synthetic(db.session, owner_actor, team, 30)
        everyone = [m.id for m in members.list_members(db.session, owner_actor, team, limit=100).items]
        groups.add_members(db.session, owner_actor, team, eng.id, everyone)
        db.session.commit()
        html = text(owner.get(f"/acme/groups/{eng.id}?size=10&page=2"))
        assert "11–20 of 35 members" in html and len(member_rows(html)) == 10
        nxt = re.search(r'<a href="([^"]+)"[^>]*rel="next"', html).group(1).replace("&amp;", "&")
        assert "page=3" in nxt and "size=10" in nxt
        response = owner.get(f"/acme/groups/{eng.id}?q=maya", headers={**HX, "HX-Target": "group-members"})
        fragment = text(response)
        assert fragment.lstrip().startswith('<div id="group-members"') and member_rows(fragment) == ["maya@example.com"]
        assert "31–35 of 35 members" in text(owner.get(f"/acme/groups/{eng.id}?size=10&page=99"))
        assert "No member of Engineering matches “zzz”." in text(owner.get(f"/acme/groups/{eng.id}?q=zzz"))

    def test_an_empty_group_says_what_to_do(self, owner, team):
        empty = groups.create_group(db.session, as_(team, OWNER), team, name="Empty")
        db.session.commit()
        assert "No one is in Empty yet. Add people from your team below." in text(owner.get(f"/acme/groups/{empty.id}"))

    def test_the_count_refreshes_itself(self, owner, eng):
        html = text(owner.get(f"/acme/groups/{eng.id}", headers={**HX, "HX-Target": "group-count"}))
        assert html.lstrip().startswith('<p id="group-count"') and "2 members" in html


class TestPicker:
    def test_results_as_you_type_with_their_count_for_the_live_region(self, owner, team, eng):
        response = owner.get(f"/acme/groups/{eng.id}/candidates?find=IDA", headers=HX)
        html = text(response)
        assert response.status_code == 200 and "<html" not in html
        assert picker_emails(html) == ["ida@example.com"]
        assert '<span hx-swap-oob="innerHTML:#picker-status">1 person found for “IDA”.</span>' in html
        assert '<legend class="visually-hidden">People to add to Engineering</legend>' in html
        html = text(owner.get(f"/acme/groups/{eng.id}/candidates?find=maya", headers=HX))
        assert picker_emails(html) == [] and "No one matches “maya” who is not in the group yet." in html

    def test_ticked_people_stay_ticked_across_searches(self, owner, team, eng):
        ben = member(team, MANAGER).id
        html = text(owner.get(f"/acme/groups/{eng.id}/candidates?find=ida&member_id={ben}", headers=HX))
        assert picker_emails(html) == ["ben@example.com", "ida@example.com"]
        assert re.search(rf'value="{ben}" checked', html) and "1 selected." in html

    def test_only_the_first_ten_are_listed_and_it_says_so(self, owner, team, eng):
        members.fill_synthetic(db.session, as_(team, OWNER), team, 20)
        db.session.commit()
        html = text(owner.get(f"/acme/groups/{eng.id}/candidates", headers=HX))
        assert len(picker_emails(html)) == 10 and "23 people found, showing the first 10." in html

    def test_without_js_the_search_is_the_groups_page(self, owner, team, eng):
        response = owner.get(f"/acme/groups/{eng.id}/candidates?find=ida")
        assert response.status_code == 303
        assert response.headers["Location"] == f"/acme/groups/{eng.id}?find=ida#add-members"
        html = text(owner.get(f"/acme/groups/{eng.id}?find=ida"))
        assert picker_emails(html) == ["ida@example.com"] and 'name="find" value="ida"' in html

    def test_everyone_in_the_group_says_so(self, owner, team, eng):
        groups.add_members(db.session, as_(team, OWNER), team, eng.id, ids(team, OWNER, MANAGER, "ida@example.com"))
        db.session.commit()
        assert "Everyone on the team is in this group." in text(owner.get(f"/acme/groups/{eng.id}"))


class TestAddMembers:
    def test_adds_several_at_once_with_htmx(self, owner, team, eng):
        response = post(owner, f"/acme/groups/{eng.id}/members",
                        {"member_id": [str(i) for i in ids(team, MANAGER, "ida@example.com", OWNER)]}, headers=HX)
        html = text(response)
        assert response.status_code == 200
        assert response.headers["HX-Trigger"] == "group-changed, group-members-added"
        assert html.lstrip().startswith('<div id="picker" class="picker">')
        assert "Added Ben, Ida and Olivia to Engineering." in html
        assert 'id="picker-q"' in html and "data-focus-next" in html  # back to the search
        assert "Everyone on the team is in this group." in html
        db.session.expire_all()
        assert in_group(eng) == ["ben@example.com", "ida@example.com", "maya@example.com",
                                 "olivia@example.com", "sam@example.com"]

    def test_without_js_303_back_to_the_picker(self, owner, team, eng):
        response = post(owner, f"/acme/groups/{eng.id}/members", {"member_id": [str(member(team, "ida@example.com").id)]})
        assert response.status_code == 303 and response.headers["Location"] == f"/acme/groups/{eng.id}#add-members"
        html = text(owner.get(f"/acme/groups/{eng.id}"))
        assert "Added Ida to Engineering." in html and "ida@example.com" in member_rows(html)

    def test_adding_someone_already_in_changes_nothing(self, owner, team, eng):
        response = post(owner, f"/acme/groups/{eng.id}/members", {"member_id": [str(member(team, PLAIN).id)]}, headers=HX)
        assert response.status_code == 200
        db.session.expire_all()
        assert in_group(eng) == ["maya@example.com", "sam@example.com"]

    def test_nobody_ticked_is_an_inline_error(self, owner, team, eng):
        response = post(owner, f"/acme/groups/{eng.id}/members", {"find": "i"}, headers=HX)
        html = text(response)
        assert response.status_code == 422 and 'id="picker-error"' in html
        assert "Tick at least one person to add." in html and 'name="find" value="i"' in html
        page = post(owner, f"/acme/groups/{eng.id}/members")
        assert page.status_code == 422 and "<html" in text(page) and "Tick at least one person to add." in text(page)

    def test_someone_of_another_team_adds_nobody(self, owner, team, eng, org):
        other = make_team(org, owner="zed@other.example")
        response = post(owner, f"/acme/groups/{eng.id}/members",
                        {"member_id": [str(member(team, "ida@example.com").id), str(member(other, "zed@other.example").id)]},
                        headers=HX)
        assert response.status_code == 404 and "Not a member of this team" in text(response)
        db.session.expire_all()
        assert in_group(eng) == ["maya@example.com", "sam@example.com"]

    def test_without_a_csrf_token_nobody_is_added(self, owner, team, eng):
        response = owner.post(f"/acme/groups/{eng.id}/members", data={"member_id": [str(member(team, "ida@example.com").id)]})
        assert response.status_code == 400
        assert in_group(eng) == ["maya@example.com", "sam@example.com"]


class TestRemoveMember:
    def test_the_dialog_names_who_and_what_stays(self, owner, team, eng):
        maya = member(team, PLAIN)
        html = text(owner.get(f"/acme/groups/{eng.id}/members/{maya.id}/remove", headers=HX))
        assert html.lstrip().startswith('<dialog class="confirm-dialog"')
        assert "Remove Maya from Engineering?" in html and "stays on the team" in html
        assert f'hx-target="#gm-{maya.id}"' in html

    def test_with_htmx_the_row_goes(self, owner, team, eng):
        maya = member(team, PLAIN)
        response = post(owner, f"/acme/groups/{eng.id}/members/{maya.id}/remove", headers=HX)
        assert response.status_code == 200
        assert response.headers["HX-Trigger"] == "group-changed, group-member-removed"
        assert "Removed Maya from Engineering. They stay on the team." in text(response)
        db.session.expire_all()
        assert in_group(eng) == ["sam@example.com"]
        assert member(team, PLAIN).deleted_at is None

    def test_without_js_a_page_then_303(self, owner, team, eng):
        maya = member(team, PLAIN)
        html = text(owner.get(f"/acme/groups/{eng.id}/members/{maya.id}/remove"))
        assert "<html" in html and "Remove from group</button>" in html
        response = post(owner, f"/acme/groups/{eng.id}/members/{maya.id}/remove")
        assert response.status_code == 303 and response.headers["Location"] == f"/acme/groups/{eng.id}"

    def test_someone_not_in_the_group_is_not_found(self, owner, team, eng):
        ida = member(team, "ida@example.com")
        assert owner.get(f"/acme/groups/{eng.id}/members/{ida.id}/remove").status_code == 404
        assert post(owner, f"/acme/groups/{eng.id}/members/{ida.id}/remove", headers=HX).status_code == 404

    def test_without_a_csrf_token_nobody_is_removed(self, owner, team, eng):
        maya = member(team, PLAIN)
        assert owner.post(f"/acme/groups/{eng.id}/members/{maya.id}/remove").status_code == 400
        assert in_group(eng) == ["maya@example.com", "sam@example.com"]


def group_routes(gid, mid):
    """Every HTML route of a group: (method, path, form data)."""
    return [
        ("GET", f"/acme/groups/{gid}", None),
        ("GET", f"/acme/groups/{gid}/row", None),
        ("GET", f"/acme/groups/{gid}/rename", None),
        ("POST", f"/acme/groups/{gid}/rename", {"name": "Hijacked"}),
        ("GET", f"/acme/groups/{gid}/delete", None),
        ("POST", f"/acme/groups/{gid}/delete", {}),
        ("GET", f"/acme/groups/{gid}/candidates", None),
        ("POST", f"/acme/groups/{gid}/members", {"member_id": [str(mid)]}),
        ("GET", f"/acme/groups/{gid}/members/{mid}/remove", None),
        ("POST", f"/acme/groups/{gid}/members/{mid}/remove", {}),
    ]


class TestTenantIsolation:
    """Another team's or organization's group and member ids are not found (rule 17): 404 on
    every group route, with and without htmx, and nothing changes."""

    @pytest.fixture
    def foreign(self, org, eng):
        """A group with a member in another team of Acme, and one in another organization."""
        out = {}
        for key, organization in (("team", org), ("org", make_org("initech", "Initech"))):
            other = make_team(organization, owner=f"zed@{key}.example", members={f"yan@{key}.example": Role.MEMBER})
            actor = as_(other, f"zed@{key}.example")
            group = groups.create_group(db.session, actor, other, name="Engineering")
            groups.add_members(db.session, actor, other, group.id, ids(other, f"yan@{key}.example"))
            out[key] = (other, group, member(other, f"yan@{key}.example"))
        db.session.commit()
        return out

    def call(self, client, method, path, data, headers):
        if method == "GET":
            return client.get(path, headers=headers)
        return post(client, path, data, headers=headers)

    @pytest.mark.parametrize("where", ["team", "org"])
    @pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
    def test_foreign_group_ids_are_not_found(self, owner, team, eng, foreign, where, htmx):
        other, group, yan = foreign[where]
        for method, path, data in group_routes(group.id, yan.id):
            response = self.call(owner, method, path, data, HX if htmx else {})
            assert response.status_code == 404, (method, path, response.status_code)
        db.session.expire_all()
        assert in_group(group) == [f"yan@{where}.example"] and group.name == "Engineering"

    @pytest.mark.parametrize("where", ["team", "org"])
    def test_foreign_member_ids_in_our_group_are_not_found(self, owner, team, eng, foreign, where):
        _other, _group, yan = foreign[where]
        for method, path, data in group_routes(eng.id, yan.id)[7:]:
            assert self.call(owner, method, path, data, HX).status_code == 404, (method, path)
        db.session.expire_all()
        assert in_group(eng) == ["maya@example.com", "sam@example.com"]

    def test_another_teams_owner_cannot_reach_our_group(self, app, team, eng, foreign):
        other, _group, _yan = foreign["team"]
        client = signed_in(app.test_client(), other, "zed@team.example")
        for method, path, data in group_routes(eng.id, member(team, PLAIN).id):
            response = self.call(client, method, path, data, {})
            assert response.status_code == 404, (method, path, response.status_code)
        db.session.expire_all()
        assert in_group(eng) == ["maya@example.com", "sam@example.com"]
        assert group_named(team, "Engineering") is not None

    def test_another_organizations_session_is_not_signed_in_here(self, app, team, eng, foreign):
        """Its session is for /initech: on /acme it is nobody (sign in first), and on its own
        organization's URLs our ids are not found."""
        other, _group, _yan = foreign["org"]
        client = signed_in(app.test_client(), other, "zed@org.example")
        response = client.get(f"/acme/groups/{eng.id}")
        assert response.status_code in (302, 303) and "/acme/login" in response.headers["Location"]
        for path in (f"/initech/groups/{eng.id}", f"/initech/groups/{eng.id}/delete",
                     f"/initech/groups/{eng.id}/members/{member(team, PLAIN).id}/remove"):
            assert client.get(path).status_code == 404, path
        token = csrf_token(client, "/initech/me")
        assert client.post(f"/initech/groups/{eng.id}/delete", data={"csrf_token": token}).status_code == 404
        assert group_named(team, "Engineering") is not None

    @pytest.mark.parametrize("bad", ["not-a-uuid", str(uuid.uuid4()), "0" * 32])
    def test_ids_that_name_nothing_are_not_found(self, owner, bad):
        assert owner.get(f"/acme/groups/{bad}").status_code == 404
        assert owner.get(f"/acme/groups/{bad}", headers=HX).status_code == 404


class TestMembershipPage:
    def test_a_plain_member_sees_their_own_groups(self, app, team, eng):
        html = text(signed_in(app.test_client(), team, PLAIN).get("/acme/me"))
        section = re.search(r'aria-labelledby="me-groups".*?</section>', html, re.S).group(0)
        assert re.findall(r'<li class="chip"[^>]*>([^<]+)<', section) == ["Engineering", "Finance"]
        assert "these 2 groups" in section and "Manage groups" not in section

    def test_someone_in_no_group_is_told_so(self, app, team, eng):
        html = text(signed_in(app.test_client(), team, "ida@example.com").get("/acme/me"))
        assert "You are in no group of Globex." in html

    def test_a_manager_gets_a_link_to_manage_them(self, owner, eng):
        assert 'href="/acme/groups">Manage groups</a>' in text(owner.get("/acme/me"))


class TestActivity:
    def test_group_changes_read_as_sentences_and_filter_as_one_kind(self, owner, team, eng):
        post(owner, f"/acme/groups/{eng.id}/rename", {"name": "Platform"})
        post(owner, f"/acme/groups/{eng.id}/members/{member(team, PLAIN).id}/remove")
        html = text(owner.get("/acme/activity?kind=groups"))
        assert "Olivia created the group Engineering" in html
        assert "Olivia renamed the group Engineering to Platform" in html
        assert "maya@example.com" in html
        assert 'data-action="member.added"' not in html


class TestQueryCounts:
    """The Groups pages cost the same number of queries for a few groups and members as for
    many (no N+1 over groups, rows or picker results)."""

    def measure(self, client, group):
        pages = [("/acme/groups", {}), ("/acme/groups", {**HX, "HX-Target": "group-table"}),
                 (f"/acme/groups/{group.id}", {}), (f"/acme/groups/{group.id}", {**HX, "HX-Target": "group-members"}),
                 (f"/acme/groups/{group.id}/candidates?find=e", HX), ("/acme/me", {})]
        result = {}
        for url, headers in pages:
            with counting(db.engine) as statements:
                assert client.get(url, headers=headers).status_code == 200, url
            result[(url, headers.get("HX-Target") or headers.get("HX-Request"))] = len(statements)
        return result

    def grow(self, team, group, n):
        owner = as_(team, OWNER)
        members.fill_synthetic(db.session, owner, team, n)
        everyone = [m.id for m in members.list_members(db.session, owner, team, limit=100).items]
        groups.add_members(db.session, owner, team, group.id, everyone)
        for i in range(n // 10):
            groups.add_members(db.session, owner, team, groups.create_group(db.session, owner, team,
                               name=f"G{n}-{i}").id, everyone[:3] + ids(team, OWNER))
        db.session.commit()

    def test_the_same_for_10_as_for_300(self, owner, team, eng):
        owner.get("/acme/groups")  # warm up
        self.grow(team, eng, 10)
        small = self.measure(owner, eng)
        self.grow(team, eng, 300)
        assert self.measure(owner, eng) == small
