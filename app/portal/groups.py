"""The Groups page: a team's user groups with their member counts; create, rename, delete.

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
from ..services import access, groups
from ..services.access import Actor
from ..services.paging import Page, within
from ..web import fragments, is_htmx, redirect_to, render
from . import bp
from .forms import GroupForm
from .routes import _page

LIST = "portal/groups.html"
GROUPS_PER_PAGE = 25
CHANGED = "group-changed"  # the counts on the page listen for it


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
    context = _list_context(request.args.get("q"), _page(request.args.get("page")))
    block = {"group-table": "group_table", "group-summary": "group_summary"}.get(
        request.headers.get("HX-Target") or "")
    return render(LIST, block, status=422 if context["q_error"] else 200, **context)


@bp.post("/groups")
@member_required
def create_group():
    """Create a group: a new row and a cleared form, or the form with its error inline."""
    access.ensure_can_manage(_actor(), g.member.customer)  # before the form: its errors are for managers
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
    if back:  # the settings form of the group's own page: that page again, with the error
        from .group_members import GROUP, group_context
        return render(GROUP, status=422, **group_context(group, {}, rename_form=form))
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
