"""The Cloudflare-compatible user-group API under /client/v4 (wire-contract §6), through the Flask
test client: every route, the v4 envelope on every answer (errors too), ids in both spellings,
`x-should-retry: false` on refusals, and who may call it. The unchanged SDK is in
test_iam_sdk.py, other teams' and organizations' ids in test_iam_isolation.py.

Runs on SQLite by default and on PostgreSQL with TEST_DATABASE_URL."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from werkzeug.exceptions import TooManyRequests

from app.extensions import db
from app.iam.envelope import error_response
from app.models import ActivityEvent, Member, Role, UserGroup, UserGroupMember, utcnow
from app.services import groups
from app.services.access import Actor
from tests.api.conftest import Api, as_member, mint_token
from tests.conftest import make_app
from tests.factories import make_individual

BASE = "/client/v4/accounts"


@pytest.fixture
def cf(client, token):
    return Api(client, token)


@pytest.fixture
def A(team):
    return team.id.hex


@pytest.fixture
def eng(team):
    group = groups.create_group(db.session, Actor.operator(), team, name="Engineering")
    db.session.commit()
    return group


def put(api, path, json=None, **kw):
    return api.request("PUT", path, json=json, **kw)


def ok(response, status=200):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["success"] is True and body["errors"] == [] and body["messages"] == []
    return body


def refused(response, status, code):
    """An error in Cloudflare's envelope, JSON, never HTML."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["success"] is False and body["result"] is None and body["messages"] == []
    [error] = body["errors"]
    assert error["code"] == code and isinstance(error["code"], int) and error["message"]
    return error["message"]


def no_retry(response):
    return response.headers.get("x-should-retry") == "false"


class TestUserGroups:
    def test_create_answers_the_group_with_a_32_hex_id(self, cf, A):
        body = ok(cf.post(f"{BASE}/{A}/iam/user_groups", json={"name": "  Finance ", "policies": [
            {"access": "allow", "permission_groups": [{"id": "pg_1", "name": "Admin"}],
             "resource_groups": [{"id": "rg_1", "scope": {"key": f"com.cloudflare.api.account.{A}",
                                                          "objects": [{"key": "*"}]}}]}]}))
        group = body["result"]
        assert len(group["id"]) == 32 and group["id"] == uuid.UUID(group["id"]).hex
        assert group["name"] == "Finance"
        assert group["created_on"].endswith("Z") and group["modified_on"].endswith("Z")
        [policy] = group["policies"]
        assert policy["access"] == "allow" and policy["permission_groups"] == [{"id": "pg_1", "name": "Admin"}]
        assert policy["resource_groups"][0]["scope"]["objects"] == [{"key": "*"}] and policy["id"]
        assert "result_info" not in body
        row = db.session.get(UserGroup, uuid.UUID(group["id"]))
        assert row.customer_id.hex == A
        assert db.session.scalar(select(ActivityEvent.action).where(
            ActivityEvent.subject_id == row.id)) == "group.created"

    def test_a_taken_name_in_another_case_is_a_bad_request_not_retried(self, cf, A, eng):
        response = cf.post(f"{BASE}/{A}/iam/user_groups", json={"name": "ENGINEERING"})
        assert "already exists" in refused(response, 400, 1002)
        assert no_retry(response)

    @pytest.mark.parametrize("body, words", [
        ({}, "Give the group a name"),
        ({"name": "x" * 257}, "at most 256"),
        ({"name": "ok", "policies": [{"access": "maybe"}]}, "allow or deny"),
        ({"name": "a\u202eb"}, "text-direction"),
        (["Engineering"], "JSON object"),
    ])
    def test_bad_bodies_are_400_with_a_message(self, cf, A, body, words):
        response = cf.post(f"{BASE}/{A}/iam/user_groups", json=body)
        assert response.status_code == 400 and no_retry(response)
        assert words in response.get_json()["errors"][0]["message"]

    def test_malformed_json_is_6007_and_another_content_type_415(self, cf, A):
        response = cf.post(f"{BASE}/{A}/iam/user_groups", data='{"name": ',
                           headers={"Content-Type": "application/json"})
        refused(response, 400, 6007)
        response = cf.post(f"{BASE}/{A}/iam/user_groups", data='{"name": "x"}',
                           headers={"Content-Type": "text/plain"})
        refused(response, 415, 6003)
        assert no_retry(response)
        assert db.session.scalar(select(UserGroup.id)) is None

    def test_list_by_name_with_filters_direction_and_pages(self, cf, A, team):
        for name in ("Ops", "engineering", "Finance", "Eng Leads", "Design"):
            groups.create_group(db.session, Actor.operator(), team, name=name)
        db.session.commit()
        body = ok(cf.get(f"{BASE}/{A}/iam/user_groups"))
        assert [g["name"] for g in body["result"]] == ["Design", "Eng Leads", "engineering", "Finance", "Ops"]
        assert body["result_info"] == {"page": 1, "per_page": 20, "count": 5, "total_count": 5,
                                       "total_pages": 1}
        body = ok(cf.get(f"{BASE}/{A}/iam/user_groups?direction=desc&fuzzyName=ENG&page=1&per_page=1"))
        assert [g["name"] for g in body["result"]] == ["engineering"]
        assert body["result_info"] == {"page": 1, "per_page": 1, "count": 1, "total_count": 2,
                                       "total_pages": 2}
        assert [g["name"] for g in ok(cf.get(f"{BASE}/{A}/iam/user_groups?name=finance"))["result"]] == ["Finance"]
        first = body["result"][0]["id"]
        dashed = str(uuid.UUID(first))
        assert [g["id"] for g in ok(cf.get(f"{BASE}/{A}/iam/user_groups?id={dashed}"))["result"]] == [first]
        assert ok(cf.get(f"{BASE}/{A}/iam/user_groups?id=nothing"))["result"] == []
        # The SDK sends page and per_page as floats ("2.0"); a page past the end is empty, not 404.
        page = ok(cf.get(f"{BASE}/{A}/iam/user_groups?page=2.0&per_page=2.0"))
        assert [g["name"] for g in page["result"]] == ["engineering", "Finance"]
        past = ok(cf.get(f"{BASE}/{A}/iam/user_groups?page=9"))
        assert past["result"] == [] and past["result_info"]["count"] == 0

    @pytest.mark.parametrize("query", ["page=0", "page=x", "per_page=501", "per_page=1.5",
                                       "direction=up", "fuzzyName=%00"])
    def test_bad_queries_are_400(self, cf, A, query):
        response = cf.get(f"{BASE}/{A}/iam/user_groups?{query}")
        refused(response, 400, 1001)
        assert no_retry(response)

    def test_get_in_both_id_spellings(self, cf, A, eng, team):
        hexed = ok(cf.get(f"{BASE}/{A}/iam/user_groups/{eng.id.hex}"))["result"]
        dashed = ok(cf.get(f"{BASE}/{str(team.id)}/iam/user_groups/{str(eng.id).upper()}"))["result"]
        assert hexed == dashed and hexed["id"] == eng.id.hex and hexed["name"] == "Engineering"

    def test_an_unknown_or_malformed_id_is_not_found(self, cf, A):
        response = cf.get(f"{BASE}/{A}/iam/user_groups/{uuid.uuid4().hex}")
        assert "User group not found" in refused(response, 404, 1003)
        assert no_retry(response)
        refused(cf.get(f"{BASE}/{A}/iam/user_groups/not-an-id"), 404, 7003)
        refused(cf.get(f"{BASE}/not-an-account/iam/user_groups"), 404, 7003)
        refused(cf.get(f"{BASE}/{uuid.uuid4().hex}/iam/user_groups"), 404, 1003)

    def test_update_renames_and_sets_policies_with_put(self, cf, A, eng):
        body = ok(put(cf, f"{BASE}/{A}/iam/user_groups/{eng.id.hex}", json={
            "name": "Platform", "policies": [{"id": "pol_1", "access": "deny", "permission_groups": [],
                                              "resource_groups": []}]}))
        assert body["result"]["name"] == "Platform"
        assert body["result"]["policies"] == [{"id": "pol_1", "access": "deny", "permission_groups": [],
                                               "resource_groups": []}]
        kept = ok(put(cf, f"{BASE}/{A}/iam/user_groups/{eng.id.hex}", json={}))["result"]
        assert kept["name"] == "Platform" and kept["policies"][0]["id"] == "pol_1"
        db.session.expire_all()
        assert db.session.get(UserGroup, eng.id).name == "Platform"

    def test_update_refuses_a_taken_name(self, cf, A, eng, team):
        groups.create_group(db.session, Actor.operator(), team, name="Finance")
        db.session.commit()
        refused(put(cf, f"{BASE}/{A}/iam/user_groups/{eng.id.hex}", json={"name": "finance"}), 400, 1002)

    def test_delete_answers_the_id_and_keeps_the_members(self, cf, A, eng, team, dev):
        groups.add_members(db.session, Actor.operator(), team, eng.id, [dev.id])
        db.session.commit()
        gid = eng.id
        body = ok(cf.delete(f"{BASE}/{A}/iam/user_groups/{gid.hex}"))
        assert body["result"] == {"id": gid.hex}
        db.session.expire_all()
        assert db.session.get(UserGroup, gid) is None
        assert db.session.get(Member, dev.id).deleted_at is None
        refused(cf.delete(f"{BASE}/{A}/iam/user_groups/{gid.hex}"), 404, 1003)


class TestGroupMembers:
    @pytest.fixture
    def many(self, team, eng):
        people = []
        for i in range(7):
            person = Member(customer_id=team.id, customer=team, email=f"p{6 - i}@example.com",
                            name=f"Person {i}", role=Role.MEMBER)
            db.session.add(person)
            people.append(person)
        db.session.flush()
        groups.add_members(db.session, Actor.operator(), team, eng.id, [p.id for p in people])
        db.session.commit()
        return people

    def test_list_is_sorted_by_email_filtered_and_paged(self, cf, A, eng, many):
        path = f"{BASE}/{A}/iam/user_groups/{eng.id.hex}/members"
        body = ok(cf.get(f"{path}?per_page=3"))
        assert [m["email"] for m in body["result"]] == ["p0@example.com", "p1@example.com", "p2@example.com"]
        assert body["result"][0] == {"id": many[6].id.hex, "email": "p0@example.com", "status": "pending"}
        assert body["result_info"] == {"page": 1, "per_page": 3, "count": 3, "total_count": 7,
                                       "total_pages": 3}
        third = ok(cf.get(f"{path}?per_page=3&page=3.0"))
        assert [m["email"] for m in third["result"]] == ["p6@example.com"]
        assert ok(cf.get(f"{path}?per_page=3&page=4"))["result"] == []
        assert [m["email"] for m in ok(cf.get(f"{path}?direction=desc&per_page=2"))["result"]] == [
            "p6@example.com", "p5@example.com"]
        assert [m["email"] for m in ok(cf.get(f"{path}?fuzzyEmail=P3@"))["result"]] == ["p3@example.com"]
        # fuzzyEmail is about the email only: "Person" is in every name, in no email.
        assert ok(cf.get(f"{path}?fuzzyEmail=person"))["result"] == []
        assert len(ok(cf.get(f"{path}?per_page=500"))["result"]) == 7
        refused(cf.get(f"{path}?per_page=501"), 400, 1001)

    def test_get_has_created_at_the_user_and_the_status(self, cf, A, eng, team, owner, dev):
        owner.accepted_at = utcnow()
        groups.add_members(db.session, Actor.operator(), team, eng.id, [owner.id, dev.id])
        db.session.commit()
        path = f"{BASE}/{A}/iam/user_groups/{eng.id.hex}/members"
        got = ok(cf.get(f"{path}/{owner.id.hex}"))["result"]
        assert got["id"] == owner.id.hex and got["email"] == "owner@example.com"
        assert got["status"] == "accepted" and got["created_at"].endswith("Z")
        assert got["user"] == {"id": owner.id.hex, "email": "owner@example.com", "first_name": "Owner",
                               "last_name": None}
        assert ok(cf.get(f"{path}/{dev.id}"))["result"]["status"] == "pending"

    def test_get_someone_not_in_the_group_is_not_found(self, cf, A, eng, dev):
        path = f"{BASE}/{A}/iam/user_groups/{eng.id.hex}/members"
        assert "not found" in refused(cf.get(f"{path}/{dev.id.hex}"), 404, 1003)
        refused(cf.get(f"{path}/m-1"), 404, 7003)
        refused(cf.get(f"{path}/m%2F1"), 404, 7000)  # the SDK percent-encodes: m/1 is no path here

    def test_add_takes_a_bare_array_and_is_idempotent(self, cf, A, eng, owner, dev):
        path = f"{BASE}/{A}/iam/user_groups/{eng.id.hex}/members"
        body = ok(cf.post(path, json=[{"id": dev.id.hex}, {"id": str(owner.id)}]))
        assert body["result"] == [{"id": dev.id.hex, "email": "dev@example.com", "status": "pending"},
                                  {"id": owner.id.hex, "email": "owner@example.com", "status": "pending"}]
        again = ok(cf.post(path, json=[{"id": dev.id.hex}]))
        assert again["result"] == [{"id": dev.id.hex, "email": "dev@example.com", "status": "pending"}]
        rows = db.session.scalars(select(UserGroupMember).where(UserGroupMember.group_id == eng.id)).all()
        assert len(rows) == 2
        assert len(db.session.scalars(select(ActivityEvent).where(
            ActivityEvent.action == "group.members_added")).all()) == 1

    def test_add_with_an_unknown_id_adds_nobody_and_names_it(self, cf, A, eng, dev):
        stranger = uuid.uuid4().hex
        response = cf.post(f"{BASE}/{A}/iam/user_groups/{eng.id.hex}/members",
                           json=[{"id": dev.id.hex}, {"id": stranger}])
        assert stranger in refused(response, 404, 1003)
        assert no_retry(response)
        assert db.session.scalar(select(UserGroupMember.id)) is None

    @pytest.mark.parametrize("body", [{"id": "x"}, [{"member": "x"}], ["abc"], [{"id": 5}]])
    def test_add_needs_an_array_of_ids(self, cf, A, eng, body):
        refused(cf.post(f"{BASE}/{A}/iam/user_groups/{eng.id.hex}/members", json=body), 400, 1001)

    def test_replace_sets_exactly_the_given_set(self, cf, A, eng, team, owner, billing, dev):
        groups.add_members(db.session, Actor.operator(), team, eng.id, [owner.id, dev.id])
        db.session.commit()
        path = f"{BASE}/{A}/iam/user_groups/{eng.id.hex}/members"
        body = ok(put(cf, path, json=[{"id": dev.id.hex}, {"id": billing.id.hex}]))
        assert [m["email"] for m in body["result"]] == ["billing@example.com", "dev@example.com"]
        assert [m["email"] for m in ok(cf.get(path))["result"]] == ["billing@example.com", "dev@example.com"]
        assert ok(put(cf, path, json=[]))["result"] == []
        assert ok(cf.get(path))["result"] == []

    def test_remove_answers_the_member_and_keeps_them_in_the_team(self, cf, A, eng, team, dev):
        groups.add_members(db.session, Actor.operator(), team, eng.id, [dev.id])
        db.session.commit()
        path = f"{BASE}/{A}/iam/user_groups/{eng.id.hex}/members/{dev.id.hex}"
        assert ok(cf.delete(path))["result"] == {"id": dev.id.hex, "email": "dev@example.com",
                                                 "status": "pending"}
        db.session.expire_all()
        assert db.session.get(Member, dev.id).deleted_at is None
        refused(cf.delete(path), 404, 1003)


class TestAuth:
    def test_no_token_or_a_bad_one_is_401(self, anonymous, client, A):
        path = f"{BASE}/{A}/iam/user_groups"
        response = anonymous.get(path)
        refused(response, 401, 10000)
        assert response.headers["WWW-Authenticate"] == "Bearer" and no_retry(response)
        refused(Api(client, "polar_oat_nope").get(path), 401, 10000)
        refused(Api(client, "cf_something").get(path), 401, 10000)
        message = refused(client.get(path, headers={"X-Auth-Email": "a@b.c", "X-Auth-Key": "k"}), 401, 10000)
        assert "Bearer" in message

    def test_scopes_read_and_write(self, client, org, A, eng):
        path = f"{BASE}/{A}/iam/user_groups"
        reader = Api(client, mint_token(org, ["user_groups:read"]))
        assert ok(reader.get(path))["result"][0]["name"] == "Engineering"
        response = reader.post(path, json={"name": "Ops"})
        assert "user_groups:write" in refused(response, 403, 9109)
        assert no_retry(response)
        refused(reader.delete(f"{path}/{eng.id.hex}"), 403, 9109)
        writer = Api(client, mint_token(org, ["user_groups:write"]))
        assert ok(writer.get(path))["result_info"]["total_count"] == 1
        ok(writer.post(path, json={"name": "Ops"}))
        members_only = Api(client, mint_token(org, ["members:read", "members:write"]))
        refused(members_only.get(path), 403, 9109)

    def test_owner_and_billing_manager_sessions_manage_their_own_team(self, client, A, owner, billing, dev):
        path = f"{BASE}/{A}/iam/user_groups"
        created = ok(as_member(client, owner).post(path, json={"name": "Ops"}))["result"]
        as_billing = as_member(client, billing)
        ok(as_billing.post(f"{path}/{created['id']}/members", json=[{"id": dev.id.hex}]))
        assert [g["name"] for g in ok(as_billing.get(path))["result"]] == ["Ops"]
        event = db.session.scalars(select(ActivityEvent).where(
            ActivityEvent.action == "group.members_added")).one()
        assert event.actor_label == "Billing"

    def test_a_plain_members_session_is_403(self, client, A, eng, dev):
        as_dev = as_member(client, dev)
        response = as_dev.get(f"{BASE}/{A}/iam/user_groups")
        assert "owner and billing managers" in refused(response, 403, 9109)
        refused(as_dev.post(f"{BASE}/{A}/iam/user_groups/{eng.id.hex}/members",
                            json=[{"id": dev.id.hex}]), 403, 9109)
        assert db.session.scalar(select(UserGroupMember.id)) is None

    def test_an_individual_customer_is_403_saying_why(self, cf, org):
        solo = make_individual(org)
        assert "team" in refused(cf.get(f"{BASE}/{solo.id.hex}/iam/user_groups"), 403, 9109)

    def test_no_csrf_token_is_needed(self, app, cf, A):
        assert app.config.get("WTF_CSRF_ENABLED", True)
        ok(cf.post(f"{BASE}/{A}/iam/user_groups", json={"name": "Ops"}))


class TestEnvelopeForEveryError:
    def test_unknown_paths_and_methods(self, cf, A, eng):
        for path in ("/client/v4", "/client/v4/", f"{BASE}/{A}", f"{BASE}/{A}/iam/nothing",
                     f"{BASE}/{A}/iam/user_groups/{eng.id.hex}/members/{eng.id.hex}/x"):
            response = cf.get(path)
            refused(response, 404, 7000)
            assert no_retry(response)
        response = cf.patch(f"{BASE}/{A}/iam/user_groups/{eng.id.hex}", json={"name": "x"})
        refused(response, 405, 7001)
        assert "PUT" in response.headers["Allow"] and no_retry(response)
        refused(cf.post(f"{BASE}/{A}/iam/user_groups/{eng.id.hex}/members/{eng.id.hex}"), 405, 7001)

    def test_options_is_an_envelope_too(self, cf, A):
        response = cf.request("OPTIONS", f"{BASE}/{A}/iam/user_groups")
        refused(response, 405, 7001)
        assert "GET" in response.headers["Allow"] and "POST" in response.headers["Allow"]

    @pytest.mark.parametrize("depth", [900, 5000])
    def test_deeply_nested_json_is_a_bad_request(self, cf, A, depth):
        response = cf.post(f"{BASE}/{A}/iam/user_groups", data="[" * depth + "]" * depth,
                           headers={"Content-Type": "application/json"})
        assert response.status_code == 400 and no_retry(response)

    def test_a_body_over_1_mb_is_413(self, cf, A):
        response = cf.post(f"{BASE}/{A}/iam/user_groups", data='{"name": "' + "x" * (1024 * 1024) + '"}',
                           headers={"Content-Type": "application/json"})
        refused(response, 413, 1005)

    def test_a_concurrent_change_is_409_and_may_be_retried(self, cf, A, team, monkeypatch):
        """The database's last word on a race (IntegrityError) may succeed when sent again."""
        real_flush = db.session.flush

        def flush_with_a_twin(*args, **kwargs):
            real_flush(*args, **kwargs)
            if not getattr(flush_with_a_twin, "done", False):
                flush_with_a_twin.done = True
                db.session.add(UserGroup(customer_id=team.id, name="OPS", policies=[]))
                real_flush()

        monkeypatch.setattr(db.session, "flush", flush_with_a_twin, raising=False)
        response = cf.post(f"{BASE}/{A}/iam/user_groups", json={"name": "Ops"})
        monkeypatch.undo()
        refused(response, 409, 1004)
        assert "x-should-retry" not in response.headers

    def test_an_outage_is_503_with_retry_after(self, tmp_path, smtp_sink):
        broken = make_app(f"sqlite:///{tmp_path}/missing-dir/portal.db", smtp_sink)
        response = broken.test_client().get(f"{BASE}/{uuid.uuid4().hex}/iam/user_groups",
                                            headers={"Authorization": "Bearer polar_oat_x"})
        refused(response, 503, 1010)
        assert response.headers["Retry-After"] == "5" and "x-should-retry" not in response.headers

    def test_a_rate_limit_is_429_with_retry_after(self, app):
        with app.test_request_context(f"{BASE}/x/iam/user_groups"):
            response = error_response(TooManyRequests())
        refused(response, 429, 971)
        assert response.headers["Retry-After"] and "x-should-retry" not in response.headers

    def test_a_bug_is_a_500_envelope_never_a_trace(self, cf, A, monkeypatch):
        def broken(*args, **kwargs):
            raise RuntimeError("boom")

        monkeypatch.setattr(groups, "list_groups", broken)
        response = cf.get(f"{BASE}/{A}/iam/user_groups")
        assert "boom" not in refused(response, 500, 1011)

