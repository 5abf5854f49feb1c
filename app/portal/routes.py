"""The team page: list, search, add, edit, make owner and remove members.

Thin views: parse, call one service, commit once, render a page or a named block."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from flask import flash, g, request, url_for

from .. import text
from ..auth.session import member_required
from ..errors import NotFound, PortalError, RuleViolation
from ..errors_web import error_response
from ..extensions import db
from ..models import CustomerType, Role
from ..services import access, groups, members, seats
from ..services.access import Actor
from ..services.ids import parse_id
from ..services.paging import Page
from ..web import fragments, is_htmx, redirect_to, render
from . import bp
from .forms import AddMemberForm, EditMemberForm, TransferForm
from .team_rows import ROW_ICONS, member_rows

TEAM = "portal/team.html"
PAGE_SIZES = (10, 25, 50, 100)
DEFAULT_SIZE = 25
INLINE_FIELDS = {"email", "name"}  # service errors shown next to a field; others are a toast
MAKE_OWNER_ONLY = "Ownership moves only with Make owner, which asks you to confirm the new owner's email."
PAGE_MAX = 1_000_000  # beyond any real listing; keeps the OFFSET of a typed page number in 64 bits


def _actor() -> Actor:
    return Actor(member=g.member)


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _page(value) -> int:
    """A page number from a query string: 1 for none or nonsense, at most PAGE_MAX (a page past
    the end then shows the last one)."""
    return min(max(1, _int(value, 1)), PAGE_MAX)


def _filters(source) -> dict:
    """Search, role, page and page size from a query string, with safe defaults."""
    role = source.get("role", "")
    size = _int(source.get("size"), DEFAULT_SIZE)
    query = (source.get("q") or "").strip()[:320]
    refused = text.unsafe(query)
    return {
        "q": text.without_unsafe(query) if refused else query,
        "q_error": text.MESSAGE if refused else None,
        "role": role if role in {r.value for r in Role} else "",
        "group": _group_id(source.get("group")),
        "page": _page(source.get("page")),
        "size": size if size in PAGE_SIZES else DEFAULT_SIZE,
    }


def _group_id(value) -> str:
    """A group filter as the canonical dashed id, or "" for none or anything that is no id."""
    try:
        return str(parse_id((value or "").strip(), "")) if value else ""
    except NotFound:
        return ""


def _current_filters() -> dict:
    """The filters of the page the htmx request came from (its URL follows the search)."""
    try:
        current = urlsplit(request.headers.get("HX-Current-URL") or "")
    except ValueError:  # not a URL (a browser always sends one); the change is made already
        return _filters({})
    if current.path == url_for("portal.team"):
        return _filters({k: v[0] for k, v in parse_qs(current.query).items()})
    return _filters({})


def _team_context(filters: dict, block: str | None = None, **extra) -> dict:
    """What the team page shows, or only what one of its htmx blocks shows (`block`): the table
    needs no header counts, filter choices or add form; the counts need no listing."""
    context = {"filters": filters, "single": False, "editing_id": None, "edit_form": None}
    if block in (None, "member_stats"):
        context["summary"] = members.team_summary(db.session, _actor(), g.member.customer)
    if block != "member_stats":
        context.update(_listing_context(filters, rows=block != "member_summary"))
    if block is None:
        context.update(page_sizes=PAGE_SIZES, roles=list(Role), viewer=g.member,
                       add_form=AddMemberForm(formdata=None))
    context.update(extra)
    return context


def _listing_context(filters: dict, rows: bool) -> dict:
    page = members.list_members(
        db.session, _actor(), g.member.customer, query=filters["q"],
        role=filters["role"] or None, group_id=filters["group"] or None, page=filters["page"],
        limit=filters["size"],
    )
    context = {"page": page, "row_icons": ROW_ICONS}
    ids = [m.id for m in page.items] if rows else []
    if rows or filters["group"]:  # the group's name is in the summary line
        choices, member_groups = groups.page_groups(db.session, _actor(), g.member.customer, ids)
        context.update(group_choices=choices, member_groups=member_groups, group_name=next(
            (c.name for c in choices if str(c.id) == filters["group"]), None))
    if rows:
        seat_status, last_sign_in = members.row_facts(db.session, ids)
        context.update(last_sign_in=last_sign_in, rows=member_rows(
            g.member, page.items, seat_status, last_sign_in, context["member_groups"]))
    return context


def _row_context(member, **extra) -> dict:
    seat_status, last_sign_in = members.row_facts(db.session, [member.id])
    member_groups = groups.groups_for_members(db.session, [member.id])
    context = {
        "row": member_rows(g.member, [member], seat_status, last_sign_in, member_groups)[0],
        "row_icons": ROW_ICONS,
        "last_sign_in": last_sign_in,
        "member_groups": member_groups,
        "viewer": g.member,
        "editing_id": None,
        "edit_form": None,
    }
    context.update(extra)
    return context


def _refused(exc: PortalError):
    """A rule the page would not have offered (forged or stale): a toast, or a flash and 303."""
    if is_htmx():
        return error_response(exc.status, exc.message)
    db.session.rollback()
    return redirect_to(url_for("portal.team"), exc.message, "error")


def _inline_or_refused(form, exc: PortalError):
    """Attach a service error to its form field (the caller re-renders the form), or refuse."""
    if exc.field in INLINE_FIELDS and exc.field in form:
        db.session.rollback()
        form[exc.field].errors.append(exc.message)
        return None
    if isinstance(exc, RuleViolation):
        return _refused(exc)
    raise exc


@bp.get("/")
@member_required
def home():
    """Owners and billing managers of a team land on the team page; others on their membership."""
    manages = g.member.is_manager and g.member.customer.type is CustomerType.TEAM
    return redirect_to(url_for("portal.team" if manages else "portal.me"))


@bp.get("/team")
@member_required
def team():
    """The team table with search, role filter and pages; htmx asks for the table alone."""
    block = {"member-table": "member_table", "member-summary": "member_summary",
             "member-stats": "member_stats"}.get(request.headers.get("HX-Target") or "")
    if not is_htmx():
        block = None  # a history restore asks for the whole page
    context = _team_context(_filters(request.args), block)
    return render(TEAM, block, status=422 if context["filters"]["q_error"] else 200, **context)


@bp.post("/team/members")
@member_required
def add_member():
    """Add a person: a new row and a cleared form, an inline error, or a pointer to the existing row."""
    access.ensure_can_manage(_actor(), g.member.customer)  # before the form: its errors are for managers
    form = AddMemberForm()
    if form.validate_on_submit():
        try:
            member, created = members.add_member(
                db.session, _actor(), g.member.customer, email=form.email.data,
                name=form.name.data, role=form.role.data or "member",
            )
        except PortalError as exc:
            refused = _inline_or_refused(form, exc)
            if refused is not None:
                return refused
        else:
            db.session.commit()
            return _added(form, member, created)
    if is_htmx():
        return render(TEAM, "add_member_form", status=422, add_form=form, existing=None)
    return render(TEAM, status=422, **_team_context(_filters({}), add_form=form))


def _added(form: AddMemberForm, member, created: bool):
    where = url_for("portal.team", q=member.email) + f"#member-{member.id}"
    if not created:
        message = f"{member.email} is already on the team."
        if not is_htmx():
            return redirect_to(where, message, "info")
        return render(TEAM, "add_member_form", add_form=form, existing=member, existing_url=where)
    message = f"Added {member.display_name}."
    if not is_htmx():
        return redirect_to(url_for("portal.team"), message)
    flash(message, "success")
    return fragments(TEAM, ["add_member_form", "new_row_oob"], trigger="members-changed",
                     add_form=AddMemberForm(formdata=None), existing=None, refocus=True,
                     **_row_context(member, fresh=True))


@bp.get("/team/members/<member_id>/row")
@member_required
def show_row(member_id):
    """One row in view mode; without JS, the team page."""
    access.ensure_can_manage(_actor(), g.member.customer)
    member = members.get_member(db.session, g.member.customer, member_id)
    if not is_htmx():
        return redirect_to(url_for("portal.team"))
    return render(TEAM, "member_row", **_row_context(member))


@bp.get("/team/members/<member_id>/edit")
@member_required
def edit_member(member_id):
    """The row as a form; without JS, a page with that row alone."""
    access.ensure_can_manage(_actor(), g.member.customer)
    member = members.get_member(db.session, g.member.customer, member_id)
    form = EditMemberForm(formdata=None, name=member.name, role=member.role.value)
    return _edit_response(member, form, 200)


def _edit_response(member, form: EditMemberForm, status: int):
    if is_htmx():
        return render(TEAM, "member_row", status=status,
                      **_row_context(member, editing_id=member.id, edit_form=form))
    page = Page(items=[member], total=1, page=1, limit=1)
    context = _team_context(_filters({}))
    row = _row_context(member)
    context.update(page=page, rows=[row["row"]],
                   last_sign_in=row["last_sign_in"], member_groups=row["member_groups"],
                   editing_id=member.id, edit_form=form, single=True)
    return render(TEAM, status=status, **context)


@bp.post("/team/members/<member_id>")
@member_required
def update_member(member_id):
    """Save a name and role edit; errors on the name stay inline, rule refusals are a toast."""
    access.ensure_can_manage(_actor(), g.member.customer)
    member = members.get_member(db.session, g.member.customer, member_id)
    form = EditMemberForm()
    if form.validate_on_submit():
        if form.role.data == Role.OWNER.value:
            # The row offers member and billing manager; "owner" here (forged, or a stale page)
            # would move ownership without the typed confirmation of Make owner.
            return _refused(RuleViolation(MAKE_OWNER_ONLY, field="role"))
        try:
            member = members.update_member(
                db.session, _actor(), g.member.customer, member.id,
                name=form.name.data, role=form.role.data or None,
            )
        except PortalError as exc:
            refused = _inline_or_refused(form, exc)
            if refused is not None:
                return refused
        else:
            db.session.commit()
            message = f"Saved {member.display_name}."
            if not is_htmx():
                return redirect_to(url_for("portal.team"), message)
            flash(message, "success")
            return render(TEAM, "member_row", **_row_context(member, changed=True, focus_menu=True))
    member = members.get_member(db.session, g.member.customer, member_id)
    return _edit_response(member, form, 422)


@bp.get("/team/members/<member_id>/owner")
@member_required
def confirm_owner(member_id):
    """Ask before transferring ownership: a dialog for htmx, a page without JS."""
    return _confirm(member_id, "make_owner")


@bp.get("/team/members/<member_id>/remove")
@member_required
def confirm_remove(member_id):
    """Ask before removing someone: a dialog for htmx, a page without JS."""
    return _confirm(member_id, "remove")


def _confirm(member_id, action: str, *, transfer_form=None, status: int = 200):
    access.ensure_can_manage(_actor(), g.member.customer)
    member = members.get_member(db.session, g.member.customer, member_id)
    facts = {"confirm": action, "target": member, "viewer": g.member, "transfer_form": transfer_form}
    if action == "make_owner":
        facts["never_signed_in"] = member.accepted_at is None  # still "Invited" (rule 22)
    else:
        facts["seats_held"] = seats.live_seat_count(db.session, member)
    if is_htmx():
        response = render(TEAM, "confirm_dialog", status=status, **facts)
        if status >= 400:  # a mistyped email: the dialog again, with its error
            response.headers["HX-Retarget"] = "#dialog-slot"
            response.headers["HX-Reswap"] = "innerHTML"
        return response
    return render(TEAM, status=status, **_team_context(_filters({}), single=True, **facts))


@bp.post("/team/members/<member_id>/owner")
@member_required
def make_owner(member_id):
    """Transfer ownership once the new owner's email is typed; the table comes back with
    everyone's new controls."""
    access.ensure_can_manage(_actor(), g.member.customer)
    target = members.get_member(db.session, g.member.customer, member_id)
    form = TransferForm(expected_email=target.email)
    # Only a transfer the page would offer is asked to be confirmed; any other gets the
    # service's own refusal below.
    offered = "make_owner" in members.allowed_actions(g.member, target)
    if offered and not form.validate_on_submit():
        return _confirm(member_id, "make_owner", transfer_form=form, status=422)
    already = target.role is Role.OWNER  # yourself, or a double submit: the service changes nothing
    try:
        member = members.transfer_ownership(db.session, _actor(), g.member.customer, member_id)
    except RuleViolation as exc:
        return _refused(exc)
    db.session.commit()
    message, category = (f"{member.display_name} is already the owner.", "info") if already else \
        (f"{member.display_name} is now the owner. You are a billing manager.", "success")
    if not is_htmx():
        return redirect_to(url_for("portal.team"), message, category)
    flash(message, category)
    response = render(TEAM, "member_table", **_team_context(_current_filters(), "member_table",
                                                             focus_id=member.id))
    response.headers["HX-Retarget"] = "#member-table"
    response.headers["HX-Reswap"] = "outerHTML"
    return response


@bp.route("/team/members/<member_id>", methods=["DELETE"])
@bp.post("/team/members/<member_id>/remove")
@member_required
def remove_member(member_id):
    """Remove a person: the row goes away, their seats are revoked and their sessions end now."""
    try:
        member = members.remove_member(db.session, _actor(), g.member.customer, member_id)
    except RuleViolation as exc:
        return _refused(exc)
    db.session.commit()
    message = f"Removed {member.display_name}. Their seats are revoked and they are signed out."
    if not is_htmx():
        return redirect_to(url_for("portal.team"), message)
    flash(message, "success")
    return fragments(trigger="members-changed, seats-changed")
