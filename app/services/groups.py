"""User groups (DESIGN.md rules 17-23): named sets of members of one team customer.

Below `members` in the line of services (access → activity → … → groups → members): it reads
members itself and never imports `members`, which calls `leave_all_groups` when someone leaves
the team (rule 21). Every mutation goes through `access.begin_mutation` (managers only, then the
customer lock, then the check again) and writes an activity event (rule 23)."""
from __future__ import annotations

import uuid
from typing import NamedTuple

from sqlalchemy import and_, bindparam, delete, false, func, or_, select
from sqlalchemy.orm import Session, defaultload

from .. import text
from ..errors import NotFound, RuleViolation
from ..models import Customer, Member, UserGroup, UserGroupMember, utcnow
from . import access, activity
from .access import Actor
from .ids import parse_id
from .paging import Page

NAME_MAX = 256
GROUPS_MAX = 500
POLICIES_MAX = 100
POLICIES_MAX_BYTES = 64 * 1024
ACCESS = ("allow", "deny")
UNSET = object()


# --- validation --------------------------------------------------------------------------------

def clean_name(name) -> str:
    """Rule 18: 1-256 characters after trimming, plain text."""
    name = (name if isinstance(name, str) else "").strip()
    if not name:
        raise RuleViolation("Give the group a name.", field="name")
    if len(name) > NAME_MAX:
        raise RuleViolation(f"A group name can be at most {NAME_MAX} characters.", field="name")
    if text.unsafe(name):
        raise RuleViolation(text.MESSAGE, field="name")
    return name


def _text(value, where: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 256:
        raise RuleViolation(f"{where} must be a text of 1 to 256 characters.", field="policies")
    return value.strip()


def _only(item: dict, keys: set, where: str) -> None:
    extra = sorted(set(item) - keys)
    if extra:
        raise RuleViolation(f"{where} has unknown fields: {', '.join(extra)}.", field="policies")


def _optional_meta(item: dict, out: dict, where: str) -> None:
    if "name" in item and item["name"] is not None:
        out["name"] = _text(item["name"], f"{where} name")
    if "meta" in item and item["meta"] is not None:
        if not isinstance(item["meta"], dict):
            raise RuleViolation(f"{where} meta must be an object.", field="policies")
        out["meta"] = item["meta"]


def clean_policies(policies) -> list[dict]:
    """Cloudflare's policy shape (wire-contract §6.3/6.4): a list of
    {id?, access: allow|deny, permission_groups: [{id, name?, meta?}],
    resource_groups: [{id, scope?: {key, objects: [{key}]}, name?, meta?}]}.
    A policy without an id gets one. Anything else is refused with a message naming the place."""
    if policies is None:
        return []
    if not isinstance(policies, list):
        raise RuleViolation("Policies must be a list.", field="policies")
    if len(policies) > POLICIES_MAX:
        raise RuleViolation(f"A group can have at most {POLICIES_MAX} policies.", field="policies")
    cleaned = []
    for n, policy in enumerate(policies, 1):
        where = f"Policy {n}"
        if not isinstance(policy, dict):
            raise RuleViolation(f"{where} must be an object.", field="policies")
        _only(policy, {"id", "access", "permission_groups", "resource_groups"}, where)
        if policy.get("access") not in ACCESS:
            raise RuleViolation(f"{where}: access must be allow or deny.", field="policies")
        out = {"id": _text(policy["id"], f"{where} id") if policy.get("id") is not None
               else uuid.uuid4().hex, "access": policy["access"]}
        groups = []
        for m, pg in enumerate(policy.get("permission_groups") or [], 1):
            at = f"{where}, permission group {m}"
            if not isinstance(pg, dict):
                raise RuleViolation(f"{at} must be an object.", field="policies")
            _only(pg, {"id", "name", "meta"}, at)
            item = {"id": _text(pg.get("id"), f"{at} id")}
            _optional_meta(pg, item, at)
            groups.append(item)
        resources = []
        for m, rg in enumerate(policy.get("resource_groups") or [], 1):
            at = f"{where}, resource group {m}"
            if not isinstance(rg, dict):
                raise RuleViolation(f"{at} must be an object.", field="policies")
            _only(rg, {"id", "scope", "name", "meta"}, at)
            item = {"id": _text(rg.get("id"), f"{at} id")}
            scope = rg.get("scope")
            if scope is not None:
                if not isinstance(scope, dict) or not isinstance(scope.get("objects", []), list):
                    raise RuleViolation(f"{at}: scope must be {{key, objects: [{{key}}]}}.",
                                        field="policies")
                _only(scope, {"key", "objects"}, f"{at} scope")
                objects = []
                for obj in scope.get("objects") or []:
                    if not isinstance(obj, dict):
                        raise RuleViolation(f"{at}: each scope object must be {{key}}.", field="policies")
                    _only(obj, {"key"}, f"{at} scope object")
                    objects.append({"key": _text(obj.get("key"), f"{at} scope object key")})
                item["scope"] = {"key": _text(scope.get("key"), f"{at} scope key"), "objects": objects}
            _optional_meta(rg, item, at)
            resources.append(item)
        out["permission_groups"], out["resource_groups"] = groups, resources
        cleaned.append(out)
    size = text.json_size(cleaned)
    if size is None:
        raise RuleViolation("Policies must be plain JSON values.", field="policies")
    if size > POLICIES_MAX_BYTES:
        raise RuleViolation(f"Policies can be at most {POLICIES_MAX_BYTES // 1024} KB of JSON.",
                            field="policies")
    return cleaned


def _member_ids(values) -> list:
    """Parsed ids in the given order, without repeats; ids that are no UUID at all are kept as
    text so the NotFound can name them."""
    if not isinstance(values, (list, tuple)):
        raise RuleViolation("Give a list of member ids.", field="members")
    seen, out = set(), []
    for value in values:
        try:
            key = parse_id(value, "")
        except NotFound:
            key = str(value)
        if key not in seen:
            seen.add(key)
            out.append(key)
    return out


def _live_members(session: Session, customer: Customer, ids: list) -> list[Member]:
    """Rule 19: the live members of this team with these ids, in the given order, or NotFound
    naming every id that is not one."""
    uuids = [i for i in ids if isinstance(i, uuid.UUID)]
    found = {m.id: m for m in session.scalars(select(Member).where(
        Member.id.in_(uuids), Member.customer_id == customer.id, Member.deleted_at.is_(None)))} \
        if uuids else {}
    unknown = [i.hex if isinstance(i, uuid.UUID) else i for i in ids if i not in found]
    if unknown:
        raise NotFound("Not a member of this team: " + ", ".join(str(u)[:64] for u in unknown) + ".")
    return [found[i] for i in ids]


# --- reading -----------------------------------------------------------------------------------

def get_group(session: Session, customer: Customer, group_id) -> UserGroup:
    """A group of this team; another team's or organization's id is simply not found (17)."""
    gid = parse_id(group_id, "User group not found.")
    group = session.scalar(select(UserGroup).where(UserGroup.id == gid, UserGroup.customer_id == customer.id)
                           .execution_options(populate_existing=True))
    if group is None:
        raise NotFound("User group not found.")
    return group


def read_group(session: Session, actor: Actor, customer: Customer, group_id) -> UserGroup:
    access.ensure_can_manage(actor, customer)
    return get_group(session, customer, group_id)


def list_groups(session: Session, actor: Actor, customer: Customer, *, query: str | None = None,
                name: str | None = None, group_id=None, descending: bool = False, page: int = 1,
                limit: int = 20) -> Page:
    """The team's groups by name (rule 17: managers and the vendor only). `query` matches a
    part of the name in any case, `name` the whole name; a page past the end is empty."""
    access.ensure_can_manage(actor, customer)
    page, limit = max(1, page), max(1, min(limit, 500))
    where = [UserGroup.customer_id == customer.id]
    query = (query or "").strip()[:256]
    if query:
        where.append(func.lower(UserGroup.name).like(text.like_pattern(query.lower()), escape="\\"))
    if name is not None:
        where.append(func.lower(UserGroup.name) == name.strip().lower())
    if group_id is not None:
        try:
            where.append(UserGroup.id == parse_id(group_id, ""))
        except NotFound:
            where.append(UserGroup.id.is_(None))
    total = session.scalar(select(func.count(UserGroup.id)).where(*where)) or 0
    order = (func.lower(UserGroup.name).desc(), UserGroup.id.desc()) if descending \
        else (func.lower(UserGroup.name), UserGroup.id)
    items = list(session.scalars(select(UserGroup).where(*where).order_by(*order)
                                 .offset((page - 1) * limit).limit(limit)))
    return Page(items=items, total=total, page=page, limit=limit)


def member_counts(session: Session, group_ids: list) -> dict:
    """{group_id: how many members} in one query."""
    if not group_ids:
        return {}
    return dict(session.execute(select(UserGroupMember.group_id, func.count(UserGroupMember.id))
                                .where(UserGroupMember.group_id.in_(group_ids))
                                .group_by(UserGroupMember.group_id)).all())


def list_group_members(session: Session, actor: Actor, customer: Customer, group_id, *,
                       query: str | None = None, email_query: str | None = None,
                       descending: bool = False, page: int = 1, limit: int = 20) -> Page:
    """A group's memberships (UserGroupMember rows with their member), sorted by email; `query`
    matches a part of the email or name in any case, `email_query` a part of the email only
    (Cloudflare's `fuzzyEmail`); a page past the end is empty."""
    access.ensure_can_manage(actor, customer)
    group = get_group(session, customer, group_id)
    page, limit = max(1, page), max(1, min(limit, 500))
    where = [UserGroupMember.group_id == group.id]
    query = (query or "").strip()[:320]
    if query:
        needle = text.like_pattern(query.lower())
        where.append(or_(func.lower(Member.email).like(needle, escape="\\"),
                         func.lower(Member.name).like(needle, escape="\\")))
    email_query = (email_query or "").strip()[:320]
    if email_query:
        where.append(func.lower(Member.email).like(text.like_pattern(email_query.lower()), escape="\\"))
    base = select(UserGroupMember).join(Member, UserGroupMember.member_id == Member.id).where(*where)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    order = (func.lower(Member.email).desc(), Member.id.desc()) if descending \
        else (func.lower(Member.email), Member.id)
    # Every row's member is of `customer`, which the caller holds: not joined again per row.
    items = list(session.scalars(base.options(defaultload(UserGroupMember.member)
                                              .lazyload(Member.customer))
                                 .order_by(*order).offset((page - 1) * limit).limit(limit)))
    return Page(items=items, total=total, page=page, limit=limit)


def get_group_member(session: Session, actor: Actor, customer: Customer, group_id,
                     member_id) -> UserGroupMember:
    access.ensure_can_manage(actor, customer)
    group = get_group(session, customer, group_id)
    mid = parse_id(member_id, "Member not found in this group.")
    row = session.scalar(select(UserGroupMember).where(UserGroupMember.group_id == group.id,
                                                       UserGroupMember.member_id == mid))
    if row is None:
        raise NotFound("Member not found in this group.")
    return row


def groups_of(session: Session, member: Member) -> list[UserGroup]:
    """The groups a member is in, by name (a plain member sees their own; rule 17)."""
    return list(session.scalars(
        select(UserGroup).join(UserGroupMember, UserGroupMember.group_id == UserGroup.id)
        .where(UserGroupMember.member_id == member.id).order_by(func.lower(UserGroup.name))))


def groups_for_members(session: Session, member_ids: list) -> dict:
    """{member_id: [UserGroup, …] by name} for a page of members, in ONE query (no N+1)."""
    if not member_ids:
        return {}
    out: dict = {}
    rows = session.execute(
        select(UserGroupMember.member_id, UserGroup)
        .join(UserGroup, UserGroupMember.group_id == UserGroup.id)
        .where(UserGroupMember.member_id.in_(member_ids))
        .order_by(func.lower(UserGroup.name), UserGroup.id)).all()
    for member_id, group in rows:
        out.setdefault(member_id, []).append(group)
    return out


class GroupRef(NamedTuple):
    id: uuid.UUID
    name: str


# page_groups' one query, built once and run with bound values (building it cost more than
# running it); an empty list of ids joins no one.
_PAGE_GROUPS = (
    select(UserGroup.id, UserGroup.name, UserGroupMember.member_id).select_from(UserGroup)
    .outerjoin(UserGroupMember, and_(UserGroupMember.group_id == UserGroup.id,
                                     UserGroupMember.member_id.in_(bindparam("ids", expanding=True))))
    .where(UserGroup.customer_id == bindparam("customer_id"))
    .order_by(func.lower(UserGroup.name), UserGroup.id)
)


def page_groups(session: Session, actor: Actor, customer: Customer, member_ids: list) -> tuple[list, dict]:
    """For the team page, in ONE query: every group of the team by name (the filter's choices)
    and {member_id: [GroupRef, …]} for the page's members (their chips). Rule 17."""
    access.ensure_can_manage(actor, customer)
    rows = session.execute(_PAGE_GROUPS, {"customer_id": customer.id,
                                          "ids": list(member_ids)}).all()
    choices: list = []
    by_member: dict = {}
    for gid, name, member_id in rows:
        if not choices or choices[-1].id != gid:
            choices.append(GroupRef(gid, name))
        if member_id is not None:
            by_member.setdefault(member_id, []).append(choices[-1])
    return choices, by_member


def in_group(group_id):
    """A where clause for members: "is in this group". An id that is no UUID matches no one."""
    try:
        gid = parse_id(group_id, "")
    except NotFound:
        return false()
    return select(UserGroupMember.id).where(UserGroupMember.group_id == gid,
                                            UserGroupMember.member_id == Member.id).exists()


def candidates(session: Session, actor: Actor, customer: Customer, group_id, *, query: str | None = None,
               keep=(), limit: int = 10) -> tuple[list[Member], Page]:
    """The add-members picker (rule 17): ([the members in `keep`], a first page of the others)
    among the team's live members who are not in the group yet, by name or email; `query`
    matches a part of either, any case. `keep` are the people already ticked, so a new search
    does not lose them; ids that are not such members are dropped."""
    access.ensure_can_manage(actor, customer)
    group = get_group(session, customer, group_id)
    where = [Member.customer_id == customer.id, Member.deleted_at.is_(None), ~in_group(group.id)]
    order = (func.lower(func.coalesce(Member.name, Member.email)), Member.id)
    keep_ids = [i for i in _member_ids(list(keep)) if isinstance(i, uuid.UUID)][:GROUPS_MAX]
    kept = list(session.scalars(select(Member).where(*where, Member.id.in_(keep_ids)).order_by(*order))) \
        if keep_ids else []
    query = (query or "").strip()[:320]
    if query:
        needle = text.like_pattern(query.lower())
        where.append(or_(func.lower(Member.email).like(needle, escape="\\"),
                         func.lower(Member.name).like(needle, escape="\\")))
    if kept:
        where.append(Member.id.not_in([m.id for m in kept]))
    total = session.scalar(select(func.count(Member.id)).where(*where)) or 0
    items = list(session.scalars(select(Member).where(*where).order_by(*order).limit(limit)))
    return kept, Page(items=items, total=total, page=1, limit=limit)


# --- changing groups ---------------------------------------------------------------------------

def _name_taken(session: Session, customer: Customer, name: str, but=None) -> bool:
    where = [UserGroup.customer_id == customer.id, func.lower(UserGroup.name) == name.lower()]
    if but is not None:
        where.append(UserGroup.id != but)
    return session.scalar(select(UserGroup.id).where(*where).limit(1)) is not None


def _record(session, actor, customer, group, action, *, before=None, after=None):
    activity.record(session, actor, customer, action, subject_type="user_group", subject_id=group.id,
                    subject_label=group.name, before=before, after=after)


def create_group(session: Session, actor: Actor, customer: Customer, *, name, policies=None) -> UserGroup:
    """Rules: managers only (17); a unique name of 1-256 characters, any case, and at most
    GROUPS_MAX groups per team (18); under the customer lock (8); recorded (23)."""
    name, policies = clean_name(name), clean_policies(policies)
    access.begin_mutation(session, actor, customer)
    if _name_taken(session, customer, name):
        raise RuleViolation(f"A group named {name!r} already exists in this team.", field="name")
    count = session.scalar(select(func.count(UserGroup.id)).where(UserGroup.customer_id == customer.id))
    if count >= GROUPS_MAX:
        raise RuleViolation(f"A team can have at most {GROUPS_MAX} groups. Delete one first.", field="name")
    group = UserGroup(customer_id=customer.id, customer=customer, name=name, policies=policies)
    session.add(group)
    session.flush()
    _record(session, actor, customer, group, "group.created",
            after={"name": name, "policies": len(policies)})
    return group


def update_group(session: Session, actor: Actor, customer: Customer, group_id, *, name=UNSET,
                 policies=UNSET) -> UserGroup:
    """Rename a group and/or replace its policies (rules 17, 18, 8, 23). Unchanged values write
    nothing."""
    new_name = clean_name(name) if name is not UNSET and name is not None else None
    new_policies = clean_policies(policies) if policies is not UNSET and policies is not None else None
    access.begin_mutation(session, actor, customer)
    group = get_group(session, customer, group_id)
    if new_name is not None and new_name != group.name:
        if _name_taken(session, customer, new_name, but=group.id):
            raise RuleViolation(f"A group named {new_name!r} already exists in this team.", field="name")
        before = group.name
        group.name = new_name
        session.flush()
        _record(session, actor, customer, group, "group.renamed", before={"name": before},
                after={"name": new_name})
    if new_policies is not None and new_policies != (group.policies or []):
        before = len(group.policies or [])
        group.policies = new_policies
        group.modified_at = utcnow()
        session.flush()
        _record(session, actor, customer, group, "group.policies_changed", before={"policies": before},
                after={"policies": len(new_policies)})
    return group


def rename_group(session: Session, actor: Actor, customer: Customer, group_id, name) -> UserGroup:
    return update_group(session, actor, customer, group_id, name=name)


def set_policies(session: Session, actor: Actor, customer: Customer, group_id, policies) -> UserGroup:
    return update_group(session, actor, customer, group_id, policies=policies)


def delete_group(session: Session, actor: Actor, customer: Customer, group_id) -> UserGroup:
    """Delete a group and its memberships, never the members (rule 21); recorded with the
    emails of those who lost it (23)."""
    access.begin_mutation(session, actor, customer)
    group = get_group(session, customer, group_id)
    emails = [m.email for m in _members_of(session, group)]
    session.execute(delete(UserGroupMember).where(UserGroupMember.group_id == group.id))
    _record(session, actor, customer, group, "group.deleted", before={"name": group.name},
            after={"members_removed": emails})
    session.delete(group)
    session.flush()
    return group


# --- changing who is in a group ----------------------------------------------------------------

def _members_of(session: Session, group: UserGroup) -> list[Member]:
    return list(session.scalars(
        select(Member).join(UserGroupMember, UserGroupMember.member_id == Member.id)
        .where(UserGroupMember.group_id == group.id).order_by(func.lower(Member.email))))


def _touch(group: UserGroup) -> None:
    group.modified_at = utcnow()


def add_members(session: Session, actor: Actor, customer: Customer, group_id, member_ids) -> list[Member]:
    """Add members to a group; returns the group's members that were asked for (all of them).

    Rules: managers only (17); every id must be a live member of this team, else nothing is
    added and the unknown ids are named (19, 404); someone already in the group is left as is
    (idempotent, 19); under the customer lock (8, 20); recorded with who was added (23)."""
    ids = _member_ids(member_ids)
    access.begin_mutation(session, actor, customer)
    group = get_group(session, customer, group_id)
    wanted = _live_members(session, customer, ids)
    present = set(session.scalars(select(UserGroupMember.member_id).where(
        UserGroupMember.group_id == group.id, UserGroupMember.member_id.in_([m.id for m in wanted]))))
    new = [m for m in wanted if m.id not in present]
    for m in new:
        session.add(UserGroupMember(group_id=group.id, member_id=m.id, member=m, added_by=actor.label[:400]))
    if new:
        _touch(group)
        session.flush()
        _record(session, actor, customer, group, "group.members_added",
                after={"members": [m.email for m in new]})
    return wanted


def replace_members(session: Session, actor: Actor, customer: Customer, group_id,
                    member_ids) -> list[Member]:
    """Make the group hold exactly these members, in one transaction (rule 20): all ids checked
    first (19), then the others removed and the new ones added, under the customer lock, so
    concurrent replacements and adds leave one of the requested sets. Recorded with who was
    added and who removed (23)."""
    ids = _member_ids(member_ids)
    access.begin_mutation(session, actor, customer)
    group = get_group(session, customer, group_id)
    wanted = _live_members(session, customer, ids)
    current = {m.id: m for m in _members_of(session, group)}
    keep = {m.id for m in wanted}
    gone = [m for mid, m in current.items() if mid not in keep]
    new = [m for m in wanted if m.id not in current]
    if gone:
        session.execute(delete(UserGroupMember).where(UserGroupMember.group_id == group.id,
                                                      UserGroupMember.member_id.in_([m.id for m in gone])))
    for m in new:
        session.add(UserGroupMember(group_id=group.id, member_id=m.id, member=m, added_by=actor.label[:400]))
    if gone or new:
        _touch(group)
        session.flush()
        _record(session, actor, customer, group, "group.members_replaced",
                after={"added": [m.email for m in new], "removed": sorted(m.email for m in gone)})
    return sorted(wanted, key=lambda m: m.email.lower())


def remove_member(session: Session, actor: Actor, customer: Customer, group_id, member_id) -> Member:
    """Take one member out of a group (they stay in the team); a member not in the group is not
    found. Rules 17, 8, 23."""
    access.begin_mutation(session, actor, customer)
    group = get_group(session, customer, group_id)
    mid = parse_id(member_id, "Member not found in this group.")
    row = session.scalar(select(UserGroupMember).where(UserGroupMember.group_id == group.id,
                                                       UserGroupMember.member_id == mid))
    if row is None:
        raise NotFound("Member not found in this group.")
    member = row.member
    session.delete(row)
    _touch(group)
    session.flush()
    _record(session, actor, customer, group, "group.members_removed", after={"members": [member.email]})
    return member


def leave_all_groups(session: Session, actor: Actor, member: Member) -> int:
    """Rule 21: a member taken off the team leaves every group, in the caller's transaction
    (the caller holds the customer lock). Each group records who was removed (23)."""
    groups = list(session.scalars(
        select(UserGroup).join(UserGroupMember, UserGroupMember.group_id == UserGroup.id)
        .where(UserGroupMember.member_id == member.id).order_by(UserGroup.id)))
    if not groups:
        return 0
    session.execute(delete(UserGroupMember).where(UserGroupMember.member_id == member.id))
    for group in groups:
        _touch(group)
        _record(session, actor, member.customer, group, "group.members_removed",
                after={"members": [member.email], "reason": "left the team"})
    session.flush()
    return len(groups)
