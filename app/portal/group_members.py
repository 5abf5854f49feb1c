"""A group's page: its members (search, pages), the add-members picker, and remove.

Thin views, as on the team page; the groups service enforces the rules (17-23)."""
from __future__ import annotations

from flask import flash, g, request, url_for

from ..auth.session import member_required
from ..extensions import db
from ..services import groups
from ..services.paging import Page, within
from ..web import fragments, is_htmx, redirect_to, render
from . import bp
from .forms import AddToGroupForm, GroupForm
from .groups import CHANGED, _actor, _search
from .routes import PAGE_SIZES, _int, _page

GROUP = "portal/group.html"
DEFAULT_SIZE = 25
PICKER_SIZE = 10
ADDED = "group-members-added"  # the member list reloads itself
REMOVED = "group-member-removed"  # the picker offers them again


def _group_filters(source) -> dict:
    size = _int(source.get("size"), DEFAULT_SIZE)
    q, q_error = _search(source.get("q"))
    find, find_error = _search(source.get("find"))
    return {"q": q, "q_error": q_error, "find": find, "find_error": find_error,
            "page": _page(source.get("page")),
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


def group_context(group, filters: dict, **extra) -> dict:
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
    context = group_context(group, filters)
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
        context = group_context(group, _group_filters({"find": find}))
        context.update(add_form=form)
        return render(GROUP, status=422, **context)
    added = groups.add_members(db.session, _actor(), g.member.customer, group.id, form.member_id.data)
    db.session.commit()
    names = sorted((m.display_name for m in added), key=str.lower)
    message = f"Added {_and(names)} to {group.name}."
    if not is_htmx():
        return redirect_to(url_for("portal.group_page", group_id=group.id) + "#add-members", message)
    flash(message, "success")
    return fragments(GROUP, ["picker"], trigger=f"{CHANGED}, {ADDED}", group=group,
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
    group = groups.read_group(db.session, _actor(), g.member.customer, group_id)
    member = groups.remove_member(db.session, _actor(), g.member.customer, group.id, member_id)
    db.session.commit()
    message = f"Removed {member.display_name} from {group.name}. They stay on the team."
    if not is_htmx():
        return redirect_to(url_for("portal.group_page", group_id=group.id), message)
    flash(message, "success")
    return fragments(trigger=f"{CHANGED}, {REMOVED}")
