"""Cloudflare's IAM user-group API (wire-contract §6.3), thin over app/services/groups.py, which
holds every rule (DESIGN.md 17-23). Each view: authenticate, find the account, call one service
function, answer the v4 envelope. Writes commit once, here."""
from __future__ import annotations

from functools import wraps

from flask import g

from ..extensions import db
from ..services import groups
from . import bp, wire
from .auth import account, authenticate, parse_id
from .envelope import listing, success

GROUPS = "/accounts/<account_id>/iam/user_groups"
GROUP = GROUPS + "/<group_id>"
MEMBERS = GROUP + "/members"
MEMBER = MEMBERS + "/<member_id>"


def route(method: str, rule: str, *, write: bool):
    def register(view):
        @wraps(view)
        def endpoint(**view_args):
            authenticate(write=write)
            response = view(**view_args)
            if method != "GET":
                db.session.commit()
            return response

        # No automatic OPTIONS answer: it would be the one answer without the envelope.
        bp.add_url_rule(rule, endpoint=view.__name__, view_func=endpoint, methods=[method],
                        strict_slashes=True, provide_automatic_options=False)
        return view

    return register


# --- user groups -----------------------------------------------------------------------------

@route("GET", GROUPS, write=False)
def list_user_groups(account_id):
    """By name; `id`, `name` (whole name), `fuzzyName` (a part), `direction`, `page`, `per_page`."""
    page, per_page = wire.paging()
    result = groups.list_groups(
        db.session, g.actor, account(account_id), query=wire.text_arg("fuzzyName"),
        name=wire.text_arg("name"), group_id=wire.text_arg("id"), descending=wire.descending(),
        page=page, limit=per_page)
    return listing([wire.group(row) for row in result.items], page=page, per_page=per_page,
                   total=result.total)


@route("POST", GROUPS, write=True)
def create_user_group(account_id):
    customer = account(account_id)
    data = wire.group_body()
    row = groups.create_group(db.session, g.actor, customer, name=data.get("name"),
                              policies=data.get("policies"))
    return success(wire.group(row))


@route("GET", GROUP, write=False)
def get_user_group(account_id, group_id):
    customer = account(account_id)
    return success(wire.group(groups.read_group(db.session, g.actor, customer, parse_id(group_id))))


@route("PUT", GROUP, write=True)
def update_user_group(account_id, group_id):
    """`name` and/or `policies`; what is left out stays as it is."""
    customer = account(account_id)
    gid = parse_id(group_id)
    data = wire.group_body()
    changes = {key: data[key] for key in ("name", "policies") if data.get(key) is not None}
    row = groups.update_group(db.session, g.actor, customer, gid, **changes)
    return success(wire.group(row))


@route("DELETE", GROUP, write=True)
def delete_user_group(account_id, group_id):
    customer = account(account_id)
    row = groups.delete_group(db.session, g.actor, customer, parse_id(group_id))
    return success({"id": row.id.hex})


# --- a group's members -----------------------------------------------------------------------

@route("GET", MEMBERS, write=False)
def list_user_group_members(account_id, group_id):
    """Sorted by email; `fuzzyEmail` (a part of the email), `direction`, `page`, `per_page`."""
    customer = account(account_id)
    gid = parse_id(group_id)
    page, per_page = wire.paging()
    result = groups.list_group_members(db.session, g.actor, customer, gid,
                                       email_query=wire.text_arg("fuzzyEmail"),
                                       descending=wire.descending(), page=page, limit=per_page)
    return listing([wire.member(row.member) for row in result.items], page=page,
                   per_page=per_page, total=result.total)


@route("POST", MEMBERS, write=True)
def add_user_group_members(account_id, group_id):
    """A bare array of {"id"}; someone already in the group stays as is (idempotent)."""
    customer = account(account_id)
    gid = parse_id(group_id)
    added = groups.add_members(db.session, g.actor, customer, gid, wire.member_ids())
    return success([wire.member(m) for m in added])


@route("PUT", MEMBERS, write=True)
def replace_user_group_members(account_id, group_id):
    """A bare array of {"id"}: the group then holds exactly these members."""
    customer = account(account_id)
    gid = parse_id(group_id)
    now = groups.replace_members(db.session, g.actor, customer, gid, wire.member_ids())
    return success([wire.member(m) for m in now])


@route("GET", MEMBER, write=False)
def get_user_group_member(account_id, group_id, member_id):
    customer = account(account_id)
    row = groups.get_group_member(db.session, g.actor, customer, parse_id(group_id),
                                  parse_id(member_id))
    return success(wire.member_detail(row))


@route("DELETE", MEMBER, write=True)
def remove_user_group_member(account_id, group_id, member_id):
    customer = account(account_id)
    person = groups.remove_member(db.session, g.actor, customer, parse_id(group_id),
                                  parse_id(member_id))
    return success(wire.member(person))
