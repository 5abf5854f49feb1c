"""cloudflare==5.9.0, unchanged, in its own virtualenv, against the real server on loopback
(`Cloudflare(api_token=…, base_url=<server>/client/v4)`, default `max_retries`): every call of
wire-contract §6.3, auto-pagination, and each refusal as the SDK's typed error. The server's
request log proves that a refused write reached it once (no retry repeated it)."""
from __future__ import annotations

import logging
import re
import uuid

import pytest

from app.extensions import db
from app.models import Member, Role, UserGroup, UserGroupMember, utcnow
from tests.api.conftest import member_token, mint_token

pytestmark = pytest.mark.sdk

PRELUDE = """
from cloudflare import Cloudflare, BadRequestError, NotFoundError, PermissionDeniedError
from cloudflare import AuthenticationError
cf = Cloudflare(api_token=INPUT["token"], base_url=INPUT["base_url"] + "/client/v4")
A = INPUT["account"]
ug = cf.iam.user_groups


def error(exc):
    return [exc.status_code, exc.body["errors"][0]["code"], exc.body["errors"][0]["message"]]
"""


class RequestLog:
    """The server's own request lines (app/observability.py), as the live server logs them."""

    def __init__(self, caplog):
        self.caplog = caplog

    def count(self, method: str, path: str, status: int) -> int:
        line = re.compile(rf"request method={method} path={re.escape(path)} status={status} ")
        return sum(1 for r in self.caplog.records
                   if r.name == "portal.request" and line.search(r.getMessage()))


@pytest.fixture
def requests_seen(caplog):
    caplog.set_level(logging.INFO, logger="portal.request")
    return RequestLog(caplog)


@pytest.fixture
def crowd(team):
    """22 more members (more than a page of 10), one of them accepted."""
    people = []
    for i in range(22):
        person = Member(customer_id=team.id, customer=team, email=f"crowd{i:02}@example.com",
                        name=f"Crowd Person{i:02}", role=Role.MEMBER,
                        accepted_at=utcnow() if i == 0 else None)
        db.session.add(person)
        people.append(person)
    db.session.commit()
    return people


def test_every_call_of_the_user_group_api(cloudflare_sdk, live_server, team, owner, dev, crowd, token,
                                          requests_seen):
    out = cloudflare_sdk.run(PRELUDE + """
g = ug.create(account_id=A, name="Engineering", policies=[
    {"access": "allow", "permission_groups": [{"id": "pg_admin"}], "resource_groups": [{"id": "rg_all"}]}])
OUT["create"] = [g.id, g.name, type(g.created_on).__name__, g.policies[0].access,
                 g.policies[0].permission_groups[0].id]
fin = ug.create(account_id=A, name="Finance")
ug.create(account_id=A, name="Design")
OUT["list"] = [x.name for x in ug.list(account_id=A)]
page = ug.list(account_id=A, direction="desc", fuzzy_name="N", page=1, per_page=2)
OUT["list_page"] = [[x.name for x in page.result], page.result_info.page, page.result_info.per_page]
OUT["list_name"] = [x.id for x in ug.list(account_id=A, name="finance")]
OUT["list_id"] = [x.name for x in ug.list(account_id=A, id=fin.id)]
OUT["get"] = ug.get(g.id, account_id=A).name
up = ug.update(g.id, account_id=A, name="Platform", policies=[
    {"id": "pol_1", "access": "deny", "permission_groups": [{"id": "pg_billing"}],
     "resource_groups": [{"id": "rg_all"}]}])
OUT["update"] = [up.name, up.policies[0].id, up.policies[0].access, up.modified_on >= up.created_on]

m = ug.members
added = m.create(g.id, account_id=A, members=[{"id": i} for i in INPUT["crowd"]])
OUT["add"] = sorted(x.email for x in added)
OUT["add_again"] = [x.id for x in m.create(g.id, account_id=A, members=[{"id": INPUT["crowd"][0]}])]
OUT["auto_pages"] = [x.email for x in m.list(g.id, account_id=A, per_page=10)]
first = m.list(g.id, account_id=A, direction="desc", fuzzy_email="crowd1", per_page=500)
OUT["list_desc"] = [x.email for x in first.result]
detail = m.get(INPUT["crowd"][0], account_id=A, user_group_id=g.id)
OUT["get_member"] = [detail.id, detail.email, detail.status, type(detail.created_at).__name__,
                     detail.user.email, detail.user.first_name, detail.user.last_name]
OUT["pending"] = m.get(INPUT["crowd"][1], account_id=A, user_group_id=g.id).status
replaced = m.update(fin.id, account_id=A, members=[{"id": INPUT["owner"]}, {"id": INPUT["dev"]}])
OUT["replace"] = [x.email for x in replaced]
OUT["replace_again"] = [x.email for x in m.update(fin.id, account_id=A, members=[{"id": INPUT["dev"]}])]
removed = m.delete(INPUT["crowd"][0], account_id=A, user_group_id=g.id)
OUT["remove"] = [removed.id, removed.email]
OUT["after_remove"] = len(list(m.list(g.id, account_id=A, per_page=50)))
OUT["delete"] = ug.delete(fin.id, account_id=A).id == fin.id
OUT["group"] = g.id

try:
    ug.create(account_id=A, name="platform")
except BadRequestError as exc:
    OUT["duplicate"] = error(exc)
try:
    m.create(g.id, account_id=A, members=[{"id": INPUT["dev"]}, {"id": INPUT["stranger"]}])
except NotFoundError as exc:
    OUT["unknown_member"] = error(exc)
try:
    ug.get(INPUT["stranger"], account_id=A)
except NotFoundError as exc:
    OUT["unknown_group"] = error(exc)
try:
    Cloudflare(api_token=INPUT["reader"], base_url=INPUT["base_url"] + "/client/v4").iam.user_groups.delete(
        g.id, account_id=A)
except PermissionDeniedError as exc:
    OUT["reader_delete"] = error(exc)
try:
    Cloudflare(api_token=INPUT["plain"], base_url=INPUT["base_url"] + "/client/v4").iam.user_groups.members.create(
        g.id, account_id=A, members=[{"id": INPUT["dev"]}])
except PermissionDeniedError as exc:
    OUT["plain_member"] = error(exc)
try:
    Cloudflare(api_token="polar_oat_revoked", base_url=INPUT["base_url"] + "/client/v4").iam.user_groups.list(
        account_id=A)
except AuthenticationError as exc:
    OUT["bad_token"] = error(exc)
as_owner = Cloudflare(api_token=INPUT["owner_session"], base_url=INPUT["base_url"] + "/client/v4")
OUT["owner_session"] = [x.name for x in as_owner.iam.user_groups.list(account_id=A)]
OUT["max_retries"] = cf.max_retries
report()
""", token=token, base_url=live_server.url, account=team.id.hex, owner=owner.id.hex, dev=dev.id.hex,
        crowd=[p.id.hex for p in crowd], stranger="0123456789abcdef0123456789abcdef",
        reader=mint_token(team.organization, ["user_groups:read"]), plain=member_token(dev),
        owner_session=member_token(owner))

    assert len(out["create"][0]) == 32 and out["create"][1:] == ["Engineering", "datetime", "allow", "pg_admin"]
    assert out["list"] == ["Design", "Engineering", "Finance"]
    assert out["list_page"] == [["Finance", "Engineering"], 1, 2]
    assert len(out["list_name"]) == 1 and out["list_id"] == ["Finance"]
    assert out["get"] == "Engineering"
    assert out["update"] == ["Platform", "pol_1", "deny", True]

    emails = sorted(p.email for p in crowd)
    assert out["add"] == emails and out["add_again"] == [crowd[0].id.hex]
    # Auto-pagination: 22 members at 10 a page, pages 1, 2, 3 and the empty page 4 that stops it.
    assert out["auto_pages"] == emails
    assert out["list_desc"] == [f"crowd{i}@example.com" for i in range(19, 9, -1)]
    assert out["get_member"] == [crowd[0].id.hex, "crowd00@example.com", "accepted", "datetime",
                                 "crowd00@example.com", "Crowd", "Person00"]
    assert out["pending"] == "pending"
    assert out["replace"] == ["dev@example.com", "owner@example.com"]
    assert out["replace_again"] == ["dev@example.com"]
    assert out["remove"] == [crowd[0].id.hex, "crowd00@example.com"]
    assert out["after_remove"] == 21 and out["delete"] is True

    assert out["duplicate"][:2] == [400, 1002] and "already exists" in out["duplicate"][2]
    assert out["unknown_member"][:2] == [404, 1003]
    assert "0123456789abcdef0123456789abcdef" in out["unknown_member"][2]
    assert out["unknown_group"][:2] == [404, 1003]
    assert out["reader_delete"][:2] == [403, 9109] and "user_groups:write" in out["reader_delete"][2]
    assert out["plain_member"][:2] == [403, 9109]
    assert out["bad_token"][:2] == [401, 10000]
    assert out["owner_session"] == ["Design", "Platform"]  # a manager's member session works too
    assert out["max_retries"] == 2  # the client's default

    A, G = team.id.hex, out["group"]
    groups_path, members_path = f"/client/v4/accounts/{A}/iam/user_groups", \
        f"/client/v4/accounts/{A}/iam/user_groups/{G}/members"
    # Each refused write reached the server exactly once: the SDK's retries did not repeat it.
    assert requests_seen.count("POST", groups_path, 400) == 1
    assert requests_seen.count("POST", members_path, 404) == 1
    assert requests_seen.count("DELETE", f"{groups_path}/{G}", 403) == 1
    assert requests_seen.count("POST", members_path, 403) == 1
    assert requests_seen.count("GET", groups_path, 401) == 1
    # The auto-paginated lists asked for pages until an empty one: 3 + 1 pages of 10, one page
    # of 500 (not iterated) and 1 + 1 pages of 50.
    assert requests_seen.count("GET", members_path, 200) == 4 + 1 + 2

    db.session.expire_all()
    group = db.session.get(UserGroup, uuid.UUID(G))
    assert group.name == "Platform"
    assert db.session.query(UserGroupMember).filter_by(group_id=group.id).count() == 21
