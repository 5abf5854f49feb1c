"""The Groups pages: a team's user groups, and one group's members with an add-members picker.

Thin views, as on the team page: parse, call one groups-service function, commit once, then
answer with the page (303 + flash without JavaScript) or a named block of it for htmx. The
service enforces the rules (17-23): managers only, another team's ids are not found."""
from __future__ import annotations

from flask import flash, g, request, url_for

from .. import text
from ..auth.session import member_required
from ..errors import PortalError, RuleViolation
from ..errors_web import error_response
from ..extensions import db
from ..services import groups
from ..services.access import Actor, ensure_can_manage
from ..services.paging import Page, within
from ..web import fragments, is_htmx, redirect_to, render
from . import bp
from .forms import AddToGroupForm, GroupForm
from .routes import PAGE_SIZES, _int

LIST = "portal/groups.html"
GROUP = "portal/group.html"
GROUPS_PER_PAGE = 25
DEFAULT_SIZE = 25
PICKER_SIZE = 10
CHANGED = "group-changed"


def _actor() -> Actor:
    return Actor(member=g.member)


def _search(value, limit: int = 320) -> tuple[str, str | None]:
    """A search text and, when it holds refused characters, the message saying so."""
    value = (value or "").strip()[:limit]
    if text.unsafe(value):
        return text.without_unsafe(value), text.MESSAGE
    return value, None


def _refused(exc: PortalError, back: str):
    """A rule the page would not have offered (stale or forged): a toast, or a flash and 303."""
    if is_htmx():
        return error_response(exc.status, exc.message)
    db.session.rollback()
    return redirect_to(back, exc.message, "error")


# --- the list of groups --------------------------------------------------------------------

def _list_context(q: str = "", page: int = 1, **extra) -> dict:
    team = g.member.customer
    q, q_error = _search(q, 256)
    found = groups.list_groups(db.session, _actor(), team, query=q or None, page=page,
                               limit=GROUPS_PER_PAGE)
    if not found.items and found.total:  # past the end: the last page, as on the team page
        found = groups.list_groups(db.session, _actor(), team, query=q or None,
                                   page=within(page, found.total, GROUPS_PER_PAGE), limit=GROUPS_PER_PAGE)
    context = {"page": found, "counts": groups.member_counts(db.session, [x.id for x in found.items]),
               "q": q, "q_error": q_error, "create_form": GroupForm(formdata=None), "editing_id": None,
               "rename_form": None, "single": False, "viewer": g.member}
    context.update(extra)
    return context


def _row(group, **extra):
    context = {"group": group, "counts": groups.member_counts(db.session, [group.id]),
               "editing_id": None, "rename_form": None}
    context.update(extra)
    return context


@bp.get("/groups")
@member_required
def groups_page():
    """The team's groups with their member counts; htmx asks for the table alone."""
    context = _list_context(request.args.get("q"), _int(request.args.get("page"), 1))
    block = {"group-table": "group_table", "group-summary": "group_summary"}.get(
        request.headers.get("HX-Target") or "")
    return render(LIST, block, status=422 if context["q_error"] else 200, **context)


@bp.post("/groups")
@member_required
def create_group():
    """Create a group: a new row and a cleared form, or the form with its error inline."""
    form = GroupForm()
    if form.validate_on_submit():
        try:
            group = groups.create_group(db.session, _actor(), g.member.customer, name=form.name.data)
        except RuleViolation as exc:
            db.session.rollback()
            if exc.field != "name":
                return _refused(exc, url_for("portal.groups_page"))
            form.name.errors = [*form.name.errors, exc.message]
        else:
            db.session.commit()
            # On to the new group's page, where its members are added (htmx: HX-Redirect).
            return redirect_to(url_for("portal.group_page", group_id=group.id) + "#add-members",
                               f"Created the group {group.name}. Add its members now.")
    if is_htmx():
        return render(LIST, "create_form", status=422, create_form=form)
    return render(LIST, status=422, **_list_context(create_form=form))


@bp.get("/groups/<group_id>/row")
@member_required
def group_row(group_id):
    """One group row in view mode (Cancel of a rename); without JS, the list."""
    group = groups.read_group(db.session, _actor(), g.member.customer, group_id)
    if not is_htmx():
        return redirect_to(url_for("portal.groups_page"))
    return render(LIST, "group_row", **_row(group))


@bp.get("/groups/<group_id>/rename")
@member_required
def rename_form(group_id):
    """The row as a rename form; without JS, a page with that row alone."""
    group = groups.read_group(db.session, _actor(), g.member.customer, group_id)
    return _rename_response(group, GroupForm(formdata=None, name=group.name), 200)


def _rename_response(group, form, status: int):
    if is_htmx():
        return render(LIST, "group_row", status=status, **_row(group, editing_id=group.id, rename_form=form))
    context = _list_context(single=True, editing_id=group.id, rename_form=form)
    context.update(page=Page(items=[group], total=1, page=1, limit=1),
                   counts=groups.member_counts(db.session, [group.id]))
    return render(LIST, status=status, **context)


@bp.post("/groups/<group_id>/rename")
@member_required
def rename_group(group_id):
    """Save a new name: the row again, or the form with its error inline."""
    group = groups.read_group(db.session, _actor(), g.member.customer, group_id)
    form = GroupForm()
    back = request.form.get("back") == "group"
    if form.validate_on_submit():
        try:
            group = groups.rename_group(db.session, _actor(), g.member.customer, group.id, form.name.data)
        except RuleViolation as exc:
            db.session.rollback()
            if exc.field != "name":
                return _refused(exc, url_for("portal.groups_page"))
            form.name.errors = [*form.name.errors, exc.message]
        else:
            db.session.commit()
            message = f"Renamed the group to {group.name}."
            if back or not is_htmx():
                where = url_for("portal.group_page", group_id=group.id) if back else url_for("portal.groups_page")
                return redirect_to(where, message)
            flash(message, "success")
            return render(LIST, "group_row", **_row(group, changed=True, focus_menu=True))
    group = groups.read_group(db.session, _actor(), g.member.customer, group_id)
    if back:
        return render(GROUP, status=422, **_group_context(group, {}, rename_form=form))
    return _rename_response(group, form, 422)


@bp.get("/groups/<group_id>/delete")
@member_required
def confirm_delete(group_id):
    """Ask before deleting a group, saying how many lose it: a dialog, or a page without JS."""
    group = groups.read_group(db.session, _actor(), g.member.customer, group_id)
    facts = {"confirm": "delete", "group": group, "from_group": request.args.get("from") == "group",
             "losing": groups.member_counts(db.session, [group.id]).get(group.id, 0)}
    if is_htmx():
        return render(LIST, "confirm_dialog", **facts)
    return render(LIST, **facts)


@bp.post("/groups/<group_id>/delete")
@member_required
def delete_group(group_id):
    """Delete a group; its members stay on the team. The row goes away (htmx) or back to the list."""
    group = groups.delete_group(db.session, _actor(), g.member.customer, group_id)
    db.session.commit()
    message = f"Deleted the group {group.name}. Its members stay on the team."
    # The last group gone: the whole page again, for its empty state.
    last = groups.list_groups(db.session, _actor(), g.member.customer, limit=1).total == 0
    if not is_htmx() or request.form.get("back") == "group" or last:
        return redirect_to(url_for("portal.groups_page"), message)
    flash(message, "success")
    return fragments(trigger=CHANGED)


# --- one group -----------------------------------------------------------------------------

def _group_filters(source) -> dict:
    size = _int(source.get("size"), DEFAULT_SIZE)
    q, q_error = _search(source.get("q"))
    find, find_error = _search(source.get("find"))
    return {"q": q, "q_error": q_error, "find": find, "find_error": find_error,
            "page": max(1, _int(source.get("page"), 1)),
            "size": size if size in PAGE_SIZES else DEFAULT_SIZE}


def _members_page(group, filters: dict) -> Page:
    args = dict(query=filters["q"] or None, limit=filters["size"])
    found = groups.list_group_members(db.session, _actor(), g.member.customer, group.id,
                                      page=filters["page"], **args)
    if not found.items and found.total:  # past the end: the last page
        found = groups.list_group_members(db.session, _actor(), g.member.customer, group.id,
                                          page=within(filters["page"], found.total, filters["size"]), **args)
    return found


def _picker(group, find: str, keep=(), **extra) -> dict:
    kept, found = groups.candidates(db.session, _actor(), g.member.customer, group.id, query=find or None,
                                    keep=keep, limit=PICKER_SIZE)
    context = {"kept": kept, "found": found, "find": find, "add_form": AddToGroupForm(formdata=None)}
    context.update(extra)
    return context


def _group_context(group, filters: dict, **extra) -> dict:
    filters = filters or _group_filters({})
    context = {"group": group, "filters": filters, "page": _members_page(group, filters),
               "total": groups.member_counts(db.session, [group.id]).get(group.id, 0),
               "page_sizes": PAGE_SIZES, "rename_form": GroupForm(formdata=None, name=group.name),
               "viewer": g.member, **_picker(group, filters["find"])}
    context.update(extra)
    return context


@bp.get("/groups/<group_id>")
@member_required
def group_page(group_id):
    """A group's members with search and pages, and the picker to add more."""
    group = groups.read_group(db.session, _actor(), g.member.customer, group_id)
    filters = _group_filters(request.args)
    target = request.headers.get("HX-Target") or ""
    if target in ("group-members", "group-count") and is_htmx():
        context = {"group": group, "filters": filters, "page": _members_page(group, filters),
                   "total": groups.member_counts(db.session, [group.id]).get(group.id, 0),
                   "page_sizes": PAGE_SIZES, "viewer": g.member}
        block = "members_table" if target == "group-members" else "group_count"
        return render(GROUP, block, status=422 if filters["q_error"] else 200, **context)
    context = _group_context(group, filters)
    status = 422 if filters["q_error"] or filters["find_error"] else 200
    return render(GROUP, status=status, **context)


@bp.get("/groups/<group_id>/candidates")
@member_required
def candidates(group_id):
    """The picker's results as you type (htmx); without JS the search is the group page's."""
    group = groups.read_group(db.session, _actor(), g.member.customer, group_id)
    find, find_error = _search(request.args.get("find"))
    if not is_htmx():
        return redirect_to(url_for("portal.group_page", group_id=group.id, find=find or None) + "#add-members")
    keep = request.args.getlist("member_id")
    return render(GROUP, "picker_results", status=422 if find_error else 200, group=group,
                  find_error=find_error, announce=True, **_picker(group, find, keep))


@bp.post("/groups/<group_id>/members")
@member_required
def add_members(group_id):
    """Add the ticked people: the picker comes back empty, the member list refreshes itself."""
    group = groups.read_group(db.session, _actor(), g.member.customer, group_id)
    form = AddToGroupForm()
    find = _search(request.form.get("find"))[0]
    if not form.validate_on_submit():
        if is_htmx():
            return render(GROUP, "picker", status=422, group=group, announce=True,
                          **_picker(group, find, form.member_id.data or (), add_form=form))
        context = _group_context(group, _group_filters({"find": find}))
        context.update(add_form=form)
        return render(GROUP, status=422, **context)
    added = groups.add_members(db.session, _actor(), g.member.customer, group.id, form.member_id.data)
    db.session.commit()
    names = sorted((m.display_name for m in added), key=str.lower)
    message = f"Added {_and(names)} to {group.name}."
    if not is_htmx():
        return redirect_to(url_for("portal.group_page", group_id=group.id) + "#add-members", message)
    flash(message, "success")
    return fragments(GROUP, ["picker"], trigger=f"{CHANGED}, group-members-added", group=group,
                     announce=True, refocus=True, **_picker(group, ""))


def _and(names: list[str]) -> str:
    if len(names) > 3:
        return f"{', '.join(names[:2])} and {len(names) - 2} others"
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


@bp.get("/groups/<group_id>/members/<member_id>/remove")
@member_required
def confirm_remove_from_group(group_id, member_id):
    """Ask before taking someone out of a group: a dialog, or a page without JS."""
    row = groups.get_group_member(db.session, _actor(), g.member.customer, group_id, member_id)
    group = groups.get_group(db.session, g.member.customer, group_id)
    facts = {"confirm": "remove", "group": group, "target": row.member, "viewer": g.member}
    if is_htmx():
        return render(GROUP, "confirm_dialog", **facts)
    return render(GROUP, **facts)


@bp.post("/groups/<group_id>/members/<member_id>/remove")
@member_required
def remove_from_group(group_id, member_id):
    """Take someone out of the group (they stay on the team): the row goes away."""
    ensure_can_manage(_actor(), g.member.customer)
    group = groups.get_group(db.session, g.member.customer, group_id)
    member = groups.remove_member(db.session, _actor(), g.member.customer, group.id, member_id)
    db.session.commit()
    message = f"Removed {member.display_name} from {group.name}. They stay on the team."
    if not is_htmx():
        return redirect_to(url_for("portal.group_page", group_id=group.id), message)
    flash(message, "success")
    return fragments(trigger=CHANGED)
