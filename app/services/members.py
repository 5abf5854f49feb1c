"""Team members (DESIGN.md rules 1-8). Every function takes the acting member or token explicitly."""
from __future__ import annotations

import functools
import itertools
import secrets
import uuid
from datetime import timedelta

from sqlalchemy import (
    Integer,
    String,
    bindparam,
    cast,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session, lazyload

from .. import text
from ..errors import NotFound, NotPermitted, RuleViolation
from ..models import (
    Customer,
    CustomerType,
    Member,
    PortalSession,
    Role,
    Seat,
    SeatStatus,
    Subscription,
    UTCDateTime,
    add_to_member_count,
    utcnow,
)
from . import activity, groups, seats, sessions, webhooks
from .access import (  # noqa: F401 - re-exported: callers and tests know them here
    MEMBER_ANSWER_COLUMNS as ANSWER_COLUMNS,
    TEAM_PLAN_REQUIRED,
    Actor,
    begin_mutation,
    ensure_can_manage,
    find_live_member,
    get_member,
    lock_customer,
)
from .paging import Page, within
from .signin import normalize_email

NAME_MAX = 256
UNSET = object()

def parse_role(value) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise RuleViolation(
            f"Unknown role {value!r}: choose owner, billing_manager or member.", field="role"
        ) from None


def allowed_actions(viewer: Member, target: Member) -> frozenset[str]:
    """What a page offers `viewer` on `target`'s row: a subset of edit_name, edit_role, remove,
    make_owner. Display only; the mutations below enforce the same rules (1, 3, 4, 5)."""
    if not viewer.is_manager or viewer.customer_id != target.customer_id:
        return frozenset()
    actions = {"edit_name"}
    if target.id != viewer.id and target.role is not Role.OWNER:
        actions |= {"edit_role", "remove"}
        if viewer.role is Role.OWNER:
            actions.add("make_owner")
    return frozenset(actions)


def _clean_name(name: str | None) -> str | None:
    name = (name or "").strip()
    if text.unsafe(name):
        raise RuleViolation(text.MESSAGE, field="name")
    if len(name) > NAME_MAX:
        raise RuleViolation(f"The name can be at most {NAME_MAX} characters.", field="name")
    return name or None


def _snapshot(member: Member) -> dict:
    return {"email": member.email, "name": member.name, "role": member.role.value}


def get_member_by_external_id(session: Session, customer: Customer, external_id: str) -> Member:
    member = session.scalar(
        select(Member).where(
            Member.customer_id == customer.id,
            Member.external_id == external_id,
            Member.deleted_at.is_(None),
        )
    )
    if member is None:
        raise NotFound("Member not found.")
    return member


SEARCH_COUNT_MAX = 1000  # a search counts its matches up to here, then says "more than"


def list_members(
    session: Session,
    actor: Actor,
    customer: Customer,
    *,
    query: str | None = None,
    role: Role | None = None,
    group_id=None,
    page: int = 1,
    limit: int = 25,
    newest_first: bool = False,
    rows: bool = False,
) -> Page:
    """One page of live members in a stable order (created_at, then id). With `rows`, the page's
    items are Core rows of ANSWER_COLUMNS (what the API answers) instead of Member instances.

    Rule 1. Two queries whatever the size of the team; a page past the end shows the last one.
    The search matches a part of the name or email, any case; `%` and `_` are plain characters.

    Flat with size (issue 14): the total comes from customers.member_count (no filter) or the
    role index (a role), and the page's ids from the live-member index alone
    (ix_members_live_page / _role: OFFSET walks index entries, not rows) walked from the nearer
    end, so the last page costs what the first does; then those rows are loaded by id. A
    search counts exactly up to SEARCH_COUNT_MAX, then says "more than" (`Page.capped`)."""
    ensure_can_manage(actor, customer)
    page, limit = max(1, page), max(1, min(limit, 100))
    where = [Member.customer_id == customer.id, Member.deleted_at.is_(None)]
    query = (query or "").strip()[:320]
    if query:
        # lower(column) LIKE: the expression of the pg_trgm indexes of migration 0007.
        needle = text.like_pattern(query.lower())
        where.append(or_(func.lower(Member.email).like(needle, escape="\\"),
                         func.lower(Member.name).like(needle, escape="\\")))
    if role is not None:
        role = parse_role(role)
        where.append(Member.role == role)
    if group_id is not None:  # members of that group (a group of another team matches no one)
        where.append(groups.in_group(group_id))
    if len(where) > 2 + (role is not None):  # a search or a group: the bounded-count path
        return _search_page(session, where, newest_first, page, limit, rows)
    total = _total(session, customer, role)
    page = within(page, total, limit)
    return Page(items=_indexed_page(session, customer, role, newest_first, total, page, limit,
                                    rows),
                total=total, page=page, limit=limit)


def _search_page(session: Session, where: list, newest_first: bool, page: int, limit: int,
                 rows: bool = False) -> Page:
    """A search (or any filter but the role) in two queries: the matches' (created_at, id), up
    to SEARCH_COUNT_MAX + 1 and in no order, so PostgreSQL can take them from the trigram
    indexes (an ORDER BY … LIMIT makes it walk the team in order instead, and a selective search
    then reads every row); that is the exact count, sorted here into the page's ids. Beyond
    the bound the count is "more than SEARCH_COUNT_MAX" and the page is walked in order, which
    is quick for a search matching that many."""
    found = session.execute(select(Member.created_at, Member.id).where(*where)
                            .limit(SEARCH_COUNT_MAX + 1)).all()
    if len(found) > SEARCH_COUNT_MAX:
        page = within(page, SEARCH_COUNT_MAX, limit)
        return Page(items=_page_of(session, where, newest_first, None, page, limit, rows),
                    total=SEARCH_COUNT_MAX, page=page, limit=limit, capped=True)
    page = within(page, len(found), limit)
    found.sort(reverse=newest_first)  # (created_at, id): the order of _order()
    ids = [row.id for row in found[(page - 1) * limit:page * limit]]
    if not ids:
        items = []
    elif rows:
        items = session.execute(select(*ANSWER_COLUMNS).where(Member.id.in_(ids))
                                .order_by(*_order(newest_first))).all()
    else:
        items = list(session.scalars(select(Member).where(Member.id.in_(ids))
                                     .options(lazyload(Member.customer))  # the caller holds it
                                     .order_by(*_order(newest_first))))
    return Page(items=items, total=len(found), page=page, limit=limit)


# The unfiltered listing's statements (all members, or one role) are built once and run with
# bound values: building and hashing them cost more than SQLite takes to run them.
_TEAM_SIZE = select(Customer.member_count).where(Customer.id == bindparam("customer_id"))
_TEAM_COUNT = _TEAM_SIZE.scalar_subquery()
_LIVE = (Member.customer_id == bindparam("customer_id"), Member.deleted_at.is_(None))
# Most of the team has the role MEMBER: everyone but the (few) owners and managers.
_TOTAL_MEMBERS = select(_TEAM_COUNT - select(func.count()).where(*_LIVE, Member.role.in_(
    [r for r in Role if r is not Role.MEMBER])).scalar_subquery())
_TOTAL_OF_ROLE = select(func.count()).where(*_LIVE, Member.role == bindparam("role"))


def _total(session: Session, customer: Customer, role: Role | None) -> int:
    """How many live members (of a role), in one query that does not scan the team. All of them
    is the customer row's member_count, as read in this request (models.py expires it whenever
    a flush changes it, so it is then read again)."""
    if role is None:
        if session.autoflush and (session.new or session.dirty or session.deleted):
            session.flush()  # what a count query would have flushed first
        return customer.member_count or 0
    if role is Role.MEMBER:
        return max(0, session.scalar(_TOTAL_MEMBERS, {"customer_id": customer.id}) or 0)
    return session.scalar(_TOTAL_OF_ROLE, {"customer_id": customer.id, "role": role}) or 0


@functools.cache
def _indexed_page_statement(by_role: bool, walk_newest_first: bool, newest_first: bool,
                            rows: bool):
    """_page_of's statement for the unfiltered listing (or one role), with bound values."""
    where = [*_LIVE, Member.role == bindparam("role")] if by_role else list(_LIVE)
    ids = (select(Member.id).where(*where).order_by(*_order(walk_newest_first))
           .offset(bindparam("offset", type_=Integer)).limit(bindparam("size", type_=Integer))
           .subquery())
    return _by_ids(ids, newest_first, rows)


def _by_ids(ids, newest_first: bool, rows: bool):
    """The members of the subquery `ids` in the listing's order: Core rows of ANSWER_COLUMNS
    (`rows`) or Member instances (a deferred join)."""
    if rows:
        return select(*ANSWER_COLUMNS).join(ids, Member.id == ids.c.id).order_by(
            *_order(newest_first))
    return (select(Member).join(ids, Member.id == ids.c.id)
            .options(lazyload(Member.customer))  # the caller holds it
            .order_by(*_order(newest_first)))


def _indexed_page(session: Session, customer: Customer, role: Role | None, newest_first: bool,
                  total: int, page: int, limit: int, rows: bool) -> list:
    """_page_of for the unfiltered listing (or one role), with a statement built once."""
    offset, size, walk = _walk(newest_first, total, page, limit)
    if size == 0:
        return []
    statement = _indexed_page_statement(role is not None, walk, newest_first, rows)
    params = {"customer_id": customer.id, "offset": offset, "size": size}
    if role is not None:
        params["role"] = role
    if rows:
        return session.execute(statement, params).all()
    return list(session.scalars(statement, params))


def _walk(newest_first: bool, total: int | None, page: int, limit: int) -> tuple[int, int, bool]:
    """(offset, size, order) of a page's ids, walked from the nearer end of the listing (so the
    last page costs what the first does); order is newest_first or its reverse."""
    offset, size = (page - 1) * limit, limit
    if total is not None and offset > total - offset - limit:  # nearer the end: walk backwards
        size = max(0, min(limit, total - offset))
        return max(0, total - offset - size), size, not newest_first
    return offset, size, newest_first


def _order(newest_first: bool) -> tuple:
    if newest_first:
        return Member.created_at.desc(), Member.id.desc()
    return Member.created_at, Member.id


def _page_of(session: Session, where: list, newest_first: bool, total: int | None, page: int,
             limit: int, rows: bool = False) -> list:
    """The members of one page: their ids from the index alone, walked from the nearer end
    (so the last page costs what the first does), then the rows by id (a deferred join)."""
    offset, size, walk = _walk(newest_first, total, page, limit)
    if size == 0:
        return []
    ids = select(Member.id).where(*where).order_by(*_order(walk)).offset(offset).limit(size).subquery()
    statement = _by_ids(ids, newest_first, rows)
    return session.execute(statement).all() if rows else list(session.scalars(statement))


def team_summary(session: Session, actor: Actor, customer: Customer) -> dict:
    """Counts for the team page's header: live members, billing managers and pending
    invitations. Rule 1. One query whatever the size of the team: the member count is
    customers.member_count, the billing managers a range of ix_members_live_role."""
    ensure_can_manage(actor, customer)
    row = session.execute(_SUMMARY, {"customer_id": customer.id}).one()
    return {"members": row[0], "billing_managers": row[1], "pending_invitations": row[2]}


_SUMMARY = select(  # team_summary's one query, built once
    _TEAM_COUNT,
    select(func.count()).where(*_LIVE, Member.role == Role.BILLING_MANAGER).scalar_subquery(),
    select(func.count(Seat.id)).join(Subscription, Seat.subscription_id == Subscription.id)
    .where(Subscription.customer_id == bindparam("customer_id"), Seat.status == SeatStatus.PENDING)
    .scalar_subquery(),
)


def row_facts(session: Session, member_ids: list) -> tuple[dict, dict]:
    """What the team page shows beside each member, in ONE query for a whole page:
    ({member_id: 'claimed' | 'pending'} for their live seats, {member_id: last sign-in}), the
    last sign-in being the newest session they opened themselves (not one the vendor minted)."""
    if not member_ids:
        return {}, {}
    seat_status: dict = {}
    last_sign_in: dict = {}
    for member_id, state, at in session.execute(_ROW_FACTS, {"ids": list(member_ids)}).all():
        if state == "signin":
            last_sign_in[member_id] = at
        elif seat_status.get(member_id) != SeatStatus.CLAIMED.value:
            seat_status[member_id] = state
    return seat_status, last_sign_in


_ROW_FACTS = union_all(  # row_facts' one query, built once
    select(Seat.member_id.label("member_id"), type_coerce(Seat.status, String).label("state"),
           cast(null(), UTCDateTime).label("at")).where(
        Seat.member_id.in_(bindparam("ids", expanding=True)), Seat.status.in_(seats.LIVE)),
    select(PortalSession.member_id, literal("signin", String),
           func.max(PortalSession.created_at)).where(
        PortalSession.member_id.in_(bindparam("ids", expanding=True)), PortalSession.kind != "api"
    ).group_by(PortalSession.member_id),
)


def add_member(
    session: Session,
    actor: Actor,
    customer: Customer,
    *,
    email: str,
    name: str | None = None,
    role: Role = Role.MEMBER,
    external_id: str | None = None,
) -> tuple[Member, bool]:
    """Add a person to the team; returns (member, created).

    Rules: managers of team customers only (1); nobody is added as owner (3); an email that is
    already a live member (any case) returns that member unchanged (6); the external id is
    unique in the team; the customer row is locked first (8). Announces member.created (25)."""
    ensure_can_manage(actor, customer)
    role = parse_role(role)
    if role is Role.OWNER:
        raise RuleViolation(
            "Cannot add a member as owner. There must be exactly one owner; "
            "add them, then transfer ownership.",
            field="role",
        )
    normalized = normalize_email(email)
    name = _clean_name(name)
    external_id = (external_id or "").strip() or None
    begin_mutation(session, actor, customer)
    existing = find_live_member(session, customer, normalized)
    if existing is not None:
        return existing, False
    if external_id and session.scalar(
        select(Member.id).where(
            Member.customer_id == customer.id,
            Member.external_id == external_id,
            Member.deleted_at.is_(None),
        )
    ):
        raise RuleViolation("A member with this external id already exists.", field="external_id")
    member = Member(customer_id=customer.id, customer=customer, email=email.strip(), name=name,
                    role=role, external_id=external_id)
    session.add(member)
    session.flush()
    activity.record(session, actor, customer, "member.added", subject_type="member",
                    subject_id=member.id, subject_label=member.email, after=_snapshot(member))
    webhooks.announce(session, customer.organization, "member.created", member)
    return member, True


def update_member(
    session: Session,
    actor: Actor,
    customer: Customer,
    member_id,
    *,
    name=UNSET,
    role=UNSET,
    email=UNSET,
) -> Member:
    """Edit a member's name, role or email.

    Rules: managers only (1); making someone owner is a transfer, done by the owner or the
    vendor, and the old owner becomes billing manager (3); you cannot change your own role (4);
    the owner cannot be demoted (5); emails stay unique in the team; the customer is locked (8).
    Every rule is checked before anything changes. Announces member.updated, for both members
    in a transfer (25)."""
    begin_mutation(session, actor, customer)
    member = get_member(session, customer, member_id)
    before = _snapshot(member)
    new_role = parse_role(role) if role is not UNSET and role is not None else None
    if new_role is member.role:
        new_role = None
    if new_role is not None:
        if actor.member is not None and actor.member.id == member.id:
            raise RuleViolation("You cannot change your own role.", field="id")
        if new_role is Role.OWNER:
            if actor.member is not None and actor.member.role is not Role.OWNER:
                raise RuleViolation("Only the owner can transfer ownership.", field="role")
        elif member.role is Role.OWNER:
            raise RuleViolation(
                "The owner cannot be demoted. Make someone else owner first.", field="role"
            )
    new_name = _clean_name(name) if name is not UNSET else member.name
    new_email = None
    if email is not UNSET and email is not None:
        clash = find_live_member(session, customer, normalize_email(email))
        if clash is not None and clash.id != member.id:
            raise RuleViolation("A member with this email already exists for this customer.",
                                field="email")
        new_email = email.strip()

    member.name = new_name
    if new_email is not None and new_email != member.email:
        member.email = new_email
        seats.follow_member_email(session, member)
    if new_role is Role.OWNER:
        _transfer(session, actor, customer, member)
    elif new_role is not None:
        member.role = new_role
    session.flush()
    after = _snapshot(member)
    # A transfer has its own event; this one records the other fields that changed.
    changed = [k for k in after if before[k] != after[k] and not (k == "role" and new_role is Role.OWNER)]
    if changed:
        activity.record(session, actor, customer, "member.updated", subject_type="member",
                        subject_id=member.id, subject_label=member.email,
                        before={k: before[k] for k in changed}, after={k: after[k] for k in changed})
    if changed or new_role is Role.OWNER:
        webhooks.announce(session, customer.organization, "member.updated", member)
    return member


def transfer_ownership(session: Session, actor: Actor, customer: Customer, member_id) -> Member:
    """Make another member owner (rule 3); the old owner becomes billing manager."""
    return update_member(session, actor, customer, member_id, role=Role.OWNER)


def _transfer(session: Session, actor: Actor, customer: Customer, member: Member) -> None:
    """Rule 3 itself, under the customer lock: demote the owner, then promote `member`."""
    old_role = member.role
    old_owner = session.scalar(
        select(Member)
        .where(Member.customer_id == customer.id, Member.role == Role.OWNER, Member.deleted_at.is_(None))
        .execution_options(populate_existing=True)
    )
    # Demote first: the one-live-owner index is checked row by row.
    if old_owner is not None:
        old_owner.role = Role.BILLING_MANAGER
        session.flush()
        webhooks.announce(session, customer.organization, "member.updated", old_owner)
    member.role = Role.OWNER
    session.flush()
    activity.record(session, actor, customer, "ownership.transferred", subject_type="member",
                    subject_id=member.id, subject_label=member.email,
                    before={"owner": old_owner.email if old_owner else None, "role": old_role.value},
                    after={"owner": member.email,
                           "previous_owner_role": Role.BILLING_MANAGER.value if old_owner else None})


def remove_member(session: Session, actor: Actor, customer: Customer, member_id) -> Member:
    """Remove a member: soft delete, revoke their seats, end their sessions (rule 7).

    Rules: managers only (1); not yourself (4); not the owner (5); the customer is locked (8).
    Announces customer_seat.revoked for each seat, then member.deleted (25)."""
    begin_mutation(session, actor, customer)
    member = get_member(session, customer, member_id)
    if actor.member is not None and actor.member.id == member.id:
        raise RuleViolation("You cannot remove yourself from the team.", field="id")
    if member.role is Role.OWNER:
        raise RuleViolation("The owner cannot be removed. Transfer ownership first.", field="id")
    _take_off_team(session, actor, customer, member, "member.removed")
    return member


def _take_off_team(session: Session, actor: Actor, customer: Customer, member: Member,
                   action: str) -> None:
    """Rule 7, for a removal and for leaving: soft delete, revoke the seats, end the sessions,
    and record it (the caller holds the customer lock)."""
    member.deleted_at = utcnow()
    revoked = seats.revoke_member_seats(session, member)
    ended = sessions.end_member_sessions(session, member)
    groups.leave_all_groups(session, actor, member)  # rule 21
    session.flush()
    activity.record(session, actor, customer, action, subject_type="member",
                    subject_id=member.id, subject_label=member.email, before=_snapshot(member),
                    after={"seats_revoked": revoked, "sessions_ended": ended})
    webhooks.announce(session, customer.organization, "member.deleted", member)


def rename_self(session: Session, member: Member, name: str | None) -> Member:
    """Any member edits their own name (rule 4), whatever their role; the customer is locked (8)."""
    lock_customer(session, member.customer)
    session.refresh(member)
    if member.deleted_at is not None:
        raise NotPermitted("You are no longer a member of this team.")
    before, new_name = member.name, _clean_name(name)
    if new_name != before:
        member.name = new_name
        session.flush()
        activity.record(session, Actor(member=member), member.customer, "member.updated",
                        subject_type="member", subject_id=member.id, subject_label=member.email,
                        before={"name": before}, after={"name": new_name})
        webhooks.announce(session, member.customer.organization, "member.updated", member)
    return member


def leave_team(session: Session, member: Member) -> Member:
    """A member leaves their team: as a removal, their seats are revoked and their sessions end
    (rule 7). The owner cannot leave (rule 5: transfer first); the customer is locked (8)."""
    lock_customer(session, member.customer)
    session.refresh(member)
    if member.deleted_at is not None:
        raise NotPermitted("You are no longer a member of this team.")
    if member.role is Role.OWNER:
        raise RuleViolation("The owner cannot leave the team. Make someone else owner first.", field="id")
    _take_off_team(session, Actor(member=member), member.customer, member, "member.left")
    return member


FILL_MAX = 100_000
FILL_BATCH = 5000
FILL_COLUMNS = ("id", "customer_id", "role", "email", "name", "created_at")


def _copy_members(connection, rows) -> None:
    """PostgreSQL: the rows through COPY … FROM STDIN (psycopg's `cursor.copy`), in the
    session's transaction. An executemany sends one INSERT per row (psycopg pipelines them,
    but each is still parsed, planned and executed: ~10 s for 100,000 on this machine); COPY
    streams them into one statement."""
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(f"COPY members ({', '.join(FILL_COLUMNS)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row((row["id"], row["customer_id"], row["role"].value, row["email"],
                            row["name"], row["created_at"]))


def fill_synthetic(session: Session, actor: Actor, customer: Customer, count: int) -> int:
    """Operator tool for load tests and demos: add `count` members (role member) in bulk.

    Emails are `member-<run>-<n>@fill.example`, unique per run, so they never clash with
    real members or an earlier fill. Team customers only (1); the customer is locked (8)."""
    if not isinstance(count, int) or not 1 <= count <= FILL_MAX:
        raise RuleViolation(f"The count must be a whole number from 1 to {FILL_MAX}.", field="count")
    if customer.type is not CustomerType.TEAM:
        raise NotPermitted(TEAM_PLAN_REQUIRED)
    lock_customer(session, customer)
    run, start = secrets.token_hex(4), utcnow()
    rows = ({"id": uuid.uuid4(), "customer_id": customer.id, "role": Role.MEMBER,
             "email": f"member-{run}-{n:06d}@fill.example", "name": f"Synthetic Member {n}",
             "created_at": start + timedelta(microseconds=n)} for n in range(1, count + 1))
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        _copy_members(connection, rows)
    else:  # SQLite's executemany is one prepared statement stepped per row, in C
        while batch := list(itertools.islice(rows, FILL_BATCH)):
            session.execute(insert(Member), batch)
    add_to_member_count(session.connection(), customer.id, count)  # a bulk insert skips the ORM hook
    session.expire(customer, ["member_count"])
    activity.record(session, actor, customer, "team.filled", subject_type="customer",
                    subject_id=customer.id, subject_label=customer.name or str(customer.id),
                    after={"members_added": count, "emails": f"member-{run}-*@fill.example"})
    session.flush()
    return count
